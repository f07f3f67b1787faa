package callback

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
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
//   - a Store that fails: 503; the function failing, or a decryption or
//     decoding failure: 500.
//
// A notification whose id the Store knows as processed is acknowledged
// without running the function again. The id is recorded as processed only
// after the function returned nil: if the process dies while the function
// runs, the redelivery is processed. Two deliveries of one id that arrive
// together never both run the function: the second is answered 409 at
// once, without waiting (WeChat Pay's next try finds the id processed, or
// processes it if the first attempt failed). The messages of failure answers
// are generic; the details go to the Logger.
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

// WithLogger sets the logger; by default the Parser's (Config.Logger).
func WithLogger(l *slog.Logger) Option { return func(h *Handler) { h.log = l } }

// NewHandler returns the Handler that runs fn with each new notification p
// accepts. fn gets the request's context.
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

	if h.store != nil {
		st, err := h.store.Claim(ctx, ev.ID)
		switch {
		case err != nil:
			h.logAt(ctx, slog.LevelError, "wxpay callback: the Store failed; answered 503 so that WeChat Pay delivers again", slog.Any("event", ev), slog.String("error", err.Error()))
			writeFail(w, http.StatusServiceUnavailable, msgStore)
			return
		case st == Done:
			h.logAt(ctx, slog.LevelInfo, "wxpay callback: duplicate of a processed notification acknowledged", slog.Any("event", ev))
			w.WriteHeader(http.StatusOK)
			return
		case st == InProgress:
			h.logAt(ctx, slog.LevelInfo, "wxpay callback: notification is being processed by another delivery; answered 409", slog.Any("event", ev))
			writeFail(w, http.StatusConflict, msgInProgress)
			return
		}
	}

	if err := h.run(ctx, ev); err != nil {
		h.logAt(ctx, slog.LevelError, "wxpay callback: processing failed; answered 500 so that WeChat Pay delivers again", slog.Any("event", ev), slog.String("error", err.Error()), slog.Duration("took", time.Since(start)))
		writeFail(w, http.StatusInternalServerError, msgProcessing)
		return
	}
	h.logAt(ctx, slog.LevelInfo, "wxpay callback: notification processed", slog.Any("event", ev), slog.Duration("took", time.Since(start)))
	w.WriteHeader(http.StatusOK)
}

// run calls fn and records the outcome in the store; a panic in fn releases
// the claim before it continues up the stack.
func (h *Handler) run(ctx context.Context, ev *Event) (err error) {
	finished := false
	if h.store != nil {
		defer func() {
			// The store calls survive a cancelled request: the outcome
			// is known and must be recorded.
			sctx := context.WithoutCancel(ctx)
			if !finished || err != nil {
				if rerr := h.store.Release(sctx, ev.ID); rerr != nil {
					h.logAt(ctx, slog.LevelError, "wxpay callback: the Store failed to release a claim", slog.Any("event", ev), slog.String("error", rerr.Error()))
				}
				return
			}
			if cerr := h.store.Complete(sctx, ev.ID); cerr != nil {
				// fn succeeded: acknowledge anyway; a redelivery may run
				// fn again, which is why fn must be idempotent.
				h.logAt(ctx, slog.LevelError, "wxpay callback: processed, but the Store failed to record it", slog.Any("event", ev), slog.String("error", cerr.Error()))
			}
		}()
	}
	err = h.fn(ctx, ev)
	finished = true
	return err
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
		h.log.LogAttrs(ctx, level, msg, attrs...)
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
