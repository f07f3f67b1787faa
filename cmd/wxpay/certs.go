package main

import (
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/gowxpay/wxpay"
	"github.com/gowxpay/wxpay/auth"
	"github.com/gowxpay/wxpay/core"
)

var certsHelp = cmdHelp{
	name:  "certs download",
	usage: "certs download [--out DIR] [credentials]",
	about: `Downloads the platform certificates (平台证书) from GET /v3/certificates,
decrypts them with the APIv3 key, verifies the answer's signature with them,
and saves each as DIR/wechatpay_<serial>.pem. Prints their serial numbers and
validity.

It calls the real API (https://api.mch.weixin.qq.com) unless --base-url
names another host, such as a sandbox. It needs the merchant id, the private
key, the certificate serial (or the certificate) and the APIv3 key.

A merchant that uses the WeChat Pay public key (微信支付公钥, PUB_KEY_ID_…)
has nothing to download: every merchant created since about October 2024
has no platform certificate, and /v3/certificates answers 404
RESOURCE_NOT_EXISTS.`,
	examples: []string{
		"WXPAY_APIV3_KEY=… wxpay certs download --mchid 1900000109 --private-key apiclient_key.pem --cert apiclient_cert.pem --out certs",
		"wxpay --config ./wxpay-sandbox/wxpay.json certs download --out ./platform-certs",
	},
	creds: true,
}

func (a *app) certsDownload(ctx context.Context, args []string) int {
	fs := newFlagSet("certs download")
	out := fs.String("out", ".", "folder `DIR` to save the certificates in (created if needed)")
	timeout := fs.Duration("timeout", time.Minute, "give up after this long, retries included")
	pos, code, ok := a.parseCommand(fs, certsHelp, args)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return a.usageError(certsHelp, "unexpected argument %q", pos[0])
	}
	fail := func(format string, args ...any) int {
		fmt.Fprintf(a.stderr, "wxpay certs download: "+format+"\n", args...)
		return exitFail
	}
	cfg, err := a.clientConfig()
	if err != nil {
		return fail("%v", err)
	}
	if cfg.KeyMode == auth.PublicKeyMode {
		fmt.Fprintf(a.stdout, `Nothing to download: this configuration uses the WeChat Pay public key %s.
Answers and notifications are verified with pub_key.pem; there are no platform
certificates to download (merchants created since about October 2024 have none,
and GET /v3/certificates answers them 404 RESOURCE_NOT_EXISTS).
To try anyway, pass --key-mode certificate.
`, cfg.PublicKeyID)
		return exitOK
	}
	cfg.CertificateRefresh = -1 // one download, no background refresh
	cfg.Logger = a.retryLogger()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	client, err := wxpay.NewClient(ctx, cfg)
	if err != nil {
		return fail("%v\n(run 'wxpay doctor' to check every setting)", configError(err))
	}
	defer client.Close()
	host := cfg.BaseURL
	if host == "" {
		host = core.DefaultBaseURL
	}
	fmt.Fprintf(a.stderr, "downloading the platform certificates from %s/v3/certificates…\n", host)
	keys := client.Conn().Keys()
	if err := keys.Refresh(ctx); err != nil {
		return fail("%s", explainDownloadError(err))
	}
	certs := keys.Certificates()
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return fail("%v", err)
	}
	rows := [][]string{{"SERIAL", "VALID FROM", "VALID UNTIL", "FILE"}}
	for _, c := range certs {
		serial := auth.SerialNumber(c)
		name := filepath.Join(*out, "wechatpay_"+serial+".pem")
		if err := os.WriteFile(name, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}), 0o644); err != nil {
			return fail("%v", err)
		}
		rows = append(rows, []string{serial, c.NotBefore.Format(time.DateOnly), c.NotAfter.Format(time.DateOnly), name})
	}
	fmt.Fprintf(a.stdout, "%d platform certificate(s) downloaded, decrypted with the APIv3 key and verified:\n\n", len(certs))
	writeTable(a.stdout, "  ", rows)
	for _, c := range certs {
		if left := time.Until(c.NotAfter); left < 30*24*time.Hour {
			fmt.Fprintf(a.stdout, "\nnote: %s expires in %d days; WeChat Pay issues its successor about ten days before (the client picks it up by itself).\n", auth.SerialNumber(c), int(left.Hours()/24))
		}
	}
	return exitOK
}

// explainDownloadError says what a failed certificate download means for
// the configuration.
func explainDownloadError(err error) string {
	switch {
	case errors.Is(err, auth.ErrNoPlatformCertificate):
		return "this merchant has no platform certificate (GET /v3/certificates answered 404 RESOURCE_NOT_EXISTS): it uses the WeChat Pay public key instead. Download pub_key.pem and note its PUB_KEY_ID_… in 商户平台 → 账户中心 → API安全 → 微信支付公钥, then configure --public-key-id and --public-key; there is nothing to download."
	case errors.Is(err, auth.ErrDecrypt):
		return "the APIv3 key does not decrypt the certificates: it is not the key set in 商户平台 → 账户中心 → API安全 → APIv3密钥 (the APIv2 key is also 32 characters; is it that one?). Set the APIv3 key again there if nobody knows it, and update the configuration."
	case errors.Is(err, auth.ErrClockSkew):
		return fmt.Sprintf("%v\nThis machine's clock is off: fix it (NTP) and try again.", err)
	case core.IsCode(err, "SIGN_ERROR"):
		return fmt.Sprintf("%v\nRun 'wxpay doctor' to find which credential is wrong.", err)
	}
	return err.Error()
}

// writeTable prints rows as aligned columns.
func writeTable(w io.Writer, indent string, rows [][]string) {
	widths := map[int]int{}
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], len([]rune(c)))
		}
	}
	for _, r := range rows {
		line := indent
		for i, c := range r {
			if i == len(r)-1 {
				line += c
				break
			}
			line += c + spaces(widths[i]-len([]rune(c))+2)
		}
		fmt.Fprintln(w, line)
	}
}

func spaces(n int) string {
	if n <= 0 {
		return ""
	}
	b := make([]byte, n)
	for i := range b {
		b[i] = ' '
	}
	return string(b)
}
