// Package interop holds interoperability tests: the official WeChat Pay Go
// SDK (github.com/wechatpay-apiv3/wechatpay-go), unmodified and with its
// signing, verification, certificate download and sensitive-field
// encryption on, driven against the wxpay sandbox in certificate and
// public-key modes. It is a module of its own so that the library's
// go.mod never sees the official SDK.
package interop
