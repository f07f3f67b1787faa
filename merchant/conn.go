package merchant

import (
	"bufio"
	"compress/gzip"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gowxpay/wxpay/auth"
	"github.com/gowxpay/wxpay/core"
)

// Conn is a connection to WeChat Pay as one merchant: the *core.Conn every
// generated client sends through, the platform key store that verifies
// answers, and the merchant's signing key for the few things done
// client-side (pay parameters, decrypting fields). It is safe for concurrent
// use; Close it when done.
type Conn struct {
	core    *core.Conn
	keys    *auth.PlatformKeys
	signer  *auth.RequestSigner
	pay     auth.PaySigner
	key     *rsa.PrivateKey
	suite   auth.Suite    // nil for RSA
	skey    crypto.Signer // the merchant key of suite
	mode    core.Mode
	http    *http.Client
	maxSkew time.Duration
	now     func() time.Time
	once    sync.Once
	maxBill int64
}

// opListCertificates is the certificate download of the key store. The
// transport does not verify it (Unsigned): the store verifies it itself,
// with a certificate from the same answer.
var opListCertificates = core.Operation{ID: "ListCertificates", Name: "Certificates.List", Method: http.MethodGet, Path: "/v3/certificates", Modes: core.Direct | core.Partner, Unsigned: true}

