package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gowxpay/wxpay/gen/combine"
	"github.com/gowxpay/wxpay/gen/ecommerce"
	"github.com/gowxpay/wxpay/gen/profitsharing"
	"github.com/gowxpay/wxpay/gen/refunds"
)

// The e-commerce story (--story ecommerce, 电商收付通): the service provider
// plays a platform that onboards a second-level merchant (二级商户), takes a
// combined payment into it, keeps its commission, refunds with its own
// advance (垫付) and lets the merchant withdraw the rest — on the sandbox's
// e-commerce flows, showing the merchant's balance as money moves.

const (
	storyEcommerce = "ecommerce"

	// demoCommission is the platform's commission on the order, and
	// demoEcRefund the refund it advances, in fen.
	demoCommission = 880
	demoEcRefund   = 3000
)

// ecRun is the state of the e-commerce story.
type ecRun struct {
	outRequestNo string // of the application
	applymentID  int64
	sub          string // the new second-level merchant
	txID         string // of the sub-order
	outOrderNo   string // of the profit sharing
	refundID     string
	left         int64 // what the merchant has left after the advance is made good
}

func (d *demoRun) ecommerceSteps() []demoStep {
	return []demoStep{
		{"Onboard a second-level merchant (二级商户进件)", d.ecApply},
		{"WeChat Pay's audit ends", d.ecAudit},
		{"Create a combined Native order into the new merchant", d.ecOrder},
		{"The payer scans the code and pays", d.ecPay},
		{"Receive the payment notification", d.ecPaymentNotification},
		{"Take the platform's commission and end the sharing", d.ecShare},
		{"Receive the profit-sharing notification", d.ecShareNotification},
		{"Refund part of it with the platform's advance (垫付)", d.ecRefund},
		{"Receive the refund notification", d.ecRefundNotification},
		{"The merchant makes the advance good", d.ecReturnAdvance},
		{"The merchant withdraws the rest", d.ecWithdraw},
	}
}

// ecBalance queries the second-level merchant's balance and prints it.
func (d *demoRun) ecBalance(ctx context.Context) (available, pending int64, err error) {
	b, err := d.client.Ecommerce.QueryBalance(ctx, d.ec.sub, nil)
	if err != nil {
		return 0, 0, fmt.Errorf("querying the balance: %w", err)
	}
	d.kv("balance", fmt.Sprintf("%s CNY available, %s CNY pending (frozen)", yuan(b.AvailableAmount), yuan(b.PendingAmount)))
	return b.AvailableAmount, b.PendingAmount, nil
}

func (d *demoRun) ecApply(ctx context.Context) (string, error) {
	d.outTradeNo = newOrderNo(time.Now())
	d.ec.outRequestNo = d.outTradeNo + "-A"
	// The names, numbers and phone below are sensitive: the client encrypts
	// each to the platform key (the sandbox refuses them in clear), and the
	// demo prints none of them.
	a, err := d.client.Ecommerce.CreateApplyment(ctx, &ecommerce.CreateApplymentRequest{
		OutRequestNo:     d.ec.outRequestNo,
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
		SalesSceneInfo:    ecommerce.SalesSceneInfo{StoreName: "wxpay demo store", StoreURL: "https://shop.example.com/demo"},
		MerchantShortname: "wxpay demo store",
	})
	if err != nil {
		return "", err
	}
	d.ec.applymentID = a.ApplymentID
	d.kv("out_request_no", d.ec.outRequestNo)
	d.kv("applicant", "a personal seller (2500); ID card, bank account and contact encrypted by the client to the platform key")
	st, err := d.client.Ecommerce.QueryApplymentByOutRequestNo(ctx, d.ec.outRequestNo)
	if err != nil {
		return "", err
	}
	if st.ApplymentID != a.ApplymentID {
		return "", fmt.Errorf("the query names application %d, not %d", st.ApplymentID, a.ApplymentID)
	}
	// The sandbox's audit takes a fraction of a second in the demo: on a
	// slow machine it may already have ended.
	if st.ApplymentState != ecommerce.ApplymentStateChecking && st.ApplymentState != ecommerce.ApplymentStateFinish {
		return "", fmt.Errorf("applyment_state is %s", st.ApplymentState)
	}
	return fmt.Sprintf("application %d accepted; query: applyment_state %s (%s)", a.ApplymentID, st.ApplymentState, st.ApplymentStateDesc), nil
}

