package browsertest

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/gowxpay/wxpay"
	"github.com/gowxpay/wxpay/gen/transfers"
	"github.com/gowxpay/wxpay/sandbox"
)

// TestDashboardTransferConfirm creates a merchant transfer through the
// typed client, plays the payee by clicking "payee confirms", and sees the
// bill SUCCESS and MCHTRANSFER.BILL.FINISHED delivered.
func TestDashboardTransferConfirm(t *testing.T) {
	ctx := browser(t)
	sb := sandbox.StartTest(t, sandbox.WithTimeScale(0.001))
	bg := context.Background()
	got := &notifications{added: make(chan struct{}, 1)}
	cfg := sb.Merchant().Config()
	client, err := wxpay.NewClient(bg, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	h, err := client.CallbackHandler(got.process)
	if err != nil {
		t.Fatal(err)
	}
	rv := httptest.NewServer(h)
	defer rv.Close()
	const no = "BROWSERTRANSFER1"
	if _, err := client.Transfers.CreateBill(bg, &transfers.CreateBillInput{
		AppID: cfg.AppID, OutBillNo: no, OpenID: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", TransferAmount: 520, TransferRemark: "award",
		NotifyURL: rv.URL + "/transfer", TransferSceneID: transfers.SceneIDScene1000,
		TransferSceneReportInfos: []transfers.SceneReportInfo{{InfoType: "活动名称", InfoContent: "browser"}},
	}); err != nil {
		t.Fatal(err)
	}
	row := `tr[data-out-bill-no="` + no + `"]`
	if err := chromedp.Do(ctx,
		chromedp.Navigate(sb.URL()+"/"),
		chromedp.Click(chromedp.CSS(row+` button.confirm`)),
		chromedp.WaitVisible(chromedp.CSS(row+` .state.SUCCESS`)),
		chromedp.WaitVisible(chromedp.CSS(`#notifications .state.DELIVERED`)),
	); err != nil {
		t.Fatalf("browser: %v", err)
	}
	select {
	case <-got.added:
	case <-ctx.Done():
		t.Fatal("the merchant's callback handler received no notification")
	}
	got.mu.Lock()
	ev := got.events[0]
	got.mu.Unlock()
	if ev.EventType != "MCHTRANSFER.BILL.FINISHED" {
		t.Fatalf("event %s", ev.EventType)
	}
	if st, err := sb.TransferState("", no); err != nil || st != "SUCCESS" {
		t.Fatalf("transfer %s (%v)", st, err)
	}
}
