package sandbox

import (
	"fmt"
	"net/http"
	"time"
)

// Profit sharing (分账) with state: orders, unfreezes, returns, the unsplit
// amount of a paid order, and the PROFITSHARING / PROFITSHARING_RETURN
// notifications. A share is PROCESSING when accepted and FINISHED (its
// receivers SUCCESS) after the refund delay (WithRefundDelay, scaled), or
// at SettleProfitSharing; a return likewise ends SUCCESS. As at WeChat Pay,
// a share goes only to receivers added first (AddProfitSharingReceiver,
// DeleteProfitSharingReceiver keep the list per merchant). The order need
// not have been created with settle_info.profit_sharing: the sandbox is
// kinder than WeChat Pay there.

// psState is the profit-sharing state; Server.mu guards it.
type psState struct {
	orders   map[string]*psOrder  // ownerKey(owner, out_order_no)
	byID     map[string]*psOrder  // order_id
	returns  map[string]*psReturn // ownerKey(owner, out_return_no)
	shared   map[string]int64     // transaction_id → amount given away or released
	unfrozen map[string]bool      // transaction_id → the rest was released
	notify   map[string]string    // mchid → the profit-sharing notify URL
	rcv      map[string]*psRcv    // owner + "\x00" + type + "\x00" + account
}

// psRcv is a receiver on a merchant's receiver list.
type psRcv struct {
	typ, account, name, relation, custom string
}

func (p *psState) init() {
	if p.orders == nil {
		p.orders, p.byID, p.returns = map[string]*psOrder{}, map[string]*psOrder{}, map[string]*psReturn{}
		p.shared, p.unfrozen, p.notify, p.rcv = map[string]int64{}, map[string]bool{}, map[string]string{}, map[string]*psRcv{}
	}
}

type psOrder struct {
	owner       string
	order       *order
	orderID     string
	outOrderNo  string
	state       string // PROCESSING, FINISHED
	receivers   []*psShare
	unfreeze    bool // release the rest when finished
	fingerprint string
	notifier    *merchantState
}

type psShare struct {
	typ, account, description string
	amount                    int64
	result, failReason        string // PENDING, SUCCESS, CLOSED
	detailID                  string
	created, finished         time.Time
}

type psReturn struct {
	owner                    string
	ps                       *psOrder
	returnID, outReturnNo    string
	returnMchID, description string
	amount                   int64
	result, failReason       string // PROCESSING, SUCCESS, FAILED
	created, finished        time.Time
	notifier                 *merchantState
}

func (s *Server) registerProfitSharing() {
	s.handlers["CreateProfitSharingOrder"] = s.createProfitSharing
	s.handlers["QueryProfitSharingOrder"] = s.queryProfitSharing
	s.handlers["UnfreezeProfitSharingOrder"] = s.unfreezeProfitSharing
	s.handlers["QueryProfitSharingUnsplitAmount"] = s.unsplitAmount
	s.handlers["CreateProfitSharingReturnOrder"] = s.createProfitSharingReturn
	s.handlers["QueryProfitSharingReturnOrder"] = s.queryProfitSharingReturn
	s.handlers["AddProfitSharingReceiver"] = s.addReceiver
	s.handlers["DeleteProfitSharingReceiver"] = s.deleteReceiver
}

func rcvKey(owner, typ, account string) string { return owner + "\x00" + typ + "\x00" + account }

