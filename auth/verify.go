package auth

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gowxpay/wxpay/core"
)

// Headers of a signed answer or notification.
const (
	HeaderTimestamp     = "Wechatpay-Timestamp"
	HeaderNonce         = "Wechatpay-Nonce"
	HeaderSerial        = "Wechatpay-Serial"
	HeaderSignature     = "Wechatpay-Signature"
	HeaderSignatureType = "Wechatpay-Signature-Type"
	HeaderRequestID     = "Request-ID"
)

// DefaultMaxSkew is the largest difference between a signed answer's
// Wechatpay-Timestamp and our clock that CheckSigned accepts by default:
// differences of five minutes or more are rejected, as the official SDKs do.
const DefaultMaxSkew = 5 * time.Minute

// SignatureProbePrefix starts the deliberately wrong signatures WeChat Pay
// sends now and then to check that merchants verify signatures.
const SignatureProbePrefix = "WECHATPAY/SIGNTEST/"

// Verifier checks the signature of a signed answer or notification.
// PlatformKeys is the implementation.
type Verifier interface {
	// Verify checks signature (the Base64 Wechatpay-Signature value)
	// over message with the platform key that serial (the Wechatpay-Serial
	// value: a platform certificate serial or a PUB_KEY_ID_…) names. It must
	// not keep message after it returns.
	Verify(ctx context.Context, serial string, message []byte, signature string) error
}

// VerifierFunc adapts a function to Verifier.
type VerifierFunc func(ctx context.Context, serial string, message []byte, signature string) error

// Verify calls f.
func (f VerifierFunc) Verify(ctx context.Context, serial string, message []byte, signature string) error {
	return f(ctx, serial, message, signature)
}

// Signed is what the signature of an answer or a notification covers and
// names: its four Wechatpay-* headers, exactly as received, and its raw body.
type Signed struct {
	// Timestamp is Wechatpay-Timestamp, Unix seconds.
	Timestamp string
	// Nonce is Wechatpay-Nonce.
	Nonce string
	// Serial is Wechatpay-Serial: the certificate serial or PUB_KEY_ID_…
	// of the key that signed.
	Serial string
	// Signature is Wechatpay-Signature, Base64.
	Signature string
	// Body is the raw body, exactly as received.
	Body []byte
}

// SignedFromHeader collects the signature headers of h and body.
func SignedFromHeader(h http.Header, body []byte) Signed {
	return Signed{
		Timestamp: h.Get(HeaderTimestamp),
		Nonce:     h.Get(HeaderNonce),
		Serial:    h.Get(HeaderSerial),
		Signature: h.Get(HeaderSignature),
		Body:      body,
	}
}

// Sentinel errors a *VerificationError wraps; every one of them also
// matches core.ErrVerification with errors.Is.
var (
	// ErrSignatureProbe means that the signature was one of WeChat Pay's
	// signature probes: it starts with WECHATPAY/SIGNTEST/.
	ErrSignatureProbe error = &verificationSentinel{"this was WeChat Pay's signature probe (Wechatpay-Signature starts with " + SignatureProbePrefix + "), a deliberately wrong signature that checks that signatures are verified: for an API call, the request reached WeChat Pay and may have taken effect, so query it before retrying it; for a notification, answer with a non-2xx status and WeChat Pay redelivers it with a valid signature"}
	// ErrMissingHeader means that a signature header was absent or empty.
	ErrMissingHeader error = &verificationSentinel{"a signature header is missing"}
	// ErrClockSkew means that Wechatpay-Timestamp is too far from our clock.
	ErrClockSkew error = &verificationSentinel{"Wechatpay-Timestamp is too far from this machine's clock"}
	// ErrBadSignature means that the signature does not match the message:
	// the answer was altered, or was not signed by WeChat Pay.
	ErrBadSignature error = &verificationSentinel{"the signature does not match the message"}
	// ErrUnknownKey means that the answer names a platform key the client
	// does not have.
	ErrUnknownKey error = &verificationSentinel{"unknown platform key"}
)

// verificationSentinel is a sentinel error that also matches
// core.ErrVerification.
type verificationSentinel struct{ msg string }

func (e *verificationSentinel) Error() string { return e.msg }

// Is reports whether target is core.ErrVerification.
func (e *verificationSentinel) Is(target error) bool { return target == core.ErrVerification }

// VerificationError is the error for every answer or notification whose
// signature could not be verified. errors.Is(err, core.ErrVerification) is
// true for it, and errors.Is finds the sentinel it wraps (ErrSignatureProbe,
// ErrClockSkew, ErrMissingHeader, ErrBadSignature, ErrUnknownKey) or the
// cause (a failed certificate download, say). Its text never contains the
// signature.
type VerificationError struct {
	// Operation is the operationId of the call, when known.
	Operation string
	// RequestID is WeChat Pay's Request-ID of the answer, when known.
	RequestID string
	// Serial is the Wechatpay-Serial the answer names.
	Serial string
	// Reason says what failed and what to check.
	Reason string
	// Err is the cause, when there is one.
	Err error
}

