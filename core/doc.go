// Package core holds what every generated package under gen/ and most
// programs share: the typed errors (*APIError, *UsageError, *ModeError,
// *OpError, *DecodeError), the Time and Date types of WeChat Pay's JSON,
// File for uploads, Ptr for optional fields whose zero is a value, per-call
// options, Operation and EventType, and Conn, the connection that signs,
// sends, retries and decodes a call.
//
// Most programs never import core directly: wxpay.NewClient builds the
// connection and wxpay re-exports the types users name. A program that
// wants a single area without compiling the others builds a connection
// with merchant.Connect and calls that area's New with its Core():
//
//	conn, err := merchant.Connect(ctx, cfg)
//	…
//	pay := payments.New(conn.Core())
//
// Conn's Do, Download, Upload, UploadFile, UploadWithMeta, RawOp and
// CheckMode are plumbing for the generated packages; programs call the
// generated methods, or wxpay.Client.Raw for an operation the spec lacks.
//
// core depends on the standard library only.
package core
