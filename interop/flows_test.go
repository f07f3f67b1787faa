package interop

import (
	"context"
	"fmt"
	"testing"

	"github.com/wechatpay-apiv3/wechatpay-go/core"
	partnernative "github.com/wechatpay-apiv3/wechatpay-go/services/partnerpayments/native"
	paymentsnative "github.com/wechatpay-apiv3/wechatpay-go/services/payments/native"
	"github.com/wechatpay-apiv3/wechatpay-go/services/refunddomestic"

	"github.com/gowxpay/wxpay/sandbox"
)

// refund is a refund created through the official SDK.
type refund struct{ outRefundNo, refundID string }

// newRefund refunds 1 分 of a paid order through the official SDK.
func (e *env) newRefund(t *testing.T, o *official, od order) refund {
	t.Helper()
	rf := refund{outRefundNo: uniqueNo("IRF")}
	req := refunddomestic.CreateRequest{
		OutTradeNo: core.String(od.outTradeNo), OutRefundNo: core.String(rf.outRefundNo), NotifyUrl: core.String(e.notifyFor(o)),
		Amount: &refunddomestic.AmountReq{Refund: core.Int64(1), Total: core.Int64(od.total), Currency: core.String("CNY")},
	}
	if o.cred.PartnerMode {
		req.SubMchid = core.String(o.cred.SubMchID)
	}
	resp, res, err := (&refunddomestic.RefundsApiService{Client: o.client}).Create(context.Background(), req)
	if err != nil {
		t.Fatalf("official refund: %v", callErr(res, err))
	}
	rf.refundID = *resp.RefundId
	return rf
}

// queryState asks the official SDK for an order's trade_state.
func (e *env) queryState(t *testing.T, o *official, outTradeNo string) string {
	t.Helper()
	ctx := context.Background()
	if o.cred.PartnerMode {
		tx, res, err := (&partnernative.NativeApiService{Client: o.client}).QueryOrderByOutTradeNo(ctx, partnernative.QueryOrderByOutTradeNoRequest{
			OutTradeNo: core.String(outTradeNo), SpMchid: core.String(o.cred.MchID), SubMchid: core.String(o.cred.SubMchID)})
		if err != nil {
			t.Fatalf("official query: %v", callErr(res, err))
		}
		return *tx.TradeState
	}
	tx, res, err := (&paymentsnative.NativeApiService{Client: o.client}).QueryOrderByOutTradeNo(ctx, paymentsnative.QueryOrderByOutTradeNoRequest{
		OutTradeNo: core.String(outTradeNo), Mchid: core.String(o.cred.MchID)})
	if err != nil {
		t.Fatalf("official query: %v", callErr(res, err))
	}
	return *tx.TradeState
}

// waitNotification waits for a notification of an event type about a
// resource field's value, parsed by the official notify handler.
func (e *env) waitNotification(t *testing.T, event, field, value string) received {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	r, err := e.sink.wait(ctx, func(r received) bool {
		return r.req.EventType == event && r.content[field] == value
	})
	if err != nil {
		t.Fatalf("no %s notification for %s=%s parsed by the official handler (%v); handler errors: %v", event, field, value, err, e.sink.errors())
	}
	return r
}

// TestOfficialSDKPaymentFlow: an order, its payment, a refund and a closed
// order, direct and partner, in both key modes, through the official SDK;
// every notification verified and decrypted by its notify handler.
func TestOfficialSDKPaymentFlow(t *testing.T) {
	total := 0
	for _, mode := range []sandbox.KeyMode{sandbox.CertificateMode, sandbox.PublicKeyMode} {
		t.Run(mode.String(), func(t *testing.T) {
			e := newEnv(t, mode)
			for _, o := range []*official{e.direct, e.partner} {
				for i := 0; i < 2; i++ {
					od := e.newOrder(t, o, false)
					if st := e.queryState(t, o, od.outTradeNo); st != "NOTPAY" {
						t.Fatalf("a new order is %s", st)
					}
					txID, err := e.sb.Pay("", od.outTradeNo)
					if err != nil {
						t.Fatal(err)
					}
					n := e.waitNotification(t, "TRANSACTION.SUCCESS", "out_trade_no", od.outTradeNo)
					if n.content["transaction_id"] != txID || n.content["trade_state"] != "SUCCESS" || n.req.Resource.OriginalType != "transaction" {
						t.Fatalf("TRANSACTION.SUCCESS %v", n.content)
					}
					if st := e.queryState(t, o, od.outTradeNo); st != "SUCCESS" {
						t.Fatalf("a paid order is %s", st)
					}
					od.transactionID = txID
					rf := e.newRefund(t, o, od)
					e.waitNotification(t, "REFUND.SUCCESS", "out_refund_no", rf.outRefundNo)
					q := refunddomestic.QueryByOutRefundNoRequest{OutRefundNo: core.String(rf.outRefundNo)}
					if o.cred.PartnerMode {
						q.SubMchid = core.String(o.cred.SubMchID)
					}
					got, res, err := (&refunddomestic.RefundsApiService{Client: o.client}).QueryByOutRefundNo(context.Background(), q)
					if err != nil || *got.Status != refunddomestic.STATUS_SUCCESS {
						t.Fatalf("refund query: %v %v", callErr(res, err), got)
					}
					total += 2
				}
				closed := e.newOrder(t, o, false)
				if o.cred.PartnerMode {
					_, err := (&partnernative.NativeApiService{Client: o.client}).CloseOrder(context.Background(), partnernative.CloseOrderRequest{
						OutTradeNo: core.String(closed.outTradeNo), SpMchid: core.String(o.cred.MchID), SubMchid: core.String(o.cred.SubMchID)})
					if err != nil {
						t.Fatal(callErr(nil, err))
					}
				} else {
					_, err := (&paymentsnative.NativeApiService{Client: o.client}).CloseOrder(context.Background(), paymentsnative.CloseOrderRequest{
						OutTradeNo: core.String(closed.outTradeNo), Mchid: core.String(o.cred.MchID)})
					if err != nil {
						t.Fatal(callErr(nil, err))
					}
				}
				if st := e.queryState(t, o, closed.outTradeNo); st != "CLOSED" {
					t.Fatalf("a closed order is %s", st)
				}
			}
			if errs := e.sink.errors(); len(errs) > 0 {
				t.Fatalf("the official notify handler refused %d notifications: %v", len(errs), errs[0])
			}
		})
	}
	fmt.Printf("interop summary: %d payment and refund notifications verified and decrypted by the official notify handler\n", total)
}
