package core

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/gowxpay/wxpay/internal/wire"
)

// Version is the wxpay version reported in the User-Agent header.
const Version = "0.1.0"

// DefaultBaseURL is WeChat Pay's primary API host; DefaultBackupURL is its
// host in another data centre, used on connection failure when enabled.
const (
	DefaultBaseURL   = "https://api.mch.weixin.qq.com"
	DefaultBackupURL = "https://api2.mch.weixin.qq.com"
)

// Authorizer computes the Authorization header of a request.
// auth.RequestSigner is the implementation; tests and benchmarks substitute
// their own.
type Authorizer interface {
	// Authorize returns the Authorization header value for a request with
	// this method, canonical URL (path and query exactly as sent) and body to
	// sign.
	Authorize(method, canonicalURL string, signBody []byte) (string, error)
}

// Encrypter encrypts sensitive request fields with the platform key.
type Encrypter interface {
	// Encryptor returns the serial (certificate serial or PUB_KEY_ID_…) of
	// the platform key to encrypt with and a function that encrypts one
	// field value with it. The serial goes into the Wechatpay-Serial header.
	Encryptor(ctx context.Context) (serial string, encrypt func(string) (string, error), err error)
}

// Announcer names, on every request, the platform key the client can verify
// (Wechatpay-Serial), so that a merchant moving to the platform public key
// receives answers signed with it.
type Announcer interface {
	AnnouncedSerial() string
}

// Mode is the merchant identity calls are made with, and the defaults that
// fill empty request fields.
type Mode struct {
	// Partner selects the service-provider mode (服务商).
	Partner bool
	// MchID fills mchid (direct) or sp_mchid (partner).
	MchID string
	// AppID fills empty appid / sp_appid fields.
	AppID string
	// SubMchID and SubAppID fill empty sub_mchid / sub_appid fields in
	// partner mode.
	SubMchID, SubAppID string
	// NotifyURL fills empty notify_url fields.
	NotifyURL string
}

// Modes returns Partner or Direct.
func (m *Mode) Modes() Modes {
	if m.Partner {
		return Partner
	}
	return Direct
}

// Options configure a Conn.
type Options struct {
	// BaseURL is the API host; DefaultBaseURL when empty.
	BaseURL string
	// BackupURL, when set, is tried after a connection failure (never after
	// an answer), as WeChat recommends for its second data centre.
	BackupURL string
	// HTTPClient sends the requests; its Transport verifies the answers
	// (auth.Transport). Required.
	HTTPClient *http.Client
	// Authorizer signs the requests. Required.
	Authorizer Authorizer
	// Encrypter encrypts sensitive fields; calls that have any fail without it.
	Encrypter Encrypter
	// Mode is the merchant identity and its defaults.
	Mode Mode
	// MaxAttempts bounds how often one call is sent; 3 when zero.
	MaxAttempts int
	// RetryBase and RetryMax shape the exponential backoff between
	// attempts (full jitter); 200ms and 3s when zero.
	RetryBase, RetryMax time.Duration
	// Logger receives one debug record per attempt (never bodies, keys or
	// signatures); nil disables logging.
	Logger *slog.Logger
	// UserAgent is appended to wxpay's own User-Agent.
	UserAgent string
	// Now is the clock for the clock-skew hint; time.Now when nil.
	Now func() time.Time
	// Sleep waits between attempts; tests replace it. It must return early
	// with ctx.Err() when ctx ends.
	Sleep func(ctx context.Context, d time.Duration) error
	// Before, when set, runs once per call before anything is sent; an
	// error stops the call, which then fails with an *OpError wrapping
	// ErrNotSent and the error. merchant.Conn uses it to load the platform
	// keys that will verify the answer, and to refuse calls after Close.
	Before func(ctx context.Context, op *Operation) error
}

// Conn sends the operations of every generated package: it builds the
// request, encrypts sensitive fields, signs, sends, retries what may be
// retried, turns non-2xx answers into *APIError and decodes the rest. It is
// safe for concurrent use.
type Conn struct {
	base, backup string
	basePath     string
	http         *http.Client
	authz        Authorizer
	enc          Encrypter
	announce     Announcer
	mode         Mode
	maxAttempts  int
	retryBase    time.Duration
	retryMax     time.Duration
	log          *slog.Logger
	userAgent    []string
	now          func() time.Time
	sleep        func(context.Context, time.Duration) error
	before       func(context.Context, *Operation) error
}

