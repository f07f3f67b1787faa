// Package merchant turns a merchant's configuration into a connection to
// WeChat Pay: it loads and checks the credentials, builds the request signer,
// the platform key store and the verifying transport, and returns a Conn
// whose *core.Conn every generated client (gen/<area>.New) sends through.
//
// Most programs use wxpay.NewClient, which does this and wires every
// business area. A program that needs one area only connects here and
// builds that area's client, so that it compiles nothing else:
//
//	conn, err := merchant.Connect(ctx, merchant.Config{...})
//	if err != nil { … }
//	defer conn.Close()
//	pay := payments.New(conn.Core())
package merchant

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/gowxpay/wxpay/auth"
	"github.com/gowxpay/wxpay/core"
)

// Config is everything a client needs to talk to WeChat Pay as one merchant
// (or as one service provider, in partner mode). Fields holding PEM can be
// given as bytes or as a file path; give one of the two.
//
// The five credentials, and where they come from (商户平台 → 账户中心 → API安全):
//   - MchID: the merchant id (商户号);
//   - the merchant API private key (apiclient_key.pem) and its certificate's
//     serial number (证书序列号), or the certificate itself (apiclient_cert.pem),
//     from which the serial is read and checked against the key;
//   - the APIv3 key (APIv3密钥), 32 characters;
//   - how WeChat Pay's answers are verified: the WeChat Pay public key
//     (微信支付公钥, pub_key.pem, with its PUB_KEY_ID_…) — every merchant created
//     since late 2024 has one — or the platform certificates (平台证书), which
//     the client downloads with the APIv3 key.
type Config struct {
	// MchID is the merchant id; in partner mode the service provider's
	// (sp_mchid).
	MchID string

	// PrivateKey is the merchant API private key, PEM (apiclient_key.pem),
	// PKCS#8 or PKCS#1. Or PrivateKeyFile.
	PrivateKey     []byte
	PrivateKeyFile string

	// CertificateSerial is the serial number of the merchant API
	// certificate. It may be left empty when Certificate (or
	// CertificateFile) is given: the serial is then read from it, after
	// checking that it belongs to the private key.
	CertificateSerial string
	Certificate       []byte
	CertificateFile   string

	// APIv3Key is the 32-byte APIv3 key. It decrypts platform certificates
	// (certificate and transition modes) and notifications.
	APIv3Key string

	// PublicKeyID (PUB_KEY_ID_…) and PublicKey (pub_key.pem, PEM) or
	// PublicKeyFile: the WeChat Pay public key.
	PublicKeyID   string
	PublicKey     []byte
	PublicKeyFile string

	// Suite is the opt-in signature and encryption suite: nil for RSA
	// (WECHATPAY2-SHA256-RSA2048, the default), sm.Suite{} (package
	// github.com/gowxpay/wxpay/sm) for 国密: SM2 merchant key and
	// certificate, SM2 platform certificates (downloaded with
	// algorithm_type=SM2) or SM2 public key, AEAD_SM4_GCM notifications.
	// The key, certificate and public key above are then SM2 ones.
	Suite auth.Suite

	// KeyMode chooses how answers are verified. Zero means: the public key
	// when one is configured, otherwise platform certificates. Set
	// auth.TransitionMode while moving from certificates to the public key.
	KeyMode auth.KeyMode
	// CertificateCacheDir, in certificate mode, keeps the downloaded
	// platform certificates across restarts.
	CertificateCacheDir string
	// CertificateCache, in certificate mode and instead of
	// CertificateCacheDir, keeps them in a store the instances of a
	// service share (Redis: github.com/gowxpay/wxpay/contrib/redis).
	CertificateCache auth.Cache
	// CertificateRefresh is how often platform certificates are downloaded
	// again; one hour when zero, never when negative.
	CertificateRefresh time.Duration

	// PartnerMode selects the service-provider mode (服务商): MchID is then
	// the service provider's, and calls name a sub-merchant.
	PartnerMode bool
	// AppID fills appid (direct) or sp_appid (partner) when a request
	// leaves it empty.
	AppID string
	// SubMchID and SubAppID, in partner mode, fill sub_mchid and sub_appid
	// when a request leaves them empty and the operation requires them
	// (payments, refunds, profit sharing, the sub-merchant fund-flow
	// bill…). Where sub_mchid is optional and leaving it out means
	// something, it is not filled: bills.ApplyTrade without SubMchID
	// applies for the service provider's bill covering every sub-merchant;
	// set SubMchID in its parameters for one sub-merchant's.
	SubMchID, SubAppID string
	// NotifyURL fills notify_url when a request leaves it empty.
	NotifyURL string

	// BaseURL is the API host; https://api.mch.weixin.qq.com when empty
	// (a sandbox URL in tests).
	BaseURL string
	// Failover sends a request again to the backup host (BackupURL, or
	// https://api2.mch.weixin.qq.com) when the primary cannot be connected
	// to — never after an answer.
	Failover  bool
	BackupURL string

	// HTTPClient is copied, and its Transport wrapped with verification; a
	// client with a 30-second timeout when nil.
	HTTPClient *http.Client
	// Logger receives a debug record per request and the certificate
	// refreshes, never keys, signatures or bodies; nil disables logging.
	Logger *slog.Logger
	// MaxAttempts bounds how often one call is sent (retries only follow
	// connection errors, 429 and retryable 5xx); 3 when zero.
	MaxAttempts int
	// MaxClockSkew is the clock difference accepted on signed answers;
	// five minutes when zero.
	MaxClockSkew time.Duration
	// MaxBillSize bounds the uncompressed bytes DownloadBill writes;
	// DefaultMaxBillSize when zero. A gzip stream that expands more than
	// MaxBillRatio-fold is refused too. Both are checked while the bill is
	// read, before its digest: a small compressed bomb stops early.
	MaxBillSize int64
	// UserAgent is appended to wxpay's User-Agent.
	UserAgent string
	// Now is the clock; time.Now when nil. For tests.
	Now func() time.Time
}

