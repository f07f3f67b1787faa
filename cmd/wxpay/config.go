package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gowxpay/wxpay"
	"github.com/gowxpay/wxpay/auth"
	"github.com/gowxpay/wxpay/merchant"
	"github.com/gowxpay/wxpay/sm"
)

// credField is one setting of a configuration: its flag, its environment
// variable and its key in the JSON configuration file (the wxpay.json that
// `wxpay sandbox` and sandbox.Credentials.WriteDir write).
type credField struct {
	key    string // JSON key; also the settings key
	flag   string
	env    string
	arg    string // the flag's argument, for the help
	usage  string
	isBool bool
	isFile bool   // a path: relative to the configuration file's folder there
	pemKey string // JSON key of the same value given inline as PEM
	cfg    string // the merchant.Config field it sets, to translate its errors
}

// Keys of credFields that resolve treats apart.
const (
	keyConfig        = "config"
	keyPlatformCerts = "platform_certificate_files"
)

var credFields = []credField{
	{key: keyConfig, flag: "config", env: "WXPAY_CONFIG", arg: "FILE", usage: "JSON configuration, e.g. the wxpay.json `wxpay sandbox` writes", isFile: true},
	{key: "mchid", flag: "mchid", env: "WXPAY_MCHID", arg: "ID", usage: "merchant id (商户号); the service provider's in partner mode", cfg: "MchID"},
	{key: "private_key_file", flag: "private-key", env: "WXPAY_PRIVATE_KEY_FILE", arg: "FILE", usage: "merchant API private key (apiclient_key.pem)", isFile: true, pemKey: "private_key_pem", cfg: "PrivateKey"},
	{key: "serial_no", flag: "serial", env: "WXPAY_SERIAL_NO", arg: "SERIAL", usage: "merchant certificate serial number; read from --cert when empty", cfg: "CertificateSerial"},
	{key: "certificate_file", flag: "cert", env: "WXPAY_CERTIFICATE_FILE", arg: "FILE", usage: "merchant API certificate (apiclient_cert.pem)", isFile: true, pemKey: "certificate_pem", cfg: "Certificate"},
	{key: "apiv3_key", flag: "apiv3-key", env: "WXPAY_APIV3_KEY", arg: "KEY", usage: "APIv3 key (32 bytes); prefer the variable: flags show in ps", cfg: "APIv3Key"},
	{key: "public_key_id", flag: "public-key-id", env: "WXPAY_PUBLIC_KEY_ID", arg: "ID", usage: "WeChat Pay public key id (PUB_KEY_ID_…)", cfg: "PublicKeyID"},
	{key: "public_key_file", flag: "public-key", env: "WXPAY_PUBLIC_KEY_FILE", arg: "FILE", usage: "WeChat Pay public key (微信支付公钥, pub_key.pem)", isFile: true, pemKey: "public_key_pem", cfg: "PublicKey"},
	{key: "algorithm", flag: "algorithm", env: "WXPAY_ALGORITHM", arg: "ALG", usage: "RSA (the default) or SM2 (国密: SM2 keys and certificates, SM4 notifications)", cfg: "Suite"},
	{key: "key_mode", flag: "key-mode", env: "WXPAY_KEY_MODE", arg: "MODE", usage: "certificate, public-key or transition; from the keys given when empty", cfg: "KeyMode"},
	{key: "partner_mode", flag: "partner", env: "WXPAY_PARTNER_MODE", usage: "partner mode (服务商): mchid is the service provider's", isBool: true, cfg: "PartnerMode"},
	{key: "sub_mchid", flag: "sub-mchid", env: "WXPAY_SUB_MCHID", arg: "ID", usage: "sub-merchant id (子商户号), partner mode", cfg: "SubMchID"},
	{key: "sub_appid", flag: "sub-appid", env: "WXPAY_SUB_APPID", arg: "ID", usage: "sub-merchant app id, partner mode", cfg: "SubAppID"},
	{key: "appid", flag: "appid", env: "WXPAY_APPID", arg: "ID", usage: "app id (sp_appid in partner mode)", cfg: "AppID"},
	{key: "base_url", flag: "base-url", env: "WXPAY_BASE_URL", arg: "URL", usage: "API host (a sandbox URL); https://api.mch.weixin.qq.com when empty", cfg: "BaseURL"},
	{key: keyPlatformCerts, flag: "platform-cert", arg: "FILE", usage: "a downloaded platform certificate, or a folder of them (repeatable)", isFile: true},
}

