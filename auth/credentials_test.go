package auth

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// merchantCert makes a certificate shaped like apiclient_cert.pem.
func merchantCert(t *testing.T) *x509.Certificate {
	key := testKey(t, "merchant")
	serial, _ := new(big.Int).SetString("1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C", 16)
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "1900000001", Organization: []string{"微信商户系统"}},
		NotBefore:    testClock.AddDate(-1, 0, 0),
		NotAfter:     testClock.AddDate(4, 0, 0),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, testKey(t, "platform1"))
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c
}

func TestMerchantSerial(t *testing.T) {
	t.Parallel()
	cert := merchantCert(t)
	serial, err := MerchantSerial(cert, testKey(t, "merchant"), testClock)
	if err != nil || serial != "1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C" {
		t.Fatalf("%s %v", serial, err)
	}
	if _, err := MerchantSerial(cert, testKey(t, "platform2"), testClock); err == nil || !strings.Contains(err.Error(), "does not belong to the private key (apiclient_key.pem)") {
		t.Errorf("mismatched pair: %v", err)
	}
	if _, err := MerchantSerial(cert, testKey(t, "merchant"), testClock.AddDate(5, 0, 0)); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Errorf("expired: %v", err)
	}
	pc := makePlatformCert(t, testKey(t, "merchant"), 1, testClock.AddDate(-1, 0, 0), testClock.AddDate(1, 0, 0))
	if _, err := MerchantSerial(pc, testKey(t, "merchant"), testClock); err == nil || !strings.Contains(err.Error(), "platform certificate") {
		t.Errorf("platform certificate as merchant certificate: %v", err)
	}
}

func TestParseMerchantCertificateNamesTheFile(t *testing.T) {
	t.Parallel()
	keyPEM, _ := os.ReadFile("testdata/merchant.key.pem")
	pubPEM, _ := os.ReadFile("testdata/pubkey.pub.pem")
	platform := certPEM(makePlatformCert(t, testKey(t, "platform1"), 1, testClock, testClock.AddDate(1, 0, 0)))
	for name, tc := range map[string]struct {
		in   []byte
		want string
	}{
		"private key": {keyPEM, "apiclient_key.pem"},
		"public key":  {pubPEM, "pub_key.pem"},
		"platform":    {platform, "platform certificate"},
		"not PEM":     {[]byte("hello"), "not PEM"},
	} {
		_, err := ParseMerchantCertificate(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "MII") {
			t.Errorf("%s: the error quotes the file", name)
		}
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "apiclient_cert.pem")
	_ = os.WriteFile(path, certPEM(merchantCert(t)), 0o600)
	if c, err := LoadMerchantCertificate(path); err != nil || SerialNumber(c) != "1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C" {
		t.Errorf("%v", err)
	}
}

func TestParsePlatformPublicKey(t *testing.T) {
	t.Parallel()
	pubPEM, _ := os.ReadFile("testdata/pubkey.pub.pem")
	pub, err := ParsePlatformPublicKey(pubPEM)
	if err != nil || !pub.Equal(&testKey(t, "pubkey").PublicKey) {
		t.Fatal(err)
	}
	if _, err := ParsePlatformPublicKey(certPEM(merchantCert(t))); err == nil || !strings.Contains(err.Error(), "apiclient_cert.pem") {
		t.Errorf("merchant certificate: %v", err)
	}
	platform := certPEM(makePlatformCert(t, testKey(t, "platform1"), 1, testClock, testClock.AddDate(1, 0, 0)))
	if _, err := ParsePlatformPublicKey(platform); err == nil || !strings.Contains(err.Error(), "platform certificate") {
		t.Errorf("platform certificate: %v", err)
	}
	keyPEM, _ := os.ReadFile("testdata/merchant.key.pem")
	if _, err := ParsePlatformPublicKey(keyPEM); err == nil || !strings.Contains(err.Error(), "private key") {
		t.Errorf("private key: %v", err)
	}
	if err := CheckPlatformPublicKey(&testKey(t, "merchant").PublicKey, testKey(t, "merchant")); err == nil || !strings.Contains(err.Error(), "merchant's own key") {
		t.Errorf("merchant key as public key: %v", err)
	}
	if err := CheckPlatformPublicKey(pub, testKey(t, "merchant")); err != nil {
		t.Error(err)
	}
	path := filepath.Join(t.TempDir(), "pub_key.pem")
	_ = os.WriteFile(path, pubPEM, 0o600)
	if _, err := LoadPlatformPublicKey(path); err != nil {
		t.Error(err)
	}
	// SPKI written by Go, too.
	der, _ := x509.MarshalPKIXPublicKey(pub)
	if _, err := ParsePlatformPublicKey(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})); err != nil {
		t.Error(err)
	}
}

func TestCheckPublicKeyID(t *testing.T) {
	t.Parallel()
	for id, ok := range map[string]bool{
		"PUB_KEY_ID_0000000000000024101100397200000006": true,
		"PUB_KEY_ID_01142321349124100000000000********": false,
		"PUB_KEY_ID_": false,
		"":            false,
		"5DEA10EF55877E3CF6C33255C2E7DEFFF7E427EC": false,
		"pub_key_id_1": false,
	} {
		if err := CheckPublicKeyID(id); (err == nil) != ok {
			t.Errorf("%q: %v", id, err)
		}
	}
}

func TestNonceAlphabet(t *testing.T) {
	t.Parallel()
	counts := map[byte]int{}
	for i := 0; i < 200; i++ {
		n, err := NewNonce()
		if err != nil {
			t.Fatal(err)
		}
		if len(n) != NonceSize {
			t.Fatalf("nonce %q", n)
		}
		for j := 0; j < len(n); j++ {
			counts[n[j]]++
		}
	}
	if len(counts) != 62 {
		t.Errorf("%d distinct characters in 6400, want all 62", len(counts))
	}
	for c := range counts {
		if !strings.ContainsRune(nonceAlphabet, rune(c)) {
			t.Errorf("character %q", c)
		}
	}
}

func TestParseAuthorizationErrorsHideValues(t *testing.T) {
	t.Parallel()
	_, err := ParseAuthorization(`WECHATPAY2-SHA256-RSA2048 mchid="1",sig` + katPostSig[:30] + `="x"`)
	if err == nil || strings.Contains(err.Error(), katPostSig[:30]) {
		t.Errorf("%v", err)
	}
}
