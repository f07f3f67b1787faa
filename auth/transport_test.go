package auth

import (
	"context"
	"crypto/rsa"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gowxpay/wxpay/core"
	"github.com/gowxpay/wxpay/internal/wire"
)

// signingServer answers like WeChat Pay: 2xx answers signed with key under
// serial (unless the handler says otherwise), error answers unsigned.
type signingServer struct {
	t      *testing.T
	key    *rsa.PrivateKey
	serial string
	now    func() time.Time
	tamper atomic.Bool // change the body after signing
	probe  atomic.Bool // send a signature probe
}

func (s *signingServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var status int
	var body string
	signed := true
	switch {
	case r.URL.Path == "/v3/pay/transactions/out-trade-no/T1":
		status, body = 200, `{"out_trade_no":"T1","trade_state":"SUCCESS"}`
	case r.URL.Path == "/v3/pay/transactions/out-trade-no/T1/close":
		status = 204
	case r.URL.Path == "/v3/billdownload/file":
		status, body, signed = 200, "交易时间,公众账号ID\r\n`2019-02-19 05:01:46,`wx1\r\n", false
	case r.URL.Path == "/v3/refund/domestic/refunds/R404":
		status, body, signed = 404, `{"code":"RESOURCE_NOT_EXISTS","message":"退款单不存在"}`, false
	case r.URL.Path == "/v3/pay/transactions/native":
		status, body, signed = 401, `{"code":"SIGN_ERROR","message":"签名错误"}`, false
	default:
		status, body, signed = 404, "", false
	}
	if signed {
		for k, v := range signAnswer(s.t, s.key, s.serial, s.now(), "d824f2e086d3c1df967785d13fcd22ef", []byte(body)) {
			w.Header()[k] = v
		}
		if s.probe.Load() {
			w.Header().Set(HeaderSignature, SignatureProbePrefix+"2sWfO+6tVVsZ==")
		}
	}
	if s.tamper.Load() {
		body = strings.Replace(body, "SUCCESS", "NOTPAY!", 1)
	}
	w.Header().Set("Request-ID", "08F5B8C2B506102C18FDDFEEA30620BE821E28EDC405-0")
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

func newTransportWorld(t *testing.T) (*signingServer, *http.Client, *atomic.Int32) {
	key := testKey(t, "pubkey")
	ss := &signingServer{t: t, key: key, serial: testPubKeyID, now: time.Now}
	srv := httptest.NewServer(ss)
	t.Cleanup(srv.Close)
	var verifies atomic.Int32
	v := VerifierFunc(func(ctx context.Context, serial string, msg []byte, sig string) error {
		verifies.Add(1)
		return mapVerifier{testPubKeyID: &key.PublicKey}.Verify(ctx, serial, msg, sig)
	})
	base := srv.Client().Transport
	c := &http.Client{Transport: &Transport{Base: base, Verifier: v}}
	// Prefix every request with the server URL.
	c.Transport = rewriteHost{srv.URL, c.Transport}
	return ss, c, &verifies
}

// rewriteHost sends requests for "http://wechat" to the test server.
type rewriteHost struct {
	url  string
	next http.RoundTripper
}

func (r rewriteHost) RoundTrip(req *http.Request) (*http.Response, error) {
	u := *req.URL
	nu, _ := http.NewRequestWithContext(req.Context(), req.Method, r.url+u.RequestURI(), req.Body)
	nu.Header = req.Header
	return r.next.RoundTrip(nu)
}

func get(t *testing.T, c *http.Client, ctx context.Context, path string) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, "GET", "http://wechat"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c.Do(req)
}

func TestTransportVerifiesAnswers(t *testing.T) {
	t.Parallel()
	_, c, verifies := newTransportWorld(t)
	resp, err := get(t, c, context.Background(), "/v3/pay/transactions/out-trade-no/T1")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if _, ok := resp.Body.(*wire.Body); !ok {
		t.Errorf("body %T, want *wire.Body", resp.Body)
	}
	b, _ := io.ReadAll(resp.Body)
	if string(b) != `{"out_trade_no":"T1","trade_state":"SUCCESS"}` || resp.ContentLength != int64(len(b)) {
		t.Errorf("body %q length %d", b, resp.ContentLength)
	}
	if verifies.Load() != 1 {
		t.Errorf("%d verifications", verifies.Load())
	}
	// 204: signed over an empty body.
	resp, err = get(t, c, context.Background(), "/v3/pay/transactions/out-trade-no/T1/close")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 204 || verifies.Load() != 2 {
		t.Errorf("204: status %d, %d verifications", resp.StatusCode, verifies.Load())
	}
}

func TestTransportRejectsTampered(t *testing.T) {
	t.Parallel()
	ss, c, _ := newTransportWorld(t)
	ss.tamper.Store(true)
	op := &core.Operation{ID: "QueryOrderByOutTradeNo", Name: "Payments.QueryOrderByOutTradeNo", Method: "GET"}
	resp, err := get(t, c, wire.WithOperation(context.Background(), op), "/v3/pay/transactions/out-trade-no/T1")
	if err == nil {
		resp.Body.Close()
		t.Fatal("tampered answer accepted")
	}
	var ve *VerificationError
	if !errors.Is(err, core.ErrVerification) || !errors.Is(err, ErrBadSignature) || !errors.As(err, &ve) {
		t.Fatalf("%v", err)
	}
	if ve.RequestID != "08F5B8C2B506102C18FDDFEEA30620BE821E28EDC405-0" || ve.Operation != op.Name || ve.Serial != testPubKeyID {
		t.Errorf("%+v", ve)
	}
	if !strings.Contains(err.Error(), "Request-ID 08F5B8C2B506102C18FDDFEEA30620BE821E28EDC405-0") {
		t.Errorf("message %q", err)
	}
}

