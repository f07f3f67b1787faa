// Package auth implements the WeChat Pay API v3 security protocol: request
// signatures (WECHATPAY2-SHA256-RSA2048), verification of signed answers and
// notifications, the platform certificates and the platform public key
// (微信支付公钥) that verification needs, the AEAD_AES_256_GCM encryption of
// certificates and notifications under the APIv3 key, the RSA-OAEP
// encryption of sensitive fields, and the signatures a mini program, web page
// or app needs to start a payment.
//
// auth depends on the standard library and wxpay/core only. Errors and logs
// never contain private keys, the APIv3 key or signatures.
package auth
