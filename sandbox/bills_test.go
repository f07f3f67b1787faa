package sandbox

import (
	"bytes"
	"compress/gzip"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"io"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gowxpay/wxpay/auth"
)

// download fetches a download_url with a signed request over its exact
// path and query, as a client must.
func download(t *testing.T, s *Server, c Credentials, downloadURL string) result {
	t.Helper()
	u, err := url.Parse(downloadURL)
	if err != nil {
		t.Fatal(err)
	}
	return send(t, s.Handler(), signer{cred: c, now: s.now}, "GET", u.RequestURI(), nil)
}

func TestTradeBill(t *testing.T) {
	t.Parallel()
	now := time.Now()
	var offset atomic.Int64 // the notification deliveries read the clock too
	clock := func() time.Time { return now.Add(time.Duration(offset.Load())) }
	s := newServer(t, WithClock(clock), WithRefundDelay(-1))
	h, m := s.Handler(), s.Merchant()
	sg := signer{cred: m, now: clock}
	otn1, tx1 := paidOrder(t, s, 123)
	otn2, _ := paidOrder(t, s, 1000)
	orn := uniqueNo("RF")
	send(t, h, sg, "POST", "/v3/refund/domestic/refunds", refundBody(otn2, orn, 250, 1000))
	if err := s.SetRefundOutcome(orn, RefundSuccess); err != nil {
		t.Fatal(err)
	}
	day := now.In(beijing).Format("2006-01-02")

	r := send(t, h, sg, "GET", "/v3/bill/tradebill?bill_date="+day+"&bill_type=ALL", nil)
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	verify(t, s, r.header, r.body)
	apply := r.json(t)
	if apply["hash_type"] != "SHA1" || !strings.Contains(apply["download_url"].(string), "/v3/billdownload/file?token=") {
		t.Fatalf("%s", r.body)
	}
	d := download(t, s, m, apply["download_url"].(string))
	if d.status != 200 || d.header.Get("Wechatpay-Signature") != "" {
		t.Fatalf("download: %d %v", d.status, d.header)
	}
	sum := sha1.Sum(d.body)
	if hex.EncodeToString(sum[:]) != apply["hash_value"] {
		t.Fatal("SHA-1 mismatch")
	}
	csv := string(d.body)
	if !strings.HasPrefix(csv, "\uFEFF交易时间,公众账号ID,商户号,特约商户号") || !strings.HasSuffix(csv, "\r\n") {
		t.Fatalf("header: %q", csv[:60])
	}
	lines := strings.Split(strings.TrimSuffix(csv, "\r\n"), "\r\n")
	if len(lines) != 6 { // header, 2 payments, 1 refund, totals header, totals
		t.Fatalf("%d lines:\n%s", len(lines), csv)
	}
	for _, l := range lines[1:4] {
		if strings.Contains(l, "\n") || !strings.HasPrefix(l, "`") || strings.Count(l, ",`") != 26 {
			t.Fatalf("row %q", l)
		}
	}
	if !strings.Contains(csv, "`"+tx1+",`"+otn1) || !strings.Contains(csv, "`REFUND,") || !strings.Contains(csv, "`"+orn+",`2.50") {
		t.Fatalf("rows:\n%s", csv)
	}
	if lines[4] != "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额" ||
		lines[5] != "`3,`11.23,`2.50,`0.00,`0.05,`11.23,`2.50" {
		t.Fatalf("totals:\n%s\n%s", lines[4], lines[5])
	}

	// gzip: the hash is over the uncompressed bill.
	r = send(t, h, sg, "GET", "/v3/bill/tradebill?bill_date="+day+"&tar_type=GZIP", nil)
	apply = r.json(t)
	d = download(t, s, m, apply["download_url"].(string))
	if !strings.Contains(apply["download_url"].(string), "tartype=gzip") || d.header.Get("Content-Type") != "application/x-gzip" {
		t.Fatalf("gzip: %s %v", apply["download_url"], d.header)
	}
	zr, err := gzip.NewReader(bytes.NewReader(d.body))
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(zr)
	sum = sha1.Sum(plain)
	if hex.EncodeToString(sum[:]) != apply["hash_value"] || !bytes.Equal(plain, []byte(csv)) {
		t.Fatal("gzip bill differs")
	}

	// SUCCESS drops the refund rows and columns; REFUND keeps only refunds.
	r = send(t, h, sg, "GET", "/v3/bill/tradebill?bill_date="+day+"&bill_type=SUCCESS", nil)
	succ := string(download(t, s, m, r.json(t)["download_url"].(string)).body)
	if strings.Contains(succ, "退款金额,") || strings.Contains(succ, "`REFUND") || strings.Count(succ, "`SUCCESS") != 2 {
		t.Fatalf("SUCCESS bill:\n%s", succ)
	}
	r = send(t, h, sg, "GET", "/v3/bill/tradebill?bill_date="+day+"&bill_type=REFUND", nil)
	ref := string(download(t, s, m, r.json(t)["download_url"].(string)).body)
	if !strings.Contains(ref, "退款成功时间") || strings.Contains(ref, "`SUCCESS,`OTHERS") {
		t.Fatalf("REFUND bill:\n%s", ref)
	}

	// Another merchant cannot use the token; after five minutes nobody can.
	if d := download(t, s, s.Partner(), apply["download_url"].(string)); d.status != 400 {
		t.Fatalf("other merchant: %d", d.status)
	}
	offset.Store(int64(5*time.Minute + time.Second))
	if d := download(t, s, m, apply["download_url"].(string)); d.status != 400 || !strings.Contains(string(d.body), "过期") {
		t.Fatalf("expired token: %d %s", d.status, d.body)
	}
	// Dates: not in the future, not older than three months.
	for _, bad := range []string{now.AddDate(0, 0, 2).Format("2006-01-02"), now.AddDate(0, -4, 0).Format("2006-01-02")} {
		if r := send(t, h, sg, "GET", "/v3/bill/tradebill?bill_date="+bad, nil); r.status != 400 {
			t.Fatalf("bill_date %s: %d", bad, r.status)
		}
	}
}

