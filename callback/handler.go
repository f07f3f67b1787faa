package callback

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sync"
	"time"

	"github.com/gowxpay/wxpay/auth"
)

// DefaultMaxBodySize is the largest notification body Handler reads: real
// ones are a few kilobytes.
const DefaultMaxBodySize = 1 << 20

// Handler is the http.Handler of a notify_url: it verifies, decrypts and
// decodes each notification with a Parser, runs a function with the event,
// and acknowledges the notification (200) only when the function returned
// nil. Every other outcome is answered with a non-2xx status and WeChat Pay's
// failure body {"code":"FAIL","message":…}, so WeChat Pay delivers the
// notification again later (for about 24 hours) and nothing is lost:
//
//   - a method other than POST: 405, and a body over the size limit: 413,
//     both before any cryptography;
//   - a signature that does not verify, a signature probe, a stale
//     timestamp: 401; a malformed request: 400;
//   - a notification another delivery is processing right now: 409;
//   - a Store that fails: 503; the function failing, panicking or
//     overrunning its timeout, or a decryption or decoding failure: 500.
//
// A notification whose id the Store knows as processed is acknowledged
// without running the function again. The id is recorded as processed only
// after the function returned nil. A delivery claims the id for a lease
// (WithLease) before it runs the function: two deliveries of one id that
// arrive together, at one instance or at two sharing a Store, never both run
// it: the second is answered 409 at once, without waiting (WeChat Pay's next
// try finds the id processed, or processes it if the first attempt failed).
// If the process dies or the function hangs, the claim expires with its lease
// and a redelivery is processed. The function's time is bounded (WithTimeout);
// a panic in it is recovered and answered 500. The messages of failure
// answers are generic; the details go to the Logger.
//
// WeChat Pay waits about 5 seconds for the answer and takes a slower one for
// a failure. Keep the function short: record the event durably (a database
// row, a queue message) and return; process it afterwards (see the
// example).
type Handler struct {
	parser  *Parser
	fn      func(context.Context, *Event) error
	store   Store
	maxBody int64
	log     *slog.Logger
	timeout time.Duration
	lease   time.Duration
	running sync.WaitGroup // functions not yet returned
}

// Option configures a Handler.
type Option func(*Handler)

// WithStore sets the Store of processed ids; a NewMemoryStore(DefaultTTL,
// DefaultMaxEntries) by default. A nil Store disables duplicate suppression.
func WithStore(s Store) Option { return func(h *Handler) { h.store = s } }

// WithMaxBodySize sets the size limit of bodies, DefaultMaxBodySize by
// default.
func WithMaxBodySize(n int64) Option {
	return func(h *Handler) {
		if n > 0 {
			h.maxBody = n
		}
	}
}

// DefaultTimeout is how long Handler waits for its function by default.
// WeChat Pay itself waits about 5 seconds for an answer.
const DefaultTimeout = 10 * time.Second

// WithTimeout bounds the function's time: its context is cancelled after d
// (DefaultTimeout by default), and when it has not returned by then the
// delivery is answered 500, so that WeChat Pay delivers it again. A function
// that ignores its context keeps running; its outcome is recorded when it
// returns, and until then (or until the claim's lease expires) redeliveries
// are answered 409.
func WithTimeout(d time.Duration) Option {
	return func(h *Handler) {
		if d > 0 {
			h.timeout = d
		}
	}
}

// WithLease sets how long a claim holds a notification id in the Store: a
// delivery whose process crashed, or whose function hangs, is processed
// again by the first redelivery after the lease. It must exceed the
// timeout (WithTimeout): a shorter lease is raised to twice the timeout.
// By default it is DefaultLease, or twice the timeout when that is longer.
func WithLease(d time.Duration) Option {
	return func(h *Handler) {
		if d > 0 {
			h.lease = d
		}
	}
}

// WithLogger sets the logger; by default the Parser's (Config.Logger).
func WithLogger(l *slog.Logger) Option { return func(h *Handler) { h.log = l } }