func (d *demoRun) ecAudit(ctx context.Context) (string, error) {
	d.sb.SettleEcommerce()
	d.kv("simulated by", "the sandbox (SettleEcommerce: WeChat Pay's audit ends)")
	st, err := d.client.Ecommerce.QueryApplymentByID(ctx, d.ec.applymentID)
	if err != nil {
		return "", err
	}
	if st.ApplymentState != ecommerce.ApplymentStateFinish || st.SubMchID == "" {
		return "", fmt.Errorf("applyment_state is %s, sub_mchid %q", st.ApplymentState, st.SubMchID)
	}
	d.ec.sub = st.SubMchID
	d.kv("sign_state", string(st.SignState))
	return fmt.Sprintf("query: applyment_state FINISH (%s): second-level merchant %s", st.ApplymentStateDesc, st.SubMchID), nil
}

func (d *demoRun) ecOrder(ctx context.Context) (string, error) {
	sub := d.outTradeNo + "-1"
	res, err := d.client.Combine.NativePrepay(ctx, &combine.NativePrepayRequest{
		CombineAppID: d.creds.AppID, CombineMchID: d.creds.MchID, CombineOutTradeNo: d.outTradeNo,
		SubOrders: []combine.SubOrder{{
			MchID: d.creds.MchID, SubMchID: d.ec.sub, OutTradeNo: sub, Attach: "wxpay demo", Description: "wxpay demo: T-shirt",
			Amount: combine.Amount{TotalAmount: demoTotal, Currency: "CNY"},
		}},
	})
	if err != nil {
		return "", err
	}
	if res.CodeURL == "" {
		return "", errors.New("the answer has no code_url")
	}
	d.kv("combine_no", d.outTradeNo+" (combine_out_trade_no)")
	d.kv("sub-order", fmt.Sprintf("%s: %s CNY to merchant %s", sub, yuan(demoTotal), d.ec.sub))
	d.kv("code_url", res.CodeURL)
	if !d.noQR {
		fmt.Fprintln(d.out)
		if err := writeQR(d.out, res.CodeURL, "      "); err != nil {
			return "", fmt.Errorf("drawing the QR code: %w", err)
		}
		fmt.Fprintln(d.out)
	}
	return "combined order created: the payer scans code_url", nil
}

func (d *demoRun) ecPay(context.Context) (string, error) {
	txID, err := d.sb.Pay(d.creds.MchID, d.outTradeNo)
	if err != nil {
		return "", err
	}
	d.kv("simulated by", fmt.Sprintf("the sandbox (POST /sandbox/pay {\"mchid\":%q,\"out_trade_no\":%q})", d.creds.MchID, d.outTradeNo))
	return "paid: combine_transaction_id " + txID, nil
}

func (d *demoRun) ecPaymentNotification(ctx context.Context) (string, error) {
	ev, err := d.waitEvent(ctx, combine.EventTransactionSuccess)
	if err != nil {
		return "", err
	}
	tx, ok := ev.Resource.(*combine.Transaction)
	if !ok {
		return "", fmt.Errorf("the resource decoded into %T, not *combine.Transaction", ev.Resource)
	}
	if tx.CombineOutTradeNo != d.outTradeNo || len(tx.SubOrders) != 1 || tx.SubOrders[0].SubMchID != d.ec.sub {
		return "", fmt.Errorf("the notification is about order %s, %d sub-orders", tx.CombineOutTradeNo, len(tx.SubOrders))
	}
	so := tx.SubOrders[0]
	d.ec.txID = so.TransactionID
	d.kv("event", fmt.Sprintf("%s (%s), id %s", ev.EventType, ev.Summary, ev.ID))
	d.kv("resource", fmt.Sprintf("%T: sub-order %s %s, %s %s, transaction_id %s", ev.Resource, so.OutTradeNo, so.TradeState, yuan(so.Amount.TotalAmount), so.Amount.Currency, so.TransactionID))
	avail, pending, err := d.ecBalance(ctx)
	if err != nil {
		return "", err
	}
	if avail != 0 || pending != demoTotal {
		return "", fmt.Errorf("balance: %d available, %d pending; want 0 and %d", avail, pending, demoTotal)
	}
	return "payment notification received and verified; the money is frozen until profit sharing ends", nil
}