// Connect checks cfg and builds the connection. It does no network I/O: in
// certificate mode the platform certificates are downloaded by the first
// call that needs them (or loaded from CertificateCacheDir).
func Connect(ctx context.Context, cfg Config) (*Conn, error) {
	if ctx == nil {
		return nil, errors.New("wxpay: the context is nil: pass context.Background()")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cr, err := cfg.load()
	if err != nil {
		return nil, err
	}
	var rs auth.Signer = auth.RSASigner{Key: cr.key}
	if cr.suite != nil {
		rs = auth.SuiteSigner{Suite: cr.suite, Key: cr.skey}
	}
	signer, err := auth.NewRequestSigner(cfg.MchID, cr.serial, rs)
	if err != nil {
		return nil, cfgErr("CertificateSerial", "%v", strings.TrimPrefix(err.Error(), "auth: "))
	}
	signer.Now = cr.now
	c := &Conn{
		signer:  signer,
		key:     cr.key,
		suite:   cr.suite,
		skey:    cr.skey,
		mode:    cr.coreMode,
		maxSkew: cr.maxSkew,
		now:     cr.now,
		maxBill: cfg.MaxBillSize,
	}
	if c.maxBill <= 0 {
		c.maxBill = DefaultMaxBillSize
	}
	if cr.suite != nil {
		signer.Scheme = cr.suite.Scheme()
	} else {
		c.pay = auth.PaySigner{Signer: auth.RSASigner{Key: cr.key}, Now: cr.now}
	}
	kc := auth.PlatformKeysConfig{
		CacheDir:        cfg.CertificateCacheDir,
		Cache:           cfg.CertificateCache,
		CacheKey:        cfg.MchID,
		RefreshInterval: cfg.CertificateRefresh,
		MaxSkew:         cr.maxSkew,
		Now:             cr.now,
		Logger:          cfg.Logger,
		Suite:           cr.suite,
	}
	// The store's mode follows from what it is given: certificates (APIv3
	// key and a fetcher), the public key, or both (transition).
	if cr.keyMode != auth.PublicKeyMode {
		kc.APIv3Key = cr.apiv3
		kc.Fetch = c.fetchCertificates
	}
	if cr.keyMode != auth.CertificateMode {
		kc.PublicKeyID, kc.PublicKey, kc.SuitePublicKey = cr.pubID, cr.pub, cr.spub
	}
	if c.keys, err = auth.NewPlatformKeys(kc); err != nil {
		return nil, err
	}
	var base http.RoundTripper
	c.http = &http.Client{Timeout: 30 * time.Second}
	if cfg.HTTPClient != nil {
		hc := *cfg.HTTPClient
		c.http = &hc
		base = hc.Transport
	}
	c.http.Transport = &auth.Transport{Base: base, Verifier: c.keys, MaxSkew: cr.maxSkew, Now: cr.now}
	c.core, err = core.NewConn(core.Options{
		BaseURL:     cr.baseURL,
		BackupURL:   cr.backup,
		HTTPClient:  c.http,
		Authorizer:  signer,
		Encrypter:   c.keys,
		Mode:        cr.coreMode,
		MaxAttempts: cfg.MaxAttempts,
		Logger:      cfg.Logger,
		UserAgent:   cfg.UserAgent,
		Now:         cr.now,
	})
	if err != nil {
		c.keys.Close()
		return nil, cfgErr("BaseURL", "%v", strings.TrimPrefix(err.Error(), "wxpay: "))
	}
	return c, nil
}

func (c *Conn) fetchCertificates(ctx context.Context) (http.Header, []byte, error) {
	uri := "/v3/certificates"
	if c.suite != nil {
		uri += "?algorithm_type=" + url.QueryEscape(c.suite.CertificateType())
	}
	r, err := c.core.RawOp(ctx, &opListCertificates, uri, nil)
	if err != nil {
		return nil, nil, err
	}
	return r.Header, r.Body, nil
}

// Core returns the connection the generated clients send through:
// payments.New(conn.Core()).
func (c *Conn) Core() *core.Conn { return c.core }

// Keys returns the platform key store (its mode, certificates and a forced
// refresh, for diagnostics).
func (c *Conn) Keys() *auth.PlatformKeys { return c.keys }

// Mode returns the merchant identity and the request defaults.
func (c *Conn) Mode() core.Mode { return c.mode }

// MaxClockSkew is the clock difference accepted on signed answers.
func (c *Conn) MaxClockSkew() time.Duration { return c.maxSkew }

// Close stops the background certificate refresh. It is safe to call twice.
func (c *Conn) Close() error {
	var err error
	c.once.Do(func() { err = c.keys.Close() })
	return err
}

// Raw sends a signed request for an endpoint that is not in the spec yet,
// or to debug one that is: method, uri (path and query exactly as they go
// on the wire) and an optional JSON body. A 2xx answer is verified like any
// other (unless unsigned is true, for file downloads); other answers are
// *core.APIError. wxpay.Client.Raw is the same call for programs that use
// the root package.
func (c *Conn) Raw(ctx context.Context, method, uri string, body []byte, unsigned bool, opts ...core.CallOption) (*core.RawResponse, error) {
	path, _, _ := strings.Cut(uri, "?")
	op := &core.Operation{ID: "Raw", Name: "Raw", Method: strings.ToUpper(method), Path: path, Unsigned: unsigned}
	return c.core.RawOp(ctx, op, uri, body, opts...)
}

// EditRequest signs a request built by hand (or by an oapi-codegen raw
// client: it is a RequestEditorFn); send it with HTTPClient so the answer is
// verified.
func (c *Conn) EditRequest(ctx context.Context, req *http.Request) error {
	return c.signer.EditRequest(ctx, req)
}

// HTTPClient returns the client whose transport verifies every signed
// answer, for requests signed with EditRequest.
func (c *Conn) HTTPClient() *http.Client { return c.http }

// JSAPIPayParams returns the signed parameters a WeChat web page
// (WeixinJSBridge getBrandWCPayRequest) or a mini program (wx.requestPayment)
// starts a payment with, for the prepay_id of a JSAPI order. appID is the app
// the payer's openid belongs to; Config.AppID when empty (in partner mode,
// pass the sub_appid when the order used sub_openid).
func (c *Conn) JSAPIPayParams(appID, prepayID string) (*auth.JSAPIPayParams, error) {
	if appID == "" {
		appID = c.mode.AppID
	}
	if appID == "" {
		return nil, errors.New("wxpay: JSAPIPayParams: no app id (give one, or set Config.AppID)")
	}
	if c.suite != nil {
		return nil, errNoSuitePaySign(c.suite)
	}
	return c.pay.JSAPI(appID, prepayID)
}

// APPPayParams returns the signed parameters an app starts a payment with
// (OpenSDK PayReq), for the prepay_id of an APP order. appID defaults to
// Config.AppID; partnerid is Config.MchID (the service provider's in partner
// mode).
func (c *Conn) APPPayParams(appID, prepayID string) (*auth.APPPayParams, error) {
	if appID == "" {
		appID = c.mode.AppID
	}
	if appID == "" {
		return nil, errors.New("wxpay: APPPayParams: no app id (give one, or set Config.AppID)")
	}
	if c.suite != nil {
		return nil, errNoSuitePaySign(c.suite)
	}
	return c.pay.APP(appID, c.mode.MchID, prepayID)
}

// DecryptField opens a field WeChat Pay encrypted to the merchant
// certificate's key (RSA-OAEP): phone numbers and names in some answers.
func (c *Conn) DecryptField(ciphertext string) (string, error) {
	if c.suite != nil {
		return decryptSuiteField(c.suite, c.skey, ciphertext)
	}
	return auth.DecryptOAEP(c.key, ciphertext)
}

// Suite returns the opt-in suite of the connection (Config.Suite); nil for
// RSA.
func (c *Conn) Suite() auth.Suite { return c.suite }

// DigestError means a downloaded bill does not match the digest WeChat Pay
// gave with its download_url: the file is incomplete or altered. What was
// written must be discarded.
type DigestError struct {
	Want, Got string
}

func (e *DigestError) Error() string {
	return fmt.Sprintf("wxpay: the downloaded bill does not match its digest (SHA-1 %s expected, %s computed): discard it and download again", e.Want, e.Got)
}

// DownloadBill streams the bill at downloadURL (the download_url of an
// ApplyTradeBill or ApplyFundFlowBill answer, used unchanged) to w,
// decompressing it when it is gzip, and checks the SHA-1 of the
// uncompressed content against hashValue. It returns the number of bytes
// written. On a *DigestError, what was written is not the bill: write to a
// temporary file and keep it only when DownloadBill returns nil.
func (c *Conn) DownloadBill(ctx context.Context, downloadURL, hashType, hashValue string, w io.Writer, opts ...core.CallOption) (int64, error) {
	if w == nil {
		return 0, errors.New("wxpay: DownloadBill: the writer is nil")
	}
	if !strings.EqualFold(hashType, "SHA1") {
		return 0, fmt.Errorf("wxpay: DownloadBill: unsupported hash type %q (WeChat Pay uses SHA1)", hashType)
	}
	want := strings.ToLower(hashValue)
	if len(want) != 2*sha1.Size {
		return 0, fmt.Errorf("wxpay: DownloadBill: %q is not a SHA-1 digest", hashValue)
	}
	u, err := url.Parse(downloadURL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return 0, fmt.Errorf("wxpay: DownloadBill: %q is not an absolute URL", downloadURL)
	}
	if !c.ownHost(u) {
		return 0, fmt.Errorf("wxpay: DownloadBill: the download_url points at %s, not the API host %s; refusing to send a signed request there", u.Host, c.core.BaseURL())
	}
	op := &core.Operation{ID: "DownloadBill", Name: "DownloadBill", Method: http.MethodGet, Path: u.Path, Unsigned: true}
	body, err := c.core.Download(ctx, op, u.RequestURI(), opts)
	if err != nil {
		return 0, err
	}
	defer body.Close()
	in := &countingReader{r: body}
	br := bufio.NewReader(in)
	lim := &billLimiter{r: br, max: c.maxBill}
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return 0, fmt.Errorf("wxpay: DownloadBill: %w", err)
		}
		defer gz.Close()
		lim.r, lim.compressed = gz, in
	}
	h := sha1.New()
	n, err := io.Copy(io.MultiWriter(w, h), lim)
	if err != nil {
		return n, fmt.Errorf("wxpay: DownloadBill: %w", err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return n, &DigestError{Want: want, Got: got}
	}
	return n, nil
}

