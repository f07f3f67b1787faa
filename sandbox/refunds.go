package sandbox

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// RefundStatus is the status of a refund (退款状态).
type RefundStatus string

// Refund statuses.
const (
	RefundProcessing RefundStatus = "PROCESSING"
	RefundSuccess    RefundStatus = "SUCCESS"
	RefundAbnormal   RefundStatus = "ABNORMAL"
	RefundClosed     RefundStatus = "CLOSED"
)

// refund is one refund of an order.
type refund struct {
	order               *order
	owner               string
	refundID            string
	outRefundNo         string
	status              RefundStatus
	outcome             RefundStatus // what PROCESSING becomes
	amount              int64
	currency            string
	reason              string
	notifyURL           string
	fundsAccount        string
	channel             string
	userReceivedAccount string
	createTime          time.Time
	successTime         time.Time
	fingerprint         string
	notifier            *merchantState
	preferPublicKey     bool
	// e-commerce refunds (ecommerce.go): who pays (refund_account), how
	// much the platform advanced, and where the merchant's part came from.
	refundAccount string
	advance       int64
	ecFrom        string
}

// refundOutcome picks the outcome of a new refund: one set with
// SetRefundOutcome, else the magic prefix of its out_refund_no (ABNORMAL…
// or CLOSED…, any case), else SUCCESS. Callers hold s.mu.
func (s *Server) refundOutcome(outRefundNo string) RefundStatus {
	if o, ok := s.st.outcomes[outRefundNo]; ok {
		delete(s.st.outcomes, outRefundNo)
		return o
	}
	up := strings.ToUpper(outRefundNo)
	switch {
	case strings.HasPrefix(up, string(RefundAbnormal)):
		return RefundAbnormal
	case strings.HasPrefix(up, string(RefundClosed)):
		return RefundClosed
	}
	return RefundSuccess
}

func (c *call) refundConflict() *answer {
	return c.fail(http.StatusBadRequest, "INVALID_REQUEST", "订单金额或退款金额与之前请求不一致，请核实后再试")
}

// refundNotPositive refuses a refund of no money.
func (c *call) refundNotPositive(amount int64) *answer {
	if amount > 0 {
		return nil
	}
	return c.failDetail(http.StatusBadRequest, "PARAM_ERROR", "退款金额必须大于0",
		errorDetail{Field: "/amount/refund", Value: amount, Location: "body", Issue: "the refund must be at least 1 (分)"})
}

// refundTotalMismatch refuses a refund whose amount.total is not the order's.
func (c *call) refundTotalMismatch(o *order, total int64) *answer {
	if total == o.total {
		return nil
	}
	return c.failDetail(http.StatusBadRequest, "INVALID_REQUEST", "amount.total与订单金额不一致",
		errorDetail{Field: "/amount/total", Value: total, Location: "body", Issue: fmt.Sprintf("the order total is %d", o.total)})
}

// refundTooMuch refuses a refund beyond what earlier refunds left.
func (c *call) refundTooMuch(o *order, amount int64) *answer {
	left := o.total - o.refunded
	if amount <= left {
		return nil
	}
	return c.failDetail(http.StatusBadRequest, "INVALID_REQUEST", fmt.Sprintf("申请退款金额超过订单可退金额（可退%d分）", left),
		errorDetail{Field: "/amount/refund", Value: amount, Location: "body", Issue: fmt.Sprintf("at most %d can be refunded", left)})
}