func (d *demoRun) ecShare(ctx context.Context) (string, error) {
	if err := d.sb.SetProfitSharingNotifyURL(d.creds.MchID, d.notifyURL); err != nil {
		return "", err
	}
	d.ec.outOrderNo = d.outTradeNo + "-S1"
	ps, err := d.client.Ecommerce.CreateProfitSharingOrder(ctx, &ecommerce.CreateProfitSharingOrderRequest{
		SubMchID: d.ec.sub, TransactionID: d.ec.txID, OutOrderNo: d.ec.outOrderNo, Finish: true,
		Receivers: []ecommerce.ProfitSharingOrderReceiver{{
			Type: ecommerce.ProfitSharingReceiverTypeMerchantID, ReceiverAccount: d.creds.MchID, Amount: demoCommission, Description: "wxpay demo: the platform's commission",
		}},
	})
	if err != nil {
		return "", err
	}
	d.kv("out_order_no", d.ec.outOrderNo)
	d.kv("receiver", fmt.Sprintf("the platform %s gets %s CNY; finish=true releases the rest", d.creds.MchID, yuan(demoCommission)))
	return fmt.Sprintf("profit-sharing order %s accepted: status %s", ps.OrderID, ps.Status), nil
}

func (d *demoRun) ecShareNotification(ctx context.Context) (string, error) {
	ev, err := d.waitEvent(ctx, profitsharing.EventProfitsharing)
	if err != nil {
		return "", err
	}
	n, ok := ev.Resource.(*profitsharing.Notification)
	if !ok {
		return "", fmt.Errorf("the resource decoded into %T, not *profitsharing.Notification", ev.Resource)
	}
	if n.OutOrderNo != d.ec.outOrderNo || n.Receiver.Amount != demoCommission {
		return "", fmt.Errorf("the notification is about %s, %d fen", n.OutOrderNo, n.Receiver.Amount)
	}
	d.kv("event", fmt.Sprintf("%s (%s), id %s", ev.EventType, ev.Summary, ev.ID))
	avail, pending, err := d.ecBalance(ctx)
	if err != nil {
		return "", err
	}
	if avail != demoTotal-demoCommission || pending != 0 {
		return "", fmt.Errorf("balance: %d available, %d pending; want %d and 0", avail, pending, demoTotal-demoCommission)
	}
	return fmt.Sprintf("profit-sharing notification received and verified: %s CNY to %s; the rest is available", yuan(n.Receiver.Amount), n.Receiver.Account), nil
}

func (d *demoRun) ecRefund(ctx context.Context) (string, error) {
	d.outRefundNo = d.outTradeNo + "-R1"
	rf, err := d.client.Ecommerce.CreateRefund(ctx, &ecommerce.CreateRefundRequest{
		SubMchID: d.ec.sub, SpAppID: d.creds.AppID, TransactionID: d.ec.txID, OutRefundNo: d.outRefundNo, Reason: "wxpay demo: wrong size",
		Amount:        ecommerce.CreateRefundAmount{Refund: demoEcRefund, Total: demoTotal, Currency: "CNY"},
		RefundAccount: ecommerce.RefundAccountPartnerAdvance, NotifyURL: d.notifyURL,
	})
	if err != nil {
		return "", err
	}
	d.ec.refundID = rf.RefundID
	d.kv("out_refund_no", d.outRefundNo)
	d.kv("refund_id", rf.RefundID)
	d.kv("advance", fmt.Sprintf("%s CNY paid by the platform (refund_account %s)", yuan(rf.Amount.Advance), rf.RefundAccount))
	return fmt.Sprintf("refund of %s of %s CNY accepted", yuan(rf.Amount.Refund), yuan(demoTotal)), nil
}

