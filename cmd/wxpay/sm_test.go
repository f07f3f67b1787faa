package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gowxpay/wxpay/auth"
	"github.com/gowxpay/wxpay/sandbox"
	"github.com/gowxpay/wxpay/sm"
)

// TestDemoSM tells the whole story in 国密 and checks every verdict.
func TestDemoSM(t *testing.T) {
	r := runCLI(t, "demo", "--sm", "--no-qr")
	expect(t, r, 0, append([]string{"国密", "GET /v3/certificates?algorithm_type=SM2  200", "TRANSACTION.SUCCESS", "REFUND.SUCCESS"}, demoLines...)...)
	if r.stderr != "" {
		t.Fatalf("a successful demo writes nothing to stderr\n%s", r)
	}
	r = runCLI(t, "demo", "--sm", "--partner", "--key-mode", "public-key", "--no-qr")
	expect(t, r, 0, append([]string{"Wechatpay-Serial PUB_KEY_ID_02"}, demoLines...)...)
}

// writeSMCreds writes a merchant's 国密 files and returns the flags that
// configure them.
func writeSMCreds(t *testing.T, c sandbox.Credentials) (args []string, dir string) {
	t.Helper()
	dir = filepath.Dir(writeCreds(t, c))
	key := writeFile(t, "sm2_key.pem", c.SM.PrivateKeyPEM)
	cert := writeFile(t, "sm2_cert.pem", c.SM.CertificatePEM)
	pub := writeFile(t, "sm2_pub.pem", c.SM.PublicKeyPEM)
	return []string{"--mchid", c.MchID, "--appid", c.AppID, "--apiv3-key", string(c.APIv3Key), "--base-url", c.BaseURL,
		"--private-key", key, "--cert", cert, "--public-key-id", c.SM.PublicKeyID, "--public-key", pub}, dir
}

// TestDoctorSM: doctor checks 国密 credentials (offline and against the
// sandbox) and reports a mix of RSA and SM2 files clearly.
func TestDoctorSM(t *testing.T) {
	s := startSandbox(t, sandbox.WithSuite(sm.Suite{}))
	m := s.Merchant()
	args, dir := writeSMCreds(t, m)

	r := runCLI(t, append(append([]string{}, args...), "--algorithm", "SM2", "--key-mode", "certificate", "doctor")...)
	expect(t, r, 0, "0 failed", "SM2 (--algorithm): private key SM2, merchant certificate SM2, WeChat Pay public key SM2")
	for _, c := range []string{"algorithm", "private key", "merchant certificate", "certificate serial", "APIv3 key", "WeChat Pay public key", "platform certificates", "request signature", "answer signature"} {
		wantVerdict(t, r, c, "ok")
	}
	// Public-key mode against a merchant that signs with certificates.
	r = runCLI(t, append(append([]string{}, args...), "--algorithm", "SM2", "doctor")...)
	wantVerdict(t, r, "answer signature", "FAIL")
	expect(t, r, 1, "this merchant signs with platform certificates")
	// A merchant that signs with the SM2 public key.
	p := startSandbox(t, sandbox.WithSuite(sm.Suite{}), sandbox.WithKeyMode(sandbox.PublicKeyMode))
	pargs, _ := writeSMCreds(t, p.Merchant())
	r = runCLI(t, append(append([]string{}, pargs...), "--algorithm", "SM2", "doctor")...)
	expect(t, r, 0, "0 failed", "signed by the WeChat Pay public key "+p.Merchant().SM.PublicKeyID+", verified")

	// SM2 files without --algorithm SM2.
	r = runCLI(t, append(append([]string{}, args...), "doctor", "--offline")...)
	wantVerdict(t, r, "algorithm", "FAIL")
	expect(t, r, 1, "configured RSA (the default), but private key is SM2", "--algorithm SM2")
	// An SM2 key with the RSA certificate and public key.
	r = runCLI(t, append(append([]string{}, args...), "--algorithm", "SM2", "--cert", filepath.Join(dir, sandbox.CertificateFile), "--public-key", filepath.Join(dir, sandbox.PublicKeyFile), "--public-key-id", m.PublicKeyID, "doctor", "--offline")...)
	wantVerdict(t, r, "algorithm", "FAIL")
	expect(t, r, 1, "the credentials mix RSA and SM2 (国密): private key SM2, merchant certificate RSA, WeChat Pay public key RSA")
	if strings.Contains(r.stdout, string(m.SM.PrivateKeyPEM[30:80])) {
		t.Fatal("doctor printed the SM2 private key")
	}
}

