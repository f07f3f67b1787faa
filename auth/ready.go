package auth

import (
	"context"
	"errors"
	"fmt"
)

// Ready returns nil when the store holds a key to verify answers with, and
// otherwise loads one first: in certificate mode, when no certificate is
// held yet, it downloads them (or waits for the download under way). A
// client calls it before sending a request whose answer must be verified,
// so that a wrong APIv3 key or an unreachable certificate endpoint stops
// the call before WeChat Pay sees it. Its errors are *KeysError values. In
// public-key and transition mode the public key is always usable. When
// every certificate held has expired, it downloads them again.
func (p *PlatformKeys) Ready(ctx context.Context) error {
	if p.pub != nil || p.fetch == nil {
		return nil
	}
	set := p.snap.Load()
	if set == nil {
		if _, err := p.certs(ctx); err != nil {
			return &KeysError{Err: err}
		}
		return nil
	}
	if p.now().Before(set.until) {
		return nil
	}
	// Every certificate held has expired (the refreshes failed for
	// years, or the clock jumped): nothing could verify the answer.
	if err := p.Refresh(ctx); err != nil {
		return &KeysError{Err: fmt.Errorf("auth: every platform certificate held has expired and downloading new ones failed: %w", err)}
	}
	return nil
}

// KeysError means that no platform key could be loaded: the certificate
// download failed, or the certificates it brought did not check out. Its
// text names the cause. errors.Is finds the causes a program acts on
// (ErrDecrypt for a wrong APIv3 key, ErrNoPlatformCertificate, ErrClosed,
// ErrCertificate, context errors); errors.As does not find the download's
// *core.APIError, nor errors.Is core.ErrVerification when the download's
// own signature failed, so that a call's error is not taken for the
// download's retryable 5xx or for an unverifiable answer to the call. Err
// holds the whole cause.
type KeysError struct {
	Err error
}

func (e *KeysError) Error() string {
	if e == nil || e.Err == nil {
		return "auth: the platform keys could not be loaded"
	}
	return e.Err.Error()
}

// keysCauses are the causes KeysError lets errors.Is see.
var keysCauses = []error{ErrDecrypt, ErrNoPlatformCertificate, ErrClosed, ErrCertificate, context.Canceled, context.DeadlineExceeded}

// Unwrap returns the known causes in Err, never the download's answer.
func (e *KeysError) Unwrap() []error {
	if e == nil {
		return nil
	}
	var out []error
	for _, c := range keysCauses {
		if errors.Is(e.Err, c) {
			out = append(out, c)
		}
	}
	return out
}
