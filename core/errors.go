package core

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// APIError is an answer of WeChat Pay other than 2xx. Every call returns it,
// wrapped or not, so errors.As finds it:
//
//	var apiErr *core.APIError // or *wxpay.APIError
//	if errors.As(err, &apiErr) && apiErr.Code == "ORDER_NOT_EXIST" { ... }
//
// Branch on Code, never on Message, whose wording changes; IsCode compares
// codes across the two spellings WeChat uses (SYSTEM_ERROR and SYSTEMERROR).
type APIError struct {
	// Operation is the operationId of the failed call ("Raw" for raw calls).
	Operation string
	// StatusCode is the HTTP status.
	StatusCode int
	// Code is the machine-readable error code, e.g. PARAM_ERROR; empty when
	// the answer had no JSON body (404 and 405 for unknown routes, gateways).
	Code string
	// Message is WeChat's human-readable explanation.
	Message string
	// Detail, when present, locates a parameter error.
	Detail *ErrorDetail
	// RequestID is WeChat's request id (Request-ID header); quote it to
	// WeChat support.
	RequestID string
	// Hint, when not empty, says what on our side most likely causes the
	// error and what to check.
	Hint string
	// Body is the raw answer body (at most 64 KiB).
	Body []byte
	// Header is the answer's header.
	Header http.Header
}

// ErrorDetail locates a parameter error.
type ErrorDetail struct {
	// Field is a JSON pointer into the request body, or a parameter name.
	Field string `json:"field,omitempty"`
	// Value is the offending value, as sent.
	Value json.RawMessage `json:"value,omitempty"`
	// Issue says what is wrong.
	Issue string `json:"issue,omitempty"`
	// Location is body, url or query.
	Location string `json:"location,omitempty"`
}

// Error returns a one-line description with the status, code, message,
// detail, request id and hint. It never contains credentials.
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("wxpay: ")
	if e.Operation != "" {
		b.WriteString(e.Operation)
		b.WriteString(": ")
	}
	b.WriteString(strconv.Itoa(e.StatusCode))
	if e.Code != "" {
		b.WriteString(" ")
		b.WriteString(e.Code)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if d := e.Detail; d != nil && (d.Field != "" || d.Issue != "") {
		b.WriteString(" (")
		if d.Location != "" {
			b.WriteString(d.Location + " ")
		}
		b.WriteString(d.Field)
		if d.Issue != "" {
			b.WriteString(": " + d.Issue)
		}
		b.WriteString(")")
	}
	if e.RequestID != "" {
		b.WriteString(" [Request-ID " + e.RequestID + "]")
	}
	if e.Hint != "" {
		b.WriteString("; hint: " + e.Hint)
	}
	return b.String()
}

// Retryable reports whether the same request may be sent again unchanged:
// 429 (rate limited), and 5xx system or bank errors and gateway failures. It
// is false for every business error.
func (e *APIError) Retryable() bool {
	switch {
	case e.StatusCode == http.StatusTooManyRequests:
		return true
	case e.StatusCode >= 500:
		switch normCode(e.Code) {
		case "", "SYSTEMERROR", "BANKERROR", "FREQUENCYLIMITED", "SERVICEUNAVAILABLE":
			return true
		}
	}
	return false
}

// IsCode reports whether err is, or wraps, an *APIError whose code is code.
// Underscores and case are ignored, so "SYSTEM_ERROR" matches SYSTEMERROR.
func IsCode(err error, code string) bool {
	var e *APIError
	return errors.As(err, &e) && normCode(e.Code) == normCode(code)
}

func normCode(c string) string {
	return strings.ToUpper(strings.ReplaceAll(c, "_", ""))
}

// maxErrorBody bounds how much of an error answer is kept.
const maxErrorBody = 64 << 10

