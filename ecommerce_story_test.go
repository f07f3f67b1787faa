package wxpay_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gowxpay/wxpay"
	"github.com/gowxpay/wxpay/callback"
	"github.com/gowxpay/wxpay/gen/combine"
	"github.com/gowxpay/wxpay/gen/ecommerce"
	"github.com/gowxpay/wxpay/gen/profitsharing"
	"github.com/gowxpay/wxpay/gen/refunds"
	"github.com/gowxpay/wxpay/sandbox"
)

// TestEcommerceStory runs 电商收付通 end to end through the typed client
// against the sandbox, as a platform (service provider): it onboards a
// second-level merchant, takes a combined payment into it, shares part of
// it with the platform and ends the sharing, refunds with the platform's
// advance (垫付) and makes the advance good from the merchant's balance,
// subsidises an order, and withdraws the rest — checking the merchant's
// balance after every step that moves money, and the notifications.
func TestEcommerceStory(t *testing.T) {
	ctx := context.Background()
	sb := startTestSandbox(t, sandbox.WithRefundDelay(-1))
	creds := sb.Partner()
	cfg := creds.Config()
	events := make(chan *callback.Event, 8)
	hook := httptest.NewServer(nil)
	t.Cleanup(hook.Close)
	cfg.NotifyURL = hook.URL + "/notify"
	client, err := wxpay.NewClient(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	h, err := client.CallbackHandler(func(_ context.Context, ev *callback.Event) error {
		events <- ev
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	hook.Config.Handler = h
	if err := sb.SetProfitSharingNotifyURL(creds.MchID, cfg.NotifyURL); err != nil {
		t.Fatal(err)
	}
	ec := client.Ecommerce
	var apiErr *wxpay.APIError

	// 1. Onboard a second-level merchant (二级商户进件). The names, numbers
	// and phone are sensitive: the client encrypts them, and the sandbox
	// refuses plaintext.
	applied, err := ec.CreateApplyment(ctx, &ecommerce.CreateApplymentRequest{
		OutRequestNo:     "EC-APPLY-1",
		OrganizationType: ecommerce.OrganizationTypePersonalSeller,
		IDDocType:        "IDENTIFICATION_TYPE_IDCARD",
		IDCardInfo: ecommerce.IDCardInfo{
			IDCardCopy: "media-front", IDCardNational: "media-back", IDCardName: "张三", IDCardNumber: "110101199003071234",
			IDCardValidTime: "长期",
		},
		AccountInfo: ecommerce.ApplymentAccountInfo{
			BankAccountType: ecommerce.BankAccountTypePrivate, AccountBank: "工商银行", AccountName: "张三",
			BankAddressCode: "110000", AccountNumber: "6222020200112345678",
		},
		ContactInfo: ecommerce.ApplymentContactInfo{
			ContactType: ecommerce.ContactTypeLegal, ContactName: "张三", MobilePhone: "13800000000",
		},
		SalesSceneInfo:    ecommerce.SalesSceneInfo{StoreName: "张三的小店", StoreURL: "https://shop.example.com/zhangsan"},
		MerchantShortname: "张三小店",
	})
	if err != nil {
		t.Fatalf("applying: %v", err)
	}
	if d := sb.Deliveries(); len(d) != 0 {
		t.Fatalf("notifications before anything happened: %d", len(d))
	}
	st, err := ec.QueryApplymentByOutRequestNo(ctx, "EC-APPLY-1")
	if err != nil || st.ApplymentState != ecommerce.ApplymentStateChecking || st.ApplymentID != applied.ApplymentID {
		t.Fatalf("new application: %v %+v", err, st)
	}
	sb.SettleEcommerce() // the audit ends
	st, err = ec.QueryApplymentByID(ctx, applied.ApplymentID)
	if err != nil || st.ApplymentState != ecommerce.ApplymentStateFinish || st.SubMchID == "" {
		t.Fatalf("audited application: %v %+v", err, st)
	}
	sub := st.SubMchID

	// 2. A combined payment into the new merchant.
	const total, share, refund, subsidy = 8800, 880, 3000, 100
	_, err = client.Combine.NativePrepay(ctx, &combine.NativePrepayRequest{
		CombineAppID: creds.AppID, CombineMchID: creds.MchID, CombineOutTradeNo: "EC-PAY-1",
		SubOrders: []combine.SubOrder{{
			MchID: creds.MchID, SubMchID: sub, OutTradeNo: "EC-PAY-1-A", Attach: "story", Description: "一件商品",
			Amount: combine.Amount{TotalAmount: total, Currency: "CNY"},
		}},
	})
	if err != nil {
		t.Fatalf("combined order: %v", err)
	}
	if _, err := sb.Pay(creds.MchID, "EC-PAY-1"); err != nil {
		t.Fatal(err)
	}
	paid, ok := waitEvent(t, events, "TRANSACTION.SUCCESS").Resource.(*combine.Transaction)
	if !ok || len(paid.SubOrders) != 1 || paid.SubOrders[0].SubMchID != sub {
		t.Fatalf("payment notification: %+v", paid)
	}
	txID := paid.SubOrders[0].TransactionID
	balance := func(wantAvailable, wantPending int64) {
		t.Helper()
		b, err := ec.QueryBalance(ctx, sub, nil)
		if err != nil {
			t.Fatal(err)
		}
		if b.AvailableAmount != wantAvailable || b.PendingAmount != wantPending {
			t.Fatalf("balance: available %d pending %d, want %d and %d", b.AvailableAmount, b.PendingAmount, wantAvailable, wantPending)
		}
	}
	balance(0, total) // frozen until profit sharing ends

	// 3. The platform takes its commission and ends the sharing. Another
	// receiver must be on the platform's list first; the platform itself
	// need not be.
	other := ecommerce.ProfitSharingOrderReceiver{
		Type: ecommerce.ProfitSharingReceiverTypeMerchantID, ReceiverAccount: "1900009999", Amount: 1, Description: "物流",
	}
	_, err = ec.CreateProfitSharingOrder(ctx, &ecommerce.CreateProfitSharingOrderRequest{
		SubMchID: sub, TransactionID: txID, OutOrderNo: "EC-PS-0", Receivers: []ecommerce.ProfitSharingOrderReceiver{other},
	})
	if !errors.As(err, &apiErr) || apiErr.Code != "RECEIVER_INVALID" {
		t.Fatalf("sharing with a receiver not added: %v", err)
	}
	if _, err := ec.AddProfitSharingReceiver(ctx, &ecommerce.AddProfitSharingReceiverRequest{
		AppID: creds.AppID, Type: ecommerce.ProfitSharingReceiverTypeMerchantID, Account: "1900009999", Name: "物流公司",
		RelationType: "SERVICE_PROVIDER",
	}); err != nil {
		t.Fatalf("adding a receiver: %v", err)
	}
	ps, err := ec.CreateProfitSharingOrder(ctx, &ecommerce.CreateProfitSharingOrderRequest{
		SubMchID: sub, TransactionID: txID, OutOrderNo: "EC-PS-1", Finish: true,
		Receivers: []ecommerce.ProfitSharingOrderReceiver{{
			Type: ecommerce.ProfitSharingReceiverTypeMerchantID, ReceiverAccount: creds.MchID, Amount: share - 1, Description: "平台佣金",
		}, other},
	})
	if err != nil || ps.Status != "PROCESSING" {
		t.Fatalf("sharing: %v %+v", err, ps)
	}
	sb.SettleProfitSharing()
	notified := map[string]int64{} // one notification per receiver, in any order
	for range 2 {
		n, ok := waitEvent(t, events, "PROFITSHARING").Resource.(*profitsharing.Notification)
		if !ok || n.SubMchID != sub || n.OutOrderNo != "EC-PS-1" {
			t.Fatalf("profit-sharing notification: %+v", n)
		}
		notified[n.Receiver.Account] = n.Receiver.Amount
	}
	if notified[creds.MchID] != share-1 || notified[other.ReceiverAccount] != 1 {
		t.Fatalf("shares notified: %v", notified)
	}
	q, err := ec.QueryProfitSharingOrder(ctx, &ecommerce.QueryProfitSharingOrderParams{SubMchID: sub, TransactionID: txID, OutOrderNo: "EC-PS-1"})
	if err != nil || q.Status != "FINISHED" || len(q.Receivers) != 2 || q.Receivers[0].Result != "SUCCESS" || q.Receivers[1].Result != "SUCCESS" {
		t.Fatalf("sharing query: %v %+v", err, q)
	}
	balance(total-share, 0)

	// 4. A refund the platform advances (垫付), made good later.
	rf, err := ec.CreateRefund(ctx, &ecommerce.CreateRefundRequest{
		SubMchID: sub, SpAppID: creds.AppID, TransactionID: txID, OutRefundNo: "EC-RF-1", Reason: "退货",
		Amount:        ecommerce.CreateRefundAmount{Refund: refund, Total: total, Currency: "CNY"},
		RefundAccount: ecommerce.RefundAccountPartnerAdvance, FundsAccount: "AVAILABLE", NotifyURL: cfg.NotifyURL,
	})
	if err != nil {
		t.Fatalf("refund: %v", err)
	}
	if err := sb.SetRefundOutcome("EC-RF-1", sandbox.RefundSuccess); err != nil {
		t.Fatal(err)
	}
	if n, ok := waitEvent(t, events, "REFUND.SUCCESS").Resource.(*refunds.Notification); !ok || n.RefundID != rf.RefundID || n.SubMchID != sub || n.RefundAccount != string(ecommerce.RefundAccountPartnerAdvance) {
		t.Fatalf("refund notification: %+v", n)
	}
	got, err := ec.QueryRefundByID(ctx, rf.RefundID, &ecommerce.QueryRefundByIDParams{SubMchID: sub})
	if err != nil || got.Status != "SUCCESS" || got.RefundAccount != ecommerce.RefundAccountPartnerAdvance || got.Amount.Advance != refund {
		t.Fatalf("refund query: %v %+v", err, got)
	}
	balance(total-share, 0) // the platform paid
	adv, err := ec.ReturnRefundAdvance(ctx, rf.RefundID, &ecommerce.ReturnRefundAdvanceRequest{SubMchID: sub})
	if err != nil || adv.Result != "SUCCESS" || adv.ReturnAmount != refund || adv.PayerMchID != sub || adv.PayeeMchID != creds.MchID {
		t.Fatalf("advance return: %v %+v", err, adv)
	}
	if again, err := ec.QueryRefundAdvanceReturn(ctx, rf.RefundID, &ecommerce.QueryRefundAdvanceReturnParams{SubMchID: sub}); err != nil || again.AdvanceReturnID != adv.AdvanceReturnID {
		t.Fatalf("advance return query: %v %+v", err, again)
	}
	balance(total-share-refund, 0)

	// 5. A subsidy (补差) from the platform.
	if s, err := ec.CreateSubsidy(ctx, &ecommerce.CreateSubsidyRequest{
		SubMchID: sub, TransactionID: txID, Amount: subsidy, Description: "平台补贴",
	}); err != nil || s.Result != "SUCCESS" {
		t.Fatalf("subsidy: %v %+v", err, s)
	}
	rest := int64(total - share - refund + subsidy)
	balance(rest, 0)

	// 6. Withdraw everything; a withdrawal beyond the balance is refused.
	w, err := ec.CreateWithdraw(ctx, &ecommerce.CreateWithdrawRequest{SubMchID: sub, OutRequestNo: "EC-WD-1", Amount: rest, Remark: "提现", NotifyURL: cfg.NotifyURL})
	if err != nil {
		t.Fatalf("withdrawal: %v", err)
	}
	balance(0, 0)
	ws, err := ec.QueryWithdrawByOutRequestNo(ctx, "EC-WD-1", &ecommerce.QueryWithdrawByOutRequestNoParams{SubMchID: sub})
	if err != nil || ws.Status != "CREATE_SUCCESS" || ws.WithdrawID != w.WithdrawID || ws.Amount != rest {
		t.Fatalf("withdrawal query: %v %+v", err, ws)
	}
	sb.SettleEcommerce()
	if n, ok := waitEvent(t, events, "MCHWITHDRAW.CHANGE").Resource.(*ecommerce.Withdraw); !ok || n.WithdrawID != w.WithdrawID || n.Status != "SUCCESS" {
		t.Fatalf("withdrawal notification: %+v", n)
	}
	if ws, err = ec.QueryWithdrawByID(ctx, w.WithdrawID, &ecommerce.QueryWithdrawByIDParams{SubMchID: sub}); err != nil || ws.Status != "SUCCESS" {
		t.Fatalf("settled withdrawal: %v %+v", err, ws)
	}
	_, err = ec.CreateWithdraw(ctx, &ecommerce.CreateWithdrawRequest{SubMchID: sub, OutRequestNo: "EC-WD-2", Amount: 1})
	if !errors.As(err, &apiErr) || apiErr.Code != "NOT_ENOUGH" {
		t.Fatalf("overdrawing: %v", err)
	}

	// Sensitive fields never travelled in clear.
	for _, d := range sb.Deliveries() {
		if strings.Contains(string(d.Body), "张三") {
			t.Fatal("a notification carried a name in clear")
		}
	}
}
