package core

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptrace"
	"sync/atomic"
)

// ErrNotSent is wrapped by the error of a call that stopped before its
// request left the client (Options.Before refused it: no usable platform
// key, a closed client): WeChat Pay did not see it, so it may be repeated
// once the cause is fixed.
var ErrNotSent = errors.New("the request was not sent")

// notSentError is the cause of a call stopped before sending.
type notSentError struct{ err error }

func (e *notSentError) Error() string   { return ErrNotSent.Error() + ": " + e.err.Error() }
func (e *notSentError) Unwrap() []error { return []error{ErrNotSent, e.err} }

// mayTakeEffect is appended to the error of a call whose request reached,
// or may have reached, WeChat Pay without a usable answer.
const mayTakeEffect = "the request may have taken effect: query before repeating it"

// repeatable reports whether sending op twice is harmless by the HTTP
// method (GET, HEAD, PUT, DELETE) or by the spec's mark (ResendSafe).
func repeatable(op *Operation) bool {
	switch op.Method {
	case http.MethodPost, http.MethodPatch:
		return op.ResendSafe
	}
	return true
}

// sendTrace follows one attempt through net/http: whether a complete
// request was written (the server may have acted only then) and how often
// headers were written (net/http resends some requests on its own).
type sendTrace struct {
	writes atomic.Int32 // headers written
	wrote  atomic.Bool  // a whole request was written without error
	trace  httptrace.ClientTrace
}

func newSendTrace() *sendTrace {
	t := &sendTrace{}
	t.trace.WroteHeaders = func() { t.writes.Add(1) }
	t.trace.WroteRequest = func(i httptrace.WroteRequestInfo) {
		if i.Err == nil {
			t.wrote.Store(true)
		}
	}
	return t
}

func (t *sendTrace) context(ctx context.Context) context.Context {
	return httptrace.WithClientTrace(ctx, &t.trace)
}

// extraSends is how often net/http sent the request again by itself within
// one attempt.
func (t *sendTrace) extraSends() int {
	if t == nil {
		return 0
	}
	if n := int(t.writes.Load()); n > 1 {
		return n - 1
	}
	return 0
}

// neverSent reports whether the failed attempt provably did not reach
// the server: it could not connect, or no complete request was written.
func neverSent(err error, t *sendTrace) bool {
	if isDialError(err) {
		return true
	}
	return t != nil && !t.wrote.Load()
}

// mayResend reports whether an attempt that failed with the network error
// err may be sent again; safe is whether the call may be repeated at all.
func mayResend(safe bool, err error, t *sendTrace) bool {
	if errors.Is(err, ErrVerification) {
		return false
	}
	// send asks only while the call's context lives: a deadline here is
	// the attempt's own timeout (auth.Transport.Timeout), after which the
	// request may be sent again like after any other timeout.
	if !retryableNetError(err) && !errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	return safe || neverSent(err, t)
}

// hasIdempotencyKey reports a call given an Idempotency-Key header
// (WithHeader): WeChat Pay answers its repeats with the first outcome.
func hasIdempotencyKey(h http.Header) bool {
	return h != nil && h.Get("Idempotency-Key") != ""
}
