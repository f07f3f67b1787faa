package sandbox

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/gowxpay/wxpay/auth"
)

// seedProfitSharing puts a paid order with a FINISHED share of 10 分 to
// the merchant receiver 1900000109 straight into the sandbox state.
func seedProfitSharing(s *Server, cred Credentials) *psOrder {
	o := seedOrder(s, cred, StateSuccess)
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.ps.init()
	p := &psOrder{owner: o.owner, order: o, orderID: "30" + s.st.newTransactionID(now)[2:], outOrderNo: uniqueNo("PS"), state: "FINISHED",
		notifier: s.merchants[cred.MchID]}
	p.receivers = []*psShare{{typ: "MERCHANT_ID", account: "1900000109", description: "seeded", amount: 10, result: "SUCCESS",
		detailID: "36" + s.st.newTransactionID(now)[2:], created: now, finished: now}}
	s.st.ps.shared[o.transactionID] += 10
	s.st.ps.orders[ownerKey(p.owner, p.outOrderNo)] = p
	s.st.ps.byID[p.orderID] = p
	return p
}

func init() {
	fixups["CreateProfitSharingOrder"] = func(s *Server, rq *opRequest) {
		o := seedOrder(s, rq.cred, StateSuccess)
		s.AddProfitSharingReceiver(o.owner, "MERCHANT_ID", "1900000109")
		rq.body["transaction_id"] = o.transactionID
		rq.body["receivers"] = []any{map[string]any{"type": "MERCHANT_ID", "account": "1900000109", "amount": 10, "description": "a share"}}
	}
	fixups["UnfreezeProfitSharingOrder"] = func(s *Server, rq *opRequest) {
		rq.body["transaction_id"] = seedOrder(s, rq.cred, StateSuccess).transactionID
	}
	fixups["QueryProfitSharingUnsplitAmount"] = func(s *Server, rq *opRequest) {
		rq.pathParams["transaction_id"] = seedOrder(s, rq.cred, StateSuccess).transactionID
	}
	fixups["QueryProfitSharingOrder"] = func(s *Server, rq *opRequest) {
		p := seedProfitSharing(s, rq.cred)
		rq.pathParams["out_order_no"] = p.outOrderNo
		rq.query.Set("transaction_id", p.order.transactionID)
	}
	fixups["CreateProfitSharingReturnOrder"] = func(s *Server, rq *opRequest) {
		p := seedProfitSharing(s, rq.cred)
		rq.body["order_id"], rq.body["out_order_no"] = p.orderID, p.outOrderNo
		rq.body["return_mchid"], rq.body["amount"] = "1900000109", 1
	}
	fixups["QueryProfitSharingReturnOrder"] = func(s *Server, rq *opRequest) {
		p := seedProfitSharing(s, rq.cred)
		now := s.now()
		r := &psReturn{owner: p.owner, ps: p, returnID: "3099", outReturnNo: uniqueNo("R"), returnMchID: "1900000109", amount: 1,
			description: "seeded", result: "SUCCESS", created: now, finished: now, notifier: p.notifier}
		s.mu.Lock()
		s.st.ps.returns[ownerKey(p.owner, r.outReturnNo)] = r
		s.mu.Unlock()
		rq.pathParams["out_return_no"] = r.outReturnNo
		rq.query.Set("out_order_no", p.outOrderNo)
	}
}

