package sandbox

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// 电商收付通 (e-commerce platforms) with state. A platform (a service
// provider, Partner()) onboards second-level merchants (二级商户) with
// CreateEcommerceApplyment: the application is CHECKING when accepted and
// FINISH, with a new sub_mchid, after the refund delay (or at
// SettleEcommerce); an out_request_no starting with REJECT ends REJECTED.
//
// Money follows the e-commerce rules. A payment into a second-level merchant
// (a partner order or a combined sub-order naming its sub_mchid) is frozen
// (pending_amount) until its profit sharing ends: a share with finish=true,
// or FinishEcommerceProfitSharing, releases the rest to available_amount.
// Shares and refunds from the merchant's funds take from the frozen part of
// their order, or from the available balance once it was released; a
// refund with refund_account REFUND_SOURCE_PARTNER_ADVANCE is advanced by
// the platform (amount.advance) and later made good from the merchant's
// balance with ReturnEcommerceRefundAdvance. Returns of shares and subsidies
// (补差) add to the available balance, subsidy returns and withdrawals take
// from it; a withdrawal is CREATE_SUCCESS when accepted and SUCCESS after
// the refund delay. Nothing goes below zero: WeChat Pay answers NOT_ENOUGH.

// ecState is the e-commerce state; Server.mu guards it.
type ecState struct {
	applyments map[string]*ecApplyment // ownerKey(sp_mchid, out_request_no)
	byApplyID  map[string]*ecApplyment // applyment_id
	subs       map[string]string       // onboarded sub_mchid → sp_mchid
	ledger     map[string]int64        // sub_mchid → credits minus debits of the available balance
	frozenOut  map[string]int64        // transaction_id → refunded from the frozen part
	withdraws  map[string]*ecWithdraw  // ownerKey(sub_mchid, out_request_no)
	withdrawID map[string]*ecWithdraw  // withdraw_id
	advances   map[string]*ecAdvance   // refund_id → the advance return
	subsidies  map[string]*ecSubsidy   // ownerKey(sub_mchid, out_subsidy_no or transaction_id)
	subsidyRet map[string]*ecSubsidy   // ownerKey(sub_mchid, out_order_no)
	cancelled  map[string]bool         // transaction_id → subsidies cancelled
}

func (e *ecState) init() {
	if e.applyments == nil {
		e.applyments, e.byApplyID, e.subs = map[string]*ecApplyment{}, map[string]*ecApplyment{}, map[string]string{}
		e.ledger, e.frozenOut = map[string]int64{}, map[string]int64{}
		e.withdraws, e.withdrawID, e.advances = map[string]*ecWithdraw{}, map[string]*ecWithdraw{}, map[string]*ecAdvance{}
		e.subsidies, e.subsidyRet, e.cancelled = map[string]*ecSubsidy{}, map[string]*ecSubsidy{}, map[string]bool{}
	}
}

type ecApplyment struct {
	spMchID, outRequestNo string
	applymentID           int64
	state, subMchID       string
	reject                bool
	fingerprint           string
}

func (a *ecApplyment) idString() string { return strconv.FormatInt(a.applymentID, 10) }

type ecWithdraw struct {
	subMchID, spMchID, outRequestNo, withdrawID string
	amount                                      int64
	status, remark, bankMemo, accountType       string
	created, updated                            time.Time
	notifyURL                                   string
	notifier                                    *merchantState
	preferPublicKey                             bool
}

type ecAdvance struct {
	refund       *refund
	id           string
	amount       int64
	payer, payee string
	result       string
	succeeded    time.Time
}

type ecSubsidy struct {
	subMchID, txID, id, outNo, refundID, description string
	amount                                           int64
	at                                               time.Time
}

