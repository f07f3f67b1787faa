package auth

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
)

// ParsePrivateKey reads an RSA private key from PEM: PKCS#8 (BEGIN PRIVATE
// KEY, as apiclient_key.pem ships) or PKCS#1 (BEGIN RSA PRIVATE KEY). Errors
// describe the input, never its content.
func ParsePrivateKey(pemBytes []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, notPEM(wantPrivateKey, "-----BEGIN PRIVATE KEY-----, as in apiclient_key.pem", pemBytes)
	}
	if isEncryptedPEM(block) {
		return nil, encryptedPEM(block)
	}
	switch block.Type {
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, errors.New("auth: the PKCS#8 private key does not parse")
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, errors.New("auth: the private key is not an RSA key")
		}
		return rk, nil
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, errors.New("auth: the PKCS#1 private key does not parse")
		}
		return k, nil
	case "CERTIFICATE":
		return nil, errors.New("auth: this PEM is a certificate (apiclient_cert.pem?), not the private key (apiclient_key.pem)")
	case "PUBLIC KEY":
		return nil, errors.New("auth: this PEM is a public key, not the merchant private key (apiclient_key.pem)")
	}
	return nil, fmt.Errorf("auth: unexpected PEM block %q where the private key was expected (-----BEGIN PRIVATE KEY-----, as in apiclient_key.pem); convert another key format with: openssl pkcs8 -topk8 -nocrypt -in KEY.pem -out apiclient_key.pem", block.Type)
}

// LoadPrivateKey reads an RSA private key from a PEM file.
func LoadPrivateKey(path string) (*rsa.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("auth: reading the private key: %w", err)
	}
	return ParsePrivateKey(b)
}

// ParseCertificate reads an X.509 certificate from PEM.
func ParseCertificate(pemBytes []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("auth: expected a PEM certificate (-----BEGIN CERTIFICATE-----)")
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("auth: the certificate does not parse: %w", err)
	}
	if _, ok := c.PublicKey.(*rsa.PublicKey); !ok {
		return nil, errors.New("auth: the certificate does not hold an RSA key")
	}
	return c, nil
}

// ParsePublicKey reads an RSA public key from PEM: SPKI (BEGIN PUBLIC KEY,
// as the WeChat Pay public key pub_key.pem ships), PKCS#1, or a certificate.
func ParsePublicKey(pemBytes []byte) (*rsa.PublicKey, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, notPEM(wantPublicKey, "-----BEGIN PUBLIC KEY-----, as in pub_key.pem", pemBytes)
	}
	switch block.Type {
	case "PUBLIC KEY":
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, errors.New("auth: the public key does not parse")
		}
		rk, ok := k.(*rsa.PublicKey)
		if !ok {
			return nil, errors.New("auth: the public key is not an RSA key")
		}
		return rk, nil
	case "RSA PUBLIC KEY":
		k, err := x509.ParsePKCS1PublicKey(block.Bytes)
		if err != nil {
			return nil, errors.New("auth: the PKCS#1 public key does not parse")
		}
		return k, nil
	case "CERTIFICATE":
		c, err := ParseCertificate(pemBytes)
		if err != nil {
			return nil, err
		}
		return c.PublicKey.(*rsa.PublicKey), nil
	case "PRIVATE KEY", "RSA PRIVATE KEY":
		return nil, errors.New("auth: this PEM is a private key; the WeChat Pay public key (pub_key.pem) was expected")
	}
	return nil, fmt.Errorf("auth: unexpected PEM block %q where a public key was expected", block.Type)
}

// SerialNumber returns a certificate's serial number as WeChat Pay writes
// it: upper-case hex, at least 40 digits for WeChat Pay certificates.
func SerialNumber(c *x509.Certificate) string {
	if c == nil || c.SerialNumber == nil {
		return ""
	}
	return strings.ToUpper(fmt.Sprintf("%040x", c.SerialNumber))
}

// IsPublicKeyID reports whether a Wechatpay-Serial value names a WeChat Pay
// public key (PUB_KEY_ID_…) rather than a platform certificate.
func IsPublicKeyID(serial string) bool { return strings.HasPrefix(serial, "PUB_KEY_ID_") }

// SameKey reports whether a private key and a public key form a pair.
func SameKey(priv *rsa.PrivateKey, pub *rsa.PublicKey) bool {
	return usablePrivate(priv) == nil && usablePublic(pub) == nil && priv.PublicKey.Equal(pub)
}
