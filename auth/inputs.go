package auth

import (
	"crypto/rsa"
	"errors"
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
