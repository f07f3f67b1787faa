package wxpay_test

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gowxpay/wxpay"
	"github.com/gowxpay/wxpay/auth"
	"github.com/gowxpay/wxpay/core"
	"github.com/gowxpay/wxpay/gen/payments"
	"github.com/gowxpay/wxpay/internal/wxtest"
	"github.com/gowxpay/wxpay/sandbox"
)

// TestTransportFloor: plain HTTP to a non-loopback host and HTTP clients
// that skip verification or allow TLS below 1.2 are refused unless the
// loudly named option allows them; loopback (the sandbox) is fine.
func TestTransportFloor(t *testing.T) {
	k := wxtest.LoadKeys(t)
	insecure := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	tls10 := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{MinVersion: tls.VersionTLS10}}}
	for _, tc := range []struct {
		name  string
		edit  func(*wxpay.Config)
		field string
	}{
		{"http", func(c *wxpay.Config) { c.BaseURL = "http://api.mch.weixin.qq.com" }, "BaseURL"},
		{"http backup", func(c *wxpay.Config) {
			c.BaseURL, c.BackupURL, c.Failover = "https://api.example", "http://api2.example", true
		}, "BackupURL"},
		{"skip verify", func(c *wxpay.Config) { c.BaseURL, c.HTTPClient = "https://api.mch.weixin.qq.com", insecure }, "HTTPClient"},
		{"tls 1.0", func(c *wxpay.Config) { c.BaseURL, c.HTTPClient = "https://api.mch.weixin.qq.com", tls10 }, "HTTPClient"},
	} {
		cfg := k.Config("")
		tc.edit(&cfg)
		_, err := wxpay.NewClient(context.Background(), cfg)
		var ce *wxpay.ConfigError
		if !errors.As(err, &ce) || ce.Field != tc.field {
			t.Errorf("%s: want a ConfigError on %s, got %v", tc.name, tc.field, err)
		}
		cfg.DangerouslyAllowInsecureTransport = true
		c, err := wxpay.NewClient(context.Background(), cfg)
		if err != nil {
			t.Errorf("%s with DangerouslyAllowInsecureTransport: %v", tc.name, err)
		} else {
			c.Close()
		}
	}
	for _, u := range []string{"http://127.0.0.1:1", "http://[::1]:1", "http://localhost:1"} {
		c, err := wxpay.NewClient(context.Background(), k.Config(u))
		if err != nil {
			t.Errorf("%s: %v", u, err)
		} else {
			c.Close()
		}
	}
}

// TestNoRedirects: a redirect is the answer, never followed, so the signed
// request and its Authorization go nowhere else.
func TestNoRedirects(t *testing.T) {
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
	}))
	defer other.Close()
	k := wxtest.LoadKeys(t)
	srv := wxtest.NewServer(t, k, func(*wxtest.Request) wxtest.Reply {
		return wxtest.Reply{Status: http.StatusTemporaryRedirect, Unsigned: true, Header: map[string]string{"Location": other.URL + "/v3/pay/transactions/native"}}
	})
	c := newClient(t, srv, nil)
	err := nativePrepay(c, "REDIR-1")
	var apiErr *wxpay.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusTemporaryRedirect {
		t.Errorf("got %v", err)
	}
	if elsewhere.Load() != 0 {
		t.Error("the redirect was followed")
	}
}

// newConns makes calls in rounds of workers concurrent calls (bursts, as
// a web server's requests arrive), or, with rounds false, from workers
// goroutines calling in a loop, and returns how many calls opened a new
// connection.
func newConns(t *testing.T, c *wxpay.Client, workers, calls int, rounds bool) int {
	var fresh atomic.Int32
	ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
		GotConn: func(i httptrace.GotConnInfo) {
			if !i.Reused {
				fresh.Add(1)
			}
		},
	})
	call := func() {
		if _, err := c.Payments.QueryOrderByOutTradeNo(ctx, "REUSE-1", nil); err != nil {
			t.Error(err)
		}
	}
	var wg sync.WaitGroup
	if rounds {
		for r := 0; r < calls/workers; r++ {
			for w := 0; w < workers; w++ {
				wg.Add(1)
				go func() { defer wg.Done(); call() }()
			}
			wg.Wait()
		}
		return int(fresh.Load())
	}
	var next atomic.Int32
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for int(next.Add(1)) <= calls {
				call()
			}
		}()
	}
	wg.Wait()
	return int(fresh.Load())
}

