package callback

import (
	"fmt"
	"net/http"
)

// The headers of a notification, in Go's canonical form (http.Header keys),
// in lower case, and as CGI/WSGI/Django request.META names.
const (
	nTimestamp = iota
	nNonce
	nSerial
	nSignature
	nSignatureType
	nRequestID
	nHeaders
)

var (
	canonicalNames = [nHeaders]string{"Wechatpay-Timestamp", "Wechatpay-Nonce", "Wechatpay-Serial", "Wechatpay-Signature", "Wechatpay-Signature-Type", "Request-Id"}
	lowerNames     = [nHeaders]string{"wechatpay-timestamp", "wechatpay-nonce", "wechatpay-serial", "wechatpay-signature", "wechatpay-signature-type", "request-id"}
	cgiNames       = [nHeaders]string{"HTTP_WECHATPAY_TIMESTAMP", "HTTP_WECHATPAY_NONCE", "HTTP_WECHATPAY_SERIAL", "HTTP_WECHATPAY_SIGNATURE", "HTTP_WECHATPAY_SIGNATURE_TYPE", "HTTP_REQUEST_ID"}
)

// Getter is a header container with a Get method, like http.Header,
// net/textproto.MIMEHeader, or a framework's request or context type whose
// Get reads a request header. Parse accepts any value that has this method.
type Getter interface {
	Get(name string) string
}

// Peeker is a header container with a Peek method returning the value's
// bytes, as fasthttp's *RequestHeader (fiber: &c.Request().Header) has. Parse
// accepts any value that has this method; it copies what it keeps.
type Peeker interface {
	Peek(name string) []byte
}

// HeaderFunc adapts a lookup function of a named type, or a method value, to
// Getter. An unnamed func(string) string can be passed to Parse directly.
type HeaderFunc func(name string) string

// Get calls f.
func (f HeaderFunc) Get(name string) string { return f(name) }

// headerValues are the notification headers Parse uses.
type headerValues [nHeaders]string

// readHeaders looks the notification headers up in h, which is one of the
// forms Parse documents. It returns an error for an unsupported type, or
// for a header given under two spellings with different values.
func readHeaders(h any) (headerValues, error) {
	var v headerValues
	switch h := h.(type) {
	case nil:
		return v, nil
	case http.Header:
		return fromMultiMap(h)
	case map[string][]string:
		return fromMultiMap(h)
	case map[string]string:
		return fromMap(h)
	case func(string) string:
		if h == nil {
			return v, nil
		}
		return fromGetter(h), nil
	case HeaderFunc:
		if h == nil {
			return v, nil
		}
		return fromGetter(h), nil
	case Getter:
		return fromGetter(h.Get), nil
	case Peeker:
		return fromGetter(func(name string) string { return string(h.Peek(name)) }), nil
	case *http.Request:
		if h == nil {
			return v, nil
		}
		return fromMultiMap(h.Header)
	}
	return v, &headerTypeError{typ: fmt.Sprintf("%T", h)}
}

// headerTypeError reports an argument of a type Parse does not read.
type headerTypeError struct{ typ string }

func (e *headerTypeError) Error() string {
	return "the header argument is a " + e.typ + ", which Parse cannot read: pass an http.Header, a map[string]string, a map[string][]string, a func(string) string, or a value with a Get(string) string or Peek(string) []byte method (wrap other lookups in callback.HeaderFunc)"
}

// headerConflictError reports a header given twice with different values.
type headerConflictError struct{ name, key1, key2 string }

func (e *headerConflictError) Error() string {
	return fmt.Sprintf("the %s header is given twice, as %q and as %q, with different values", e.name, e.key1, e.key2)
}

// fromGetter asks get for every header under its canonical, CGI and lower
// case names, in that order, until one gives a value.
func fromGetter(get func(string) string) headerValues {
	var v headerValues
	for i := range v {
		s := get(canonicalNames[i])
		if s == "" {
			s = get(cgiNames[i])
		}
		if s == "" {
			s = get(lowerNames[i])
		}
		if s == "" && i == nRequestID {
			s = get("Request-ID")
		}
		v[i] = s
	}
	return v
}

// fromMultiMap reads an http.Header-shaped map. A key in canonical form
// wins; otherwise every key is compared with matchHeader.
func fromMultiMap(m map[string][]string) (headerValues, error) {
	var v headerValues
	var found [nHeaders]bool
	missing := 0
	for i := range v {
		if vs, ok := m[canonicalNames[i]]; ok && len(vs) > 0 {
			v[i], found[i] = vs[0], true
			continue
		}
		missing++
	}
	if missing == 0 || len(m) == 0 {
		return v, nil
	}
	var keys [nHeaders]string
	for k, vs := range m {
		if len(vs) == 0 {
			continue
		}
		i := matchHeader(k)
		if i < 0 || found[i] {
			continue
		}
		if keys[i] != "" && v[i] != vs[0] {
			return headerValues{}, conflict(i, keys[i], k)
		}
		if keys[i] == "" || k < keys[i] {
			keys[i] = k
		}
		v[i] = vs[0]
	}
	return v, nil
}

// fromMap reads a map of single values, like fromMultiMap.
func fromMap(m map[string]string) (headerValues, error) {
	var v headerValues
	var found [nHeaders]bool
	missing := 0
	for i := range v {
		if s, ok := m[canonicalNames[i]]; ok {
			v[i], found[i] = s, true
			continue
		}
		missing++
	}
	if missing == 0 || len(m) == 0 {
		return v, nil
	}
	var keys [nHeaders]string
	for k, s := range m {
		i := matchHeader(k)
		if i < 0 || found[i] {
			continue
		}
		if keys[i] != "" && v[i] != s {
			return headerValues{}, conflict(i, keys[i], k)
		}
		if keys[i] == "" || k < keys[i] {
			keys[i] = k
		}
		v[i] = s
	}
	return v, nil
}

// conflict orders the two keys so that the error does not depend on map
// iteration order.
func conflict(i int, k1, k2 string) error {
	if k2 < k1 {
		k1, k2 = k2, k1
	}
	return &headerConflictError{name: canonicalNames[i], key1: k1, key2: k2}
}

// matchHeader returns the index of the notification header that key names,
// or -1. Names match case-insensitively, an underscore matches a dash, and
// an HTTP_ prefix (CGI, WSGI, Django's request.META) is ignored.
func matchHeader(key string) int {
	if len(key) > 5 && hasPrefixFold(key, "http_") {
		key = key[5:]
	}
	for i := range canonicalNames {
		if sameHeaderName(key, lowerNames[i]) {
			return i
		}
	}
	return -1
}

// sameHeaderName compares key with a lower-case name.
func sameHeaderName(key, lower string) bool {
	if len(key) != len(lower) {
		return false
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		} else if c == '_' {
			c = '-'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

func hasPrefixFold(s, lowerPrefix string) bool {
	if len(s) < len(lowerPrefix) {
		return false
	}
	for i := 0; i < len(lowerPrefix); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lowerPrefix[i] {
			return false
		}
	}
	return true
}
