package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gowxpay/wxpay"
	"github.com/gowxpay/wxpay/auth"
	"github.com/gowxpay/wxpay/sandbox"
	"github.com/gowxpay/wxpay/sm"
)

var sandboxHelp = cmdHelp{
	name:  "sandbox",
	usage: "sandbox [--addr 127.0.0.1:8080] [--dir DIR] [--partner] [--key-mode certificate|public-key|transition] [--sm]",
	about: `Serves the offline WeChat Pay API v3 sandbox on an address until
interrupted (Ctrl-C, SIGTERM), and writes the credentials of its merchant
(the service provider with --partner) into a folder: apiclient_key.pem,
apiclient_cert.pem, pub_key.pem, the platform certificates, and wxpay.json
and wxpay.env with the ids, the serial, the APIv3 key and the file paths.

The sandbox signs and verifies like WeChat Pay, keeps orders, refunds and
bills, and sends signed, encrypted notifications to each order's
notify_url. Its root serves a dashboard (orders with their QR codes, a pay
button, refunds, the notification log, faults, the clock and certificate
rotation); its control API under /sandbox/ simulates the payer and the bank
and injects faults; the command prints how to use it.

Credentials already in the folder (its wxpay.json) or given as flags,
variables or --config are reused: the sandbox plays that merchant (mchid,
private key, serial or certificate, APIv3 key, app ids), so a client
configured for it keeps working across restarts. The control API hands out
secrets without authentication: keep the address on loopback.

--sm makes the sandbox speak 国密 as well: its merchants get SM2 credentials,
written to DIR/sm2 with a wxpay.json that selects "algorithm": "SM2" (new
SM2 keys at every start).`,
	examples: []string{
		"wxpay sandbox --dir ./wxpay-sandbox",
		"wxpay --config ./wxpay-sandbox/wxpay.json doctor    # in another terminal",
	},
	creds: true,
}

func (a *app) sandbox(ctx context.Context, args []string) int {
	fs := newFlagSet("sandbox")
	addr := fs.String("addr", "127.0.0.1:8080", "`ADDRESS` to listen on (port 0: any free port)")
	dir := fs.String("dir", "wxpay-sandbox", "folder `DIR` the credentials are written to (and read from, when it has a wxpay.json)")
	scale := fs.Float64("time-scale", 1, "multiply the sandbox's own delays (notification retries, refund settlement) by `X`")
	smMode := fs.Bool("sm", false, "speak 国密 too: SM2 credentials for the merchant, written to DIR/sm2")
	pos, code, ok := a.parseCommand(fs, sandboxHelp, args)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return a.usageError(sandboxHelp, "unexpected argument %q", pos[0])
	}
	s, err := a.resolve(filepath.Join(*dir, sandbox.JSONFile))
	if err != nil {
		fmt.Fprintf(a.stderr, "wxpay sandbox: %v\n", err)
		return exitFail
	}
	a.warnSecrets(s)
	mode := auth.CertificateMode
	if v := s.get("key_mode"); v != "" { // only an explicit mode: a written wxpay.json does not say
		m, ok := parseKeyMode(v)
		if !ok {
			return a.usageError(sandboxHelp, "key mode %q (from %s) is not certificate, public-key or transition", v, s.source("key_mode"))
		}
		mode = m
	}
	partner := s.bool("partner_mode")
	opts, err := sandboxIdentity(s, *dir, partner)
	if err != nil {
		fmt.Fprintf(a.stderr, "wxpay sandbox: %v\n", err)
		return exitFail
	}
	level := slog.LevelInfo
	if a.verbose {
		level = slog.LevelDebug
	}
	opts = append(opts,
		sandbox.WithAddr(*addr),
		sandbox.WithKeyMode(sandboxMode(mode)),
		sandbox.WithTimeScale(*scale),
		sandbox.WithLogger(slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: level}))),
	)
	if *smMode {
		opts = append(opts, sandbox.WithSuite(sm.Suite{}))
	}
	sb, err := sandbox.New(append(opts, extraSandboxOptions...)...)
	if err != nil {
		fmt.Fprintf(a.stderr, "wxpay sandbox: %v\n", err)
		return exitFail
	}
	defer sb.Close()
	url, err := sb.Start()
	if err != nil {
		fmt.Fprintf(a.stderr, "wxpay sandbox: %v\n", err)
		return exitFail
	}
	creds := sb.Merchant()
	if partner {
		creds = sb.Partner()
	}
	if err := removeStalePlatformCerts(*dir); err != nil {
		fmt.Fprintf(a.stderr, "wxpay sandbox: %v\n", err)
		return exitFail
	}
	if err := creds.WriteDir(*dir); err != nil {
		fmt.Fprintf(a.stderr, "wxpay sandbox: writing the credentials: %v\n", err)
		return exitFail
	}
	printSandboxInfo(a.stdout, url, *dir, mode, creds)
	if *smMode {
		d, err := writeSMDir(*dir, creds)
		if err != nil {
			fmt.Fprintf(a.stderr, "wxpay sandbox: writing the 国密 credentials: %v\n", err)
			return exitFail
		}
		printSMInfo(a.stdout, d, creds)
	}
	<-ctx.Done()
	fmt.Fprintln(a.stderr, "wxpay sandbox: stopping…")
	if err := sb.Close(); err != nil {
		fmt.Fprintf(a.stderr, "wxpay sandbox: %v\n", err)
		return exitFail
	}
	fmt.Fprintln(a.stderr, "wxpay sandbox: stopped")
	return exitOK
}

