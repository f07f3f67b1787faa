// Package sandbox is an offline emulator of the WeChat Pay API v3 server
// (微信支付 APIv3), for tests, demos and local development: WeChat Pay has
// no v3 sandbox of its own.
//
// It serves every operation of the spec embedded in
// github.com/gowxpay/wxpay/api and behaves like the real server where a
// client can tell:
//
//   - Requests are authenticated in the real server's order: User-Agent
//     (certificate and refund paths), Authorization format, timestamp
//     within five minutes, merchant and certificate serial, then the
//     SHA256withRSA signature over METHOD\nURI\nTIMESTAMP\nNONCE\nBODY\n,
//     computed over the request target and body exactly as received (the
//     meta JSON for media uploads). Refusals are 401 SIGN_ERROR, unsigned,
//     with WeChat's messages.
//   - Requests are then validated against the spec (kin-openapi, never
//     altering the body), failing with 400 PARAM_ERROR and a detail naming
//     the field; identity fields (mchid, sp_mchid, sub_mchid, appid…) must
//     match the caller. Unknown paths answer 404 and wrong methods 405,
//     with empty bodies.
//   - Every other answer is signed (Wechatpay-Timestamp, -Nonce,
//     -Signature, -Serial, -Signature-Type) and carries a Request-ID;
//     downloads (x-wxpay-unsigned) are not signed.
//   - Request timestamps are judged by the server's clock, clock_offset
//     faults included, so a skewed client fails as it does in production.
//   - Platform certificates: GET /v3/certificates lists them encrypted
//     under the caller's APIv3 key; RotateCertificate lists a new one that
//     signs only five days later (WithCertificateSwitchDelay) or from
//     SwitchCertificate on, as WeChat Pay does; ExpireCertificate drops one.
//     KeyMode selects certificate, public key (PUB_KEY_ID_…, /v3/certificates
//     answers 404) or transition signing.
//   - Orders, combined orders, refunds, bills, profit sharing (orders,
//     returns, unfreezing, unsplit amounts), merchant transfer bills,
//     payscore service orders and consumer complaints keep state in both
//     modes (direct merchant and service provider), and 电商收付通 for a
//     service provider as a platform: second-level merchants onboarded
//     (SettleEcommerce ends the audit), their frozen and available
//     balances, shares, refunds with the platform's advance and its return,
//     subsidies and withdrawals (EcommerceBalance). Pay simulates the payer,
//     SetRefundOutcome the bank, ConfirmTransfer the payee of a transfer,
//     ConfirmPayscore the payscore user, FileComplaint a complaining payer.
//     State changes send signed, encrypted notifications, in WeChat's field
//     order, to notify_url on WeChat's retry schedule.
//   - Every operation without state answers a schema-valid 2xx: the spec's
//     example, or a body synthesized from the response schema that echoes
//     request fields of the same name and names the caller (mchid, appid,
//     sub_mchid …). Sensitive answer fields are encrypted to the merchant
//     certificate's key (RSA-OAEP), as WeChat Pay does.
//   - GET / serves a dashboard: merchants, orders with QR codes and a pay
//     button, refunds, the notification log with redelivery, faults, the
//     clock and certificate rotation.
//   - 国密: started WithSuite(sm.Suite{}), the sandbox also gives every
//     merchant SM2 credentials (Credentials.SM, Credentials.SMConfig),
//     verifies WECHATPAY2-SM2-WITH-SM3 requests and signs their answers with
//     SM2, lists SM2 platform certificates (algorithm_type=SM2, AEAD_SM4_GCM),
//     sends SM2-signed AEAD_SM4_GCM notifications, checks SM2-encrypted
//     sensitive fields and encrypts the sub-merchant bill with SM4_GCM. It
//     imports no SM code itself: the suite is the option's argument.
//   - Faults (latency, error answers, connection resets, bad, missing or
//     probe signatures, clock offsets) can be injected per operation, path
//     or notification, for the next N calls or until cleared.
//
// In a test:
//
//	s := sandbox.StartTest(t)              // httptest server, closed with the test
//	m := s.Merchant()                      // mchid, keys, serial, APIv3 key, appid
//	// … point a client at s.URL() with m, create an order …
//	s.Pay(m.MchID, "order-1")              // the payer pays: TRANSACTION.SUCCESS is sent
//	d, _ := s.WaitDelivery(ctx, func(d sandbox.Delivery) bool { return d.OutTradeNo == "order-1" })
//
// In-process without a port, Handler serves the same. Start listens on a
// loopback port for a standalone server; its control API under
// ControlPrefix (/sandbox/) offers the same operations as the Go methods.
//
// Magic values: CodePay with AuthCodeUserPaying waits for the payer (202
// USERPAYING until Pay); a refund whose out_refund_no starts with ABNORMAL
// or CLOSED ends so; an e-commerce application whose out_request_no starts
// with REJECT is rejected. Error codes where the real one is unconfirmed:
// a second prepay with the same out_trade_no and different content answers
// 400 INVALID_REQUEST "201 商户订单号重复" (the real message); a prepay or
// close of a paid order 400 ORDERPAID; refunds over the refundable amount
// or with a different order total 400 INVALID_REQUEST with a detail.
//
// A sandbox holds private keys and APIv3 keys and hands them out through
// its control API without authentication: serve it on loopback, for local
// use only.
package sandbox
