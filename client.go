package wxpay

import (
	"context"
	"io"
	"net/http"
	"time"

	"github.com/gowxpay/wxpay/auth"
	"github.com/gowxpay/wxpay/callback"
	"github.com/gowxpay/wxpay/core"
	"github.com/gowxpay/wxpay/gen/bills"
	"github.com/gowxpay/wxpay/merchant"
)

// Key modes, for Config.KeyMode: how WeChat Pay's answers are verified.
const (
	// CertificateMode downloads the platform certificates (平台证书).
	CertificateMode = auth.CertificateMode
	// PublicKeyMode uses the WeChat Pay public key (微信支付公钥).
	PublicKeyMode = auth.PublicKeyMode
	// TransitionMode uses both while moving from one to the other.
	TransitionMode = auth.TransitionMode
)

// Client calls the WeChat Pay API v3 as one merchant. Every business area
// of the spec is a field (client.Payments, client.Refunds, client.Bills …);
// see Services. It is safe for concurrent use; Close it when done.
type Client struct {
	// Services holds one typed client per business area.
	Services
	conn *merchant.Conn
	cfg  Config
}

// NewClient checks cfg, loads the credentials and returns a client. It does
// no network I/O: in certificate mode, the first call that needs the
// platform certificates downloads them. Configuration mistakes are
// *merchant.ConfigError values that name the field and what to check.
//
// To find credential mistakes at start-up rather than at the first
// payment, call Check once:
//
//	if err := client.Check(ctx); err != nil {
//		log.Fatal(err) // the merchant id, the private key and serial, or the APIv3 key is wrong
//	}
//
// In certificate and transition mode a success proves all of them; in
// public-key mode it proves the signing credentials (see Check).
func NewClient(ctx context.Context, cfg Config) (*Client, error) {
	conn, err := merchant.Connect(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return &Client{Services: newServices(conn.Core()), conn: conn, cfg: cfg}, nil
}

// Close stops the background work of the client (the certificate refresh).
// Closing a nil Client does nothing, so that a deferred Close after a
// failed NewClient is harmless.
func (c *Client) Close() error {
	if c == nil {
		return nil
	}
	return c.conn.Close()
}

// Conn returns the underlying connection: the platform keys, raw calls,
// request signing for hand-built requests.
func (c *Client) Conn() *merchant.Conn { return c.conn }

// Raw sends a signed request for an endpoint that is not in the spec yet:
// method, uri (path and query, escaped as they go on the wire) and an
// optional JSON body. The answer is verified like any other; a non-2xx answer
// is an *APIError.
//
//	resp, err := client.Raw(ctx, "GET", "/v3/merchant-service/complaints-v2?limit=10", nil)
func (c *Client) Raw(ctx context.Context, method, uri string, body []byte, opts ...CallOption) (*RawResponse, error) {
	return c.conn.Raw(ctx, method, uri, body, false, opts...)
}

// JSAPIPayParams returns the signed parameters for WeixinJSBridge
// getBrandWCPayRequest (JSAPI) or wx.requestPayment (mini program) for the
// prepay_id of a JSAPI order. appID is the app of the payer's openid;
// Config.AppID when empty (in partner mode: the sub_appid when the openid
// is the sub-app's, else the sp_appid).
//
// It is the second of three steps. The server creates the order with
// Payments.JSAPIPrepay and gets a prepay_id; it signs the payment
// parameters with JSAPIPayParams (no network I/O) and hands them to the
// page or mini program as JSON; the page passes them to
// getBrandWCPayRequest / wx.requestPayment, and the outcome arrives as a
// TRANSACTION.SUCCESS notification (the front end's success callback is
// not proof of payment: query the order or wait for the notification).
//
//	order, err := client.Payments.JSAPIPrepay(ctx, &payments.JSAPIPrepayInput{…, Payer: payments.JSAPIPayerInput{OpenID: openid}})
//	params, err := client.JSAPIPayParams("", order.PrepayID)
//	json.NewEncoder(w).Encode(params) // to the front end
//
// The prepay_id is valid for two hours; sign again (no new order) when the
// payer retries within that time.
func (c *Client) JSAPIPayParams(appID, prepayID string) (*auth.JSAPIPayParams, error) {
	return c.conn.JSAPIPayParams(appID, prepayID)
}

// APPPayParams returns the signed parameters of an app payment (OpenSDK
// PayReq) for the prepay_id of an APP order. appID defaults to Config.AppID.
func (c *Client) APPPayParams(appID, prepayID string) (*auth.APPPayParams, error) {
	return c.conn.APPPayParams(appID, prepayID)
}

// DecryptField opens a field WeChat Pay encrypted to the merchant
// certificate's key (names and phone numbers in some answers).
func (c *Client) DecryptField(ciphertext string) (string, error) {
	return c.conn.DecryptField(ciphertext)
}

// DownloadBill streams the bill of an apply answer (Bills.ApplyTrade,
// Bills.ApplyFundFlow) to w, uncompressed, and checks it against the answer's
// SHA-1. It returns the number of bytes written. Write to a temporary file
// and keep it only when DownloadBill returns nil: on a *merchant.DigestError
// what was written is not the bill. ParseBill reads the result.
func (c *Client) DownloadBill(ctx context.Context, bill *bills.Bill, w io.Writer, opts ...CallOption) (int64, error) {
	if bill == nil {
		return 0, &UsageError{Op: "DownloadBill", Msg: "the bill is nil: pass the answer of Bills.ApplyTrade or Bills.ApplyFundFlow"}
	}
	return c.conn.DownloadBill(ctx, bill.DownloadURL, string(bill.HashType), bill.HashValue, w, opts...)
}

// CallbackParser returns a notification parser for this client's merchant:
// it verifies notifications with the client's platform keys (certificates
// or public key, refreshed as needed) and decrypts them with Config.APIv3Key
// (AEAD_AES_256_GCM, and AEAD_SM4_GCM too when Config.Suite is the 国密
// suite). It fails when no APIv3 key is configured.
func (c *Client) CallbackParser(opts ...func(*callback.Config)) (*callback.Parser, error) {
	cfg := callback.Config{
		Verifier: c.conn.Keys(),
		APIv3Key: []byte(c.cfg.APIv3Key),
		MaxSkew:  c.conn.MaxClockSkew(),
		Now:      c.cfg.Now,
		Events:   Events(),
		Logger:   c.cfg.Logger,
	}
	if c.cfg.APIv3Key == "" {
		return nil, &merchant.ConfigError{Field: "APIv3Key", Reason: "notifications are encrypted with the APIv3 key: configure it to receive them"}
	}
	for _, o := range opts {
		o(&cfg)
	}
	return callback.NewParser(cfg)
}

// CallbackHandler returns an http.Handler for WeChat Pay's notifications to
// this merchant: it answers 2xx only after fn returned nil for the
// verified, decrypted, typed event, and suppresses duplicates (see
// callback.NewHandler for the options).
//
//	h, err := client.CallbackHandler(func(ctx context.Context, ev *callback.Event) error {
//		if tx, ok := ev.Resource.(*payments.Transaction); ok { … }
//		return nil
//	})
//	http.Handle("/wxpay/notify", h)
func (c *Client) CallbackHandler(fn func(context.Context, *callback.Event) error, opts ...callback.Option) (http.Handler, error) {
	p, err := c.CallbackParser()
	if err != nil {
		return nil, err
	}
	return callback.NewHandler(p, fn, opts...), nil
}

// Types re-exported from core, so that most programs import wxpay alone.
type (
	// APIError is a non-2xx answer of WeChat Pay; see core.APIError.
	APIError = core.APIError
	// ErrorDetail locates a parameter error.
	ErrorDetail = core.ErrorDetail
	// UsageError is a call that could not be made as written.
	UsageError = core.UsageError
	// ModeError is a call to an operation of the other merchant mode.
	ModeError = core.ModeError
	// DecodeError is a 2xx answer that did not decode.
	DecodeError = core.DecodeError
	// CallOption changes one call.
	CallOption = core.CallOption
	// ResponseMeta receives facts about an answer (CaptureResponse).
	ResponseMeta = core.ResponseMeta
	// RawResponse is the answer of a raw call.
	RawResponse = core.RawResponse
	// Time is a point in time in WeChat Pay's format.
	Time = core.Time
	// Date is a calendar day in WeChat Pay's format.
	Date = core.Date
	// File is a file to upload.
	File = core.File
	// OpError is a call that got no usable answer (connection failure,
	// verification failure, cancelled context).
	OpError = core.OpError
	// ConfigError is a configuration mistake; it names the field.
	ConfigError = merchant.ConfigError
	// DigestError is a downloaded bill that does not match its digest.
	DigestError = merchant.DigestError
)

// ErrBillTooLarge is DownloadBill's error for a bill over
// Config.MaxBillSize or a gzip bill that expands implausibly.
var ErrBillTooLarge = merchant.ErrBillTooLarge

// Errors to test with errors.Is.
var (
	// ErrVerification matches every answer or notification whose signature
	// could not be verified.
	ErrVerification = core.ErrVerification
	// ErrSignatureProbe matches WeChat Pay's deliberate signature probes
	// (WECHATPAY/SIGNTEST/): the request may have taken effect; query it.
	ErrSignatureProbe = auth.ErrSignatureProbe
)

// IsCode reports whether err is an *APIError with the given code, ignoring
// underscores and case (SYSTEM_ERROR matches SYSTEMERROR).
func IsCode(err error, code string) bool { return core.IsCode(err, code) }

// WithHeader adds a header to one call (Idempotency-Key, for example).
func WithHeader(key, value string) CallOption { return core.WithHeader(key, value) }

// WithMaxAttempts bounds the attempts of one call; 1 turns retries off.
func WithMaxAttempts(n int) CallOption { return core.WithMaxAttempts(n) }

// CaptureResponse fills meta with the answer's status, Request-ID and header
// when the call returns.
func CaptureResponse(meta *ResponseMeta) CallOption { return core.CaptureResponse(meta) }

// TimeOf converts a time.Time into a Time.
func TimeOf(t time.Time) Time { return core.TimeOf(t) }

// NewDate returns the given day as a Date.
func NewDate(year int, month time.Month, day int) Date { return core.NewDate(year, month, day) }

// Ptr returns a pointer to v, for the optional fields whose zero value is
// a value of its own: wxpay.Ptr(false) sends false, nil sends nothing.
func Ptr[T any](v T) *T { return &v }

// DateOf returns the day of t, in t's location.
func DateOf(t time.Time) Date { return core.DateOf(t) }
