package sandbox

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gowxpay/wxpay/auth"
)

func ctl(t *testing.T, base, method, path string, v any) (int, map[string]any, []byte) {
	t.Helper()
	var body []byte
	if v != nil {
		body, _ = json.Marshal(v)
	}
	req, _ := http.NewRequest(method, base+path, bytes.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var raw bytes.Buffer
	_, _ = raw.ReadFrom(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(raw.Bytes(), &m)
	return resp.StatusCode, m, raw.Bytes()
}

func TestControlAPI(t *testing.T) {
	t.Parallel()
	rv := newReceiver(t, 500)
	spec, _ := testSpec()
	s := StartTest(t, WithSpec(spec), WithKeys(testKeys()...), WithRefundDelay(-1), WithTimeScale(1000), WithNotifyClient(loopbackClient))
	base := s.URL()
	m := s.Merchant()
	if m.BaseURL != base {
		t.Fatalf("BaseURL %q", m.BaseURL)
	}

	code, creds, raw := ctl(t, base, "GET", "/sandbox/credentials", nil)
	if code != 200 {
		t.Fatalf("%d %s", code, raw)
	}

	// 电商收付通: the audit ends at /sandbox/ecommerce/settle; a paid order
	// of a second-level merchant is pending in its balance.
	a := seedApplyment(s, s.Partner())
	if code, _, raw := ctl(t, base, "POST", "/sandbox/ecommerce/settle", nil); code != 204 {
		t.Fatalf("settle: %d %s", code, raw)
	}
	s.mu.Lock()
	state, sub := a.state, a.subMchID
	s.mu.Unlock()
	if state != "FINISH" || sub == "" {
		t.Fatalf("after settle: %s %q", state, sub)
	}
	o := seedOrder(s, s.Partner(), StateSuccess)
	if code, out, raw := ctl(t, base, "GET", "/sandbox/ecommerce/balance?sub_mchid="+o.subMchID, nil); code != 200 || out["pending_amount"] != float64(o.total) || out["available_amount"] != float64(0) {
		t.Fatalf("balance: %d %s", code, raw)
	}
	if code, _, _ := ctl(t, base, "GET", "/sandbox/ecommerce/balance", nil); code != 400 {
		t.Fatalf("balance without sub_mchid: %d", code)
	}
	first := creds["merchants"].([]any)[0].(map[string]any)
	key, err := auth.ParsePrivateKey([]byte(first["private_key_pem"].(string)))
	if err != nil || !key.Equal(m.PrivateKey) || first["apiv3_key"] != string(m.APIv3Key) || first["serial_no"] != m.CertificateSerial {
		t.Fatalf("credentials %v %v", first["mchid"], err)
	}
	if p := creds["partners"].([]any)[0].(map[string]any); p["sub_mchid"] != s.Partner().SubMchID {
		t.Fatalf("partner %v", p)
	}

	otn := uniqueNo("CT")
	b := nativeBody(m, otn, 10)
	b["notify_url"] = rv.URL
	send(t, s.Handler(), signer{cred: m}, "POST", "/v3/pay/transactions/native", b)
	code, out, raw := ctl(t, base, "POST", "/sandbox/pay", map[string]string{"out_trade_no": otn})
	if code != 200 || out["transaction_id"] == "" {
		t.Fatalf("pay: %d %s", code, raw)
	}
	if code, _, _ := ctl(t, base, "POST", "/sandbox/pay", map[string]string{"out_trade_no": otn}); code != 400 {
		t.Fatalf("paid twice: %d", code)
	}
	if code, _, _ := ctl(t, base, "POST", "/sandbox/pay", map[string]string{"out_trade_no": "NOPE"}); code != 404 {
		t.Fatalf("unknown order: %d", code)
	}

	// The first notification attempt got 500; the next is hours away at
	// this scale: list it and redeliver.
	var list []Delivery
	for { // until the attempt is recorded; the test's -timeout bounds it
		_, _, raw = ctl(t, base, "GET", "/sandbox/notifications", nil)
		_ = json.Unmarshal(raw, &list)
		if len(list) == 1 && len(list[0].Attempts) == 1 || len(list) == 1 && list[0].Status != DeliveryPending {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if len(list) != 1 || list[0].Status != DeliveryPending || list[0].Attempts[0].StatusCode != 500 {
		t.Fatalf("notifications %s", raw)
	}
	code, out, raw = ctl(t, base, "POST", "/sandbox/notifications/"+list[0].ID+"/redeliver", nil)
	if code != 200 || out["status_code"] != 200.0 {
		t.Fatalf("redeliver: %d %s", code, raw)
	}
	if d := s.Deliveries()[0]; d.Status != DeliveryDelivered {
		t.Fatalf("after redelivery: %s", d.Status)
	}

	orn := uniqueNo("RF")
	send(t, s.Handler(), signer{cred: m}, "POST", "/v3/refund/domestic/refunds", refundBody(otn, orn, 5, 10))
	if code, _, raw := ctl(t, base, "POST", "/sandbox/refunds/outcome", map[string]string{"out_refund_no": orn, "status": "ABNORMAL"}); code != 204 {
		t.Fatalf("outcome: %d %s", code, raw)
	}
	if st, _ := s.RefundState(orn); st != RefundAbnormal {
		t.Fatalf("refund %s", st)
	}

	code, out, _ = ctl(t, base, "POST", "/sandbox/faults", map[string]any{"target": "ListCertificates", "kind": "latency", "latency": "30ms", "count": 1})
	if code != 200 || !strings.HasPrefix(out["id"].(string), "fault-") {
		t.Fatalf("inject: %d %v", code, out)
	}
	if f := s.Faults(); len(f) != 1 || f[0].Latency != 30*time.Millisecond {
		t.Fatalf("faults %+v", f)
	}
	if code, _, _ := ctl(t, base, "DELETE", "/sandbox/faults/"+out["id"].(string), nil); code != 204 {
		t.Fatalf("clear: %d", code)
	}
	if code, _, _ := ctl(t, base, "POST", "/sandbox/faults", map[string]any{"kind": "latency", "latency": "soon"}); code != 400 {
		t.Fatalf("bad latency: %d", code)
	}
	ctl(t, base, "POST", "/sandbox/faults", map[string]any{"kind": "no_signature"})
	if code, _, _ := ctl(t, base, "DELETE", "/sandbox/faults", nil); code != 204 || len(s.Faults()) != 0 {
		t.Fatal("clear all")
	}

	code, out, _ = ctl(t, base, "POST", "/sandbox/certificates/rotate", nil)
	serial, _ := out["serial_no"].(string)
	if code != 200 || len(s.PlatformCertificates()) != 2 || auth.SerialNumber(s.PlatformCertificates()[1]) != serial {
		t.Fatalf("rotate: %d %v", code, out)
	}
	if code, _, _ := ctl(t, base, "POST", "/sandbox/certificates/"+serial+"/expire", nil); code != 204 {
		t.Fatalf("expire: %d", code)
	}
	if code, out, _ = ctl(t, base, "POST", "/sandbox/mode", map[string]string{"mode": "public_key"}); code != 200 || s.KeyMode() != PublicKeyMode {
		t.Fatalf("mode: %d %v", code, out)
	}
	if _, out, _ = ctl(t, base, "GET", "/sandbox/mode", nil); out["mode"] != "public_key" {
		t.Fatalf("mode %v", out)
	}
	if code, _, _ := ctl(t, base, "POST", "/sandbox/mode", map[string]string{"mode": "nope"}); code != 400 {
		t.Fatalf("bad mode: %d", code)
	}
	if code, _, _ := ctl(t, base, "GET", "/sandbox/", nil); code != 200 {
		t.Fatalf("index: %d", code)
	}
}

func TestCredentialsWriteDir(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	dir := filepath.Join(t.TempDir(), "creds")
	p := s.Partner()
	if err := p.WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	key, err := auth.LoadPrivateKey(filepath.Join(dir, PrivateKeyFile))
	if err != nil || !key.Equal(p.PrivateKey) {
		t.Fatalf("key: %v", err)
	}
	certPEM, _ := os.ReadFile(filepath.Join(dir, CertificateFile))
	if c := platformCertByPEM(t, certPEM); auth.SerialNumber(c) != p.CertificateSerial {
		t.Fatal("certificate serial")
	}
	pubPEM, _ := os.ReadFile(filepath.Join(dir, PublicKeyFile))
	if pub, err := auth.ParsePublicKey(pubPEM); err != nil || !pub.Equal(p.PublicKey) {
		t.Fatalf("public key: %v", err)
	}
	var f credentialsFile
	js, _ := os.ReadFile(filepath.Join(dir, JSONFile))
	if err := json.Unmarshal(js, &f); err != nil || f.MchID != p.MchID || f.SubMchID != p.SubMchID || f.APIv3Key != string(p.APIv3Key) ||
		f.PublicKeyID != p.PublicKeyID || f.AppID != p.AppID || f.SerialNo != p.CertificateSerial || !f.PartnerMode || f.PrivateKeyPEM != "" {
		t.Fatalf("json: %s", js)
	}
	env, _ := os.ReadFile(filepath.Join(dir, EnvFile))
	for _, want := range []string{"WXPAY_MCHID=" + p.MchID, "WXPAY_SUB_MCHID=" + p.SubMchID, "WXPAY_APIV3_KEY=" + string(p.APIv3Key), "WXPAY_PUBLIC_KEY_ID=" + p.PublicKeyID} {
		if !strings.Contains(string(env), want+"\n") {
			t.Fatalf("env lacks %s:\n%s", want, env)
		}
	}
	if st, _ := os.Stat(filepath.Join(dir, PrivateKeyFile)); runtime.GOOS != "windows" && st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v", st.Mode())
	}
	if len(p.PlatformCertificates) == 0 {
		t.Fatal("no platform certificates")
	}
	for _, c := range p.PlatformCertificates {
		if _, err := os.Stat(filepath.Join(dir, "wechatpay_"+auth.SerialNumber(c)+".pem")); err != nil {
			t.Fatal(err)
		}
	}
}

func TestGivenMerchants(t *testing.T) {
	t.Parallel()
	keys := testKeys()
	m := Merchant{MchID: "1230000109", AppID: "wxd678efh567hg6787", PrivateKey: keys[5], APIv3Key: []byte("0123456789abcdef0123456789abcdef")}
	p := Merchant{MchID: "1900000100", SubMerchants: []SubMerchant{{MchID: "1900000109"}, {MchID: "1900000110", AppID: "wxsub"}}}
	s := newServer(t, WithMerchant(m), WithPartner(p))
	if got := s.Merchant(); got.MchID != m.MchID || !got.PrivateKey.Equal(keys[5]) || string(got.APIv3Key) != string(m.APIv3Key) {
		t.Fatalf("merchant %+v", got.MchID)
	}
	if got := s.Partner(); got.MchID != p.MchID || got.SubMchID != "1900000109" {
		t.Fatalf("partner %+v", got)
	}
	if _, ok := s.Credentials("1900000100"); !ok {
		t.Fatal("Credentials")
	}
	r := send(t, s.Handler(), signer{cred: s.Merchant()}, "POST", "/v3/pay/transactions/native", nativeBody(s.Merchant(), uniqueNo("G"), 1))
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	spec, _ := testSpec()
	for _, bad := range [][]Option{
		{WithMerchant(Merchant{APIv3Key: []byte("short")})},
		{WithMerchant(Merchant{MchID: "1"}), WithMerchant(Merchant{MchID: "1"})},
		{WithPartner(Merchant{SubMerchants: []SubMerchant{{MchID: "2"}}}), WithMerchant(Merchant{MchID: "2"})},
		{WithTimeScale(-1)},
		{WithPublicKey("KEY_1", keys[0])},
	} {
		if _, err := New(append([]Option{WithSpec(spec), WithKeys(keys...)}, bad...)...); err == nil {
			t.Errorf("accepted %d bad options", len(bad))
		}
	}
}

// TestCloseStopsGoroutines: pending notification retries, refund timers
// and the listener all end with Close.
func TestCloseStopsGoroutines(t *testing.T) {
	rv := newReceiver(t, 500)
	spec, _ := testSpec()
	before := runtime.NumGoroutine()
	s, err := New(WithSpec(spec), WithKeys(testKeys()...), WithNotifyClient(loopbackClient), WithRefundDelay(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Start(); err != nil {
		t.Fatal(err)
	}
	m := s.Merchant()
	for i := 0; i < 5; i++ {
		otn := uniqueNo("CL")
		b := nativeBody(m, otn, 10)
		b["notify_url"] = rv.URL
		send(t, s.Handler(), signer{cred: m}, "POST", "/v3/pay/transactions/native", b)
		_, _ = s.Pay(m.MchID, otn)
		send(t, s.Handler(), signer{cred: m}, "POST", "/v3/refund/domestic/refunds", refundBody(otn, uniqueNo("RF"), 1, 10))
	}
	if runtime.NumGoroutine() <= before+5 {
		t.Fatalf("expected pending goroutines, have %d (before %d)", runtime.NumGoroutine(), before)
	}
	done := make(chan error)
	go func() { done <- s.Close() }()
	if err := <-done; err != nil { // a hanging Close hits the test's -timeout
		t.Fatal(err)
	}
	loopbackClient.CloseIdleConnections()
	// Goroutines end asynchronously after Close (keep-alive connections):
	// a bounded number of scheduler turns, not a wall-clock deadline.
	for i := 0; i < 2000 && runtime.NumGoroutine() > before; i++ {
		time.Sleep(time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines left (before %d):\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
	if err := s.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
	if _, err := s.Start(); err == nil {
		t.Fatal("started after Close")
	}
}