func fieldByKey(key string) *credField {
	for i := range credFields {
		if credFields[i].key == key {
			return &credFields[i]
		}
	}
	return nil
}

// writeCredentialHelp lists the credential flags with their variables.
func writeCredentialHelp(w io.Writer) {
	wf, we := 0, 0
	left := func(f credField) string {
		if f.arg == "" {
			return "--" + f.flag
		}
		return "--" + f.flag + " " + f.arg
	}
	for _, f := range credFields {
		wf, we = max(wf, len(left(f))), max(we, len(f.env))
	}
	for _, f := range credFields {
		fmt.Fprintf(w, "  %-*s  %-*s  %s\n", wf, left(f), we, f.env, f.usage)
	}
}

// credFlags collects the credential flags given on the command line, before
// and after the command name.
type credFlags struct {
	set           map[string]string
	platformCerts []string
}

// credValue is the flag.Value of one credential flag.
type credValue struct {
	c *credFlags
	f *credField
}

func (v credValue) String() string { return "" }

func (v credValue) Set(s string) error {
	if v.f.isBool {
		if _, err := strconv.ParseBool(s); err != nil {
			return fmt.Errorf("not a boolean: %q", s)
		}
	}
	if v.c.set == nil {
		v.c.set = map[string]string{}
	}
	if v.f.key == keyPlatformCerts {
		v.c.platformCerts = append(v.c.platformCerts, s)
	}
	v.c.set[v.f.key] = s
	return nil
}

func (v credValue) IsBoolFlag() bool { return v.f.isBool }

func (c *credFlags) register(fs *flag.FlagSet) {
	for i := range credFields {
		f := &credFields[i]
		usage := f.usage
		if f.arg != "" {
			usage = "`" + f.arg + "` " + usage
		}
		fs.Var(credValue{c, f}, f.flag, usage)
	}
}

// setting is one resolved value and where it came from.
type setting struct {
	value  string
	pem    []byte // the value given inline as PEM (configuration file only)
	source string // "--mchid", "$WXPAY_MCHID" or the configuration file's name
}

// settings are the resolved credentials of a command: flags, then the
// environment, then the configuration file.
type settings struct {
	vals          map[string]setting
	platformCerts []string // files or folders
	configFile    string
	unknownKeys   []string // keys of the configuration file wxpay does not know
	apiv3OnFlag   bool
}

// get returns a setting's value.
func (s *settings) get(key string) string { return s.vals[key].value }

// source says where a setting came from, "" when it is not set.
func (s *settings) source(key string) string { return s.vals[key].source }

func (s *settings) has(key string) bool {
	v, ok := s.vals[key]
	return ok && (v.value != "" || v.pem != nil)
}

func (s *settings) bool(key string) bool {
	b, _ := strconv.ParseBool(s.get(key))
	return b
}

// configFileKeys are the keys of the configuration file: the settings, the
// inline PEM forms, and the rest of what WriteDir writes.
func configFileKeys() map[string]bool {
	keys := map[string]bool{}
	for _, f := range credFields {
		if f.key != keyConfig {
			keys[f.key] = true
		}
		if f.pemKey != "" {
			keys[f.pemKey] = true
		}
	}
	return keys
}