func (s *Server) addReceiver(c *call) *answer {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.ps.init()
	r := &psRcv{typ: str(c.body, "type"), account: str(c.body, "account"), relation: str(c.body, "relation_type"), custom: str(c.body, "custom_relation")}
	if n := str(c.body, "name"); n != "" {
		r.name = s.plainSensitive(n)
	}
	if r.typ == "MERCHANT_ID" && r.name == "" {
		return c.failDetail(http.StatusBadRequest, "PARAM_ERROR", "分账接收方类型为MERCHANT_ID时，分账接收方全称name必填",
			errorDetail{Field: "/name", Location: "body", Issue: "required for a MERCHANT_ID receiver"})
	}
	if r.relation == "CUSTOM" && r.custom == "" {
		return c.failDetail(http.StatusBadRequest, "PARAM_ERROR", "关系类型为CUSTOM时，custom_relation必填",
			errorDetail{Field: "/custom_relation", Location: "body", Issue: "required for relation_type CUSTOM"})
	}
	owner := c.orderOwner()
	s.st.ps.rcv[rcvKey(owner, r.typ, r.account)] = r
	v := map[string]any{"type": r.typ, "account": r.account, "relation_type": r.relation}
	if r.name != "" {
		v["name"] = r.name
	}
	if r.custom != "" {
		v["custom_relation"] = r.custom
	}
	if c.merchant.partner {
		v["sub_mchid"] = owner
	}
	c.encryptSensitiveAnswer(c.op.responseSchema(http.StatusOK), v)
	return c.ok(v)
}

func (s *Server) deleteReceiver(c *call) *answer {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.ps.init()
	owner := c.orderOwner()
	typ, account := str(c.body, "type"), str(c.body, "account")
	delete(s.st.ps.rcv, rcvKey(owner, typ, account))
	v := map[string]any{"type": typ, "account": account}
	if c.merchant.partner {
		v["sub_mchid"] = owner
	}
	return c.ok(v)
}

// AddProfitSharingReceiver adds a receiver to a merchant's list (owner: a
// direct mchid or a sub_mchid), as AddProfitSharingReceiver does.
func (s *Server) AddProfitSharingReceiver(owner, typ, account string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.ps.init()
	s.st.ps.rcv[rcvKey(owner, typ, account)] = &psRcv{typ: typ, account: account, relation: "PARTNER"}
}

// SetProfitSharingNotifyURL sets where the PROFITSHARING and
// PROFITSHARING_RETURN notifications of a merchant (direct merchant or
// service provider) go, as a merchant configures it on the merchant
// platform; none are sent before.
func (s *Server) SetProfitSharingNotifyURL(mchid, url string) error {
	if _, ok := s.merchants[mchid]; !ok {
		return fmt.Errorf("%w: no merchant %s", ErrNotFound, mchid)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.ps.init()
	s.st.ps.notify[mchid] = url
	return nil
}

// unsplit is what is left to share of a paid order. Callers hold s.mu.
func (s *Server) unsplit(o *order) int64 {
	if s.st.ps.unfrozen[o.transactionID] {
		return 0
	}
	return max(o.total-s.st.ps.shared[o.transactionID], 0)
}

// sharedOrder finds the paid order a profit-sharing request names.
// Callers hold s.mu.
func (s *Server) sharedOrder(c *call, txID string) *order {
	o := s.st.byTxID[txID]
	if o == nil || o.owner != c.orderOwner() || !o.paid() {
		return nil
	}
	return o
}

func (c *call) psNotFound() *answer {
	return c.fail(http.StatusNotFound, "RESOURCE_NOT_EXISTS", "记录不存在")
}

func (s *Server) createProfitSharing(c *call) *answer {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.ps.init()
	owner := c.orderOwner()
	o := s.sharedOrder(c, str(c.body, "transaction_id"))
	if o == nil {
		return c.fail(http.StatusNotFound, "RESOURCE_NOT_EXISTS", "订单不存在或未支付")
	}
	outNo := str(c.body, "out_order_no")
	fp := fingerprint(c.body)
	if old := s.st.ps.orders[ownerKey(owner, outNo)]; old != nil {
		if old.fingerprint != fp {
			return c.fail(http.StatusBadRequest, "INVALID_REQUEST", "商户分账单号重复，且请求参数与之前不一致")
		}
		return c.ok(s.psOrderJSON(old))
	}
	now := s.now()
	p := &psOrder{owner: owner, order: o, orderID: "30" + s.st.newTransactionID(now)[2:], outOrderNo: outNo, state: "PROCESSING",
		unfreeze: c.body["unfreeze_unsplit"] == true, fingerprint: fp, notifier: c.merchant}
	var sum int64
	list, _ := c.body["receivers"].([]any)
	for i, x := range list {
		amt, _ := num(x, "amount")
		if amt <= 0 {
			return c.failDetail(http.StatusBadRequest, "PARAM_ERROR", "分账金额必须大于0",
				errorDetail{Field: fmt.Sprintf("/receivers/%d/amount", i), Value: amt, Location: "body", Issue: "at least 1 (分)"})
		}
		sum += amt
		if s.st.ps.rcv[rcvKey(owner, str(x, "type"), str(x, "account"))] == nil {
			return c.failDetail(http.StatusBadRequest, "RECEIVER_INVALID", "分账接收方不存在，请先添加分账接收方",
				errorDetail{Field: fmt.Sprintf("/receivers/%d/account", i), Value: str(x, "account"), Location: "body", Issue: "not on the receiver list: add it with AddProfitSharingReceiver first"})
		}
		p.receivers = append(p.receivers, &psShare{typ: str(x, "type"), account: str(x, "account"), description: str(x, "description"),
			amount: amt, result: "PENDING", detailID: "36" + s.st.newTransactionID(now)[2:], created: now})
	}
	if s.st.ps.unfrozen[o.transactionID] {
		return c.fail(http.StatusBadRequest, "INVALID_REQUEST", "订单已完成分账（剩余资金已解冻），不能再分账")
	}
	if left := s.unsplit(o); sum > left {
		return c.failDetail(http.StatusBadRequest, "NOT_ENOUGH", fmt.Sprintf("分账金额超出订单剩余待分金额（剩余%d分）", left),
			errorDetail{Field: "/receivers", Value: sum, Location: "body", Issue: fmt.Sprintf("at most %d can still be shared", left)})
	}
	s.st.ps.shared[o.transactionID] += sum
	s.st.ps.orders[ownerKey(owner, outNo)] = p
	s.st.ps.byID[p.orderID] = p
	s.schedulePS(func() { s.finishProfitSharing(p) })
	return c.ok(s.psOrderJSON(p))
}

// schedulePS runs fn under s.mu after the refund delay. Callers hold s.mu.
func (s *Server) schedulePS(fn func()) {
	if s.opts.refundDelay < 0 {
		return
	}
	s.after(s.scaled(s.opts.refundDelay), func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		fn()
	})
}

