package wire

import (
	"bytes"
	"context"
)

// Body is an answer body already read into memory, as the verifying
// transport leaves it; core reads it without copying.
type Body struct {
	bytes.Reader
	b []byte
}

// NewBody wraps b as a response body.
func NewBody(b []byte) *Body {
	body := &Body{b: b}
	body.Reset(b)
	return body
}

// Bytes returns the whole body.
func (b *Body) Bytes() []byte { return b.b }

// Close does nothing.
func (b *Body) Close() error { return nil }

type operationKey struct{}

// WithOperation returns a context that carries op (a *core.Operation) from
// core to the verifying transport of auth.
func WithOperation(ctx context.Context, op any) context.Context {
	if ctx == nil {
		ctx = context.Background()
	}
	return context.WithValue(ctx, operationKey{}, op)
}

// OperationFrom returns what WithOperation put in ctx, or nil for a request
// that did not come through core.
func OperationFrom(ctx context.Context) any {
	if ctx == nil {
		return nil
	}
	return ctx.Value(operationKey{})
}
