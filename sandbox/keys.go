package sandbox

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"runtime"
	"sync"
	"time"

	"github.com/gowxpay/wxpay/auth"
)

// KeyMode says how the sandbox signs its answers and notifications, as the
// real server does for a merchant in each stage of the move from platform
// certificates to the WeChat Pay public key (微信支付公钥).
type KeyMode int

const (
	// CertificateMode signs with the newest platform certificate, and
	// /v3/certificates lists the certificates. The default.
	CertificateMode KeyMode = iota
	// PublicKeyMode signs with the platform public key (Wechatpay-Serial is
	// its PUB_KEY_ID_…); /v3/certificates answers 404 RESOURCE_NOT_EXISTS.
	PublicKeyMode
	// TransitionMode signs an answer with the public key when the request's
	// Wechatpay-Serial header names it, else with the certificate; a
	// notification with the public key when the request that created its
	// order or refund named it. /v3/certificates still lists certificates.
	TransitionMode
)

// String returns certificate, public_key or transition.
func (m KeyMode) String() string {
	switch m {
	case PublicKeyMode:
		return "public_key"
	case TransitionMode:
		return "transition"
	}
	return "certificate"
}

// ParseKeyMode parses the String form of a KeyMode.
func ParseKeyMode(s string) (KeyMode, error) {
	switch s {
	case "certificate", "cert", "":
		return CertificateMode, nil
	case "public_key", "pubkey", "public-key":
		return PublicKeyMode, nil
	case "transition":
		return TransitionMode, nil
	}
	return 0, fmt.Errorf("sandbox: unknown key mode %q (certificate, public_key or transition)", s)
}

// keySource hands out RSA keys: the ones given with WithKeys first, then
// freshly generated 2048-bit keys.
type keySource struct {
	mu    sync.Mutex
	given []*rsa.PrivateKey
}

func (k *keySource) next() (*rsa.PrivateKey, error) {
	k.mu.Lock()
	if len(k.given) > 0 {
		key := k.given[0]
		k.given = k.given[1:]
		k.mu.Unlock()
		return key, nil
	}
	k.mu.Unlock()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("sandbox: generating an RSA key: %w", err)
	}
	return key, nil
}

// GenerateKeys generates n RSA-2048 private keys in parallel, for
// WithKeys: tests that start many sandboxes generate them once.
func GenerateKeys(n int) ([]*rsa.PrivateKey, error) {
	keys := make([]*rsa.PrivateKey, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i := range keys {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			keys[i], errs[i] = rsa.GenerateKey(rand.Reader, 2048)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("sandbox: generating RSA keys: %w", err)
	}
	return keys, nil
}

// prepare generates, in parallel, the keys the next n calls of next will
// need beyond the given ones.
func (k *keySource) prepare(n int) error {
	k.mu.Lock()
	missing := n - len(k.given)
	k.mu.Unlock()
	if missing <= 1 {
		return nil
	}
	keys, err := GenerateKeys(missing)
	if err != nil {
		return err
	}
	k.mu.Lock()
	k.given = append(k.given, keys...)
	k.mu.Unlock()
	return nil
}

// newSerial returns a random certificate serial number that prints as
// exactly 40 upper-case hex digits, as WeChat Pay serials do.
func newSerial() (*big.Int, error) {
	lo := new(big.Int).Lsh(big.NewInt(1), 156) // 1 followed by 39 hex zeros
	span := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 159), lo)
	n, err := rand.Int(rand.Reader, span)
	if err != nil {
		return nil, err
	}
	return n.Add(n, lo), nil
}

// selfSigned issues a self-signed certificate for key.
func selfSigned(key *rsa.PrivateKey, serial *big.Int, subject pkix.Name, notBefore, notAfter time.Time) (*x509.Certificate, error) {
	return issue(key, serial, subject, subject, notBefore, notAfter)
}

// issue issues a certificate for key in the name of issuer (signed with
// key itself: the sandbox has no CA, but its certificates carry the names
// WeChat Pay's do).
func issue(key *rsa.PrivateKey, serial *big.Int, subject, issuer pkix.Name, notBefore, notAfter time.Time) (*x509.Certificate, error) {
	if serial == nil {
		var err error
		if serial, err = newSerial(); err != nil {
			return nil, err
		}
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               subject,
		Issuer:                subject,
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		BasicConstraintsValid: true,
	}
	parent := tmpl
	if issuer.String() != subject.String() {
		parent = &x509.Certificate{Subject: issuer}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("sandbox: issuing a certificate: %w", err)
	}
	return x509.ParseCertificate(der)
}