func (s *Server) registerEcommerce() {
	s.handlers["CreateEcommerceApplyment"] = s.ecHandler(s.ecCreateApplyment)
	s.handlers["QueryEcommerceApplymentByID"] = s.ecHandler(s.ecQueryApplyment)
	s.handlers["QueryEcommerceApplymentByOutRequestNo"] = s.ecHandler(s.ecQueryApplyment)
	s.handlers["CreateEcommerceProfitSharingOrder"] = s.ecHandler(s.ecCreateShare)
	s.handlers["QueryEcommerceProfitSharingOrder"] = s.ecHandler(s.ecQueryShare)
	s.handlers["AddEcommerceProfitSharingReceiver"] = s.ecHandler(s.ecAddReceiver)
	s.handlers["DeleteEcommerceProfitSharingReceiver"] = s.ecHandler(s.ecDeleteReceiver)
	s.handlers["FinishEcommerceProfitSharing"] = s.ecHandler(s.ecFinishShare)
	s.handlers["QueryEcommerceProfitSharingAmounts"] = s.ecHandler(s.ecUnsplit)
	s.handlers["CreateEcommerceProfitSharingReturnOrder"] = s.ecHandler(s.ecCreateReturn)
	s.handlers["QueryEcommerceProfitSharingReturnOrder"] = s.ecHandler(s.ecQueryReturn)
	s.handlers["CreateEcommerceRefund"] = s.ecHandler(s.ecCreateRefund)
	s.handlers["QueryEcommerceRefundByID"] = s.ecHandler(s.ecQueryRefund)
	s.handlers["QueryEcommerceRefundByOutRefundNo"] = s.ecHandler(s.ecQueryRefund)
	s.handlers["ReturnEcommerceRefundAdvance"] = s.ecHandler(s.ecReturnAdvance)
	s.handlers["QueryEcommerceRefundAdvanceReturn"] = s.ecHandler(s.ecQueryAdvance)
	s.handlers["CreateEcommerceSubsidy"] = s.ecHandler(s.ecCreateSubsidy)
	s.handlers["ReturnEcommerceSubsidy"] = s.ecHandler(s.ecReturnSubsidy)
	s.handlers["CancelEcommerceSubsidy"] = s.ecHandler(s.ecCancelSubsidy)
	s.handlers["QueryEcommerceBalance"] = s.ecHandler(s.ecBalance)
	s.handlers["CreateEcommerceWithdraw"] = s.ecHandler(s.ecCreateWithdraw)
	s.handlers["QueryEcommerceWithdrawByID"] = s.ecHandler(s.ecQueryWithdraw)
	s.handlers["QueryEcommerceWithdrawByOutRequestNo"] = s.ecHandler(s.ecQueryWithdraw)
}

