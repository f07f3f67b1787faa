package sandbox

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/gowxpay/wxpay/auth"
)

// seedComplaint files a complaint about a seeded paid order.
func seedComplaint(s *Server, cred Credentials) *complaint {
	o := seedOrder(s, cred, StateSuccess)
	id, err := s.FileComplaint(o.owner, o.outTradeNo, "")
	if err != nil {
		panic(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.cp.complaints[id]
}

func init() {
	byID := func(state string) func(s *Server, rq *opRequest) {
		return func(s *Server, rq *opRequest) {
			cp := seedComplaint(s, rq.cred)
			s.mu.Lock()
			cp.state = state
			s.mu.Unlock()
			rq.pathParams["complaint_id"] = cp.id
			if rq.body != nil {
				rq.body["complainted_mchid"] = cp.mchid
			}
		}
	}
	fixups["QueryComplaint"] = byID("PENDING")
	fixups["RespondToComplaint"] = byID("PENDING")
	fixups["CompleteComplaint"] = byID("PROCESSING")
	fixups["ListComplaints"] = func(s *Server, rq *opRequest) {
		for range ListSize {
			seedComplaint(s, rq.cred)
		}
		rq.query.Del("complainted_mchid")
	}
	fixups["QueryComplaintNotification"] = func(s *Server, rq *opRequest) {
		s.mu.Lock()
		s.st.cp.init()
		s.st.cp.notify[rq.cred.MchID] = "https://example.com/complaints"
		s.mu.Unlock()
	}
}

// TestComplaintFlow: register the notification URL, a payer complains
// (COMPLAINT.CREATE), the merchant queries (payer_phone encrypted to its
// key), replies and completes (COMPLAINT.STATE_CHANGE), direct and as a
// service provider for a sub-merchant.
func TestComplaintFlow(t *testing.T) {
	rv := newReceiver(t)
	s := newServer(t, WithTimeScale(0.001))
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	for _, cred := range []Credentials{s.Merchant(), s.Partner()} {
		sg := signer{cred: cred}
		if r := send(t, s.Handler(), sg, "POST", "/v3/merchant-service/complaint-notifications", map[string]any{"url": rv.URL + "/complaints"}); r.status != 200 {
			t.Fatalf("register: %d %s", r.status, r.body)
		}
		if r := send(t, s.Handler(), sg, "GET", "/v3/merchant-service/complaint-notifications", nil); r.status != 200 || r.json(t)["url"] != rv.URL+"/complaints" {
			t.Fatalf("query url: %d %s", r.status, r.body)
		}
		o := seedOrder(s, cred, StateSuccess)
		id, err := s.FileComplaint("", o.outTradeNo, "没收到货")
		if err != nil {
			t.Fatal(err)
		}
		wait := func(action string) {
			t.Helper()
			if _, err := s.WaitDelivery(ctx, func(d Delivery) bool {
				var res map[string]any
				_ = json.Unmarshal(d.Resource, &res)
				return res["complaint_id"] == id && res["action_type"] == action && d.Status == DeliveryDelivered
			}); err != nil {
				t.Fatalf("%s: %v", action, err)
			}
		}
		wait("CREATE_COMPLAINT")
		r := send(t, s.Handler(), sg, "GET", "/v3/merchant-service/complaints-v2/"+id, nil)
		if r.status != 200 || r.json(t)["complaint_state"] != "PENDING" || r.json(t)["complainted_mchid"] != o.owner {
			t.Fatalf("query: %d %s", r.status, r.body)
		}
		if phone, err := auth.DecryptOAEP(cred.PrivateKey, r.json(t)["payer_phone"].(string)); err != nil || phone == "" {
			t.Fatalf("payer_phone does not decrypt with the merchant key: %v", err)
		}
		list := send(t, s.Handler(), sg, "GET", "/v3/merchant-service/complaints-v2?begin_date=2020-01-01&end_date=2020-01-30&limit=5&offset=0", nil)
		if n, _ := num(list.json(t), "total_count"); list.status != 200 || n != 1 {
			t.Fatalf("list: %d %s", list.status, list.body)
		}
		if r := send(t, s.Handler(), sg, "POST", "/v3/merchant-service/complaints-v2/"+id+"/complete", map[string]any{"complainted_mchid": o.owner}); r.status != 400 {
			t.Fatalf("completing an unanswered complaint: %d %s", r.status, r.body)
		}
		if r := send(t, s.Handler(), sg, "POST", "/v3/merchant-service/complaints-v2/"+id+"/response", map[string]any{"complainted_mchid": o.owner, "response_content": "已补发"}); r.status != 204 && r.status != 200 {
			t.Fatalf("respond: %d %s", r.status, r.body)
		}
		wait("MERCHANT_RESPONSE")
		if r := send(t, s.Handler(), sg, "POST", "/v3/merchant-service/complaints-v2/"+id+"/complete", map[string]any{"complainted_mchid": o.owner}); r.status != 204 && r.status != 200 {
			t.Fatalf("complete: %d %s", r.status, r.body)
		}
		wait("MERCHANT_CONFIRM_COMPLETE")
		if st, _ := s.ComplaintState(id); st != "PROCESSED" {
			t.Fatalf("state %s", st)
		}
	}
	// Another merchant does not see it.
	other := send(t, s.Handler(), signer{cred: s.Merchant()}, "GET", "/v3/merchant-service/complaints-v2/nonexistent", nil)
	if other.status != 404 {
		t.Fatalf("unknown complaint: %d", other.status)
	}
}
