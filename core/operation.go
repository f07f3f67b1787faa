package core

import (
	"context"
	"fmt"
)

// Modes is a set of merchant modes.
type Modes uint8

const (
	// Direct is the direct-merchant mode (直连商户): the merchant calls for itself.
	Direct Modes = 1 << iota
	// Partner is the service-provider mode (服务商): the provider calls on behalf
	// of its sub-merchants.
	Partner
)

// String returns "direct", "partner" or "direct+partner".
func (m Modes) String() string {
	switch m {
	case Direct:
		return "direct"
	case Partner:
		return "partner"
	case Direct | Partner:
		return "direct+partner"
	}
	return fmt.Sprintf("Modes(%d)", uint8(m))
}

// Operation describes one API operation. The generated packages declare one
// per operation of api/openapi.yaml; the transport and the error messages
// read it.
type Operation struct {
	// ID is the operationId, which is also the name of the Go method.
	ID string
	// Method and Path are the HTTP method and the path template.
	Method, Path string
	// Modes are the merchant modes the operation serves.
	Modes Modes
	// Unsigned reports that the success response carries no WeChat Pay
	// signature (file downloads); its integrity is checked by digest.
	Unsigned bool
	// Sensitive lists the JSON paths of the request fields the client
	// encrypts with the platform key; "*" stands for every array element.
	Sensitive [][]string
	// SensitiveQuery lists the query parameters the client encrypts with
	// the platform key (a bank card number in a lookup, say).
	SensitiveQuery []string
	// Upload reports a multipart upload, whose signature covers only the
	// meta part.
	Upload bool
	// MetaFileDigest reports a typed upload meta with filename and sha256
	// properties, which the client fills from the file when they are
	// empty.
	MetaFileDigest bool
	// ResendSafe reports that the request may be sent again after the
	// server may have received it: a POST or PATCH whose body carries a
	// business key (out_trade_no, out_refund_no …) that makes WeChat Pay
	// answer a repeat with the first outcome, or that carries an
	// Idempotency-Key. api/openapi.yaml marks them x-wxpay-resend: safe.
	// Other POSTs and PATCHes are sent again only when the request
	// provably never reached the server. GET, PUT and DELETE are always
	// safe to repeat.
	ResendSafe bool
}

type operationKey struct{}

// WithOperation returns a context that carries op, for the transport.
func WithOperation(ctx context.Context, op *Operation) context.Context {
	return context.WithValue(ctx, operationKey{}, op)
}

// OperationFrom returns the operation a request's context carries, or nil
// for a request that did not come through a Conn.
func OperationFrom(ctx context.Context) *Operation {
	op, _ := ctx.Value(operationKey{}).(*Operation)
	return op
}
