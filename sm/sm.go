// Package sm is the 国密 (ShangMi) suite for WeChat Pay API v3: requests
// signed WECHATPAY2-SM2-WITH-SM3, answers and notifications verified with
// SM2 platform certificates or an SM2 WeChat Pay public key, resources
// encrypted AEAD_SM4_GCM under the APIv3 key, and sensitive fields
// encrypted with SM2 (C1C3C2, ASN.1). It is opt-in: a program enables it
// by setting the suite in its configuration,
//
//	client, err := wxpay.NewClient(ctx, wxpay.Config{
//		Suite: sm.Suite{},
//		MchID: "1900000109",
//		PrivateKeyFile: "apiclient_key.pem", // the SM2 merchant key
//		…
//	})
//
// and only programs that import this package compile SM code. The
// algorithms come from github.com/emmansun/gmsm (MIT licence), a pure-Go
// implementation of SM2, SM3 and SM4.
//
// Facts followed (see the project's protocol notes): SM2 signatures use SM3
// with the default user id 1234567812345678 and are ASN.1 DER, Base64 in
// headers; the SM4-GCM key is the first 16 bytes of SM3(APIv3 key), with
// 12-byte nonces and 16-byte tags; platform certificates are listed by GET
// /v3/certificates?algorithm_type=SM2.
package sm

import (
	"crypto"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"hash"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/sm4"
	"github.com/emmansun/gmsm/smx509"

	"github.com/gowxpay/wxpay/auth"
)

// DefaultUserID is the SM2 user id (ID_A) WeChat Pay signs and verifies
// with: the GM/T 0009 default.
const DefaultUserID = "1234567812345678"

// CertificateType is the algorithm_type of GET /v3/certificates that lists
// SM2 platform certificates.
const CertificateType = "SM2"

// Suite is the 国密 suite; it implements auth.Suite. The zero value is
// ready to use and holds no state.
type Suite struct{}

var _ auth.Suite = Suite{}

// Name returns "SM2".
func (Suite) Name() string { return "SM2" }

// Scheme returns auth.SchemeSM2, WECHATPAY2-SM2-WITH-SM3.
func (Suite) Scheme() string { return auth.SchemeSM2 }

// AEADAlgorithm returns auth.AlgorithmSM4GCM, AEAD_SM4_GCM.
func (Suite) AEADAlgorithm() string { return auth.AlgorithmSM4GCM }

// CertificateType returns "SM2".
func (Suite) CertificateType() string { return CertificateType }

// NewAEAD returns AEAD_SM4_GCM for an APIv3 key: SM4 in GCM mode under the
// first 16 bytes of SM3(key), 12-byte nonces, 16-byte tags.
func (Suite) NewAEAD(apiv3Key []byte) (cipher.AEAD, error) {
	if err := auth.CheckAPIv3Key(apiv3Key); err != nil {
		return nil, err
	}
	return NewGCM(SM4Key(apiv3Key))
}

// SM4Key derives the SM4 key of AEAD_SM4_GCM from an APIv3 key: the first
// 16 bytes of its SM3 digest.
func SM4Key(apiv3Key []byte) []byte {
	sum := sm3.Sum(apiv3Key)
	return sum[:sm4.BlockSize]
}

// NewGCM returns SM4-GCM (12-byte nonce, 16-byte tag) under a 16-byte key,
// as encrypted bills use it.
func NewGCM(key []byte) (cipher.AEAD, error) {
	block, err := sm4.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("sm: %w", err)
	}
	return cipher.NewGCM(block)
}

// SM3 returns a new SM3 hash.
func SM3() hash.Hash { return sm3.New() }

