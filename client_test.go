package wxpay_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gowxpay/wxpay"
	"github.com/gowxpay/wxpay/auth"
	"github.com/gowxpay/wxpay/gen/bills"
	"github.com/gowxpay/wxpay/gen/capital"
	"github.com/gowxpay/wxpay/gen/payments"
	"github.com/gowxpay/wxpay/gen/refunds"
	"github.com/gowxpay/wxpay/internal/wxtest"
	"github.com/gowxpay/wxpay/merchant"
)

func newClient(t *testing.T, srv *wxtest.Server, edit func(*wxpay.Config)) *wxpay.Client {
	t.Helper()
	cfg := srv.Keys.Config(srv.URL)
	if edit != nil {
		edit(&cfg)
	}
	c, err := wxpay.NewClient(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func ok(body string) func(*wxtest.Request) wxtest.Reply {
	return func(*wxtest.Request) wxtest.Reply { return wxtest.Reply{Body: body} }
}

func TestNativePrepayBothModes(t *testing.T) {
	t.Parallel()
	k := wxtest.LoadKeys(t)
	srv := wxtest.NewServer(t, k, ok(`{"code_url":"weixin://wxpay/bizpayurl?pr=abc"}`))
	in := &payments.NativePrepayInput{
		Description: "T-shirt",
		OutTradeNo:  "ORDER-1",
		Amount:      payments.Amount{Total: 100},
		TimeExpire:  wxpay.TimeOf(time.Date(2026, 11, 24, 10, 0, 0, 123, time.FixedZone("CST", 8*3600))),
	}
	for _, partner := range []bool{false, true} {
		t.Run(fmt.Sprintf("partner=%v", partner), func(t *testing.T) {
			c := newClient(t, srv, func(cfg *wxpay.Config) {
				cfg.PartnerMode = partner
				if partner {
					cfg.SubMchID = "1900000110"
				}
			})
			before := *in
			resp, err := c.Payments.NativePrepay(context.Background(), in)
			if err != nil {
				t.Fatal(err)
			}
			if resp.CodeURL != "weixin://wxpay/bizpayurl?pr=abc" {
				t.Errorf("code_url %q", resp.CodeURL)
			}
			if fmt.Sprint(*in) != fmt.Sprint(before) {
				t.Error("the caller's input was modified")
			}
			r := srv.Last()
			if r.AuthErr != nil {
				t.Fatalf("signature: %v", r.AuthErr)
			}
			var body map[string]any
			if err := r.JSON(&body); err != nil {
				t.Fatal(err)
			}
			wantPath, want := "/v3/pay/transactions/native", map[string]any{"appid": "wxd678efh567hg6787", "mchid": k.MchID}
			if partner {
				wantPath = "/v3/pay/partner/transactions/native"
				want = map[string]any{"sp_appid": "wxd678efh567hg6787", "sp_mchid": k.MchID, "sub_mchid": "1900000110"}
			}
			if r.URI != wantPath {
				t.Errorf("path %s, want %s", r.URI, wantPath)
			}
			for f, v := range want {
				if body[f] != v {
					t.Errorf("%s = %v, want %v", f, body[f], v)
				}
			}
			for _, f := range []string{"appid", "mchid", "sp_appid", "sp_mchid", "sub_mchid"} {
				if _, ok := want[f]; !ok {
					if _, present := body[f]; present {
						t.Errorf("%s sent in this mode", f)
					}
				}
			}
			if body["notify_url"] != "https://merchant.example/notify" {
				t.Errorf("notify_url default not applied: %v", body["notify_url"])
			}
			if body["time_expire"] != "2026-11-24T10:00:00+08:00" {
				t.Errorf("time_expire %v", body["time_expire"])
			}
			if _, ok := body["detail"]; ok {
				t.Error("an empty optional object was sent")
			}
			if got := r.Header.Get("Wechatpay-Serial"); got != k.PubKeyID {
				t.Errorf("Wechatpay-Serial %q, want the public key id announced", got)
			}
			if ua := r.Header.Get("User-Agent"); !strings.HasPrefix(ua, "wxpay/") {
				t.Errorf("User-Agent %q", ua)
			}
		})
	}
}

func TestModeChecks(t *testing.T) {
	t.Parallel()
	k := wxtest.LoadKeys(t)
	srv := wxtest.NewServer(t, k, ok(`{"code_url":"x"}`))
	direct := newClient(t, srv, nil)
	_, err := direct.Payments.NativePrepay(context.Background(), &payments.NativePrepayInput{SubMchID: "1900000110", OutTradeNo: "O1"})
	var ue *wxpay.UsageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "SubMchID is a partner-mode field") {
		t.Errorf("direct mode with SubMchID: %v", err)
	}
	partner := newClient(t, srv, func(c *wxpay.Config) { c.PartnerMode = true; c.SubMchID = "1900000110" })
	_, err = partner.Busifavor.QueryStock(context.Background(), "S1")
	var me *wxpay.ModeError
	if !errors.As(err, &me) || !strings.Contains(err.Error(), "Busifavor.QueryStock serves direct mode only") {
		t.Errorf("a direct operation in partner mode: %v", err)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests sent for calls that should fail before sending", n)
	}
}

func TestQueryParametersAndDefaults(t *testing.T) {
	t.Parallel()
	k := wxtest.LoadKeys(t)
	srv := wxtest.NewServer(t, k, ok(`{"out_trade_no":"A|B*C 1","trade_state":"SUCCESS","amount":{"total":100,"payer_total":90}}`))
	c := newClient(t, srv, nil)
	tx, err := c.Payments.QueryOrderByOutTradeNo(context.Background(), "A|B*C 1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if tx.TradeState != payments.TradeStateSuccess || tx.Amount.PayerTotal != 90 {
		t.Errorf("decoded %+v", tx)
	}
	if got := srv.Last().URI; got != "/v3/pay/transactions/out-trade-no/A%7CB%2AC%201?mchid=1900000109" {
		t.Errorf("URI %s", got)
	}
	if srv.Last().AuthErr != nil {
		t.Errorf("signature over the escaped URI: %v", srv.Last().AuthErr)
	}
	// Required path parameter.
	if _, err := c.Payments.QueryOrderByOutTradeNo(context.Background(), "", nil); err == nil || !strings.Contains(err.Error(), "out_trade_no") {
		t.Errorf("empty path parameter: %v", err)
	}
	// An optional sub_mchid filter is not filled from the configuration.
	pc := newClient(t, srv, func(c *wxpay.Config) { c.PartnerMode = true; c.SubMchID = "1900000110" })
	srv.Handle(ok(`{"hash_type":"SHA1","hash_value":"0000000000000000000000000000000000000000","download_url":"x"}`))
	if _, err := pc.Bills.ApplyTrade(context.Background(), &bills.ApplyTradeParams{BillDate: wxpay.NewDate(2026, 11, 23)}); err != nil {
		t.Fatal(err)
	}
	if got := srv.Last().URI; got != "/v3/bill/tradebill?bill_date=2026-11-23" {
		t.Errorf("bill URI %s (an optional sub_mchid filter must not be filled in)", got)
	}
	// A sub_mchid partner mode requires is.
	srv.Handle(ok(`{"refund_id":"1","out_refund_no":"R1","status":"PROCESSING"}`))
	if _, err := pc.Refunds.Query(context.Background(), "R1", nil); err != nil {
		t.Fatal(err)
	}
	if got := srv.Last().URI; got != "/v3/refund/domestic/refunds/R1?sub_mchid=1900000110" {
		t.Errorf("refund URI %s", got)
	}
}

func TestAPIError(t *testing.T) {
	t.Parallel()
	k := wxtest.LoadKeys(t)
	srv := wxtest.NewServer(t, k, func(*wxtest.Request) wxtest.Reply {
		return wxtest.Reply{Status: 400, Unsigned: true, Body: `{"code":"PARAM_ERROR","message":"参数错误","detail":{"field":"/amount/total","value":0,"issue":"must be positive","location":"body"}}`,
			Header: map[string]string{"Request-ID": "REQ-1"}}
	})
	c := newClient(t, srv, nil)
	_, err := c.Payments.NativePrepay(context.Background(), order("O1"))
	var apiErr *wxpay.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("want *APIError, got %T %v", err, err)
	}
	if apiErr.StatusCode != 400 || apiErr.Code != "PARAM_ERROR" || apiErr.RequestID != "REQ-1" || apiErr.Detail == nil || apiErr.Detail.Field != "/amount/total" || apiErr.Operation != "Payments.NativePrepay" {
		t.Errorf("%+v", apiErr)
	}
	if !wxpay.IsCode(err, "param_error") || wxpay.IsCode(err, "SIGN_ERROR") {
		t.Error("IsCode")
	}
	if n := len(srv.Requests()); n != 1 {
		t.Errorf("a business error was sent %d times", n)
	}
	for _, want := range []string{"400", "PARAM_ERROR", "/amount/total", "REQ-1"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error text lacks %s: %v", want, err)
		}
	}
}