// Error describes the failure: reason, cause, serial and Request-ID.
func (e *VerificationError) Error() string {
	var b strings.Builder
	b.WriteString("wxpay: ")
	if e.Operation != "" {
		b.WriteString(e.Operation)
		b.WriteString(": ")
	}
	b.WriteString("signature verification failed")
	if e.Reason != "" {
		b.WriteString(": ")
		b.WriteString(e.Reason)
	}
	// A sentinel only repeats, less precisely, what the reason says.
	if _, sentinel := e.Err.(*verificationSentinel); e.Err != nil && (e.Reason == "" || !sentinel) {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	if e.Serial != "" {
		b.WriteString(" (Wechatpay-Serial ")
		b.WriteString(e.Serial)
		b.WriteString(")")
	}
	if e.RequestID != "" {
		b.WriteString(" [Request-ID ")
		b.WriteString(e.RequestID)
		b.WriteString("]")
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *VerificationError) Unwrap() error { return e.Err }

// Is reports whether target is core.ErrVerification.
func (e *VerificationError) Is(target error) bool { return target == core.ErrVerification }

// CheckSigned verifies a signed answer or notification, in this order: the
// four headers are present; the signature is not a signature probe
// (ErrSignatureProbe); the timestamp is Unix seconds less than maxSkew
// (DefaultMaxSkew when zero or less) from now, either way (ErrClockSkew);
// and v accepts the signature over ResponseMessage(s.Timestamp, s.Nonce,
// s.Body). Every failure is a *VerificationError.
func CheckSigned(ctx context.Context, v Verifier, s Signed, now time.Time, maxSkew time.Duration) error {
	var missing string
	switch {
	case s.Timestamp == "":
		missing = HeaderTimestamp
	case s.Nonce == "":
		missing = HeaderNonce
	case s.Serial == "":
		missing = HeaderSerial
	case s.Signature == "":
		missing = HeaderSignature
	}
	if missing != "" {
		return &VerificationError{Serial: s.Serial, Reason: "the " + missing + " header is missing: the response or notification is not signed (a proxy may have stripped the header, or it did not come from WeChat Pay)", Err: ErrMissingHeader}
	}
	if strings.HasPrefix(s.Signature, SignatureProbePrefix) {
		return &VerificationError{Serial: s.Serial, Err: ErrSignatureProbe}
	}
	ts, ok := parseTimestamp(s.Timestamp)
	if !ok {
		return &VerificationError{Serial: s.Serial, Reason: "Wechatpay-Timestamp is not Unix seconds", Err: ErrBadSignature}
	}
	if maxSkew <= 0 {
		maxSkew = DefaultMaxSkew
	}
	limit := int64(maxSkew / time.Second)
	if limit < 1 {
		limit = 1
	}
	if skew := now.Unix() - ts; skew >= limit || -skew >= limit {
		return &VerificationError{Serial: s.Serial, Reason: skewReason(skew, maxSkew), Err: ErrClockSkew}
	}
	if !validNonce(s.Nonce) {
		return &VerificationError{Serial: s.Serial, Reason: "Wechatpay-Nonce contains a control character", Err: ErrBadSignature}
	}
	if v == nil {
		return &VerificationError{Serial: s.Serial, Reason: "no verifier is configured (no platform certificate or public key)"}
	}
	bp := getBuf()
	msg := AppendResponseMessage((*bp)[:0], s.Timestamp, s.Nonce, s.Body)
	*bp = msg
	err := v.Verify(ctx, s.Serial, msg, s.Signature)
	putBuf(bp)
	if err != nil {
		var ve *VerificationError
		if errors.As(err, &ve) {
			c := *ve
			if c.Serial == "" {
				c.Serial = s.Serial
			}
			return &c
		}
		e := &VerificationError{Serial: s.Serial, Err: err}
		if errors.Is(err, ErrBadSignature) {
			e.Reason = "the body or the headers were changed after WeChat Pay signed them (by a proxy or a middleware?), or they do not come from WeChat Pay"
		}
		return e
	}
	return nil
}

// skewReason words a clock difference: skew is our clock minus the
// answer's timestamp, in seconds.
func skewReason(skew int64, limit time.Duration) string {
	d := time.Duration(skew) * time.Second
	dir := "ahead of"
	if skew < 0 {
		d, dir = -d, "behind"
	}
	return fmt.Sprintf("this machine's clock is %s %s the Wechatpay-Timestamp; timestamps %s or more off are rejected: check this machine's clock (NTP), or the message is a replay", d, dir, limit)
}

// parseTimestamp accepts decimal Unix seconds, digits only.
func parseTimestamp(s string) (int64, bool) {
	if len(s) == 0 || len(s) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// validNonce rejects control characters, \n above all: a nonce holding a
// line break would make two different (nonce, body) pairs sign alike.
func validNonce(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f {
			return false
		}
	}
	return true
}

// strictBase64 refuses the non-canonical encodings the standard decoder
// tolerates, so that a signature has one spelling only.
var strictBase64 = base64.StdEncoding.Strict()

// VerifyBase64 checks a Base64 SHA256withRSA signature, as Wechatpay-Signature
// carries it, of message with pub. It accepts the canonical padded Base64
// spelling only. Failures wrap ErrBadSignature.
func VerifyBase64(pub *rsa.PublicKey, message []byte, signature string) error {
	if err := usablePublic(pub); err != nil {
		return err
	}
	size := pub.Size()
	if len(signature) != base64.StdEncoding.EncodedLen(size) {
		return fmt.Errorf("%w: the signature has the wrong length for this key", ErrBadSignature)
	}
	for i := 0; i < len(signature); i++ {
		c := signature[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/' || c == '=') {
			return fmt.Errorf("%w: the signature is not Base64", ErrBadSignature)
		}
	}
	var arr [512]byte
	var raw []byte
	if need := strictBase64.DecodedLen(len(signature)); need <= len(arr) {
		raw = arr[:need]
	} else {
		raw = make([]byte, need)
	}
	n, err := strictBase64.Decode(raw, []byte(signature))
	if err != nil || n != size {
		return fmt.Errorf("%w: the signature is not Base64", ErrBadSignature)
	}
	if err := VerifyRSA(pub, message, raw[:n]); err != nil {
		return ErrBadSignature
	}
	return nil
}