// ParsePrivateKey reads an SM2 private key from PEM: PKCS#8 (BEGIN PRIVATE
// KEY, as WeChat Pay's SM2 apiclient_key.pem ships) or SEC 1 (BEGIN EC
// PRIVATE KEY). Errors never hold key material.
func (Suite) ParsePrivateKey(pemBytes []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, errors.New("sm: the private key is not PEM (expected -----BEGIN PRIVATE KEY-----, as in apiclient_key.pem)")
	}
	switch block.Type {
	case "PRIVATE KEY":
		k, err := smx509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, errors.New("sm: the PKCS#8 private key does not parse")
		}
		sk, ok := k.(*sm2.PrivateKey)
		if !ok {
			return nil, errors.New("sm: the private key is not an SM2 key (an RSA key belongs to the default RSA suite)")
		}
		return sk, nil
	case "EC PRIVATE KEY", "SM2 PRIVATE KEY":
		k, err := smx509.ParseSM2PrivateKey(block.Bytes)
		if err != nil {
			return nil, errors.New("sm: the SM2 private key does not parse (is it on the SM2 curve?)")
		}
		return k, nil
	case "RSA PRIVATE KEY":
		return nil, errors.New("sm: the private key is an RSA key; the 国密 suite needs the merchant's SM2 key")
	case "CERTIFICATE":
		return nil, errors.New("sm: this PEM is a certificate (apiclient_cert.pem?), not the private key (apiclient_key.pem)")
	case "PUBLIC KEY":
		return nil, errors.New("sm: this PEM is a public key, not the merchant private key (apiclient_key.pem)")
	}
	return nil, fmt.Errorf("sm: unexpected PEM block %q where the private key was expected", block.Type)
}

// ParseCertificate reads a DER certificate holding an SM2 key.
func (Suite) ParseCertificate(der []byte) (*x509.Certificate, error) {
	c, err := smx509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	if !sm2.IsSM2PublicKey(c.PublicKey) {
		return nil, errors.New("the certificate does not hold an SM2 key")
	}
	return c.ToX509(), nil
}

// ParsePublicKey reads an SM2 public key from PEM (BEGIN PUBLIC KEY), as
// the SM2 WeChat Pay public key ships.
func (Suite) ParsePublicKey(pemBytes []byte) (crypto.PublicKey, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, errors.New("sm: the public key is not PEM (expected -----BEGIN PUBLIC KEY-----)")
	}
	if block.Type != "PUBLIC KEY" {
		return nil, fmt.Errorf("sm: unexpected PEM block %q where the SM2 public key (BEGIN PUBLIC KEY) was expected", block.Type)
	}
	k, err := smx509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, errors.New("sm: the public key does not parse")
	}
	if !sm2.IsSM2PublicKey(k) {
		return nil, errors.New("sm: the public key is not an SM2 key")
	}
	return k, nil
}

// signerOpts makes Sign compute the SM2 signature of the message (SM3 over
// Z_A and the message, with the default user id) rather than of a digest.
var signerOpts = sm2.NewSM2SignerOption(true, []byte(DefaultUserID))

// Sign returns the ASN.1 DER SM2 signature of message with the default
// user id.
func (Suite) Sign(key crypto.Signer, message []byte) ([]byte, error) {
	k, ok := key.(*sm2.PrivateKey)
	if !ok {
		return nil, errors.New("sm: the signing key is not an SM2 private key")
	}
	return k.Sign(rand.Reader, message, signerOpts)
}

// Verify checks an ASN.1 DER SM2 signature of message with the default
// user id.
func (Suite) Verify(pub crypto.PublicKey, message, signature []byte) error {
	k, ok := pub.(*ecdsa.PublicKey)
	if !ok || !sm2.IsSM2PublicKey(k) {
		return errors.New("sm: the verifying key is not an SM2 public key")
	}
	if !sm2.VerifyASN1WithSM2(k, []byte(DefaultUserID), message, signature) {
		return errors.New("sm: the SM2 signature does not match")
	}
	return nil
}

// Encrypt encrypts plaintext to an SM2 public key, C1C3C2 in ASN.1, as
// WeChat Pay expects sensitive fields.
func (Suite) Encrypt(pub crypto.PublicKey, plaintext []byte) ([]byte, error) {
	k, ok := pub.(*ecdsa.PublicKey)
	if !ok || !sm2.IsSM2PublicKey(k) {
		return nil, errors.New("sm: the encryption key is not an SM2 public key")
	}
	return sm2.EncryptASN1(rand.Reader, k, plaintext)
}

// Decrypt opens an SM2 ciphertext (C1C3C2, ASN.1) with the private key.
func (Suite) Decrypt(key crypto.Signer, ciphertext []byte) ([]byte, error) {
	k, ok := key.(*sm2.PrivateKey)
	if !ok {
		return nil, errors.New("sm: the decryption key is not an SM2 private key")
	}
	pt, err := k.Decrypt(nil, ciphertext, sm2.ASN1DecrypterOpts)
	if err != nil {
		return nil, errors.New("sm: SM2 decryption failed: the data was not encrypted to this key, or was altered")
	}
	return pt, nil
}
