package wxpay

import (
	"context"

	"github.com/gowxpay/wxpay/core"
	"github.com/gowxpay/wxpay/merchant"
)

// Check proves the client's credentials against WeChat Pay with one request
// that changes nothing; call it at start-up to refuse to run with a wrong
// one. In certificate mode it proves all five (merchant id, private key,
// certificate serial, APIv3 key, platform certificates); in public-key mode
// the signing credentials, the public key and APIv3 key being proven by the
// first verified answer and notification. See merchant.Conn.Check.
//
// Without Check the client still sends nothing it could not verify: in
// certificate mode the first call downloads the certificates before its own
// request leaves, and fails, unsent (ErrNotSent), when that download fails.
func (c *Client) Check(ctx context.Context) error { return c.conn.Check(ctx) }

// Errors of calls that were not sent.
var (
	// ErrNotSent matches the error of a call stopped before its request
	// left the client (no usable platform key, a closed client): WeChat
	// Pay did not see it.
	ErrNotSent = core.ErrNotSent
	// ErrClosed matches calls made after Close.
	ErrClosed = merchant.ErrClosed
)