// resolve merges the credential flags, the environment and the
// configuration file (--config, $WXPAY_CONFIG, or defaultConfig when that
// file exists).
func (a *app) resolve(defaultConfig string) (*settings, error) {
	s := &settings{vals: map[string]setting{}}
	lookup := func(f *credField) (setting, bool) {
		if v, ok := a.creds.set[f.key]; ok {
			return setting{value: v, source: "--" + f.flag}, true
		}
		if f.env != "" {
			if v := a.getenv(f.env); v != "" {
				return setting{value: v, source: "$" + f.env}, true
			}
		}
		return setting{}, false
	}
	cfgFile := ""
	if v, ok := lookup(fieldByKey(keyConfig)); ok {
		cfgFile = v.value
	} else if defaultConfig != "" {
		if _, err := os.Stat(defaultConfig); err == nil {
			cfgFile = defaultConfig
		}
	}
	file := map[string]json.RawMessage{}
	if cfgFile != "" {
		s.configFile = cfgFile
		b, err := os.ReadFile(cfgFile)
		if err != nil {
			return s, fmt.Errorf("reading the configuration file: %w", err)
		}
		if err := json.Unmarshal(b, &file); err != nil {
			return s, fmt.Errorf("the configuration file %s is not a JSON object: %v", cfgFile, err)
		}
		known := configFileKeys()
		for _, k := range sortedKeys(file) {
			if !known[k] {
				s.unknownKeys = append(s.unknownKeys, k)
			}
		}
	}
	base := filepath.Dir(cfgFile)
	name := filepath.Base(cfgFile)
	for i := range credFields {
		f := &credFields[i]
		if f.key == keyConfig {
			continue
		}
		if f.key == keyPlatformCerts {
			continue
		}
		if v, ok := lookup(f); ok {
			s.vals[f.key] = v
			if f.key == "apiv3_key" && strings.HasPrefix(v.source, "--") {
				s.apiv3OnFlag = true
			}
			continue
		}
		if raw, ok := file[f.key]; ok {
			v, err := fileValue(raw, f)
			if err != nil {
				return s, fmt.Errorf("%s: %q: %v", cfgFile, f.key, err)
			}
			if v != "" {
				if f.isFile && !filepath.IsAbs(v) {
					v = filepath.Join(base, v)
				}
				s.vals[f.key] = setting{value: v, source: name}
				continue
			}
		}
		if f.pemKey != "" {
			if raw, ok := file[f.pemKey]; ok {
				var p string
				if err := json.Unmarshal(raw, &p); err != nil {
					return s, fmt.Errorf("%s: %q is not a string", cfgFile, f.pemKey)
				}
				if p != "" {
					s.vals[f.key] = setting{pem: []byte(p), source: name + " (" + f.pemKey + ")"}
				}
			}
		}
	}
	if len(a.creds.platformCerts) > 0 {
		s.platformCerts = a.creds.platformCerts
	} else if raw, ok := file[keyPlatformCerts]; ok {
		var list []string
		if err := json.Unmarshal(raw, &list); err != nil {
			return s, fmt.Errorf("%s: %q is not a list of file names", cfgFile, keyPlatformCerts)
		}
		for _, p := range list {
			if !filepath.IsAbs(p) {
				p = filepath.Join(base, p)
			}
			s.platformCerts = append(s.platformCerts, p)
		}
	}
	return s, nil
}

// fileValue reads one value of the configuration file as a string.
func fileValue(raw json.RawMessage, f *credField) (string, error) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", err
	}
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		if f.isBool {
			if _, err := strconv.ParseBool(x); err != nil {
				return "", errors.New("not a boolean")
			}
		}
		return x, nil
	case bool:
		if !f.isBool {
			return "", errors.New("a boolean where a string is expected")
		}
		return strconv.FormatBool(x), nil
	case float64:
		if f.isBool {
			return "", errors.New("a number where a boolean is expected")
		}
		// mchid written as a number
		return string(raw), nil
	}
	return "", errors.New("not a string")
}

// keyMode returns the key mode the settings ask for, and why.
func (s *settings) keyMode() (auth.KeyMode, string, error) {
	pub := s.has("public_key_id") || s.has("public_key_file")
	if v := strings.TrimSpace(s.get("key_mode")); v != "" {
		m, ok := parseKeyMode(v)
		if !ok {
			return 0, "", fmt.Errorf("key mode %q (from %s) is not certificate, public-key or transition", v, s.source("key_mode"))
		}
		return m, "set by " + s.source("key_mode"), nil
	}
	switch {
	case pub && len(s.platformCerts) > 0:
		return auth.TransitionMode, "both the WeChat Pay public key and platform certificates are configured", nil
	case pub:
		return auth.PublicKeyMode, "the WeChat Pay public key is configured", nil
	}
	return auth.CertificateMode, "no WeChat Pay public key is configured", nil
}

