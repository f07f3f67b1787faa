package auth

import (
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// ErrCertificate is wrapped by the errors about a platform certificate
// that is not one WeChat Pay issues: not RSA-2048, not named Tenpay.com sign
// or not issued by Tenpay.com's CA, or not valid yet.
var ErrCertificate = errors.New("not a WeChat Pay platform certificate")

// platformIssuerOrg is the organisation of the CA that issues the platform
// certificates (issuer C=CN, O=Tenpay.com, OU=Tenpay.com CA Center,
// CN=Tenpay.com Root CA; subject CN=Tenpay.com sign, O=Tenpay.com).
const platformIssuerOrg = "Tenpay.com"

// checkIssued checks that c looks like a platform certificate WeChat Pay
// issues, and returns its key.
func checkIssued(serial string, c *x509.Certificate) (*rsa.PublicKey, error) {
	pub, ok := c.PublicKey.(*rsa.PublicKey)
	if !ok || pub.N.BitLen() < 2048 {
		return nil, fmt.Errorf("auth: platform certificate %s: %w: its key is not RSA-2048", serial, ErrCertificate)
	}
	if c.Subject.CommonName != platformCertCN {
		return nil, fmt.Errorf("auth: platform certificate %s: %w: its subject is %q, not CN=%s", serial, ErrCertificate, c.Subject.String(), platformCertCN)
	}
	if !slices.Contains(c.Issuer.Organization, platformIssuerOrg) && !strings.HasPrefix(c.Issuer.CommonName, platformIssuerOrg) {
		return nil, fmt.Errorf("auth: platform certificate %s: %w: its issuer is %q, not Tenpay.com's CA", serial, ErrCertificate, c.Issuer.String())
	}
	if !c.NotBefore.Before(c.NotAfter) {
		return nil, fmt.Errorf("auth: platform certificate %s: %w: it is never valid (%s to %s)", serial, ErrCertificate, c.NotBefore.Format(time.RFC3339), c.NotAfter.Format(time.RFC3339))
	}
	return pub, nil
}

// notYetValid returns an error when c's validity starts more than skew after
// now: WeChat Pay does not sign with a certificate before it is valid.
func notYetValid(c *platformCert, now time.Time, skew time.Duration) error {
	if now.Add(skew).Before(c.cert.NotBefore) {
		return fmt.Errorf("%w: platform certificate %s is valid only from %s: this machine's clock may be behind, or the answer was not signed by WeChat Pay", ErrCertificate, c.serial, c.cert.NotBefore.Format(time.RFC3339))
	}
	return nil
}
