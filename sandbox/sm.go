package sandbox

import (
	"crypto"
	"crypto/cipher"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/gowxpay/wxpay/auth"
	wxmerchant "github.com/gowxpay/wxpay/merchant"
)

// Suite is the 国密 suite as the sandbox needs it: auth.Suite to sign,
// verify, encrypt and decrypt, plus key generation and certificate issuing.
// sm.Suite (package github.com/gowxpay/wxpay/sm) implements it; the sandbox
// takes it as an option so that its own import graph stays free of SM code.
type Suite interface {
	auth.Suite
	// GenerateKey returns a new private key of the suite.
	GenerateKey() (crypto.Signer, error)
	// CreateCertificate issues a DER certificate for pub signed by priv,
	// like x509.CreateCertificate.
	CreateCertificate(template, parent *x509.Certificate, pub crypto.PublicKey, priv crypto.Signer) ([]byte, error)
	// MarshalPrivateKey encodes a private key as PEM (PKCS#8).
	MarshalPrivateKey(key crypto.Signer) ([]byte, error)
	// MarshalPublicKey encodes a public key as PEM (SPKI).
	MarshalPublicKey(pub crypto.PublicKey) ([]byte, error)
}

// WithSuite makes the sandbox speak 国密 as well as RSA: every merchant it
// creates gets SM2 credentials besides its RSA ones (Credentials.SM), the
// platform gets an SM2 certificate (listed by GET
// /v3/certificates?algorithm_type=SM2|ALL, encrypted AEAD_SM4_GCM) and an SM2
// public key. A request signed WECHATPAY2-SM2-WITH-SM3 is verified with the
// merchant's SM2 certificate and answered with an SM2 signature (by the SM2
// certificate, or the SM2 public key as the key mode says); notifications
// are SM2-signed and encrypted AEAD_SM4_GCM; sensitive fields are SM2
// (C1C3C2, ASN.1) when Wechatpay-Serial names an SM2 key; the sub-merchant
// fund-flow bill accepts algorithm=SM4_GCM.
//
//	sb, err := sandbox.New(sandbox.WithSuite(sm.Suite{}))
func WithSuite(s Suite) Option { return func(o *options) { o.suite = s } }

// SMCredentials are a merchant's 国密 credentials on a sandbox started
// WithSuite, in the form a client configures them (wxpay.Config with
// Suite: sm.Suite{}).
type SMCredentials struct {
	// CertificateSerial is the serial of the SM2 merchant certificate.
	CertificateSerial string
	// PrivateKeyPEM is the SM2 merchant API private key (apiclient_key.pem).
	PrivateKeyPEM []byte
	// CertificatePEM is the SM2 merchant API certificate (apiclient_cert.pem).
	CertificatePEM []byte
	// PublicKeyID is the id of the SM2 WeChat Pay public key.
	PublicKeyID string
	// PublicKeyPEM is the SM2 WeChat Pay public key (pub_key.pem).
	PublicKeyPEM []byte
	// PrivateKey and Certificate are the parsed merchant key and
	// certificate.
	PrivateKey  crypto.Signer
	Certificate *x509.Certificate
	// PlatformCertificates are the SM2 platform certificates, oldest first.
	PlatformCertificates []*x509.Certificate
	// Suite is the suite the sandbox was started with.
	Suite Suite
}

// smCreds are the SM2 credentials of one merchant.
type smCreds struct {
	key    crypto.Signer
	cert   *x509.Certificate
	serial string
}

// smRing is the platform's SM2 signing material.
type smRing struct {
	suite    Suite
	mu       sync.RWMutex
	certs    []*smPlatformCert // oldest first
	pubKeyID string
	pubKey   crypto.Signer
}

type smPlatformCert struct {
	cert   *x509.Certificate
	key    crypto.Signer
	serial string
}