// TestSandboxCommandSM: `wxpay sandbox --sm` writes 国密 credentials to
// DIR/sm2, and doctor and a raw call work with them.
func TestSandboxCommandSM(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sbx")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, errb := &syncBuffer{}, &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"sandbox", "--addr", "127.0.0.1:0", "--dir", dir, "--sm"}, out, errb)
	}()
	// Stopping and starting are waited for as events, with no deadline but
	// the test's own: a busy machine is slow, not wrong.
	defer func() { cancel(); <-done }()
	if text, code, ok := waitOutput(out, done, "国密", "Serving until interrupted"); !ok {
		t.Fatalf("the sandbox exited with %d before printing its 国密 credentials\n%s\n%s", code, text, errb)
	}
	cfg := filepath.Join(dir, "sm2", sandbox.JSONFile)
	r := runCLI(t, "--config", cfg, "--key-mode", "certificate", "doctor")
	expect(t, r, 0, "0 failed", "SM2 (wxpay.json)")
	r = runCLI(t, "--config", cfg, "--key-mode", "certificate", "call", "GET", "/v3/certificates?algorithm_type=SM2")
	expect(t, r, 0, "AEAD_SM4_GCM")
}

// TestCallbackVerifySM: a 国密 notification (SM2-signed, AEAD_SM4_GCM)
// verifies with --algorithm SM2, with the SM2 public key alone or with the
// merchant's credentials, and an RSA configuration says what is wrong.
func TestCallbackVerifySM(t *testing.T) {
	s := startSandbox(t, sandbox.WithSuite(sm.Suite{}), sandbox.WithKeyMode(sandbox.PublicKeyMode))
	m := s.Merchant()
	n := captureNotification(t, s, m, auth.PublicKeyMode)
	if n.header.Get("Wechatpay-Signature-Type") != auth.SchemeSM2 || !strings.Contains(string(n.body), "AEAD_SM4_GCM") {
		t.Fatalf("not a 国密 notification: %v %s", n.header, n.body)
	}
	headers := writeHeaderLines(t, n.header)
	body := writeFile(t, "body.json", n.body)
	args, dir := writeSMCreds(t, m)
	r := runCLI(t, append(append([]string{}, args...), "--algorithm", "SM2", "callback", "verify", "--headers", headers, "--body", body)...)
	expect(t, r, 0, "ok  the notification is authentic", "TRANSACTION.SUCCESS")
	// The public key alone.
	r = runCLI(t, "--algorithm", "SM2", "--apiv3-key", string(m.APIv3Key), "--public-key-id", m.SM.PublicKeyID, "--public-key", args[len(args)-1],
		"callback", "verify", "--headers", headers, "--body", body)
	expect(t, r, 0, "ok  the notification is authentic")
	// The RSA configuration of the same merchant.
	r = runCLI(t, "--config", filepath.Join(dir, sandbox.JSONFile), "callback", "verify", "--headers", headers, "--body", body)
	expect(t, r, 1, "WECHATPAY2-SM2-WITH-SM3", "Config.Suite")
}

// TestCertsDownloadSM: `wxpay certs download --algorithm SM2` saves the SM2
// platform certificates.
func TestCertsDownloadSM(t *testing.T) {
	s := startSandbox(t, sandbox.WithSuite(sm.Suite{}))
	args, _ := writeSMCreds(t, s.Merchant())
	out := t.TempDir()
	r := runCLI(t, append(append([]string{}, args...), "--algorithm", "SM2", "--key-mode", "certificate", "certs", "download", "--out", out)...)
	expect(t, r, 0, auth.SerialNumber(s.Merchant().SM.PlatformCertificates[0]))
	files, _ := filepath.Glob(filepath.Join(out, "*.pem"))
	if len(files) != 1 {
		t.Fatalf("files %v\n%s", files, r)
	}
}
