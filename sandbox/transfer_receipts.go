package sandbox

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// Electronic receipts of transfer bills (商家转账电子回单) with state: a
// receipt can be applied for once a bill is SUCCESS; it is GENERATING and
// FINISHED after the refund delay (at once with a negative delay), when
// queries give a download_url and the SHA256 of the PDF that
// DownloadTransferBillReceipt serves.

type tbReceipt struct {
	state            string // GENERATING, FINISHED
	created, updated time.Time
	token            string
	pdf              []byte
}

func (s *Server) registerTransferReceipts() {
	for _, id := range []string{"ApplyTransferBillReceiptByOutBillNo", "PartnerApplyTransferBillReceiptByOutBillNo", "ApplyTransferBillReceiptByTransferBillNo"} {
		s.handlers[id] = s.applyTransferReceipt
	}
	for _, id := range []string{"QueryTransferBillReceiptByOutBillNo", "PartnerQueryTransferBillReceiptByOutBillNo", "QueryTransferBillReceiptByTransferBillNo"} {
		s.handlers[id] = s.queryTransferReceipt
	}
	s.handlers["DownloadTransferBillReceipt"] = s.downloadTransferReceipt
}

// receiptBill finds the bill a receipt request names, by out_bill_no or
// transfer_bill_no in the path or body. Callers hold s.mu.
func (s *Server) receiptBill(c *call) *transferBill {
	s.st.tb.init()
	owner := c.orderOwner()
	if no := firstString(c.pathParams["transfer_bill_no"], str(c.body, "transfer_bill_no")); no != "" {
		if b := s.st.tb.byNo[no]; b != nil && b.owner == owner {
			return b
		}
		return nil
	}
	return s.st.tb.bills[ownerKey(owner, firstString(c.pathParams["out_bill_no"], str(c.body, "out_bill_no")))]
}

func (s *Server) applyTransferReceipt(c *call) *answer {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.receiptBill(c)
	if b == nil {
		return c.fail(http.StatusNotFound, "NOT_FOUND", "转账单不存在")
	}
	if b.state != "SUCCESS" {
		return c.fail(http.StatusBadRequest, "INVALID_REQUEST", "转账单未成功，不能申请电子回单")
	}
	if b.receipt == nil {
		now := s.now()
		b.receipt = &tbReceipt{state: "GENERATING", created: now, updated: now, token: randomString(alnum, 32)}
		b.receipt.pdf = []byte(fmt.Sprintf("%%PDF-1.4\n%% wxpay sandbox transfer receipt\n%% transfer_bill_no %s out_bill_no %s amount %d\n%%%%EOF\n",
			b.transferBillNo, b.outBillNo, b.amount))
		r := b.receipt
		finish := func() { r.state, r.updated = "FINISHED", s.now() }
		if s.opts.refundDelay < 0 {
			finish()
		} else {
			s.schedulePS(finish)
		}
	}
	return c.ok(s.receiptJSON(c, b))
}

func (s *Server) receiptJSON(c *call, b *transferBill) map[string]any {
	r := b.receipt
	v := map[string]any{"state": r.state, "create_time": wxTime(r.created), "update_time": wxTime(r.updated)}
	if b.partner {
		v["sub_mchid"], v["out_bill_no"] = b.subMchID, b.outBillNo
	}
	if r.state == "FINISHED" {
		sum := sha256.Sum256(r.pdf)
		v["hash_type"], v["hash_value"] = "SHA256", hex.EncodeToString(sum[:])
		v["download_url"] = c.baseURL() + "/v3/transferdownload/elecvoucherfile?source=elecsign&token=" + url.QueryEscape(r.token)
	}
	return v
}

func (s *Server) queryTransferReceipt(c *call) *answer {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.receiptBill(c)
	if b == nil || b.receipt == nil {
		return c.fail(http.StatusNotFound, "NOT_FOUND", "电子回单申请单不存在")
	}
	return c.ok(s.receiptJSON(c, b))
}

// downloadTransferReceipt serves a FINISHED receipt's PDF by its token;
// other tokens get the generic answer.
func (s *Server) downloadTransferReceipt(c *call) *answer {
	token := c.r.URL.Query().Get("token")
	s.mu.Lock()
	var pdf []byte
	for _, b := range s.st.tb.bills {
		if b.receipt != nil && b.receipt.token == token && b.receipt.state == "FINISHED" && b.notifier == c.merchant {
			pdf = b.receipt.pdf
		}
	}
	s.mu.Unlock()
	if pdf == nil {
		return s.generic(c)
	}
	return &answer{status: http.StatusOK, body: pdf, contentType: "application/pdf", signed: !c.op.Unsigned}
}
