package sandbox

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http/httptest"
	"strings"
	"testing"
)

// seedReceipt seeds a SUCCESS transfer bill, with a FINISHED receipt when
// finished is set.
func seedReceipt(s *Server, cred Credentials, finished bool) *transferBill {
	b := seedTransfer(s, cred)
	s.mu.Lock()
	defer s.mu.Unlock()
	b.state = "SUCCESS"
	if finished {
		now := s.now()
		b.receipt = &tbReceipt{state: "FINISHED", created: now, updated: now, token: randomString(alnum, 32), pdf: []byte("%PDF-1.4 seeded")}
	}
	return b
}

func init() {
	for _, id := range []string{"ApplyTransferBillReceiptByOutBillNo", "PartnerApplyTransferBillReceiptByOutBillNo"} {
		fixups[id] = func(s *Server, rq *opRequest) { rq.body["out_bill_no"] = seedReceipt(s, rq.cred, false).outBillNo }
	}
	fixups["ApplyTransferBillReceiptByTransferBillNo"] = func(s *Server, rq *opRequest) {
		rq.body["transfer_bill_no"] = seedReceipt(s, rq.cred, false).transferBillNo
	}
	for _, id := range []string{"QueryTransferBillReceiptByOutBillNo", "PartnerQueryTransferBillReceiptByOutBillNo"} {
		fixups[id] = func(s *Server, rq *opRequest) { rq.pathParams["out_bill_no"] = seedReceipt(s, rq.cred, true).outBillNo }
	}
	fixups["QueryTransferBillReceiptByTransferBillNo"] = func(s *Server, rq *opRequest) {
		rq.pathParams["transfer_bill_no"] = seedReceipt(s, rq.cred, true).transferBillNo
	}
}

// TestTransferReceipt: a receipt is refused for an unfinished bill, applied
// for a SUCCESS one, FINISHED after the delay, and its download matches
// the digest.
func TestTransferReceipt(t *testing.T) {
	s := newServer(t, WithRefundDelay(-1))
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	m := s.Merchant()
	sg := signer{cred: m}
	pending := seedTransfer(s, m)
	if r := send(t, s.Handler(), sg, "POST", "/v3/fund-app/mch-transfer/elecsign/out-bill-no", map[string]any{"out_bill_no": pending.outBillNo}); r.status != 400 {
		t.Fatalf("a receipt for a WAIT_USER_CONFIRM bill: %d %s", r.status, r.body)
	}
	if err := s.ConfirmTransfer("", pending.outBillNo, ""); err != nil {
		t.Fatal(err)
	}
	if r := send(t, s.Handler(), sg, "POST", "/v3/fund-app/mch-transfer/elecsign/out-bill-no", map[string]any{"out_bill_no": pending.outBillNo}); r.status != 200 {
		t.Fatalf("apply: %d %s", r.status, r.body)
	}
	r := send(t, s.Handler(), sg, "GET", "/v3/fund-app/mch-transfer/elecsign/out-bill-no/"+pending.outBillNo, nil)
	got := r.json(t)
	if r.status != 200 || got["state"] != "FINISHED" || got["hash_type"] != "SHA256" {
		t.Fatalf("query: %d %s", r.status, r.body)
	}
	u := got["download_url"].(string)
	dl := send(t, s.Handler(), sg, "GET", u[strings.Index(u, "/v3/"):], nil)
	sum := sha256.Sum256(dl.body)
	if dl.status != 200 || hex.EncodeToString(sum[:]) != got["hash_value"] || !strings.HasPrefix(string(dl.body), "%PDF") {
		t.Fatalf("download: %d, digest %x, want %v", dl.status, sum, got["hash_value"])
	}
}
