package sandbox

import (
	"fmt"
	"net/http"
	"time"
)

// Merchant transfers (商家转账) with state: a transfer bill waits for the
// payee to confirm receipt (WAIT_USER_CONFIRM, with package_info for the
// confirmation page); ConfirmTransfer plays the payee, after which the
// bill is TRANSFERING and ends SUCCESS (or FAIL, when a fail reason was
// given) after the refund delay; a cancel moves it to CANCELING and then
// CANCELLED. Each final state sends MCHTRANSFER.BILL.FINISHED to the
// bill's notify_url; SUCCESS bills get electronic receipts
// (transfer_receipts.go). The authorised and authorisation-creating
// variants stay echoes.

// tbState is the transfer-bill state; Server.mu guards it.
type tbState struct {
	bills map[string]*transferBill // ownerKey(owner, out_bill_no)
	byNo  map[string]*transferBill // transfer_bill_no
}

func (t *tbState) init() {
	if t.bills == nil {
		t.bills, t.byNo = map[string]*transferBill{}, map[string]*transferBill{}
	}
}

type transferBill struct {
	partner                   bool
	mchid, subMchID, owner    string
	appid, openid, userName   string // userName in plaintext
	outBillNo, transferBillNo string
	amount                    int64
	remark, notifyURL         string
	state, failReason         string
	outcome                   string // what TRANSFERING becomes: SUCCESS or FAIL
	created, updated          time.Time
	notifier                  *merchantState
	preferPublicKey           bool
	fingerprint               string
	receipt                   *tbReceipt // transfer_receipts.go
}

func (s *Server) registerTransfers() {
	for _, id := range []string{"CreateTransferBill", "PartnerCreateTransferBill"} {
		s.handlers[id] = s.createTransferBill
	}
	for _, id := range []string{"QueryTransferBillByOutBillNo", "PartnerQueryTransferBillByOutBillNo", "QueryTransferBillByTransferBillNo"} {
		s.handlers[id] = s.queryTransferBill
	}
	for _, id := range []string{"CancelTransferBill", "PartnerCancelTransferBill"} {
		s.handlers[id] = s.cancelTransferBill
	}
	s.registerTransferReceipts()
}

func (s *Server) createTransferBill(c *call) *answer {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.tb.init()
	owner := c.orderOwner()
	outNo := str(c.body, "out_bill_no")
	fp := fingerprint(c.body)
	if old := s.st.tb.bills[ownerKey(owner, outNo)]; old != nil {
		if old.fingerprint != fp {
			return c.fail(http.StatusBadRequest, "INVALID_REQUEST", "商户单号重复，且请求参数与之前不一致")
		}
		return c.ok(s.transferCreated(old))
	}
	amount, _ := num(c.body, "transfer_amount")
	if amount <= 0 {
		return c.failDetail(http.StatusBadRequest, "PARAM_ERROR", "转账金额必须大于0",
			errorDetail{Field: "/transfer_amount", Value: amount, Location: "body", Issue: "at least 1 (分)"})
	}
	now := s.now()
	b := &transferBill{
		partner: c.merchant.partner, mchid: c.merchant.MchID, owner: owner, appid: str(c.body, "appid"), openid: str(c.body, "openid"),
		outBillNo: outNo, transferBillNo: "1330" + s.st.newTransactionID(now)[4:], amount: amount,
		remark: str(c.body, "transfer_remark"), notifyURL: str(c.body, "notify_url"), state: "WAIT_USER_CONFIRM", outcome: "SUCCESS",
		created: now, updated: now, notifier: c.merchant, preferPublicKey: c.preferPublicKey, fingerprint: fp,
	}
	if c.merchant.partner {
		b.subMchID = owner
	}
	if u := str(c.body, "user_name"); u != "" {
		b.userName = s.plainSensitive(u)
	}
	s.st.tb.bills[ownerKey(owner, outNo)] = b
	s.st.tb.byNo[b.transferBillNo] = b
	return c.ok(s.transferCreated(b))
}

func (s *Server) transferCreated(b *transferBill) map[string]any {
	out := map[string]any{"out_bill_no": b.outBillNo, "transfer_bill_no": b.transferBillNo, "create_time": wxTime(b.created), "state": b.state}
	if b.state == "WAIT_USER_CONFIRM" {
		out["package_info"] = "affffddafdfafddffda==" + b.transferBillNo
	}
	if b.partner {
		out["sub_mchid"] = b.subMchID
	}
	return out
}

// transferJSON renders a transfer bill as its mode's answer (the spec's
// DirectTransferBill or PartnerTransferBill; user_name in plaintext: the
// caller encrypts it to the merchant's key). Callers hold s.mu.
func (s *Server) transferJSON(b *transferBill) map[string]any {
	out := map[string]any{"out_bill_no": b.outBillNo, "transfer_bill_no": b.transferBillNo, "appid": b.appid, "state": b.state,
		"transfer_amount": b.amount, "transfer_remark": b.remark, "openid": b.openid,
		"create_time": wxTime(b.created), "update_time": wxTime(b.updated)}
	if b.partner {
		out["mchid"], out["sub_mchid"] = b.mchid, b.subMchID
	} else {
		out["mch_id"] = b.mchid
	}
	if b.failReason != "" {
		out["fail_reason"] = b.failReason
	}
	if b.userName != "" {
		out["user_name"] = b.userName
	}
	return out
}

