package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/gowxpay/wxpay"
	"github.com/gowxpay/wxpay/auth"
	"github.com/gowxpay/wxpay/sandbox"
)

// smDir is the subfolder of the sandbox command's folder that holds the
// merchant's 国密 credentials when it runs with --sm.
const smDir = "sm2"

// writeSMDir writes the merchant's 国密 credentials into dir/sm2: the SM2
// apiclient_key.pem, apiclient_cert.pem and pub_key.pem, and a wxpay.json
// with "algorithm": "SM2", so that `wxpay --config DIR/sm2/wxpay.json …`
// talks 国密 to the sandbox. The SM2 keys are new at every start.
func writeSMDir(dir string, c sandbox.Credentials) (string, error) {
	if c.SM == nil {
		return "", fmt.Errorf("the sandbox has no 国密 credentials")
	}
	d := filepath.Join(dir, smDir)
	if err := os.MkdirAll(d, 0o700); err != nil {
		return "", err
	}
	abs, err := filepath.Abs(d)
	if err != nil {
		abs = d
	}
	files := map[string][]byte{
		sandbox.PrivateKeyFile:  c.SM.PrivateKeyPEM,
		sandbox.CertificateFile: c.SM.CertificatePEM,
		sandbox.PublicKeyFile:   c.SM.PublicKeyPEM,
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(d, name), b, 0o600); err != nil {
			return "", err
		}
	}
	cfg := map[string]any{
		"algorithm": "SM2", "base_url": c.BaseURL, "partner_mode": c.PartnerMode,
		"mchid": c.MchID, "appid": c.AppID, "sub_mchid": c.SubMchID, "sub_appid": c.SubAppID,
		"serial_no": c.SM.CertificateSerial, "apiv3_key": string(c.APIv3Key), "public_key_id": c.SM.PublicKeyID,
		"private_key_file": filepath.Join(abs, sandbox.PrivateKeyFile),
		"certificate_file": filepath.Join(abs, sandbox.CertificateFile),
		"public_key_file":  filepath.Join(abs, sandbox.PublicKeyFile),
	}
	js, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(d, sandbox.JSONFile), append(js, '\n'), 0o600); err != nil {
		return "", err
	}
	return d, nil
}

func printSMInfo(w io.Writer, d string, c sandbox.Credentials) {
	fmt.Fprintf(w, "  %-12s %s: SM2 %s, %s, %s and %s (\"algorithm\": \"SM2\"; serial %s, public key %s)\n", "国密", d,
		sandbox.PrivateKeyFile, sandbox.CertificateFile, sandbox.PublicKeyFile, sandbox.JSONFile, c.SM.CertificateSerial, c.SM.PublicKeyID)
}

// suiteNotificationVerifier is notificationVerifier for a 国密 merchant:
// its key store (SM2 platform certificates downloaded with its credentials,
// or the SM2 public key). Platform certificate files are not read in 国密
// mode.
func (a *app) suiteNotificationVerifier(ctx context.Context, s *settings, suite auth.Suite) (auth.Verifier, func(), error) {
	if len(s.platformCerts) > 0 {
		return nil, nil, errors.New("--platform-cert files are not read with --algorithm SM2: give the SM2 public key, or the merchant's credentials to download the SM2 platform certificates")
	}
	if s.has("mchid") && s.has("private_key_file") {
		cfg, err := a.config(s)
		if err != nil {
			return nil, nil, err
		}
		cfg.CertificateRefresh = -1
		cl, err := wxpay.NewClient(ctx, cfg)
		if err != nil {
			return nil, nil, configError(err)
		}
		return cl.Conn().Keys(), func() { _ = cl.Close() }, nil
	}
	b, err := pemSetting(s, "public_key_file")
	if err != nil {
		return nil, nil, err
	}
	if b == nil {
		return nil, nil, errors.New("give the SM2 WeChat Pay public key (--public-key-id, --public-key), or the merchant's credentials")
	}
	pub, err := suite.ParsePublicKey(b)
	if err != nil {
		return nil, nil, err
	}
	keys, err := auth.NewPlatformKeys(auth.PlatformKeysConfig{Suite: suite, PublicKeyID: s.get("public_key_id"), SuitePublicKey: pub})
	if err != nil {
		return nil, nil, err
	}
	return keys, func() { _ = keys.Close() }, nil
}
