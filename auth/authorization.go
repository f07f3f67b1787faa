package auth

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Schemes of the Authorization header.
const (
	SchemeRSA = "WECHATPAY2-SHA256-RSA2048"
	SchemeSM2 = "WECHATPAY2-SM2-WITH-SM3"
)

// Authorization is the content of a request's Authorization header.
type Authorization struct {
	// Scheme is SchemeRSA or SchemeSM2; String writes SchemeRSA when empty.
	Scheme string
	// MchID is mchid, the merchant id (sp_mchid in partner mode).
	MchID string
	// Nonce is nonce_str.
	Nonce string
	// Timestamp is timestamp, Unix seconds.
	Timestamp int64
	// Serial is serial_no, the merchant certificate serial number.
	Serial string
	// Signature is signature, Base64.
	Signature string
}

// String formats the header value:
//
//	WECHATPAY2-SHA256-RSA2048 mchid="…",nonce_str="…",timestamp="…",serial_no="…",signature="…"
func (a Authorization) String() string {
	return string(a.Append(nil))
}

// Append appends the header value to b.
func (a Authorization) Append(b []byte) []byte {
	scheme := a.Scheme
	if scheme == "" {
		scheme = SchemeRSA
	}
	b = append(b, scheme...)
	b = append(b, ` mchid="`...)
	b = append(b, a.MchID...)
	b = append(b, `",nonce_str="`...)
	b = append(b, a.Nonce...)
	b = append(b, `",timestamp="`...)
	b = strconv.AppendInt(b, a.Timestamp, 10)
	b = append(b, `",serial_no="`...)
	b = append(b, a.Serial...)
	b = append(b, `",signature="`...)
	b = append(b, a.Signature...)
	return append(b, '"')
}

// ErrAuthorizationFormat is wrapped by every ParseAuthorization error.
var ErrAuthorizationFormat = errors.New("malformed Authorization header")

// ParseAuthorization parses an Authorization header as the server does: the
// scheme, one space, then mchid, nonce_str, timestamp, serial_no and
// signature as key="value" pairs separated by commas, in any order. Unknown
// keys and duplicates are errors; so is any missing key.
func ParseAuthorization(h string) (Authorization, error) {
	var a Authorization
	scheme, rest, ok := strings.Cut(h, " ")
	if !ok {
		return a, fmt.Errorf("%w: no scheme", ErrAuthorizationFormat)
	}
	if scheme != SchemeRSA && scheme != SchemeSM2 {
		return a, fmt.Errorf("%w: unknown scheme", ErrAuthorizationFormat)
	}
	a.Scheme = scheme
	seen := map[string]bool{}
	for rest != "" {
		var key, val string
		key, rest, ok = strings.Cut(rest, "=")
		if !ok || key == "" {
			return a, fmt.Errorf("%w: expected key=\"value\"", ErrAuthorizationFormat)
		}
		if len(rest) == 0 || rest[0] != '"' {
			return a, fmt.Errorf("%w: value of %s is not quoted", ErrAuthorizationFormat, safeKey(key))
		}
		end := strings.IndexByte(rest[1:], '"')
		if end < 0 {
			return a, fmt.Errorf("%w: unterminated value of %s", ErrAuthorizationFormat, safeKey(key))
		}
		val, rest = rest[1:1+end], rest[2+end:]
		if rest != "" {
			if rest[0] != ',' {
				return a, fmt.Errorf("%w: expected a comma after %s", ErrAuthorizationFormat, safeKey(key))
			}
			rest = rest[1:]
			if rest == "" {
				return a, fmt.Errorf("%w: trailing comma", ErrAuthorizationFormat)
			}
		}
		if seen[key] {
			return a, fmt.Errorf("%w: %s given twice", ErrAuthorizationFormat, safeKey(key))
		}
		seen[key] = true
		switch key {
		case "mchid":
			a.MchID = val
		case "nonce_str":
			a.Nonce = val
		case "timestamp":
			ts, err := strconv.ParseInt(val, 10, 64)
			if err != nil || ts <= 0 {
				return a, fmt.Errorf("%w: timestamp is not Unix seconds", ErrAuthorizationFormat)
			}
			a.Timestamp = ts
		case "serial_no":
			a.Serial = val
		case "signature":
			a.Signature = val
		default:
			return a, fmt.Errorf("%w: unknown key %s", ErrAuthorizationFormat, safeKey(key))
		}
	}
	for _, k := range []string{"mchid", "nonce_str", "timestamp", "serial_no", "signature"} {
		if !seen[k] || (k != "timestamp" && fieldOf(a, k) == "") {
			return a, fmt.Errorf("%w: missing %s", ErrAuthorizationFormat, k)
		}
	}
	return a, nil
}

func fieldOf(a Authorization, k string) string {
	switch k {
	case "mchid":
		return a.MchID
	case "nonce_str":
		return a.Nonce
	case "serial_no":
		return a.Serial
	case "signature":
		return a.Signature
	}
	return ""
}

// safeKey quotes a key of the header for an error message when it looks
// like a key; anything else (it could hold part of the signature) is not
// repeated.
func safeKey(k string) string {
	if len(k) > 16 {
		return "(a key)"
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; !('a' <= c && c <= 'z' || c == '_') {
			return "(a key)"
		}
	}
	return strconv.Quote(k)
}