// finishProfitSharing completes a PROCESSING share: every PENDING receiver
// SUCCESS, the order FINISHED, a PROFITSHARING notification per receiver.
// Callers hold s.mu.
func (s *Server) finishProfitSharing(p *psOrder) {
	if p.state != "PROCESSING" {
		return
	}
	now := s.now()
	p.state = "FINISHED"
	if p.unfreeze {
		s.st.ps.unfrozen[p.order.transactionID] = true
	}
	for _, r := range p.receivers {
		if r.result != "PENDING" {
			continue
		}
		r.result, r.finished = "SUCCESS", now
		s.psNotify(p.notifier, p.order, "PROFITSHARING", "分账", p.orderID, p.outOrderNo, r.typ, r.account, r.amount, r.description, now)
	}
}

// psNotify sends a PROFITSHARING or PROFITSHARING_RETURN notification when
// the merchant set a URL. Callers hold s.mu.
func (s *Server) psNotify(m *merchantState, o *order, event, summary, orderID, outOrderNo, typ, account string, amount int64, description string, at time.Time) {
	url := s.st.ps.notify[m.MchID]
	if url == "" {
		return
	}
	res := map[string]any{
		"transaction_id": o.transactionID, "order_id": orderID, "out_order_no": outOrderNo,
		"receiver":     map[string]any{"type": typ, "account": account, "amount": amount, "description": description},
		"success_time": wxTime(at),
	}
	if o.partner || o.subMchID != "" {
		res["sp_mchid"], res["sub_mchid"] = o.mchid, o.subMchID
	} else {
		res["mchid"] = o.mchid
	}
	s.enqueue(notification{merchant: m, url: url, eventType: event, summary: summary, originalType: "profitsharing",
		resource: res, outTradeNo: o.outTradeNo, preferPublicKey: o.preferPublicKey})
}