func TestSignErrorClockHint(t *testing.T) {
	t.Parallel()
	k := wxtest.LoadKeys(t)
	srv := wxtest.NewServer(t, k, func(*wxtest.Request) wxtest.Reply {
		return wxtest.Reply{Status: 401, Unsigned: true, Body: `{"code":"SIGN_ERROR","message":"签名错误"}`}
	})
	// Our clock is 10 minutes ahead of the server's Date header.
	c := newClient(t, srv, func(cfg *wxpay.Config) { cfg.Now = func() time.Time { return time.Now().Add(10 * time.Minute) } })
	_, err := c.Payments.QueryOrderByID(context.Background(), "42", nil)
	if !wxpay.IsCode(err, "SIGN_ERROR") || !strings.Contains(err.Error(), "clock is 10m") || !strings.Contains(err.Error(), "private key") {
		t.Errorf("SIGN_ERROR hint: %v", err)
	}
}

func TestRetries(t *testing.T) {
	t.Parallel()
	k := wxtest.LoadKeys(t)
	var n atomic.Int32
	srv := wxtest.NewServer(t, k, func(*wxtest.Request) wxtest.Reply {
		if n.Add(1) <= 2 {
			return wxtest.Reply{Status: 500, Unsigned: true, Body: `{"code":"SYSTEM_ERROR","message":"系统错误"}`}
		}
		return wxtest.Reply{Body: `{"code_url":"x"}`}
	})
	c := newClient(t, srv, nil)
	var meta wxpay.ResponseMeta
	if _, err := c.Payments.NativePrepay(context.Background(), order("O1"), wxpay.CaptureResponse(&meta)); err != nil {
		t.Fatal(err)
	}
	reqs := srv.Requests()
	if len(reqs) != 3 || meta.Attempts != 3 {
		t.Fatalf("%d requests, %d attempts; want 3", len(reqs), meta.Attempts)
	}
	for i := 1; i < 3; i++ {
		if !bytes.Equal(reqs[i].Body, reqs[0].Body) {
			t.Error("a retry changed the body")
		}
		if reqs[i].Auth.Nonce == reqs[0].Auth.Nonce || reqs[i].AuthErr != nil {
			t.Error("a retry must be signed again with a fresh nonce")
		}
	}
	// 429 is retried, a budget of one attempt is respected.
	n.Store(0)
	srv.Handle(func(*wxtest.Request) wxtest.Reply {
		n.Add(1)
		return wxtest.Reply{Status: 429, Unsigned: true, Body: `{"code":"FREQUENCY_LIMITED","message":"频率超限"}`}
	})
	_, err := c.Payments.NativePrepay(context.Background(), order("O1"), wxpay.WithMaxAttempts(2))
	if !wxpay.IsCode(err, "FREQUENCY_LIMITED") || n.Load() != 2 {
		t.Errorf("429: %v after %d attempts", err, n.Load())
	}
	// A 500 that is a business error is not retried.
	n.Store(0)
	srv.Handle(func(*wxtest.Request) wxtest.Reply {
		n.Add(1)
		return wxtest.Reply{Status: 500, Unsigned: true, Body: `{"code":"OPENID_MISMATCH","message":"openid和appid不匹配"}`}
	})
	if _, err := c.Payments.NativePrepay(context.Background(), order("O1")); n.Load() != 1 || err == nil {
		t.Errorf("OPENID_MISMATCH sent %d times", n.Load())
	}
	// A connection reset is retried.
	n.Store(0)
	srv.Handle(func(*wxtest.Request) wxtest.Reply {
		if n.Add(1) == 1 {
			return wxtest.Reply{Reset: true}
		}
		return wxtest.Reply{Body: `{"code_url":"x"}`}
	})
	if _, err := c.Payments.NativePrepay(context.Background(), order("O1")); err != nil || n.Load() != 2 {
		t.Errorf("after a reset: %v, %d attempts", err, n.Load())
	}
}

