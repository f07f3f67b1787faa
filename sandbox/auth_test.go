package sandbox

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"strings"
	"testing"
	"time"
)

func nativeBody(c Credentials, outTradeNo string, total int) map[string]any {
	return map[string]any{
		"appid": c.AppID, "mchid": c.MchID, "description": "sandbox test", "out_trade_no": outTradeNo,
		"notify_url": "http://127.0.0.1:9/notify", "amount": map[string]any{"total": total, "currency": "CNY"},
	}
}

func assertUnsigned(t *testing.T, r result) {
	t.Helper()
	for _, h := range []string{"Wechatpay-Signature", "Wechatpay-Timestamp", "Wechatpay-Nonce", "Wechatpay-Serial"} {
		if r.header.Get(h) != "" {
			t.Errorf("%s present on an unsigned answer", h)
		}
	}
}

func TestAuthRejections(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	h := s.Handler()
	m := s.Merchant()
	good := signer{cred: m}

	t.Run("no User-Agent on /v3/certificates", func(t *testing.T) {
		r := send(t, h, good, "GET", "/v3/certificates", nil, func(r *http.Request) { r.Header.Del("User-Agent") })
		if r.status != 400 || r.code() != "INVALID_REQUEST" || !strings.Contains(string(r.body), msgNoUserAgent) {
			t.Fatalf("%d %s", r.status, r.body)
		}
		assertUnsigned(t, r)
	})
	t.Run("no User-Agent on a pay path is not checked", func(t *testing.T) {
		r := send(t, h, good, "POST", "/v3/pay/transactions/native", nativeBody(m, uniqueNo("UA"), 1), func(r *http.Request) { r.Header.Del("User-Agent") })
		if r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("malformed Authorization", func(t *testing.T) {
		r := send(t, h, good, "GET", "/v3/certificates", nil, func(r *http.Request) { r.Header.Set("Authorization", "WECHATPAY2-SHA256-RSA2048 mchid=1") })
		if r.status != 401 || r.code() != "SIGN_ERROR" || !strings.Contains(string(r.body), msgAuthFormat) || r.header.Get("Request-ID") == "" {
			t.Fatalf("%d %s %v", r.status, r.body, r.header)
		}
		assertUnsigned(t, r)
		r = send(t, h, good, "POST", "/v3/pay/transactions/native", nativeBody(m, "X123456", 1), func(r *http.Request) { r.Header.Del("Authorization") })
		if r.status != 401 || !strings.Contains(string(r.body), msgAuthFormatPay) || r.header.Get("Request-ID") != "" {
			t.Fatalf("pay path: %d %s %v", r.status, r.body, r.header)
		}
	})
	t.Run("stale timestamp is checked before the signature", func(t *testing.T) {
		stale := signer{cred: m, now: func() time.Time { return time.Now().Add(-6 * time.Minute) }}
		r := send(t, h, stale, "GET", "/v3/certificates", nil, func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), `signature="`, `signature="AAAA`, 1))
		})
		if r.status != 401 || r.code() != "SIGN_ERROR" || !strings.Contains(string(r.body), msgTimestamp) {
			t.Fatalf("%d %s", r.status, r.body)
		}
		assertUnsigned(t, r)
		future := signer{cred: m, now: func() time.Time { return time.Now().Add(4 * time.Minute) }}
		if r := send(t, h, future, "GET", "/v3/certificates", nil); r.status != 200 {
			t.Fatalf("4 minutes ahead: %d %s", r.status, r.body)
		}
	})
	t.Run("bad signature", func(t *testing.T) {
		other := m
		other.PrivateKey = s.Partner().PrivateKey
		r := send(t, h, signer{cred: other}, "GET", "/v3/certificates", nil)
		if r.status != 401 || r.code() != "SIGN_ERROR" || !strings.Contains(string(r.body), msgBadSignature) {
			t.Fatalf("%d %s", r.status, r.body)
		}
		assertUnsigned(t, r)
	})
	t.Run("signature over another body", func(t *testing.T) {
		body := []byte(`{"a":1}`)
		r := send(t, h, good, "POST", "/v3/pay/transactions/native", body, func(r *http.Request) {
			r.Body = ioNopCloser([]byte(`{"a":2}`))
		})
		if r.status != 401 {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("signature over the URI as sent", func(t *testing.T) {
		// Signed with %7C, sent with | : the server verifies the bytes it received.
		uri := "/v3/pay/transactions/out-trade-no/A%7CB?mchid=" + m.MchID
		r := send(t, h, good, "GET", uri, nil, func(r *http.Request) {
			r.RequestURI = "/v3/pay/transactions/out-trade-no/A|B?mchid=" + m.MchID
		})
		if r.status != 401 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		r = send(t, h, good, "GET", uri, nil)
		if r.status != 404 || r.code() != "ORDER_NOT_EXIST" {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("unknown mchid and serial", func(t *testing.T) {
		c := m
		c.MchID = "1999999999"
		if r := send(t, h, signer{cred: c}, "GET", "/v3/certificates", nil); r.status != 401 || !strings.Contains(string(r.body), msgUnknownMerchant) {
			t.Fatalf("%d %s", r.status, r.body)
		}
		c = m
		c.CertificateSerial = strings.Repeat("A", 40)
		if r := send(t, h, signer{cred: c}, "GET", "/v3/certificates", nil); r.status != 401 || !strings.Contains(string(r.body), msgBadSerial) {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("unknown path and wrong method", func(t *testing.T) {
		for _, tc := range []struct {
			method, uri string
			status      int
		}{
			{"GET", "/v3/no/such/path", 404},
			{"GET", "/v3/pay/transactions/native", 405},
			{"DELETE", "/v3/pay/transactions/id/4200000000?mchid=1", 405},
		} {
			r := send(t, h, good, tc.method, tc.uri, nil)
			if r.status != tc.status || len(r.body) != 0 {
				t.Errorf("%s %s: %d %q", tc.method, tc.uri, r.status, r.body)
			}
			assertUnsigned(t, r)
		}
	})
}

func ioNopCloser(b []byte) *nopCloser { return &nopCloser{bytes.NewReader(b)} }

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

func TestValidation(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	h := s.Handler()
	m := s.Merchant()
	sg := signer{cred: m}

	t.Run("missing required body field", func(t *testing.T) {
		b := nativeBody(m, uniqueNo("V"), 1)
		delete(b, "description")
		r := send(t, h, sg, "POST", "/v3/pay/transactions/native", b)
		if r.status != 400 || r.code() != "PARAM_ERROR" {
			t.Fatalf("%d %s", r.status, r.body)
		}
		verify(t, s, r.header, r.body)
		d := r.json(t)["detail"].(map[string]any)
		if d["field"] != "/description" || d["location"] != "body" {
			t.Fatalf("detail %v", d)
		}
		if len(r.body) > 1000 {
			t.Fatalf("error too verbose (%d bytes): %s", len(r.body), r.body)
		}
	})
	t.Run("nested field of the wrong type", func(t *testing.T) {
		b := nativeBody(m, uniqueNo("V"), 1)
		b["amount"] = map[string]any{"total": "one"}
		r := send(t, h, sg, "POST", "/v3/pay/transactions/native", b)
		d := r.json(t)["detail"].(map[string]any)
		if r.status != 400 || d["field"] != "/amount/total" || d["value"] != "one" || d["issue"] == "" {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("missing required query parameter", func(t *testing.T) {
		r := send(t, h, sg, "GET", "/v3/pay/transactions/out-trade-no/ABC123", nil)
		d := r.json(t)["detail"].(map[string]any)
		if r.status != 400 || d["field"] != "mchid" || d["location"] != "query" {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("not JSON", func(t *testing.T) {
		r := send(t, h, sg, "POST", "/v3/pay/transactions/native", []byte(`{"a":`))
		if r.status != 400 || r.code() != "PARAM_ERROR" {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("4-byte UTF-8", func(t *testing.T) {
		b := nativeBody(m, uniqueNo("V"), 1)
		b["description"] = "咖啡☕️🍰"
		if r := send(t, h, sg, "POST", "/v3/pay/transactions/native", b); r.status != 400 || r.code() != "PARAM_ERROR" {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("body as sent, not re-encoded", func(t *testing.T) {
		// Whitespace and key order the server must not care about; the
		// signature covers these exact bytes.
		raw := []byte(fmt.Sprintf("{ \"out_trade_no\" : %q,\n \"mchid\":%q, \"appid\":%q, \"description\":\"x\", \"notify_url\":\"http://127.0.0.1:9/n\", \"amount\":{\"total\":5} }\n",
			uniqueNo("RAW"), m.MchID, m.AppID))
		if r := send(t, h, sg, "POST", "/v3/pay/transactions/native", raw); r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("mchid of another merchant", func(t *testing.T) {
		b := nativeBody(m, uniqueNo("V"), 1)
		b["mchid"] = s.Partner().MchID
		r := send(t, h, sg, "POST", "/v3/pay/transactions/native", b)
		if r.status != 400 || r.code() != "INVALID_REQUEST" {
			t.Fatalf("%d %s", r.status, r.body)
		}
		r = send(t, h, sg, "GET", "/v3/pay/transactions/out-trade-no/ABC123?mchid="+s.Partner().MchID, nil)
		if r.status != 400 || r.code() != "INVALID_REQUEST" {
			t.Fatalf("query: %d %s", r.status, r.body)
		}
	})
	t.Run("appid of another merchant", func(t *testing.T) {
		b := nativeBody(m, uniqueNo("V"), 1)
		b["appid"] = "wx0000000000000000"
		if r := send(t, h, sg, "POST", "/v3/pay/transactions/native", b); r.status != 400 || r.code() != "APPID_MCHID_NOT_MATCH" {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("sub_mchid of another service provider", func(t *testing.T) {
		p := s.Partner()
		b := map[string]any{"sp_appid": p.AppID, "sp_mchid": p.MchID, "sub_mchid": "1911111111", "description": "x",
			"out_trade_no": uniqueNo("V"), "notify_url": "http://127.0.0.1:9/n", "amount": map[string]any{"total": 1}}
		if r := send(t, h, signer{cred: p}, "POST", "/v3/pay/partner/transactions/native", b); r.status != 400 || r.code() != "INVALID_REQUEST" {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
}

// upload builds a media upload: the meta JSON signed, the file attached.
func upload(t *testing.T, h http.Handler, sg signer, uri string, file []byte, sha string) result {
	t.Helper()
	if sha == "" {
		sum := sha256.Sum256(file)
		sha = hex.EncodeToString(sum[:])
	}
	meta := []byte(fmt.Sprintf(`{"filename":"a.jpg","sha256":"%s"}`, sha))
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	hd := textproto.MIMEHeader{}
	hd.Set("Content-Disposition", `form-data; name="meta"`)
	hd.Set("Content-Type", "application/json")
	pw, _ := mw.CreatePart(hd)
	_, _ = pw.Write(meta)
	hd = textproto.MIMEHeader{}
	hd.Set("Content-Disposition", `form-data; name="file"; filename="a.jpg"`)
	hd.Set("Content-Type", "image/jpeg")
	pw, _ = mw.CreatePart(hd)
	_, _ = pw.Write(file)
	_ = mw.Close()
	req := httptest.NewRequest("POST", uri, bytes.NewReader(b.Bytes()))
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("User-Agent", "test")
	req.Header.Set("Authorization", sg.authorization("POST", uri, meta))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return result{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

func TestMediaUploadSignsMeta(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	op, ok := s.spec.Operation("UploadImage")
	if !ok {
		t.Skip("no UploadImage in the spec")
	}
	sg := signer{cred: s.Merchant()}
	r := upload(t, s.Handler(), sg, op.Path, []byte("\xff\xd8 jpeg"), "")
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	verify(t, s, r.header, r.body)
	if r := upload(t, s.Handler(), sg, op.Path, []byte("\xff\xd8 jpeg"), strings.Repeat("0", 64)); r.status != 400 || r.code() != "PARAM_ERROR" {
		t.Fatalf("wrong sha256: %d %s", r.status, r.body)
	}
}