// createRefund answers CreateRefund: the order must be paid, amount.total
// its total, amount.refund at most what earlier refunds left. The refund
// starts PROCESSING and reaches its outcome after the refund delay.
func (s *Server) createRefund(c *call) *answer {
	owner := c.orderOwner()
	if c.merchant.partner && str(c.body, "sub_mchid") == "" {
		return c.failDetail(http.StatusBadRequest, "PARAM_ERROR", "服务商退款需要sub_mchid",
			errorDetail{Field: "/sub_mchid", Location: "body", Issue: "a service provider's refund needs sub_mchid"})
	}
	txID, otn, orn := str(c.body, "transaction_id"), str(c.body, "out_trade_no"), str(c.body, "out_refund_no")
	if txID == "" && otn == "" {
		return c.failDetail(http.StatusBadRequest, "PARAM_ERROR", "transaction_id和out_trade_no必须二选一",
			errorDetail{Field: "/out_trade_no", Location: "body", Issue: "give transaction_id or out_trade_no"})
	}
	amount, _ := num(c.body, "amount", "refund")
	total, _ := num(c.body, "amount", "total")
	currency := str(c.body, "amount", "currency")
	if currency == "" {
		currency = "CNY"
	}
	if a := c.refundNotPositive(amount); a != nil {
		return a
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	var o *order
	if txID != "" {
		if x := s.st.byTxID[txID]; x != nil && x.owner == owner {
			o = x
		}
	} else {
		o = s.st.orders[ownerKey(owner, otn)]
	}
	if o == nil || !o.paid() {
		return c.fail(http.StatusNotFound, "RESOURCE_NOT_EXISTS", "订单不存在（未支付的订单不能发起退款）")
	}
	fp := fmt.Sprintf("%s|%d|%d|%s", o.transactionID, amount, total, currency)
	if old := s.st.refunds[ownerKey(owner, orn)]; old != nil {
		if old.fingerprint != fp {
			return c.refundConflict()
		}
		return c.ok(s.refundJSON(old))
	}
	if a := c.refundTotalMismatch(o, total); a != nil {
		return a
	}
	if currency != o.currency {
		return c.failDetail(http.StatusBadRequest, "INVALID_REQUEST", "退款币种与订单币种不一致",
			errorDetail{Field: "/amount/currency", Value: currency, Location: "body", Issue: "the order currency is " + o.currency})
	}
	if a := c.refundTooMuch(o, amount); a != nil {
		return a
	}
	rf := &refund{
		order: o, owner: owner, refundID: s.st.newRefundID(now), outRefundNo: orn,
		status: RefundProcessing, outcome: s.refundOutcome(orn), amount: amount, currency: currency,
		reason: str(c.body, "reason"), notifyURL: str(c.body, "notify_url"),
		fundsAccount: "AVAILABLE", channel: "ORIGINAL", userReceivedAccount: "支付用户零钱",
		createTime: now, fingerprint: fp, notifier: c.merchant, preferPublicKey: c.preferPublicKey,
	}
	if fa := str(c.body, "funds_account"); fa != "" {
		rf.fundsAccount = fa
	}
	o.refunded += amount
	s.st.refunds[ownerKey(owner, orn)] = rf
	s.st.refundByID[rf.refundID] = rf
	s.scheduleRefund(rf)
	return c.ok(s.refundJSON(rf))
}

// scheduleRefund settles a PROCESSING refund after the refund delay.
// Callers hold s.mu.
func (s *Server) scheduleRefund(rf *refund) {
	if s.opts.refundDelay < 0 {
		return
	}
	s.after(s.scaled(s.opts.refundDelay), func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if rf.status == RefundProcessing {
			s.settleRefund(rf, rf.outcome)
		}
	})
}

// after runs fn after d on a goroutine that Close stops.
func (s *Server) after(d time.Duration, fn func()) {
	s.spawn(func() {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			fn()
		case <-s.ctx.Done():
		}
	})
}

// settleRefund moves a PROCESSING refund to its outcome and notifies.
// Callers hold s.mu.
func (s *Server) settleRefund(rf *refund, outcome RefundStatus) {
	now := s.now()
	rf.status = outcome
	switch outcome {
	case RefundSuccess:
		rf.successTime = now
		rf.order.state = StateRefund
	case RefundClosed:
		rf.order.refunded -= rf.amount
		s.ecUndoRefund(rf)
	}
	s.log.Info("sandbox: refund settled", "out_refund_no", rf.outRefundNo, "status", string(outcome))
	if rf.notifyURL == "" {
		return
	}
	summary := map[RefundStatus]string{RefundSuccess: "退款成功", RefundAbnormal: "退款异常", RefundClosed: "退款关闭"}[outcome]
	s.enqueue(notification{
		merchant: rf.notifier, url: rf.notifyURL, eventType: "REFUND." + string(outcome), summary: summary,
		originalType: "refund", resource: s.refundNotice(rf), outTradeNo: rf.order.outTradeNo, outRefundNo: rf.outRefundNo,
		preferPublicKey: rf.preferPublicKey,
	})
}

// refundJSON renders a refund as the spec's Refund. Callers hold s.mu.
func (s *Server) refundJSON(rf *refund) map[string]any {
	o := rf.order
	out := map[string]any{
		"refund_id": rf.refundID, "out_refund_no": rf.outRefundNo,
		"transaction_id": o.transactionID, "out_trade_no": o.outTradeNo,
		"channel": rf.channel, "user_received_account": rf.userReceivedAccount,
		"create_time": wxTime(rf.createTime), "status": string(rf.status), "funds_account": rf.fundsAccount,
		"amount": map[string]any{
			"total": o.total, "refund": rf.amount, "payer_total": o.total, "payer_refund": rf.amount,
			"settlement_refund": rf.amount, "settlement_total": o.total, "discount_refund": 0,
			"currency": rf.currency, "refund_fee": 0, "from": []any{},
		},
		"promotion_detail": []any{},
	}
	if rf.status == RefundSuccess {
		out["success_time"] = wxTime(rf.successTime)
	}
	return out
}

