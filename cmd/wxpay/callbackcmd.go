package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gowxpay/wxpay"
	"github.com/gowxpay/wxpay/auth"
	"github.com/gowxpay/wxpay/callback"
)

var callbackHelp = cmdHelp{
	name:  "callback verify",
	usage: "callback verify --headers FILE --body FILE [--ignore-age] [credentials]",
	about: `Verifies, decrypts and decodes a captured notification exactly as
callback.Parse does in a notify_url handler, and prints the event (type, id,
summary, the decrypted resource as JSON) — or the step that fails and why:
a missing header, a stale timestamp, a signature probe, a body that was
re-encoded, an unknown platform key, a wrong APIv3 key…

The headers file holds "Name: value" lines (as logged, or as curl -v shows
them; a request line is skipped) or a JSON object of names to values. The
body file must hold the raw body, byte for byte.

Keys: the APIv3 key decrypts; the signature is checked with the WeChat Pay
public key (--public-key-id, --public-key), with platform certificates given
as files (--platform-cert, or platform_certificate_files in --config), or
else with certificates downloaded with the merchant's credentials.`,
	examples: []string{
		"wxpay --config wxpay.json callback verify --headers notify.headers --body notify.json",
		"wxpay --config wxpay.json callback verify --headers h.json --body body.json --ignore-age",
	},
	creds: true,
}

func (a *app) callbackVerify(ctx context.Context, args []string) int {
	fs := newFlagSet("callback verify")
	headersFile := fs.String("headers", "", "`FILE` with the notification's headers: Name: value lines, or a JSON object")
	bodyFile := fs.String("body", "", "`FILE` with the notification's raw body")
	ignoreAge := fs.Bool("ignore-age", false, "check a notification captured earlier: skip the 5-minute timestamp check")
	pos, code, ok := a.parseCommand(fs, callbackHelp, args)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return a.usageError(callbackHelp, "unexpected argument %q", pos[0])
	}
	if *headersFile == "" || *bodyFile == "" {
		return a.usageError(callbackHelp, "--headers and --body are required")
	}
	fail := func(format string, args ...any) int {
		fmt.Fprintf(a.stderr, "wxpay callback verify: "+format+"\n", args...)
		return exitFail
	}
	hb, err := os.ReadFile(*headersFile)
	if err != nil {
		return fail("%v", err)
	}
	header, err := parseHeaderFile(hb)
	if err != nil {
		return fail("%s: %v", *headersFile, err)
	}
	body, err := os.ReadFile(*bodyFile)
	if err != nil {
		return fail("%v", err)
	}
	s, err := a.resolve("")
	if err != nil {
		return fail("%v", err)
	}
	a.warnSecrets(s)
	apiv3 := s.get("apiv3_key")
	if apiv3 == "" {
		return fail("the APIv3 key is needed to decrypt the notification: give $WXPAY_APIV3_KEY, --apiv3-key or a --config file")
	}
	v, closeKeys, err := a.notificationVerifier(ctx, s)
	if err != nil {
		return fail("%v", err)
	}
	defer closeKeys()
	cfg := callback.Config{Verifier: v, APIv3Key: []byte(apiv3), Events: wxpay.Events()}
	note := ""
	if *ignoreAge {
		if ts, err := strconv.ParseInt(headerValue(header, "Wechatpay-Timestamp"), 10, 64); err == nil {
			at := time.Unix(ts, 0)
			cfg.Now = func() time.Time { return at }
			note = fmt.Sprintf("timestamp check skipped: the notification was signed at %s, %s ago", at.Format(time.RFC3339), time.Since(at).Round(time.Second))
		}
	}
	parser, err := callback.NewParser(cfg)
	if err != nil {
		return fail("%v", err)
	}
	ev, err := parser.Parse(ctx, header, body)
	if err != nil && errors.Is(err, auth.ErrBadSignature) && bytes.HasSuffix(body, []byte("\n")) {
		// Editors and shell redirections add a final newline the
		// notification did not have.
		if ev2, err2 := parser.Parse(ctx, header, bytes.TrimRight(body, "\r\n")); err2 == nil {
			ev, err = ev2, nil
			note = strings.TrimPrefix(note+"; ", "; ") + "the body file ends with a line break that is not part of the notification; verified without it"
		}
	}
	if err != nil {
		a.explainCallbackError(err)
		return exitFail
	}
	w := a.stdout
	fmt.Fprintf(w, "ok  the notification is authentic: signature verified, resource decrypted and decoded\n\n")
	kv := func(k, v string) {
		if v != "" {
			fmt.Fprintf(w, "  %-12s %s\n", k, v)
		}
	}
	kv("event", ev.EventType)
	kv("summary", ev.Summary)
	kv("id", ev.ID)
	if !ev.CreateTime.IsZero() {
		kv("created", ev.CreateTime.String())
	}
	serial := headerValue(header, "Wechatpay-Serial")
	if auth.IsPublicKeyID(serial) {
		serial += " (the WeChat Pay public key)"
	} else {
		serial += " (a platform certificate)"
	}
	kv("signed by", serial)
	kv("Request-ID", ev.RequestID)
	kv("resource", fmt.Sprintf("%s, decoded as %T", ev.OriginalType, ev.Resource))
	if note != "" {
		kv("note", note)
	}
	fmt.Fprintln(w)
	w.Write(prettyJSON(ev.Plaintext))
	return exitOK
}

