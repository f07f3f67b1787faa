package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gowxpay/wxpay/auth"
	"github.com/gowxpay/wxpay/gen/profitsharing"
	"github.com/gowxpay/wxpay/gen/transfers"
)

// The other stories of the demo (--story): profit sharing and merchant
// transfers, on the sandbox's stateful flows; e-commerce is in
// demo_ecommerce.go.

const (
	storyPayment       = "payment"
	storyProfitSharing = "profitsharing"
	storyTransfer      = "transfer"

	// demoShare is what the profit-sharing story gives the receiver, and
	// demoShareBack what it takes back, in fen.
	demoShare     = 1760
	demoShareBack = 500
	// demoReceiver is the receiving merchant of the profit-sharing story.
	demoReceiver = "1900009999"
	// demoTransfer is the amount of the transfer story, in fen.
	demoTransfer = 520
)

func validStory(s string) bool {
	return s == storyPayment || s == storyProfitSharing || s == storyTransfer || s == storyEcommerce
}

// storySteps returns the steps of the chosen story; nil for the payment
// story.
func (d *demoRun) storySteps() []demoStep {
	switch d.story {
	case storyProfitSharing:
		return []demoStep{
			{"Create a Native order", d.createOrder},
			{"The payer scans the code and pays", d.pay},
			{"Receive the payment notification", d.paymentNotification},
			{"Share part of it with a receiver", d.share},
			{"Receive the profit-sharing notification", d.shareNotification},
			{"Take part of the share back", d.shareReturn},
			{"Release the rest to the merchant", d.unfreeze},
		}
	case storyTransfer:
		return []demoStep{
			{"Transfer money to a user's balance", d.transfer},
			{"The payee confirms receipt", d.confirmTransfer},
			{"Receive the transfer notification", d.transferNotification},
			{"Query the transfer bill", d.queryTransfer},
			{"Transfer again, then cancel it", d.cancelTransfer},
		}
	case storyEcommerce:
		return d.ecommerceSteps()
	}
	return nil
}

// subMchID is the sub-merchant in partner mode, else "".
func (d *demoRun) subMchID() string {
	if d.partner {
		return d.creds.SubMchID
	}
	return ""
}

func (d *demoRun) share(ctx context.Context) (string, error) {
	if err := d.sb.SetProfitSharingNotifyURL(d.creds.MchID, d.notifyURL); err != nil {
		return "", err
	}
	tx, err := d.client.Payments.QueryOrderByOutTradeNo(ctx, d.outTradeNo, nil)
	if err != nil {
		return "", err
	}
	d.txID = tx.TransactionID
	// WeChat Pay shares only with receivers added first; the client
	// encrypts the receiver's name.
	if _, err := d.client.Profitsharing.AddReceiver(ctx, &profitsharing.AddReceiverRequest{
		AppID: d.creds.AppID, SubMchID: d.subMchID(), Type: profitsharing.ReceiverTypeMerchantID, Account: demoReceiver,
		Name: "wxpay demo store", RelationType: profitsharing.RelationTypeStore,
	}); err != nil {
		return "", fmt.Errorf("adding the receiver: %w", err)
	}
	d.outOrderNo = d.outTradeNo + "-S1"
	o, err := d.client.Profitsharing.CreateOrder(ctx, &profitsharing.CreateOrderRequest{
		AppID: d.creds.AppID, SubMchID: d.subMchID(), TransactionID: d.txID, OutOrderNo: d.outOrderNo,
		Receivers: []profitsharing.OrderReceiver{{
			Type: profitsharing.ReceiverTypeMerchantID, Account: demoReceiver, Amount: demoShare, Description: "wxpay demo: the store's share",
		}},
	})
	if err != nil {
		return "", err
	}
	d.kv("out_order_no", d.outOrderNo)
	d.kv("receiver", fmt.Sprintf("merchant %s gets %s CNY", demoReceiver, yuan(demoShare)))
	return fmt.Sprintf("profit-sharing order %s accepted: state %s", o.OrderID, o.State), nil
}

func (d *demoRun) shareNotification(ctx context.Context) (string, error) {
	ev, err := d.waitEvent(ctx, profitsharing.EventProfitsharing)
	if err != nil {
		return "", err
	}
	n, ok := ev.Resource.(*profitsharing.Notification)
	if !ok {
		return "", fmt.Errorf("the resource decoded into %T, not *profitsharing.Notification", ev.Resource)
	}
	if n.OutOrderNo != d.outOrderNo || n.Receiver.Amount != demoShare {
		return "", fmt.Errorf("the notification is about %s, %d fen", n.OutOrderNo, n.Receiver.Amount)
	}
	d.kv("event", fmt.Sprintf("%s (%s), id %s", ev.EventType, ev.Summary, ev.ID))
	left, err := d.client.Profitsharing.QueryUnsplitAmount(ctx, d.txID)
	if err != nil {
		return "", err
	}
	d.kv("unsplit", yuan(left.UnsplitAmount)+" CNY still to share")
	return fmt.Sprintf("profit-sharing notification received and verified: %s CNY to %s", yuan(n.Receiver.Amount), n.Receiver.Account), nil
}

