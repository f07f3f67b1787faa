package sm_test

import (
	"encoding/base64"
	"testing"

	"github.com/gowxpay/wxpay/auth"
	"github.com/gowxpay/wxpay/sm"
)

// FuzzSuite feeds arbitrary bytes to what reads untrusted input: SM2
// ciphertexts (sensitive answers), signatures (answers, notifications),
// certificates (downloads) and the AEAD (notification resources). None may
// panic.
func FuzzSuite(f *testing.F) {
	raw, _ := base64.StdEncoding.DecodeString(javaSM2Ciphertext)
	f.Add(raw)
	sig, _ := base64.StdEncoding.DecodeString(javaSignature)
	f.Add(sig)
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x00})
	s := sm.Suite{}
	cert, _ := auth.ParseSuiteCertificate(s, readPEM(f, "java_merchant_certificate.pem"))
	key, _ := s.ParsePrivateKey(readPEM(f, "java_merchant_private_key.pem"))
	aead, _ := s.NewAEAD([]byte(javaAPIv3Key))
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := s.Decrypt(key, b); err == nil && len(b) < 97 {
			t.Fatalf("a %d-byte ciphertext decrypted", len(b))
		}
		_ = s.Verify(cert.PublicKey, []byte("message"), b)
		_, _ = s.ParseCertificate(b)
		_, _ = s.ParsePublicKey(b)
		_, _ = s.ParsePrivateKey(b)
		_, _ = auth.OpenAEAD(aead, javaSM4Nonce, javaSM4AD, base64.StdEncoding.EncodeToString(b))
	})
}