// NewHandler returns the Handler that runs fn with each new notification p
// accepts. fn gets the request's context, with the timeout's deadline
// (WithTimeout).
func NewHandler(p *Parser, fn func(ctx context.Context, ev *Event) error, opts ...Option) *Handler {
	h := &Handler{parser: p, fn: fn, store: NewMemoryStore(0, 0), maxBody: DefaultMaxBodySize}
	if p != nil {
		h.log = p.log
	}
	for _, o := range opts {
		if o != nil {
			o(h)
		}
	}
	if h.timeout <= 0 {
		h.timeout = DefaultTimeout
	}
	switch {
	case h.lease <= 0:
		h.lease = max(DefaultLease, 2*h.timeout)
	case h.lease <= h.timeout:
		h.lease = 2 * h.timeout
	}
	return h
}

// Handler-specific answers.
const (
	msgMethod     = "method not allowed"
	msgTooLarge   = "body too large"
	msgInProgress = "this notification is being processed; deliver it again later"
	msgStore      = "service unavailable"
	msgProcessing = "processing failed"
)

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeFail(w, http.StatusMethodNotAllowed, msgMethod)
		return
	}
	if h.parser == nil || h.fn == nil {
		h.logAt(ctx, slog.LevelError, "wxpay callback: the Handler has no Parser or no function (NewHandler was given nil)")
		writeFail(w, http.StatusInternalServerError, msgInternal)
		return
	}
	start := time.Now()
	body, status := h.readBody(w, r)
	if status != 0 {
		msg := msgBadRequest
		if status == http.StatusRequestEntityTooLarge {
			msg = msgTooLarge
		}
		h.logAt(ctx, slog.LevelWarn, "wxpay callback: notification refused", slog.Int("status", status), slog.String("reason", msg))
		writeFail(w, status, msg)
		return
	}

	ev, err := h.parser.Parse(ctx, r.Header, body)
	if err != nil {
		status, fail := Response(err)
		level := slog.LevelWarn
		if errors.Is(err, auth.ErrSignatureProbe) {
			level = slog.LevelInfo // WeChat Pay's routine check
		}
		h.logAt(ctx, level, "wxpay callback: notification rejected", slog.Int("status", status), slog.String("error", err.Error()))
		writeBody(w, status, fail)
		return
	}

	token := ""
	if h.store != nil {
		token = rand.Text()
		st, err := h.store.Claim(ctx, ev.ID, token, h.lease)
		switch {
		case err != nil:
			h.logAt(ctx, slog.LevelError, "wxpay callback: the Store failed; answered 503 so that WeChat Pay delivers again", slog.Any("event", ev), slog.String("error", err.Error()))
			writeFail(w, http.StatusServiceUnavailable, msgStore)
			return
		case st == Done:
			h.logAt(ctx, slog.LevelInfo, "wxpay callback: duplicate of a processed notification acknowledged", slog.Any("event", ev))
			w.WriteHeader(http.StatusOK)
			return
		case st != Claimed:
			h.logAt(ctx, slog.LevelInfo, "wxpay callback: notification is being processed by another delivery; answered 409", slog.Any("event", ev))
			writeFail(w, http.StatusConflict, msgInProgress)
			return
		}
	}

	finished, err := h.run(ctx, ev, token)
	switch {
	case !finished:
		h.logAt(ctx, slog.LevelError, "wxpay callback: processing did not finish in time; answered 500 so that WeChat Pay delivers again (the claim is kept until the function returns or its lease expires)", slog.Any("event", ev), slog.Duration("timeout", h.timeout), slog.Duration("lease", h.lease))
		writeFail(w, http.StatusInternalServerError, msgProcessing)
	case err != nil:
		h.logAt(ctx, slog.LevelError, "wxpay callback: processing failed; answered 500 so that WeChat Pay delivers again", slog.Any("event", ev), slog.String("error", err.Error()), slog.Duration("took", time.Since(start)))
		writeFail(w, http.StatusInternalServerError, msgProcessing)
	default:
		h.logAt(ctx, slog.LevelInfo, "wxpay callback: notification processed", slog.Any("event", ev), slog.Duration("took", time.Since(start)))
		w.WriteHeader(http.StatusOK)
	}
}

