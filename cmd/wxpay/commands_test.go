package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gowxpay/wxpay/auth"
	"github.com/gowxpay/wxpay/sandbox"
)

// TestSandboxCommand serves the sandbox on a free port, reads the printed
// URL, calls it with the written credentials, stops it with the context
// (as SIGINT does), and starts it again on the same folder: the merchant
// keeps its identity.
func TestSandboxCommand(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "sbx")
	serve := func(extra ...string) (url string, stop func() result) {
		ctx, cancel := context.WithCancel(context.Background())
		out, errb := &syncBuffer{}, &syncBuffer{}
		done := make(chan int, 1)
		args := append([]string{"sandbox", "--addr", "127.0.0.1:0", "--dir", dir}, extra...)
		go func() { done <- run(ctx, args, out, errb) }()
		stop = func() result {
			cancel()
			code := <-done
			return result{code, out.String(), errb.String()}
		}
		// Wait for the URL line however long the sandbox takes to start
		// on a busy machine: no deadline but the test's own.
		text, code, ok := waitOutput(out, done, "Serving until interrupted")
		if !ok {
			t.Fatalf("the sandbox exited with %d\n%s\n%s", code, text, errb)
		}
		m := regexp.MustCompile(`at (http://127\.0\.0\.1:\d+) `).FindStringSubmatch(text)
		if m == nil {
			stop()
			t.Fatalf("no URL printed\n%s", text)
		}
		return m[1], stop
	}

	url, stop := serve()
	cfgFile := filepath.Join(dir, sandbox.JSONFile)
	var written struct {
		BaseURL string `json:"base_url"`
		MchID   string `json:"mchid"`
		Serial  string `json:"serial_no"`
		PubID   string `json:"public_key_id"`
		APIv3   string `json:"apiv3_key"`
	}
	b, err := os.ReadFile(cfgFile)
	if err == nil {
		err = json.Unmarshal(b, &written)
	}
	if err != nil || written.BaseURL != url {
		stop()
		t.Fatalf("wxpay.json: %v, base_url %q, printed %s", err, written.BaseURL, url)
	}
	r := runCLI(t, "--config", cfgFile, "call", "GET", "/v3/pay/transactions/out-trade-no/NO-SUCH-ORDER?mchid="+written.MchID)
	expect(t, r, 1, "HTTP 404", "ORDER_NOT_EXIST")
	res := stop()
	expect(t, res, 0, "wxpay --config "+cfgFile+" doctor", "curl -X POST "+url+"/sandbox/pay", "stopped")
	if len(written.APIv3) != 32 || strings.Contains(res.stdout+res.stderr, written.APIv3) {
		t.Fatalf("the APIv3 key is printed\n%s", res)
	}
	if r := runCLI(t, "--config", cfgFile, "call", "GET", "/v3/certificates"); r.code == 0 || !strings.Contains(r.stderr, "connection refused") {
		t.Fatalf("the sandbox still answers after it stopped\n%s", r)
	}

	// Restarted on the same folder, in public-key mode: same merchant.
	url2, stop2 := serve("--key-mode", "public-key")
	var again struct {
		BaseURL string `json:"base_url"`
		MchID   string `json:"mchid"`
		Serial  string `json:"serial_no"`
		PubID   string `json:"public_key_id"`
		Certs   []string
	}
	b, _ = os.ReadFile(cfgFile)
	_ = json.Unmarshal(b, &again)
	r = runCLI(t, "--config", cfgFile, "doctor")
	stop2()
	if again.BaseURL != url2 || again.MchID != written.MchID || again.Serial != written.Serial || again.PubID != written.PubID {
		t.Fatalf("the identity changed across restarts: %+v then %+v", written, again)
	}
	expect(t, r, 0, "public-key mode", "signed by the WeChat Pay public key "+written.PubID+", verified", "0 failed")
}