func TestTransportProbe(t *testing.T) {
	t.Parallel()
	ss, c, _ := newTransportWorld(t)
	ss.probe.Store(true)
	_, err := get(t, c, context.Background(), "/v3/pay/transactions/out-trade-no/T1")
	if !errors.Is(err, ErrSignatureProbe) || !errors.Is(err, core.ErrVerification) {
		t.Fatalf("%v", err)
	}
}

func TestTransportStaleAnswer(t *testing.T) {
	t.Parallel()
	ss, c, _ := newTransportWorld(t)
	ss.now = func() time.Time { return time.Now().Add(-10 * time.Minute) }
	_, err := get(t, c, context.Background(), "/v3/pay/transactions/out-trade-no/T1")
	if !errors.Is(err, ErrClockSkew) {
		t.Fatalf("%v", err)
	}
}

func TestTransportUnsigned(t *testing.T) {
	t.Parallel()
	_, c, verifies := newTransportWorld(t)
	want := "交易时间,公众账号ID\r\n`2019-02-19 05:01:46,`wx1\r\n"
	// Marked by the operation.
	op := &core.Operation{ID: "DownloadBill", Method: "GET", Path: "/v3/billdownload/file", Unsigned: true}
	resp, err := get(t, c, wire.WithOperation(context.Background(), op), "/v3/billdownload/file?token=abc&tartype=gzip")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != want {
		t.Errorf("body %q", b)
	}
	// Without an operation: known by its path.
	resp, err = get(t, c, context.Background(), "/v3/billdownload/file?token=abc")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if verifies.Load() != 0 {
		t.Errorf("%d verifications of unsigned downloads", verifies.Load())
	}
	// An operation that is not Unsigned is verified even on a download path.
	op2 := &core.Operation{ID: "X", Method: "GET"}
	if _, err := get(t, c, wire.WithOperation(context.Background(), op2), "/v3/billdownload/file"); !errors.Is(err, ErrMissingHeader) {
		t.Errorf("signed operation on an unsigned answer: %v", err)
	}
}

func TestTransportNon2xxPassesThrough(t *testing.T) {
	t.Parallel()
	_, c, verifies := newTransportWorld(t)
	for _, tc := range []struct {
		path   string
		status int
		body   string
	}{
		{"/v3/refund/domestic/refunds/R404", 404, "RESOURCE_NOT_EXISTS"},
		{"/v3/pay/transactions/native", 401, "SIGN_ERROR"},
		{"/v3/unknown", 404, ""},
	} {
		resp, err := get(t, c, context.Background(), tc.path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || !strings.Contains(string(b), tc.body) {
			t.Errorf("%s: %d %q", tc.path, resp.StatusCode, b)
		}
	}
	if verifies.Load() != 0 {
		t.Errorf("%d verifications of error answers", verifies.Load())
	}
}

func TestTransportWithPlatformKeys(t *testing.T) {
	t.Parallel()
	// End to end: the transport asks a certificate-mode store, which
	// downloads on first use.
	w := newKeyWorld(t)
	w.clock = newFakeClock(time.Now())
	w.wechat.clock = w.clock
	p := w.store(t, PlatformKeysConfig{APIv3Key: testAPIv3Key, Fetch: w.wechat.fetch, RefreshInterval: -1})
	ss := &signingServer{t: t, key: w.key1, serial: SerialNumber(w.cert1), now: time.Now}
	srv := httptest.NewServer(ss)
	defer srv.Close()
	c := &http.Client{Transport: &Transport{Verifier: p}}
	resp, err := c.Get(srv.URL + "/v3/pay/transactions/out-trade-no/T1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if w.wechat.calls.Load() != 1 {
		t.Errorf("%d downloads", w.wechat.calls.Load())
	}
}

func TestTransportNoVerifier(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "{}") }))
	defer srv.Close()
	c := &http.Client{Transport: &Transport{}}
	if _, err := c.Get(srv.URL + "/v3/x"); !errors.Is(err, core.ErrVerification) {
		t.Errorf("%v", err)
	}
}

func TestTransportDoesNotModifyRequest(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL+"/v3/billdownload/file?token=a", nil)
	req.Header.Set("Authorization", "x")
	before := req.Header.Clone()
	resp, err := (&Transport{Verifier: mapVerifier{}}).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(req.Header) != len(before) || req.Header.Get("Authorization") != "x" {
		t.Error("request headers changed")
	}
}

func TestUnsignedPath(t *testing.T) {
	t.Parallel()
	for path, want := range map[string]bool{
		"/v3/billdownload/file":                          true,
		"/sandbox/v3/billdownload/file":                  true,
		"/v3/merchant-service/images/ChsyFgdbTzVqvu2":    true,
		"/v3/merchant-service/images/upload":             false,
		"/v3/global/merchant-service/images/abc":         true,
		"/v3/transferdownload/signfile":                  true,
		"/v3/transferdownload/elecvoucherfile":           true,
		"/v3/new-tax-control-fapiao/download":            true,
		"/v3/statements":                                 true,
		"/v3/global/statements":                          true,
		"/hk/v3/statements":                              true,
		"/v3/bill/tradebill":                             false,
		"/v3/certificates":                               false,
		"/v3/pay/transactions/out-trade-no/T1":           false,
		"/v3/merchant-service/complaints-v2":             false,
		"/v3/merchant-service/images/a/b":                false,
		"/billdownload/file":                             false,
		"/v3/billdownload/file/extra":                    false,
		"/v3/new-tax-control-fapiao/fapiao-applications": false,
	} {
		if got := UnsignedPath(path); got != want {
			t.Errorf("UnsignedPath(%q) = %v", path, got)
		}
	}
}
