package sm_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"os"
	"strings"
	"testing"

	gmsm2 "github.com/emmansun/gmsm/sm2"
	gmsm3 "github.com/emmansun/gmsm/sm3"

	"github.com/gowxpay/wxpay/auth"
	"github.com/gowxpay/wxpay/sm"
)

// Vectors of the official Java SDK's shangmi-testing module
// (wechatpay-java, BaseAeadSM4Test, BaseSM2Test, TestConfig).
const (
	javaAPIv3Key      = "a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb"
	javaSM4Nonce      = "uluk4a9R25RW"
	javaSM4AD         = "associatedData"
	javaSM4Plaintext  = "plaintext"
	javaSM4Ciphertext = "+lcLNfkZQQx+iQm20Apa3x9Mb/5L7PgZ7w=="
	javaSM4Tampered   = "+lcLNfkZQQx+iQm20Apa3x9Mb/5L7PgZ8w=="

	javaMerchantSerial = "54E7F59ED8DF4570CFB14780EA8152D45A675EE6"
	javaMessage        = "message"
	javaSignature      = "MEYCIQD35Rp3CKt7pLme/a0GaCVmwSeOl7X/12+ppRivcJuf6QIhAO5Vpy4tSk9SJUrgH5I5Qy0aYhFG9lN0aof1f5wJOI05"
	javaSM2Ciphertext  = "MHECIAGn23Ew8nF0zRfu3qgdD6VATSmGM5wrVFvNqg1ToXneAiBgfOJLVi1NtpRVH2" +
		"qanzooL4gOrDKKOloD7gS17g+iCQQgcTtJpGhytHZeV/HeTqYkg3YqOY+Vybx+OQx217Ktn0QECdMjiI7lpId5dg=="
)

