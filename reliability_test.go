package wxpay_test

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gowxpay/wxpay"
	"github.com/gowxpay/wxpay/auth"
	"github.com/gowxpay/wxpay/gen/complaints"
	"github.com/gowxpay/wxpay/gen/marketing"
	"github.com/gowxpay/wxpay/gen/payments"
	"github.com/gowxpay/wxpay/internal/wxtest"
	"github.com/gowxpay/wxpay/sandbox"
)

// testKeys and testSpec are made once for the sandboxes of these tests:
// loading the spec and generating keys are most of a sandbox's start-up.
var (
	testKeys = sync.OnceValues(func() ([]*rsa.PrivateKey, error) { return sandbox.GenerateKeys(8) })
	testSpec = sync.OnceValues(sandbox.DefaultSpec)
)

// sandboxOptions are the shared keys and spec.
func sandboxOptions(t *testing.T) []sandbox.Option {
	t.Helper()
	keys, err := testKeys()
	if err != nil {
		t.Fatal(err)
	}
	spec, err := testSpec()
	if err != nil {
		t.Fatal(err)
	}
	return []sandbox.Option{sandbox.WithKeys(keys...), sandbox.WithSpec(spec)}
}

// startTestSandbox starts a sandbox with the shared keys and spec.
// certClient is a certificate-mode client of the sandbox's merchant.
func certClient(t *testing.T, sb *sandbox.Server, edit func(*wxpay.Config)) *wxpay.Client {
	t.Helper()
	cfg := sb.Merchant().Config()
	cfg.NotifyURL = "http://127.0.0.1:9/notify"
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

func nativePrepay(c *wxpay.Client, out string) error {
	_, err := c.Payments.NativePrepay(context.Background(), &payments.NativePrepayInput{Description: "d", OutTradeNo: out, Amount: payments.Amount{Total: 1}})
	return err
}

// TestWrongAPIv3KeyCreatesNoOrder: with a wrong APIv3 key the platform
// certificates cannot be decrypted, so the first prepay fails before it is
// sent, saying why, and the sandbox holds no order; Check says the same at
// start-up.
func TestWrongAPIv3KeyCreatesNoOrder(t *testing.T) {
	sb := startTestSandbox(t, sandbox.WithKeyMode(sandbox.CertificateMode))
	c := certClient(t, sb, func(cfg *wxpay.Config) { cfg.APIv3Key = strings.Repeat("k", 32) })
	err := nativePrepay(c, "WRONGKEY-1")
	if !errors.Is(err, wxpay.ErrNotSent) || !errors.Is(err, auth.ErrDecrypt) {
		t.Fatalf("want an unsent call naming the APIv3 key, got %v", err)
	}
	if !strings.Contains(err.Error(), "APIv3 key") || strings.Contains(err.Error(), "may have taken effect") {
		t.Errorf("message: %v", err)
	}
	if st, err := sb.OrderState("", "WRONGKEY-1"); !errors.Is(err, sandbox.ErrNotFound) {
		t.Fatalf("the sandbox has the order (%q, %v): the request was sent", st, err)
	}
	if err := c.Check(context.Background()); !errors.Is(err, auth.ErrDecrypt) {
		t.Errorf("Check with a wrong APIv3 key: %v", err)
	}
	good := certClient(t, sb, nil)
	if err := good.Check(context.Background()); err != nil {
		t.Fatalf("Check with good credentials: %v", err)
	}
	if err := nativePrepay(good, "WRONGKEY-2"); err != nil {
		t.Fatal(err)
	}
}

// TestCertificateDownloadFailureSendsNothing: a failed first certificate
// download stops the call before it is sent; errors.As does not take the
// download's retryable 500 for the call's answer.
func TestCertificateDownloadFailureSendsNothing(t *testing.T) {
	sb := startTestSandbox(t, sandbox.WithKeyMode(sandbox.CertificateMode))
	if _, err := sb.Inject(sandbox.Fault{Target: "/v3/certificates", Kind: sandbox.FaultError, Status: 500}); err != nil {
		t.Fatal(err)
	}
	c := certClient(t, sb, nil)
	err := nativePrepay(c, "DLFAIL-1")
	if !errors.Is(err, wxpay.ErrNotSent) || !strings.Contains(err.Error(), "downloading the platform certificates") {
		t.Fatalf("got %v", err)
	}
	var apiErr *wxpay.APIError
	if errors.As(err, &apiErr) {
		t.Errorf("errors.As finds %v as if it were the prepay's answer", apiErr)
	}
	if _, err := sb.OrderState("", "DLFAIL-1"); !errors.Is(err, sandbox.ErrNotFound) {
		t.Fatal("the order was created")
	}
	if err := c.Check(context.Background()); err == nil {
		t.Error("Check passed with a failing certificate endpoint")
	}
}

// TestCallAfterClose: nothing is sent after Close.
func TestCallAfterClose(t *testing.T) {
	sb := startTestSandbox(t, sandbox.WithKeyMode(sandbox.CertificateMode))
	c := certClient(t, sb, nil)
	c.Close()
	err := nativePrepay(c, "CLOSED-1")
	if !errors.Is(err, wxpay.ErrClosed) || !errors.Is(err, wxpay.ErrNotSent) {
		t.Fatalf("got %v", err)
	}
	if _, err := sb.OrderState("", "CLOSED-1"); !errors.Is(err, sandbox.ErrNotFound) {
		t.Fatal("the order was created after Close")
	}
}

// TestUnsafeOperationNotResent: RespondToComplaint carries no business key,
// so a connection reset after the request was written is not resent, and
// the error says it may have taken effect; a prepay (out_trade_no) is.
func TestUnsafeOperationNotResent(t *testing.T) {
	k := wxtest.LoadKeys(t)
	var n atomic.Int32
	srv := wxtest.NewServer(t, k, func(*wxtest.Request) wxtest.Reply {
		if n.Add(1) == 1 {
			return wxtest.Reply{Reset: true}
		}
		return wxtest.Reply{Status: 204}
	})
	c := newClient(t, srv, nil)
	var meta wxpay.ResponseMeta
	err := c.Complaints.RespondTo(context.Background(), "200201820200101080076610000", &complaints.RespondToRequest{
		ComplaintedMchID: k.MchID, ResponseContent: "已处理"}, wxpay.CaptureResponse(&meta))
	if err == nil || n.Load() != 1 || meta.Attempts != 1 {
		t.Fatalf("reset: %v; the server saw %d requests, the client counts %d", err, n.Load(), meta.Attempts)
	}
	if !strings.Contains(err.Error(), "may have taken effect: query before repeating") {
		t.Errorf("message: %v", err)
	}
	var oe *wxpay.OpError
	if !errors.As(err, &oe) || !oe.Uncertain {
		t.Errorf("not marked Uncertain: %#v", err)
	}
}

// TestUnsafeOperationResentWhenUnsent: a request that could not connect
// never reached WeChat Pay, so even an unsafe operation goes to the backup
// host.
func TestUnsafeOperationResentWhenUnsent(t *testing.T) {
	k := wxtest.LoadKeys(t)
	var n atomic.Int32
	srv := wxtest.NewServer(t, k, func(*wxtest.Request) wxtest.Reply {
		n.Add(1)
		return wxtest.Reply{Status: 204}
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	c := newClient(t, srv, func(cfg *wxpay.Config) { cfg.BaseURL, cfg.BackupURL, cfg.Failover = dead, srv.URL, true })
	var meta wxpay.ResponseMeta
	err = c.Complaints.RespondTo(context.Background(), "200201820200101080076610000", &complaints.RespondToRequest{
		ComplaintedMchID: k.MchID, ResponseContent: "已处理"}, wxpay.CaptureResponse(&meta))
	if err != nil || n.Load() != 1 || meta.Attempts != 2 {
		t.Fatalf("%v; the backup saw %d requests, the client counts %d attempts (want 2)", err, n.Load(), meta.Attempts)
	}
}

// TestIdempotencyKeyNotReplayedByNetHTTP: net/http resends a POST with an
// Idempotency-Key by itself when a reused connection breaks; the client
// must make that decision itself, send the same key again and count both.
func TestIdempotencyKeyNotReplayedByNetHTTP(t *testing.T) {
	k := wxtest.LoadKeys(t)
	var n atomic.Int32
	var mu sync.Mutex
	var keys, nonces []string
	srv := wxtest.NewServer(t, k, func(r *wxtest.Request) wxtest.Reply {
		i := n.Add(1)
		mu.Lock()
		keys = append(keys, r.Header.Get("Idempotency-Key"))
		nonces = append(nonces, r.Auth.Nonce)
		mu.Unlock()
		if i == 2 {
			return wxtest.Reply{Reset: true} // on the reused connection
		}
		return wxtest.Reply{Body: `{"partner":{"type":"APPID","appid":"wx1"},"state":"ESTABLISHED"}`}
	})
	c := newClient(t, srv, nil)
	ctx := context.Background()
	body := &marketing.PartnershipRequest{Partner: marketing.PartnershipPartner{Type: "APPID", AppID: "wx1"},
		AuthorizedData: marketing.PartnershipAuthorizedData{BusinessType: "FAVOR_STOCK", StockID: "1"}}
	if _, err := c.Marketing.BuildPartnership(ctx, &marketing.BuildPartnershipParams{IdempotencyKey: "K-0"}, body); err != nil {
		t.Fatal(err)
	}
	var meta wxpay.ResponseMeta
	_, err := c.Marketing.BuildPartnership(ctx, &marketing.BuildPartnershipParams{IdempotencyKey: "K-1"}, body, wxpay.CaptureResponse(&meta))
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if got := int(n.Load()) - 1; meta.Attempts != got || got != 2 {
		t.Errorf("the server saw %d requests of the call, the client counts %d attempts; want 2 and 2", got, meta.Attempts)
	}
	if len(keys) != 3 || keys[1] != "K-1" || keys[2] != "K-1" {
		t.Errorf("Idempotency-Key per request: %q", keys)
	}
	// The client resent it, signed afresh; net/http would have replayed
	// the same bytes.
	if len(nonces) == 3 && nonces[1] == nonces[2] {
		t.Error("net/http replayed the request by itself")
	}
}

// TestCertificateCacheThroughClient: the client keeps the certificates in
// a private directory and starts from them; a directory others may write
// to is a configuration error.
func TestCertificateCacheThroughClient(t *testing.T) {
	sb := startTestSandbox(t, sandbox.WithKeyMode(sandbox.CertificateMode))
	dir := filepath.Join(t.TempDir(), "certs")
	c := certClient(t, sb, func(cfg *wxpay.Config) { cfg.CertificateCacheDir = dir })
	if err := nativePrepay(c, "CACHE-1"); err != nil {
		t.Fatal(err)
	}
	c.Close()
	c2 := certClient(t, sb, func(cfg *wxpay.Config) { cfg.CertificateCacheDir = dir })
	if st := c2.Conn().Keys().Status(); st.Source != "cache" || st.Downloads != 0 {
		t.Errorf("after a restart: %+v", st)
	}
	if err := nativePrepay(c2, "CACHE-2"); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	cfg := sb.Merchant().Config()
	cfg.CertificateCacheDir = dir
	_, err := wxpay.NewClient(context.Background(), cfg)
	var ce *wxpay.ConfigError
	if !errors.As(err, &ce) || ce.Field != "CertificateCacheDir" || !strings.Contains(err.Error(), "writable by group or others") {
		t.Errorf("world-writable cache directory: %v", err)
	}
}

// TestResendPolicyAgainstSandbox: the sandbox drops the connection of the
// first request. The prepay (out_trade_no) is sent again and creates its
// order once; RespondToComplaint (no business key) is not, and says the
// request may have taken effect.
func TestResendPolicyAgainstSandbox(t *testing.T) {
	sb, err := sandbox.New(sandboxOptions(t)...)
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	var mu sync.Mutex
	seen := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The whole request arrives before the connection drops: the
		// server could have acted on it.
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		mu.Lock()
		seen[r.URL.Path]++
		mu.Unlock()
		sb.Handler().ServeHTTP(w, r)
	}))
	defer srv.Close()
	count := func(path string) int {
		mu.Lock()
		defer mu.Unlock()
		return seen[path]
	}
	cfg := sb.Merchant().Config()
	cfg.BaseURL, cfg.NotifyURL = srv.URL, "http://127.0.0.1:9/notify"
	c, err := wxpay.NewClient(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, target := range []string{"NativePrepay", "RespondToComplaint"} {
		if _, err := sb.Inject(sandbox.Fault{Target: target, Kind: sandbox.FaultReset, Count: 1}); err != nil {
			t.Fatal(err)
		}
	}
	var meta wxpay.ResponseMeta
	if _, err := c.Payments.NativePrepay(context.Background(), &payments.NativePrepayInput{Description: "d", OutTradeNo: "RESEND-1", Amount: payments.Amount{Total: 1}}, wxpay.CaptureResponse(&meta)); err != nil {
		t.Fatal(err)
	}
	if st, err := sb.OrderState("", "RESEND-1"); err != nil || st != "NOTPAY" {
		t.Errorf("order after a resent prepay: %q %v", st, err)
	}
	if n := count("/v3/pay/transactions/native"); n != 2 || meta.Attempts != 2 {
		t.Errorf("prepay: the sandbox saw %d requests, the client counts %d; want 2", n, meta.Attempts)
	}
	err = c.Complaints.RespondTo(context.Background(), "200201820200101080076610000", &complaints.RespondToRequest{
		ComplaintedMchID: cfg.MchID, ResponseContent: "已处理"}, wxpay.CaptureResponse(&meta))
	if n := count("/v3/merchant-service/complaints-v2/200201820200101080076610000/response"); n != 1 || meta.Attempts != 1 {
		t.Errorf("RespondToComplaint: the sandbox saw %d requests, the client counts %d; want 1", n, meta.Attempts)
	}
	if err == nil || !strings.Contains(err.Error(), "may have taken effect: query before repeating") {
		t.Errorf("RespondToComplaint after a reset: %v", err)
	}
}

// TestUnverifiableAnswerSaysQueryFirst: an answer that does not verify
// came after WeChat Pay may have acted: the error says so, once, and the
// call is not retried.
func TestUnverifiableAnswerSaysQueryFirst(t *testing.T) {
	k := wxtest.LoadKeys(t)
	var n atomic.Int32
	srv := wxtest.NewServer(t, k, func(*wxtest.Request) wxtest.Reply {
		n.Add(1)
		return wxtest.Reply{Body: `{"code_url":"x"}`, BadSignature: true}
	})
	c := newClient(t, srv, nil)
	err := nativePrepay(c, "UNVERIFIED-1")
	if !errors.Is(err, wxpay.ErrVerification) || n.Load() != 1 {
		t.Fatalf("%v after %d sends", err, n.Load())
	}
	if strings.Count(err.Error(), "may have taken effect: query before repeating") != 1 || strings.Contains(err.Error(), "retrying") {
		t.Errorf("message: %v", err)
	}
	// A query that does not verify changed nothing: no such advice.
	_, err = c.Payments.QueryOrderByOutTradeNo(context.Background(), "UNVERIFIED-1", nil)
	if !errors.Is(err, wxpay.ErrVerification) || strings.Contains(err.Error(), "may have taken effect") {
		t.Errorf("query: %v", err)
	}
}

// TestCheckPublicKeyMode: in public-key mode Check proves the signing
// credentials: the sandbox accepts them (and answers 404: no platform
// certificate), or rejects a merchant id it does not know.
func TestCheckPublicKeyMode(t *testing.T) {
	sb := startTestSandbox(t, sandbox.WithKeyMode(sandbox.PublicKeyMode))
	cfg := sb.Merchant().Config()
	c, err := wxpay.NewClient(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Check(context.Background()); err != nil {
		t.Fatalf("good credentials: %v", err)
	}
	cfg.MchID = "1900000999"
	bad, err := wxpay.NewClient(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	err = bad.Check(context.Background())
	var apiErr *wxpay.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusUnauthorized || strings.Count(err.Error(), "Check") != 1 {
		t.Errorf("an unknown merchant: %v", err)
	}
}

// TestForgedNotificationSerialsBounded: forged notifications, each naming a
// different made-up certificate serial, drive at most a handful of
// certificate downloads per CertificateSerialBackoff, however many arrive.
func TestForgedNotificationSerialsBounded(t *testing.T) {
	sb := startTestSandbox(t, sandbox.WithKeyMode(sandbox.CertificateMode))
	var now atomic.Int64
	now.Store(time.Now().UnixNano())
	clock := func() time.Time { return time.Unix(0, now.Load()) }
	c := certClient(t, sb, func(cfg *wxpay.Config) {
		cfg.Now, cfg.CertificateSerialBackoff, cfg.CertificateRefresh = clock, 10*time.Minute, -1
	})
	if err := nativePrepay(c, "FORGED-1"); err != nil {
		t.Fatal(err)
	}
	parser, err := c.CallbackParser()
	if err != nil {
		t.Fatal(err)
	}
	before := c.Conn().Keys().Status().Downloads
	sig := base64.StdEncoding.EncodeToString(make([]byte, 256))
	for i := 0; i < 100; i++ {
		now.Add(int64(2 * time.Second)) // more than a second apart: 200 s in all
		h := http.Header{}
		h.Set("Wechatpay-Timestamp", strconv.FormatInt(clock().Unix(), 10))
		h.Set("Wechatpay-Nonce", "forged")
		h.Set("Wechatpay-Serial", fmt.Sprintf("%040X", i+1))
		h.Set("Wechatpay-Signature", sig)
		if _, err := parser.Parse(context.Background(), h, []byte(`{"id":"forged"}`)); !errors.Is(err, wxpay.ErrVerification) {
			t.Fatalf("forged notification %d: %v", i, err)
		}
	}
	if got := c.Conn().Keys().Status().Downloads - before; got > 5 {
		t.Errorf("100 forged serials drove %d certificate downloads; want at most 5", got)
	} else {
		t.Logf("100 forged serials drove %d certificate downloads", got)
	}
}

// TestCheckTransitionMode: in transition mode Check downloads the
// certificates, their answer signed with the public key.
func TestCheckTransitionMode(t *testing.T) {
	sb := startTestSandbox(t, sandbox.WithKeyMode(sandbox.TransitionMode))
	c := certClient(t, sb, func(cfg *wxpay.Config) { cfg.KeyMode = wxpay.TransitionMode })
	if err := c.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := c.Conn().Keys().Status(); st.Downloads != 1 || len(st.Keys) < 2 {
		t.Errorf("status after Check: %+v", st)
	}
}
