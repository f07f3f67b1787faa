package sandbox

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gowxpay/wxpay/auth"
)

// paidOrder creates and pays a Native order of the direct merchant.
func paidOrder(t *testing.T, s *Server, total int) (otn, txID string) {
	t.Helper()
	m := s.Merchant()
	otn = uniqueNo("R")
	if r := send(t, s.Handler(), signer{cred: m}, "POST", "/v3/pay/transactions/native", nativeBody(m, otn, total)); r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	txID, err := s.Pay(m.MchID, otn)
	if err != nil {
		t.Fatal(err)
	}
	return otn, txID
}

func refundBody(otn, orn string, refund, total int) map[string]any {
	return map[string]any{"out_trade_no": otn, "out_refund_no": orn, "reason": "test",
		"amount": map[string]any{"refund": refund, "total": total, "currency": "CNY"}}
}

func TestRefunds(t *testing.T) {
	t.Parallel()
	s := newServer(t, WithRefundDelay(-1))
	h, m := s.Handler(), s.Merchant()
	sg := signer{cred: m}
	otn, txID := paidOrder(t, s, 100)

	t.Run("unpaid order", func(t *testing.T) {
		unpaid := uniqueNo("U")
		send(t, h, sg, "POST", "/v3/pay/transactions/native", nativeBody(m, unpaid, 100))
		r := send(t, h, sg, "POST", "/v3/refund/domestic/refunds", refundBody(unpaid, uniqueNo("RF"), 10, 100))
		if r.status != 404 || r.code() != "RESOURCE_NOT_EXISTS" {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("total differs from the order", func(t *testing.T) {
		r := send(t, h, sg, "POST", "/v3/refund/domestic/refunds", refundBody(otn, uniqueNo("RF"), 10, 99))
		if r.status != 400 || r.code() != "INVALID_REQUEST" || r.json(t)["detail"].(map[string]any)["field"] != "/amount/total" {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("more than the order", func(t *testing.T) {
		r := send(t, h, sg, "POST", "/v3/refund/domestic/refunds", refundBody(otn, uniqueNo("RF"), 101, 100))
		if r.status != 400 || r.code() != "INVALID_REQUEST" || r.json(t)["detail"].(map[string]any)["field"] != "/amount/refund" {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})

	orn := uniqueNo("RF")
	r := send(t, h, sg, "POST", "/v3/refund/domestic/refunds", refundBody(otn, orn, 60, 100))
	rf := r.json(t)
	if r.status != 200 || rf["status"] != "PROCESSING" || rf["transaction_id"] != txID || rf["out_refund_no"] != orn || rf["success_time"] != nil {
		t.Fatalf("%d %s", r.status, r.body)
	}
	verify(t, s, r.header, r.body)
	// The same out_refund_no again: the same refund; with another amount: refused.
	if r2 := send(t, h, sg, "POST", "/v3/refund/domestic/refunds", refundBody(otn, orn, 60, 100)); r2.json(t)["refund_id"] != rf["refund_id"] {
		t.Fatalf("retry: %s", r2.body)
	}
	if r2 := send(t, h, sg, "POST", "/v3/refund/domestic/refunds", refundBody(otn, orn, 50, 100)); r2.status != 400 {
		t.Fatalf("conflicting retry: %d %s", r2.status, r2.body)
	}
	// 60 are refunding: 41 is too much, 40 fits.
	if r2 := send(t, h, sg, "POST", "/v3/refund/domestic/refunds", refundBody(otn, uniqueNo("RF"), 41, 100)); r2.status != 400 || !strings.Contains(string(r2.body), "40") {
		t.Fatalf("over the rest: %d %s", r2.status, r2.body)
	}
	q := "/v3/refund/domestic/refunds/" + orn
	if r2 := send(t, h, sg, "GET", q, nil); r2.json(t)["status"] != "PROCESSING" {
		t.Fatalf("query: %s", r2.body)
	}
	if err := s.SetRefundOutcome(orn, RefundSuccess); err != nil {
		t.Fatal(err)
	}
	r = send(t, h, sg, "GET", q, nil)
	rf = r.json(t)
	if rf["status"] != "SUCCESS" || rf["success_time"] == nil || rf["amount"].(map[string]any)["refund"] != 60.0 {
		t.Fatalf("after success: %s", r.body)
	}
	verify(t, s, r.header, r.body)
	if st, _ := s.OrderState(m.MchID, otn); st != StateRefund {
		t.Fatalf("order state %s", st)
	}
	if err := s.SetRefundOutcome(orn, RefundClosed); err == nil {
		t.Fatal("settled twice")
	}
	// A CLOSED refund gives its amount back.
	closed := uniqueNo("RF")
	send(t, h, sg, "POST", "/v3/refund/domestic/refunds", refundBody(otn, closed, 40, 100))
	if err := s.SetRefundOutcome(closed, RefundClosed); err != nil {
		t.Fatal(err)
	}
	if r2 := send(t, h, sg, "POST", "/v3/refund/domestic/refunds", refundBody(otn, uniqueNo("RF"), 40, 100)); r2.status != 200 {
		t.Fatalf("after a closed refund: %d %s", r2.status, r2.body)
	}
	if r2 := send(t, h, sg, "GET", "/v3/refund/domestic/refunds/NOPE1234", nil); r2.status != 404 {
		t.Fatalf("unknown refund: %d", r2.status)
	}
}

func TestRefundAbnormalAndDelay(t *testing.T) {
	t.Parallel()
	s := newServer(t, WithRefundDelay(10*time.Second), WithTimeScale(0.001))
	h, m := s.Handler(), s.Merchant()
	sg := signer{cred: m}
	otn, _ := paidOrder(t, s, 100)
	// The magic prefix makes the refund ABNORMAL after the (scaled) delay.
	orn := "ABNORMAL" + uniqueNo("")
	r := send(t, h, sg, "POST", "/v3/refund/domestic/refunds", refundBody(otn, orn, 30, 100))
	if r.json(t)["status"] != "PROCESSING" {
		t.Fatalf("%s", r.body)
	}
	waitRefund(t, s, orn, RefundAbnormal)
	refundID := r.json(t)["refund_id"].(string)
	r = send(t, h, sg, "POST", "/v3/refund/domestic/refunds/"+refundID+"/apply-abnormal-refund",
		map[string]any{"out_refund_no": orn, "type": "MERCHANT_BANK_CARD"})
	if r.status != 200 || r.json(t)["status"] != "PROCESSING" {
		t.Fatalf("apply abnormal: %d %s", r.status, r.body)
	}
	waitRefund(t, s, orn, RefundSuccess)
	// Not ABNORMAL any more: refused.
	r = send(t, h, sg, "POST", "/v3/refund/domestic/refunds/"+refundID+"/apply-abnormal-refund",
		map[string]any{"out_refund_no": orn, "type": "USER_BANK_CARD"})
	if r.status != 400 {
		t.Fatalf("second apply: %d %s", r.status, r.body)
	}
	// An outcome set ahead of time.
	pre := uniqueNo("RF")
	if err := s.SetRefundOutcome(pre, RefundClosed); err != nil {
		t.Fatal(err)
	}
	send(t, h, sg, "POST", "/v3/refund/domestic/refunds", refundBody(otn, pre, 10, 100))
	waitRefund(t, s, pre, RefundClosed)
}

func TestPartnerRefund(t *testing.T) {
	t.Parallel()
	s := newServer(t, WithRefundDelay(-1))
	h, p := s.Handler(), s.Partner()
	sg := signer{cred: p}
	otn := uniqueNo("PR")
	send(t, h, sg, "POST", "/v3/pay/partner/transactions/native", partnerBody(p, otn, 500))
	if _, err := s.Pay("", otn); err != nil {
		t.Fatal(err)
	}
	b := refundBody(otn, uniqueNo("RF"), 500, 500)
	if r := send(t, h, sg, "POST", "/v3/refund/domestic/refunds", b); r.status != 400 {
		t.Fatalf("without sub_mchid: %d %s", r.status, r.body)
	}
	b["sub_mchid"] = p.SubMchID
	r := send(t, h, sg, "POST", "/v3/refund/domestic/refunds", b)
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	r = send(t, h, sg, "GET", "/v3/refund/domestic/refunds/"+b["out_refund_no"].(string)+"?sub_mchid="+p.SubMchID, nil)
	if r.status != 200 || r.json(t)["out_trade_no"] != otn {
		t.Fatalf("query: %d %s", r.status, r.body)
	}
}

func waitRefund(t *testing.T, s *Server, orn string, want RefundStatus) {
	t.Helper()
	for { // no deadline but the test's -timeout
		st, err := s.RefundState(orn)
		if err == nil && st == want {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestSensitiveFields(t *testing.T) {
	t.Parallel()
	s := newServer(t, WithRefundDelay(-1))
	h, m := s.Handler(), s.Merchant()
	sg := signer{cred: m}
	otn, _ := paidOrder(t, s, 100)
	orn := uniqueNo("RF")
	if err := s.SetRefundOutcome(orn, RefundAbnormal); err != nil {
		t.Fatal(err)
	}
	r := send(t, h, sg, "POST", "/v3/refund/domestic/refunds", refundBody(otn, orn, 100, 100))
	refundID := r.json(t)["refund_id"].(string)
	if err := s.SetRefundOutcome(orn, RefundAbnormal); err != nil {
		t.Fatal(err)
	}
	path := "/v3/refund/domestic/refunds/" + refundID + "/apply-abnormal-refund"
	plain := map[string]any{"out_refund_no": orn, "type": "USER_BANK_CARD", "bank_type": "ICBC_DEBIT", "bank_account": "6222020200000000000", "real_name": "张三"}
	serial := auth.SerialNumber(s.PlatformCertificates()[0])
	withSerial := func(v string) func(*http.Request) {
		return func(r *http.Request) { r.Header.Set("Wechatpay-Serial", v) }
	}

	if r := send(t, h, sg, "POST", path, plain); r.status != 400 || r.json(t)["detail"].(map[string]any)["field"] != "Wechatpay-Serial" {
		t.Fatalf("no header: %d %s", r.status, r.body)
	}
	if r := send(t, h, sg, "POST", path, plain, withSerial(serial)); r.status != 400 || !strings.HasPrefix(r.json(t)["detail"].(map[string]any)["field"].(string), "/") {
		t.Fatalf("plain text: %d %s", r.status, r.body)
	}
	if r := send(t, h, sg, "POST", path, plain, withSerial("0123")); r.status != 400 || r.code() != "INVALID_REQUEST" {
		t.Fatalf("unknown serial: %d %s", r.status, r.body)
	}
	// Encrypted with the public key and named by its id: accepted.
	id, pub := s.PublicKey()
	enc := map[string]any{"out_refund_no": orn, "type": "USER_BANK_CARD", "bank_type": "ICBC_DEBIT"}
	for _, f := range []string{"bank_account", "real_name"} {
		ct, err := auth.EncryptOAEP(pub, plain[f].(string))
		if err != nil {
			t.Fatal(err)
		}
		enc[f] = ct
	}
	if r := send(t, h, sg, "POST", path, enc, withSerial(id)); r.status != 200 {
		t.Fatalf("encrypted: %d %s", r.status, r.body)
	}
}