// smIssue issues a self-signed certificate of the suite.
func smIssue(suite Suite, key crypto.Signer, subject pkix.Name, notBefore, notAfter time.Time) (*x509.Certificate, error) {
	serial, err := newSerial()
	if err != nil {
		return nil, err
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
	der, err := suite.CreateCertificate(tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("sandbox: issuing an %s certificate: %w", suite.Name(), err)
	}
	return suite.ParseCertificate(der)
}

// initSM gives the platform and every merchant their SM2 keys.
func (s *Server) initSM() error {
	suite := s.opts.suite
	now := s.now()
	r := &smRing{suite: suite}
	key, err := suite.GenerateKey()
	if err != nil {
		return fmt.Errorf("sandbox: generating an %s key: %w", suite.Name(), err)
	}
	c, err := smIssue(suite, key, platformSubject, now.Add(-time.Hour), now.Add(certValidity))
	if err != nil {
		return err
	}
	r.certs = []*smPlatformCert{{cert: c, key: key, serial: auth.SerialNumber(c)}}
	if r.pubKey, err = suite.GenerateKey(); err != nil {
		return fmt.Errorf("sandbox: generating an %s key: %w", suite.Name(), err)
	}
	r.pubKeyID = "PUB_KEY_ID_02" + randomString(digits, 28)
	for _, m := range s.merchants {
		k, err := suite.GenerateKey()
		if err != nil {
			return fmt.Errorf("sandbox: generating an %s key: %w", suite.Name(), err)
		}
		subject := pkix.Name{CommonName: m.MchID, Organization: []string{"微信商户系统"}, OrganizationalUnit: []string{"wxpay sandbox (" + suite.Name() + ")"}, Country: []string{"CN"}}
		mc, err := smIssue(suite, k, subject, now.Add(-time.Hour), now.Add(certValidity))
		if err != nil {
			return err
		}
		m.sm = &smCreds{key: k, cert: mc, serial: auth.SerialNumber(mc)}
	}
	s.sm = r
	return nil
}

// signingKey picks the SM2 key an answer is signed with, as keyring's does.
func (r *smRing) signingKey(now time.Time, mode KeyMode, preferPublicKey bool) (string, crypto.Signer) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if mode == PublicKeyMode || (mode == TransitionMode && preferPublicKey) {
		return r.pubKeyID, r.pubKey
	}
	for i := len(r.certs) - 1; i >= 0; i-- {
		if now.Before(r.certs[i].cert.NotAfter) {
			return r.certs[i].serial, r.certs[i].key
		}
	}
	c := r.certs[len(r.certs)-1]
	return c.serial, c.key
}

// keyFor returns the SM2 platform key a Wechatpay-Serial names, or nil.
func (r *smRing) keyFor(serial string) crypto.Signer {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if serial == r.pubKeyID {
		return r.pubKey
	}
	for _, c := range r.certs {
		if strings.EqualFold(c.serial, serial) {
			return c.key
		}
	}
	return nil
}

func (r *smRing) listed(now time.Time) []*smPlatformCert {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []*smPlatformCert
	for _, c := range r.certs {
		if now.Before(c.cert.NotAfter) {
			out = append(out, c)
		}
	}
	return out
}

func (r *smRing) certificates() []*x509.Certificate {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]*x509.Certificate, len(r.certs))
	for i, c := range r.certs {
		out[i] = c.cert
	}
	return out
}

// rotate adds a new SM2 platform certificate, which signs from now on, and
// makes the previous ones expire rotationOverlap from now (their serials
// stay; the sandbox re-issues them).
func (r *smRing) rotate(now time.Time) (string, error) {
	key, err := r.suite.GenerateKey()
	if err != nil {
		return "", err
	}
	c, err := smIssue(r.suite, key, platformSubject, now.Add(-time.Hour), now.Add(certValidity))
	if err != nil {
		return "", err
	}
	nc := &smPlatformCert{cert: c, key: key, serial: auth.SerialNumber(c)}
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, old := range r.certs {
		if old.cert.NotAfter.After(now.Add(rotationOverlap)) {
			re, err := r.reissue(old, now.Add(rotationOverlap))
			if err != nil {
				return "", err
			}
			r.certs[i] = re
		}
	}
	r.certs = append(r.certs, nc)
	return nc.serial, nil
}

func (r *smRing) reissue(c *smPlatformCert, notAfter time.Time) (*smPlatformCert, error) {
	tmpl := &x509.Certificate{
		SerialNumber: c.cert.SerialNumber, Subject: platformSubject, Issuer: platformSubject,
		NotBefore: c.cert.NotBefore, NotAfter: notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		BasicConstraintsValid: true,
	}
	der, err := r.suite.CreateCertificate(tmpl, tmpl, c.key.Public(), c.key)
	if err != nil {
		return nil, err
	}
	nc, err := r.suite.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &smPlatformCert{cert: nc, key: c.key, serial: c.serial}, nil
}

// RotateSMPlatformCertificate adds a new SM2 platform certificate, as
// RotatePlatformCertificate does for RSA, and returns its serial. It fails
// unless the sandbox was started WithSuite.
func (s *Server) RotateSMPlatformCertificate() (string, error) {
	if s.sm == nil {
		return "", errors.New("sandbox: not started WithSuite: there are no SM2 platform certificates")
	}
	return s.sm.rotate(s.now())
}