// parseKeyMode reads certificate, public-key or transition (and the
// sandbox's spellings of them).
func parseKeyMode(s string) (auth.KeyMode, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "certificate", "cert", "certificates":
		return auth.CertificateMode, true
	case "public-key", "public_key", "publickey", "pubkey":
		return auth.PublicKeyMode, true
	case "transition":
		return auth.TransitionMode, true
	}
	return 0, false
}

// clientConfig resolves the credentials (flags, then environment, then the
// --config file), warns about secrets given as flags, and returns the
// client configuration, for the commands that call the API.
func (a *app) clientConfig() (wxpay.Config, error) {
	s, err := a.resolve("")
	if err != nil {
		return wxpay.Config{}, err
	}
	a.warnSecrets(s)
	return a.config(s)
}

// config returns the client configuration of the settings.
func (a *app) config(s *settings) (wxpay.Config, error) {
	mode, _, err := s.keyMode()
	if err != nil {
		return wxpay.Config{}, err
	}
	cfg := wxpay.Config{
		MchID:             s.get("mchid"),
		CertificateSerial: s.get("serial_no"),
		APIv3Key:          s.get("apiv3_key"),
		PublicKeyID:       s.get("public_key_id"),
		KeyMode:           mode,
		PartnerMode:       s.bool("partner_mode"),
		SubMchID:          s.get("sub_mchid"),
		SubAppID:          s.get("sub_appid"),
		AppID:             s.get("appid"),
		BaseURL:           s.get("base_url"),
		UserAgent:         "wxpay-cli",
		Logger:            a.logger(),
	}
	if cfg.Suite, err = s.suite(); err != nil {
		return wxpay.Config{}, err
	}
	cfg.PrivateKey, cfg.PrivateKeyFile = s.vals["private_key_file"].pem, s.vals["private_key_file"].value
	cfg.Certificate, cfg.CertificateFile = s.vals["certificate_file"].pem, s.vals["certificate_file"].value
	cfg.PublicKey, cfg.PublicKeyFile = s.vals["public_key_file"].pem, s.vals["public_key_file"].value
	return cfg, nil
}

// configError rewords a *merchant.ConfigError with the flag, variable and
// file key of the field at fault.
func configError(err error) error {
	var ce *merchant.ConfigError
	if !errors.As(err, &ce) {
		return err
	}
	field := strings.TrimSuffix(ce.Field, "File")
	for _, f := range credFields {
		if f.cfg == field {
			return fmt.Errorf("configuration: %s (--%s, $%s, %q in the configuration file): %s", field, f.flag, f.env, f.key, ce.Reason)
		}
	}
	return fmt.Errorf("configuration: %s: %s", ce.Field, ce.Reason)
}

// warnSecrets tells the user once that a secret on the command line is
// visible to other users.
func (a *app) warnSecrets(s *settings) {
	if s.apiv3OnFlag {
		fmt.Fprintln(a.stderr, "wxpay: warning: --apiv3-key is visible to other users of this machine (ps, shell history); prefer $WXPAY_APIV3_KEY or a configuration file readable by you only")
	}
}

// logger returns the request logger of --verbose, or nil.
func (a *app) logger() *slog.Logger {
	if !a.verbose {
		return nil
	}
	return slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// suite returns the opt-in suite the algorithm setting asks for: nil for
// RSA (the default), sm.Suite{} for SM2.
func (s *settings) suite() (auth.Suite, error) {
	switch strings.ToUpper(strings.TrimSpace(s.get("algorithm"))) {
	case "", "RSA":
		return nil, nil
	case "SM2", "SM", "国密":
		return sm.Suite{}, nil
	}
	return nil, fmt.Errorf("algorithm %q (from %s) is not RSA or SM2", s.get("algorithm"), s.source("algorithm"))
}
