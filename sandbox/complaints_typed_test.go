package sandbox

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/gowxpay/wxpay/core"
	"github.com/gowxpay/wxpay/gen/complaints"
)

// TestComplaintTyped runs a complaint end to end through the typed client:
// register the URL, a payer complains, COMPLAINT.CREATE through the
// client's callback handler, query, reply, complete, COMPLAINT.STATE_CHANGE.
func TestComplaintTyped(t *testing.T) {
	s := newServer(t, WithTimeScale(0.001))
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	cfg, client, events, rv := flowClient(t, s.Merchant(), ts.URL)
	cs := client.Complaints
	if _, err := cs.CreateNotification(ctx, &complaints.NotifyURLRequest{URL: rv.URL + "/complaints"}); err != nil {
		t.Fatal(err)
	}
	o := seedOrder(s, s.Merchant(), StateSuccess)
	id, err := s.FileComplaint("", o.outTradeNo, "没收到货")
	if err != nil {
		t.Fatal(err)
	}
	next := func(event string) *complaints.Notification {
		t.Helper()
		for {
			select {
			case ev := <-events:
				if n, ok := ev.Resource.(*complaints.Notification); ok && ev.EventType == event && n.ComplaintID == id {
					return n
				}
			case <-ctx.Done():
				t.Fatalf("no %s notification", event)
			}
		}
	}
	next(complaints.EventCreate)
	got, err := cs.Query(ctx, id)
	if err != nil || got.ComplaintState != "PENDING" || got.ComplaintedMchID != cfg.MchID {
		t.Fatalf("query: %v %+v", err, got)
	}
	list, err := cs.List(ctx, &complaints.ListParams{BeginDate: core.NewDate(2020, 1, 1), EndDate: core.NewDate(2020, 1, 30), Limit: 10})
	if err != nil || len(list.Data) != 1 {
		t.Fatalf("list: %v %+v", err, list)
	}
	if err := cs.RespondTo(ctx, id, &complaints.RespondToRequest{ComplaintedMchID: cfg.MchID, ResponseContent: "已补发"}); err != nil {
		t.Fatal(err)
	}
	next(complaints.EventStateChange)
	if err := cs.Complete(ctx, id, &complaints.CompleteRequest{ComplaintedMchID: cfg.MchID}); err != nil {
		t.Fatal(err)
	}
	if n := next(complaints.EventStateChange); n.ActionType != complaints.ActionTypeMerchantConfirmComplete {
		t.Fatalf("action %s", n.ActionType)
	}
	if got, err = cs.Query(ctx, id); err != nil || got.ComplaintState != complaints.StateProcessed {
		t.Fatalf("after completing: %v %+v", err, got)
	}
}