// newAPIError builds the error for a non-2xx answer. body may be empty or not
// JSON; now is our clock, for the clock-skew hint.
func newAPIError(op *Operation, resp *http.Response, body []byte, now time.Time) *APIError {
	e := &APIError{
		Operation:  op.Name,
		StatusCode: resp.StatusCode,
		RequestID:  resp.Header.Get("Request-ID"),
		Body:       body,
		Header:     resp.Header,
	}
	var wire struct {
		Code    string       `json:"code"`
		Message string       `json:"message"`
		Detail  *ErrorDetail `json:"detail"`
	}
	if len(body) > 0 && json.Unmarshal(body, &wire) == nil {
		e.Code, e.Message, e.Detail = wire.Code, wire.Message, wire.Detail
	}
	e.Hint = hintFor(op, e, resp.Header.Get("Date"), now)
	return e
}

// ClockSkewThreshold is the offset between our clock and the server's Date
// header above which a SIGN_ERROR hint mentions the clock. WeChat Pay rejects
// requests whose timestamp is more than five minutes off.
const ClockSkewThreshold = 60 * time.Second

func hintFor(op *Operation, e *APIError, date string, now time.Time) string {
	switch normCode(e.Code) {
	case "SIGNERROR":
		h := "the request signature was refused: check that the private key, the merchant certificate serial number and the merchant id (mchid) in your configuration belong to the same merchant"
		if d, err := http.ParseTime(date); err == nil && !now.IsZero() {
			if skew := now.Sub(d); skew > ClockSkewThreshold || skew < -ClockSkewThreshold {
				h = fmt.Sprintf("this machine's clock is %s off the server's (server Date %s); WeChat Pay rejects timestamps more than 5 minutes off, so fix the clock (NTP) first; otherwise ", skew.Round(time.Second), date) + h
			}
		}
		return h
	case "RESOURCENOTEXISTS":
		if op.ID == "ListCertificates" {
			return "this merchant has no platform certificate; use the platform public key mode (微信支付公钥, PUB_KEY_ID_…) instead of certificate mode"
		}
	case "APPIDMCHIDNOTMATCH":
		return "the appid is not bound to this merchant id; check Config.AppID (sp_appid in partner mode) against the merchant platform"
	case "NOAUTH":
		return "the merchant lacks the permission or product for this operation; enable it in the merchant platform"
	case "MCHNOTEXISTS":
		return "the merchant id does not exist; check Config.MchID (and SubMchID in partner mode)"
	case "INVALIDREQUEST":
		if strings.Contains(e.Message, "User-Agent") || strings.Contains(e.Message, "Accept") {
			return "a proxy or custom transport stripped the User-Agent or Accept header"
		}
	}
	if e.StatusCode == http.StatusUnauthorized && e.Code == "" {
		return "the request was refused before reaching the API; check the Authorization header format and the merchant credentials"
	}
	return ""
}

// UsageError is a call that could not be made as written: a missing required
// parameter or body, or a field that does not exist in the client's mode.
type UsageError struct {
	// Op is the method called, e.g. "Payments.NativePrepay".
	Op string
	// Msg says what is wrong.
	Msg string
	// Missing lists the JSON paths of the required fields and parameters
	// that were left empty, e.g. "amount.total" or "goods_detail[0].quantity".
	Missing []string
}

func (e *UsageError) Error() string {
	if len(e.Missing) > 0 && e.Msg == "" {
		return "wxpay: " + e.Op + ": missing required " + strings.Join(e.Missing, ", ") + "; nothing was sent"
	}
	return "wxpay: " + e.Op + ": " + e.Msg
}

// ModeError is a call to an operation that does not exist in the client's
// merchant mode.
type ModeError struct {
	Op         string
	OpModes    Modes
	ClientMode Modes
}

func (e *ModeError) Error() string {
	return fmt.Sprintf("wxpay: %s serves %s mode only, but the client is in %s mode (Config.PartnerMode); nothing was sent", e.Op, e.OpModes, e.ClientMode)
}

// DecodeError is a 2xx answer whose body could not be decoded into the
// operation's response type. The body is kept: nothing the server said is
// lost.
type DecodeError struct {
	Op        string
	RequestID string
	Body      []byte
	Err       error
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("wxpay: %s: decoding the answer [Request-ID %s]: %v", e.Op, e.RequestID, e.Err)
}

func (e *DecodeError) Unwrap() error { return e.Err }