func TestVerificationFailuresAreNotRetried(t *testing.T) {
	t.Parallel()
	k := wxtest.LoadKeys(t)
	var n atomic.Int32
	srv := wxtest.NewServer(t, k, func(*wxtest.Request) wxtest.Reply {
		n.Add(1)
		return wxtest.Reply{Body: `{"code_url":"x"}`, BadSignature: true}
	})
	c := newClient(t, srv, nil)
	_, err := c.Payments.NativePrepay(context.Background(), order("O1"))
	if !errors.Is(err, wxpay.ErrVerification) || n.Load() != 1 {
		t.Errorf("tampered answer: %v, sent %d times", err, n.Load())
	}
	srv.Handle(func(*wxtest.Request) wxtest.Reply {
		return wxtest.Reply{Body: `{"code_url":"x"}`, Header: map[string]string{"Wechatpay-Signature": "WECHATPAY/SIGNTEST/abc"}, Unsigned: true}
	})
	srv.Handle(func(r *wxtest.Request) wxtest.Reply {
		return wxtest.Reply{Body: `{"code_url":"x"}`, Unsigned: true, Header: map[string]string{
			"Wechatpay-Timestamp": fmt.Sprint(time.Now().Unix()), "Wechatpay-Nonce": "n", "Wechatpay-Serial": k.PubKeyID,
			"Wechatpay-Signature": "WECHATPAY/SIGNTEST/" + strings.Repeat("A", 40)}}
	})
	_, err = c.Payments.NativePrepay(context.Background(), order("O1"))
	if !errors.Is(err, wxpay.ErrSignatureProbe) {
		t.Errorf("probe: %v", err)
	}
}

