package sandbox

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gowxpay/wxpay/auth"
	"github.com/gowxpay/wxpay/gen/payments"
	"github.com/gowxpay/wxpay/gen/profitsharing"
)

// TestProfitSharingTyped runs the profit-sharing flow end to end through
// the typed client: pay, share, the PROFITSHARING notification through the
// client's callback handler, query, return, unfreeze.
func TestProfitSharingTyped(t *testing.T) {
	s := newServer(t, WithTimeScale(0.001), WithRefundDelay(time.Second))
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	cfg, client, events, rv := flowClient(t, s.Merchant(), ts.URL)
	if err := s.SetProfitSharingNotifyURL(cfg.MchID, rv.URL+"/ps"); err != nil {
		t.Fatal(err)
	}

	otn := uniqueNo("PST")
	if _, err := client.Payments.NativePrepay(ctx, &payments.NativePrepayInput{Description: "shared", OutTradeNo: otn,
		NotifyURL: rv.URL + "/pay", Amount: payments.Amount{Total: 500}}); err != nil {
		t.Fatal(err)
	}
	txID, err := s.Pay(cfg.MchID, otn)
	if err != nil {
		t.Fatal(err)
	}
	ps := client.Profitsharing
	// The receiver first; the client encrypts its name.
	added, err := ps.AddReceiver(ctx, &profitsharing.AddReceiverRequest{AppID: cfg.AppID,
		Type: profitsharing.ReceiverTypeMerchantID, Account: "1900009999", Name: "示例商户", RelationType: profitsharing.RelationTypeStore})
	if err != nil {
		t.Fatal(err)
	}
	if name, err := auth.DecryptOAEP(s.Merchant().PrivateKey, added.Name); err != nil || name != "示例商户" {
		t.Fatalf("the answer's name does not decrypt with the merchant key: %q %v", name, err)
	}
	outNo := uniqueNo("PSO")
	if _, err := ps.CreateOrder(ctx, &profitsharing.CreateOrderRequest{
		AppID: cfg.AppID, TransactionID: txID, OutOrderNo: outNo,
		Receivers: []profitsharing.OrderReceiver{{Type: profitsharing.ReceiverTypeMerchantID, Account: "1900009999", Amount: 120, Description: "store"}},
	}); err != nil {
		t.Fatal(err)
	}
	var note *profitsharing.Notification
	for note == nil {
		select {
		case ev := <-events:
			if ev.EventType == profitsharing.EventProfitsharing {
				note, _ = ev.Resource.(*profitsharing.Notification)
			}
		case <-ctx.Done():
			t.Fatal("no PROFITSHARING notification")
		}
	}
	if note.OutOrderNo != outNo || note.Receiver.Amount != 120 || note.TransactionID != txID || note.MchID != cfg.MchID {
		t.Fatalf("notification %+v", note)
	}
	got, err := ps.QueryOrder(ctx, outNo, &profitsharing.QueryOrderParams{TransactionID: txID})
	if err != nil || got.State != profitsharing.OrderStateFinished {
		t.Fatalf("query: %v %+v", err, got)
	}
	if _, err := ps.CreateReturnOrder(ctx, &profitsharing.CreateReturnOrderRequest{
		OutOrderNo: outNo, OutReturnNo: uniqueNo("PSR"), ReturnMchID: "1900009999", Amount: 20, Description: "back",
	}); err != nil {
		t.Fatal(err)
	}
	left, err := ps.QueryUnsplitAmount(ctx, txID)
	if err != nil || left.UnsplitAmount != 380 {
		t.Fatalf("unsplit: %v %+v", err, left)
	}
	if _, err := ps.UnfreezeOrder(ctx, &profitsharing.UnfreezeOrderRequest{TransactionID: txID, OutOrderNo: uniqueNo("PSU"), Description: "done"}); err != nil {
		t.Fatal(err)
	}
	if left, err = ps.QueryUnsplitAmount(ctx, txID); err != nil || left.UnsplitAmount != 0 {
		t.Fatalf("after unfreeze: %v %+v", err, left)
	}
}
