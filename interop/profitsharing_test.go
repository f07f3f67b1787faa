package interop

import (
	"context"
	"testing"

	"github.com/wechatpay-apiv3/wechatpay-go/core"
	"github.com/wechatpay-apiv3/wechatpay-go/services/profitsharing"

	"github.com/gowxpay/wxpay/sandbox"
)

// receiverMchID is the merchant receiver of the interop shares.
const receiverMchID = "1900009999"

// share is a profit-sharing order created through the official SDK.
type share struct {
	od                  order
	outOrderNo, orderID string
}

// newShare pays an order and shares 30 分 of it with receiverMchID
// through the official SDK.
func (e *env) newShare(t *testing.T, o *official) share {
	t.Helper()
	sh := share{od: e.newOrder(t, o, true), outOrderNo: uniqueNo("IPS")}
	e.addReceiver(t, o)
	req := profitsharing.CreateOrderRequest{
		Appid: core.String(o.cred.AppID), TransactionId: core.String(sh.od.transactionID), OutOrderNo: core.String(sh.outOrderNo),
		UnfreezeUnsplit: core.Bool(false),
		Receivers: []profitsharing.CreateOrderReceiver{{
			Type: core.String("MERCHANT_ID"), Account: core.String(receiverMchID), Amount: core.Int64(30),
			Description: core.String("store"), Name: core.String("示例商户"),
		}},
	}
	if o.cred.PartnerMode {
		req.SubMchid = core.String(o.cred.SubMchID)
	}
	got, res, err := (&profitsharing.OrdersApiService{Client: o.client}).CreateOrder(context.Background(), req)
	if err != nil {
		t.Fatalf("official profit-sharing order: %v", callErr(res, err))
	}
	sh.orderID = *got.OrderId
	return sh
}

// addReceiver puts receiverMchID on the merchant's receiver list through
// the official SDK, which encrypts the name and decrypts the answer's.
func (e *env) addReceiver(t *testing.T, o *official) {
	t.Helper()
	req := profitsharing.AddReceiverRequest{Appid: core.String(o.cred.AppID), Type: profitsharing.RECEIVERTYPE_MERCHANT_ID.Ptr(),
		Account: core.String(receiverMchID), Name: core.String("示例商户"), RelationType: profitsharing.RECEIVERRELATIONTYPE_STORE.Ptr()}
	if o.cred.PartnerMode {
		req.SubMchid = core.String(o.cred.SubMchID)
	}
	got, res, err := (&profitsharing.ReceiversApiService{Client: o.client}).AddReceiver(context.Background(), req)
	if err != nil {
		t.Fatalf("official add receiver: %v", callErr(res, err))
	}
	if got.Name == nil || *got.Name != "示例商户" {
		t.Fatalf("the official SDK decrypted the receiver's name to %v", got.Name)
	}
}

// newShareReturn takes 1 分 back from receiverMchID.
func (e *env) newShareReturn(t *testing.T, o *official, sh share) string {
	t.Helper()
	no := uniqueNo("IPR")
	req := profitsharing.CreateReturnOrderRequest{OutOrderNo: core.String(sh.outOrderNo), OutReturnNo: core.String(no),
		ReturnMchid: core.String(receiverMchID), Amount: core.Int64(1), Description: core.String("back")}
	if o.cred.PartnerMode {
		req.SubMchid = core.String(o.cred.SubMchID)
	}
	if _, res, err := (&profitsharing.ReturnOrdersApiService{Client: o.client}).CreateReturnOrder(context.Background(), req); err != nil {
		t.Fatalf("official profit-sharing return: %v", callErr(res, err))
	}
	return no
}

