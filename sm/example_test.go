package sm_test

import (
	"context"
	"fmt"

	"github.com/gowxpay/wxpay"
	"github.com/gowxpay/wxpay/gen/payments"
	"github.com/gowxpay/wxpay/sandbox"
	"github.com/gowxpay/wxpay/sm"
)

// A 国密 merchant: Config.Suite is sm.Suite{}, and the key, certificate and
// public key are SM2 ones. Here they come from a sandbox that speaks 国密.
func Example() {
	ctx := context.Background()
	sb, err := sandbox.New(sandbox.WithSuite(sm.Suite{}))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sb.Close()
	if _, err := sb.Start(); err != nil {
		fmt.Println(err)
		return
	}
	cfg, err := sb.Merchant().SMConfig() // Suite: sm.Suite{}, SM2 PEM files
	if err != nil {
		fmt.Println(err)
		return
	}
	cfg.NotifyURL = "https://example.com/wxpay/notify"
	client, err := wxpay.NewClient(ctx, cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()
	var meta wxpay.ResponseMeta
	order, err := client.Payments.NativePrepay(ctx, &payments.NativePrepayInput{
		Description: "国密 order", OutTradeNo: "SM-EXAMPLE-1", Amount: payments.Amount{Total: 100},
	}, wxpay.CaptureResponse(&meta))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(order.CodeURL != "", meta.Header.Get("Wechatpay-Signature-Type"))
	fmt.Println(client.Conn().Keys().Status().Source) // the SM2 platform certificates
	// Output:
	// true WECHATPAY2-SM2-WITH-SM3
	// download
}
