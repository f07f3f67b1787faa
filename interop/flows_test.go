package interop

import (
	"context"
	"testing"

	"github.com/wechatpay-apiv3/wechatpay-go/core"
	"github.com/wechatpay-apiv3/wechatpay-go/services/refunddomestic"
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
