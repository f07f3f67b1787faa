package main

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/gowxpay/wxpay"
	"github.com/gowxpay/wxpay/auth"
	"github.com/gowxpay/wxpay/core"
)

var doctorHelp = cmdHelp{
	name:  "doctor",
	usage: "doctor [--offline] [--timeout 30s] [credentials]",
	about: `Checks a configuration and prints one line per check with a verdict
(ok, warn, FAIL) and, when it is not ok, the fix. The exit status is 1 when a
check fails.

On this machine: the merchant id; the private key; the merchant certificate
(its key, that it is not a platform certificate, its expiry) and the serial
number; the APIv3 key; the key mode; the WeChat Pay public key (its
PUB_KEY_ID_, that it is not the merchant's own key); the platform
certificate files; the app id; the partner-mode ids.

Against WeChat Pay (or the --base-url sandbox), unless --offline: this
machine's clock against the server's Date header (warn above 1 minute, FAIL
above 5); in certificate mode, that the platform certificates download and
the APIv3 key decrypts them (or that the merchant has none, and must use the
public key); a signed query of a made-up order, whose 404 ORDER_NOT_EXIST
proves the request signature is accepted; and that the answer's signature
verifies with the configured platform key.`,
	examples: []string{
		"wxpay --config ./wxpay-sandbox/wxpay.json doctor",
		"WXPAY_APIV3_KEY=… wxpay doctor --mchid 1900000109 --private-key apiclient_key.pem --cert apiclient_cert.pem --public-key-id PUB_KEY_ID_0119… --public-key pub_key.pem",
	},
	creds: true,
}

// verdict is the outcome of a check.
type verdict int

const (
	vOK verdict = iota
	vWarn
	vFail
	vSkip
)

func (v verdict) String() string {
	return [...]string{"ok", "warn", "FAIL", "skip"}[v]
}

// doctorRun is one run of the doctor: what it learnt so far.
type doctorRun struct {
	a       *app
	s       *settings
	w       io.Writer
	counts  [4]int
	partner bool

	mode      auth.KeyMode
	modeOK    bool
	key       *rsa.PrivateKey
	suite     auth.Suite    // nil for RSA; sm.Suite{} for SM2 (国密)
	algBad    bool          // the algorithm check failed
	smKey     crypto.Signer // the SM2 private key
	signer    auth.Signer   // signs requests: RSA or SM2
	cert      *x509.Certificate
	serial    string // the serial requests are signed with
	serialBad bool   // the serial check failed
	apiv3OK   bool
	pubOK     bool
	pubKey    *rsa.PublicKey
	platform  []*x509.Certificate
	clockBad  bool
	certsBad  bool // the platform certificate download failed
	baseURL   string
}

const doctorNameWidth = 22

func (d *doctorRun) add(v verdict, name, detail, fix string) {
	d.counts[v]++
	fmt.Fprintf(d.w, "  %-4s  %-*s %s\n", v, doctorNameWidth, name, detail)
	if fix != "" && (v == vWarn || v == vFail) {
		fmt.Fprintf(d.w, "  %-4s  %-*s fix: %s\n", "", doctorNameWidth, "", fix)
	}
}

func (a *app) doctor(ctx context.Context, args []string) int {
	fs := newFlagSet("doctor")
	offline := fs.Bool("offline", false, "check files and values only; send nothing")
	timeout := fs.Duration("timeout", 30*time.Second, "give up on the network checks after this long")
	pos, code, ok := a.parseCommand(fs, doctorHelp, args)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return a.usageError(doctorHelp, "unexpected argument %q", pos[0])
	}
	s, resolveErr := a.resolve("")
	if s == nil {
		s = &settings{vals: map[string]setting{}}
	}
	d := &doctorRun{a: a, s: s, w: a.stdout, partner: s.bool("partner_mode")}
	d.baseURL = s.get("base_url")
	if d.baseURL == "" {
		d.baseURL = core.DefaultBaseURL
	}
	d.header()
	if resolveErr != nil {
		d.add(vFail, "configuration file", resolveErr.Error(), "fix the file, or give the settings as flags or variables")
	} else if s.configFile != "" {
		if len(s.unknownKeys) > 0 {
			d.add(vWarn, "configuration file", fmt.Sprintf("%s: unknown keys %s are ignored", s.configFile, strings.Join(s.unknownKeys, ", ")), "check their spelling against 'wxpay --help' (e.g. mchid, serial_no, apiv3_key, private_key_file)")
		} else {
			d.add(vOK, "configuration file", s.configFile, "")
		}
	}
	d.checkMchID()
	d.checkAlgorithm()
	if d.suite != nil {
		d.checkSMPrivateKey()
		d.checkSMCertificate()
		d.checkSerial()
		d.checkKeyMode()
		d.checkAPIv3Key()
		d.checkSMPublicKey()
	} else {
		d.checkPrivateKey()
		d.checkCertificate()
		d.checkSerial()
		d.checkKeyMode()
		d.checkAPIv3Key()
		d.checkPublicKey()
		d.checkPlatformFiles()
	}
	d.checkAppID()
	d.checkPartner()
	if *offline {
		fmt.Fprintf(d.w, "\n  (--offline: the clock, the platform keys and a signed call were not checked)\n")
	} else {
		ctx, cancel := context.WithTimeout(ctx, *timeout)
		d.network(ctx)
		cancel()
	}
	fmt.Fprintf(d.w, "\n%d checks: %d ok, %d warning(s), %d failed", d.counts[vOK]+d.counts[vWarn]+d.counts[vFail]+d.counts[vSkip], d.counts[vOK], d.counts[vWarn], d.counts[vFail])
	if d.counts[vSkip] > 0 {
		fmt.Fprintf(d.w, ", %d skipped", d.counts[vSkip])
	}
	fmt.Fprintln(d.w, ".")
	a.warnSecrets(s)
	if d.counts[vFail] > 0 {
		return exitFail
	}
	return exitOK
}