func (d *demoRun) shareReturn(ctx context.Context) (string, error) {
	r, err := d.client.Profitsharing.CreateReturnOrder(ctx, &profitsharing.CreateReturnOrderRequest{
		SubMchID: d.subMchID(), OutOrderNo: d.outOrderNo, OutReturnNo: d.outOrderNo + "-R1",
		ReturnMchID: demoReceiver, Amount: demoShareBack, Description: "wxpay demo: a returned item",
	})
	if err != nil {
		return "", err
	}
	ev, err := d.waitEvent(ctx, profitsharing.EventProfitsharingReturn)
	if err != nil {
		return "", err
	}
	d.kv("event", fmt.Sprintf("%s (%s), id %s", ev.EventType, ev.Summary, ev.ID))
	return fmt.Sprintf("return of %s CNY from %s: %s, then notified", yuan(r.Amount), demoReceiver, r.Result), nil
}

func (d *demoRun) unfreeze(ctx context.Context) (string, error) {
	if _, err := d.client.Profitsharing.UnfreezeOrder(ctx, &profitsharing.UnfreezeOrderRequest{
		SubMchID: d.subMchID(), TransactionID: d.txID, OutOrderNo: d.outOrderNo + "-U1", Description: "wxpay demo: done sharing",
	}); err != nil {
		return "", err
	}
	left, err := d.client.Profitsharing.QueryUnsplitAmount(ctx, d.txID)
	if err != nil {
		return "", err
	}
	if left.UnsplitAmount != 0 {
		return "", fmt.Errorf("%d fen are still frozen after the release", left.UnsplitAmount)
	}
	return "the rest is released to the merchant: nothing left to share", nil
}

func (d *demoRun) transferInput(outBillNo string) *transfers.CreateBillInput {
	return &transfers.CreateBillInput{
		AppID: d.creds.AppID, SubMchID: d.subMchID(), OutBillNo: outBillNo, OpenID: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
		UserName: "张三", TransferAmount: demoTransfer, TransferRemark: "wxpay demo: a reward",
		TransferSceneID:          transfers.SceneIDScene1000,
		TransferSceneReportInfos: []transfers.SceneReportInfo{{InfoType: "活动名称", InfoContent: "wxpay demo"}},
	}
}

func (d *demoRun) transfer(ctx context.Context) (string, error) {
	d.outBillNo = newOrderNo(time.Now())
	b, err := d.client.Transfers.CreateBill(ctx, d.transferInput(d.outBillNo))
	if err != nil {
		return "", err
	}
	if b.PackageInfo == "" {
		return "", errors.New("the answer has no package_info")
	}
	d.kv("out_bill_no", d.outBillNo)
	d.kv("amount", yuan(demoTransfer)+" CNY; user_name encrypted by the client to the platform key")
	d.kv("package_info", "for the app to open WeChat's confirmation page")
	return fmt.Sprintf("transfer bill %s: %s", b.TransferBillNo, b.State), nil
}

func (d *demoRun) confirmTransfer(context.Context) (string, error) {
	if err := d.sb.ConfirmTransfer("", d.outBillNo, ""); err != nil {
		return "", err
	}
	d.kv("simulated by", fmt.Sprintf("the sandbox (POST /sandbox/transfers/confirm {\"out_bill_no\":%q})", d.outBillNo))
	return "the payee confirmed: the money is on its way", nil
}

func (d *demoRun) transferNotification(ctx context.Context) (string, error) {
	ev, err := d.waitEvent(ctx, transfers.EventMchtransferBillFinished)
	if err != nil {
		return "", err
	}
	n, ok := ev.Resource.(*transfers.BillNotification)
	if !ok {
		return "", fmt.Errorf("the resource decoded into %T, not *transfers.BillNotification", ev.Resource)
	}
	if n.OutBillNo != d.outBillNo || n.State != transfers.BillStateSuccess {
		return "", fmt.Errorf("the notification is about %s in state %s", n.OutBillNo, n.State)
	}
	d.kv("event", fmt.Sprintf("%s (%s), id %s", ev.EventType, ev.Summary, ev.ID))
	return "transfer notification received and verified: state SUCCESS", nil
}

func (d *demoRun) queryTransfer(ctx context.Context) (string, error) {
	b, err := d.client.Transfers.QueryBillByOutBillNo(ctx, d.outBillNo, &transfers.QueryBillByOutBillNoInput{SubMchID: d.subMchID()})
	if err != nil {
		return "", err
	}
	name, err := auth.DecryptOAEP(d.creds.PrivateKey, b.UserName)
	if err != nil {
		return "", fmt.Errorf("user_name: %w", err)
	}
	d.kv("user_name", fmt.Sprintf("encrypted to the merchant's key; decrypts to %d characters", len([]rune(name))))
	return fmt.Sprintf("query: state %s, %s CNY", b.State, yuan(b.TransferAmount)), nil
}

func (d *demoRun) cancelTransfer(ctx context.Context) (string, error) {
	no := d.outBillNo + "C"
	if _, err := d.client.Transfers.CreateBill(ctx, d.transferInput(no)); err != nil {
		return "", err
	}
	c, err := d.client.Transfers.CancelBill(ctx, no, &transfers.CancelBillInput{SubMchID: d.subMchID()})
	if err != nil {
		return "", err
	}
	d.kv("out_bill_no", no)
	ev, err := d.waitEvent(ctx, transfers.EventMchtransferBillFinished)
	if err != nil {
		return "", err
	}
	n, _ := ev.Resource.(*transfers.BillNotification)
	if n == nil || n.State != "CANCELLED" {
		return "", fmt.Errorf("the notification says %+v", n)
	}
	return fmt.Sprintf("cancel accepted (%s), then notified: %s", c.State, n.State), nil
}
