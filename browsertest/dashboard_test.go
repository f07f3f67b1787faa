package browsertest

import (
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gowxpay/wxpay"
	"github.com/gowxpay/wxpay/callback"
	"github.com/gowxpay/wxpay/gen/payments"
	"github.com/gowxpay/wxpay/sandbox"
)

// chromium finds Debian's headless Chromium. Without it the test skips
// with a message, unless CI=true, where it fails: CI installs it.
func chromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed; CI must install it (apt-get install -y chromium)")
	}
	t.Skip("chromium not found (apt-get install -y chromium): the browser test is skipped")
	return ""
}

// browser starts headless Chromium with a fresh profile and returns a
// chromedp context for one tab.
func browser(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium(t)),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1400, 1000),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() {
		cancelTimeout()
		cancelCtx()
		cancelAlloc()
	})
	return ctx
}

// notifications collects the events wxpay's callback handler accepted.
type notifications struct {
	mu     sync.Mutex
	events []*callback.Event
	added  chan struct{}
}

func (n *notifications) process(_ context.Context, ev *callback.Event) error {
	n.mu.Lock()
	n.events = append(n.events, ev)
	n.mu.Unlock()
	select {
	case n.added <- struct{}{}:
	default:
	}
	return nil
}

// TestDashboardPay creates an order through the typed client, pays it by
// clicking the dashboard's pay button in a real browser, and sees the
// notification delivered, both on the page and at the merchant's handler.
// UPDATE_SCREENSHOTS=1 writes the screenshots under docs/.
func TestDashboardPay(t *testing.T) {
	ctx := browser(t)
	sb := sandbox.StartTest(t, sandbox.WithTimeScale(0.001), sandbox.WithRefundDelay(-1))
	bg := context.Background()

	got := &notifications{added: make(chan struct{}, 1)}
	cfg := sb.Merchant().Config()
	client, err := wxpay.NewClient(bg, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	h, err := client.CallbackHandler(got.process)
	if err != nil {
		t.Fatal(err)
	}
	rv := httptest.NewServer(h)
	defer rv.Close()

	const otn = "BROWSER-1001"
	order, err := client.Payments.NativePrepay(bg, &payments.NativePrepayInput{
		Description: "Coffee", OutTradeNo: otn, NotifyURL: rv.URL + "/wxpay/notify",
		Amount: payments.Amount{Total: 1800},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(order.CodeURL, "weixin://") {
		t.Fatalf("code_url %q", order.CodeURL)
	}
	// A second, unpaid order and a fault make the page less empty.
	if _, err := client.Payments.NativePrepay(bg, &payments.NativePrepayInput{
		Description: "Tea", OutTradeNo: "BROWSER-1002", NotifyURL: rv.URL + "/wxpay/notify", Amount: payments.Amount{Total: 1200},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := sb.Inject(sandbox.Fault{Target: "notify", Kind: sandbox.FaultLatency, Latency: 50 * time.Millisecond, Count: 1}); err != nil {
		t.Fatal(err)
	}

	row := `tr[data-out-trade-no="` + otn + `"]`
	if err := chromedp.Do(ctx,
		chromedp.Navigate(sb.URL()+"/"),
		chromedp.WaitVisible(chromedp.CSS(row+` button.pay`)),
	); err != nil {
		t.Fatalf("browser: %v", err)
	}
	qr, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(row+` img.qr`), "alt"))
	if err != nil {
		t.Fatal(err)
	}
	if qr.Value != order.CodeURL {
		t.Errorf("the QR code encodes %q, want the order's code_url %q", qr.Value, order.CodeURL)
	}
	before, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(row+` button.pay`)),
		// The page refreshes its live part every second: the order turns
		// SUCCESS and the notification shows DELIVERED.
		chromedp.WaitVisible(chromedp.CSS(row+` .state.SUCCESS`)),
		chromedp.WaitVisible(chromedp.CSS(`#notifications .state.DELIVERED`)),
	); err != nil {
		t.Fatalf("browser: clicking pay: %v", err)
	}
	if st, err := sb.OrderState(cfg.MchID, otn); err != nil || st != "SUCCESS" {
		t.Fatalf("after the click the order is %s (%v)", st, err)
	}
	// The merchant's handler verified and decrypted it.
	select {
	case <-got.added:
	case <-ctx.Done():
		t.Fatal("the merchant's callback handler received no notification")
	}
	got.mu.Lock()
	ev := got.events[0]
	got.mu.Unlock()
	if ev.EventType != "TRANSACTION.SUCCESS" {
		t.Fatalf("event %s", ev.EventType)
	}
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#notifications`)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "TRANSACTION.SUCCESS") || !strings.Contains(text, otn) || !strings.Contains(text, "200") {
		t.Fatalf("the notification log shows %q", text)
	}
	after, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if os.Getenv("UPDATE_SCREENSHOTS") != "" {
		for name, b := range map[string][]byte{"dashboard.png": before, "dashboard-paid.png": after} {
			if err := os.WriteFile(filepath.Join("..", "docs", name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
