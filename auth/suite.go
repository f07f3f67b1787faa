package auth

import (
	"crypto"
	"crypto/cipher"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
)

// Suite is a signature and encryption suite other than the built-in RSA
// one: the 国密 suite (SM2 with SM3, SM4-GCM, SM2 encryption) that package
// github.com/gowxpay/wxpay/sm implements. auth defines the interface and
// uses it, so that programs that do not opt in compile no SM code: set
// merchant.Config.Suite (or PlatformKeysConfig.Suite) to sm.Suite{} to
// use it.
//
// Keys are the standard library's crypto.Signer and crypto.PublicKey
// interfaces; which concrete types they hold is the suite's business.
// Implementations must be safe for concurrent use.
type Suite interface {
	// Name names the suite in messages and diagnostics: "SM2".
	Name() string
	// Scheme is the Authorization scheme and Wechatpay-Signature-Type of
	// the suite: SchemeSM2.
	Scheme() string
	// AEADAlgorithm is the algorithm field of the resources the APIv3 key
	// encrypts under the suite (certificates, notifications):
	// AlgorithmSM4GCM.
	AEADAlgorithm() string
	// CertificateType is the algorithm_type query of GET /v3/certificates
	// that lists the suite's platform certificates: "SM2".
	CertificateType() string
	// NewAEAD returns the AEAD that opens and seals data under the APIv3
	// key (32 bytes); Open must fail, never panic, on bad input.
	NewAEAD(apiv3Key []byte) (cipher.AEAD, error)
	// ParsePrivateKey reads a private key of the suite from PEM. Errors
	// describe the input, never its content.
	ParsePrivateKey(pemBytes []byte) (crypto.Signer, error)
	// ParseCertificate reads a DER certificate holding a key of the suite;
	// the result's PublicKey is usable with Verify and Encrypt.
	ParseCertificate(der []byte) (*x509.Certificate, error)
	// ParsePublicKey reads a public key of the suite from PEM (SPKI).
	ParsePublicKey(pemBytes []byte) (crypto.PublicKey, error)
	// Sign returns the raw signature of message (for SM2: ASN.1 DER, over
	// SM3 with the default user id).
	Sign(key crypto.Signer, message []byte) ([]byte, error)
	// Verify checks a raw signature of message.
	Verify(pub crypto.PublicKey, message, signature []byte) error
	// Encrypt encrypts a sensitive field to pub (for SM2: C1C3C2, ASN.1).
	Encrypt(pub crypto.PublicKey, plaintext []byte) ([]byte, error)
	// Decrypt opens a field encrypted to key.
	Decrypt(key crypto.Signer, ciphertext []byte) ([]byte, error)
}

// SuiteSigner signs with a key of a Suite; it implements Signer for
// RequestSigner.
type SuiteSigner struct {
	Suite Suite
	Key   crypto.Signer
}

// Sign implements Signer.
func (s SuiteSigner) Sign(message []byte) ([]byte, error) {
	if s.Suite == nil || s.Key == nil {
		return nil, errors.New("auth: SuiteSigner has no suite or no key")
	}
	return s.Suite.Sign(s.Key, message)
}

// VerifySuiteBase64 checks a Base64 signature, as Wechatpay-Signature
// carries it, with a key of a Suite. It accepts the canonical padded Base64
// spelling only. Failures wrap ErrBadSignature.
func VerifySuiteBase64(s Suite, pub crypto.PublicKey, message []byte, signature string) error {
	if s == nil || pub == nil {
		return errors.New("auth: no public key to verify with")
	}
	if len(signature) > 1024 {
		return fmt.Errorf("%w: the signature is too long", ErrBadSignature)
	}
	var arr [768]byte
	raw := arr[:strictBase64.DecodedLen(len(signature))]
	n, err := strictBase64.Decode(raw, []byte(signature))
	if err != nil || n == 0 {
		return fmt.Errorf("%w: the signature is not Base64", ErrBadSignature)
	}
	if err := s.Verify(pub, message, raw[:n]); err != nil {
		return ErrBadSignature
	}
	return nil
}

var errNilAEAD = errors.New("auth: the AEAD is nil")

// OpenAEAD opens Base64 data sealed with aead (the ciphertext followed by
// the tag), with nonce and associated data used as their UTF-8 bytes, as
// certificates and notifications carry them. Authentication failures are
// ErrDecrypt.
func OpenAEAD(aead cipher.AEAD, nonce, associatedData, ciphertext string) ([]byte, error) {
	if aead == nil {
		return nil, errNilAEAD
	}
	raw, err := base64.StdEncoding.DecodeString(ciphertext)
	if err != nil {
		return nil, fmt.Errorf("auth: ciphertext is not Base64: %w", err)
	}
	if len(nonce) != aead.NonceSize() || len(raw) < aead.Overhead() {
		return nil, ErrDecrypt
	}
	plain, err := aead.Open(nil, []byte(nonce), raw, []byte(associatedData))
	if err != nil {
		return nil, ErrDecrypt
	}
	return plain, nil
}