// NewConn checks o and returns a Conn.
func NewConn(o Options) (*Conn, error) {
	if o.HTTPClient == nil {
		return nil, errors.New("wxpay: core.Options.HTTPClient is nil")
	}
	if o.Authorizer == nil {
		return nil, errors.New("wxpay: core.Options.Authorizer is nil")
	}
	c := &Conn{
		http:        o.HTTPClient,
		authz:       o.Authorizer,
		enc:         o.Encrypter,
		mode:        o.Mode,
		maxAttempts: o.MaxAttempts,
		retryBase:   o.RetryBase,
		retryMax:    o.RetryMax,
		log:         o.Logger,
		now:         o.Now,
		sleep:       o.Sleep,
		before:      o.Before,
	}
	if a, ok := o.Encrypter.(Announcer); ok {
		c.announce = a
	}
	base := o.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	u, err := url.Parse(base)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("wxpay: BaseURL %q is not an absolute URL", base)
	}
	c.base = strings.TrimSuffix(base, "/")
	c.basePath = strings.TrimSuffix(u.EscapedPath(), "/")
	if o.BackupURL != "" {
		b, err := url.Parse(o.BackupURL)
		if err != nil || b.Scheme == "" || b.Host == "" {
			return nil, fmt.Errorf("wxpay: BackupURL %q is not an absolute URL", o.BackupURL)
		}
		if strings.TrimSuffix(b.EscapedPath(), "/") != c.basePath {
			return nil, errors.New("wxpay: BackupURL must have the same path as BaseURL")
		}
		c.backup = strings.TrimSuffix(o.BackupURL, "/")
	}
	if c.maxAttempts <= 0 {
		c.maxAttempts = 3
	}
	if c.retryBase <= 0 {
		c.retryBase = 200 * time.Millisecond
	}
	if c.retryMax <= 0 {
		c.retryMax = 3 * time.Second
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.sleep == nil {
		c.sleep = sleepCtx
	}
	ua := fmt.Sprintf("wxpay/%s (%s; %s) %s", Version, runtime.GOOS, runtime.GOARCH, runtime.Version())
	if o.UserAgent != "" {
		ua += " " + o.UserAgent
	}
	c.userAgent = []string{ua}
	return c, nil
}

// Mode returns the merchant identity and defaults. Do not modify it.
func (c *Conn) Mode() *Mode { return &c.mode }

// BaseURL returns the API host requests go to.
func (c *Conn) BaseURL() string { return c.base }

// BackupURL returns the failover host, or "".
func (c *Conn) BackupURL() string { return c.backup }

// HTTPClient returns the client requests go through.
func (c *Conn) HTTPClient() *http.Client { return c.http }

// CheckMode is plumbing for the generated packages: it returns a *ModeError
// when op does not serve the client's mode.
func (c *Conn) CheckMode(op *Operation) error {
	if op == nil {
		return errNilOperation
	}
	if op.Modes != 0 && op.Modes&c.mode.Modes() == 0 {
		return &ModeError{Op: op.Name, OpModes: op.Modes, ClientMode: c.mode.Modes()}
	}
	return nil
}

var errNilOperation = errors.New("wxpay: the Operation is nil")

// checkCall refuses a call without a context or an operation, before
// anything is sent, and checks the mode.
func (c *Conn) checkCall(ctx context.Context, op *Operation) error {
	if op == nil {
		return errNilOperation
	}
	if ctx == nil {
		return &UsageError{Op: op.Name, Msg: "the context is nil: pass context.Background() or a request's context"}
	}
	return c.CheckMode(op)
}

// Do is plumbing for the generated packages, whose methods are the way to
// call an operation (wxpay.Client.Raw for one the spec lacks): it sends op
// with the JSON body (nil for none) to uri (path and query) and decodes a
// 2xx answer into out (nil to discard it).
func (c *Conn) Do(ctx context.Context, op *Operation, uri string, body, out any, opts []CallOption) error {
	if err := c.checkCall(ctx, op); err != nil {
		return err
	}
	var payload []byte
	var serial string
	if len(op.SensitiveQuery) > 0 {
		var err error
		if uri, serial, err = c.encryptQuery(ctx, op, uri); err != nil {
			return err
		}
	}
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return fmt.Errorf("wxpay: %s: encoding the request: %w", op.Name, err)
		}
		if len(op.Sensitive) > 0 {
			var bodySerial string
			if payload, bodySerial, err = c.encryptFields(ctx, op, payload); err != nil {
				return err
			}
			if bodySerial != "" {
				serial = bodySerial
			}
		}
	}
	resp, err := c.send(ctx, op, uri, payload, payload, jsonContentType, serial, opts)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := bodyBytes(resp.Body)
	if err != nil {
		return fmt.Errorf("wxpay: %s: reading the answer: %w", op.Name, err)
	}
	if resp.StatusCode == http.StatusAccepted {
		// 202 means "accepted, not finished" (a payment-code payment waiting
		// for the payer's password, say). When its body is an error object,
		// report it as one so IsCode(err, "USERPAYING") works.
		if e := acceptedError(op, resp, data, c.now()); e != nil {
			return e
		}
	}
	if out == nil {
		return nil
	}
	if len(data) == 0 {
		return &DecodeError{Op: op.Name, RequestID: resp.Header.Get("Request-ID"), Err: errors.New("empty body")}
	}
	if err := json.Unmarshal(data, out); err != nil {
		return &DecodeError{Op: op.Name, RequestID: resp.Header.Get("Request-ID"), Body: data, Err: err}
	}
	return nil
}

