package wxpay_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/gowxpay/wxpay"
	"github.com/gowxpay/wxpay/auth"
	"github.com/gowxpay/wxpay/gen/bills"
	"github.com/gowxpay/wxpay/gen/payments"
	"github.com/gowxpay/wxpay/gen/refunds"
	"github.com/gowxpay/wxpay/sandbox"
)

// startSandbox starts the offline WeChat Pay server the examples run
// against; real programs set BaseURL to nothing (the production host) and
// load their own credentials. The examples share one loaded spec, which is
// most of what starting a sandbox costs.
func startSandbox() (*sandbox.Server, func()) {
	spec, err := sharedSpec()
	if err != nil {
		log.Fatal(err)
	}
	sb, err := sandbox.New(sandbox.WithSpec(spec))
	if err != nil {
		log.Fatal(err)
	}
	if _, err := sb.Start(); err != nil {
		log.Fatal(err)
	}
	return sb, func() { sb.Close() }
}

// A Native (QR code) order, paid, queried and partly refunded. The same code
// runs in partner mode: only the configuration changes.
func Example() {
	sb, stop := startSandbox()
	defer stop()
	ctx := context.Background()

	cfg := sb.Merchant().Config() // MchID, keys, APIv3 key, AppID, BaseURL
	cfg.NotifyURL = "https://merchant.example/wxpay/notify"
	client, err := wxpay.NewClient(ctx, cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	order, err := client.Payments.NativePrepay(ctx, &payments.NativePrepayInput{
		Description: "Coffee",
		OutTradeNo:  "ORDER-1001",
		Amount:      payments.Amount{Total: 1800}, // 18.00 CNY, in 分
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("QR code:", strings.HasPrefix(order.CodeURL, "weixin://wxpay/bizpayurl"))

	sb.Pay(cfg.MchID, "ORDER-1001") // the simulated payer scans and pays

	tx, err := client.Payments.QueryOrderByOutTradeNo(ctx, "ORDER-1001", nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("state:", tx.TradeState, tx.Amount.Total)

	refund, err := client.Refunds.Create(ctx, &refunds.CreateRequest{
		OutTradeNo:  "ORDER-1001",
		OutRefundNo: "REFUND-1001",
		Amount:      refunds.CreateAmount{Refund: 800, Total: 1800, Currency: "CNY"},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("refund:", refund.Status, refund.Amount.Refund)
	// Output:
	// QR code: true
	// state: SUCCESS 1800
	// refund: PROCESSING 800
}

// Partner mode (服务商): the service provider calls for a sub-merchant. The
// calls are the same as in direct mode.
func Example_partnerMode() {
	sb, stop := startSandbox()
	defer stop()
	ctx := context.Background()

	cfg := sb.Partner().Config() // PartnerMode, the provider's MchID and AppID, a SubMchID
	cfg.NotifyURL = "https://provider.example/wxpay/notify"
	client, err := wxpay.NewClient(ctx, cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	order, err := client.Payments.JSAPIPrepay(ctx, &payments.JSAPIPrepayInput{
		Description: "Coffee",
		OutTradeNo:  "ORDER-2001",
		Amount:      payments.Amount{Total: 1800},
		Payer:       payments.JSAPIPayerInput{OpenID: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}, // sent as sp_openid
	})
	if err != nil {
		log.Fatal(err)
	}
	params, err := client.JSAPIPayParams("", order.PrepayID) // for wx.requestPayment
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(params.SignType, strings.HasPrefix(params.Package, "prepay_id="))

	sb.Pay(cfg.MchID, "ORDER-2001")
	tx, err := client.Payments.QueryOrderByOutTradeNo(ctx, "ORDER-2001", nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tx.TradeState, tx.SubMchID == cfg.SubMchID)
	// Output:
	// RSA true
	// SUCCESS true
}

// Errors from WeChat Pay are *wxpay.APIError values; branch on Code.
func Example_errors() {
	sb, stop := startSandbox()
	defer stop()
	ctx := context.Background()
	client, err := wxpay.NewClient(ctx, sb.Merchant().Config())
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	_, err = client.Payments.QueryOrderByOutTradeNo(ctx, "NO-SUCH-ORDER", nil)
	var apiErr *wxpay.APIError
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.StatusCode, apiErr.Code, apiErr.RequestID != "")
	}
	fmt.Println(wxpay.IsCode(err, "ORDER_NOT_EXIST"))
	// Output:
	// 404 ORDER_NOT_EXIST true
	// true
}

// The day's trade bill: apply, download (checked against its SHA-1, gunzipped)
// and read it.
func ExampleClient_DownloadBill() {
	sb, stop := startSandbox()
	defer stop()
	ctx := context.Background()
	cfg := sb.Merchant().Config()
	cfg.NotifyURL = "https://merchant.example/wxpay/notify"
	client, err := wxpay.NewClient(ctx, cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	if _, err := client.Payments.NativePrepay(ctx, &payments.NativePrepayInput{Description: "Tea", OutTradeNo: "ORDER-3001", Amount: payments.Amount{Total: 900}}); err != nil {
		log.Fatal(err)
	}
	sb.Pay(cfg.MchID, "ORDER-3001")

	bill, err := client.Bills.ApplyTrade(ctx, &bills.ApplyTradeParams{
		BillDate: wxpay.Date{Time: time.Now().In(time.FixedZone("CST", 8*3600))},
		TarType:  bills.TarTypeGZIP,
	})
	if err != nil {
		log.Fatal(err)
	}
	var file bytes.Buffer // a temporary file, in a real program
	if _, err := client.DownloadBill(ctx, bill, &file); err != nil {
		log.Fatal(err) // a *merchant.DigestError means: discard what was written
	}
	parsed, err := wxpay.ParseBill(&file)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(parsed.Records), parsed.Value(0, "商户订单号"), parsed.Value(0, "交易状态"))
	// Output:
	// 1 ORDER-3001 SUCCESS
}

// Check proves the credentials at start-up; a wrong APIv3 key is found
// before any order is created.
func ExampleClient_Check() {
	sb, stop := startSandbox()
	defer stop()
	ctx := context.Background()
	if err := sb.SetKeyMode(sandbox.CertificateMode); err != nil {
		log.Fatal(err)
	}
	cfg := sb.Merchant().Config()
	cfg.KeyMode = wxpay.CertificateMode
	client, err := wxpay.NewClient(ctx, cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	fmt.Println("good credentials:", client.Check(ctx))

	cfg.APIv3Key = "a wrong key of thirty-two bytes!"
	wrong, err := wxpay.NewClient(ctx, cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer wrong.Close()
	err = wrong.Check(ctx)
	fmt.Println("wrong APIv3 key:", errors.Is(err, auth.ErrDecrypt))
	// Output:
	// good credentials: <nil>
	// wrong APIv3 key: true
}