func (d *doctorRun) header() {
	who := "direct merchant"
	if d.partner {
		who = "service provider (partner mode)"
	}
	if id := d.s.get("mchid"); id != "" {
		who += " " + id
	}
	mode, _, err := d.s.keyMode()
	m := "unknown key mode"
	if err == nil {
		m = mode.String() + " mode"
	}
	host := d.baseURL
	if host == core.DefaultBaseURL {
		host += " (the real API)"
	}
	fmt.Fprintf(d.w, "wxpay doctor: %s, %s, %s\n\n", who, m, host)
}

// from says where a setting came from, for the detail of a check.
func (d *doctorRun) from(key string) string {
	if src := d.s.source(key); src != "" {
		return " (" + src + ")"
	}
	return ""
}

// flagOf names the ways to give a setting, for fixes.
func flagOf(key string) string {
	f := fieldByKey(key)
	if f == nil {
		return key
	}
	if f.env == "" {
		return "--" + f.flag
	}
	return fmt.Sprintf("--%s / $%s / %q", f.flag, f.env, f.key)
}

func (d *doctorRun) checkMchID() {
	id := d.s.get("mchid")
	switch {
	case id == "":
		d.add(vFail, "merchant id", "missing", "give "+flagOf("mchid")+": the 商户号 in 商户平台 → 账户中心 → 商户信息 (the service provider's in partner mode)")
	case !isDigits(id):
		d.add(vFail, "merchant id", fmt.Sprintf("%q is not a number%s", id, d.from("mchid")), "the merchant id (商户号) is digits only, e.g. 1900000109; an app id (wx…) goes to --appid")
	default:
		d.add(vOK, "merchant id", id+d.from("mchid"), "")
	}
}