func TestFailover(t *testing.T) {
	t.Parallel()
	k := wxtest.LoadKeys(t)
	srv := wxtest.NewServer(t, k, ok(`{"code_url":"x"}`))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + l.Addr().String()
	l.Close()
	c := newClient(t, srv, func(cfg *wxpay.Config) {
		cfg.BaseURL, cfg.BackupURL, cfg.Failover = dead, srv.URL, true
	})
	if _, err := c.Payments.NativePrepay(context.Background(), order("O1")); err != nil {
		t.Fatalf("failover: %v", err)
	}
	// Without failover the connection error is returned.
	c2 := newClient(t, srv, func(cfg *wxpay.Config) { cfg.BaseURL = dead })
	if _, err := c2.Payments.NativePrepay(context.Background(), order("O1"), wxpay.WithMaxAttempts(1)); err == nil {
		t.Error("no error from a dead host")
	}
}

func TestSensitiveFieldsEncrypted(t *testing.T) {
	t.Parallel()
	k := wxtest.LoadKeys(t)
	srv := wxtest.NewServer(t, k, ok(`{"prepay_id":"wx201410272009395522657a690389285100"}`))
	c := newClient(t, srv, nil)
	in := &payments.JSAPIPrepayInput{
		OutTradeNo: "O1", Description: "d", Amount: payments.Amount{Total: 1},
		Payer: payments.JSAPIPayerInput{OpenID: "oUpF8u", Identity: payments.PayerIdentity{Type: payments.IdentityTypeIDCard, Name: "张三", Number: "110101199003070000"}},
	}
	if _, err := c.Payments.JSAPIPrepay(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	if in.Payer.Identity.Name != "张三" {
		t.Error("the caller's value was encrypted in place")
	}
	r := srv.Last()
	var body struct {
		Payer struct {
			OpenID   string `json:"openid"`
			Identity struct{ Type, Name, Number string }
		}
	}
	if err := r.JSON(&body); err != nil {
		t.Fatal(err)
	}
	if body.Payer.OpenID != "oUpF8u" || body.Payer.Identity.Type != "IDCARD" {
		t.Errorf("plain fields changed: %+v", body.Payer)
	}
	for field, want := range map[string]string{body.Payer.Identity.Name: "张三", body.Payer.Identity.Number: "110101199003070000"} {
		got, err := auth.DecryptOAEP(k.PubKey, field)
		if err != nil || got != want {
			t.Errorf("encrypted field: %q %v", got, err)
		}
	}
	if r.Header.Get("Wechatpay-Serial") != k.PubKeyID {
		t.Errorf("Wechatpay-Serial %q", r.Header.Get("Wechatpay-Serial"))
	}
	if r.AuthErr != nil {
		t.Errorf("the signature must cover the encrypted body: %v", r.AuthErr)
	}
}

// TestSensitiveQueryEncrypted checks a sensitive query parameter (the card
// number of a bank lookup): encrypted once, URL-escaped, announced with
// Wechatpay-Serial and covered by the signature; the plain number never
// leaves the client.
func TestSensitiveQueryEncrypted(t *testing.T) {
	t.Parallel()
	k := wxtest.LoadKeys(t)
	srv := wxtest.NewServer(t, k, ok(`{"total_count":0,"data":[]}`))
	c := newClient(t, srv, func(cfg *wxpay.Config) { cfg.PartnerMode, cfg.SubMchID = true, "1900000999" })
	const card = "6225880123456789"
	if _, err := c.Capital.SearchBanksByAccount(context.Background(), &capital.SearchBanksByAccountParams{AccountNumber: card}); err != nil {
		t.Fatal(err)
	}
	r := srv.Last()
	if strings.Contains(r.URI, card) {
		t.Fatalf("the card number was sent in clear: %s", r.URI)
	}
	u, err := url.Parse(r.URI)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := auth.DecryptOAEP(k.PubKey, u.Query().Get("account_number")); err != nil || got != card {
		t.Errorf("account_number decrypts to %q, %v", got, err)
	}
	if r.Header.Get("Wechatpay-Serial") != k.PubKeyID {
		t.Errorf("Wechatpay-Serial %q", r.Header.Get("Wechatpay-Serial"))
	}
	if r.AuthErr != nil {
		t.Errorf("the signature must cover the encrypted query: %v", r.AuthErr)
	}
}

func TestUploadSignsMeta(t *testing.T) {
	t.Parallel()
	k := wxtest.LoadKeys(t)
	srv := wxtest.NewServer(t, k, ok(`{"media_id":"M1"}`))
	c := newClient(t, srv, nil)
	img := []byte("\x89PNG fake image")
	res, err := c.Media.UploadImage(context.Background(), wxpay.File{Name: "a.png", Data: img})
	if err != nil || res.MediaID != "M1" {
		t.Fatalf("%v %+v", err, res)
	}
	r := srv.Last()
	if r.AuthErr != nil {
		t.Fatalf("signature over the meta part: %v", r.AuthErr)
	}
	_, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	mr := multipart.NewReader(bytes.NewReader(r.Body), params["boundary"])
	parts := map[string][]byte{}
	for {
		p, err := mr.NextPart()
		if err != nil {
			break
		}
		b, _ := io.ReadAll(p)
		parts[p.FormName()] = b
		if p.FormName() == "file" && (p.FileName() != "a.png" || p.Header.Get("Content-Type") != "image/png") {
			t.Errorf("file part %q %q", p.FileName(), p.Header.Get("Content-Type"))
		}
	}
	if !bytes.Equal(parts["file"], img) || !strings.Contains(string(parts["meta"]), `"filename":"a.png"`) || !strings.Contains(string(parts["meta"]), `"sha256":"`) {
		t.Errorf("parts %q", parts["meta"])
	}
}

func TestDownloadBill(t *testing.T) {
	t.Parallel()
	k := wxtest.LoadKeys(t)
	csv := "\ufeffa,b\r\n`1,`2\r\n总数\r\n`1\r\n"
	sum := sha1.Sum([]byte(csv))
	digest := hex.EncodeToString(sum[:])
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(csv))
	zw.Close()
	srv := wxtest.NewServer(t, k, func(r *wxtest.Request) wxtest.Reply {
		if strings.Contains(r.URI, "tartype=gzip") {
			return wxtest.Reply{Body: gz.String(), Unsigned: true, Header: map[string]string{"Content-Type": "application/x-gzip"}}
		}
		return wxtest.Reply{Body: csv, Unsigned: true, Header: map[string]string{"Content-Type": "text/plain"}}
	})
	c := newClient(t, srv, nil)
	for _, q := range []string{"token=T1", "token=T1&tartype=gzip"} {
		var out bytes.Buffer
		n, err := c.DownloadBill(context.Background(), &bills.Bill{DownloadURL: srv.URL + "/v3/billdownload/file?" + q, HashType: "SHA1", HashValue: digest}, &out)
		if err != nil || out.String() != csv || n != int64(len(csv)) {
			t.Errorf("%s: %v %d %q", q, err, n, out.String())
		}
		if srv.Last().URI != "/v3/billdownload/file?"+q || srv.Last().AuthErr != nil {
			t.Errorf("the download must be signed, URL unchanged: %s %v", srv.Last().URI, srv.Last().AuthErr)
		}
		if _, err := wxpay.ParseBill(&out); err != nil {
			t.Error(err)
		}
	}
	var de *merchant.DigestError
	_, err := c.DownloadBill(context.Background(), &bills.Bill{DownloadURL: srv.URL + "/v3/billdownload/file?token=T1", HashType: "SHA1", HashValue: strings.Repeat("0", 40)}, io.Discard)
	if !errors.As(err, &de) {
		t.Errorf("digest mismatch: %v", err)
	}
	_, err = c.DownloadBill(context.Background(), &bills.Bill{DownloadURL: "https://evil.example/v3/billdownload/file?token=T1", HashType: "SHA1", HashValue: digest}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "refusing") {
		t.Errorf("foreign host: %v", err)
	}
}

