package sm

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
)

// GenerateKey returns a new SM2 private key. The sandbox gives its 国密
// merchants and platform certificates such keys.
func (Suite) GenerateKey() (crypto.Signer, error) {
	return sm2.GenerateKey(rand.Reader)
}

// CreateCertificate issues a certificate (DER) for pub, signed by priv with
// SM2-with-SM3, like x509.CreateCertificate.
func (Suite) CreateCertificate(template, parent *x509.Certificate, pub crypto.PublicKey, priv crypto.Signer) ([]byte, error) {
	return smx509.CreateCertificate(rand.Reader, template, parent, pub, priv)
}

// MarshalPrivateKey encodes an SM2 private key as PKCS#8 PEM (BEGIN
// PRIVATE KEY), the form of WeChat Pay's SM2 apiclient_key.pem.
func (Suite) MarshalPrivateKey(key crypto.Signer) ([]byte, error) {
	k, ok := key.(*sm2.PrivateKey)
	if !ok {
		return nil, errors.New("sm: not an SM2 private key")
	}
	der, err := smx509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// MarshalPublicKey encodes an SM2 public key as SPKI PEM (BEGIN PUBLIC
// KEY).
func (Suite) MarshalPublicKey(pub crypto.PublicKey) ([]byte, error) {
	der, err := smx509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}
