package sandbox

import (
	"fmt"
	"net/http"
	"time"
)

// Payscore service orders (微信支付分) with state: an order is CREATED and
// waits for the user (ConfirmPayscore plays the user: DOING/USER_CONFIRM,
// PAYSCORE.USER_CONFIRM), unless need_user_confirm is false; the merchant
// completes it with the fees (DOING/MCH_COMPLETE), and WeChat Pay collects
// after the refund delay or at once on CollectPayscoreOrder (DONE,
// PAYSCORE.USER_PAID); CREATED and unfinished orders can be cancelled
// (REVOKED). Modify, sync, messages and direct-complete stay echoes.

// scState is the payscore state; Server.mu guards it.
type scState struct {
	orders map[string]*scOrder // ownerKey(owner, out_order_no)
}

type scOrder struct {
	partner             bool
	mchid, appid        string // the merchant or service provider
	subMchID, subAppID  string
	owner               string
	outOrderNo, orderID string
	serviceID, intro    string
	attach, notifyURL   string
	openid              string
	state, stateDesc    string
	total               int64
	postPayments        any
	riskFund, timeRange any
	paid                bool
	paidTime, created   time.Time
	notifier            *merchantState
	preferPublicKey     bool
	transactionID       string
}

func (s *Server) registerPayscore() {
	for _, id := range []string{"CreatePayscoreOrder", "PartnerCreatePayscoreOrder"} {
		s.handlers[id] = s.createPayscore
	}
	for _, id := range []string{"QueryPayscoreOrder", "PartnerQueryPayscoreOrder"} {
		s.handlers[id] = s.queryPayscore
	}
	for _, id := range []string{"CancelPayscoreOrder", "PartnerCancelPayscoreOrder"} {
		s.handlers[id] = s.cancelPayscore
	}
	for _, id := range []string{"CompletePayscoreOrder", "PartnerCompletePayscoreOrder"} {
		s.handlers[id] = s.completePayscore
	}
	for _, id := range []string{"CollectPayscoreOrder", "PartnerCollectPayscoreOrder"} {
		s.handlers[id] = s.collectPayscore
	}
}

func (s *Server) createPayscore(c *call) *answer {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st.sc.orders == nil {
		s.st.sc.orders = map[string]*scOrder{}
	}
	owner := c.orderOwner()
	no := str(c.body, "out_order_no")
	if old := s.st.sc.orders[ownerKey(owner, no)]; old != nil {
		return c.fail(http.StatusBadRequest, "INVALID_REQUEST", "商户服务订单号重复")
	}
	now := s.now()
	o := &scOrder{partner: c.merchant.partner, mchid: c.merchant.MchID, appid: str(c.body, "appid"), owner: owner, outOrderNo: no,
		orderID: "1000000000" + s.st.newTransactionID(now)[10:], serviceID: str(c.body, "service_id"), intro: str(c.body, "service_introduction"),
		attach: str(c.body, "attach"), notifyURL: str(c.body, "notify_url"), openid: str(c.body, "openid"), state: "CREATED",
		postPayments: c.body["post_payments"], riskFund: c.body["risk_fund"], timeRange: c.body["time_range"],
		created: now, notifier: c.merchant, preferPublicKey: c.preferPublicKey}
	if o.partner {
		o.subMchID, o.subAppID = owner, str(c.body, "sub_appid")
		o.openid = firstString(str(c.body, "sub_openid"), o.openid)
	}
	if o.openid == "" {
		o.openid = openID(o.appid)
	}
	if c.body["need_user_confirm"] == false {
		o.state, o.stateDesc = "DOING", "USER_CONFIRM"
	}
	s.st.sc.orders[ownerKey(owner, no)] = o
	v := s.payscoreJSON(o)
	if o.state == "CREATED" {
		v["package"] = "DJIOSQPYWDxsjdldeskdfjdhlgkdkllkhd" + o.orderID
	}
	return c.ok(v)
}