func TestPayParams(t *testing.T) {
	t.Parallel()
	k := wxtest.LoadKeys(t)
	srv := wxtest.NewServer(t, k, ok(`{}`))
	c := newClient(t, srv, nil)
	p, err := c.JSAPIPayParams("", "wx201410272009395522657a690389285100")
	if err != nil {
		t.Fatal(err)
	}
	if p.AppID != "wxd678efh567hg6787" || p.Package != "prepay_id=wx201410272009395522657a690389285100" || p.SignType != "RSA" {
		t.Errorf("%+v", p)
	}
	if err := p.Verify(&k.MerchantKey.PublicKey); err != nil {
		t.Error(err)
	}
	a, err := c.APPPayParams("", "wx2014")
	if err != nil || a.PartnerID != k.MchID || a.Package != "Sign=WXPay" || a.Verify(&k.MerchantKey.PublicKey) != nil {
		t.Errorf("%+v %v", a, err)
	}
}

func TestRefundPartnerDefaults(t *testing.T) {
	t.Parallel()
	k := wxtest.LoadKeys(t)
	srv := wxtest.NewServer(t, k, ok(`{"refund_id":"50300000012026112300000001","out_refund_no":"R1","status":"PROCESSING","amount":{"total":100,"refund":40}}`))
	c := newClient(t, srv, func(c *wxpay.Config) { c.PartnerMode = true; c.SubMchID = "1900000110" })
	r, err := c.Refunds.Create(context.Background(), &refunds.CreateRequest{OutTradeNo: "O1", OutRefundNo: "R1", Amount: refunds.CreateAmount{Total: 100, Refund: 40, Currency: "CNY"}})
	if err != nil {
		t.Fatal(err)
	}
	if r.Amount.Refund != 40 {
		t.Errorf("%+v", r)
	}
	var body map[string]any
	srv.Last().JSON(&body)
	if body["sub_mchid"] != "1900000110" {
		t.Errorf("sub_mchid %v", body["sub_mchid"])
	}
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	k := wxtest.LoadKeys(t)
	base := k.Config("https://api.mch.weixin.qq.com")
	for name, tc := range map[string]struct {
		edit        func(*wxpay.Config)
		field, text string
	}{
		"mchid":          {func(c *wxpay.Config) { c.MchID = "abc" }, "MchID", "number"},
		"no key":         {func(c *wxpay.Config) { c.PrivateKey = nil }, "PrivateKey", "missing"},
		"cert as key":    {func(c *wxpay.Config) { c.PrivateKey = k.MerchantCertPEM }, "PrivateKey", "certificate"},
		"wrong serial":   {func(c *wxpay.Config) { c.CertificateSerial = "ABCDEF" }, "CertificateSerial", "not the serial"},
		"no serial":      {func(c *wxpay.Config) { c.Certificate = nil }, "CertificateSerial", "missing"},
		"short v3 key":   {func(c *wxpay.Config) { c.APIv3Key = "short" }, "APIv3Key", "32 bytes"},
		"pubkey id":      {func(c *wxpay.Config) { c.PublicKeyID = k.MerchantSerial }, "PublicKeyID", "serial number"},
		"own key as pub": {func(c *wxpay.Config) { c.PublicKey = k.MerchantCertPEM }, "PublicKey", "certificate"},
		"cert mode no v3": {func(c *wxpay.Config) {
			c.PublicKey, c.PublicKeyID, c.APIv3Key = nil, "", ""
		}, "APIv3Key", "platform certificates"},
		"sub without partner": {func(c *wxpay.Config) { c.SubMchID = "1900000110" }, "SubMchID", "partner mode"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := base
			tc.edit(&cfg)
			_, err := wxpay.NewClient(context.Background(), cfg)
			var ce *merchant.ConfigError
			if !errors.As(err, &ce) || ce.Field != tc.field || !strings.Contains(err.Error(), tc.text) {
				t.Errorf("got %v, want a ConfigError on %s mentioning %q", err, tc.field, tc.text)
			}
			if err != nil && strings.Contains(err.Error(), k.APIv3Key) {
				t.Error("the error contains the APIv3 key")
			}
		})
	}
}

