package sandbox

import (
	"crypto/rsa"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gowxpay/wxpay/auth"
)

// decryptCertificates lists /v3/certificates and decrypts each with the
// APIv3 key; it returns them by serial.
func decryptCertificates(t *testing.T, s *Server, c Credentials) (map[string]string, result) {
	t.Helper()
	r := send(t, s.Handler(), signer{cred: c}, "GET", "/v3/certificates", nil)
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	out := map[string]string{}
	for _, x := range r.json(t)["data"].([]any) {
		e := x.(map[string]any)
		enc := e["encrypt_certificate"].(map[string]any)
		if enc["algorithm"] != auth.AlgorithmAESGCM || enc["associated_data"] != "certificate" || len(enc["nonce"].(string)) != 12 {
			t.Fatalf("encrypt_certificate %v", enc)
		}
		plain, err := auth.DecryptAESGCM(c.APIv3Key, enc["nonce"].(string), "certificate", enc["ciphertext"].(string))
		if err != nil {
			t.Fatal(err)
		}
		cert := platformCertByPEM(t, plain)
		serial := e["serial_no"].(string)
		if auth.SerialNumber(cert) != serial || !regexp.MustCompile(`^[0-9A-F]{40}$`).MatchString(serial) {
			t.Fatalf("serial %s, certificate %s", serial, auth.SerialNumber(cert))
		}
		for _, f := range []string{"effective_time", "expire_time"} {
			if _, err := time.Parse(time.RFC3339, e[f].(string)); err != nil || !strings.HasSuffix(e[f].(string), "+08:00") {
				t.Fatalf("%s %v", f, e[f])
			}
		}
		out[serial] = string(plain)
	}
	return out, r
}

func TestCertificates(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	for _, c := range []Credentials{s.Merchant(), s.Partner()} {
		certs, r := decryptCertificates(t, s, c)
		if len(certs) != 1 {
			t.Fatalf("%d certificates", len(certs))
		}
		// The answer verifies with the certificate it carries.
		pemText, ok := certs[r.header.Get("Wechatpay-Serial")]
		if !ok {
			t.Fatalf("answer signed by %s, not a listed certificate", r.header.Get("Wechatpay-Serial"))
		}
		cert := platformCertByPEM(t, []byte(pemText))
		// Named as WeChat Pay's are.
		if cert.Subject.CommonName != "Tenpay.com sign" || cert.Issuer.CommonName != "Tenpay.com Root CA" || cert.Issuer.Organization[0] != "Tenpay.com" {
			t.Errorf("subject %q, issuer %q", cert.Subject, cert.Issuer)
		}
		ts, nonce := r.header.Get("Wechatpay-Timestamp"), r.header.Get("Wechatpay-Nonce")
		sig := r.header.Get("Wechatpay-Signature")
		if err := verifyWith(cert.PublicKey.(*rsa.PublicKey), ts, nonce, sig, r.body); err != nil {
			t.Fatal(err)
		}
		// Another merchant's key cannot open them.
		enc := r.json(t)["data"].([]any)[0].(map[string]any)["encrypt_certificate"].(map[string]any)
		if _, err := auth.DecryptAESGCM([]byte(strings.Repeat("k", 32)), enc["nonce"].(string), "certificate", enc["ciphertext"].(string)); err == nil {
			t.Fatal("decrypted with the wrong key")
		}
	}
	r := send(t, s.Handler(), signer{cred: s.Merchant()}, "GET", "/v3/certificates?algorithm_type=SM2", nil)
	if r.status != 200 || len(r.json(t)["data"].([]any)) != 0 {
		t.Fatalf("SM2: %d %s", r.status, r.body)
	}
}

func verifyWith(pub *rsa.PublicKey, ts, nonce, sig string, body []byte) error {
	raw, err := decodeB64(sig)
	if err != nil {
		return err
	}
	return auth.VerifyRSA(pub, auth.ResponseMessage(ts, nonce, body), raw)
}

func TestPublicKeyMode(t *testing.T) {
	t.Parallel()
	s := newServer(t, WithKeyMode(PublicKeyMode))
	m := s.Merchant()
	r := send(t, s.Handler(), signer{cred: m}, "GET", "/v3/certificates", nil)
	if r.status != 404 || r.code() != "RESOURCE_NOT_EXISTS" || !strings.Contains(string(r.body), "微信支付公钥") {
		t.Fatalf("%d %s", r.status, r.body)
	}
	id, _ := s.PublicKey()
	if r.header.Get("Wechatpay-Serial") != id || !auth.IsPublicKeyID(id) {
		t.Fatalf("signed by %q", r.header.Get("Wechatpay-Serial"))
	}
	verify(t, s, r.header, r.body)
	r = send(t, s.Handler(), signer{cred: m}, "POST", "/v3/pay/transactions/native", nativeBody(m, uniqueNo("PK"), 1))
	if r.status != 200 || r.header.Get("Wechatpay-Serial") != id {
		t.Fatalf("%d %v", r.status, r.header)
	}
	verify(t, s, r.header, r.body)
}

