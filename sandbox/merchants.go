package sandbox

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/gowxpay/wxpay/auth"
)

// Merchant describes a merchant account of the sandbox: a direct merchant
// (直连商户), or a service provider (服务商) when given to WithPartner. Zero
// fields are generated.
type Merchant struct {
	// MchID is the merchant id (商户号), ten digits when generated.
	MchID string
	// AppID is the app id bound to the merchant (sp_appid of a partner).
	AppID string
	// PrivateKey is the merchant API private key (apiclient_key.pem).
	PrivateKey *rsa.PrivateKey
	// Certificate is the merchant API certificate (apiclient_cert.pem); it
	// must hold PrivateKey's public key. Generated (self-signed) when nil.
	Certificate *x509.Certificate
	// APIv3Key is the 32-byte APIv3 key.
	APIv3Key []byte
	// SubMerchants are a service provider's sub-merchants (特约商户); one is
	// generated for a partner that has none. Ignored for direct merchants.
	SubMerchants []SubMerchant
}

// SubMerchant is a sub-merchant (特约商户) of a service provider.
type SubMerchant struct {
	// MchID is the sub_mchid.
	MchID string
	// AppID is the sub_appid.
	AppID string
}

// merchantState is a Merchant as the server keeps it.
type merchantState struct {
	Merchant
	serial  string
	sm      *smCreds // the 国密 credentials, on a sandbox started WithSuite
	partner bool
	subs    map[string]SubMerchant
}

// Credentials is everything a client needs to call the sandbox as one
// merchant. It holds secrets: keep it in tests and local tools.
type Credentials struct {
	// BaseURL is the sandbox's URL, once it listens (Start or StartTest).
	BaseURL string
	// PartnerMode is true for a service provider; SubMchID and SubAppID then
	// name its first sub-merchant.
	PartnerMode bool
	// MchID is the merchant id (sp_mchid in partner mode).
	MchID string
	// AppID is the app id (sp_appid in partner mode).
	AppID string
	// SubMchID is the first sub-merchant's id, in partner mode.
	SubMchID string
	// SubAppID is the first sub-merchant's app id, in partner mode.
	SubAppID string
	// CertificateSerial is the merchant certificate serial number.
	CertificateSerial string
	// PrivateKey is the merchant API private key.
	PrivateKey *rsa.PrivateKey
	// Certificate is the merchant API certificate.
	Certificate *x509.Certificate
	// APIv3Key is the 32-byte APIv3 key.
	APIv3Key []byte
	// PublicKeyID is the platform public key id (PUB_KEY_ID_…).
	PublicKeyID string
	// PublicKey is the platform public key (微信支付公钥).
	PublicKey *rsa.PublicKey
	// PlatformCertificates are the platform certificates at the time the
	// credentials were read, oldest first.
	PlatformCertificates []*x509.Certificate
	// KeyMode is how the sandbox signed at the time the credentials were
	// read; a client configures the same mode.
	KeyMode KeyMode
	// SM are the merchant's 国密 credentials on a sandbox started
	// WithSuite; nil otherwise.
	SM *SMCredentials
}

// credentialsFile is the JSON written by WriteDir and served by the control
// API.
type credentialsFile struct {
	BaseURL           string   `json:"base_url,omitempty"`
	KeyMode           string   `json:"key_mode,omitempty"`
	PartnerMode       bool     `json:"partner_mode"`
	MchID             string   `json:"mchid"`
	AppID             string   `json:"appid"`
	SubMchID          string   `json:"sub_mchid,omitempty"`
	SubAppID          string   `json:"sub_appid,omitempty"`
	SerialNo          string   `json:"serial_no"`
	APIv3Key          string   `json:"apiv3_key"`
	PublicKeyID       string   `json:"public_key_id"`
	PrivateKeyPEM     string   `json:"private_key_pem,omitempty"`
	CertificatePEM    string   `json:"certificate_pem,omitempty"`
	PublicKeyPEM      string   `json:"public_key_pem,omitempty"`
	PrivateKeyFile    string   `json:"private_key_file,omitempty"`
	CertificateFile   string   `json:"certificate_file,omitempty"`
	PublicKeyFile     string   `json:"public_key_file,omitempty"`
	PlatformCertFiles []string `json:"platform_certificate_files,omitempty"`
}

func (c Credentials) file(withPEM bool) (credentialsFile, error) {
	f := credentialsFile{
		BaseURL: c.BaseURL, KeyMode: c.KeyMode.clientMode().String(), PartnerMode: c.PartnerMode, MchID: c.MchID, AppID: c.AppID,
		SubMchID: c.SubMchID, SubAppID: c.SubAppID, SerialNo: c.CertificateSerial,
		APIv3Key: string(c.APIv3Key), PublicKeyID: c.PublicKeyID,
	}
	if withPEM {
		if c.PrivateKey == nil || c.Certificate == nil || c.PublicKey == nil {
			return f, errors.New("sandbox: incomplete credentials")
		}
		kp, err := privateKeyPEM(c.PrivateKey)
		if err != nil {
			return f, err
		}
		pp, err := publicKeyPEM(c.PublicKey)
		if err != nil {
			return f, err
		}
		f.PrivateKeyPEM, f.CertificatePEM, f.PublicKeyPEM = string(kp), string(certPEM(c.Certificate)), string(pp)
	}
	return f, nil
}