// Download is plumbing for the generated packages: it sends op (a GET) to
// uri and returns the body of a 2xx answer for the caller to read and
// close. It is for answers that are files, not JSON.
func (c *Conn) Download(ctx context.Context, op *Operation, uri string, opts []CallOption) (io.ReadCloser, error) {
	if err := c.checkCall(ctx, op); err != nil {
		return nil, err
	}
	resp, err := c.send(ctx, op, uri, nil, nil, "", "", opts)
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// Upload is plumbing for the generated packages: it sends a
// multipart/form-data body whose signature covers only meta, the JSON of
// its meta part, and decodes the answer into out.
func (c *Conn) Upload(ctx context.Context, op *Operation, uri string, meta, body []byte, contentType string, out any, opts []CallOption) error {
	return c.upload(ctx, op, uri, meta, body, contentType, "", out, opts)
}

// upload is Upload with the Wechatpay-Serial of the key that encrypted the
// meta's sensitive fields ("" for none).
func (c *Conn) upload(ctx context.Context, op *Operation, uri string, meta, body []byte, contentType, serial string, out any, opts []CallOption) error {
	if err := c.checkCall(ctx, op); err != nil {
		return err
	}
	resp, err := c.send(ctx, op, uri, body, meta, contentType, serial, opts)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := bodyBytes(resp.Body)
	if err != nil {
		return fmt.Errorf("wxpay: %s: reading the answer: %w", op.Name, err)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return &DecodeError{Op: op.Name, RequestID: resp.Header.Get("Request-ID"), Body: data, Err: err}
	}
	return nil
}

// RawResponse is the answer of a raw call.
type RawResponse struct {
	StatusCode int
	Header     http.Header
	Body       []byte
}

// RawOp is plumbing for wxpay.Client.Raw and merchant.Conn.Raw, the raw
// calls programs use: it sends body to uri as op, whose Name appears in
// errors and whose Unsigned tells the transport whether to verify the
// answer, and returns the answer as it came.
func (c *Conn) RawOp(ctx context.Context, op *Operation, uri string, body []byte, opts ...CallOption) (*RawResponse, error) {
	if ctx == nil || op == nil {
		return nil, c.checkCall(ctx, op)
	}
	ct := ""
	if len(body) > 0 {
		ct = jsonContentType
	}
	resp, err := c.send(ctx, op, uri, body, body, ct, "", opts)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := bodyBytes(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("wxpay: %s: reading the answer: %w", op.Name, err)
	}
	return &RawResponse{StatusCode: resp.StatusCode, Header: resp.Header, Body: data}, nil
}

const jsonContentType = "application/json"

var (
	acceptJSON = []string{"application/json"}
	acceptAny  = []string{"*/*"}
	ctJSON     = []string{jsonContentType}
)

// send performs the attempts of one call and returns a 2xx answer, whose
// body the caller must close.
func (c *Conn) send(ctx context.Context, op *Operation, uri string, payload, signBody []byte, contentType, serial string, opts []CallOption) (*http.Response, error) {
	var co callOptions
	for _, o := range opts {
		o(&co)
	}
	attempts := c.maxAttempts
	if co.maxAttempts > 0 {
		attempts = co.maxAttempts
	}
	if c.before != nil {
		// Nothing leaves the client before its answer can be verified: a
		// missing platform key found after sending would report failure
		// for a request that may have moved money.
		if err := c.before(ctx, op); err != nil {
			if co.meta != nil {
				co.meta.Attempts = 0
			}
			return nil, &OpError{Op: op.ID, Err: &notSentError{err}}
		}
	}
	if serial == "" && c.announce != nil {
		serial = c.announce.AnnouncedSerial()
	}
	if op.Unsigned {
		// The transport verifies every answer it knows nothing about; only
		// unsigned operations need to tell it (one allocation saved on
		// every other call).
		ctx = wire.WithOperation(ctx, op)
	}
	// A trace tells whether a failed request reached the server (needed
	// to resend an operation that is not safe to repeat) and counts the
	// sends net/http makes by itself (needed for a truthful count).
	safe := repeatable(op) || hasIdempotencyKey(co.header)
	traced := !safe || co.meta != nil
	base := c.base
	sent := 0
	for attempt := 1; ; attempt++ {
		var tr *sendTrace
		actx := ctx
		if traced {
			tr = newSendTrace()
			actx = tr.context(ctx)
		}
		start := time.Now()
		resp, err := c.attempt(actx, op, base, uri, payload, signBody, contentType, serial, co.header)
		sent += 1 + tr.extraSends()
		if co.meta != nil {
			co.meta.Attempts = sent
			if resp != nil {
				co.meta.StatusCode, co.meta.RequestID, co.meta.Header = resp.StatusCode, resp.Header.Get("Request-ID"), resp.Header
			}
		}
		if err != nil {
			retry := ctx.Err() == nil && attempt < attempts && mayResend(safe, err, tr)
			c.logAttempt(ctx, op, attempt, resp, err, time.Since(start), retry)
			if !retry {
				return nil, callError(op, err, tr)
			}
			if c.backup != "" && isDialError(err) {
				base = c.backup
			}
			if err := c.sleep(ctx, c.backoff(attempt, nil)); err != nil {
				return nil, callError(op, err, tr)
			}
			continue
		}
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			c.logAttempt(ctx, op, attempt, resp, nil, time.Since(start), false)
			return resp, nil
		}
		data, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		resp.Body.Close()
		apiErr := newAPIError(op, resp, data, c.now())
		// 429 means WeChat Pay refused to process the request, so it may
		// be sent again; a 5xx may come after it acted, so only requests
		// safe to repeat are.
		retry := apiErr.Retryable() && attempt < attempts && (safe || resp.StatusCode == http.StatusTooManyRequests)
		c.logAttempt(ctx, op, attempt, resp, nil, time.Since(start), retry)
		if !retry {
			if apiErr.StatusCode >= 500 && op.Method != http.MethodGet && op.Method != http.MethodHead && apiErr.Hint == "" {
				// A 5xx may come after WeChat Pay acted.
				apiErr.Hint = mayTakeEffect
			}
			return nil, apiErr
		}
		if err := c.sleep(ctx, c.backoff(attempt, resp)); err != nil {
			return nil, callError(op, err, nil)
		}
	}
}

