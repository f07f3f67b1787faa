package auth

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"testing"
)

func TestKeyAlgorithm(t *testing.T) {
	rsaKey, err := os.ReadFile("testdata/merchant.key.pem")
	if err != nil {
		t.Fatal(err)
	}
	pubPEM, err := os.ReadFile("testdata/pubkey.pub.pem")
	if err != nil {
		t.Fatal(err)
	}
	k, err := ParsePrivateKey(rsaKey)
	if err != nil {
		t.Fatal(err)
	}
	pkcs1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
	// An SM2 public key: SPKI with id-ecPublicKey and the SM2 curve OID.
	sm2Pub := "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoEcz1UBgi0DQgAEe81H916hnQTApytNpw9X3Rs/kzfMXdEkGIG5E0MZOb9ppV72tGcQx+FyRSPQ9kbdaU0kg5dvboUNRmN4+osvfg==\n-----END PUBLIC KEY-----\n"
	for _, tc := range []struct {
		name string
		pem  []byte
		want string
	}{
		{"RSA PKCS#8 key", rsaKey, "RSA"},
		{"RSA PKCS#1 key", pkcs1, "RSA"},
		{"RSA public key", pubPEM, "RSA"},
		{"SM2 public key", []byte(sm2Pub), "SM2"},
		{"not PEM", []byte("hello"), ""},
		{"empty block", []byte("-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n"), ""},
	} {
		if got := KeyAlgorithm(tc.pem); got != tc.want {
			t.Errorf("%s: KeyAlgorithm = %q, want %q", tc.name, got, tc.want)
		}
	}
}

// FuzzKeyAlgorithm: any input is classified without panicking.
func FuzzKeyAlgorithm(f *testing.F) {
	f.Add([]byte("-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoEcz1UBgi0DQgAE\n-----END PUBLIC KEY-----\n"))
	f.Add([]byte{0x06, 0x08, 0x2a, 0x81, 0x1c})
	f.Fuzz(func(t *testing.T, b []byte) {
		switch KeyAlgorithm(b) {
		case "", "RSA", "SM2", "EC":
		default:
			t.Fatal("unexpected algorithm name")
		}
	})
}

// A Suite store refuses an RSA public key and a SuitePublicKey without a
// suite.
func TestPlatformKeysSuiteConfig(t *testing.T) {
	k := testKey(t, "pubkey")
	if _, err := NewPlatformKeys(PlatformKeysConfig{PublicKeyID: "PUB_KEY_ID_0123", SuitePublicKey: &k.PublicKey}); err == nil {
		t.Fatal("SuitePublicKey without a Suite was accepted")
	}
}