// ecHandler runs an e-commerce handler under s.mu with the state
// initialised and the second-level merchant the call names (its sub_mchid
// path, body or query parameter); a direct merchant is refused: 电商收付通
// is for platforms.
func (s *Server) ecHandler(h func(c *call, sub string) *answer) opHandler {
	return func(c *call) *answer {
		if !c.merchant.partner {
			return c.fail(http.StatusForbidden, "NO_AUTH", "商户号不是电商平台（服务商）：电商收付通接口仅对平台开放")
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		s.st.ps.init()
		s.st.ec.init()
		return h(c, c.ecSub())
	}
}

func (c *call) ecSub() string {
	if v := c.pathParams["sub_mchid"]; v != "" {
		return v
	}
	return c.orderOwner()
}

// ---------------------------------------------------------------- 进件

func (s *Server) ecCreateApplyment(c *call, sub string) *answer {
	no := str(c.body, "out_request_no")
	fp := fingerprint(c.body)
	if old := s.st.ec.applyments[ownerKey(c.merchant.MchID, no)]; old != nil {
		if old.fingerprint != fp {
			return c.fail(http.StatusBadRequest, "INVALID_REQUEST", "业务申请编号已存在，且申请内容与之前不一致")
		}
		return c.ok(map[string]any{"applyment_id": old.applymentID, "out_request_no": no})
	}
	id, _ := strconv.ParseInt("2000002"+strconv.FormatInt(1e8+s.st.nextSeq(), 10)[1:], 10, 64)
	a := &ecApplyment{spMchID: c.merchant.MchID, outRequestNo: no, applymentID: id, state: "CHECKING",
		reject: strings.HasPrefix(strings.ToUpper(no), "REJECT"), fingerprint: fp}
	s.st.ec.applyments[ownerKey(a.spMchID, no)] = a
	s.st.ec.byApplyID[a.idString()] = a
	s.schedulePS(func() { s.ecAudit(a) })
	return c.ok(map[string]any{"applyment_id": id, "out_request_no": no})
}

// ecAudit ends a CHECKING application: REJECTED, or FINISH with a new
// second-level merchant. Callers hold s.mu.
func (s *Server) ecAudit(a *ecApplyment) {
	if a.state != "CHECKING" {
		return
	}
	if a.reject {
		a.state = "REJECTED"
		return
	}
	a.state = "FINISH"
	a.subMchID = "16" + strconv.FormatInt(1e8+s.st.nextSeq(), 10)[1:]
	s.st.ec.subs[a.subMchID] = a.spMchID
}

func (s *Server) ecQueryApplyment(c *call, sub string) *answer {
	a := s.st.ec.byApplyID[c.pathParams["applyment_id"]]
	if no := c.pathParams["out_request_no"]; no != "" {
		a = s.st.ec.applyments[ownerKey(c.merchant.MchID, no)]
	}
	if a == nil || a.spMchID != c.merchant.MchID {
		return c.fail(http.StatusNotFound, "RESOURCE_NOT_EXISTS", "申请单不存在")
	}
	desc := map[string]string{"CHECKING": "资料校验中", "REJECTED": "已驳回", "FINISH": "完成"}[a.state]
	v := map[string]any{"applyment_id": a.applymentID, "out_request_no": a.outRequestNo,
		"applyment_state": a.state, "applyment_state_desc": desc}
	switch a.state {
	case "FINISH":
		v["sub_mchid"], v["sign_state"] = a.subMchID, "SIGNED"
	case "REJECTED":
		v["audit_detail"] = []any{map[string]any{"param_name": "id_card_copy", "reject_reason": "身份证人像面照片不清晰（沙箱：业务申请编号以REJECT开头）"}}
	}
	return c.ok(v)
}

// ------------------------------------------------------------- balances

// ecOrders lists the paid orders of a second-level merchant. Callers hold s.mu.
func (s *Server) ecOrders(sub string) []*order {
	var out []*order
	for _, o := range s.st.orders {
		if o.subMchID == sub && o.paid() {
			out = append(out, o)
		}
	}
	return out
}

// ecRemainder is what a paid order left the merchant after shares and
// refunds from its funds; released reports that profit sharing ended.
// Callers hold s.mu.
func (s *Server) ecRemainder(o *order) (left int64, released bool) {
	return o.total - s.st.ps.shared[o.transactionID] - s.st.ec.frozenOut[o.transactionID], s.st.ps.unfrozen[o.transactionID]
}

// ecBalances returns a merchant's available and pending (frozen) amounts.
// Callers hold s.mu.
func (s *Server) ecBalances(sub string) (available, pending int64) {
	available = s.st.ec.ledger[sub]
	for _, r := range s.st.ps.returns {
		if r.result == "SUCCESS" && r.ps.order.subMchID == sub {
			available += r.amount // a returned share comes back available
		}
	}
	for _, o := range s.ecOrders(sub) {
		left, released := s.ecRemainder(o)
		if released {
			available += left
		} else {
			pending += left
		}
	}
	return available, pending
}

func (s *Server) ecBalance(c *call, sub string) *answer {
	avail, pending := s.ecBalances(sub)
	typ := c.r.URL.Query().Get("account_type")
	if typ == "" {
		typ = "BASIC"
	}
	if typ != "BASIC" {
		avail, pending = 0, 0
	}
	return c.ok(map[string]any{"sub_mchid": sub, "account_type": typ, "available_amount": avail, "pending_amount": pending})
}

// EcommerceBalance returns a second-level merchant's available and pending
// (frozen) balance in 分, as QueryEcommerceBalance answers it.
func (s *Server) EcommerceBalance(subMchID string) (available, pending int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.ec.init()
	s.st.ps.init()
	return s.ecBalances(subMchID)
}

func (c *call) notEnough(field string, need, have int64) *answer {
	return c.failDetail(http.StatusForbidden, "NOT_ENOUGH", fmt.Sprintf("余额不足（需要%d分，可用%d分）", need, have),
		errorDetail{Field: field, Value: need, Location: "body", Issue: fmt.Sprintf("at most %d is available", have)})
}

// ------------------------------------------------------------ 分账

// ecOrder finds a paid order of the call's second-level merchant.
// Callers hold s.mu.
func (s *Server) ecOrder(c *call, txID string) *order {
	o := s.st.byTxID[txID]
	if o == nil || o.subMchID != c.ecSub() || !o.paid() {
		return nil
	}
	return o
}

func (s *Server) ecCreateShare(c *call, sub string) *answer {
	o := s.ecOrder(c, str(c.body, "transaction_id"))
	if o == nil {
		return c.fail(http.StatusNotFound, "RESOURCE_NOT_EXISTS", "订单不存在或未支付")
	}
	outNo := str(c.body, "out_order_no")
	fp := fingerprint(c.body)
	if old := s.st.ps.orders[ownerKey(sub, outNo)]; old != nil {
		if old.fingerprint != fp {
			return c.fail(http.StatusBadRequest, "INVALID_REQUEST", "商户分账单号重复，且请求参数与之前不一致")
		}
		return c.ok(s.ecShareJSON(old))
	}
	if s.st.ps.unfrozen[o.transactionID] {
		return c.fail(http.StatusBadRequest, "INVALID_REQUEST", "订单分账已完结，不能再分账")
	}
	now := s.now()
	p := &psOrder{owner: sub, order: o, orderID: "30" + s.st.newTransactionID(now)[2:], outOrderNo: outNo, state: "PROCESSING",
		unfreeze: c.body["finish"] == true, fingerprint: fp, notifier: c.merchant}
	var sum int64
	list, _ := c.body["receivers"].([]any)
	for i, x := range list {
		amt, _ := num(x, "amount")
		if amt <= 0 {
			return c.failDetail(http.StatusBadRequest, "PARAM_ERROR", "分账金额必须大于0",
				errorDetail{Field: fmt.Sprintf("/receivers/%d/amount", i), Value: amt, Location: "body", Issue: "at least 1 (分)"})
		}
		typ, acct := str(x, "type"), str(x, "receiver_account")
		if !(typ == "MERCHANT_ID" && acct == c.merchant.MchID) && s.st.ps.rcv[rcvKey(c.merchant.MchID, typ, acct)] == nil {
			return c.failDetail(http.StatusBadRequest, "RECEIVER_INVALID", "分账接收方不存在，请先添加分账接收方",
				errorDetail{Field: fmt.Sprintf("/receivers/%d/receiver_account", i), Value: acct, Location: "body",
					Issue: "not the platform itself nor on its receiver list: add it with AddEcommerceProfitSharingReceiver first"})
		}
		sum += amt
		p.receivers = append(p.receivers, &psShare{typ: typ, account: acct, description: str(x, "description"),
			amount: amt, result: "PENDING", detailID: "36" + s.st.newTransactionID(now)[2:], created: now})
	}
	if left, _ := s.ecRemainder(o); sum > left {
		return c.failDetail(http.StatusBadRequest, "NOT_ENOUGH", fmt.Sprintf("分账金额超出订单剩余待分金额（剩余%d分）", left),
			errorDetail{Field: "/receivers", Value: sum, Location: "body", Issue: fmt.Sprintf("at most %d can still be shared", left)})
	}
	s.st.ps.shared[o.transactionID] += sum
	s.st.ps.orders[ownerKey(sub, outNo)] = p
	s.st.ps.byID[p.orderID] = p
	s.schedulePS(func() { s.finishProfitSharing(p) })
	return c.ok(s.ecShareJSON(p))
}

// ecAddReceiver puts a receiver on the platform's list: e-commerce shares
// go to the platform itself or to receivers it added.
func (s *Server) ecAddReceiver(c *call, _ string) *answer {
	typ, account := str(c.body, "type"), str(c.body, "account")
	s.st.ps.rcv[rcvKey(c.merchant.MchID, typ, account)] = &psRcv{typ: typ, account: account, relation: str(c.body, "relation_type")}
	return c.ok(map[string]any{"type": typ, "account": account})
}

func (s *Server) ecDeleteReceiver(c *call, _ string) *answer {
	typ, account := str(c.body, "type"), str(c.body, "account")
	delete(s.st.ps.rcv, rcvKey(c.merchant.MchID, typ, account))
	return c.ok(map[string]any{"type": typ, "account": account})
}

// ecShareJSON renders an e-commerce profit-sharing order. Callers hold s.mu.
func (s *Server) ecShareJSON(p *psOrder) map[string]any {
	out := map[string]any{"sub_mchid": p.owner, "transaction_id": p.order.transactionID, "out_order_no": p.outOrderNo,
		"order_id": p.orderID, "status": p.state}
	rs := []any{}
	for _, r := range p.receivers {
		d := map[string]any{"amount": r.amount, "description": r.description, "type": r.typ, "receiver_account": r.account,
			"result": r.result, "detail_id": r.detailID, "finish_time": wxTime(r.created)}
		if r.typ == "MERCHANT_ID" {
			d["receiver_mchid"] = r.account
		}
		if !r.finished.IsZero() {
			d["finish_time"] = wxTime(r.finished)
		}
		rs = append(rs, d)
	}
	out["receivers"] = rs
	if p.unfreeze && len(p.receivers) == 0 {
		left, _ := s.ecRemainder(p.order)
		out["finish_amount"], out["finish_description"] = left, "分账完结"
	}
	return out
}

func (s *Server) ecQueryShare(c *call, sub string) *answer {
	q := c.r.URL.Query()
	p := s.st.ps.orders[ownerKey(sub, q.Get("out_order_no"))]
	if p == nil || p.order.transactionID != q.Get("transaction_id") {
		return c.psNotFound()
	}
	return c.ok(s.ecShareJSON(p))
}

func (s *Server) ecFinishShare(c *call, sub string) *answer {
	o := s.ecOrder(c, str(c.body, "transaction_id"))
	if o == nil {
		return c.fail(http.StatusNotFound, "RESOURCE_NOT_EXISTS", "订单不存在或未支付")
	}
	outNo := str(c.body, "out_order_no")
	p := s.st.ps.orders[ownerKey(sub, outNo)]
	if p == nil {
		if s.st.ps.unfrozen[o.transactionID] {
			return c.fail(http.StatusBadRequest, "INVALID_REQUEST", "订单分账已完结")
		}
		p = &psOrder{owner: sub, order: o, orderID: "30" + s.st.newTransactionID(s.now())[2:], outOrderNo: outNo,
			state: "FINISHED", unfreeze: true, fingerprint: fingerprint(c.body), notifier: c.merchant}
		s.st.ps.orders[ownerKey(sub, outNo)] = p
		s.st.ps.byID[p.orderID] = p
		s.st.ps.unfrozen[o.transactionID] = true
	}
	return c.ok(map[string]any{"sub_mchid": sub, "transaction_id": o.transactionID, "out_order_no": outNo, "order_id": p.orderID})
}

func (s *Server) ecUnsplit(c *call, sub string) *answer {
	o := s.st.byTxID[c.pathParams["transaction_id"]]
	if o == nil || !o.paid() || o.subMchID == "" {
		return c.fail(http.StatusNotFound, "RESOURCE_NOT_EXISTS", "订单不存在或未支付")
	}
	left, released := s.ecRemainder(o)
	if released {
		left = 0
	}
	return c.ok(map[string]any{"transaction_id": o.transactionID, "unsplit_amount": left})
}

func (s *Server) ecCreateReturn(c *call, sub string) *answer {
	outReturn := str(c.body, "out_return_no")
	if old := s.st.ps.returns[ownerKey(sub, outReturn)]; old != nil {
		return c.ok(s.ecReturnJSON(old))
	}
	p := s.st.ps.byID[str(c.body, "order_id")]
	if no := str(c.body, "out_order_no"); p == nil && no != "" {
		p = s.st.ps.orders[ownerKey(sub, no)]
	}
	if p == nil || p.owner != sub {
		return c.fail(http.StatusNotFound, "RESOURCE_NOT_EXISTS", "分账单不存在")
	}
	amount, _ := num(c.body, "amount")
	mch := str(c.body, "return_mchid")
	var given int64
	for _, r := range p.receivers {
		if r.typ == "MERCHANT_ID" && r.account == mch && r.result == "SUCCESS" {
			given += r.amount
		}
	}
	for _, r := range s.st.ps.returns {
		if r.ps == p && r.returnMchID == mch && r.result != "FAILED" {
			given -= r.amount
		}
	}
	if amount <= 0 || amount > given {
		return c.failDetail(http.StatusBadRequest, "NOT_ENOUGH", fmt.Sprintf("回退金额超出该接收方可回退金额（%d分）", max(given, 0)),
			errorDetail{Field: "/amount", Value: amount, Location: "body", Issue: fmt.Sprintf("at most %d can be returned by %s (only finished shares return)", max(given, 0), mch)})
	}
	now := s.now()
	r := &psReturn{owner: sub, ps: p, returnID: "30" + s.st.newTransactionID(now)[2:], outReturnNo: outReturn, returnMchID: mch,
		description: str(c.body, "description"), amount: amount, result: "PROCESSING", created: now, notifier: c.merchant}
	s.st.ps.returns[ownerKey(sub, outReturn)] = r
	s.schedulePS(func() { s.finishProfitSharingReturn(r, "SUCCESS", "") })
	return c.ok(s.ecReturnJSON(r))
}

func (s *Server) ecReturnJSON(r *psReturn) map[string]any {
	v := map[string]any{"sub_mchid": r.owner, "order_id": r.ps.orderID, "out_order_no": r.ps.outOrderNo, "out_return_no": r.outReturnNo,
		"return_mchid": r.returnMchID, "amount": r.amount, "return_no": r.returnID, "result": r.result, "finish_time": wxTime(r.created)}
	if !r.finished.IsZero() {
		v["finish_time"] = wxTime(r.finished)
	}
	if r.failReason != "" {
		v["fail_reason"] = r.failReason
	}
	return v
}

func (s *Server) ecQueryReturn(c *call, sub string) *answer {
	r := s.st.ps.returns[ownerKey(sub, c.r.URL.Query().Get("out_return_no"))]
	if r == nil {
		return c.psNotFound()
	}
	return c.ok(s.ecReturnJSON(r))
}

// --------------------------------------------------------------- 退款

func (s *Server) ecCreateRefund(c *call, sub string) *answer {
	var o *order
	if tx := str(c.body, "transaction_id"); tx != "" {
		o = s.st.byTxID[tx]
	} else {
		o = s.st.orders[ownerKey(sub, str(c.body, "out_trade_no"))]
	}
	if o == nil || o.subMchID != sub || !o.paid() {
		return c.fail(http.StatusNotFound, "RESOURCE_NOT_EXISTS", "订单不存在（未支付的订单不能发起退款）")
	}
	amount, _ := num(c.body, "amount", "refund")
	total, _ := num(c.body, "amount", "total")
	orn := str(c.body, "out_refund_no")
	source := str(c.body, "refund_account")
	if source == "" {
		source = "REFUND_SOURCE_SUB_MERCHANT"
	}
	fp := fmt.Sprintf("%s|%d|%d|%s", o.transactionID, amount, total, source)
	if old := s.st.refunds[ownerKey(sub, orn)]; old != nil {
		if old.fingerprint != fp {
			return c.refundConflict()
		}
		return c.ok(s.ecRefundJSON(old))
	}
	if a := c.refundNotPositive(amount); a != nil {
		return a
	}
	if a := c.refundTotalMismatch(o, total); a != nil {
		return a
	}
	if a := c.refundTooMuch(o, amount); a != nil {
		return a
	}
	var advance int64
	from := ""
	switch source {
	case "REFUND_SOURCE_PARTNER_ADVANCE":
		advance = amount
	default:
		left, released := s.ecRemainder(o)
		if !released {
			if amount > left {
				return c.notEnough("/amount/refund", amount, left)
			}
			s.st.ec.frozenOut[o.transactionID] += amount
			from = "frozen"
		} else {
			avail, _ := s.ecBalances(sub)
			if amount > avail {
				return c.notEnough("/amount/refund", amount, avail)
			}
			s.st.ec.ledger[sub] -= amount
			from = "available"
		}
	}
	now := s.now()
	rf := &refund{
		order: o, owner: sub, refundID: s.st.newRefundID(now), outRefundNo: orn,
		status: RefundProcessing, outcome: s.refundOutcome(orn), amount: amount, currency: o.currency,
		reason: str(c.body, "reason"), notifyURL: str(c.body, "notify_url"),
		fundsAccount: "AVAILABLE", channel: "ORIGINAL", userReceivedAccount: "支付用户零钱",
		createTime: now, fingerprint: fp, notifier: c.merchant, preferPublicKey: c.preferPublicKey,
		refundAccount: source, advance: advance, ecFrom: from,
	}
	if fa := str(c.body, "funds_account"); fa != "" {
		rf.fundsAccount = fa
	}
	o.refunded += amount
	s.st.refunds[ownerKey(sub, orn)] = rf
	s.st.refundByID[rf.refundID] = rf
	s.scheduleRefund(rf)
	return c.ok(s.ecRefundJSON(rf))
}

// ecRefundJSON renders an e-commerce refund. Callers hold s.mu.
func (s *Server) ecRefundJSON(rf *refund) map[string]any {
	v := s.refundJSON(rf)
	v["refund_account"] = rf.refundAccount
	amt := v["amount"].(map[string]any)
	amt["advance"] = rf.advance
	return v
}

func (s *Server) ecQueryRefund(c *call, sub string) *answer {
	rf := s.st.refundByID[c.pathParams["refund_id"]]
	if no := c.pathParams["out_refund_no"]; no != "" {
		rf = s.st.refunds[ownerKey(sub, no)]
	}
	if rf == nil || rf.order.subMchID != sub || rf.refundAccount == "" {
		return c.fail(http.StatusNotFound, "RESOURCE_NOT_EXISTS", "退款单不存在")
	}
	return c.ok(s.ecRefundJSON(rf))
}

func (s *Server) ecReturnAdvance(c *call, sub string) *answer {
	rf := s.st.refundByID[c.pathParams["refund_id"]]
	if rf == nil || rf.order.subMchID != sub || rf.advance == 0 {
		return c.fail(http.StatusNotFound, "RESOURCE_NOT_EXISTS", "垫付退款单不存在")
	}
	if rf.status != RefundSuccess {
		return c.fail(http.StatusBadRequest, "INVALID_REQUEST", "退款未成功，不能回补垫付资金")
	}
	if adv := s.st.ec.advances[rf.refundID]; adv != nil {
		return c.ok(s.ecAdvanceJSON(adv))
	}
	avail, _ := s.ecBalances(sub)
	if rf.advance > avail {
		return c.notEnough("/refund_id", rf.advance, avail)
	}
	s.st.ec.ledger[sub] -= rf.advance
	now := s.now()
	adv := &ecAdvance{refund: rf, id: "12" + s.st.newTransactionID(now)[2:], amount: rf.advance, payer: sub, payee: rf.order.mchid,
		result: "SUCCESS", succeeded: now}
	s.st.ec.advances[rf.refundID] = adv
	return c.ok(s.ecAdvanceJSON(adv))
}

func (s *Server) ecAdvanceJSON(a *ecAdvance) map[string]any {
	return map[string]any{"refund_id": a.refund.refundID, "advance_return_id": a.id, "return_amount": a.amount,
		"payer_mchid": a.payer, "payer_account": "BASIC", "payee_mchid": a.payee, "payee_account": "BASIC",
		"result": a.result, "success_time": wxTime(a.succeeded)}
}

func (s *Server) ecQueryAdvance(c *call, sub string) *answer {
	adv := s.st.ec.advances[c.pathParams["refund_id"]]
	if adv == nil || adv.payer != sub {
		return c.fail(http.StatusNotFound, "RESOURCE_NOT_EXISTS", "垫付回补单不存在")
	}
	return c.ok(s.ecAdvanceJSON(adv))
}

// --------------------------------------------------------------- 补差

func (s *Server) ecCreateSubsidy(c *call, sub string) *answer {
	o := s.ecOrder(c, str(c.body, "transaction_id"))
	if o == nil {
		return c.fail(http.StatusNotFound, "RESOURCE_NOT_EXISTS", "订单不存在或未支付")
	}
	key := str(c.body, "out_subsidy_no")
	if key == "" {
		key = o.transactionID
	}
	if old := s.st.ec.subsidies[ownerKey(sub, key)]; old != nil {
		return c.ok(s.ecSubsidyJSON(old))
	}
	if s.st.ec.cancelled[o.transactionID] {
		return c.fail(http.StatusBadRequest, "INVALID_REQUEST", "该订单的补差已取消")
	}
	amount, _ := num(c.body, "amount")
	if amount <= 0 || amount > o.total {
		return c.failDetail(http.StatusBadRequest, "PARAM_ERROR", "补差金额不正确",
			errorDetail{Field: "/amount", Value: amount, Location: "body", Issue: fmt.Sprintf("between 1 and the order total %d", o.total)})
	}
	now := s.now()
	sb := &ecSubsidy{subMchID: sub, txID: o.transactionID, id: "30" + s.st.newTransactionID(now)[2:], outNo: key,
		refundID: str(c.body, "refund_id"), description: str(c.body, "description"), amount: amount, at: now}
	s.st.ec.subsidies[ownerKey(sub, key)] = sb
	s.st.ec.ledger[sub] += amount
	return c.ok(s.ecSubsidyJSON(sb))
}

func (s *Server) ecSubsidyJSON(sb *ecSubsidy) map[string]any {
	return map[string]any{"sub_mchid": sb.subMchID, "transaction_id": sb.txID, "subsidy_id": sb.id, "description": sb.description,
		"amount": sb.amount, "result": "SUCCESS", "success_time": wxTime(sb.at)}
}

func (s *Server) ecReturnSubsidy(c *call, sub string) *answer {
	outNo := str(c.body, "out_order_no")
	if old := s.st.ec.subsidyRet[ownerKey(sub, outNo)]; old != nil {
		return c.ok(s.ecSubsidyReturnJSON(old))
	}
	tx := str(c.body, "transaction_id")
	var given int64
	for _, sb := range s.st.ec.subsidies {
		if sb.subMchID == sub && sb.txID == tx {
			given += sb.amount
		}
	}
	for _, sb := range s.st.ec.subsidyRet {
		if sb.subMchID == sub && sb.txID == tx {
			given -= sb.amount
		}
	}
	amount, _ := num(c.body, "amount")
	if amount <= 0 || amount > given {
		return c.failDetail(http.StatusBadRequest, "INVALID_REQUEST", fmt.Sprintf("回退金额超出该订单已补差金额（%d分）", given),
			errorDetail{Field: "/amount", Value: amount, Location: "body", Issue: fmt.Sprintf("at most %d was subsidised and not returned", given)})
	}
	if avail, _ := s.ecBalances(sub); amount > avail {
		return c.notEnough("/amount", amount, avail)
	}
	now := s.now()
	sb := &ecSubsidy{subMchID: sub, txID: tx, id: "30" + s.st.newTransactionID(now)[2:], outNo: outNo,
		refundID: str(c.body, "refund_id"), description: str(c.body, "description"), amount: amount, at: now}
	s.st.ec.subsidyRet[ownerKey(sub, outNo)] = sb
	s.st.ec.ledger[sub] -= amount
	return c.ok(s.ecSubsidyReturnJSON(sb))
}

func (s *Server) ecSubsidyReturnJSON(sb *ecSubsidy) map[string]any {
	return map[string]any{"sub_mchid": sb.subMchID, "transaction_id": sb.txID, "subsidy_refund_id": sb.id, "refund_id": sb.refundID,
		"out_order_no": sb.outNo, "amount": sb.amount, "description": sb.description, "result": "SUCCESS", "success_time": wxTime(sb.at)}
}

func (s *Server) ecCancelSubsidy(c *call, sub string) *answer {
	o := s.ecOrder(c, str(c.body, "transaction_id"))
	if o == nil {
		return c.fail(http.StatusNotFound, "RESOURCE_NOT_EXISTS", "订单不存在或未支付")
	}
	s.st.ec.cancelled[o.transactionID] = true
	return c.ok(map[string]any{"sub_mchid": sub, "transaction_id": o.transactionID, "result": "SUCCESS",
		"description": str(c.body, "description")})
}

// --------------------------------------------------------------- 提现

func (s *Server) ecCreateWithdraw(c *call, sub string) *answer {
	no := str(c.body, "out_request_no")
	amount, _ := num(c.body, "amount")
	if old := s.st.ec.withdraws[ownerKey(sub, no)]; old != nil {
		if old.amount != amount {
			return c.fail(http.StatusBadRequest, "INVALID_REQUEST", "商户提现单号重复，且提现金额与之前不一致")
		}
		return c.ok(map[string]any{"sub_mchid": sub, "withdraw_id": old.withdrawID, "out_request_no": no, "account_type": old.accountType})
	}
	if amount <= 0 {
		return c.failDetail(http.StatusBadRequest, "PARAM_ERROR", "提现金额必须大于0",
			errorDetail{Field: "/amount", Value: amount, Location: "body", Issue: "at least 1 (分)"})
	}
	if avail, _ := s.ecBalances(sub); amount > avail {
		return c.notEnough("/amount", amount, avail)
	}
	now := s.now()
	w := &ecWithdraw{subMchID: sub, spMchID: c.merchant.MchID, outRequestNo: no, withdrawID: "1232" + s.st.newTransactionID(now),
		amount: amount, status: "CREATE_SUCCESS", remark: str(c.body, "remark"), bankMemo: str(c.body, "bank_memo"),
		accountType: "BASIC", created: now, updated: now,
		notifyURL: str(c.body, "notify_url"), notifier: c.merchant, preferPublicKey: c.preferPublicKey}
	if t := str(c.body, "account_type"); t != "" {
		w.accountType = t
	}
	s.st.ec.ledger[sub] -= amount
	s.st.ec.withdraws[ownerKey(sub, no)] = w
	s.st.ec.withdrawID[w.withdrawID] = w
	s.schedulePS(func() { s.ecWithdrawn(w) })
	return c.ok(map[string]any{"sub_mchid": sub, "withdraw_id": w.withdrawID, "out_request_no": no, "account_type": w.accountType})
}

func (s *Server) ecQueryWithdraw(c *call, sub string) *answer {
	w := s.st.ec.withdrawID[c.pathParams["withdraw_id"]]
	if no := c.pathParams["out_request_no"]; no != "" {
		w = s.st.ec.withdraws[ownerKey(sub, no)]
	}
	if w == nil || w.subMchID != sub {
		return c.fail(http.StatusNotFound, "RESOURCE_NOT_EXISTS", "提现单不存在")
	}
	return c.ok(ecWithdrawJSON(w))
}

func ecWithdrawJSON(w *ecWithdraw) map[string]any {
	return map[string]any{"sub_mchid": w.subMchID, "sp_mchid": w.spMchID, "status": w.status, "withdraw_id": w.withdrawID,
		"out_request_no": w.outRequestNo, "amount": w.amount, "create_time": wxTime(w.created), "update_time": wxTime(w.updated),
		"remark": w.remark, "bank_memo": w.bankMemo, "account_type": w.accountType, "account_number": "1178", "account_bank": "招商银行"}
}

// ecWithdrawn completes a CREATE_SUCCESS withdrawal and sends its
// MCHWITHDRAW.CHANGE notification when the request named a notify_url.
// Callers hold s.mu.
func (s *Server) ecWithdrawn(w *ecWithdraw) {
	if w.status != "CREATE_SUCCESS" {
		return
	}
	w.status, w.updated = "SUCCESS", s.now()
	if w.notifyURL == "" {
		return
	}
	s.enqueue(notification{merchant: w.notifier, url: w.notifyURL, eventType: "MCHWITHDRAW.CHANGE", summary: "提现状态变更",
		originalType: "withdraw", resource: ecWithdrawJSON(w), preferPublicKey: w.preferPublicKey})
}

// SettleEcommerce ends now every e-commerce step that waits for the refund
// delay (for WithRefundDelay(-1)): applications are audited and withdrawals
// succeed. Profit sharing and its returns settle with SettleProfitSharing,
// refunds with SetRefundOutcome.
func (s *Server) SettleEcommerce() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.ec.init()
	s.st.ps.init()
	for _, a := range s.st.ec.applyments {
		s.ecAudit(a)
	}
	for _, w := range s.st.ec.withdraws {
		s.ecWithdrawn(w)
	}
}

// ecUndoRefund gives a CLOSED refund's money back to where it was taken
// from. Callers hold s.mu.
func (s *Server) ecUndoRefund(rf *refund) {
	switch rf.ecFrom {
	case "frozen":
		s.st.ec.frozenOut[rf.order.transactionID] -= rf.amount
	case "available":
		s.st.ec.ledger[rf.owner] += rf.amount
	}
	rf.ecFrom = ""
}