func (d *doctorRun) checkPrivateKey() {
	v := d.s.vals["private_key_file"]
	if v.value == "" && v.pem == nil {
		d.add(vFail, "private key", "missing", "give "+flagOf("private_key_file")+": apiclient_key.pem, from the API certificate (商户平台 → 账户中心 → API安全 → API证书)")
		return
	}
	b, err := pemSetting(d.s, "private_key_file")
	if err != nil {
		d.add(vFail, "private key", fmt.Sprintf("cannot read %s: %v", v.value, unwrapPath(err)), "check the path and that this user may read the file")
		return
	}
	key, err := auth.ParsePrivateKey(b)
	if err != nil {
		d.add(vFail, "private key", strings.TrimPrefix(err.Error(), "auth: ")+d.from("private_key_file"), "give apiclient_key.pem (-----BEGIN PRIVATE KEY-----), the merchant API private key")
		return
	}
	d.key = key
	d.signer = auth.RSASigner{Key: key}
	detail := fmt.Sprintf("RSA %d-bit%s", key.N.BitLen(), d.from("private_key_file"))
	if key.N.BitLen() < 2048 {
		d.add(vFail, "private key", detail+": WeChat Pay requires 2048 bits", "apply for a new API certificate in the merchant platform")
		return
	}
	if v.value != "" {
		if st, err := os.Stat(v.value); err == nil && st.Mode().Perm()&0o077 != 0 {
			d.add(vWarn, "private key", fmt.Sprintf("%s; the file is readable by other users (%s)", detail, st.Mode().Perm()), "chmod 600 "+v.value)
			return
		}
	}
	d.add(vOK, "private key", detail, "")
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func (d *doctorRun) checkCertificate() {
	v := d.s.vals["certificate_file"]
	if v.value == "" && v.pem == nil {
		d.add(vOK, "merchant certificate", "not given (optional: only its serial number is needed)", "")
		return
	}
	b, err := pemSetting(d.s, "certificate_file")
	if err != nil {
		d.add(vFail, "merchant certificate", fmt.Sprintf("cannot read %s: %v", v.value, unwrapPath(err)), "check the path, or give the serial number alone with "+flagOf("serial_no"))
		return
	}
	cert, err := auth.ParseMerchantCertificate(b)
	if err != nil {
		d.add(vFail, "merchant certificate", strings.TrimPrefix(err.Error(), "auth: ")+d.from("certificate_file"), "give apiclient_cert.pem, the certificate issued with apiclient_key.pem")
		return
	}
	serial := auth.SerialNumber(cert)
	if d.key != nil && !auth.SameKey(d.key, cert.PublicKey.(*rsa.PublicKey)) {
		d.add(vFail, "merchant certificate", fmt.Sprintf("serial %s does not belong to the private key", serial), "use the apiclient_cert.pem and apiclient_key.pem issued together (商户平台 → API安全 → API证书); a certificate of another merchant, or an older one, does not match")
		return
	}
	d.cert = cert
	now := time.Now()
	until := cert.NotAfter.Format(time.DateOnly)
	switch {
	case now.After(cert.NotAfter):
		d.add(vFail, "merchant certificate", fmt.Sprintf("serial %s expired on %s", serial, until), "apply for a new API certificate (商户平台 → 账户中心 → API安全 → API证书) and configure it and its key")
	case cert.NotAfter.Sub(now) < 30*24*time.Hour:
		d.add(vWarn, "merchant certificate", fmt.Sprintf("serial %s expires on %s, in %d days", serial, until, int(cert.NotAfter.Sub(now).Hours()/24)), "renew the API certificate in the merchant platform before it expires")
	default:
		match := ", matches the private key"
		if d.key == nil {
			match = ""
		}
		d.add(vOK, "merchant certificate", fmt.Sprintf("serial %s, valid until %s%s", serial, until, match), "")
	}
}

func (d *doctorRun) checkSerial() {
	raw := strings.TrimSpace(d.s.get("serial_no"))
	if raw == "" {
		if d.cert != nil {
			d.serial = auth.SerialNumber(d.cert)
			d.add(vOK, "certificate serial", "read from the certificate: "+d.serial, "")
			return
		}
		d.serialBad = true
		d.add(vFail, "certificate serial", "missing, and no merchant certificate to read it from", "give "+flagOf("serial_no")+" (商户平台 → API安全 → API证书 → 证书序列号; or: openssl x509 -in apiclient_cert.pem -noout -serial), or the certificate with "+flagOf("certificate_file"))
		return
	}
	serial := strings.ToUpper(raw)
	fail := func(detail, fix string) {
		d.serialBad = true
		d.add(vFail, "certificate serial", detail, fix)
	}
	switch {
	case auth.IsPublicKeyID(raw):
		fail(raw+" is the WeChat Pay public key id, not the merchant certificate serial"+d.from("serial_no"), "the serial of apiclient_cert.pem goes to "+flagOf("serial_no")+"; PUB_KEY_ID_… goes to "+flagOf("public_key_id"))
		return
	case !isHex(serial):
		fail(fmt.Sprintf("%q is not hexadecimal%s", raw, d.from("serial_no")), "the serial is 40 hexadecimal digits (openssl x509 -in apiclient_cert.pem -noout -serial)")
		return
	}
	for _, pc := range d.platformCertsQuiet() {
		if auth.SerialNumber(pc) == serial {
			fail(serial+" is the serial of a WeChat Pay platform certificate, not of the merchant certificate", "give the serial of apiclient_cert.pem, the merchant's own certificate")
			return
		}
	}
	if d.cert != nil {
		if cs := auth.SerialNumber(d.cert); cs != serial {
			fail(fmt.Sprintf("%s%s is not the serial of the merchant certificate (%s)", serial, d.from("serial_no"), cs), "correct "+flagOf("serial_no")+", or leave it empty to read it from the certificate")
			d.serial = serial // the server judges it below
			return
		}
	}
	d.serial = serial
	if len(serial) != 40 {
		d.add(vWarn, "certificate serial", fmt.Sprintf("%s has %d digits; WeChat Pay's have 40%s", serial, len(serial), d.from("serial_no")), "copy it again from 商户平台 → API安全 → API证书")
		return
	}
	detail := serial + d.from("serial_no")
	if d.cert != nil {
		detail += ", matches the certificate"
	}
	d.add(vOK, "certificate serial", detail, "")
}

func (d *doctorRun) platformCertsQuiet() []*x509.Certificate {
	certs, _ := loadPlatformCerts(d.s.platformCerts)
	return certs
}

func (d *doctorRun) checkKeyMode() {
	mode, why, err := d.s.keyMode()
	if err != nil {
		d.add(vFail, "key mode", err.Error(), "use certificate, public-key or transition with "+flagOf("key_mode"))
		return
	}
	d.mode, d.modeOK = mode, true
	about := map[auth.KeyMode]string{
		auth.CertificateMode: "answers are verified with platform certificates, downloaded and decrypted with the APIv3 key",
		auth.PublicKeyMode:   "answers are verified with the WeChat Pay public key",
		auth.TransitionMode:  "answers are verified with platform certificates or the WeChat Pay public key, whichever signed them",
	}[mode]
	d.add(vOK, "key mode", fmt.Sprintf("%s (%s): %s", mode, why, about), "")
}

func (d *doctorRun) checkAPIv3Key() {
	k := d.s.get("apiv3_key")
	needed := d.modeOK && d.mode != auth.PublicKeyMode
	switch {
	case k == "" && needed:
		d.add(vFail, "APIv3 key", "missing: certificate mode decrypts the platform certificates with it", "give $WXPAY_APIV3_KEY (or \"apiv3_key\" in the configuration file): 商户平台 → 账户中心 → API安全 → APIv3密钥")
	case k == "":
		d.add(vWarn, "APIv3 key", "missing: notifications cannot be decrypted without it", "give $WXPAY_APIV3_KEY (or \"apiv3_key\" in the configuration file)")
	case strings.TrimSpace(k) != k:
		d.add(vFail, "APIv3 key", fmt.Sprintf("has spaces or a line break around it (%d bytes)%s", len(k), d.from("apiv3_key")), "remove them: the key is 32 characters exactly")
	case len(k) != auth.APIv3KeySize:
		d.add(vFail, "APIv3 key", fmt.Sprintf("has %d bytes, not 32%s", len(k), d.from("apiv3_key")), "copy the whole APIv3 key, 32 characters, from 商户平台 → 账户中心 → API安全 → APIv3密钥; set a new one there if nobody knows it")
	default:
		d.apiv3OK = true
		detail := "32 bytes" + d.from("apiv3_key")
		switch {
		case needed:
			detail += "; decrypting the platform certificates proves it below"
		default:
			detail += "; only a notification proves it in public-key mode ('wxpay callback verify')"
		}
		d.add(vOK, "APIv3 key", detail, "")
	}
}

func (d *doctorRun) checkPublicKey() {
	id := d.s.get("public_key_id")
	hasKey := d.s.has("public_key_file")
	needed := d.modeOK && d.mode != auth.CertificateMode
	if id == "" && !hasKey {
		if needed {
			d.add(vFail, "WeChat Pay public key", "missing: "+d.mode.String()+" mode verifies answers with it", "give "+flagOf("public_key_id")+" and "+flagOf("public_key_file")+" (商户平台 → 账户中心 → API安全 → 微信支付公钥)")
		}
		return
	}
	if err := auth.CheckPublicKeyID(id); err != nil {
		d.add(vFail, "WeChat Pay public key", strings.TrimPrefix(err.Error(), "auth: ")+d.from("public_key_id"), "give the id shown with the key in 商户平台 → 账户中心 → API安全 → 微信支付公钥, PUB_KEY_ID_ followed by digits")
		return
	}
	if !hasKey {
		d.add(vFail, "WeChat Pay public key", id+" is set but not the key itself", "give pub_key.pem with "+flagOf("public_key_file"))
		return
	}
	b, err := pemSetting(d.s, "public_key_file")
	if err != nil {
		d.add(vFail, "WeChat Pay public key", fmt.Sprintf("cannot read %s: %v", d.s.get("public_key_file"), unwrapPath(err)), "check the path of pub_key.pem")
		return
	}
	pub, err := auth.ParsePlatformPublicKey(b)
	if err != nil {
		d.add(vFail, "WeChat Pay public key", strings.TrimPrefix(err.Error(), "auth: ")+d.from("public_key_file"), "give pub_key.pem (-----BEGIN PUBLIC KEY-----) from 商户平台 → 账户中心 → API安全 → 微信支付公钥")
		return
	}
	if err := auth.CheckPlatformPublicKey(pub, d.key); err != nil {
		d.add(vFail, "WeChat Pay public key", strings.TrimPrefix(err.Error(), "auth: "), "")
		return
	}
	if pub.N.BitLen() < 2048 {
		d.add(vFail, "WeChat Pay public key", fmt.Sprintf("is %d-bit, not a WeChat Pay key", pub.N.BitLen()), "download pub_key.pem again from the merchant platform")
		return
	}
	d.pubOK, d.pubKey = true, pub
	detail := fmt.Sprintf("%s, RSA %d-bit", id, pub.N.BitLen())
	if !needed {
		detail += " (configured but unused in certificate mode)"
	}
	d.add(vOK, "WeChat Pay public key", detail, "")
}

func (d *doctorRun) checkPlatformFiles() {
	if len(d.s.platformCerts) == 0 {
		return
	}
	certs, err := loadPlatformCerts(d.s.platformCerts)
	if err != nil {
		d.add(vFail, "platform cert files", err.Error(), "give files written by 'wxpay certs download' (wechatpay_<serial>.pem)")
		return
	}
	d.platform = certs
	var serials []string
	expired := 0
	for _, c := range certs {
		serials = append(serials, auth.SerialNumber(c))
		if time.Now().After(c.NotAfter) {
			expired++
		}
	}
	switch {
	case len(certs) == 0:
		d.add(vWarn, "platform cert files", "none found in "+strings.Join(d.s.platformCerts, ", "), "run 'wxpay certs download'")
	case expired > 0:
		d.add(vWarn, "platform cert files", fmt.Sprintf("%d of %d expired", expired, len(certs)), "run 'wxpay certs download' again")
	default:
		d.add(vOK, "platform cert files", strings.Join(serials, ", "), "")
	}
}

func (d *doctorRun) checkAppID() {
	name := "appid"
	if d.partner {
		name = "sp_appid"
	}
	id := d.s.get("appid")
	switch {
	case id == "":
		d.add(vWarn, name, "not set: JSAPI, APP, H5 and Native orders need it", "give "+flagOf("appid")+" (the app id bound to the merchant in 商户平台 → 产品中心 → AppID账号管理)")
	case !strings.HasPrefix(id, "wx") || len(id) != 18:
		d.add(vWarn, name, fmt.Sprintf("%q does not look like an app id (wx and 16 characters)%s", id, d.from("appid")), "check it against the app's settings (公众平台 / 开放平台)")
	default:
		d.add(vOK, name, id+d.from("appid"), "")
	}
}

func (d *doctorRun) checkPartner() {
	sub, subApp, mch := d.s.get("sub_mchid"), d.s.get("sub_appid"), d.s.get("mchid")
	if !d.partner {
		if sub != "" || subApp != "" {
			d.add(vFail, "merchant mode", "direct mode, but a sub-merchant id is set", "sub_mchid and sub_appid are for service providers (服务商): set "+flagOf("partner_mode")+", or remove them")
			return
		}
		d.add(vOK, "merchant mode", "direct merchant (直连商户)"+d.from("partner_mode"), "")
		return
	}
	switch {
	case sub == "":
		d.add(vWarn, "merchant mode", "partner mode without a default sub-merchant: every call must name one", "give "+flagOf("sub_mchid")+" to set a default (and to let doctor make a signed call)")
	case !isDigits(sub):
		d.add(vFail, "merchant mode", fmt.Sprintf("sub_mchid %q is not a number", sub), "the sub-merchant id (子商户号) is digits only")
	case sub == mch:
		d.add(vFail, "merchant mode", "sub_mchid is the same as mchid", "in partner mode mchid is the service provider's id (sp_mchid) and sub_mchid the sub-merchant's")
	default:
		detail := fmt.Sprintf("service provider %s, sub-merchant %s", mch, sub)
		if subApp != "" {
			detail += ", sub_appid " + subApp
		}
		d.add(vOK, "merchant mode", detail, "")
	}
}

// network runs the checks that talk to the server.
func (d *doctorRun) network(ctx context.Context) {
	fmt.Fprintln(d.w)
	if !d.checkClock(ctx) {
		return
	}
	keys, closeKeys := d.checkPlatformKeys(ctx)
	defer closeKeys()
	d.checkSignedCall(ctx, keys)
}

// checkClock asks the server for its Date with an unsigned request and
// compares it with this machine's clock. It reports whether the server
// could be reached.
func (d *doctorRun) checkClock(ctx context.Context) bool {
	u, err := url.Parse(d.baseURL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		d.add(vFail, "API host", fmt.Sprintf("%q is not a URL", d.baseURL), "give "+flagOf("base_url")+" as https://host, or leave it empty for the real API")
		return false
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(d.baseURL, "/")+"/v3/certificates", nil)
	if err != nil {
		d.add(vFail, "API host", err.Error(), "")
		return false
	}
	req.Header.Set("User-Agent", "wxpay-cli doctor")
	req.Header.Set("Accept", "application/json")
	hc := &http.Client{Timeout: 15 * time.Second}
	start := time.Now()
	resp, err := hc.Do(req)
	if err != nil {
		d.add(vFail, "API host", fmt.Sprintf("cannot reach %s: %v", d.baseURL, err), "check the network, the proxy variables (HTTPS_PROXY) and "+flagOf("base_url"))
		d.add(vSkip, "clock, platform keys", "not checked: the server cannot be reached", "")
		return false
	}
	rtt := time.Since(start)
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	hc.CloseIdleConnections()
	date := resp.Header.Get("Date")
	server, err := http.ParseTime(date)
	if err != nil {
		d.add(vWarn, "clock", "the server sent no Date header: the clock cannot be compared", "make sure this machine's clock is synchronised (NTP)")
		return true
	}
	// The Date is whole seconds, truncated, taken while the request was in
	// flight: the server's clock read about half a second more.
	skew := start.Add(rtt / 2).Sub(server.Add(500 * time.Millisecond)).Round(time.Second)
	abs := skew
	if abs < 0 {
		abs = -abs
	}
	dir := "ahead of"
	if skew < 0 {
		dir = "behind"
	}
	fix := "synchronise this machine's clock (NTP: timedatectl set-ntp true, or chronyc makestep)"
	switch {
	case abs <= 2*time.Second:
		d.add(vOK, "clock", fmt.Sprintf("in step with the server (Date %s)", date), "")
	case abs <= time.Minute:
		d.add(vOK, "clock", fmt.Sprintf("%s %s the server's (Date %s)", abs, dir, date), "")
	case abs <= auth.DefaultMaxSkew:
		d.add(vWarn, "clock", fmt.Sprintf("%s %s the server's (Date %s); past 5 minutes every call fails", abs, dir, date), fix)
	default:
		d.clockBad = true
		d.add(vFail, "clock", fmt.Sprintf("this machine's clock is %s %s the server's (Date %s): WeChat Pay refuses requests more than 5 minutes off (401 SIGN_ERROR), and wxpay refuses answers signed more than 5 minutes ago", abs, dir, date), fix)
	}
	return true
}

// clockNote adds to a fix when the clock check failed.
func (d *doctorRun) clockNote(fix string) string {
	if d.clockBad {
		return "fix the clock first (see clock above)"
	}
	return fix
}

// checkPlatformKeys downloads the platform certificates in certificate and
// transition mode, and returns the verifier of answers (the client's key
// store, or the local keys when no client could be made).
func (d *doctorRun) checkPlatformKeys(ctx context.Context) (auth.Verifier, func()) {
	local := &localKeys{certs: map[string]*rsa.PublicKey{}}
	if d.pubOK {
		local.pubID, local.pub = d.s.get("public_key_id"), d.pubKey
	}
	for _, c := range d.platform {
		if pub, ok := c.PublicKey.(*rsa.PublicKey); ok {
			local.certs[auth.SerialNumber(c)] = pub
		}
	}
	nothing := func() {}
	certMode := d.modeOK && d.mode != auth.PublicKeyMode
	if d.signer == nil || d.algBad || d.serial == "" || !isDigits(d.s.get("mchid")) || !d.modeOK ||
		(certMode && !d.apiv3OK) || (d.mode != auth.CertificateMode && !d.pubOK) {
		if certMode {
			d.add(vSkip, "platform certificates", "not downloaded: fix the failures above first", "")
		}
		return local, nothing
	}
	cfg, err := d.a.config(d.s)
	if err != nil {
		d.add(vSkip, "platform certificates", err.Error(), "")
		return local, nothing
	}
	// The server judges the serial: sign with the configured one, and
	// leave the certificate (checked above) out.
	cfg.Certificate, cfg.CertificateFile, cfg.CertificateSerial = nil, "", d.serial
	if !d.partner {
		cfg.SubMchID, cfg.SubAppID = "", ""
	}
	cfg.CertificateRefresh = -1
	cfg.Logger = d.a.retryLogger()
	cfg.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	client, err := wxpay.NewClient(ctx, cfg)
	if err != nil {
		d.add(vSkip, "platform certificates", configError(err).Error(), "")
		return local, nothing
	}
	closeFn := func() { _ = client.Close(); cfg.HTTPClient.CloseIdleConnections() }
	keys := client.Conn().Keys()
	if !certMode {
		return keys, closeFn
	}
	err = keys.Refresh(ctx)
	d.certsBad = err != nil
	switch {
	case err == nil:
		var parts []string
		for _, c := range keys.Certificates() {
			parts = append(parts, fmt.Sprintf("%s (until %s)", auth.SerialNumber(c), c.NotAfter.Format(time.DateOnly)))
		}
		d.add(vOK, "platform certificates", fmt.Sprintf("%d downloaded, decrypted with the APIv3 key and verified: %s", len(parts), strings.Join(parts, ", ")), "")
	case errors.Is(err, auth.ErrNoPlatformCertificate) && d.pubOK:
		d.add(vFail, "platform certificates", "this merchant has none: GET /v3/certificates answered 404 RESOURCE_NOT_EXISTS", "it uses the WeChat Pay public key, which is configured: use public-key mode ("+flagOf("key_mode")+" public-key, or leave it empty)")
	case errors.Is(err, auth.ErrNoPlatformCertificate):
		d.add(vFail, "platform certificates", "this merchant has none: GET /v3/certificates answered 404 RESOURCE_NOT_EXISTS", "it uses the WeChat Pay public key (public-key mode): download pub_key.pem and note its PUB_KEY_ID_… in 商户平台 → 账户中心 → API安全 → 微信支付公钥, then give "+flagOf("public_key_id")+" and "+flagOf("public_key_file"))
	case errors.Is(err, auth.ErrDecrypt):
		d.add(vFail, "platform certificates", "downloaded, but the APIv3 key does not decrypt them: the APIv3 key is wrong", "copy the APIv3 key set in 商户平台 → 账户中心 → API安全 → APIv3密钥 (not the APIv2 key, which is also 32 characters); if nobody knows it, set a new one there and update every configuration")
	case errors.Is(err, auth.ErrClockSkew):
		d.add(vFail, "platform certificates", oneLine(err), d.clockNote("synchronise the clock (NTP)"))
	case core.IsCode(err, "SIGN_ERROR"):
		d.add(vFail, "platform certificates", "the download was refused: "+apiErrorText(err), d.signFix(err))
	default:
		d.add(vFail, "platform certificates", oneLine(err), "")
	}
	return keys, closeFn
}

// checkSignedCall queries a made-up order: a 404 ORDER_NOT_EXIST proves
// the request signature is accepted, and its signature, checked with the
// configured platform keys, proves they are WeChat Pay's.
func (d *doctorRun) checkSignedCall(ctx context.Context, keys auth.Verifier) {
	mch, sub := d.s.get("mchid"), d.s.get("sub_mchid")
	switch {
	case d.signer == nil || d.algBad || d.serial == "" || !isDigits(mch):
		d.add(vSkip, "request signature", "not checked: the merchant id, private key and serial are needed", "")
		return
	case d.partner && !isDigits(sub):
		d.add(vSkip, "request signature", "not checked: partner mode needs a sub-merchant id for the test query", "")
		return
	}
	signer, err := auth.NewRequestSigner(mch, d.serial, d.signer)
	if err != nil {
		d.add(vFail, "request signature", strings.TrimPrefix(err.Error(), "auth: "), "")
		return
	}
	if d.suite != nil {
		signer.Scheme = d.suite.Scheme()
	}
	hc := &http.Client{Timeout: 15 * time.Second}
	defer hc.CloseIdleConnections()
	opts := core.Options{BaseURL: d.baseURL, HTTPClient: hc, Authorizer: signer, UserAgent: "wxpay-cli doctor", MaxAttempts: 2, Logger: d.a.retryLogger()}
	if enc, ok := keys.(core.Encrypter); ok { // announces the PUB_KEY_ID in transition mode
		opts.Encrypter = enc
	}
	conn, err := core.NewConn(opts)
	if err != nil {
		d.add(vFail, "request signature", err.Error(), "")
		return
	}
	order := "WXPAYDOCTOR" + randomDigits(12)
	uri := "/v3/pay/transactions/out-trade-no/" + order + "?mchid=" + url.QueryEscape(mch)
	if d.partner {
		uri = "/v3/pay/partner/transactions/out-trade-no/" + order + "?sp_mchid=" + url.QueryEscape(mch) + "&sub_mchid=" + url.QueryEscape(sub)
	}
	var header http.Header
	var body []byte
	probe := &core.Operation{ID: "Raw", Name: "doctor", Method: http.MethodGet, Path: strings.SplitN(uri, "?", 2)[0], Unsigned: true}
	resp, err := conn.RawOp(ctx, probe, uri, nil)
	var apiErr *core.APIError
	switch {
	case err == nil:
		header, body = resp.Header, resp.Body
		d.add(vOK, "request signature", fmt.Sprintf("accepted: a query of the made-up order %s answered %d", order, resp.StatusCode), "")
	case errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusNotFound && core.IsCode(err, "ORDER_NOT_EXIST"):
		header, body = apiErr.Header, apiErr.Body
		d.add(vOK, "request signature", fmt.Sprintf("accepted: a query of the made-up order %s answered 404 ORDER_NOT_EXIST [Request-ID %s]", order, apiErr.RequestID), "")
	case errors.As(err, &apiErr) && core.IsCode(err, "SIGN_ERROR"):
		d.add(vFail, "request signature", "refused: "+apiErrorText(err), d.signFix(err))
		return
	case errors.As(err, &apiErr):
		fix := apiErr.Hint
		if d.partner && apiErr.StatusCode >= 400 && apiErr.StatusCode < 500 {
			fix = strings.TrimPrefix(fix+"; ", "; ") + "check that sub-merchant " + sub + " belongs to service provider " + mch
		}
		d.add(vFail, "request signature", "the test query answered "+apiErrorText(err), fix)
		return
	default:
		d.add(vFail, "request signature", oneLine(err), "check the network and "+flagOf("base_url"))
		return
	}
	d.checkAnswerSignature(ctx, keys, header, body)
}

// checkAnswerSignature verifies the signature of the test query's answer
// with the configured platform keys.
func (d *doctorRun) checkAnswerSignature(ctx context.Context, keys auth.Verifier, h http.Header, body []byte) {
	signed := auth.SignedFromHeader(h, body)
	if signed.Signature == "" && signed.Serial == "" {
		d.add(vSkip, "answer signature", "WeChat Pay did not sign the test answer: the platform key is proven by the client's first signed answer", "")
		return
	}
	what := "a platform certificate"
	if auth.IsPublicKeyID(signed.Serial) {
		what = "the WeChat Pay public key"
	} else if d.certsBad {
		d.add(vSkip, "answer signature", "not verified: signed by platform certificate "+signed.Serial+", and the certificates could not be downloaded (see above)", "")
		return
	}
	err := auth.CheckSigned(ctx, keys, signed, time.Now(), auth.DefaultMaxSkew)
	if err == nil {
		d.add(vOK, "answer signature", fmt.Sprintf("signed by %s %s, verified", what, signed.Serial), "")
		return
	}
	fix := ""
	switch {
	case errors.Is(err, auth.ErrClockSkew):
		fix = d.clockNote("synchronise the clock (NTP)")
	case errors.Is(err, auth.ErrUnknownKey) && auth.IsPublicKeyID(signed.Serial) && d.mode == auth.CertificateMode && d.pubOK && d.s.get("public_key_id") == signed.Serial:
		// The key is configured; the mode leaves it unused. Same fix as
		// the platform certificate check gives.
		fix = "this merchant signs with the WeChat Pay public key " + signed.Serial + ", which is configured but unused in certificate mode: use public-key mode (" + flagOf("key_mode") + " public-key, or leave it empty)"
	case errors.Is(err, auth.ErrUnknownKey) && auth.IsPublicKeyID(signed.Serial) && d.mode == auth.CertificateMode:
		fix = "this merchant signs with the WeChat Pay public key " + signed.Serial + ": configure it (" + flagOf("public_key_id") + ", " + flagOf("public_key_file") + ") and use public-key mode (" + flagOf("key_mode") + " public-key)"
	case errors.Is(err, auth.ErrUnknownKey) && auth.IsPublicKeyID(signed.Serial):
		fix = "this merchant signs with the WeChat Pay public key " + signed.Serial + ": configure it (" + flagOf("public_key_id") + ", " + flagOf("public_key_file") + ")"
	case errors.Is(err, auth.ErrUnknownKey):
		fix = "this merchant signs with platform certificates: use certificate mode (give the APIv3 key), or transition mode while it moves to the public key"
	case errors.Is(err, auth.ErrBadSignature) && auth.IsPublicKeyID(signed.Serial):
		fix = "pub_key.pem is not the key of " + signed.Serial + ": download it again from 商户平台 → 账户中心 → API安全 → 微信支付公钥"
	case errors.Is(err, auth.ErrSignatureProbe):
		fix = "a signature probe (rare and deliberate): run doctor again"
	}
	d.add(vFail, "answer signature", oneLine(err), fix)
}

// signFix explains a SIGN_ERROR with what the local checks found.
func (d *doctorRun) signFix(err error) string {
	var e *core.APIError
	if !errors.As(err, &e) {
		return ""
	}
	switch {
	case d.clockBad || strings.Contains(e.Message, "timestamp"):
		return "fix the clock (see clock above): WeChat Pay refuses timestamps more than 5 minutes off"
	case strings.Contains(e.Message, "序列号"):
		return "the serial is not that of the certificate WeChat Pay has for this merchant's key: use the serial of apiclient_cert.pem issued with apiclient_key.pem"
	case strings.Contains(e.Message, "商户号"):
		return "WeChat Pay does not know this merchant id, or APIv3 is not enabled for it: check " + flagOf("mchid")
	case d.serialBad:
		return "fix the certificate serial (see above)"
	}
	if e.Hint != "" {
		return e.Hint
	}
	return "check that the private key, the certificate serial and the merchant id belong together"
}

// apiErrorText is an APIError's status, code, message and Request-ID.
func apiErrorText(err error) string {
	var e *core.APIError
	if !errors.As(err, &e) {
		return oneLine(err)
	}
	s := fmt.Sprintf("%d %s", e.StatusCode, e.Code)
	if e.Message != "" {
		s += " " + e.Message
	}
	if e.RequestID != "" {
		s += " [Request-ID " + e.RequestID + "]"
	}
	return s
}

// oneLine is an error's text without the package prefixes that repeat.
func oneLine(err error) string {
	s := strings.ReplaceAll(err.Error(), "\n", " ")
	for _, p := range []string{"wxpay: ", "auth: "} {
		s = strings.ReplaceAll(s, p, "")
	}
	return s
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

func isHex(s string) bool {
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return s != ""
}