func firstString(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

// payscoreJSON renders a PayscoreOrder. Callers hold s.mu.
func (s *Server) payscoreJSON(o *scOrder) map[string]any {
	v := map[string]any{"appid": o.appid, "mchid": o.mchid, "out_order_no": o.outOrderNo, "service_id": o.serviceID,
		"service_introduction": o.intro, "state": o.state, "order_id": o.orderID, "notify_url": o.notifyURL, "need_collection": true}
	if o.stateDesc != "" {
		v["state_description"] = o.stateDesc
	}
	if o.partner {
		v["sub_mchid"] = o.subMchID
		if o.subAppID != "" {
			v["sub_appid"] = o.subAppID
		}
	}
	if o.openid != "" && o.state != "CREATED" {
		if o.partner && o.subAppID != "" {
			v["sub_openid"] = o.openid
		} else {
			v["openid"] = o.openid
		}
	}
	for k, x := range map[string]any{"attach": o.attach, "post_payments": o.postPayments, "risk_fund": o.riskFund, "time_range": o.timeRange} {
		if x != nil && x != "" {
			v[k] = x
		}
	}
	if o.stateDesc == "MCH_COMPLETE" || o.state == "DONE" {
		v["total_amount"] = o.total
		col := map[string]any{"state": "USER_PAYING", "total_amount": o.total, "paying_amount": o.total, "paid_amount": 0}
		if o.paid {
			col = map[string]any{"state": "USER_PAID", "total_amount": o.total, "paying_amount": 0, "paid_amount": o.total,
				"details": []any{map[string]any{"seq": 1, "amount": o.total, "paid_type": "NEWTON", "transaction_id": o.transactionID,
					"paid_time": o.paidTime.In(beijing).Format("20060102150405")}}}
		}
		v["collection"] = col
	}
	return v
}

func (s *Server) findPayscore(c *call) *scOrder {
	no := c.pathParams["out_order_no"]
	if no == "" {
		no = c.r.URL.Query().Get("out_order_no")
	}
	if s.st.sc.orders == nil {
		return nil
	}
	if no == "" {
		if id := c.r.URL.Query().Get("query_id"); id != "" {
			for _, o := range s.st.sc.orders {
				if o.orderID == id && o.owner == c.orderOwner() {
					return o
				}
			}
		}
	}
	return s.st.sc.orders[ownerKey(c.orderOwner(), no)]
}

func (c *call) payscoreNotFound() *answer {
	return c.fail(http.StatusNotFound, "ORDER_NOT_EXIST", "订单不存在")
}

func (s *Server) queryPayscore(c *call) *answer {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.findPayscore(c)
	if o == nil {
		return c.payscoreNotFound()
	}
	return c.ok(s.payscoreJSON(o))
}

func (s *Server) cancelPayscore(c *call) *answer {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.findPayscore(c)
	if o == nil {
		return c.payscoreNotFound()
	}
	if o.state != "CREATED" && !(o.state == "DOING" && o.stateDesc == "USER_CONFIRM") {
		return c.fail(http.StatusBadRequest, "INVALID_REQUEST", fmt.Sprintf("订单状态为%s，不能取消", o.state))
	}
	o.state, o.stateDesc = "REVOKED", ""
	return c.ok(s.payscoreJSON(o))
}

func (s *Server) completePayscore(c *call) *answer {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.findPayscore(c)
	if o == nil {
		return c.payscoreNotFound()
	}
	if o.state != "DOING" || o.stateDesc != "USER_CONFIRM" {
		return c.fail(http.StatusBadRequest, "INVALID_REQUEST", fmt.Sprintf("订单状态为%s %s，不能完结", o.state, o.stateDesc))
	}
	total, _ := num(c.body, "total_amount")
	o.total, o.stateDesc = total, "MCH_COMPLETE"
	if pp := c.body["post_payments"]; pp != nil {
		o.postPayments = pp
	}
	s.schedulePS(func() { s.payscorePaid(o) })
	return c.ok(s.payscoreJSON(o))
}

func (s *Server) collectPayscore(c *call) *answer {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.findPayscore(c)
	if o == nil {
		return c.payscoreNotFound()
	}
	if o.stateDesc != "MCH_COMPLETE" && o.state != "DONE" {
		return c.fail(http.StatusBadRequest, "INVALID_REQUEST", "订单未完结，不能发起收款")
	}
	s.payscorePaid(o)
	return c.ok(s.payscoreJSON(o))
}

// payscorePaid collects a completed order: DONE and PAYSCORE.USER_PAID.
// Callers hold s.mu.
func (s *Server) payscorePaid(o *scOrder) {
	if o.paid || o.stateDesc != "MCH_COMPLETE" {
		return
	}
	now := s.now()
	o.paid, o.paidTime, o.state, o.stateDesc = true, now, "DONE", ""
	o.transactionID = s.st.newTransactionID(now)
	s.payscoreNotify(o, "PAYSCORE.USER_PAID", "用户支付成功")
}

func (s *Server) payscoreNotify(o *scOrder, event, summary string) {
	if o.notifyURL == "" {
		return
	}
	s.enqueue(notification{merchant: o.notifier, url: o.notifyURL, eventType: event, summary: summary, originalType: "payscore",
		resource: s.payscoreJSON(o), preferPublicKey: o.preferPublicKey})
}

// ConfirmPayscore plays the user confirming a CREATED payscore order
// (owner: its mchid or sub_mchid; "" searches every merchant): the order is
// DOING/USER_CONFIRM and PAYSCORE.USER_CONFIRM goes to its notify_url.
func (s *Server) ConfirmPayscore(owner, outOrderNo string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var o *scOrder
	for _, x := range s.st.sc.orders {
		if x.outOrderNo == outOrderNo && (owner == "" || x.owner == owner || x.mchid == owner) {
			if o != nil {
				return fmt.Errorf("sandbox: out_order_no %s exists for several merchants: give the mchid", outOrderNo)
			}
			o = x
		}
	}
	if o == nil {
		return fmt.Errorf("%w: no payscore order %s", ErrNotFound, outOrderNo)
	}
	if o.state != "CREATED" {
		return fmt.Errorf("sandbox: payscore order %s is %s, not CREATED", outOrderNo, o.state)
	}
	o.state, o.stateDesc = "DOING", "USER_CONFIRM"
	s.payscoreNotify(o, "PAYSCORE.USER_CONFIRM", "用户确认订单")
	return nil
}