// explainCallbackError prints why a notification was rejected and what to
// do about it.
func (a *app) explainCallbackError(err error) {
	w := a.stderr
	step := "?"
	var ce *callback.Error
	if errors.As(err, &ce) {
		step = ce.Step
	}
	fmt.Fprintf(w, "FAIL  the notification does not pass the %s step\n", step)
	fmt.Fprintf(w, "  %-6s %s\n", "why", err)
	fix := ""
	switch {
	case errors.Is(err, callback.ErrBodyChanged):
		fix = "the body file is not the bytes WeChat Pay sent: capture the raw request body before any framework parses it"
	case errors.Is(err, callback.ErrEmptyBody):
		fix = "the body file is empty"
	case errors.Is(err, auth.ErrSignatureProbe):
		fix = "this is a signature probe: a handler must refuse it (non-2xx), and WeChat Pay delivers again with a valid signature"
	case errors.Is(err, auth.ErrClockSkew):
		fix = "a handler refuses notifications signed more than 5 minutes ago (replay protection); to check the rest of a captured notification, add --ignore-age; if it is fresh, this machine's clock is off"
	case errors.Is(err, auth.ErrMissingHeader):
		fix = "the headers file lacks a Wechatpay-* header: capture all of the request's headers"
	case errors.Is(err, auth.ErrUnknownKey):
		fix = "give the key the notification names in Wechatpay-Serial: the WeChat Pay public key (--public-key-id, --public-key) or the platform certificate (--platform-cert, from 'wxpay certs download')"
	case errors.Is(err, auth.ErrDecrypt):
		fix = "the APIv3 key is not the one set in 商户平台 → 账户中心 → API安全 → APIv3密钥 (or the resource was altered)"
	case errors.Is(err, auth.ErrBadSignature):
		fix = "the headers or the body differ from what WeChat Pay signed, or the notification was not sent by WeChat Pay"
	}
	if fix != "" {
		fmt.Fprintf(w, "  %-6s %s\n", "fix", fix)
	}
}

