package sandbox

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gowxpay/wxpay/gen/payscore"
)

// TestPayscoreTyped runs a payscore order end to end through the typed
// client in both modes: create, the user confirms (PAYSCORE.USER_CONFIRM
// through the client's callback handler), complete, PAYSCORE.USER_PAID,
// query DONE.
func TestPayscoreTyped(t *testing.T) {
	s := newServer(t, WithTimeScale(0.001), WithRefundDelay(time.Second))
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	for _, cred := range []Credentials{s.Merchant(), s.Partner()} {
		_, client, events, rv := flowClient(t, cred, ts.URL)
		no := uniqueNo("SCT")
		yes := true
		o, err := client.Payscore.CreateOrder(ctx, &payscore.CreateOrderInput{
			AppID: cred.AppID, OutOrderNo: no, ServiceID: "500001", ServiceIntroduction: "充电宝租借", NeedUserConfirm: &yes,
			TimeRange: payscore.ServiceTimeRangeInput{StartTime: "OnAccept"},
			RiskFund:  payscore.RiskFund{Name: payscore.RiskFundNameCashDeposit, Amount: 9900},
			NotifyURL: rv.URL + "/payscore", SubMchID: cred.SubMchID,
		})
		if err != nil {
			t.Fatalf("%s: %v", cred.MchID, err)
		}
		if o.State != "CREATED" || o.Package == "" {
			t.Fatalf("created %+v", o)
		}
		if err := s.ConfirmPayscore("", no); err != nil {
			t.Fatal(err)
		}
		wait := func(event string) *payscore.Order {
			t.Helper()
			for {
				select {
				case ev := <-events:
					if p, ok := ev.Resource.(*payscore.Order); ok && ev.EventType == event && p.OutOrderNo == no {
						return p
					}
				case <-ctx.Done():
					t.Fatalf("no %s notification", event)
				}
			}
		}
		wait(payscore.EventUserConfirm)
		in := &payscore.CompleteOrderInput{ServiceID: "500001", TotalAmount: 300, SubMchID: cred.SubMchID,
			PostPayments: []payscore.PostPayment{{Name: "租借费", Amount: 300}}}
		if !cred.PartnerMode {
			in.AppID = cred.AppID
		}
		if _, err := client.Payscore.CompleteOrder(ctx, no, in); err != nil {
			t.Fatal(err)
		}
		if p := wait(payscore.EventUserPaid); p.State != payscore.OrderStateDone || p.TotalAmount != 300 {
			t.Fatalf("USER_PAID %+v", p)
		}
		q := &payscore.QueryOrderInput{OutOrderNo: no, ServiceID: "500001", SubMchID: cred.SubMchID}
		if !cred.PartnerMode {
			q.AppID = cred.AppID
		}
		got, err := client.Payscore.QueryOrder(ctx, q)
		if err != nil || got.State != payscore.OrderStateDone {
			t.Fatalf("query: %v %+v", err, got)
		}
	}
}