// psOrderJSON renders a ProfitSharingOrder. Callers hold s.mu.
func (s *Server) psOrderJSON(p *psOrder) map[string]any {
	out := map[string]any{"transaction_id": p.order.transactionID, "out_order_no": p.outOrderNo, "order_id": p.orderID, "state": p.state}
	if p.order.partner {
		out["sub_mchid"] = p.owner
	}
	rs := []any{}
	for _, r := range p.receivers {
		d := map[string]any{"amount": r.amount, "description": r.description, "type": r.typ, "account": r.account,
			"result": r.result, "detail_id": r.detailID, "create_time": wxTime(r.created), "finish_time": wxTime(r.created)}
		if !r.finished.IsZero() {
			d["finish_time"] = wxTime(r.finished)
		}
		if r.failReason != "" {
			d["fail_reason"] = r.failReason
		}
		rs = append(rs, d)
	}
	out["receivers"] = rs
	return out
}

func (s *Server) queryProfitSharing(c *call) *answer {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.ps.init()
	p := s.st.ps.orders[ownerKey(c.orderOwner(), c.pathParams["out_order_no"])]
	if p == nil || (c.r.URL.Query().Get("transaction_id") != "" && c.r.URL.Query().Get("transaction_id") != p.order.transactionID) {
		return c.psNotFound()
	}
	return c.ok(s.psOrderJSON(p))
}

// unfreezeProfitSharing releases the rest of an order to the merchant: an
// order with one share (to the merchant itself) of what was left.
func (s *Server) unfreezeProfitSharing(c *call) *answer {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.ps.init()
	owner := c.orderOwner()
	o := s.sharedOrder(c, str(c.body, "transaction_id"))
	if o == nil {
		return c.fail(http.StatusNotFound, "RESOURCE_NOT_EXISTS", "订单不存在或未支付")
	}
	outNo := str(c.body, "out_order_no")
	if old := s.st.ps.orders[ownerKey(owner, outNo)]; old != nil {
		return c.ok(s.psOrderJSON(old))
	}
	if s.st.ps.unfrozen[o.transactionID] {
		return c.fail(http.StatusBadRequest, "INVALID_REQUEST", "订单剩余资金已解冻")
	}
	now := s.now()
	left := s.unsplit(o)
	p := &psOrder{owner: owner, order: o, orderID: "30" + s.st.newTransactionID(now)[2:], outOrderNo: outNo, state: "PROCESSING",
		unfreeze: true, fingerprint: fingerprint(c.body), notifier: c.merchant}
	p.receivers = []*psShare{{typ: "MERCHANT_ID", account: owner, description: str(c.body, "description"), amount: left,
		result: "PENDING", detailID: "36" + s.st.newTransactionID(now)[2:], created: now}}
	s.st.ps.shared[o.transactionID] += left
	s.st.ps.orders[ownerKey(owner, outNo)] = p
	s.st.ps.byID[p.orderID] = p
	s.schedulePS(func() { s.finishProfitSharing(p) })
	return c.ok(s.psOrderJSON(p))
}

func (s *Server) unsplitAmount(c *call) *answer {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.ps.init()
	o := s.sharedOrder(c, c.pathParams["transaction_id"])
	if o == nil {
		// The query carries no sub_mchid: a service provider asks about
		// its sub-merchants' orders.
		if x := s.st.byTxID[c.pathParams["transaction_id"]]; x != nil && x.paid() && (x.owner == c.merchant.MchID || x.partner && x.mchid == c.merchant.MchID) {
			o = x
		}
	}
	if o == nil {
		return c.fail(http.StatusNotFound, "RESOURCE_NOT_EXISTS", "订单不存在或未支付")
	}
	return c.ok(map[string]any{"transaction_id": o.transactionID, "unsplit_amount": s.unsplit(o)})
}