// refundNotice is the decrypted resource of a REFUND.* notification.
func (s *Server) refundNotice(rf *refund) map[string]any {
	o := rf.order
	out := map[string]any{
		"out_trade_no": o.outTradeNo, "transaction_id": o.transactionID,
		"out_refund_no": rf.outRefundNo, "refund_id": rf.refundID,
		"refund_status": string(rf.status), "user_received_account": rf.userReceivedAccount,
		"channel": rf.channel, "funds_account": rf.fundsAccount, "create_time": wxTime(rf.createTime),
		"amount": map[string]any{"total": o.total, "refund": rf.amount, "payer_total": o.total, "payer_refund": rf.amount},
	}
	if o.partner || o.subMchID != "" {
		out["sp_mchid"], out["sub_mchid"] = o.mchid, o.subMchID
	} else {
		out["mchid"] = o.mchid
	}
	if rf.status == RefundSuccess {
		out["success_time"] = wxTime(rf.successTime)
	}
	if rf.refundAccount != "" {
		out["refund_account"] = rf.refundAccount
	}
	return out
}

// queryRefund answers QueryRefund.
func (s *Server) queryRefund(c *call) *answer {
	s.mu.Lock()
	defer s.mu.Unlock()
	rf := s.st.refunds[ownerKey(c.orderOwner(), c.pathParams["out_refund_no"])]
	if rf == nil {
		return c.fail(http.StatusNotFound, "RESOURCE_NOT_EXISTS", "退款单不存在")
	}
	return c.ok(s.refundJSON(rf))
}

// applyAbnormalRefund answers ApplyAbnormalRefund: an ABNORMAL refund is
// sent again, to a bank card (USER_BANK_CARD) or the merchant
// (MERCHANT_BANK_CARD), and succeeds after the refund delay.
func (s *Server) applyAbnormalRefund(c *call) *answer {
	s.mu.Lock()
	defer s.mu.Unlock()
	rf := s.st.refundByID[c.pathParams["refund_id"]]
	if rf == nil || rf.owner != c.orderOwner() {
		return c.fail(http.StatusNotFound, "RESOURCE_NOT_EXISTS", "退款单不存在")
	}
	if orn := str(c.body, "out_refund_no"); orn != "" && orn != rf.outRefundNo {
		return c.failDetail(http.StatusBadRequest, "INVALID_REQUEST", "out_refund_no与refund_id不匹配",
			errorDetail{Field: "/out_refund_no", Value: orn, Location: "body", Issue: "not the out_refund_no of this refund"})
	}
	if rf.status != RefundAbnormal {
		return c.fail(http.StatusBadRequest, "INVALID_REQUEST", "退款单状态不是ABNORMAL，不能发起异常退款")
	}
	rf.status, rf.outcome = RefundProcessing, RefundSuccess
	if str(c.body, "type") == "MERCHANT_BANK_CARD" {
		rf.channel, rf.userReceivedAccount = "OTHER_BANKCARD", "商户银行卡"
	} else {
		rf.channel, rf.userReceivedAccount = "OTHER_BANKCARD", "用户银行卡"
	}
	s.scheduleRefund(rf)
	return c.ok(s.refundJSON(rf))
}

// SetRefundOutcome decides what a refund becomes. For a PROCESSING refund
// it settles it now (SUCCESS, ABNORMAL or CLOSED, with its notification);
// for an out_refund_no not created yet, the refund gets that outcome when
// its delay ends.
func (s *Server) SetRefundOutcome(outRefundNo string, status RefundStatus) error {
	switch status {
	case RefundSuccess, RefundAbnormal, RefundClosed:
	default:
		return fmt.Errorf("sandbox: a refund ends SUCCESS, ABNORMAL or CLOSED, not %q", status)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	found := false
	for _, rf := range s.st.refunds {
		if rf.outRefundNo != outRefundNo {
			continue
		}
		found = true
		if rf.status != RefundProcessing {
			return fmt.Errorf("sandbox: refund %s is already %s", outRefundNo, rf.status)
		}
		s.settleRefund(rf, status)
	}
	if !found {
		s.st.outcomes[outRefundNo] = status
	}
	return nil
}

// RefundState returns the status of a refund (any merchant).
func (s *Server) RefundState(outRefundNo string) (RefundStatus, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, rf := range s.st.refunds {
		if rf.outRefundNo == outRefundNo {
			return rf.status, nil
		}
	}
	return "", fmt.Errorf("%w: no refund %s", ErrNotFound, outRefundNo)
}