func init() {
	fixups["CreateProfitSharingOrder"] = func(t *testing.T, e *env, o *official, rq *sandbox.SampleRequest) {
		e.addReceiver(t, o)
		rq.Body["transaction_id"] = e.newOrder(t, o, true).transactionID
		rq.Body["receivers"] = []any{map[string]any{"type": "MERCHANT_ID", "account": receiverMchID, "amount": 10, "description": "a share", "name": "示例商户"}}
	}
	fixups["UnfreezeProfitSharingOrder"] = func(t *testing.T, e *env, o *official, rq *sandbox.SampleRequest) {
		rq.Body["transaction_id"] = e.newOrder(t, o, true).transactionID
	}
	fixups["QueryProfitSharingUnsplitAmount"] = func(t *testing.T, e *env, o *official, rq *sandbox.SampleRequest) {
		rq.Params["transaction_id"] = e.newOrder(t, o, true).transactionID
	}
	fixups["QueryProfitSharingOrder"] = func(t *testing.T, e *env, o *official, rq *sandbox.SampleRequest) {
		sh := e.newShare(t, o)
		rq.Params["out_order_no"], rq.Params["transaction_id"] = sh.outOrderNo, sh.od.transactionID
	}
	fixups["CreateProfitSharingReturnOrder"] = func(t *testing.T, e *env, o *official, rq *sandbox.SampleRequest) {
		sh := e.newShare(t, o)
		delete(rq.Body, "order_id")
		rq.Body["out_order_no"], rq.Body["return_mchid"], rq.Body["amount"] = sh.outOrderNo, receiverMchID, 1
	}
	fixups["QueryProfitSharingReturnOrder"] = func(t *testing.T, e *env, o *official, rq *sandbox.SampleRequest) {
		sh := e.newShare(t, o)
		rq.Params["out_return_no"], rq.Params["out_order_no"] = e.newShareReturn(t, o, sh), sh.outOrderNo
	}
}

// TestOfficialSDKProfitSharingFlow: a share and a return through the
// official SDK, direct and partner, in both key modes; the PROFITSHARING
// and PROFITSHARING_RETURN notifications parsed by its notify handler; the
// unsplit amount follows.
func TestOfficialSDKProfitSharingFlow(t *testing.T) {
	for _, mode := range []sandbox.KeyMode{sandbox.CertificateMode, sandbox.PublicKeyMode} {
		t.Run(mode.String(), func(t *testing.T) {
			e := newEnv(t, mode)
			ctx := context.Background()
			for _, o := range []*official{e.direct, e.partner} {
				if err := e.sb.SetProfitSharingNotifyURL(o.cred.MchID, e.notifyFor(o)); err != nil {
					t.Fatal(err)
				}
				sh := e.newShare(t, o)
				n := e.waitNotification(t, "PROFITSHARING", "out_order_no", sh.outOrderNo)
				rcv, _ := n.content["receiver"].(map[string]any)
				if rcv["account"] != receiverMchID || rcv["amount"] != float64(30) || n.content["transaction_id"] != sh.od.transactionID {
					t.Fatalf("PROFITSHARING %v", n.content)
				}
				q := profitsharing.QueryOrderRequest{OutOrderNo: core.String(sh.outOrderNo), TransactionId: core.String(sh.od.transactionID)}
				if o.cred.PartnerMode {
					q.SubMchid = core.String(o.cred.SubMchID)
				}
				got, res, err := (&profitsharing.OrdersApiService{Client: o.client}).QueryOrder(ctx, q)
				if err != nil || *got.State != profitsharing.ORDERSTATUS_FINISHED {
					t.Fatalf("query: %v %v", callErr(res, err), got)
				}
				amt, res, err := (&profitsharing.TransactionsApiService{Client: o.client}).QueryOrderAmount(ctx,
					profitsharing.QueryOrderAmountRequest{TransactionId: core.String(sh.od.transactionID)})
				if err != nil || *amt.UnsplitAmount != sh.od.total-30 {
					t.Fatalf("unsplit: %v %v", callErr(res, err), amt)
				}
				rn := e.newShareReturn(t, o, sh)
				e.waitNotification(t, "PROFITSHARING_RETURN", "out_order_no", rn)
			}
			if errs := e.sink.errors(); len(errs) > 0 {
				t.Fatalf("the official notify handler refused a notification: %v", errs[0])
			}
		})
	}
}