func TestTransitionMode(t *testing.T) {
	t.Parallel()
	s := newServer(t, WithKeyMode(TransitionMode))
	m := s.Merchant()
	id, _ := s.PublicKey()
	certSerial := auth.SerialNumber(s.PlatformCertificates()[0])
	r := send(t, s.Handler(), signer{cred: m}, "GET", "/v3/certificates", nil)
	if r.status != 200 || r.header.Get("Wechatpay-Serial") != certSerial {
		t.Fatalf("without Wechatpay-Serial: %d signed by %s", r.status, r.header.Get("Wechatpay-Serial"))
	}
	verify(t, s, r.header, r.body)
	r = send(t, s.Handler(), signer{cred: m}, "GET", "/v3/certificates", nil, func(r *http.Request) { r.Header.Set("Wechatpay-Serial", id) })
	if r.status != 200 || r.header.Get("Wechatpay-Serial") != id {
		t.Fatalf("with Wechatpay-Serial %s: signed by %s", id, r.header.Get("Wechatpay-Serial"))
	}
	verify(t, s, r.header, r.body)
	// Switching at run time.
	if err := s.SetKeyMode(CertificateMode); err != nil {
		t.Fatal(err)
	}
	r = send(t, s.Handler(), signer{cred: m}, "GET", "/v3/certificates", nil, func(r *http.Request) { r.Header.Set("Wechatpay-Serial", id) })
	if r.header.Get("Wechatpay-Serial") != certSerial {
		t.Fatalf("certificate mode signed with %s", r.header.Get("Wechatpay-Serial"))
	}
}

func TestRotation(t *testing.T) {
	t.Parallel()
	now := time.Now()
	var offset atomic.Int64 // the server's goroutines read the clock too
	clock := func() time.Time { return now.Add(time.Duration(offset.Load())) }
	s := newServer(t, WithClock(clock))
	m := s.Merchant()
	old := auth.SerialNumber(s.PlatformCertificates()[0])
	newSerial, err := s.RotateCertificate()
	if err != nil {
		t.Fatal(err)
	}
	certs, r := decryptCertificates(t, s, m)
	if len(certs) != 2 || certs[old] == "" || certs[newSerial] == "" {
		t.Fatalf("after rotation: %v", keysOf(certs))
	}
	// Listed first, signing later: the old certificate still signs.
	if r.header.Get("Wechatpay-Serial") != old {
		t.Fatalf("signed by %s right after the rotation, want the old %s", r.header.Get("Wechatpay-Serial"), old)
	}
	verify(t, s, r.header, r.body)
	if p, at := s.PendingCertificate(); p != newSerial || at.Sub(now) != 5*24*time.Hour {
		t.Fatalf("pending %s from %s", p, at)
	}
	// Five days on, the new one signs.
	offset.Store(int64(5*24*time.Hour + time.Minute))
	sg0 := signer{cred: m, now: clock}
	if r0 := send(t, s.Handler(), sg0, "GET", "/v3/certificates", nil); r0.header.Get("Wechatpay-Serial") != newSerial {
		t.Fatalf("signed by %s five days after the rotation, want %s", r0.header.Get("Wechatpay-Serial"), newSerial)
	}
	offset.Store(0)
	// The old certificate now expires within ten days.
	oldCert := platformCertByPEM(t, []byte(certs[old]))
	if d := oldCert.NotAfter.Sub(now); d > 10*24*time.Hour+time.Minute || d < 9*24*time.Hour {
		t.Fatalf("old certificate expires in %s", d)
	}
	// Eleven days later it is gone (client signing stays within the window).
	offset.Store(int64(11 * 24 * time.Hour))
	sg := signer{cred: m, now: clock}
	r = send(t, s.Handler(), sg, "GET", "/v3/certificates", nil)
	if n := len(r.json(t)["data"].([]any)); n != 1 {
		t.Fatalf("after expiry: %d certificates", n)
	}
	// ExpireCertificate drops one at once.
	offset.Store(0)
	third, _ := s.RotateCertificate()
	// "Switch now" signs with the newest at once.
	if got := s.SwitchCertificate(); got != third || s.SigningSerial() != third {
		t.Fatalf("switched to %s, want %s", got, third)
	}
	if err := s.ExpireCertificate(third); err != nil {
		t.Fatal(err)
	}
	certs, r = decryptCertificates(t, s, m)
	if _, ok := certs[third]; ok || len(certs) != 2 {
		t.Fatalf("expired certificate still listed: %v", keysOf(certs))
	}
	if r.header.Get("Wechatpay-Serial") != newSerial {
		t.Fatalf("signed by %s after expiring %s", r.header.Get("Wechatpay-Serial"), third)
	}
	if err := s.ExpireCertificate("nope"); err == nil {
		t.Fatal("expired an unknown serial")
	}
}

func keysOf(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