func mustRead(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCertsDownload saves the sandbox's platform certificates, and
// explains that a public-key merchant has none.
func TestCertsDownload(t *testing.T) {
	t.Parallel()
	s := startSandbox(t)
	m := s.Merchant()
	cfg := writeCreds(t, m)
	out := filepath.Join(t.TempDir(), "certs")
	r := runCLI(t, "--config", cfg, "certs", "download", "--out", out)
	serial := auth.SerialNumber(s.PlatformCertificates()[0])
	expect(t, r, 0, "1 platform certificate(s) downloaded, decrypted with the APIv3 key and verified", serial, "VALID UNTIL", "downloading the platform certificates from "+s.URL())
	noSecrets(t, r, m)
	c, err := auth.ParseCertificate(mustRead(t, filepath.Join(out, "wechatpay_"+serial+".pem")))
	if err != nil || !c.Equal(s.PlatformCertificates()[0]) {
		t.Fatalf("the saved certificate: %v", err)
	}

	p := startSandbox(t, sandbox.WithKeyMode(sandbox.PublicKeyMode))
	pcfg := writeCreds(t, p.Merchant())
	expect(t, runCLI(t, "--config", pcfg, "certs", "download", "--out", out), 0, "Nothing to download", "PUB_KEY_ID_")
	expect(t, runCLI(t, "--config", pcfg, "--key-mode", "certificate", "certs", "download", "--out", out), 1, "no platform certificate", "404 RESOURCE_NOT_EXISTS", "--public-key-id")

	// A failed attempt is retried, and the retry shown.
	s.Inject(sandbox.Fault{Target: "ListCertificates", Kind: sandbox.FaultError, Status: 503, Count: 1})
	expect(t, runCLI(t, "--config", cfg, "certs", "download", "--out", out), 0, "Certificates.List, attempt 1: HTTP 503 (retrying", "1 platform certificate(s) downloaded")

	// A wrong APIv3 key says so.
	expect(t, runCLI(t, "--config", cfg, "certs", "download", "--apiv3-key", strings.Repeat("k", 32), "--out", out), 1, "the APIv3 key does not decrypt the certificates", "--apiv3-key is visible")
}

// TestCall makes signed raw calls: a 2xx answer is verified and printed,
// an API error is explained with status 1, a bad body is refused.
func TestCall(t *testing.T) {
	t.Parallel()
	s := startSandbox(t)
	m := s.Merchant()
	cfg := writeCreds(t, m)
	body := `{"appid":"` + m.AppID + `","mchid":"` + m.MchID + `","description":"call","out_trade_no":"CALL-1","notify_url":"https://example.com/notify","amount":{"total":1}}`
	r := runCLI(t, "--config", cfg, "call", "POST", "/v3/pay/transactions/native", "--data", body)
	expect(t, r, 0, "HTTP 200 OK", "Request-ID ", "signature verified (Wechatpay-Serial ")
	var ans map[string]string
	if err := json.Unmarshal([]byte(r.stdout), &ans); err != nil || !strings.HasPrefix(ans["code_url"], "weixin://") || !strings.Contains(r.stdout, "\n  \"code_url\"") {
		t.Fatalf("stdout is not the pretty answer: %v\n%s", err, r)
	}
	noSecrets(t, r, m)

	// From a file, with the headers, --verbose.
	f := filepath.Join(t.TempDir(), "body.json")
	os.WriteFile(f, []byte(strings.Replace(body, "CALL-1", "CALL-2", 1)), 0o600)
	r = runCLI(t, "--config", cfg, "--verbose", "call", "POST", s.URL()+"/v3/pay/transactions/native", "--data", "@"+f, "--include")
	expect(t, r, 0, "Wechatpay-Signature: (", "characters, not shown)", "wxpay request")
	noSecrets(t, r, m)

	r = runCLI(t, "--config", cfg, "call", "GET", "/v3/pay/transactions/out-trade-no/NOPE?mchid="+m.MchID)
	expect(t, r, 1, "HTTP 404 Not Found", "code     ORDER_NOT_EXIST", "message  订单不存在", `"code": "ORDER_NOT_EXIST"`)
	r = runCLI(t, "--config", cfg, "call", "POST", "/v3/pay/transactions/native", "--data", strings.Replace(body, `"total":1`, `"total":"1"`, 1))
	expect(t, r, 1, "HTTP 400", "PARAM_ERROR", "detail   body · /amount/total")
	r = runCLI(t, "--config", cfg, "--cert=", "--serial", "0123456789ABCDEF0123456789ABCDEF01234567", "call", "GET", "/v3/certificates")
	expect(t, r, 1, "401", "SIGN_ERROR", "hint")

	expect(t, runCLI(t, "--config", cfg, "call", "POST", "/v3/x", "--data", "{nope"), 2, "not valid JSON")
	expect(t, runCLI(t, "--config", cfg, "call", "FETCH", "/v3/x"), 2, "not GET, POST")
	expect(t, runCLI(t, "--config", cfg, "call", "GET", "https://example.com/v3/x"), 2, "not on the API host")
}
