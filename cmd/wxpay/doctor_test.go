package main

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gowxpay/wxpay/auth"
	"github.com/gowxpay/wxpay/sandbox"
)

// verdictLine finds the line of a check and returns its verdict.
func verdictLine(t *testing.T, r result, check string) string {
	t.Helper()
	re := regexp.MustCompile(`(?m)^  (ok|warn|FAIL|skip)\s+` + regexp.QuoteMeta(check) + `\s`)
	m := re.FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("no %q check\n%s", check, r)
	}
	return m[1]
}

func wantVerdict(t *testing.T, r result, check, verdict string) {
	t.Helper()
	if got := verdictLine(t, r, check); got != verdict {
		t.Fatalf("%s: %s, want %s\n%s", check, got, verdict, r)
	}
}

// TestDoctorOK: the configurations the sandbox writes pass every check,
// in certificate mode as a direct merchant and in public-key mode as a
// service provider, and doctor prints no secret.
func TestDoctorOK(t *testing.T) {
	t.Parallel()
	s := startSandbox(t)
	m := s.Merchant()
	r := runCLI(t, "--config", writeCreds(t, m), "doctor")
	expect(t, r, 0, "0 failed", "certificate mode")
	for _, c := range []string{"merchant id", "private key", "merchant certificate", "certificate serial", "key mode", "APIv3 key", "WeChat Pay public key", "platform cert files", "appid", "merchant mode", "clock", "platform certificates", "request signature", "answer signature"} {
		wantVerdict(t, r, c, "ok")
	}
	expect(t, r, 0, "1 downloaded, decrypted with the APIv3 key and verified", "answered 404 ORDER_NOT_EXIST")
	noSecrets(t, r, m)

	p := startSandbox(t, sandbox.WithKeyMode(sandbox.PublicKeyMode))
	pc := p.Partner()
	r = runCLI(t, "--config", writeCreds(t, pc), "--verbose", "doctor")
	expect(t, r, 0, "public-key mode", "service provider "+pc.MchID+", sub-merchant "+pc.SubMchID, "signed by the WeChat Pay public key "+pc.PublicKeyID+", verified", "0 failed")
	wantVerdict(t, r, "sp_appid", "ok")
	noSecrets(t, r, pc)

	// Offline, nothing is sent.
	r = runCLI(t, "--config", writeCreds(t, m), "doctor", "--offline")
	expect(t, r, 0, "--offline")
	if strings.Contains(r.stdout, "request signature") {
		t.Fatalf("--offline made a call\n%s", r)
	}
}

// TestDoctorWrongAPIv3Key: in certificate mode the APIv3 key is proven by
// decrypting the platform certificates.
func TestDoctorWrongAPIv3Key(t *testing.T) {
	s := startSandbox(t)
	m := s.Merchant()
	cfg := writeCreds(t, m)
	t.Setenv("WXPAY_APIV3_KEY", "0123456789abcdef0123456789abcdef")
	r := runCLI(t, "--config", cfg, "doctor")
	expect(t, r, 1, "($WXPAY_APIV3_KEY)", "the APIv3 key does not decrypt them: the APIv3 key is wrong", "fix: copy the APIv3 key set in 商户平台", "1 failed")
	wantVerdict(t, r, "platform certificates", "FAIL")
	wantVerdict(t, r, "request signature", "ok")

	t.Setenv("WXPAY_APIV3_KEY", "too-short")
	r = runCLI(t, "--config", cfg, "doctor")
	wantVerdict(t, r, "APIv3 key", "FAIL")
	expect(t, r, 1, "has 9 bytes, not 32", "copy the whole APIv3 key", "not downloaded: fix the failures above first")
}

// TestDoctorKeySerialMismatch: a serial that is not the certificate's is
// caught locally and refused by the server; a certificate of another key
// is caught locally.
func TestDoctorKeySerialMismatch(t *testing.T) {
	t.Parallel()
	s := startSandbox(t)
	m, p := s.Merchant(), s.Partner()
	cfg := writeCreds(t, m)
	r := runCLI(t, "--config", cfg, "doctor", "--serial", p.CertificateSerial)
	wantVerdict(t, r, "certificate serial", "FAIL")
	wantVerdict(t, r, "request signature", "FAIL")
	expect(t, r, 1, p.CertificateSerial+" (--serial) is not the serial of the merchant certificate ("+m.CertificateSerial+")",
		"401 SIGN_ERROR 商户证书序列号有误", "use the serial of apiclient_cert.pem issued with apiclient_key.pem")

	// The partner's certificate with the merchant's key.
	other := filepath.Join(filepath.Dir(writeCreds(t, p)), sandbox.CertificateFile)
	r = runCLI(t, "--config", cfg, "--cert", other, "doctor", "--offline")
	wantVerdict(t, r, "merchant certificate", "FAIL")
	expect(t, r, 1, "serial "+p.CertificateSerial+" does not belong to the private key", "issued together")

	// A PUB_KEY_ID where the serial goes.
	r = runCLI(t, "--config", cfg, "--serial", m.PublicKeyID, "doctor", "--offline")
	expect(t, r, 1, "is the WeChat Pay public key id, not the merchant certificate serial")
}