// ConfigError is a configuration mistake. It names the field and says what
// to check, never the secret value.
type ConfigError struct {
	Field  string
	Reason string
}

func (e *ConfigError) Error() string {
	return "wxpay: Config." + e.Field + ": " + e.Reason
}

func cfgErr(field, format string, args ...any) error {
	return &ConfigError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// credentials are the parsed secrets of a Config.
type credentials struct {
	suite    auth.Suite
	skey     crypto.Signer    // the merchant key of suite
	spub     crypto.PublicKey // the WeChat Pay public key of suite
	key      *rsa.PrivateKey
	serial   string
	cert     *x509.Certificate
	apiv3    []byte
	pubID    string
	pub      *rsa.PublicKey
	keyMode  auth.KeyMode
	baseURL  string
	backup   string
	maxSkew  time.Duration
	now      func() time.Time
	coreMode core.Mode
}

// pemInput returns the PEM of a field given as bytes or as a file.
func pemInput(field string, data []byte, file string, required bool, what string) ([]byte, error) {
	switch {
	case len(data) > 0 && file != "":
		return nil, cfgErr(field, "set %s or %sFile, not both", field, field)
	case len(data) > 0:
		return data, nil
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, cfgErr(field+"File", "cannot read %s: %v", what, err)
		}
		return b, nil
	case required:
		return nil, cfgErr(field, "missing: give %s as PEM in %s or a path in %sFile", what, field, field)
	}
	return nil, nil
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// load checks cfg and parses its credentials.
func (cfg *Config) load() (*credentials, error) {
	c := &credentials{now: cfg.Now, maxSkew: cfg.MaxClockSkew}
	if c.now == nil {
		c.now = time.Now
	}
	if c.maxSkew == 0 {
		c.maxSkew = auth.DefaultMaxSkew
	}
	if !isDigits(cfg.MchID) {
		return nil, cfgErr("MchID", "the merchant id (商户号) is a number, e.g. 1900000109; got %q", cfg.MchID)
	}
	keyPEM, err := pemInput("PrivateKey", cfg.PrivateKey, cfg.PrivateKeyFile, true, "the merchant API private key (apiclient_key.pem)")
	if err != nil {
		return nil, err
	}
	c.suite = cfg.Suite
	if c.suite != nil {
		if c.skey, err = c.suite.ParsePrivateKey(keyPEM); err != nil {
			return nil, cfgErr("PrivateKey", "%v%s", err, mixHint(c.suite, keyPEM))
		}
	} else if c.key, err = auth.ParsePrivateKey(keyPEM); err != nil {
		return nil, cfgErr("PrivateKey", "%v%s", strings.TrimPrefix(err.Error(), "auth: "), mixHint(nil, keyPEM))
	}
	certPEM, err := pemInput("Certificate", cfg.Certificate, cfg.CertificateFile, false, "the merchant API certificate (apiclient_cert.pem)")
	if err != nil {
		return nil, err
	}
	serial := strings.ToUpper(strings.TrimSpace(cfg.CertificateSerial))
	if certPEM != nil && c.suite != nil {
		if c.cert, err = auth.ParseSuiteCertificate(c.suite, certPEM); err != nil {
			return nil, cfgErr("Certificate", "%v%s", strings.TrimPrefix(err.Error(), "auth: "), mixHint(c.suite, certPEM))
		}
		s, err := auth.SuiteMerchantSerial(c.suite, c.cert, c.skey)
		if err != nil {
			return nil, cfgErr("Certificate", "%v", strings.TrimPrefix(err.Error(), "auth: "))
		}
		if now := c.now(); now.After(c.cert.NotAfter) {
			return nil, cfgErr("Certificate", "the merchant %s certificate (serial %s) expired on %s", c.suite.Name(), s, c.cert.NotAfter.Format(time.DateOnly))
		}
		if serial != "" && serial != s {
			return nil, cfgErr("CertificateSerial", "%s is not the serial of the configured certificate (%s); fix one of them, or leave CertificateSerial empty", serial, s)
		}
		serial = s
	} else if certPEM != nil {
		if c.cert, err = auth.ParseMerchantCertificate(certPEM); err != nil {
			return nil, cfgErr("Certificate", "%v%s", strings.TrimPrefix(err.Error(), "auth: "), mixHint(nil, certPEM))
		}
		s, err := auth.MerchantSerial(c.cert, c.key, c.now())
		if err != nil {
			return nil, cfgErr("Certificate", "%v", strings.TrimPrefix(err.Error(), "auth: "))
		}
		if serial != "" && serial != s {
			return nil, cfgErr("CertificateSerial", "%s is not the serial of the configured certificate (%s); fix one of them, or leave CertificateSerial empty", serial, s)
		}
		serial = s
	}
	if serial == "" {
		return nil, cfgErr("CertificateSerial", "missing: give the merchant API certificate's serial number (证书序列号), or the certificate itself (Certificate/CertificateFile, apiclient_cert.pem)")
	}
	c.serial = serial
	if cfg.APIv3Key != "" {
		c.apiv3 = []byte(cfg.APIv3Key)
		if err := auth.CheckAPIv3Key(c.apiv3); err != nil {
			return nil, cfgErr("APIv3Key", "%s", apiv3LengthReason(c.apiv3))
		}
	}
	pubPEM, err := pemInput("PublicKey", cfg.PublicKey, cfg.PublicKeyFile, false, "the WeChat Pay public key (pub_key.pem)")
	if err != nil {
		return nil, err
	}
	if pubPEM != nil || cfg.PublicKeyID != "" {
		if err := auth.CheckPublicKeyID(cfg.PublicKeyID); err != nil {
			return nil, cfgErr("PublicKeyID", "%v", strings.TrimPrefix(err.Error(), "auth: "))
		}
		if pubPEM == nil {
			return nil, cfgErr("PublicKey", "PublicKeyID is set but the WeChat Pay public key itself (pub_key.pem) is not: set PublicKey or PublicKeyFile")
		}
		if c.suite != nil {
			if c.spub, err = c.suite.ParsePublicKey(pubPEM); err != nil {
				return nil, cfgErr("PublicKey", "%v%s", err, mixHint(c.suite, pubPEM))
			}
			if eq, ok := c.skey.Public().(interface{ Equal(crypto.PublicKey) bool }); ok && eq.Equal(c.spub) {
				return nil, cfgErr("PublicKey", "the configured WeChat Pay public key is the merchant's own key (apiclient_cert.pem / apiclient_key.pem); use pub_key.pem from 账户中心 → API安全 → 微信支付公钥")
			}
		} else {
			if c.pub, err = auth.ParsePlatformPublicKey(pubPEM); err != nil {
				return nil, cfgErr("PublicKey", "%v%s", strings.TrimPrefix(err.Error(), "auth: "), mixHint(nil, pubPEM))
			}
			if err := auth.CheckPlatformPublicKey(c.pub, c.key); err != nil {
				return nil, cfgErr("PublicKey", "%v", strings.TrimPrefix(err.Error(), "auth: "))
			}
		}
		c.pubID = cfg.PublicKeyID
	}
	c.keyMode = cfg.KeyMode
	if c.keyMode == 0 {
		c.keyMode = auth.CertificateMode
		if c.pub != nil || c.spub != nil {
			c.keyMode = auth.PublicKeyMode
		}
	}
	switch c.keyMode {
	case auth.CertificateMode, auth.TransitionMode:
		if c.apiv3 == nil {
			return nil, cfgErr("APIv3Key", "missing: %s mode downloads the platform certificates, which only the APIv3 key decrypts; or configure the WeChat Pay public key (PublicKeyID and PublicKey) instead", c.keyMode)
		}
		if c.keyMode == auth.TransitionMode && c.pub == nil && c.spub == nil {
			return nil, cfgErr("PublicKey", "transition mode needs the WeChat Pay public key and its PUB_KEY_ID as well as the platform certificates")
		}
	case auth.PublicKeyMode:
		if c.pub == nil && c.spub == nil {
			return nil, cfgErr("PublicKey", "public-key mode needs PublicKeyID and PublicKey (pub_key.pem)")
		}
	default:
		return nil, cfgErr("KeyMode", "unknown mode %d", int(c.keyMode))
	}
	if cfg.PartnerMode {
		if cfg.SubMchID != "" && !isDigits(cfg.SubMchID) {
			return nil, cfgErr("SubMchID", "a sub-merchant id is a number; got %q", cfg.SubMchID)
		}
		if cfg.SubMchID == cfg.MchID && cfg.SubMchID != "" {
			return nil, cfgErr("SubMchID", "is the same as MchID: in partner mode MchID is the service provider's id and SubMchID the sub-merchant's")
		}
	} else if cfg.SubMchID != "" || cfg.SubAppID != "" {
		return nil, cfgErr("SubMchID", "sub-merchant ids are for partner mode (服务商); set PartnerMode, or leave SubMchID and SubAppID empty")
	}
	c.baseURL = cfg.BaseURL
	if c.baseURL == "" {
		c.baseURL = core.DefaultBaseURL
	}
	if cfg.Failover {
		c.backup = cfg.BackupURL
		if c.backup == "" {
			if cfg.BaseURL != "" && cfg.BaseURL != core.DefaultBaseURL {
				return nil, cfgErr("BackupURL", "Failover with a custom BaseURL needs a BackupURL")
			}
			c.backup = core.DefaultBackupURL
		}
	} else if cfg.BackupURL != "" {
		return nil, cfgErr("BackupURL", "set Failover to use it")
	}
	c.coreMode = core.Mode{
		Partner:   cfg.PartnerMode,
		MchID:     cfg.MchID,
		AppID:     cfg.AppID,
		SubMchID:  cfg.SubMchID,
		SubAppID:  cfg.SubAppID,
		NotifyURL: cfg.NotifyURL,
	}
	return c, nil
}

// apiv3LengthReason explains an APIv3 key of the wrong length with what
// the length shows, and nothing it does not: the APIv2 key is also 32
// characters, so a key of another length cannot be it.
func apiv3LengthReason(k []byte) string {
	if t := bytes.TrimSpace(k); len(t) == auth.APIv3KeySize {
		return fmt.Sprintf("has %d bytes: 32 characters with spaces or a line break around them; remove those", len(k))
	}
	return fmt.Sprintf("must be exactly 32 bytes, as set in 商户平台 → 账户中心 → API安全 → APIv3密钥; this one has %d: copy the whole key again (or set a new one there if nobody knows it)", len(k))
}

// mixHint explains a key or certificate that does not parse when it belongs
// to the other suite: an SM2 key in an RSA configuration, or the reverse.
func mixHint(suite auth.Suite, pemBytes []byte) string {
	got := auth.KeyAlgorithm(pemBytes)
	switch {
	case suite == nil && got == "SM2":
		return " (it is an SM2 (国密) key: set Config.Suite to sm.Suite{} to use the 国密 suite, or give the RSA credentials)"
	case suite != nil && got == "RSA":
		return " (it is an RSA key, but Config.Suite is " + suite.Name() + ": give the " + suite.Name() + " credentials, or leave Config.Suite nil for RSA)"
	}
	return ""
}
