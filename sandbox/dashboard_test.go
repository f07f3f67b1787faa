package sandbox

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestDashboard renders the page with an order, a refund and a
// notification, and checks what it shows and what it never shows.
func TestDashboard(t *testing.T) {
	rv := newReceiver(t)
	s := newServer(t, WithTimeScale(0.001), WithRefundDelay(-1))
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	m := s.Merchant()
	otn := uniqueNo("DASH")
	r := send(t, s.Handler(), signer{cred: m}, "POST", "/v3/pay/transactions/native", withNotify(nativeBody(m, otn, 250), rv.URL+"/notify"))
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	get := func(path string) string {
		t.Helper()
		resp, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		return string(b)
	}
	page := get("/")
	for _, want := range []string{"wxpay sandbox", m.MchID, otn, "NOTPAY", "¥2.50", `class="pay"`, "data:image/png;base64,", "/sandbox/certificates/rotate", "switch now"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	for _, secret := range []string{"PRIVATE KEY", string(m.APIv3Key)} {
		if strings.Contains(page, secret) {
			t.Errorf("the page shows a secret (%.12s…)", secret)
		}
	}
	if _, err := s.Pay(m.MchID, otn); err != nil {
		t.Fatal(err)
	}
	orn, err := s.RefundFromPlatform("", otn, 0)
	if err != nil {
		t.Fatal(err)
	}
	live := get("/?live=1")
	for _, want := range []string{"SUCCESS", "TRANSACTION.SUCCESS", orn, "PROCESSING", "redeliver"} {
		if !strings.Contains(live, want) {
			t.Errorf("the live part lacks %q", want)
		}
	}
	if strings.Contains(live, "<html") {
		t.Error("the live part is a whole page")
	}
}

func withNotify(b map[string]any, url string) map[string]any {
	b["notify_url"] = url
	return b
}

// TestDashboardTransfersAndShares: transfer bills waiting for the payee
// get confirm buttons; profit-sharing orders are listed.
func TestDashboardTransfersAndShares(t *testing.T) {
	s := newServer(t, WithRefundDelay(-1))
	m := s.Merchant()
	b := seedTransfer(s, m)
	p := seedProfitSharing(s, m)
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/?live=1", nil))
	page := rec.Body.String()
	for _, want := range []string{b.outBillNo, "WAIT_USER_CONFIRM", "payee confirms", "/sandbox/transfers/confirm", p.outOrderNo, "FINISHED", "¥0.10 to 1"} {
		if !strings.Contains(page, want) {
			t.Errorf("the live part lacks %q", want)
		}
	}
}
