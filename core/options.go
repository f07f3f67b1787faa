package core

import "net/http"

// CallOption changes one call: extra headers, a different retry budget, or
// access to the answer's metadata. Every generated method takes them last.
type CallOption func(*callOptions)

type callOptions struct {
	header      http.Header
	maxAttempts int
	meta        *ResponseMeta
}

// WithHeader adds a request header to the call (Idempotency-Key, for
// example). It cannot replace the headers the client computes
// (Authorization, Wechatpay-Serial, Content-Type).
func WithHeader(key, value string) CallOption {
	return func(o *callOptions) {
		if o.header == nil {
			o.header = http.Header{}
		}
		o.header.Add(key, value)
	}
}

// WithMaxAttempts sets how many times the call may be sent in all (1 turns
// retries off). Only connection errors, 429 and retryable 5xx are retried.
func WithMaxAttempts(n int) CallOption {
	return func(o *callOptions) {
		if n < 1 {
			n = 1
		}
		o.maxAttempts = n
	}
}

// ResponseMeta receives facts about the answer of a call.
type ResponseMeta struct {
	// StatusCode is the HTTP status of the last answer.
	StatusCode int
	// RequestID is the Request-ID header of the last answer.
	RequestID string
	// Header is the header of the last answer.
	Header http.Header
	// Attempts is how many times the request was sent.
	Attempts int
}

// CaptureResponse fills meta when the call returns, successful or not (as
// far as an answer arrived).
func CaptureResponse(meta *ResponseMeta) CallOption {
	return func(o *callOptions) { o.meta = meta }
}

// Ptr returns a pointer to v, for the optional fields whose zero value is a
// value of its own (a false switch, a price of 0): set such a field to
// core.Ptr(false) to send false; leave it nil to send nothing.
func Ptr[T any](v T) *T { return &v }