// Bounds of DownloadBill.
const (
	// DefaultMaxBillSize is the largest bill DownloadBill writes by
	// default, uncompressed: 1 GiB, several million records.
	DefaultMaxBillSize = 1 << 30
	// MaxBillRatio bounds how many times larger than its compressed form
	// a gzip bill may be: bills compress about tenfold, bombs a
	// thousandfold. Checked once a bill exceeds billRatioFloor.
	MaxBillRatio   = 100
	billRatioFloor = 4 << 20
)

// ErrBillTooLarge is returned by DownloadBill for a bill over
// Config.MaxBillSize, or a gzip bill expanding more than MaxBillRatio-fold;
// what was written is not the bill.
var ErrBillTooLarge = errors.New("wxpay: the bill is larger than the limit (Config.MaxBillSize), or expands implausibly: discard what was written")

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// billLimiter ends a bill at max bytes, or when it expands more than
// MaxBillRatio-fold over the compressed bytes read (when compressed is
// set).
type billLimiter struct {
	r          io.Reader
	max, n     int64
	compressed *countingReader
}

func (l *billLimiter) Read(p []byte) (int, error) {
	if int64(len(p)) > l.max-l.n+1 {
		p = p[:l.max-l.n+1]
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	if l.n > l.max {
		return n - int(l.n-l.max), ErrBillTooLarge
	}
	if l.compressed != nil && l.n > billRatioFloor && l.n > MaxBillRatio*l.compressed.n {
		return n, ErrBillTooLarge
	}
	return n, err
}

// ownHost reports whether u is on the API host (or the backup host).
func (c *Conn) ownHost(u *url.URL) bool {
	for _, h := range []string{c.core.BaseURL(), c.core.BackupURL()} {
		if h == "" {
			continue
		}
		b, err := url.Parse(h)
		if err == nil && strings.EqualFold(b.Scheme, u.Scheme) && strings.EqualFold(b.Host, u.Host) {
			return true
		}
	}
	return false
}