// printSandboxInfo tells how to point a client at the sandbox and how to
// drive it. It prints no secret: the APIv3 key stays in the files.
func printSandboxInfo(w io.Writer, url, dir string, mode auth.KeyMode, c sandbox.Credentials) {
	role, owner := "direct merchant", c.MchID
	if c.PartnerMode {
		role, owner = "service provider (partner mode), sub-merchant "+c.SubMchID, c.SubMchID
	}
	j := func(name string) string { return filepath.Join(dir, name) }
	fmt.Fprintf(w, "wxpay sandbox: WeChat Pay API v3 at %s (%s mode)\n\n", url, mode)
	fmt.Fprintf(w, "  %-12s %s, %s\n", "merchant", c.MchID, role)
	fmt.Fprintf(w, "  %-12s %s\n", "appid", c.AppID)
	fmt.Fprintf(w, "  %-12s %s\n", "serial", c.CertificateSerial)
	fmt.Fprintf(w, "  %-12s %s\n", "public key", c.PublicKeyID)
	fmt.Fprintf(w, "  %-12s %s: %s, %s, %s, %s, %s (the APIv3 key is in the last two)\n", "credentials", dir,
		sandbox.PrivateKeyFile, sandbox.CertificateFile, sandbox.PublicKeyFile, sandbox.JSONFile, sandbox.EnvFile)

	fmt.Fprintf(w, "\nPoint a client at it:\n")
	fmt.Fprintf(w, "  CLI     wxpay --config %s doctor\n", j(sandbox.JSONFile))
	fmt.Fprintf(w, "  shell   set -a; . %s; set +a     # WXPAY_* variables\n", j(sandbox.EnvFile))
	fmt.Fprintf(w, "  Go      wxpay.Config{BaseURL: %q, MchID: %q,\n", url, c.MchID)
	fmt.Fprintf(w, "                PrivateKeyFile: %q, CertificateFile: %q,\n", j(sandbox.PrivateKeyFile), j(sandbox.CertificateFile))
	switch mode {
	case auth.CertificateMode:
		fmt.Fprintf(w, "                APIv3Key: os.Getenv(\"WXPAY_APIV3_KEY\"), // platform certificates are downloaded\n")
	default:
		fmt.Fprintf(w, "                APIv3Key: os.Getenv(\"WXPAY_APIV3_KEY\"),\n")
		fmt.Fprintf(w, "                PublicKeyID: %q, PublicKeyFile: %q,\n", c.PublicKeyID, j(sandbox.PublicKeyFile))
	}
	if c.PartnerMode {
		fmt.Fprintf(w, "                PartnerMode: true, AppID: %q, SubMchID: %q}\n", c.AppID, c.SubMchID)
	} else {
		fmt.Fprintf(w, "                AppID: %q}\n", c.AppID)
	}

	fmt.Fprintf(w, "\nDrive it from the dashboard at %s/ or the control API (no signature):\n", url)
	rows := [][2]string{
		{"pay an order", fmt.Sprintf(`curl -X POST %s/sandbox/pay -d '{"mchid":"%s","out_trade_no":"…"}'`, url, owner)},
		{"settle a refund", fmt.Sprintf(`curl -X POST %s/sandbox/refunds/outcome -d '{"out_refund_no":"…","status":"SUCCESS"}'`, url)},
		{"notifications", fmt.Sprintf(`curl %s/sandbox/notifications`, url)},
		{"inject a fault", fmt.Sprintf(`curl -X POST %s/sandbox/faults -d '{"kind":"error","status":500,"target":"NativePrepay","count":1}'`, url)},
		{"skew its clock", fmt.Sprintf(`curl -X POST %s/sandbox/faults -d '{"kind":"clock_offset","clock_offset":"-10m"}'`, url)},
		{"clear faults", fmt.Sprintf(`curl -X DELETE %s/sandbox/faults`, url)},
		{"rotate the cert", fmt.Sprintf(`curl -X POST %s/sandbox/certificates/rotate   # listed now, signing in 5 days or:`, url)},
		{"switch now", fmt.Sprintf(`curl -X POST %s/sandbox/certificates/switch`, url)},
		{"switch key mode", fmt.Sprintf(`curl -X POST %s/sandbox/mode -d '{"mode":"public_key"}'`, url)},
	}
	for _, r := range rows {
		fmt.Fprintf(w, "  %-16s %s\n", r[0], r[1])
	}
	fmt.Fprintf(w, "  (fault kinds: latency, error, reset, bad_signature, no_signature, signtest, clock_offset; target \"notify\" for notifications)\n")
	fmt.Fprintf(w, "\nServing until interrupted (Ctrl-C).\n")
}