// parseHeaderFile reads captured headers: a JSON object of names to a
// string (or a list of strings), or "Name: value" lines.
func parseHeaderFile(b []byte) (map[string][]string, error) {
	b = bytes.TrimPrefix(b, []byte("\ufeff"))
	h := map[string][]string{}
	if t := bytes.TrimSpace(b); len(t) > 0 && t[0] == '{' {
		var m map[string]any
		if err := json.Unmarshal(t, &m); err != nil {
			return nil, fmt.Errorf("not a JSON object of header names to values: %v", err)
		}
		for k, v := range m {
			switch x := v.(type) {
			case string:
				h[k] = append(h[k], x)
			case float64:
				h[k] = append(h[k], strconv.FormatFloat(x, 'f', -1, 64))
			case []any:
				for _, e := range x {
					s, ok := e.(string)
					if !ok {
						return nil, fmt.Errorf("header %q: a list of strings was expected", k)
					}
					h[k] = append(h[k], s)
				}
			default:
				return nil, fmt.Errorf("header %q: a string or a list of strings was expected", k)
			}
		}
		return h, nil
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		line = strings.TrimPrefix(strings.TrimPrefix(line, "> "), "< ") // curl -v
		if strings.TrimSpace(line) == "" {
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok || strings.ContainsAny(name, " \t") {
			if strings.Contains(line, " HTTP/") || strings.HasPrefix(line, "HTTP/") {
				continue // the request or status line
			}
			return nil, fmt.Errorf("line %d is not a \"Name: value\" header line", n)
		}
		h[name] = append(h[name], strings.TrimSpace(value))
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(h) == 0 {
		return nil, errors.New("no header found")
	}
	return h, nil
}

// headerValue finds a header in captured headers whatever the spelling of
// its name (canonical, lower case, or CGI's HTTP_WECHATPAY_…).
func headerValue(h map[string][]string, name string) string {
	cgi := "HTTP_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
	for k, v := range h {
		if (strings.EqualFold(k, name) || strings.EqualFold(k, cgi)) && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

// notificationVerifier returns the verifier of notifications for the
// settings: the configured public key and platform certificate files,
// then, for a serial they do not know, the certificates downloaded with the
// merchant's credentials (when the settings have them).
func (a *app) notificationVerifier(ctx context.Context, s *settings) (auth.Verifier, func(), error) {
	if suite, err := s.suite(); err != nil {
		return nil, nil, err
	} else if suite != nil {
		return a.suiteNotificationVerifier(ctx, s, suite)
	}
	lk := &localKeys{certs: map[string]*rsa.PublicKey{}}
	if s.has("public_key_id") || s.has("public_key_file") {
		lk.pubID = s.get("public_key_id")
		if err := auth.CheckPublicKeyID(lk.pubID); err != nil {
			return nil, nil, err
		}
		b, err := pemSetting(s, "public_key_file")
		if err != nil {
			return nil, nil, err
		}
		if b == nil {
			return nil, nil, errors.New("the WeChat Pay public key id is set but not the key itself (--public-key, pub_key.pem)")
		}
		if lk.pub, err = auth.ParsePlatformPublicKey(b); err != nil {
			return nil, nil, err
		}
	}
	certs, err := loadPlatformCerts(s.platformCerts)
	if err != nil {
		return nil, nil, err
	}
	for _, c := range certs {
		lk.certs[auth.SerialNumber(c)] = c.PublicKey.(*rsa.PublicKey)
	}
	closeFn := func() {}
	if mode, _, err := s.keyMode(); err == nil && mode != auth.PublicKeyMode && s.has("mchid") && s.has("private_key_file") {
		lk.online = func() (auth.Verifier, error) {
			cfg, err := a.config(s)
			if err != nil {
				return nil, err
			}
			cfg.CertificateRefresh = -1
			cl, err := wxpay.NewClient(ctx, cfg)
			if err != nil {
				return nil, configError(err)
			}
			closeFn = func() { _ = cl.Close() }
			return cl.Conn().Keys(), nil
		}
	}
	return lk, func() { closeFn() }, nil
}

// localKeys verifies with the keys given as files, falling back to an
// online store for unknown certificate serials.
type localKeys struct {
	pubID  string
	pub    *rsa.PublicKey
	certs  map[string]*rsa.PublicKey
	online func() (auth.Verifier, error)

	onlineV   auth.Verifier // the online store, once made
	onlineErr error
	tried     bool
}

func (k *localKeys) Verify(ctx context.Context, serial string, msg []byte, sig string) error {
	if auth.IsPublicKeyID(serial) {
		switch {
		case k.pub != nil && serial == k.pubID:
			return auth.VerifyBase64(k.pub, msg, sig)
		case k.pub != nil:
			return fmt.Errorf("%w: the notification is signed by the WeChat Pay public key %s, but the configured one is %s", auth.ErrUnknownKey, serial, k.pubID)
		}
		return fmt.Errorf("%w: the notification is signed by the WeChat Pay public key %s, which is not configured (--public-key-id, --public-key)", auth.ErrUnknownKey, serial)
	}
	if pub := k.certs[strings.ToUpper(serial)]; pub != nil {
		return auth.VerifyBase64(pub, msg, sig)
	}
	if k.online != nil {
		if !k.tried {
			k.tried = true
			k.onlineV, k.onlineErr = k.online()
		}
		v, err := k.onlineV, k.onlineErr
		if err != nil {
			return fmt.Errorf("%w: platform certificate %s is not among the given files, and downloading the certificates is not possible: %w", auth.ErrUnknownKey, serial, err)
		}
		return v.Verify(ctx, serial, msg, sig)
	}
	return fmt.Errorf("%w: the notification is signed by platform certificate %s, which is not among the given certificates: give it with --platform-cert (see 'wxpay certs download'), or the merchant's credentials to download it", auth.ErrUnknownKey, serial)
}

// loadPlatformCerts reads platform certificates from files and folders
// (every *.pem in a folder that holds a platform certificate).
func loadPlatformCerts(paths []string) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for _, p := range paths {
		files := []string{p}
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			files, _ = filepath.Glob(filepath.Join(p, "*.pem"))
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				return nil, fmt.Errorf("platform certificate: %w", err)
			}
			c, err := auth.ParseCertificate(b)
			if err != nil {
				if len(files) > 1 {
					continue // a folder may hold other PEM files
				}
				return nil, fmt.Errorf("platform certificate %s: %v", f, err)
			}
			if c.Subject.CommonName != "Tenpay.com sign" {
				if len(files) > 1 {
					continue
				}
				return nil, fmt.Errorf("%s is not a WeChat Pay platform certificate (its subject is %q, not Tenpay.com sign): the merchant's own apiclient_cert.pem does not verify notifications", f, c.Subject.CommonName)
			}
			out = append(out, c)
		}
	}
	return out, nil
}
