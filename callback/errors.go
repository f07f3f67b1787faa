package callback

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gowxpay/wxpay/core"
)

// The steps of Parse, as Error.Step names them.
const (
	// StepHeaders: reading the header argument.
	StepHeaders = "headers"
	// StepBody: the body is empty.
	StepBody = "body"
	// StepSignature: verifying the signature; the error wraps an
	// *auth.VerificationError and matches core.ErrVerification.
	StepSignature = "signature"
	// StepEnvelope: decoding the verified body.
	StepEnvelope = "envelope"
	// StepDecrypt: decrypting the resource.
	StepDecrypt = "decrypt"
	// StepDecode: decoding the decrypted resource into its Go type.
	StepDecode = "decode"
)

// Sentinel errors an *Error matches with errors.Is.
var (
	// ErrBodyChanged means that the signature did not verify and that the
	// body looks decoded and re-encoded by a framework or middleware
	// (pretty-printed, keys re-ordered, escaped differently): pass the raw
	// request body. It comes with the verification error (core.ErrVerification).
	ErrBodyChanged = errors.New("callback: the body is not the bytes WeChat Pay signed")
	// ErrEmptyBody means that the body is empty: something read it before
	// Parse.
	ErrEmptyBody = errors.New("callback: the body is empty")
	// ErrHeaderType means that the header argument has a type Parse cannot
	// read.
	ErrHeaderType = errors.New("callback: unsupported header argument")
	// ErrHeaderConflict means that a header is given under two spellings
	// (Wechatpay-Nonce and HTTP_WECHATPAY_NONCE, say) with different
	// values.
	ErrHeaderConflict = errors.New("callback: a header is given twice")
	// ErrMalformed means that the verified body is not a notification
	// envelope: not JSON, or without id, event_type or resource.
	ErrMalformed = errors.New("callback: the body is not a WeChat Pay notification")
	// ErrUnsupportedAlgorithm means that the resource is encrypted with an
	// algorithm that has no Opener in Config.Openers.
	ErrUnsupportedAlgorithm = errors.New("callback: unsupported encryption algorithm")
	// ErrDecode means that the decrypted resource does not decode into the
	// Go type its event type declares.
	ErrDecode = errors.New("callback: the resource does not decode")
)

// Error is the error of every notification Parse rejects. It says which step
// failed (Step), why and what to do (Reason), and carries the notification's
// id and event type once they are known (after verification) and its
// Request-ID. errors.Is matches Kind, one of this package's sentinels, and
// everything Err wraps: auth.ErrSignatureProbe, auth.ErrClockSkew,
// core.ErrVerification, auth.ErrDecrypt and so on. Its text never contains
// the APIv3 key, the signature or decrypted data.
type Error struct {
	// Step is the step that failed: StepHeaders, StepBody, StepSignature,
	// StepEnvelope, StepDecrypt or StepDecode.
	Step string
	// ID and EventType are the notification's, when known.
	ID, EventType string
	// RequestID is the Request-ID header, when present.
	RequestID string
	// Reason says what failed and what to check.
	Reason string
	// Kind is the sentinel of this package the error matches, or nil.
	Kind error
	// Err is the cause, or nil.
	Err error
}

// Error describes the failure.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("callback: ")
	if e.Reason != "" {
		b.WriteString(e.Reason)
	} else if e.Kind != nil {
		b.WriteString(strings.TrimPrefix(e.Kind.Error(), "callback: "))
	}
	// The verification error behind ErrBodyChanged only says that the
	// signature does not match; Reason says why.
	if e.Err != nil && e.Kind != ErrBodyChanged {
		if b.Len() > len("callback: ") {
			b.WriteString(": ")
		}
		b.WriteString(e.Err.Error())
	}
	if e.ID != "" || e.EventType != "" {
		b.WriteString(" (notification ")
		b.WriteString(e.ID)
		if e.EventType != "" {
			if e.ID != "" {
				b.WriteString(", ")
			}
			b.WriteString(e.EventType)
		}
		b.WriteString(")")
	}
	if e.RequestID != "" && !strings.Contains(b.String(), cut(e.RequestID, maxHeaderInError)) {
		b.WriteString(" [Request-ID ")
		b.WriteString(cut(e.RequestID, maxHeaderInError))
		b.WriteString("]")
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is e.Kind.
func (e *Error) Is(target error) bool { return e.Kind != nil && target == e.Kind }

// The acknowledgements WeChat Pay understands: 2xx is success; any other
// status is failure, and WeChat Pay delivers the notification again later.
const (
	msgVerification = "signature verification failed"
	msgBadRequest   = "bad request"
	msgInternal     = "internal error"
)

// Response returns the answer to give WeChat Pay for the outcome of
// Parse (or of processing the event): 200 and no body for nil; otherwise a
// non-2xx status and WeChat Pay's failure body {"code":"FAIL","message":…}, so
// that WeChat Pay delivers the notification again. Verification failures
// (signature probes included) are 401, malformed requests 400, everything else
// 500. The message is generic: it never contains the error's details. Use
// it when a framework handles the request instead of Handler:
//
//	ev, err := parser.Parse(ctx, header, body)
//	if err == nil {
//		err = process(ctx, ev)
//	}
//	status, body := callback.Response(err)
func Response(err error) (status int, body []byte) {
	if err == nil {
		return http.StatusOK, nil
	}
	var e *Error
	switch {
	case errors.Is(err, core.ErrVerification):
		return http.StatusUnauthorized, failBody(msgVerification)
	case errors.As(err, &e) && (e.Step == StepBody || e.Step == StepEnvelope || e.Kind == ErrHeaderConflict):
		return http.StatusBadRequest, failBody(msgBadRequest)
	}
	return http.StatusInternalServerError, failBody(msgInternal)
}

// failBody returns WeChat Pay's failure answer; msg must need no JSON
// escaping.
func failBody(msg string) []byte {
	b := make([]byte, 0, len(msg)+30)
	b = append(b, `{"code":"FAIL","message":"`...)
	b = append(b, msg...)
	return append(b, `"}`...)
}