func (c *Conn) attempt(ctx context.Context, op *Operation, base, uri string, body, signBody []byte, contentType, serial string, extra http.Header) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, op.Method, base+uri, nil)
	if err != nil {
		return nil, &notSentError{err}
	}
	if len(body) > 0 {
		// Set by hand, without GetBody: net/http then never sends the
		// body again by itself, even with an Idempotency-Key header
		// (which makes it treat a POST as replayable); resending is send's
		// decision alone, and counted. A NopCloser around a
		// *bytes.Reader is still known to net/http as in memory, so the
		// headers and body go out in one write.
		req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	} else if body != nil {
		req.Body = http.NoBody
	}
	for k, v := range extra {
		req.Header[http.CanonicalHeaderKey(k)] = v
	}
	// The canonical URL is the request target exactly as it goes on the
	// wire: uri is already escaped (URI), and net/http keeps that escaping
	// (RawPath and RawQuery), so it need not be derived again.
	authz, err := c.authz.Authorize(op.Method, c.basePath+uri, signBody)
	if err != nil {
		return nil, &notSentError{err}
	}
	h := req.Header
	h["Authorization"] = []string{authz}
	if op.Unsigned {
		h["Accept"] = acceptAny
	} else {
		h["Accept"] = acceptJSON
	}
	h["User-Agent"] = c.userAgent
	if contentType == jsonContentType {
		h["Content-Type"] = ctJSON
	} else if contentType != "" {
		h["Content-Type"] = []string{contentType}
	}
	if serial != "" {
		h["Wechatpay-Serial"] = []string{serial}
	}
	return c.http.Do(req)
}

// backoff returns the wait before the next attempt: exponential with full
// jitter, or the server's Retry-After when it asks for longer.
func (c *Conn) backoff(attempt int, resp *http.Response) time.Duration {
	d := c.retryBase << (attempt - 1)
	if d > c.retryMax || d <= 0 {
		d = c.retryMax
	}
	d = d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
	if resp != nil {
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
			if ra := time.Duration(s) * time.Second; ra > d {
				d = min(ra, 30*time.Second)
			}
		}
	}
	return d
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// OpError is a call that failed without an answer from WeChat Pay: the
// connection failed, the answer's signature did not verify, the context
// ended, or the call stopped before sending (ErrNotSent). Err is the cause
// (errors.Is and errors.As see through it).
type OpError struct {
	Op  string
	Err error
	// Uncertain reports that the request reached, or may have reached,
	// WeChat Pay, which may have acted on it: query the outcome before
	// repeating a call that moves money. The error text says so.
	Uncertain bool
}

