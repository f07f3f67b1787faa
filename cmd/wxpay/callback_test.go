package main

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gowxpay/wxpay"
	"github.com/gowxpay/wxpay/auth"
	"github.com/gowxpay/wxpay/callback/callbacktest"
	"github.com/gowxpay/wxpay/gen/payments"
	"github.com/gowxpay/wxpay/sandbox"
)

// captured is a notification as a notify_url received it.
type captured struct {
	header http.Header
	body   []byte
}

// captureNotification has the sandbox pay an order and returns the
// TRANSACTION.SUCCESS notification it posted.
func captureNotification(t *testing.T, s *sandbox.Server, m sandbox.Credentials, mode auth.KeyMode) captured {
	t.Helper()
	got := make(chan captured, 4)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- captured{r.Header.Clone(), b}
	}))
	t.Cleanup(hook.Close)
	cfg, err := credentialsConfig(m, mode)
	if err != nil {
		t.Fatal(err)
	}
	cfg.NotifyURL = hook.URL + "/notify"
	cfg.CertificateRefresh = -1
	ctx := context.Background()
	cl, err := wxpay.NewClient(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if _, err := cl.Payments.NativePrepay(ctx, &payments.NativePrepayInput{Description: "cb", OutTradeNo: "CB-1", Amount: payments.Amount{Total: 12}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pay(m.MchID, "CB-1"); err != nil {
		t.Fatal(err)
	}
	return <-got // however long delivery takes: the test's -timeout bounds it
}

// writeHeaderLines writes a header as "Name: value" lines, the way it is
// logged, behind a request line.
func writeHeaderLines(t *testing.T, h http.Header) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("POST /notify HTTP/1.1\r\n")
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range h[k] {
			fmt.Fprintf(&b, "%s: %s\r\n", k, v)
		}
	}
	return writeFile(t, "headers.txt", []byte(b.String()))
}

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCallbackVerify checks a notification captured from the sandbox
// (verified offline with the platform certificate files its wxpay.json
// lists), and says precisely why tampered ones fail.
func TestCallbackVerify(t *testing.T) {
	t.Parallel()
	s := startSandbox(t)
	m := s.Merchant()
	cfg := writeCreds(t, m)
	n := captureNotification(t, s, m, auth.CertificateMode)
	headers := writeHeaderLines(t, n.header)
	body := writeFile(t, "body.json", n.body)
	verify := func(args ...string) result {
		return runCLI(t, append([]string{"--config", cfg, "callback", "verify"}, args...)...)
	}

	r := verify("--headers", headers, "--body", body)
	expect(t, r, 0, "ok  the notification is authentic", "event        TRANSACTION.SUCCESS", "summary      支付成功", "(a platform certificate)", "decoded as *payments.Transaction", `"out_trade_no": "CB-1"`)
	noSecrets(t, r, m)

	// Headers as JSON, and a body file with a final line break added.
	hj, _ := json.Marshal(n.header)
	r = verify("--headers", writeFile(t, "h.json", hj), "--body", writeFile(t, "b.json", append(n.body, '\n')))
	expect(t, r, 0, "ok  the notification is authentic", "ends with a line break")

	// The body re-encoded by a framework.
	var v any
	json.Unmarshal(n.body, &v)
	pretty, _ := json.MarshalIndent(v, "", "  ")
	expect(t, verify("--headers", headers, "--body", writeFile(t, "pretty.json", pretty)), 1,
		"FAIL  the notification does not pass the signature step", "not written the way WeChat Pay writes notifications", "whitespace", "capture the raw request body")

	// A wrong APIv3 key.
	expect(t, verify("--headers", headers, "--body", body, "--apiv3-key", strings.Repeat("x", 32)), 1,
		"does not pass the decrypt step", "the APIv3 key does not match", "APIv3密钥")

	// A missing header.
	h := n.header.Clone()
	h.Del("Wechatpay-Signature")
	expect(t, verify("--headers", writeHeaderLines(t, h), "--body", body), 1, "Wechatpay-Signature header is missing", "capture all of the request's headers")

	// A signature probe.
	h = n.header.Clone()
	h.Set("Wechatpay-Signature", sandbox.SignTestPrefix+h.Get("Wechatpay-Signature"))
	expect(t, verify("--headers", writeHeaderLines(t, h), "--body", body), 1, "signature probe")

	// A platform key that is not given: no certificate files, and no
	// credentials to download them.
	r = runCLI(t, "callback", "verify", "--headers", headers, "--body", body, "--apiv3-key", string(m.APIv3Key))
	expect(t, r, 1, "unknown platform key", "not among the given certificates", "--platform-cert")
	// … with the certificate file given as a flag instead.
	certs := t.TempDir()
	expect(t, runCLI(t, "--config", cfg, "certs", "download", "--out", certs), 0)
	expect(t, runCLI(t, "callback", "verify", "--headers", headers, "--body", body, "--apiv3-key", string(m.APIv3Key), "--platform-cert", certs), 0, "authentic")
	// … or downloaded with the merchant's credentials when no file has it.
	expect(t, runCLI(t, "--config", cfg, "--platform-cert", t.TempDir(), "callback", "verify", "--headers", headers, "--body", body), 0, "authentic")
}

// TestCallbackVerifyAge: a notification signed more than five minutes ago
// is refused (with the way out), and checked with --ignore-age; public-key
// notifications verify with the key alone.
func TestCallbackVerifyAge(t *testing.T) {
	p := callbacktest.New()
	p.Now = func() time.Time { return time.Now().Add(-time.Hour) }
	d, err := p.Notification(callbacktest.Notification{
		EventType: "TRANSACTION.SUCCESS",
		Resource:  map[string]any{"out_trade_no": "OLD-1", "trade_state": "SUCCESS", "amount": map[string]any{"total": 1}},
	})
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&p.Key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pub := writeFile(t, "pub_key.pem", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	headers := writeHeaderLines(t, d.Header)
	body := writeFile(t, "body.json", d.Body)
	args := []string{"callback", "verify", "--headers", headers, "--body", body, "--public-key-id", p.Serial, "--public-key", pub}
	t.Setenv("WXPAY_APIV3_KEY", string(p.APIv3Key))
	expect(t, runCLI(t, args...), 1, "does not pass the signature step", "Wechatpay-Timestamp", "--ignore-age")
	r := runCLI(t, append(args, "--ignore-age")...)
	expect(t, r, 0, "authentic", "(the WeChat Pay public key)", "timestamp check skipped", `"out_trade_no": "OLD-1"`)
	if strings.Contains(r.stdout+r.stderr, callbacktest.DefaultAPIv3Key) {
		t.Fatal("the APIv3 key is printed")
	}
}