func TestCertificateModeWithoutCertificates(t *testing.T) {
	t.Parallel()
	k := wxtest.LoadKeys(t)
	srv := wxtest.NewServer(t, k, func(r *wxtest.Request) wxtest.Reply {
		if strings.HasPrefix(r.URI, "/v3/certificates") {
			return wxtest.Reply{Status: 404, Unsigned: true, Body: `{"code":"RESOURCE_NOT_EXISTS","message":"无可用的平台证书"}`}
		}
		return wxtest.Reply{Body: `{"code_url":"x"}`, Header: map[string]string{}}
	})
	srv.SignWithCertificate = true
	c := newClient(t, srv, func(c *wxpay.Config) { c.PublicKey, c.PublicKeyID = nil, "" })
	_, err := c.Payments.NativePrepay(context.Background(), order("O1"))
	if err == nil || !strings.Contains(err.Error(), "public key") {
		t.Errorf("want advice to use the public key mode, got %v", err)
	}
}

// TestKeyModes checks that each key mode gives the store the keys of that
// mode and no others: a public key configured next to an explicit
// certificate mode must not turn it into transition mode.
func TestKeyModes(t *testing.T) {
	t.Parallel()
	k := wxtest.LoadKeys(t)
	for _, tc := range []struct {
		mode merchant.Config
		want string
	}{
		{merchant.Config{}, "public-key"},
		{merchant.Config{KeyMode: wxpay.CertificateMode}, "certificate"},
		{merchant.Config{KeyMode: wxpay.PublicKeyMode}, "public-key"},
		{merchant.Config{KeyMode: wxpay.TransitionMode}, "transition"},
	} {
		cfg := k.Config("https://api.mch.weixin.qq.com")
		cfg.KeyMode = tc.mode.KeyMode
		c, err := wxpay.NewClient(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Conn().Keys().Mode().String(); got != tc.want {
			t.Errorf("KeyMode %v: the store is in %s mode, want %s", tc.mode.KeyMode, got, tc.want)
		}
		c.Close()
	}
}

func TestOperationsList(t *testing.T) {
	t.Parallel()
	ops := wxpay.Operations()
	if len(ops) < 30 {
		t.Fatalf("only %d operations", len(ops))
	}
	seen := map[string]bool{}
	for _, op := range ops {
		if op.ID == "" || op.Method == "" || !strings.HasPrefix(op.Path, "/v3/") || op.Modes == 0 {
			t.Errorf("incomplete operation %+v", op)
		}
		if seen[op.ID] {
			t.Errorf("operation %s listed twice", op.ID)
		}
		seen[op.ID] = true
	}
	for _, id := range []string{"NativePrepay", "PartnerNativePrepay", "CreateRefund", "DownloadBill", "UploadImage"} {
		if !seen[id] {
			t.Errorf("%s missing", id)
		}
	}
}

// order is a valid Native order input.
func order(outTradeNo string) *payments.NativePrepayInput {
	return &payments.NativePrepayInput{Description: "T-shirt", OutTradeNo: outTradeNo, Amount: payments.Amount{Total: 100}}
}