func (e *OpError) Error() string {
	if e.Err == nil {
		return "wxpay: " + e.Op + ": failed"
	}
	s := "wxpay: " + e.Op + ": " + strings.TrimPrefix(e.Err.Error(), "wxpay: ")
	if e.Uncertain {
		s += "; " + mayTakeEffect
	}
	return s
}

func (e *OpError) Unwrap() error { return e.Err }

// callError names the operation of a failed attempt. A verification error
// already says everything: the URL net/http wraps it in is dropped. A
// request that changes something and may have reached the server is marked
// Uncertain.
func callError(op *Operation, err error, t *sendTrace) error {
	var ue *url.Error
	if errors.As(err, &ue) && errors.Is(ue.Err, ErrVerification) {
		err = ue.Err
	}
	e := &OpError{Op: op.Name, Err: err}
	if op.Method != http.MethodGet && op.Method != http.MethodHead {
		switch {
		case errors.Is(err, ErrVerification):
			e.Uncertain = true
		case errors.Is(err, ErrNotSent):
		default:
			// Without a trace, only a failure to connect proves that
			// nothing was sent; a context that ended before sending
			// leaves a trace that wrote nothing.
			e.Uncertain = !neverSent(err, t)
		}
	}
	return e
}

// ErrVerification is wrapped by every error about an answer whose signature
// could not be verified. Such errors are never retried: the request reached
// WeChat Pay and may have taken effect, so query before repeating it.
var ErrVerification = errors.New("the answer's signature could not be verified")

// retryableNetError reports errors after which the identical request may be
// sent again: connection refused or reset, an answer cut short, timeouts of
// the transport. Verification failures and TLS errors are not.
func retryableNetError(err error) bool {
	if errors.Is(err, ErrVerification) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var ue *url.Error
	if errors.As(err, &ue) && (strings.Contains(ue.Err.Error(), "x509") || strings.Contains(ue.Err.Error(), "tls:")) {
		return false
	}
	if isDialError(err) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// isDialError reports a failure to connect at all: nothing was sent.
func isDialError(err error) bool {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" {
		return true
	}
	var de *net.DNSError
	return errors.As(err, &de) || errors.Is(err, syscall.ECONNREFUSED)
}

// maxLogValue bounds a string attribute of the request log: an answer's
// headers and error text come from the network.
const maxLogValue = 1024

// boundLog cuts s to maxLogValue bytes, at a character boundary, marked.
func boundLog(s string) string {
	if len(s) <= maxLogValue {
		return s
	}
	n := maxLogValue
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…[cut, " + strconv.Itoa(len(s)) + " bytes]"
}

func (c *Conn) logAttempt(ctx context.Context, op *Operation, attempt int, resp *http.Response, err error, d time.Duration, retry bool) {
	if c.log == nil || !c.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := []slog.Attr{
		slog.String("op", op.Name),
		slog.String("method", op.Method),
		slog.String("path", op.Path),
		slog.Int("attempt", attempt),
		slog.Duration("duration", d),
	}
	if resp != nil {
		attrs = append(attrs, slog.Int("status", resp.StatusCode), slog.String("request_id", boundLog(resp.Header.Get("Request-ID"))))
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", boundLog(err.Error())))
	}
	if err != nil || resp != nil && resp.StatusCode >= 300 {
		attrs = append(attrs, slog.Bool("retry", retry))
	}
	c.log.LogAttrs(ctx, slog.LevelDebug, "wxpay request", attrs...)
}

// maxBody bounds a JSON answer.
const maxBody = 32 << 20

func bodyBytes(r io.Reader) ([]byte, error) {
	if b, ok := r.(interface{ Bytes() []byte }); ok {
		return b.Bytes(), nil
	}
	return io.ReadAll(io.LimitReader(r, maxBody))
}

// acceptedError returns an *APIError for a 202 answer whose body is an error
// object ({"code": …, "message": …}), or nil.
func acceptedError(op *Operation, resp *http.Response, data []byte, now time.Time) *APIError {
	var probe struct {
		Code string `json:"code"`
	}
	if json.Unmarshal(data, &probe) != nil || probe.Code == "" {
		return nil
	}
	return newAPIError(op, resp, data, now)
}