// TestDoctorSkewedClock: the sandbox's clock-offset fault shifts its Date
// header and signatures and the clock requests are judged by; doctor
// measures the difference and fails.
func TestDoctorSkewedClock(t *testing.T) {
	t.Parallel()
	s := startSandbox(t)
	m := s.Merchant()
	if _, err := s.Inject(sandbox.Fault{Kind: sandbox.FaultClockOffset, ClockOffset: -10 * time.Minute}); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, "--config", writeCreds(t, m), "doctor")
	wantVerdict(t, r, "clock", "FAIL")
	expect(t, r, 1, "ahead of the server's", "NTP", "fix the clock (see clock above)")
	// The sandbox judges request timestamps by its own (offset) clock, as
	// WeChat Pay does: the signed call fails too, never "accepted" under a
	// failed clock.
	wantVerdict(t, r, "request signature", "FAIL")
	if strings.Contains(r.stdout, "request signature accepted") {
		t.Fatalf("a signed call was accepted by a server 10 minutes off\n%s", r)
	}
	if !regexp.MustCompile(`clock is (9m59s|10m0s|10m1s) ahead`).MatchString(r.stdout) {
		t.Fatalf("the skew is not measured\n%s", r)
	}

	s.ClearFaults()
	s.Inject(sandbox.Fault{Kind: sandbox.FaultClockOffset, ClockOffset: 2 * time.Minute})
	r = runCLI(t, "--config", writeCreds(t, m), "doctor")
	wantVerdict(t, r, "clock", "warn")
	if !regexp.MustCompile(`(1m59s|2m0s|2m1s) behind the server's`).MatchString(r.stdout) {
		t.Fatalf("the skew is not measured\n%s", r)
	}
}

// TestDoctorConfusions: the key files users mix up (user pain 2), a
// merchant without platform certificates (3), partner-mode ids (7), and
// missing settings (8), each named with its fix.
func TestDoctorConfusions(t *testing.T) {
	t.Parallel()
	s := startSandbox(t)
	m := s.Merchant()
	cfg := writeCreds(t, m)
	dir := filepath.Dir(cfg)
	platform := filepath.Join(dir, "wechatpay_"+auth.SerialNumber(s.PlatformCertificates()[0])+".pem")

	// The platform certificate given as the merchant certificate.
	r := runCLI(t, "--config", cfg, "--cert", platform, "doctor", "--offline")
	wantVerdict(t, r, "merchant certificate", "FAIL")
	expect(t, r, 1, "platform certificate")
	// The merchant certificate given as the WeChat Pay public key.
	r = runCLI(t, "--config", cfg, "--public-key", filepath.Join(dir, sandbox.CertificateFile), "doctor", "--offline")
	wantVerdict(t, r, "WeChat Pay public key", "FAIL")
	expect(t, r, 1, "not the WeChat Pay public key pub_key.pem")
	// The merchant's own certificate given as a platform certificate.
	r = runCLI(t, "--config", cfg, "--platform-cert", filepath.Join(dir, sandbox.CertificateFile), "doctor", "--offline")
	expect(t, r, 1, "is not a WeChat Pay platform certificate")
	// A certificate serial given as the public key id.
	r = runCLI(t, "--config", cfg, "--public-key-id", m.CertificateSerial, "doctor", "--offline")
	expect(t, r, 1, "is a certificate serial number; the id starts with PUB_KEY_ID_")

	// Certificate mode for a merchant that has only the public key.
	p := startSandbox(t, sandbox.WithKeyMode(sandbox.PublicKeyMode))
	r = runCLI(t, "--config", writeCreds(t, p.Merchant()), "--key-mode", "certificate", "doctor")
	wantVerdict(t, r, "platform certificates", "FAIL")
	expect(t, r, 1, "this merchant has none: GET /v3/certificates answered 404 RESOURCE_NOT_EXISTS", "use public-key mode")
	// A pub_key.pem that is not the key of the PUB_KEY_ID.
	der, err := x509.MarshalPKIXPublicKey(s.Partner().Certificate.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	wrongPub := writeFile(t, "pub_key.pem", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	r = runCLI(t, "--config", writeCreds(t, p.Merchant()), "--public-key", wrongPub, "doctor")
	wantVerdict(t, r, "answer signature", "FAIL")
	expect(t, r, 1, "pub_key.pem is not the key of "+p.Merchant().PublicKeyID)
	// Public-key mode for a merchant that still signs with certificates.
	r = runCLI(t, "--config", cfg, "--key-mode", "public-key", "doctor")
	wantVerdict(t, r, "answer signature", "FAIL")
	expect(t, r, 1, "this merchant signs with platform certificates")

	// Partner-mode ids.
	r = runCLI(t, "--config", cfg, "--sub-mchid", "1900009999", "doctor", "--offline")
	wantVerdict(t, r, "merchant mode", "FAIL")
	expect(t, r, 1, "sub_mchid and sub_appid are for service providers", "--partner")
	pc := s.Partner()
	pcfg := writeCreds(t, pc)
	r = runCLI(t, "--config", pcfg, "--sub-mchid", pc.MchID, "doctor", "--offline")
	expect(t, r, 1, "sub_mchid is the same as mchid")
	r = runCLI(t, "--config", pcfg, "--sub-mchid", "1900009999", "doctor")
	wantVerdict(t, r, "request signature", "FAIL")
	expect(t, r, 1, "check that sub-merchant 1900009999 belongs to service provider "+pc.MchID)

	// Nothing configured at all.
	empty := writeFile(t, "empty.json", []byte(`{"mchid_typo": "1"}`))
	r = runCLI(t, "--config", empty, "doctor", "--offline")
	wantVerdict(t, r, "configuration file", "warn")
	for _, c := range []string{"merchant id", "private key", "certificate serial", "APIv3 key"} {
		wantVerdict(t, r, c, "FAIL")
	}
	wantVerdict(t, r, "appid", "warn")
	expect(t, r, 1, "unknown keys mchid_typo")
	if err := os.WriteFile(empty, []byte("{nope"), 0o600); err != nil {
		t.Fatal(err)
	}
	expect(t, runCLI(t, "--config", empty, "doctor", "--offline"), 1, "is not a JSON object")
}
