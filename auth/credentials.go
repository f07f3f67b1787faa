package auth

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

// A merchant deals with four key files that are easily confused:
//
//   - apiclient_key.pem: the merchant API private key; signs requests.
//   - apiclient_cert.pem: the merchant API certificate; only its serial
//     number is needed (serial_no of the Authorization header).
//   - pub_key.pem: the WeChat Pay public key (微信支付公钥), with its id
//     PUB_KEY_ID_…; verifies answers in public-key mode.
//   - platform certificates (平台证书): downloaded from /v3/certificates,
//     never configured by hand here; verify answers in certificate mode.
//
// The helpers below read them and say which file was given when it is the
// wrong one.

// platformCertCN is the subject common name of WeChat Pay platform
// certificates.
const platformCertCN = "Tenpay.com sign"

// ParseMerchantCertificate reads the merchant API certificate
// (apiclient_cert.pem). Errors say which file was given instead.
func ParseMerchantCertificate(pemBytes []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, notPEM(wantCertificate, "-----BEGIN CERTIFICATE-----, as in apiclient_cert.pem", pemBytes)
	}
	switch block.Type {
	case "CERTIFICATE":
	case "PRIVATE KEY", "RSA PRIVATE KEY", "ENCRYPTED PRIVATE KEY":
		return nil, errors.New("auth: this PEM is a private key (apiclient_key.pem?), not the merchant certificate apiclient_cert.pem")
	case "PUBLIC KEY", "RSA PUBLIC KEY":
		return nil, errors.New("auth: this PEM is a public key (the WeChat Pay public key pub_key.pem?), not the merchant certificate apiclient_cert.pem")
	default:
		return nil, fmt.Errorf("auth: unexpected PEM block %q where the merchant certificate apiclient_cert.pem was expected", block.Type)
	}
	c, err := ParseCertificate(pemBytes)
	if err != nil {
		return nil, fmt.Errorf("auth: the merchant certificate apiclient_cert.pem: %w", err)
	}
	if c.Subject.CommonName == platformCertCN {
		return nil, errors.New("auth: this is a WeChat Pay platform certificate (平台证书, issued to \"Tenpay.com sign\"), not your merchant API certificate apiclient_cert.pem")
	}
	return c, nil
}

// LoadMerchantCertificate reads the merchant API certificate from a file.
func LoadMerchantCertificate(path string) (*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("auth: reading the merchant certificate: %w", err)
	}
	return ParseMerchantCertificate(b)
}

// MerchantSerial checks that the merchant API certificate belongs to the
// merchant API private key and returns its serial number, the serial_no of
// every request signature. now, when not zero, also rejects an expired
// certificate.
func MerchantSerial(cert *x509.Certificate, key *rsa.PrivateKey, now time.Time) (string, error) {
	if cert == nil {
		return "", errors.New("auth: the merchant certificate (apiclient_cert.pem) is missing")
	}
	if key == nil {
		return "", errors.New("auth: the merchant private key (apiclient_key.pem) is missing")
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return "", errors.New("auth: the merchant certificate does not hold an RSA key")
	}
	if cert.Subject.CommonName == platformCertCN {
		return "", errors.New("auth: the certificate is a WeChat Pay platform certificate (平台证书), not your merchant API certificate apiclient_cert.pem")
	}
	if !SameKey(key, pub) {
		return "", fmt.Errorf("auth: the merchant certificate (apiclient_cert.pem, serial %s) does not belong to the private key (apiclient_key.pem): use the two files the merchant platform issued together", SerialNumber(cert))
	}
	if !now.IsZero() && now.After(cert.NotAfter) {
		return "", fmt.Errorf("auth: the merchant certificate (apiclient_cert.pem, serial %s) expired on %s: apply for a new one in the merchant platform (账户中心 → API安全 → API证书)", SerialNumber(cert), cert.NotAfter.Format(time.DateOnly))
	}
	return SerialNumber(cert), nil
}

// ParsePlatformPublicKey reads the WeChat Pay public key (pub_key.pem, PEM
// BEGIN PUBLIC KEY). Unlike ParsePublicKey it refuses certificates, which are
// not the public key even though they hold one: apiclient_cert.pem is the
// merchant's own, and platform certificates belong to certificate mode.
func ParsePlatformPublicKey(pemBytes []byte) (*rsa.PublicKey, error) {
	block, _ := pem.Decode(pemBytes)
	if block != nil && block.Type == "CERTIFICATE" {
		if c, err := x509.ParseCertificate(block.Bytes); err == nil && c.Subject.CommonName == platformCertCN {
			return nil, errors.New("auth: this is a WeChat Pay platform certificate (平台证书), not the WeChat Pay public key pub_key.pem; platform certificates are downloaded in certificate mode")
		}
		return nil, errors.New("auth: this is a certificate (apiclient_cert.pem?), not the WeChat Pay public key pub_key.pem (-----BEGIN PUBLIC KEY-----, 账户中心 → API安全 → 微信支付公钥)")
	}
	return ParsePublicKey(pemBytes)
}

// LoadPlatformPublicKey reads the WeChat Pay public key from a file.
func LoadPlatformPublicKey(path string) (*rsa.PublicKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("auth: reading the WeChat Pay public key: %w", err)
	}
	return ParsePlatformPublicKey(b)
}

// CheckPlatformPublicKey rejects a configured WeChat Pay public key that is
// in fact the merchant's own key (taken from apiclient_cert.pem or
// apiclient_key.pem).
func CheckPlatformPublicKey(pub *rsa.PublicKey, merchantKey *rsa.PrivateKey) error {
	if pub == nil {
		return errors.New("auth: the WeChat Pay public key (pub_key.pem) is missing")
	}
	if SameKey(merchantKey, pub) {
		return errors.New("auth: the configured WeChat Pay public key is the merchant's own key (apiclient_cert.pem / apiclient_key.pem); use pub_key.pem from 账户中心 → API安全 → 微信支付公钥")
	}
	return nil
}

// CheckPublicKeyID checks that id looks like a WeChat Pay public key id,
// PUB_KEY_ID_ followed by digits and letters.
func CheckPublicKeyID(id string) error {
	if id == "" {
		return errors.New("auth: the WeChat Pay public key id (PublicKeyID, PUB_KEY_ID_…) is missing")
	}
	if !IsPublicKeyID(id) {
		if isHex(id) {
			return fmt.Errorf("auth: the WeChat Pay public key id %q is a certificate serial number; the id starts with PUB_KEY_ID_ (账户中心 → API安全 → 微信支付公钥)", id)
		}
		return fmt.Errorf("auth: the WeChat Pay public key id %q does not start with PUB_KEY_ID_", id)
	}
	rest := strings.TrimPrefix(id, "PUB_KEY_ID_")
	if rest == "" {
		return errors.New("auth: the WeChat Pay public key id PUB_KEY_ID_ has nothing after the prefix")
	}
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || c == '_') {
			return fmt.Errorf("auth: the WeChat Pay public key id %q contains %q", id, c)
		}
	}
	return nil
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return s != ""
}