// TestConnectionReuseUnderLoad: the default transport keeps enough idle
// connections for concurrent calls to one host to reuse them; net/http's
// default transport keeps two and opens new ones all the time.
func TestConnectionReuseUnderLoad(t *testing.T) {
	const workers, calls = 16, 240
	sb := startTestSandbox(t)
	cfg := sb.Merchant().Config()
	cfg.NotifyURL = "http://127.0.0.1:9/notify"
	mk := func(hc *http.Client) *wxpay.Client {
		cfg := cfg
		cfg.HTTPClient = hc
		c, err := wxpay.NewClient(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	c := mk(nil)
	if _, err := c.Payments.NativePrepay(context.Background(), &payments.NativePrepayInput{Description: "d", OutTradeNo: "REUSE-1", Amount: payments.Amount{Total: 1}}); err != nil {
		t.Fatal(err)
	}
	// Like WeChat Pay, the sandbox now takes a while to answer, so that
	// the workers' calls overlap.
	if _, err := sb.Inject(sandbox.Fault{Kind: sandbox.FaultLatency, Latency: 20 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	old := mk(&http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()})
	for _, rounds := range []bool{false, true} {
		how := "from 16 goroutines calling in a loop"
		if rounds {
			how = "in bursts of 16 concurrent calls"
		}
		before := newConns(t, old, workers, calls, rounds)
		after := newConns(t, c, workers, calls, rounds)
		t.Logf("%d calls %s: a new connection for %d (%.1f%%) with net/http's default transport, %d (%.1f%%) with the client's",
			calls, how, before, pct(before, calls), after, pct(after, calls))
		if after > 2*workers {
			t.Errorf("the client's transport opened %d connections for %d concurrent callers", after, workers)
		}
	}
}

// TestCloseReleasesConnections: Close closes the idle connections of the
// client's own transport. The server counts the connections it holds, so
// the test waits on its events rather than on other tests' goroutines.
func TestCloseReleasesConnections(t *testing.T) {
	k := wxtest.LoadKeys(t)
	srv := wxtest.NewServer(t, k, ok(`{"code_url":"x"}`))
	cfg := k.Config(srv.URL)
	c, err := wxpay.NewClient(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := nativePrepay(c, "CLOSE-1"); err != nil {
		t.Fatal(err)
	}
	if n := srv.Conns(); n != 1 {
		t.Fatalf("the server holds %d connections after one call, want 1 (kept alive)", n)
	}
	c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if !srv.WaitConns(ctx, 0) {
		t.Fatalf("%d connections still open after Close", srv.Conns())
	}
	if err := nativePrepay(c, "CLOSE-2"); !errors.Is(err, wxpay.ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
}

func pct(n, of int) float64 { return 100 * float64(n) / float64(of) }

// TestAttemptTimeoutRetried: the per-attempt timeout of the verifying
// transport ends a stalled attempt; a request safe to repeat is sent
// again, one that is not (and was sent whole) is not, and says so.
func TestAttemptTimeoutRetried(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // the whole request arrives
		if n.Add(1) == 1 {
			<-r.Context().Done() // stalls until the client gives up
			return
		}
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Wechatpay-Timestamp", strconv.FormatInt(time.Now().Unix(), 10))
		h.Set("Wechatpay-Nonce", "n")
		h.Set("Wechatpay-Serial", "S")
		h.Set("Wechatpay-Signature", "c2ln")
		w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	verifier := auth.VerifierFunc(func(context.Context, string, []byte, string) error { return nil })
	k := wxtest.LoadKeys(t)
	signer, err := auth.NewRequestSigner(k.MchID, k.MerchantSerial, auth.RSASigner{Key: k.MerchantKey})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := core.NewConn(core.Options{
		BaseURL:    srv.URL,
		HTTPClient: &http.Client{Transport: &auth.Transport{Verifier: verifier, Timeout: 50 * time.Millisecond}},
		Authorizer: signer,
		Sleep:      func(context.Context, time.Duration) error { return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	safe := &core.Operation{ID: "Safe", Method: "POST", Path: "/v3/x", ResendSafe: true}
	unsafe := &core.Operation{ID: "Unsafe", Method: "POST", Path: "/v3/y"}
	var meta core.ResponseMeta
	_, err = conn.RawOp(context.Background(), safe, "/v3/x", []byte(`{}`), core.CaptureResponse(&meta))
	if n.Load() != 2 || meta.Attempts != 2 {
		t.Errorf("safe: %v after %d sends (%d counted)", err, n.Load(), meta.Attempts)
	}
	n.Store(0)
	_, err = conn.RawOp(context.Background(), unsafe, "/v3/y", []byte(`{}`))
	if n.Load() != 1 || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "may have taken effect") {
		t.Errorf("unsafe: %v after %d sends", err, n.Load())
	}
}