func (s *Server) findTransferBill(c *call) *transferBill {
	s.st.tb.init()
	if no := c.pathParams["transfer_bill_no"]; no != "" {
		if b := s.st.tb.byNo[no]; b != nil && b.owner == c.orderOwner() {
			return b
		}
		return nil
	}
	return s.st.tb.bills[ownerKey(c.orderOwner(), c.pathParams["out_bill_no"])]
}

func (s *Server) queryTransferBill(c *call) *answer {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.findTransferBill(c)
	if b == nil {
		return c.fail(http.StatusNotFound, "NOT_FOUND", "记录不存在")
	}
	v := s.transferJSON(b)
	c.encryptSensitiveAnswer(c.op.responseSchema(http.StatusOK), v)
	return c.ok(v)
}

func (s *Server) cancelTransferBill(c *call) *answer {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.findTransferBill(c)
	if b == nil {
		return c.fail(http.StatusNotFound, "NOT_FOUND", "记录不存在")
	}
	switch b.state {
	case "ACCEPTED", "PROCESSING", "WAIT_USER_CONFIRM", "TRANSFERING":
		b.state, b.updated = "CANCELING", s.now()
		if s.opts.refundDelay < 0 {
			defer s.finishTransfer(b, "CANCELLED", "")
		} else {
			s.schedulePS(func() { s.finishTransfer(b, "CANCELLED", "") })
		}
	case "CANCELING", "CANCELLED":
	default:
		return c.fail(http.StatusBadRequest, "INVALID_REQUEST", "转账单已是终态，不能撤销")
	}
	v := s.transferJSON(b)
	c.encryptSensitiveAnswer(c.op.responseSchema(http.StatusOK), v)
	return c.ok(v)
}

// finishTransfer moves a bill to a final state and sends
// MCHTRANSFER.BILL.FINISHED. Callers hold s.mu.
func (s *Server) finishTransfer(b *transferBill, state, reason string) {
	switch b.state {
	case "SUCCESS", "FAIL", "CANCELLED":
		return
	}
	if state != "CANCELLED" && b.state == "CANCELING" {
		return
	}
	now := s.now()
	b.state, b.failReason, b.updated = state, reason, now
	s.log.Info("sandbox: transfer bill finished", "out_bill_no", b.outBillNo, "state", state)
	if b.notifyURL == "" {
		return
	}
	res := map[string]any{"mchid": b.mchid, "out_bill_no": b.outBillNo, "transfer_bill_no": b.transferBillNo, "state": state,
		"transfer_amount": b.amount, "openid": b.openid, "create_time": wxTime(b.created), "update_time": wxTime(now)}
	if b.partner {
		res["sub_mchid"] = b.subMchID
	}
	if reason != "" {
		res["fail_reason"] = reason
	}
	s.enqueue(notification{merchant: b.notifier, url: b.notifyURL, eventType: "MCHTRANSFER.BILL.FINISHED", summary: "商家转账单据终态通知",
		originalType: "mch_payment", resource: res, preferPublicKey: b.preferPublicKey})
}

// ConfirmTransfer plays the payee confirming receipt of a transfer bill in
// WAIT_USER_CONFIRM (owner: the mchid or sub_mchid; "" searches all). The
// bill becomes TRANSFERING and, after the refund delay (WithRefundDelay,
// scaled; at once with a negative delay), SUCCESS, or FAIL with failReason
// when one is given (e.g. PAYEE_ACCOUNT_ABNORMAL).
func (s *Server) ConfirmTransfer(owner, outBillNo, failReason string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.tb.init()
	var b *transferBill
	for _, x := range s.st.tb.bills {
		if x.outBillNo == outBillNo && (owner == "" || x.owner == owner || x.mchid == owner) {
			if b != nil {
				return fmt.Errorf("sandbox: out_bill_no %s exists for several merchants: give the mchid", outBillNo)
			}
			b = x
		}
	}
	if b == nil {
		return fmt.Errorf("%w: no transfer bill %s", ErrNotFound, outBillNo)
	}
	if b.state != "WAIT_USER_CONFIRM" {
		return fmt.Errorf("sandbox: transfer bill %s is %s, not WAIT_USER_CONFIRM", outBillNo, b.state)
	}
	b.state, b.updated = "TRANSFERING", s.now()
	outcome := "SUCCESS"
	if failReason != "" {
		outcome = "FAIL"
	}
	if s.opts.refundDelay < 0 {
		s.finishTransfer(b, outcome, failReason)
		return nil
	}
	s.schedulePS(func() { s.finishTransfer(b, outcome, failReason) })
	return nil
}

// TransferState returns the state of a transfer bill ("" searches every
// merchant's).
func (s *Server) TransferState(owner, outBillNo string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.tb.init()
	for _, x := range s.st.tb.bills {
		if x.outBillNo == outBillNo && (owner == "" || x.owner == owner || x.mchid == owner) {
			return x.state, nil
		}
	}
	return "", fmt.Errorf("%w: no transfer bill %s", ErrNotFound, outBillNo)
}
