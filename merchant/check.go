package merchant

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/gowxpay/wxpay/auth"
	"github.com/gowxpay/wxpay/core"
)

// ErrClosed is the cause of every call made after Close: nothing is sent.
var ErrClosed = errors.New("wxpay: the client is closed")

// before runs before every call sends anything (core.Options.Before): a
// closed client sends nothing, and a request whose answer must be verified
// waits until a platform key is held, so that a wrong APIv3 key or a failed
// certificate download stops it before WeChat Pay can act on it.
func (c *Conn) before(ctx context.Context, op *core.Operation) error {
	if c.closed.Load() {
		return ErrClosed
	}
	if op.Unsigned {
		return nil
	}
	return c.keys.Ready(ctx)
}

// opCheck is the signed GET /v3/certificates of Check in public-key mode:
// its answer, when 2xx, is verified like any other.
var opCheck = core.Operation{ID: "Check", Name: "Check", Method: http.MethodGet, Path: "/v3/certificates", Modes: core.Direct | core.Partner}

// Check proves the credentials against WeChat Pay with one request that
// changes nothing, so that a program can refuse to start with a wrong one:
//
//   - in certificate and transition mode it downloads the platform
//     certificates: WeChat Pay accepting the request proves the merchant id,
//     the private key and its certificate serial; decrypting the
//     certificates proves the APIv3 key; the answer's signature proves the
//     platform keys (in transition mode the public key signs it);
//   - in public-key mode it sends the same signed request: WeChat Pay
//     accepting it proves the merchant id, key and serial (a merchant
//     without platform certificates is answered 404 RESOURCE_NOT_EXISTS,
//     which counts as success); the public key and the APIv3 key are proven
//     by the first verified answer and notification, as no request of the
//     API proves them without side effects.
//
// The error names the credential to check.
func (c *Conn) Check(ctx context.Context) error {
	if c.closed.Load() {
		return ErrClosed
	}
	if c.keys.Mode() != auth.PublicKeyMode {
		if err := c.keys.Refresh(ctx); err != nil {
			return fmt.Errorf("wxpay: Check: %w", &auth.KeysError{Err: err})
		}
		return nil
	}
	_, err := c.core.RawOp(ctx, &opCheck, "/v3/certificates", nil, core.WithMaxAttempts(1))
	var apiErr *core.APIError
	if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusNotFound && (core.IsCode(err, "RESOURCE_NOT_EXISTS") || core.IsCode(err, "NOT_FOUND")) {
		return nil
	}
	return err // names the operation Check already
}