// Wait waits until every function the Handler started has returned and
// its outcome is recorded, or until ctx ends. A function that overran its
// timeout keeps running after its delivery was answered; call Wait after
// http.Server.Shutdown, before the process exits, so that its outcome is
// not lost (if it is, the claim's lease expires and a redelivery runs it).
func (h *Handler) Wait(ctx context.Context) error {
	if h == nil {
		return nil
	}
	if ctx == nil {
		ctx = context.Background()
	}
	idle := make(chan struct{})
	go func() {
		h.running.Wait()
		close(idle)
	}()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// run calls fn in a goroutine with a context bounded by the timeout and
// waits for it, at most until that context ends. The goroutine records
// the outcome in the store when fn returns, however late: Complete after
// nil, Release after an error or a panic (which it recovers). finished is
// false when fn had not returned in time; the claim is then left to the
// goroutine and, should fn never return, to the lease.
func (h *Handler) run(ctx context.Context, ev *Event, token string) (finished bool, err error) {
	fctx, cancel := context.WithTimeout(ctx, h.timeout)
	done := make(chan error, 1)
	h.running.Add(1)
	go func() {
		defer h.running.Done()
		defer cancel()
		err := h.call(fctx, ev)
		h.record(context.WithoutCancel(ctx), ev, token, err)
		done <- err
	}()
	select {
	case err := <-done:
		return true, err
	case <-fctx.Done():
		select {
		case err := <-done:
			return true, err
		default:
			return false, nil
		}
	}
}

// call runs fn, turning a panic into an error.
func (h *Handler) call(ctx context.Context, ev *Event) (err error) {
	defer func() {
		if r := recover(); r != nil {
			stack := debug.Stack()
			h.logAt(ctx, slog.LevelError, "wxpay callback: the function panicked; answered 500 so that WeChat Pay delivers again", slog.Any("event", ev), slog.String("panic", fmt.Sprint(r)), slog.String("stack", string(stack)))
			err = errPanicked
		}
	}()
	return h.fn(ctx, ev)
}

var errPanicked = errors.New("the function panicked")

// record tells the store the outcome of fn. The store calls survive a
// cancelled request: the outcome is known and must be recorded.
func (h *Handler) record(ctx context.Context, ev *Event, token string, err error) {
	if h.store == nil {
		return
	}
	if err != nil {
		if rerr := h.store.Release(ctx, ev.ID, token); rerr != nil {
			h.logAt(ctx, slog.LevelError, "wxpay callback: the Store failed to release a claim; the notification is processed again when its lease expires", slog.Any("event", ev), slog.String("error", rerr.Error()))
		}
		return
	}
	cerr := h.store.Complete(ctx, ev.ID, token)
	switch {
	case errors.Is(cerr, ErrLeaseLost):
		h.logAt(ctx, slog.LevelError, "wxpay callback: the function returned after its claim's lease expired; another delivery may have run it too (lengthen WithLease, or shorten the function)", slog.Any("event", ev), slog.Duration("lease", h.lease))
	case cerr != nil:
		// fn succeeded: acknowledge anyway; a redelivery may run fn
		// again, which is why fn must be idempotent.
		h.logAt(ctx, slog.LevelError, "wxpay callback: processed, but the Store failed to record it", slog.Any("event", ev), slog.String("error", cerr.Error()))
	}
}

// readBody reads the body within the size limit; status is non-zero when
// it cannot.
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request) (body []byte, status int) {
	if r.ContentLength > h.maxBody {
		return nil, http.StatusRequestEntityTooLarge
	}
	if r.Body == nil {
		return nil, 0
	}
	var buf bytes.Buffer
	if r.ContentLength > 0 {
		buf.Grow(int(r.ContentLength))
	}
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, h.maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, http.StatusRequestEntityTooLarge
		}
		return nil, http.StatusBadRequest
	}
	return buf.Bytes(), 0
}

func (h *Handler) logAt(ctx context.Context, level slog.Level, msg string, attrs ...slog.Attr) {
	if h.log != nil && h.log.Enabled(ctx, level) {
		h.log.LogAttrs(ctx, level, msg, boundAttrs(attrs)...)
	}
}

func writeFail(w http.ResponseWriter, status int, msg string) {
	writeBody(w, status, failBody(msg))
}

func writeBody(w http.ResponseWriter, status int, body []byte) {
	if body != nil {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
	}
	w.WriteHeader(status)
	if body != nil {
		_, _ = w.Write(body)
	}
}
