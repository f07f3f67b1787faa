package sandbox

import (
	"github.com/gowxpay/wxpay/auth"
	"github.com/gowxpay/wxpay/merchant"
)

// Config returns a client configuration for these credentials, in the key
// mode the sandbox signs with (KeyMode).
// Set the request defaults (NotifyURL …) on the result as needed.
//
//	client, err := wxpay.NewClient(ctx, sb.Merchant().Config())
func (c Credentials) Config() merchant.Config {
	cfg := merchant.Config{
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
	cfg.KeyMode = c.KeyMode.clientMode()
	if cfg.KeyMode != auth.CertificateMode && c.PublicKey != nil {
		cfg.PublicKeyID = c.PublicKeyID
		cfg.PublicKey, _ = publicKeyPEM(c.PublicKey)
	}
	return cfg
}

// clientMode is the auth.KeyMode a client uses against a sandbox in mode m.
func (m KeyMode) clientMode() auth.KeyMode {
	switch m {
	case PublicKeyMode:
		return auth.PublicKeyMode
	case TransitionMode:
		return auth.TransitionMode
	}
	return auth.CertificateMode
}