// createProfitSharingReturn takes back part of a share from a merchant
// receiver.
func (s *Server) createProfitSharingReturn(c *call) *answer {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.ps.init()
	owner := c.orderOwner()
	var p *psOrder
	if id := str(c.body, "order_id"); id != "" {
		if x := s.st.ps.byID[id]; x != nil && x.owner == owner {
			p = x
		}
	} else {
		p = s.st.ps.orders[ownerKey(owner, str(c.body, "out_order_no"))]
	}
	if p == nil {
		return c.fail(http.StatusNotFound, "RESOURCE_NOT_EXISTS", "分账单不存在")
	}
	outNo := str(c.body, "out_return_no")
	if old := s.st.ps.returns[ownerKey(owner, outNo)]; old != nil {
		return c.ok(s.psReturnJSON(old))
	}
	amount, _ := num(c.body, "amount")
	mch := str(c.body, "return_mchid")
	var given int64
	for _, r := range p.receivers {
		if r.typ == "MERCHANT_ID" && r.account == mch && r.result != "CLOSED" {
			given += r.amount
		}
	}
	for _, r := range s.st.ps.returns {
		if r.ps == p && r.returnMchID == mch && r.result != "FAILED" {
			given -= r.amount
		}
	}
	if amount <= 0 || amount > given {
		return c.failDetail(http.StatusBadRequest, "INVALID_REQUEST", fmt.Sprintf("回退金额超出该商户的分账金额（可回退%d分）", max(given, 0)),
			errorDetail{Field: "/amount", Value: amount, Location: "body", Issue: fmt.Sprintf("at most %d was shared to %s and not returned", max(given, 0), mch)})
	}
	now := s.now()
	r := &psReturn{owner: owner, ps: p, returnID: "30" + s.st.newTransactionID(now)[2:], outReturnNo: outNo, returnMchID: mch,
		description: str(c.body, "description"), amount: amount, result: "PROCESSING", created: now, notifier: c.merchant}
	s.st.ps.returns[ownerKey(owner, outNo)] = r
	s.schedulePS(func() { s.finishProfitSharingReturn(r, "SUCCESS", "") })
	return c.ok(s.psReturnJSON(r))
}

// finishProfitSharingReturn ends a PROCESSING return. Callers hold s.mu.
func (s *Server) finishProfitSharingReturn(r *psReturn, result, reason string) {
	if r.result != "PROCESSING" {
		return
	}
	now := s.now()
	r.result, r.failReason, r.finished = result, reason, now
	if result == "SUCCESS" {
		s.psNotify(r.notifier, r.ps.order, "PROFITSHARING_RETURN", "分账回退", r.returnID, r.outReturnNo, "MERCHANT_ID", r.returnMchID, r.amount, r.description, now)
	}
}

func (s *Server) psReturnJSON(r *psReturn) map[string]any {
	out := map[string]any{"order_id": r.ps.orderID, "out_order_no": r.ps.outOrderNo, "out_return_no": r.outReturnNo, "return_id": r.returnID,
		"return_mchid": r.returnMchID, "amount": r.amount, "description": r.description, "result": r.result,
		"create_time": wxTime(r.created), "finish_time": wxTime(r.created)}
	if !r.finished.IsZero() {
		out["finish_time"] = wxTime(r.finished)
	}
	if r.failReason != "" {
		out["fail_reason"] = r.failReason
	}
	if r.ps.order.partner {
		out["sub_mchid"] = r.owner
	}
	return out
}

func (s *Server) queryProfitSharingReturn(c *call) *answer {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.ps.init()
	r := s.st.ps.returns[ownerKey(c.orderOwner(), c.pathParams["out_return_no"])]
	if r == nil || (c.r.URL.Query().Get("out_order_no") != "" && c.r.URL.Query().Get("out_order_no") != r.ps.outOrderNo) {
		return c.psNotFound()
	}
	return c.ok(s.psReturnJSON(r))
}

// SettleProfitSharing completes every PROCESSING profit-sharing order and
// return now (for WithRefundDelay(-1)): what WeChat Pay does about a
// minute after a request.
func (s *Server) SettleProfitSharing() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.ps.init()
	for _, p := range s.st.ps.orders {
		s.finishProfitSharing(p)
	}
	for _, r := range s.st.ps.returns {
		s.finishProfitSharingReturn(r, "SUCCESS", "")
	}
}