func certPEM(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

func privateKeyPEM(k *rsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

func publicKeyPEM(k *rsa.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(k)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// platformIssuer is the CA that issues WeChat Pay's platform certificates.
var platformIssuer = pkix.Name{
	CommonName:         "Tenpay.com Root CA",
	Organization:       []string{"Tenpay.com"},
	OrganizationalUnit: []string{"Tenpay.com CA Center"},
	Country:            []string{"CN"},
}

// platformSubject is the subject of every platform certificate.
var platformSubject = pkix.Name{
	CommonName:         "Tenpay.com sign",
	Organization:       []string{"Tenpay.com"},
	OrganizationalUnit: []string{"Tenpay.com CA Center"},
	Country:            []string{"CN"},
	Locality:           []string{"ShenZhen"},
}

// platformCert is one platform certificate and its private key.
type platformCert struct {
	cert   *x509.Certificate
	key    *rsa.PrivateKey
	serial string
	// signFrom is when the certificate starts signing (server clock): a
	// rotated-in certificate is listed at once but signs only later, as
	// WeChat Pay does. Zero for the first certificate.
	signFrom time.Time
}

// keyring holds the platform's signing material: its certificates (oldest
// first; the newest unexpired one signs) and the platform public key.
type keyring struct {
	mu       sync.RWMutex
	mode     KeyMode
	certs    []*platformCert
	pubKeyID string
	pubKey   *rsa.PrivateKey
}

// signingKey picks the key an answer is signed with: requestSerial is the
// request's Wechatpay-Serial header (for TransitionMode).
func (k *keyring) signingKey(now time.Time, preferPublicKey bool) (serial string, key *rsa.PrivateKey) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	if k.mode == PublicKeyMode || (k.mode == TransitionMode && preferPublicKey) {
		return k.pubKeyID, k.pubKey
	}
	c := k.current(now)
	return c.serial, c.key
}

// current returns the certificate that signs at now: the newest unexpired
// one whose signing has started, else the newest unexpired one, else the
// newest. Callers hold k.mu.
func (k *keyring) current(now time.Time) *platformCert {
	for i := len(k.certs) - 1; i >= 0; i-- {
		if c := k.certs[i]; now.Before(c.cert.NotAfter) && !now.Before(c.signFrom) {
			return c
		}
	}
	for i := len(k.certs) - 1; i >= 0; i-- {
		if now.Before(k.certs[i].cert.NotAfter) {
			return k.certs[i]
		}
	}
	return k.certs[len(k.certs)-1]
}

// switchNow makes every listed certificate eligible to sign from now on, so
// that the newest signs; it returns its serial.
func (k *keyring) switchNow(now time.Time) string {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, c := range k.certs {
		if c.signFrom.After(now) {
			c.signFrom = now
		}
	}
	return k.current(now).serial
}

// pending returns the serial of a listed certificate that does not sign
// yet and when it starts, or "" when there is none.
func (k *keyring) pending(now time.Time) (string, time.Time) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	for i := len(k.certs) - 1; i >= 0; i-- {
		if c := k.certs[i]; now.Before(c.cert.NotAfter) && now.Before(c.signFrom) {
			return c.serial, c.signFrom
		}
	}
	return "", time.Time{}
}

// listed returns the certificates /v3/certificates lists: the unexpired ones.
func (k *keyring) listed(now time.Time) []*platformCert {
	k.mu.RLock()
	defer k.mu.RUnlock()
	var out []*platformCert
	for _, c := range k.certs {
		if now.Before(c.cert.NotAfter) {
			out = append(out, c)
		}
	}
	return out
}

// certValidity is how long a platform certificate is valid: five years.
const certValidity = 5 * 365 * 24 * time.Hour

// rotationOverlap is how long an old certificate stays valid after a
// rotation: WeChat Pay issues the new certificate ten days before the old
// one expires.
const rotationOverlap = 10 * 24 * time.Hour

func newPlatformCert(key *rsa.PrivateKey, now time.Time) (*platformCert, error) {
	c, err := issue(key, nil, platformSubject, platformIssuer, now.Add(-time.Hour), now.Add(certValidity))
	if err != nil {
		return nil, err
	}
	return &platformCert{cert: c, key: key, serial: auth.SerialNumber(c)}, nil
}

// rotationSwitch is how long after a rotation the new certificate starts
// signing: WeChat Pay lists it about ten days before the old one expires
// and signs with it from about five days before.
const rotationSwitch = 5 * 24 * time.Hour

// rotate adds a new certificate, listed at once and signing from
// switchAfter on, and re-issues the previous ones to expire rotationOverlap
// from now, keeping their keys and serials.
func (k *keyring) rotate(key *rsa.PrivateKey, now time.Time, switchAfter time.Duration) (string, error) {
	nc, err := newPlatformCert(key, now)
	if err != nil {
		return "", err
	}
	nc.signFrom = now.Add(switchAfter)
	k.mu.Lock()
	defer k.mu.Unlock()
	for i, c := range k.certs {
		if c.cert.NotAfter.After(now.Add(rotationOverlap)) {
			re, err := reissue(c, now.Add(rotationOverlap))
			if err != nil {
				return "", err
			}
			k.certs[i] = re
		}
	}
	k.certs = append(k.certs, nc)
	return nc.serial, nil
}

// expire makes the certificate with the given serial expire at t.
func (k *keyring) expire(serial string, t time.Time) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	for i, c := range k.certs {
		if c.serial == serial {
			re, err := reissue(c, t)
			if err != nil {
				return err
			}
			k.certs[i] = re
			return nil
		}
	}
	return fmt.Errorf("sandbox: no platform certificate with serial %s", serial)
}

// reissue re-issues a certificate with the same key and serial and a new
// expiry.
func reissue(c *platformCert, notAfter time.Time) (*platformCert, error) {
	notBefore := c.cert.NotBefore
	if !notBefore.Before(notAfter) {
		notBefore = notAfter.Add(-time.Hour)
	}
	nc, err := issue(c.key, c.cert.SerialNumber, platformSubject, platformIssuer, notBefore, notAfter)
	if err != nil {
		return nil, err
	}
	return &platformCert{cert: nc, key: c.key, serial: c.serial, signFrom: c.signFrom}, nil
}

// certificates returns copies of the platform certificates, oldest first.
func (k *keyring) certificates() []*x509.Certificate {
	k.mu.RLock()
	defer k.mu.RUnlock()
	out := make([]*x509.Certificate, len(k.certs))
	for i, c := range k.certs {
		out[i] = c.cert
	}
	return out
}

func (k *keyring) setMode(m KeyMode) error {
	if m < CertificateMode || m > TransitionMode {
		return errors.New("sandbox: unknown key mode")
	}
	k.mu.Lock()
	k.mode = m
	k.mu.Unlock()
	return nil
}

func (k *keyring) getMode() KeyMode {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.mode
}
