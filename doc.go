// Package wxpay is a Go SDK for the WeChat Pay API v3 (微信支付 APIv3), for
// direct merchants (直连商户) and service providers (服务商).
//
// NewClient checks a Config (the merchant's credentials, its mode and
// request defaults) and returns a Client whose fields are the business
// areas of the API, each a typed client generated from api/openapi.yaml:
//
//	client, err := wxpay.NewClient(ctx, wxpay.Config{
//		MchID:           "1900000109",
//		PrivateKeyFile:  "apiclient_key.pem",
//		CertificateFile: "apiclient_cert.pem",
//		APIv3Key:        os.Getenv("WXPAY_APIV3_KEY"),
//		PublicKeyID:     "PUB_KEY_ID_…", // or leave the public key out for platform certificates
//		PublicKeyFile:   "pub_key.pem",
//		AppID:           "wxd678efh567hg6787",
//		NotifyURL:       "https://example.com/wxpay/notify",
//	})
//	order, err := client.Payments.NativePrepay(ctx, &payments.NativePrepayInput{
//		Description: "T-shirt", OutTradeNo: "ORDER-1", Amount: payments.Amount{Total: 100},
//	})
//
// # Merchant modes
//
// Config.PartnerMode switches between direct and partner mode. An operation
// that exists in both modes as two endpoints has one method that takes the
// same input in both modes (client.Payments.NativePrepay); the merchant ids
// come from the Config. Its per-mode forms, which take each mode's request
// exactly as WeChat Pay defines it, are on the area's Direct() and
// Partner(). Operations that exist in one mode only refuse to run in the
// other (*ModeError). Empty appid, mchid, sub_mchid (where partner mode
// requires it), sub_appid and notify_url fields are filled from the Config,
// on a copy of the caller's value.
//
// # Requests
//
// A method refuses a call whose required fields are empty with a
// *UsageError listing their JSON paths (amount.total,
// detail.goods_detail[1].merchant_goods_id) before anything is signed or
// sent; a nil input counts as empty. Optional fields whose zero value is a
// value of its own (a switch, a price of 0, every field of a PATCH) are
// pointers: set them with Ptr(false) or Ptr[int64](0) to send them, leave
// them nil to send nothing. Lists that page with offset and limit have an
// iterator too (client.Complaints.ListAll), which walks every page.
//
// # Security
//
// Every request is signed over the exact bytes sent; every signed answer
// is verified before anything decodes it, with the platform certificates
// (downloaded, cached and refreshed by the client) or the WeChat Pay public
// key; fields the spec marks sensitive are encrypted with the platform key.
// Private keys, the APIv3 key and signatures never appear in errors or
// logs.
//
// # Errors
//
// A non-2xx answer is an *APIError: branch on its Code (IsCode ignores the
// two spellings WeChat uses), quote its RequestID to WeChat support, read
// its Hint for the likely configuration mistake. Connection errors, 429 and
// retryable 5xx answers are retried with backoff and a fresh signature;
// business errors and verification failures never are. A failed answer
// signature matches ErrVerification; WeChat's deliberate signature probes
// match ErrSignatureProbe (query before repeating the call). Configuration
// mistakes are *ConfigError values that name the field.
//
// # Notifications, bills, offline testing
//
// CallbackHandler turns WeChat Pay's notifications into verified, decrypted,
// typed events (package callback does the same for any framework). Each
// area lists the notification types it decodes (payments.Events()); Events
// gathers them all.
// DownloadBill streams a bill, checking its SHA-1; ParseBill reads it.
// Package sandbox is an offline WeChat Pay server for tests and demos.
//
// A program that needs a single business area can use package merchant and
// that area's gen package alone, so that it compiles nothing else.
package wxpay
