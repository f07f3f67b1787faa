package sandbox

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gowxpay/wxpay"
	"github.com/gowxpay/wxpay/auth"
	"github.com/gowxpay/wxpay/callback"
	wxmerchant "github.com/gowxpay/wxpay/merchant"
)

// testKeys are generated once per test binary: generating RSA keys is the
// slow part of starting a sandbox.
var testKeys = sync.OnceValue(func() []*rsa.PrivateKey {
	keys, err := GenerateKeys(8)
	if err != nil {
		panic(err)
	}
	return keys
})

var testSpec = sync.OnceValues(DefaultSpec)

// newServer builds an in-process sandbox with the shared keys and spec and
// closes it at the end of the test.
func newServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	spec, err := testSpec()
	if err != nil {
		t.Fatal(err)
	}
	base := []Option{WithSpec(spec), WithKeys(testKeys()...), WithNotifyClient(loopbackClient)}
	s, err := New(append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// signer signs requests the way a client does.
type signer struct {
	cred Credentials
	now  func() time.Time
}

func (c signer) authorization(method, uri string, body []byte) string {
	now := time.Now
	if c.now != nil {
		now = c.now
	}
	ts, nonce := now().Unix(), newNonce()
	sig, err := auth.SignBase64(auth.RSASigner{Key: c.cred.PrivateKey}, auth.RequestMessage(method, uri, ts, nonce, body))
	if err != nil {
		panic(err)
	}
	return auth.Authorization{MchID: c.cred.MchID, Nonce: nonce, Timestamp: ts, Serial: c.cred.CertificateSerial, Signature: sig}.String()
}

// result is an answer read in full.
type result struct {
	status int
	header http.Header
	body   []byte
	req    *http.Request
}

func (r result) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("answer %d is not a JSON object: %v: %s", r.status, err, r.body)
	}
	return m
}

func (r result) code() string {
	var m struct {
		Code string `json:"code"`
	}
	_ = json.Unmarshal(r.body, &m)
	return m.Code
}

// send sends a signed request to the handler in-process. v is marshalled
// unless it is []byte.
func send(t testing.TB, h http.Handler, c signer, method, uri string, v any, edit ...func(*http.Request)) result {
	t.Helper()
	var body []byte
	switch x := v.(type) {
	case nil:
	case []byte:
		body = x
	default:
		var err error
		if body, err = json.Marshal(x); err != nil {
			t.Fatal(err)
		}
	}
	req := httptest.NewRequest(method, uri, bytes.NewReader(body))
	req.Header.Set("Authorization", c.authorization(method, uri, body))
	req.Header.Set("User-Agent", "wxpay-sandbox-test/1.0")
	req.Header.Set("Accept", "application/json")
	if len(body) > 0 {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, e := range edit {
		e(req)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := rec.Result()
	b, _ := io.ReadAll(res.Body)
	return result{status: res.StatusCode, header: res.Header, body: b, req: req}
}

// verify checks an answer's WeChat Pay signature with the sandbox's
// platform certificates or public key, as a client would.
func verify(t testing.TB, s *Server, h http.Header, body []byte) {
	t.Helper()
	if err := verifyErr(s, h, body); err != nil {
		t.Fatalf("signature: %v", err)
	}
}

func verifyErr(s *Server, h http.Header, body []byte) error {
	serial := h.Get("Wechatpay-Serial")
	var pub *rsa.PublicKey
	if id, key := s.PublicKey(); serial == id {
		pub = key
	}
	for _, c := range s.PlatformCertificates() {
		if auth.SerialNumber(c) == serial {
			pub = c.PublicKey.(*rsa.PublicKey)
		}
	}
	if pub == nil {
		return fmt.Errorf("unknown Wechatpay-Serial %q", serial)
	}
	if h.Get("Wechatpay-Signature-Type") != auth.SchemeRSA {
		return fmt.Errorf("Wechatpay-Signature-Type %q", h.Get("Wechatpay-Signature-Type"))
	}
	ts, err := strconv.ParseInt(h.Get("Wechatpay-Timestamp"), 10, 64)
	if err != nil {
		return fmt.Errorf("Wechatpay-Timestamp %q", h.Get("Wechatpay-Timestamp"))
	}
	if d := time.Since(time.Unix(ts, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return fmt.Errorf("Wechatpay-Timestamp %d is %s off", ts, d)
	}
	sig, err := base64.StdEncoding.DecodeString(h.Get("Wechatpay-Signature"))
	if err != nil {
		return fmt.Errorf("signature not Base64: %v", err)
	}
	return auth.VerifyRSA(pub, auth.ResponseMessage(h.Get("Wechatpay-Timestamp"), h.Get("Wechatpay-Nonce"), body), sig)
}

// platformCertByPEM parses a PEM certificate.
func platformCertByPEM(t testing.TB, pemText []byte) *x509.Certificate {
	t.Helper()
	c, err := auth.ParseCertificate(pemText)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// receiver records notifications; its answers follow the codes in order
// (200 after they run out).
type receiver struct {
	*httptest.Server
	mu    sync.Mutex
	codes []int
	got   []notice
}

type notice struct {
	header http.Header
	body   []byte
}

func newReceiver(t testing.TB, codes ...int) *receiver {
	rv := &receiver{codes: codes}
	rv.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rv.mu.Lock()
		rv.got = append(rv.got, notice{r.Header.Clone(), b})
		code := http.StatusOK
		if len(rv.codes) > 0 {
			code, rv.codes = rv.codes[0], rv.codes[1:]
		}
		rv.mu.Unlock()
		w.WriteHeader(code)
	}))
	t.Cleanup(rv.Close)
	return rv
}

func (rv *receiver) notices() []notice {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	return append([]notice(nil), rv.got...)
}

func decodeB64(s string) ([]byte, error) { return base64.StdEncoding.DecodeString(s) }

// ctx is a context that ends with the test: waits have no deadline but the
// test's own -timeout, however busy the machine.
func ctx(t testing.TB) context.Context { return t.Context() }

// loopbackClient delivers notifications to loopback addresses only: tests
// never reach the network.
var loopbackClient = &http.Client{Transport: &http.Transport{
	DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
			return nil, fmt.Errorf("test: refusing to dial %s (not loopback)", addr)
		}
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	},
}}

// flowClient is a client of the sandbox at baseURL with cred's
// credentials, and a loopback server rv for its callback handler, which
// hands every event to events. All are closed when the test ends.
func flowClient(t *testing.T, cred Credentials, baseURL string) (wxmerchant.Config, *wxpay.Client, <-chan *callback.Event, *httptest.Server) {
	t.Helper()
	cfg := cred.Config()
	cfg.BaseURL = baseURL
	client, err := wxpay.NewClient(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close() })
	events := make(chan *callback.Event, 8)
	h, err := client.CallbackHandler(func(_ context.Context, ev *callback.Event) error { events <- ev; return nil })
	if err != nil {
		t.Fatal(err)
	}
	rv := httptest.NewServer(h)
	t.Cleanup(rv.Close)
	return cfg, client, events, rv
}