// SealAEAD is the inverse of OpenAEAD; the sandbox uses it.
func SealAEAD(aead cipher.AEAD, nonce, associatedData string, plaintext []byte) (string, error) {
	if aead == nil {
		return "", errNilAEAD
	}
	if len(nonce) != aead.NonceSize() {
		return "", fmt.Errorf("auth: the nonce must be %d bytes", aead.NonceSize())
	}
	return base64.StdEncoding.EncodeToString(aead.Seal(nil, []byte(nonce), plaintext, []byte(associatedData))), nil
}

// ParseSuiteCertificate reads a PEM certificate holding a key of s. Errors
// say which file was given instead.
func ParseSuiteCertificate(s Suite, pemBytes []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, errors.New("auth: expected a PEM certificate (-----BEGIN CERTIFICATE-----)")
	}
	switch block.Type {
	case "CERTIFICATE":
	case "PRIVATE KEY", "EC PRIVATE KEY", "SM2 PRIVATE KEY", "RSA PRIVATE KEY":
		return nil, errors.New("auth: this PEM is a private key (apiclient_key.pem?), not a certificate")
	case "PUBLIC KEY":
		return nil, errors.New("auth: this PEM is a public key (pub_key.pem?), not a certificate")
	default:
		return nil, fmt.Errorf("auth: unexpected PEM block %q where a certificate was expected", block.Type)
	}
	c, err := s.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("auth: the certificate does not parse as an %s certificate: %w", s.Name(), err)
	}
	return c, nil
}

// SuiteMerchantSerial is MerchantSerial for a merchant of a Suite: it
// checks that the merchant API certificate holds the public key of key and
// returns its serial number.
func SuiteMerchantSerial(s Suite, cert *x509.Certificate, key crypto.Signer) (string, error) {
	if cert == nil {
		return "", errors.New("auth: the merchant certificate (apiclient_cert.pem) is missing")
	}
	if key == nil {
		return "", errors.New("auth: the merchant private key (apiclient_key.pem) is missing")
	}
	if cert.Subject.CommonName == platformCertCN {
		return "", errors.New("auth: the certificate is a WeChat Pay platform certificate (平台证书), not your merchant API certificate apiclient_cert.pem")
	}
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(cert.PublicKey) {
		return "", fmt.Errorf("auth: the merchant %s certificate (apiclient_cert.pem, serial %s) does not belong to the %s private key (apiclient_key.pem): use the two files the merchant platform issued together", s.Name(), SerialNumber(cert), s.Name())
	}
	return SerialNumber(cert), nil
}

// KeyAlgorithm names the algorithm of a PEM key or certificate without a
// suite: "RSA", "SM2" (an EC key on the SM2 curve, OID 1.2.156.10197.1.301),
// "EC" for another curve, or "" when it cannot tell. Diagnostics use it to
// report a mix of RSA and SM2 credentials.
func KeyAlgorithm(pemBytes []byte) string {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return ""
	}
	switch block.Type {
	case "RSA PRIVATE KEY", "RSA PUBLIC KEY":
		return "RSA"
	case "SM2 PRIVATE KEY":
		return "SM2"
	}
	switch {
	case containsOID(block.Bytes, oidSM2Curve):
		return "SM2"
	case containsOID(block.Bytes, oidRSA):
		return "RSA"
	case containsOID(block.Bytes, oidECPublicKey):
		return "EC"
	}
	return ""
}

// DER encodings (tag, length, value) of the object identifiers KeyAlgorithm
// looks for.
var (
	oidSM2Curve    = []byte{0x06, 0x08, 0x2a, 0x81, 0x1c, 0xcf, 0x55, 0x01, 0x82, 0x2d}
	oidRSA         = []byte{0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01}
	oidECPublicKey = []byte{0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01}
)

// containsOID reports whether der holds the encoded object identifier: in a
// key it sits in the algorithm identifier, in a certificate in the subject
// public key info (the signature algorithm has other OIDs).
func containsOID(der, oid []byte) bool {
	for i := 0; i+len(oid) <= len(der); i++ {
		if der[i] == oid[0] && string(der[i:i+len(oid)]) == string(oid) {
			return true
		}
	}
	return false
}
