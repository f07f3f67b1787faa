// Package auth implements the WeChat Pay API v3 security protocol: request
// signatures (WECHATPAY2-SHA256-RSA2048), verification of signed answers and
// notifications, the platform certificates and the platform public key
// (微信支付公钥) that verification needs, the AEAD_AES_256_GCM encryption of
// certificates and notifications under the APIv3 key, the RSA-OAEP
// encryption of sensitive fields, and the signatures a mini program, web page
// or app needs to start a payment.
//
// The pieces, as wxpay.NewClient wires them:
//
//   - RequestSigner signs every request (core.Authorizer); its EditRequest
//     signs a plain *http.Request, for generated or hand-built requests.
//   - PlatformKeys holds the keys that verify answers and encrypt sensitive
//     fields (Verifier, core.Encrypter, core.Announcer), in certificate,
//     public-key or transition mode (KeyMode). Certificates are downloaded
//     on first use, refreshed in the background and optionally cached on
//     disk; Close stops the refresher.
//   - Transport verifies every signed 2xx answer before anything reads it.
//   - CheckSigned is the verification itself, shared with the callback
//     package; every failure is a *VerificationError that matches
//     core.ErrVerification, and WeChat Pay's signature probes are reported
//     as ErrSignatureProbe.
//   - PaySigner signs the JSAPI, mini-program and APP payment parameters.
//   - MerchantSerial, ParseMerchantCertificate, ParsePlatformPublicKey and
//     CheckPublicKeyID read the credentials and say which file is which when
//     they are mixed up.
//
// 国密 plugs in through the Suite interface: PlatformKeysConfig.Suite,
// SuiteSigner with RequestSigner.Scheme, and merchant.Config.Suite take the
// implementation in package github.com/gowxpay/wxpay/sm, so that programs
// that do not opt in compile no SM2 or SM4 code.
//
// auth depends on the standard library and wxpay/core only. Errors and logs
// never contain private keys, the APIv3 key or signatures.
package auth