// smCredentials returns m's 国密 credentials, or nil.
func (s *Server) smCredentials(m *merchantState) *SMCredentials {
	if s.sm == nil || m.sm == nil {
		return nil
	}
	suite := s.sm.suite
	kp, err := suite.MarshalPrivateKey(m.sm.key)
	if err != nil {
		return nil
	}
	pp, err := suite.MarshalPublicKey(s.sm.pubKey.Public())
	if err != nil {
		return nil
	}
	c := &SMCredentials{
		CertificateSerial: m.sm.serial,
		PrivateKeyPEM:     kp,
		CertificatePEM:    certPEM(m.sm.cert),
		PublicKeyID:       s.sm.pubKeyID,
		PublicKeyPEM:      pp,
		PrivateKey:        m.sm.key,
		Certificate:       m.sm.cert,
		Suite:             suite,
	}
	if s.ring.getMode() != PublicKeyMode {
		c.PlatformCertificates = s.sm.certificates()
	}
	return c
}

// smAEAD returns AEAD_SM4_GCM under a merchant's APIv3 key.
func (s *Server) smAEAD(m *merchantState) (cipher.AEAD, error) {
	return s.sm.suite.NewAEAD(m.APIv3Key)
}

// smCertificates lists the SM2 platform certificates for GET
// /v3/certificates?algorithm_type=SM2 (or ALL).
func (s *Server) smCertificates(c *call) ([]any, error) {
	if s.sm == nil {
		return nil, nil
	}
	aead, err := s.smAEAD(c.merchant)
	if err != nil {
		return nil, err
	}
	var data []any
	for _, pc := range s.sm.listed(s.now()) {
		nonce := randomString(alnum, 12)
		pemText := strings.TrimRight(string(certPEM(pc.cert)), "\n")
		ct, err := auth.SealAEAD(aead, nonce, "certificate", []byte(pemText))
		if err != nil {
			return nil, err
		}
		data = append(data, map[string]any{
			"serial_no":      pc.serial,
			"effective_time": wxTime(pc.cert.NotBefore),
			"expire_time":    wxTime(pc.cert.NotAfter),
			"encrypt_certificate": map[string]any{
				"algorithm": s.sm.suite.AEADAlgorithm(), "nonce": nonce,
				"associated_data": "certificate", "ciphertext": ct,
			},
		})
	}
	return data, nil
}

// smSign signs a message with an SM2 platform key.
func (s *Server) smSign(preferPublicKey bool, message []byte) (serial, signature string, err error) {
	serial, key := s.sm.signingKey(s.now(), s.ring.getMode(), preferPublicKey)
	sig, err := s.sm.suite.Sign(key, message)
	if err != nil {
		return "", "", err
	}
	return serial, base64.StdEncoding.EncodeToString(sig), nil
}

// smDecryptField opens a sensitive field encrypted with SM2 to an SM2
// platform key.
func (s *Server) smDecryptField(key crypto.Signer, value string) error {
	raw, err := base64.StdEncoding.DecodeString(value)
	if err != nil {
		return err
	}
	_, err = s.sm.suite.Decrypt(key, raw)
	return err
}

// smEncryptBill encrypts a bill part for algorithm=SM4_GCM: a one-off
// 32-character key, encrypted with SM2 to the merchant's SM2 certificate
// (encrypt_key), and the part sealed with SM4-GCM under the key derived
// from it as from an APIv3 key (the first 16 bytes of its SM3 digest). How
// WeChat Pay derives the SM4 key of a bill part is not documented publicly;
// this is the sandbox's assumption, mirrored by the client.
func (s *Server) smEncryptBill(m *merchantState, plain []byte) (ct []byte, encKey, nonce string, err error) {
	key := randomString(alnum, auth.APIv3KeySize)
	aead, err := s.sm.suite.NewAEAD([]byte(key))
	if err != nil {
		return nil, "", "", err
	}
	nonce = randomString(alnum, aead.NonceSize())
	ct = aead.Seal(nil, []byte(nonce), plain, nil)
	ek, err := s.sm.suite.Encrypt(m.sm.cert.PublicKey, []byte(key))
	if err != nil {
		return nil, "", "", err
	}
	return ct, base64.StdEncoding.EncodeToString(ek), nonce, nil
}

// SMConfig returns a client configuration with the merchant's 国密
// credentials (Config.Suite set), in the key mode the sandbox signs in. It
// fails unless the sandbox was started WithSuite.
func (c Credentials) SMConfig() (wxmerchant.Config, error) {
	if c.SM == nil {
		return wxmerchant.Config{}, errors.New("sandbox: no 国密 credentials: start the sandbox WithSuite(sm.Suite{})")
	}
	cfg := c.Config()
	cfg.Suite = c.SM.Suite
	cfg.PrivateKey = c.SM.PrivateKeyPEM
	cfg.Certificate = c.SM.CertificatePEM
	cfg.CertificateSerial = c.SM.CertificateSerial
	cfg.PublicKeyID, cfg.PublicKey = "", nil
	if cfg.KeyMode != auth.CertificateMode {
		cfg.PublicKeyID, cfg.PublicKey = c.SM.PublicKeyID, c.SM.PublicKeyPEM
	}
	return cfg, nil
}
