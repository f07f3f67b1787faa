// Package core is the small runtime every generated package under gen/
// calls: the Conn that signs, sends, retries and decodes one operation, the
// typed errors (*APIError and friends), the URI builder, per-call options,
// and the Time and Date types WeChat Pay's JSON uses.
//
// Most programs never import core directly: wxpay.NewClient builds the Conn
// and wxpay re-exports the types users name. A program that wants a single
// domain without compiling the others builds a Conn itself (see
// wxpay.NewConn) and calls that domain's New.
//
// core depends on the standard library only.
package core
