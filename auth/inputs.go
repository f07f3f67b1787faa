package auth

import (
	"crypto/rsa"
	"errors"
	"strconv"
	"unicode/utf8"
)

// errNilContext is returned by calls given a nil context.
var errNilContext = errors.New("auth: the context is nil: pass context.Background() or a request's context")

// usablePublic reports a nil or empty RSA public key, which crypto/rsa
// would dereference.
func usablePublic(pub *rsa.PublicKey) error {
	if pub == nil || pub.N == nil || pub.N.Sign() <= 0 {
		return errors.New("auth: no RSA public key")
	}
	return nil
}

// usablePrivate reports a nil or incomplete RSA private key.
func usablePrivate(priv *rsa.PrivateKey) error {
	if priv == nil || usablePublic(&priv.PublicKey) != nil || priv.D == nil || len(priv.Primes) < 2 {
		return errors.New("auth: no RSA private key")
	}
	return nil
}

// maxHeaderInError bounds a header value quoted in an error's text: real
// serials and Request-IDs are under 100 bytes, forged ones may be huge.
const maxHeaderInError = 128

// clipHeader cuts s to maxHeaderInError bytes, at a character boundary,
// marked.
func clipHeader(s string) string {
	if len(s) <= maxHeaderInError {
		return s
	}
	n := maxHeaderInError
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…[cut, " + strconv.Itoa(len(s)) + " bytes]"
}
