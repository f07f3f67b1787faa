package sandbox

import (
	"context"
	"encoding/json"
	"testing"
	"time"
)

// seedPayscore puts a payscore order straight into the sandbox state.
func seedPayscore(s *Server, cred Credentials, state, desc string) *scOrder {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st.sc.orders == nil {
		s.st.sc.orders = map[string]*scOrder{}
	}
	o := &scOrder{partner: cred.PartnerMode, mchid: cred.MchID, appid: cred.AppID, owner: cred.MchID, outOrderNo: uniqueNo("SC"),
		orderID: "1000000000" + s.st.newTransactionID(now)[10:], serviceID: "500001", intro: "seeded", state: state, stateDesc: desc,
		openid: openID(cred.AppID), total: 100, created: now, notifier: s.merchants[cred.MchID]}
	if cred.PartnerMode {
		o.subMchID, o.owner = cred.SubMchID, cred.SubMchID
	}
	s.st.sc.orders[ownerKey(o.owner, o.outOrderNo)] = o
	return o
}

func init() {
	seed := func(state, desc string) func(s *Server, rq *opRequest) {
		return func(s *Server, rq *opRequest) {
			rq.pathParams["out_order_no"] = seedPayscore(s, rq.cred, state, desc).outOrderNo
		}
	}
	query := func(s *Server, rq *opRequest) {
		rq.query.Del("query_id")
		rq.query.Set("out_order_no", seedPayscore(s, rq.cred, "CREATED", "").outOrderNo)
	}
	for _, p := range []string{"", "Partner"} {
		fixups[p+"QueryPayscoreOrder"] = query
		fixups[p+"CancelPayscoreOrder"] = seed("CREATED", "")
		fixups[p+"CompletePayscoreOrder"] = seed("DOING", "USER_CONFIRM")
		fixups[p+"CollectPayscoreOrder"] = seed("DOING", "MCH_COMPLETE")
	}
}

// TestPayscoreFlow: create, the user confirms (PAYSCORE.USER_CONFIRM),
// complete, WeChat Pay collects (PAYSCORE.USER_PAID, DONE); a cancel; in
// both modes.
func TestPayscoreFlow(t *testing.T) {
	rv := newReceiver(t)
	s := newServer(t, WithTimeScale(0.001), WithRefundDelay(time.Second))
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	for _, cred := range []Credentials{s.Merchant(), s.Partner()} {
		sg := signer{cred: cred}
		base, q := "/v3/payscore/serviceorder", ""
		body := func(no string) map[string]any {
			b := map[string]any{"out_order_no": no, "appid": cred.AppID, "service_id": "500001", "service_introduction": "充电宝租借",
				"time_range": map[string]any{"start_time": "OnAccept"}, "risk_fund": map[string]any{"name": "DEPOSIT", "amount": 9900},
				"notify_url": rv.URL + "/payscore"}
			if cred.PartnerMode {
				b["sub_mchid"] = cred.SubMchID
			}
			return b
		}
		if cred.PartnerMode {
			base, q = "/v3/payscore/partner/serviceorder", "&sub_mchid="+cred.SubMchID
		}
		no := uniqueNo("SCF")
		r := send(t, s.Handler(), sg, "POST", base, body(no))
		if r.status != 200 || r.json(t)["state"] != "CREATED" || r.json(t)["package"] == nil {
			t.Fatalf("create: %d %s", r.status, r.body)
		}
		if err := s.ConfirmPayscore("", no); err != nil {
			t.Fatal(err)
		}
		waitEvent := func(event string) map[string]any {
			t.Helper()
			d, err := s.WaitDelivery(ctx, func(d Delivery) bool {
				return d.EventType == event && containsJSON(d.Resource, no) && d.Status == DeliveryDelivered
			})
			if err != nil {
				t.Fatalf("%s: %v", event, err)
			}
			var res map[string]any
			_ = json.Unmarshal(d.Resource, &res)
			return res
		}
		if res := waitEvent("PAYSCORE.USER_CONFIRM"); res["state"] != "DOING" || res["state_description"] != "USER_CONFIRM" {
			t.Fatalf("USER_CONFIRM %v", res)
		}
		complete := map[string]any{"appid": cred.AppID, "service_id": "500001", "total_amount": 300,
			"post_payments": []any{map[string]any{"name": "租借费", "amount": 300}}, "time_range": map[string]any{"end_time": "20261202120000"}}
		if cred.PartnerMode {
			complete["sub_mchid"] = cred.SubMchID
		}
		if r := send(t, s.Handler(), sg, "POST", base+"/"+no+"/complete", complete); r.status/100 != 2 {
			t.Fatalf("complete: %d %s", r.status, r.body)
		}
		if res := waitEvent("PAYSCORE.USER_PAID"); res["state"] != "DONE" {
			t.Fatalf("USER_PAID %v", res)
		}
		r = send(t, s.Handler(), sg, "GET", base+"?service_id=500001&out_order_no="+no+"&appid="+cred.AppID+q, nil)
		if r.status != 200 || r.json(t)["state"] != "DONE" {
			t.Fatalf("query: %d %s", r.status, r.body)
		}
		// Another order, cancelled before the user confirms.
		cx := uniqueNo("SCX")
		send(t, s.Handler(), sg, "POST", base, body(cx))
		cancelBody := map[string]any{"appid": cred.AppID, "service_id": "500001", "reason": "用户不需要了"}
		if cred.PartnerMode {
			cancelBody["sub_mchid"] = cred.SubMchID
		}
		if r := send(t, s.Handler(), sg, "POST", base+"/"+cx+"/cancel", cancelBody); r.status/100 != 2 {
			t.Fatalf("cancel: %d %s", r.status, r.body)
		}
		if err := s.ConfirmPayscore("", cx); err == nil {
			t.Fatal("a revoked order was confirmed")
		}
	}
}
