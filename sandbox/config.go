package sandbox

import (
	"github.com/gowxpay/wxpay/auth"
	wxmerchant "github.com/gowxpay/wxpay/merchant"
)

// Config returns a client configuration for these credentials: platform
// certificates when the sandbox serves them (certificate and transition
// modes; the sandbox then signs with a certificate unless asked for the
// public key), the platform public key otherwise.
// Set the request defaults (NotifyURL …) on the result as needed.
//
//	client, err := wxpay.NewClient(ctx, sb.Merchant().Config())
func (c Credentials) Config() wxmerchant.Config {
	cfg := wxmerchant.Config{
		MchID:             c.MchID,
		CertificateSerial: c.CertificateSerial,
		APIv3Key:          string(c.APIv3Key),
		PartnerMode:       c.PartnerMode,
		AppID:             c.AppID,
		SubMchID:          c.SubMchID,
		SubAppID:          c.SubAppID,
		BaseURL:           c.BaseURL,
	}
	if c.PrivateKey != nil {
		cfg.PrivateKey, _ = privateKeyPEM(c.PrivateKey)
	}
	if c.Certificate != nil {
		cfg.Certificate = certPEM(c.Certificate)
	}
	if c.PublicKeyID != "" && c.PublicKey != nil {
		cfg.PublicKeyID = c.PublicKeyID
		cfg.PublicKey, _ = publicKeyPEM(c.PublicKey)
		cfg.KeyMode = auth.PublicKeyMode
	}
	if len(c.PlatformCertificates) > 0 {
		cfg.KeyMode = auth.CertificateMode
	}
	return cfg
}