func readPEM(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func javaMerchant(t testing.TB) (*x509.Certificate, auth.Suite, []byte) {
	t.Helper()
	s := sm.Suite{}
	c, err := auth.ParseSuiteCertificate(s, readPEM(t, "java_merchant_certificate.pem"))
	if err != nil {
		t.Fatal(err)
	}
	return c, s, readPEM(t, "java_merchant_private_key.pem")
}

func TestAEADSM4GCMJavaVector(t *testing.T) {
	aead, err := sm.Suite{}.NewAEAD([]byte(javaAPIv3Key))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := auth.OpenAEAD(aead, javaSM4Nonce, javaSM4AD, javaSM4Ciphertext)
	if err != nil || string(plain) != javaSM4Plaintext {
		t.Fatalf("open: %q, %v", plain, err)
	}
	// SM4-GCM is deterministic for a nonce: sealing gives the vector back.
	ct, err := auth.SealAEAD(aead, javaSM4Nonce, javaSM4AD, []byte(javaSM4Plaintext))
	if err != nil || ct != javaSM4Ciphertext {
		t.Fatalf("seal: %q, %v", ct, err)
	}
	if _, err := auth.OpenAEAD(aead, javaSM4Nonce, javaSM4AD, javaSM4Tampered); !errors.Is(err, auth.ErrDecrypt) {
		t.Fatalf("tampered tag: %v", err)
	}
	if _, err := auth.OpenAEAD(aead, javaSM4Nonce, "other", javaSM4Ciphertext); !errors.Is(err, auth.ErrDecrypt) {
		t.Fatalf("other associated data: %v", err)
	}
	if _, err := auth.OpenAEAD(aead, "short", javaSM4AD, javaSM4Ciphertext); !errors.Is(err, auth.ErrDecrypt) {
		t.Fatalf("short nonce: %v", err)
	}
	if _, err := (sm.Suite{}).NewAEAD([]byte("short")); err == nil {
		t.Fatal("a short APIv3 key was accepted")
	}
}

func TestSM4KeyIsSM3Prefix(t *testing.T) {
	sum := gmsm3.Sum([]byte(javaAPIv3Key))
	if got := sm.SM4Key([]byte(javaAPIv3Key)); !bytes.Equal(got, sum[:16]) {
		t.Fatalf("SM4Key = %x, want %x", got, sum[:16])
	}
}

func TestSM2JavaSignatureVector(t *testing.T) {
	cert, s, _ := javaMerchant(t)
	if got := auth.SerialNumber(cert); got != javaMerchantSerial {
		t.Fatalf("serial %s", got)
	}
	if err := auth.VerifySuiteBase64(s, cert.PublicKey, []byte(javaMessage), javaSignature); err != nil {
		t.Fatalf("the Java SDK's signature does not verify: %v", err)
	}
	if err := auth.VerifySuiteBase64(s, cert.PublicKey, []byte("false-message"), javaSignature); !errors.Is(err, auth.ErrBadSignature) {
		t.Fatalf("wrong message: %v", err)
	}
	bad := []byte(javaSignature)
	bad[10] ^= 1
	if err := auth.VerifySuiteBase64(s, cert.PublicKey, []byte(javaMessage), string(bad)); !errors.Is(err, auth.ErrBadSignature) {
		t.Fatalf("altered signature: %v", err)
	}
	if err := auth.VerifySuiteBase64(s, cert.PublicKey, []byte(javaMessage), javaSignature[:len(javaSignature)-1]); !errors.Is(err, auth.ErrBadSignature) {
		t.Fatalf("non-canonical Base64: %v", err)
	}
}

func TestSM2SignInteroperatesWithGMSM(t *testing.T) {
	cert, s, keyPEM := javaMerchant(t)
	key, err := s.ParsePrivateKey(keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	if serial, err := auth.SuiteMerchantSerial(s, cert, key); err != nil || serial != javaMerchantSerial {
		t.Fatalf("SuiteMerchantSerial = %s, %v", serial, err)
	}
	msg := auth.RequestMessage("GET", "/v3/certificates?algorithm_type=SM2", 1554208460, "593BEC0C930BF1AFEB40B4A08C8FB242", nil)
	sig, err := auth.SuiteSigner{Suite: s, Key: key}.Sign(msg)
	if err != nil {
		t.Fatal(err)
	}
	// gmsm's own verification, with the default user id spelled out.
	if !gmsm2.VerifyASN1WithSM2(cert.PublicKey.(*ecdsa.PublicKey), []byte("1234567812345678"), msg, sig) {
		t.Fatal("gmsm does not verify the signature")
	}
	// And the other way: gmsm signs, the suite verifies.
	sig2, err := key.(*gmsm2.PrivateKey).SignWithSM2(rand.Reader, []byte("1234567812345678"), msg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Verify(cert.PublicKey, msg, sig2); err != nil {
		t.Fatalf("the suite does not verify gmsm's signature: %v", err)
	}
	// A signature with another user id does not verify: the id is part of
	// the signed digest.
	sig3, err := key.(*gmsm2.PrivateKey).SignWithSM2(rand.Reader, []byte("another-user-id!"), msg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Verify(cert.PublicKey, msg, sig3); err == nil {
		t.Fatal("a signature with another user id verified")
	}
}

func TestSM2JavaDecryptionVector(t *testing.T) {
	cert, s, keyPEM := javaMerchant(t)
	key, err := s.ParsePrivateKey(keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.StdEncoding.DecodeString(javaSM2Ciphertext)
	pt, err := s.Decrypt(key, raw)
	if err != nil || string(pt) != "plaintext" {
		t.Fatalf("decrypting the Java SDK's ciphertext: %q, %v", pt, err)
	}
	raw2, _ := base64.StdEncoding.DecodeString(strings.ReplaceAll(javaSM2Ciphertext, "1", "2"))
	if _, err := s.Decrypt(key, raw2); err == nil {
		t.Fatal("an altered ciphertext decrypted")
	}
	// Encrypt to the certificate, decrypt with the key; the ciphertext is
	// ASN.1 C1C3C2, which gmsm's ASN.1 decryption reads.
	ct, err := s.Encrypt(cert.PublicKey, []byte("13800138000"))
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := key.(*gmsm2.PrivateKey).Decrypt(nil, ct, gmsm2.ASN1DecrypterOpts); err != nil || string(pt) != "13800138000" {
		t.Fatalf("gmsm ASN.1 decryption: %q, %v", pt, err)
	}
	if pt, err := s.Decrypt(key, ct); err != nil || string(pt) != "13800138000" {
		t.Fatalf("round trip: %q, %v", pt, err)
	}
	if ct[0] != 0x30 {
		t.Fatalf("the ciphertext is not an ASN.1 SEQUENCE: % x", ct[:4])
	}
}

func TestParseJavaPlatformCertificate(t *testing.T) {
	s := sm.Suite{}
	c, err := auth.ParseSuiteCertificate(s, readPEM(t, "java_wechat_pay_certificate.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Subject.CommonName != "Tenpay.com sign" {
		t.Fatalf("CN %q", c.Subject.CommonName)
	}
	// The standard library cannot read it: that is why the suite parses.
	block, _ := pem.Decode(readPEM(t, "java_wechat_pay_certificate.pem"))
	if _, err := x509.ParseCertificate(block.Bytes); err == nil {
		t.Log("crypto/x509 parsed an SM2 certificate")
	}
	if got := auth.KeyAlgorithm(readPEM(t, "java_wechat_pay_certificate.pem")); got != "SM2" {
		t.Fatalf("KeyAlgorithm(certificate) = %q", got)
	}
	if got := auth.KeyAlgorithm(readPEM(t, "java_merchant_private_key.pem")); got != "SM2" {
		t.Fatalf("KeyAlgorithm(key) = %q", got)
	}
}

func TestParseErrorsNameTheFile(t *testing.T) {
	s := sm.Suite{}
	if _, err := s.ParsePrivateKey(readPEM(t, "java_merchant_certificate.pem")); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("certificate as key: %v", err)
	}
	if _, err := s.ParsePublicKey(readPEM(t, "java_merchant_private_key.pem")); err == nil {
		t.Fatal("a private key parsed as a public key")
	}
	if _, err := auth.ParseSuiteCertificate(s, readPEM(t, "java_merchant_private_key.pem")); err == nil || !strings.Contains(err.Error(), "private key") {
		t.Fatalf("key as certificate: %v", err)
	}
}