func TestFundFlowBills(t *testing.T) {
	t.Parallel()
	s := newServer(t, WithRefundDelay(-1))
	h, m := s.Handler(), s.Merchant()
	sg := signer{cred: m}
	paidOrder(t, s, 500)
	day := time.Now().In(beijing).Format("2006-01-02")
	r := send(t, h, sg, "GET", "/v3/bill/fundflowbill?bill_date="+day, nil)
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	csv := string(download(t, s, m, r.json(t)["download_url"].(string)).body)
	if !strings.HasPrefix(csv, "\uFEFF记账时间,微信支付业务单号") || !strings.Contains(csv, "`收入,`5.00,`5.00") ||
		!strings.HasSuffix(csv, "资金流水总笔数,收入笔数,收入金额,支出笔数,支出金额\r\n`1,`1,`5.00,`0,`0.00\r\n") {
		t.Fatalf("fund bill:\n%s", csv)
	}

	// A sub-merchant's bill, encrypted for the service provider.
	p := s.Partner()
	otn := uniqueNo("SB")
	send(t, h, signer{cred: p}, "POST", "/v3/pay/partner/transactions/native", partnerBody(p, otn, 700))
	if _, err := s.Pay(p.SubMchID, otn); err != nil {
		t.Fatal(err)
	}
	r = send(t, h, signer{cred: p}, "GET", "/v3/bill/sub-merchant-fundflowbill?sub_mchid="+p.SubMchID+"&bill_date="+day+"&account_type=BASIC&algorithm=AEAD_AES_256_GCM", nil)
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	item := r.json(t)["download_bill_list"].([]any)[0].(map[string]any)
	key, err := auth.DecryptOAEP(p.PrivateKey, item["encrypt_key"].(string))
	if err != nil {
		t.Fatal(err)
	}
	enc := download(t, s, p, item["download_url"].(string))
	plain, err := auth.DecryptAESGCM([]byte(key), item["nonce"].(string), "", base64.StdEncoding.EncodeToString(enc.body))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha1.Sum(plain)
	if hex.EncodeToString(sum[:]) != item["hash_value"] || !strings.Contains(string(plain), "`7.00") {
		t.Fatalf("sub-merchant bill:\n%s", plain)
	}
}
