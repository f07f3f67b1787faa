// Package wxpay is a Go SDK for the WeChat Pay API v3 (微信支付 APIv3).
package wxpay
