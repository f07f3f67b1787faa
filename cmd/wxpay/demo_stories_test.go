package main

import (
	"strings"
	"testing"
)

// TestDemoStories runs the profit-sharing and transfer stories, direct and
// partner.
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
	} {
		t.Run(strings.Join(tc.args[1:], " "), func(t *testing.T) {
			r := runCLI(t, tc.args...)
			expect(t, r, 0, tc.want...)
			if strings.Contains(r.stdout, "张三") {
				t.Fatal("the demo printed the payee's name")
			}
		})
	}
	r := runCLI(t, "demo", "--story", "lottery")
	expect(t, r, 2, "--story \"lottery\" is not payment, profitsharing or transfer")
}