// sandboxMode converts a client key mode into the sandbox's.
func sandboxMode(m auth.KeyMode) sandbox.KeyMode {
	switch m {
	case auth.PublicKeyMode:
		return sandbox.PublicKeyMode
	case auth.TransitionMode:
		return sandbox.TransitionMode
	}
	return sandbox.CertificateMode
}

// credentialsConfig is the client configuration for sandbox credentials in
// a key mode.
func credentialsConfig(c sandbox.Credentials, mode auth.KeyMode) (wxpay.Config, error) {
	keyDER, err := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
	if err != nil {
		return wxpay.Config{}, err
	}
	cfg := wxpay.Config{
		MchID:       c.MchID,
		PrivateKey:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
		Certificate: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Certificate.Raw}),
		APIv3Key:    string(c.APIv3Key),
		KeyMode:     mode,
		PartnerMode: c.PartnerMode,
		AppID:       c.AppID,
		SubMchID:    c.SubMchID,
		SubAppID:    c.SubAppID,
		BaseURL:     c.BaseURL,
		UserAgent:   "wxpay-cli",
	}
	if mode != auth.CertificateMode {
		pubDER, err := x509.MarshalPKIXPublicKey(c.PublicKey)
		if err != nil {
			return wxpay.Config{}, err
		}
		cfg.PublicKeyID = c.PublicKeyID
		cfg.PublicKey = pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	}
	return cfg, nil
}

// sandboxPubKeyFile keeps the private half of the sandbox's WeChat Pay
// public key, so that pub_key.pem stays the same across restarts.
const sandboxPubKeyFile = ".sandbox-platform-public-key.private.pem"

