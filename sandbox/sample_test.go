package sandbox

import (
	"errors"
	"testing"
)

// TestSampleRequest: samples carry the caller's identities and fresh
// merchant numbers, leave sub-merchant fields out for direct merchants, and
// exist for every operation.
func TestSampleRequest(t *testing.T) {
	s := newServer(t)
	m, p := s.Merchant(), s.Partner()
	d, err := s.SampleRequest("NativePrepay", m, "https://example.com/n")
	if err != nil {
		t.Fatal(err)
	}
	if d.Body["mchid"] != m.MchID || d.Body["appid"] != m.AppID || d.Body["notify_url"] != "https://example.com/n" || d.Body["sub_mchid"] != nil {
		t.Fatalf("direct sample %v", d.Body)
	}
	d2, _ := s.SampleRequest("NativePrepay", m, "")
	if d.Body["out_trade_no"] == d2.Body["out_trade_no"] {
		t.Fatal("two samples share an out_trade_no")
	}
	pp, err := s.SampleRequest("PartnerNativePrepay", p, "")
	if err != nil {
		t.Fatal(err)
	}
	if pp.Body["sp_mchid"] != p.MchID || pp.Body["sub_mchid"] != p.SubMchID || pp.Method != "POST" {
		t.Fatalf("partner sample %v", pp.Body)
	}
	q, _ := s.SampleRequest("QueryOrderByOutTradeNo", m, "")
	if q.Params["mchid"] != m.MchID || q.Params["out_trade_no"] == nil {
		t.Fatalf("query sample %v", q.Params)
	}
	for _, op := range s.Spec().Operations() {
		if _, err := s.SampleRequest(op.ID, m, ""); err != nil {
			t.Fatalf("%s: %v", op.ID, err)
		}
	}
	if _, err := s.SampleRequest("NoSuchOperation", m, ""); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown operation: %v", err)
	}
}
