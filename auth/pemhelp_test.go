package auth

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"os"
	"strings"
	"testing"
	"time"
)

// TestKeyFormatAdvice: a .p12 bundle, DER and a password-protected PEM
// given where a PEM key or certificate is expected get an error that names
// the format and the openssl command that converts it.
func TestKeyFormatAdvice(t *testing.T) {
	t.Parallel()
	read := func(name string) []byte {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	key := testKey(t, "merchant")
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	p12 := read("merchant.p12")
	legacy := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-256-CBC,00112233445566778899AABBCCDDEEFF"}, Bytes: []byte{1, 2, 3}})
	for _, c := range []struct {
		name  string
		parse func([]byte) error
		in    []byte
		want  []string
	}{
		{"p12 as private key", parsePriv, p12, []string{"PKCS#12", "openssl pkcs12 -in apiclient_cert.p12 -nocerts -nodes -out apiclient_key.pem", "merchant id"}},
		{"p12 as certificate", parseCert, p12, []string{"PKCS#12", "openssl pkcs12 -in apiclient_cert.p12 -clcerts -nokeys -out apiclient_cert.pem"}},
		{"p12 as public key", parsePub, p12, []string{"PKCS#12", "not the WeChat Pay public key", "微信支付公钥"}},
		{"DER private key", parsePriv, keyDER, []string{"DER", "openssl pkcs8 -topk8 -nocrypt -inform DER"}},
		{"DER public key", parsePub, pubDER, []string{"DER", "openssl pkey -pubin -inform DER"}},
		{"encrypted PKCS#8", parsePriv, read("merchant.encrypted.pem"), []string{"encrypted with a password", "openssl pkcs8 -topk8 -nocrypt -in KEY.pem -out apiclient_key.pem"}},
		{"encrypted PKCS#1", parsePriv, legacy, []string{"encrypted with a password", "Proc-Type", "openssl pkcs8 -topk8 -nocrypt"}},
		{"text", parsePriv, []byte("1900000109"), []string{"not PEM", "no -----BEGIN line"}},
	} {
		err := c.parse(c.in)
		if err == nil {
			t.Fatalf("%s: accepted", c.name)
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q lacks %q", c.name, err, w)
			}
		}
		if strings.Contains(err.Error(), "openssl") != (c.name != "text" && c.name != "p12 as public key") {
			t.Errorf("%s: openssl advice where none fits, or none where it does: %v", c.name, err)
		}
	}
}

func parsePriv(b []byte) error { _, err := ParsePrivateKey(b); return err }
func parseCert(b []byte) error { _, err := ParseMerchantCertificate(b); return err }
func parsePub(b []byte) error  { _, err := ParsePlatformPublicKey(b); return err }

// TestPublicKeyAnswerInCertificateMode: when WeChat Pay signs with the
// public key while the client is in certificate mode, the error says the
// mode is why (a public key in the configuration is unused), not that the
// key is missing; and no verification error speaks of an "answer", since
// notifications go through the same check.
func TestPublicKeyAnswerInCertificateMode(t *testing.T) {
	t.Parallel()
	w := newKeyWorld(t)
	p := w.store(t, w.config())
	err := w.check(p, w.answer(t, w.pubKey, testPubKeyID))
	if err == nil {
		t.Fatal("accepted")
	}
	msg := err.Error()
	for _, want := range []string{testPubKeyID, "certificate mode", "not used in this mode", "public-key mode"} {
		if !strings.Contains(msg, want) {
			t.Errorf("%q lacks %q", msg, want)
		}
	}
	for _, wrong := range []string{"not configured", "answer"} {
		if strings.Contains(msg, wrong) {
			t.Errorf("%q says %q", msg, wrong)
		}
	}
	// Tampered and unsigned messages, and a clock off by an hour.
	s := w.answer(t, w.key1, SerialNumber(w.cert1))
	s.Body = []byte(`{"trade_state":"CLOSED"}`)
	unsigned := s
	unsigned.Signature = ""
	for _, m := range []Signed{s, unsigned} {
		if err := w.check(p, m); err == nil || strings.Contains(err.Error(), "answer") {
			t.Errorf("verification error %v speaks of an answer (or is nil)", err)
		}
	}
	if err := CheckSigned(context.Background(), p, w.answer(t, w.key1, SerialNumber(w.cert1)), w.clock.Now().Add(time.Hour), 0); err == nil || strings.Contains(err.Error(), "answer") {
		t.Errorf("clock error %v speaks of an answer (or is nil)", err)
	}
}
