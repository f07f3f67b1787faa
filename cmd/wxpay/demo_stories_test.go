package main

import (
	"strings"
	"testing"
)

// TestDemoStories runs the profit-sharing and transfer stories, direct and
// partner, and the e-commerce story (always partner).
func TestDemoStories(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"demo", "--story", "profitsharing", "--no-qr"}, []string{"POST /v3/profitsharing/orders  200", "PROFITSHARING (分账)",
			"ok  profit-sharing notification received and verified: 17.60 CNY to 1900009999", "unsplit        70.40 CNY", "PROFITSHARING_RETURN", "nothing left to share", "Done:"}},
		{[]string{"demo", "--story", "profitsharing", "--partner", "--no-qr"}, []string{"(service provider)", "ok  profit-sharing notification received", "nothing left to share"}},
		{[]string{"demo", "--story", "transfer"}, []string{"WAIT_USER_CONFIRM", "MCHTRANSFER.BILL.FINISHED", "ok  query: state SUCCESS, 5.20 CNY", "decrypts to 2 characters", "notified: CANCELLED", "Done:"}},
		{[]string{"demo", "--story", "transfer", "--partner", "--key-mode", "public-key"}, []string{"/v3/fund-app/mch-transfer/partner/transfer-bills  200", "Wechatpay-Serial PUB_KEY_ID_", "notified: CANCELLED"}},
		{[]string{"demo", "--story", "ecommerce", "--no-qr", "--timeout", "1h"}, []string{"(service provider as an e-commerce platform, 电商平台)",
			"POST /v3/ecommerce/applyments/  200", "ok  query: applyment_state FINISH (完成): second-level merchant 16",
			"POST /v3/combine-transactions/native  200", "*combine.Transaction: sub-order", "balance        0.00 CNY available, 88.00 CNY pending",
			"PROFITSHARING (分账)", "ok  profit-sharing notification received and verified: 8.80 CNY to 19", "balance        79.20 CNY available, 0.00 CNY pending",
			"refund_account REFUND_SOURCE_PARTNER_ADVANCE", "ok  advance made good: SUCCESS", "balance        49.20 CNY available",
			"ok  withdrawal of 49.20 CNY accepted: the merchant's balance is 0", "balance        0.00 CNY available, 0.00 CNY pending", "Done:"}},
		{[]string{"demo", "--story", "ecommerce", "--partner", "--sm", "--key-mode", "public-key", "--timeout", "1h"}, []string{"Wechatpay-Serial PUB_KEY_ID_", "██",
			"ok  refund notification received and verified", "the merchant's balance is 0", "Done:"}},
	} {
		t.Run(strings.Join(tc.args[1:], " "), func(t *testing.T) {
			r := runCLI(t, tc.args...)
			expect(t, r, 0, tc.want...)
			// The payee's name (transfer), the applicant's name, ID card,
			// bank account and phone (ecommerce) travel encrypted only.
			for _, clear := range []string{"张三", "110101199003071234", "6222020200112345678", "13800000000"} {
				if strings.Contains(r.stdout+r.stderr, clear) {
					t.Fatalf("the demo printed %q", clear)
				}
			}
		})
	}
	r := runCLI(t, "demo", "--story", "lottery")
	expect(t, r, 2, "--story \"lottery\" is not payment, profitsharing, transfer or ecommerce")
}