func (d *demoRun) ecRefundNotification(ctx context.Context) (string, error) {
	ev, err := d.waitEvent(ctx, refunds.EventSuccess)
	if err != nil {
		return "", err
	}
	rn, ok := ev.Resource.(*refunds.Notification)
	if !ok {
		return "", fmt.Errorf("the resource decoded into %T, not *refunds.Notification", ev.Resource)
	}
	if rn.RefundID != d.ec.refundID || rn.SubMchID != d.ec.sub {
		return "", fmt.Errorf("the notification is about refund %s of %s, not %s of %s", rn.RefundID, rn.SubMchID, d.ec.refundID, d.ec.sub)
	}
	d.kv("event", fmt.Sprintf("%s (%s), id %s", ev.EventType, ev.Summary, ev.ID))
	d.kv("resource", fmt.Sprintf("%T: refund_status %s, %s CNY to %s, refund_account %s", ev.Resource, rn.RefundStatus, yuan(rn.Amount.Refund), rn.UserReceivedAccount, rn.RefundAccount))
	if _, _, err := d.ecBalance(ctx); err != nil {
		return "", err
	}
	return "refund notification received and verified: the platform advanced it, the merchant's balance is untouched", nil
}

func (d *demoRun) ecReturnAdvance(ctx context.Context) (string, error) {
	adv, err := d.client.Ecommerce.ReturnRefundAdvance(ctx, d.ec.refundID, &ecommerce.ReturnRefundAdvanceRequest{SubMchID: d.ec.sub})
	if err != nil {
		return "", err
	}
	d.kv("advance_return", fmt.Sprintf("%s: %s CNY from %s to %s", adv.AdvanceReturnID, yuan(adv.ReturnAmount), adv.PayerMchID, adv.PayeeMchID))
	avail, _, err := d.ecBalance(ctx)
	if err != nil {
		return "", err
	}
	if want := int64(demoTotal - demoCommission - demoEcRefund); avail != want {
		return "", fmt.Errorf("balance: %d available, want %d", avail, want)
	}
	d.ec.left = avail
	return fmt.Sprintf("advance made good: %s", adv.Result), nil
}

func (d *demoRun) ecWithdraw(ctx context.Context) (string, error) {
	no := d.outTradeNo + "-W1"
	w, err := d.client.Ecommerce.CreateWithdraw(ctx, &ecommerce.CreateWithdrawRequest{SubMchID: d.ec.sub, OutRequestNo: no, Amount: d.ec.left, Remark: "wxpay demo: payout"})
	if err != nil {
		return "", err
	}
	ws, err := d.client.Ecommerce.QueryWithdrawByOutRequestNo(ctx, no, &ecommerce.QueryWithdrawByOutRequestNoParams{SubMchID: d.ec.sub})
	if err != nil {
		return "", err
	}
	if ws.WithdrawID != w.WithdrawID || ws.Amount != d.ec.left {
		return "", fmt.Errorf("the query names withdrawal %s of %d fen", ws.WithdrawID, ws.Amount)
	}
	d.kv("out_request_no", no)
	d.kv("withdraw", fmt.Sprintf("%s: %s CNY to %s (…%s), status %s", w.WithdrawID, yuan(ws.Amount), ws.AccountBank, ws.AccountNumber, ws.Status))
	avail, pending, err := d.ecBalance(ctx)
	if err != nil {
		return "", err
	}
	if avail != 0 || pending != 0 {
		return "", fmt.Errorf("balance: %d available, %d pending after the withdrawal", avail, pending)
	}
	return fmt.Sprintf("withdrawal of %s CNY accepted: the merchant's balance is 0", yuan(ws.Amount)), nil
}