// TestProfitSharingFlow: share part of a paid order, see it finish with a
// PROFITSHARING notification, take some back (PROFITSHARING_RETURN),
// release the rest, and find nothing left to share, in both modes.
func TestProfitSharingFlow(t *testing.T) {
	rv := newReceiver(t)
	s := newServer(t, WithTimeScale(0.001), WithRefundDelay(time.Second))
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	for _, cred := range []Credentials{s.Merchant(), s.Partner()} {
		if err := s.SetProfitSharingNotifyURL(cred.MchID, rv.URL+"/ps"); err != nil {
			t.Fatal(err)
		}
		sg := signer{cred: cred}
		o := seedOrder(s, cred, StateSuccess) // 100 分
		sub := func(m map[string]any) map[string]any {
			if cred.PartnerMode {
				m["sub_mchid"] = cred.SubMchID
			}
			return m
		}
		q := ""
		if cred.PartnerMode {
			q = "?sub_mchid=" + cred.SubMchID
		}
		unsplit := func() int64 {
			t.Helper()
			r := send(t, s.Handler(), sg, "GET", "/v3/profitsharing/transactions/"+o.transactionID+"/amounts", nil)
			if r.status != 200 {
				t.Fatalf("unsplit: %d %s", r.status, r.body)
			}
			n, _ := num(r.json(t), "unsplit_amount")
			return n
		}
		if n := unsplit(); n != 100 {
			t.Fatalf("before sharing: unsplit %d", n)
		}
		share := func(outNo string, amount int) map[string]any {
			return sub(map[string]any{"appid": cred.AppID, "transaction_id": o.transactionID, "out_order_no": outNo, "unfreeze_unsplit": false,
				"receivers": []any{map[string]any{"type": "MERCHANT_ID", "account": "1900009999", "amount": amount, "description": "store"}}})
		}
		// Not on the receiver list yet: refused, as WeChat Pay refuses it.
		if r := send(t, s.Handler(), sg, "POST", "/v3/profitsharing/orders", share(uniqueNo("PS"), 30)); r.status != 400 || r.code() != "RECEIVER_INVALID" {
			t.Fatalf("sharing with an unknown receiver: %d %s", r.status, r.body)
		}
		platform := s.ring.current(s.now())
		name, err := auth.EncryptOAEP(&platform.key.PublicKey, "示例商户")
		if err != nil {
			t.Fatal(err)
		}
		add := sub(map[string]any{"appid": cred.AppID, "type": "MERCHANT_ID", "account": "1900009999", "name": name, "relation_type": "STORE"})
		if r := send(t, s.Handler(), sg, "POST", "/v3/profitsharing/receivers/add", add, withSerial(platform.serial)); r.status != 200 {
			t.Fatalf("add receiver: %d %s", r.status, r.body)
		}
		outNo := uniqueNo("PS")
		r := send(t, s.Handler(), sg, "POST", "/v3/profitsharing/orders", share(outNo, 30))
		if r.status != 200 || r.json(t)["state"] != "PROCESSING" {
			t.Fatalf("create: %d %s", r.status, r.body)
		}
		// Over the rest: refused.
		if r := send(t, s.Handler(), sg, "POST", "/v3/profitsharing/orders", share(uniqueNo("PS"), 71)); r.status != 400 || r.code() != "NOT_ENOUGH" {
			t.Fatalf("over-sharing: %d %s", r.status, r.body)
		}
		d, err := s.WaitDelivery(ctx, func(d Delivery) bool {
			return d.EventType == "PROFITSHARING" && d.OutTradeNo == o.outTradeNo && d.Status == DeliveryDelivered
		})
		if err != nil {
			t.Fatal(err)
		}
		var res map[string]any
		_ = json.Unmarshal(d.Resource, &res)
		if amt, _ := num(res, "receiver", "amount"); amt != 30 || (cred.PartnerMode && res["sub_mchid"] != cred.SubMchID) || (!cred.PartnerMode && res["mchid"] != cred.MchID) {
			t.Fatalf("PROFITSHARING resource %s", d.Resource)
		}
		r = send(t, s.Handler(), sg, "GET", "/v3/profitsharing/orders/"+outNo+q+sep(q)+"transaction_id="+o.transactionID, nil)
		if r.status != 200 || r.json(t)["state"] != "FINISHED" {
			t.Fatalf("query: %d %s", r.status, r.body)
		}
		if n := unsplit(); n != 70 {
			t.Fatalf("after sharing 30: unsplit %d", n)
		}
		// Take 10 back from the receiver.
		rn := uniqueNo("R")
		ret := sub(map[string]any{"out_order_no": outNo, "out_return_no": rn, "return_mchid": "1900009999", "amount": 10, "description": "back"})
		if r := send(t, s.Handler(), sg, "POST", "/v3/profitsharing/return-orders", ret); r.status != 200 || r.json(t)["result"] != "PROCESSING" {
			t.Fatalf("return: %d %s", r.status, r.body)
		}
		if _, err := s.WaitDelivery(ctx, func(d Delivery) bool { return d.EventType == "PROFITSHARING_RETURN" && d.OutTradeNo == o.outTradeNo }); err != nil {
			t.Fatal(err)
		}
		r = send(t, s.Handler(), sg, "GET", "/v3/profitsharing/return-orders/"+rn+q+sep(q)+"out_order_no="+outNo, nil)
		if r.status != 200 || r.json(t)["result"] != "SUCCESS" {
			t.Fatalf("return query: %d %s", r.status, r.body)
		}
		// More than was shared to it: refused.
		big := sub(map[string]any{"out_order_no": outNo, "out_return_no": uniqueNo("R"), "return_mchid": "1900009999", "amount": 21, "description": "back"})
		if r := send(t, s.Handler(), sg, "POST", "/v3/profitsharing/return-orders", big); r.status != 400 {
			t.Fatalf("over-return: %d %s", r.status, r.body)
		}
		// Release the rest.
		un := sub(map[string]any{"transaction_id": o.transactionID, "out_order_no": uniqueNo("UF"), "description": "done"})
		if r := send(t, s.Handler(), sg, "POST", "/v3/profitsharing/orders/unfreeze", un); r.status != 200 {
			t.Fatalf("unfreeze: %d %s", r.status, r.body)
		}
		if n := unsplit(); n != 0 {
			t.Fatalf("after unfreezing: unsplit %d", n)
		}
	}
}

func sep(q string) string {
	if q == "" {
		return "?"
	}
	return "&"
}