// sandboxIdentity returns the options that make the sandbox play the
// merchant the settings describe, if they describe one, and keep its
// platform public key across restarts.
func sandboxIdentity(s *settings, dir string, partner bool) ([]sandbox.Option, error) {
	var opts []sandbox.Option
	pubKey, err := loadOrCreateKey(filepath.Join(dir, sandboxPubKeyFile))
	if err != nil {
		return nil, err
	}
	pubID := s.get("public_key_id")
	if auth.CheckPublicKeyID(pubID) != nil {
		pubID = ""
	}
	if pubID == "" {
		pubID = "PUB_KEY_ID_01" + randomDigits(28)
	}
	opts = append(opts, sandbox.WithPublicKey(pubID, pubKey))
	if !s.has("mchid") {
		return opts, nil
	}
	m := sandbox.Merchant{MchID: s.get("mchid"), AppID: s.get("appid")}
	from := s.source("mchid")
	keyPEM, err := pemSetting(s, "private_key_file")
	if err != nil || keyPEM == nil {
		return nil, fmt.Errorf("merchant %s (from %s) has no usable private key: give --private-key, or start without credentials for a generated merchant: %v", m.MchID, from, err)
	}
	if m.PrivateKey, err = auth.ParsePrivateKey(keyPEM); err != nil {
		return nil, err
	}
	certPEM, err := pemSetting(s, "certificate_file")
	if err != nil {
		return nil, err
	}
	switch {
	case certPEM != nil:
		if m.Certificate, err = auth.ParseMerchantCertificate(certPEM); err != nil {
			return nil, err
		}
		if _, err := auth.MerchantSerial(m.Certificate, m.PrivateKey, time.Time{}); err != nil {
			return nil, err
		}
	case s.has("serial_no"):
		if m.Certificate, err = merchantCertificate(m.PrivateKey, m.MchID, s.get("serial_no")); err != nil {
			return nil, err
		}
	}
	if k := s.get("apiv3_key"); k != "" {
		if err := auth.CheckAPIv3Key([]byte(k)); err != nil {
			return nil, fmt.Errorf("the APIv3 key (from %s): %v", s.source("apiv3_key"), err)
		}
		m.APIv3Key = []byte(k)
	}
	// The sandbox also has a merchant of the other kind, generated; its
	// ids must not be the given ones.
	taken := map[string]bool{m.MchID: true}
	if partner {
		if sub := s.get("sub_mchid"); sub != "" {
			m.SubMerchants = []sandbox.SubMerchant{{MchID: sub, AppID: s.get("sub_appid")}}
			taken[sub] = true
		} else {
			m.SubMerchants = []sandbox.SubMerchant{{MchID: freeID("1900003001", taken)}}
		}
		return append(opts, sandbox.WithPartner(m), sandbox.WithMerchant(sandbox.Merchant{MchID: freeID("1900001001", taken)})), nil
	}
	other := sandbox.Merchant{MchID: freeID("1900002001", taken)}
	other.SubMerchants = []sandbox.SubMerchant{{MchID: freeID("1900003001", taken)}}
	return append(opts, sandbox.WithMerchant(m), sandbox.WithPartner(other)), nil
}

// freeID returns id, or the next number not in taken, and takes it.
func freeID(id string, taken map[string]bool) string {
	n, _ := new(big.Int).SetString(id, 10)
	for taken[n.String()] {
		n.Add(n, big.NewInt(1))
	}
	taken[n.String()] = true
	return n.String()
}

// pemSetting reads a PEM setting given inline or as a file; nil when unset.
func pemSetting(s *settings, key string) ([]byte, error) {
	v := s.vals[key]
	if v.pem != nil {
		return v.pem, nil
	}
	if v.value == "" {
		return nil, nil
	}
	b, err := os.ReadFile(v.value)
	if err != nil {
		return nil, fmt.Errorf("%s (from %s): %w", key, v.source, err)
	}
	return b, nil
}

// loadOrCreateKey reads an RSA private key, or generates and saves one.
func loadOrCreateKey(path string) (*rsa.PrivateKey, error) {
	if b, err := os.ReadFile(path); err == nil {
		return auth.ParsePrivateKey(b)
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	keys, err := sandbox.GenerateKeys(1)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(keys[0])
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return nil, err
	}
	return keys[0], nil
}

// merchantCertificate issues a self-signed merchant certificate with the
// given serial number, for a merchant configured with a serial but no
// certificate.
func merchantCertificate(key *rsa.PrivateKey, mchid, serial string) (*x509.Certificate, error) {
	n, ok := new(big.Int).SetString(strings.TrimSpace(serial), 16)
	if !ok || n.Sign() <= 0 {
		return nil, fmt.Errorf("the certificate serial %q is not a hexadecimal number", serial)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          n,
		Subject:               pkix.Name{CommonName: mchid, Organization: []string{"微信商户系统"}, OrganizationalUnit: []string{"wxpay sandbox"}, Country: []string{"CN"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(5, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

// removeStalePlatformCerts deletes the platform certificates a previous run
// wrote: the sandbox issues new ones at each start.
func removeStalePlatformCerts(dir string) error {
	old, err := filepath.Glob(filepath.Join(dir, "wechatpay_*.pem"))
	if err != nil {
		return err
	}
	for _, f := range old {
		if err := os.Remove(f); err != nil {
			return err
		}
	}
	return nil
}

// randomDigits returns n random decimal digits.
func randomDigits(n int) string {
	b := make([]byte, n)
	for i := range b {
		d, err := rand.Int(rand.Reader, big.NewInt(10))
		if err != nil {
			d = big.NewInt(int64(i % 10))
		}
		b[i] = byte('0' + d.Int64())
	}
	return string(b)
}