// Files written by WriteDir.
const (
	PrivateKeyFile  = "apiclient_key.pem"
	CertificateFile = "apiclient_cert.pem"
	PublicKeyFile   = "pub_key.pem"
	JSONFile        = "wxpay.json"
	EnvFile         = "wxpay.env"
)

// WriteDir writes the credentials into dir (created if needed) the way the
// merchant platform hands them out: apiclient_key.pem, apiclient_cert.pem,
// pub_key.pem (the platform public key), wechatpay_<serial>.pem for each
// platform certificate, and wxpay.json and wxpay.env with the ids, the
// serial, the APIv3 key and the file paths. Files are readable by the owner
// only. (It is not io.WriterTo's WriteTo, hence the name.)
func (c Credentials) WriteDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	f, err := c.file(true)
	if err != nil {
		return err
	}
	write := func(name string, data []byte) error {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			return fmt.Errorf("sandbox: %w", err)
		}
		return nil
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	if err := write(PrivateKeyFile, []byte(f.PrivateKeyPEM)); err != nil {
		return err
	}
	if err := write(CertificateFile, []byte(f.CertificatePEM)); err != nil {
		return err
	}
	if err := write(PublicKeyFile, []byte(f.PublicKeyPEM)); err != nil {
		return err
	}
	for _, pc := range c.PlatformCertificates {
		name := "wechatpay_" + auth.SerialNumber(pc) + ".pem"
		if err := write(name, certPEM(pc)); err != nil {
			return err
		}
		f.PlatformCertFiles = append(f.PlatformCertFiles, filepath.Join(abs, name))
	}
	f.PrivateKeyPEM, f.CertificatePEM, f.PublicKeyPEM = "", "", ""
	f.PrivateKeyFile = filepath.Join(abs, PrivateKeyFile)
	f.CertificateFile = filepath.Join(abs, CertificateFile)
	f.PublicKeyFile = filepath.Join(abs, PublicKeyFile)
	js, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	if err := write(JSONFile, append(js, '\n')); err != nil {
		return err
	}
	var env strings.Builder
	vars := map[string]string{
		"WXPAY_BASE_URL": f.BaseURL, "WXPAY_MCHID": f.MchID, "WXPAY_APPID": f.AppID,
		"WXPAY_SUB_MCHID": f.SubMchID, "WXPAY_SUB_APPID": f.SubAppID,
		"WXPAY_SERIAL_NO": f.SerialNo, "WXPAY_APIV3_KEY": f.APIv3Key,
		"WXPAY_PUBLIC_KEY_ID": f.PublicKeyID, "WXPAY_PRIVATE_KEY_FILE": f.PrivateKeyFile,
		"WXPAY_CERTIFICATE_FILE": f.CertificateFile, "WXPAY_PUBLIC_KEY_FILE": f.PublicKeyFile,
		"WXPAY_PARTNER_MODE": fmt.Sprint(f.PartnerMode),
	}
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if vars[k] != "" {
			fmt.Fprintf(&env, "%s=%s\n", k, vars[k])
		}
	}
	return write(EnvFile, []byte(env.String()))
}

const digits = "0123456789"
const alnum = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

// randomString returns n characters drawn from set.
func randomString(set string, n int) string {
	b := make([]byte, n)
	max := big.NewInt(int64(len(set)))
	for i := range b {
		v, err := rand.Int(rand.Reader, max)
		if err != nil {
			b[i] = set[i%len(set)]
			continue
		}
		b[i] = set[v.Int64()]
	}
	return string(b)
}

// newAppID returns an app id like wxd678efh567hg6787.
func newAppID() string { return "wx" + randomString("0123456789abcdef", 16) }

// completeMerchant fills the zero fields of m.
func completeMerchant(m Merchant, mchid string, keys *keySource, now time.Time) (*merchantState, error) {
	if m.MchID == "" {
		m.MchID = mchid
	}
	if m.AppID == "" {
		m.AppID = newAppID()
	}
	if m.APIv3Key == nil {
		m.APIv3Key = []byte(randomString(alnum, auth.APIv3KeySize))
	}
	if err := auth.CheckAPIv3Key(m.APIv3Key); err != nil {
		return nil, fmt.Errorf("sandbox: merchant %s: %w", m.MchID, err)
	}
	if m.PrivateKey == nil {
		if m.Certificate != nil {
			return nil, fmt.Errorf("sandbox: merchant %s: a certificate without its private key", m.MchID)
		}
		k, err := keys.next()
		if err != nil {
			return nil, err
		}
		m.PrivateKey = k
	}
	if m.Certificate == nil {
		subject := pkix.Name{
			CommonName:         m.MchID,
			Organization:       []string{"微信商户系统"},
			OrganizationalUnit: []string{"wxpay sandbox"},
			Country:            []string{"CN"},
		}
		c, err := selfSigned(m.PrivateKey, nil, subject, now.Add(-time.Hour), now.Add(certValidity))
		if err != nil {
			return nil, err
		}
		m.Certificate = c
	} else if pub, ok := m.Certificate.PublicKey.(*rsa.PublicKey); !ok || !auth.SameKey(m.PrivateKey, pub) {
		return nil, fmt.Errorf("sandbox: merchant %s: the certificate does not hold the private key's public key", m.MchID)
	}
	return &merchantState{Merchant: m, serial: auth.SerialNumber(m.Certificate)}, nil
}
