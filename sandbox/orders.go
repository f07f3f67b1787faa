package sandbox

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Trade states (交易状态).
const (
	StateNotPay     = "NOTPAY"
	StateSuccess    = "SUCCESS"
	StateRefund     = "REFUND"
	StateClosed     = "CLOSED"
	StateRevoked    = "REVOKED"
	StateUserPaying = "USERPAYING"
	StatePayError   = "PAYERROR"
)

var stateDesc = map[string]string{
	StateNotPay:     "订单未支付",
	StateSuccess:    "支付成功",
	StateRefund:     "转入退款",
	StateClosed:     "订单已关闭",
	StateRevoked:    "订单已撤销",
	StateUserPaying: "用户支付中，需要输入密码",
	StatePayError:   "支付失败",
}

// AuthCodeUserPaying is the payment code (付款码) that makes CodePay wait
// for the payer to enter a password: the order answers 202 USERPAYING and
// stays USERPAYING until Pay completes it. Any other code pays at once.
const AuthCodeUserPaying = "134000000000000000"

// order is one order (or one sub-order of a combined order).
type order struct {
	partner         bool
	mchid, appid    string // direct: the merchant; partner: the service provider; combine sub-order: its mchid
	subMchID        string
	subAppID        string
	owner           string         // out_trade_no namespace: sub_mchid, else mchid
	notifier        *merchantState // whose APIv3 key encrypts its notifications
	opID            string
	tradeType       string
	outTradeNo      string
	transactionID   string
	prepayID        string
	state           string
	description     string
	attach          string
	notifyURL       string
	total           int64
	currency        string
	openid          string
	spOpenID        string
	subOpenID       string
	deviceID        string
	createTime      time.Time
	successTime     time.Time
	expire          time.Time // time_expire, when given
	fingerprint     string
	refunded        int64 // in refunds that are not CLOSED
	combine         *combineOrder
	preferPublicKey bool
	answer          map[string]any // the prepay answer, returned again on retries
}

func (o *order) paid() bool { return o.state == StateSuccess || o.state == StateRefund }

// combineOrder is a combined order (合单) and its sub-orders.
type combineOrder struct {
	appid, mchid    string
	outTradeNo      string
	transactionID   string
	tradeType       string
	notifyURL       string
	openid          string
	deviceID        string
	subs            []*order
	fingerprint     string
	notifier        *merchantState
	preferPublicKey bool
	answer          map[string]any
}

// prepayTypes maps the prepay operations to their trade types.
var prepayTypes = map[string]string{
	"JSAPIPrepay": "JSAPI", "PartnerJSAPIPrepay": "JSAPI",
	"AppPrepay": "APP", "PartnerAppPrepay": "APP",
	"H5Prepay": "MWEB", "PartnerH5Prepay": "MWEB",
	"NativePrepay": "NATIVE", "PartnerNativePrepay": "NATIVE",
	"CombineJSAPIPrepay": "JSAPI", "CombineMiniProgramPrepay": "JSAPI",
	"CombineAppPrepay": "APP", "CombineH5Prepay": "MWEB", "CombineNativePrepay": "NATIVE",
}

// prepayAnswer is the answer of a prepay call for a trade type.
func prepayAnswer(tradeType, prepayID string) map[string]any {
	switch tradeType {
	case "NATIVE":
		return map[string]any{"code_url": "weixin://wxpay/bizpayurl?pr=" + randomString(alnum, 9)}
	case "MWEB":
		return map[string]any{"h5_url": "https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=" + prepayID + "&package=" + randomString(digits, 10)}
	}
	return map[string]any{"prepay_id": prepayID}
}

// orderIdentity reads the identity of an order from a prepay or codepay
// body.
func (c *call) orderIdentity(o *order) {
	b := c.body
	if sp := str(b, "sp_mchid"); sp != "" {
		o.partner = true
		o.mchid, o.appid = sp, str(b, "sp_appid")
		o.subMchID, o.subAppID = str(b, "sub_mchid"), str(b, "sub_appid")
		o.owner = o.subMchID
		o.spOpenID, o.subOpenID = str(b, "payer", "sp_openid"), str(b, "payer", "sub_openid")
	} else {
		o.mchid, o.appid = c.merchant.MchID, str(b, "appid")
		if o.appid == "" {
			o.appid = c.merchant.AppID
		}
		o.owner = o.mchid
		o.openid = str(b, "payer", "openid")
	}
	o.notifier = c.merchant
}

// prepay creates an order (JSAPI, APP, H5, Native; both modes). The same
// out_trade_no with the same body answers the same prepay_id; with another
// body, 400 INVALID_REQUEST "201 商户订单号重复".
func (s *Server) prepay(c *call) *answer {
	tradeType := prepayTypes[c.op.ID]
	o := &order{opID: c.op.ID, tradeType: tradeType, state: StateNotPay, preferPublicKey: c.preferPublicKey}
	c.orderIdentity(o)
	if o.owner == "" {
		return c.failDetail(http.StatusBadRequest, "PARAM_ERROR", "缺少sub_mchid", errorDetail{Field: "/sub_mchid", Location: "body", Issue: "a service provider's order needs sub_mchid"})
	}
	o.outTradeNo = str(c.body, "out_trade_no")
	total, _ := num(c.body, "amount", "total")
	if total <= 0 {
		return c.failDetail(http.StatusBadRequest, "PARAM_ERROR", "输入源“/body/amount/total”映射到值字段“总金额”校验失败，值必须大于0",
			errorDetail{Field: "/amount/total", Value: total, Location: "body", Issue: "the total must be at least 1 (分)"})
	}
	o.total, o.currency = total, str(c.body, "amount", "currency")
	if o.currency == "" {
		o.currency = "CNY"
	}
	o.description, o.attach, o.notifyURL = str(c.body, "description"), str(c.body, "attach"), str(c.body, "notify_url")
	o.deviceID = str(c.body, "scene_info", "device_id")
	o.fingerprint = fingerprint(c.body)
	if te := str(c.body, "time_expire"); te != "" {
		o.expire, _ = time.Parse(time.RFC3339, te)
	}
	now := s.now()
	o.createTime = now

	s.mu.Lock()
	defer s.mu.Unlock()
	key := ownerKey(o.owner, o.outTradeNo)
	if old := s.st.orders[key]; old != nil {
		return c.existingOrder(old, o.fingerprint)
	}
	o.prepayID = newPrepayID(now)
	o.transactionID = s.st.newTransactionID(now)
	o.answer = prepayAnswer(tradeType, o.prepayID)
	s.st.orders[key] = o
	s.st.byTxID[o.transactionID] = o
	return c.ok(o.answer)
}

// existingOrder answers a prepay for an out_trade_no that exists. Callers
// hold s.mu.
func (c *call) existingOrder(old *order, fp string) *answer {
	if old.fingerprint != fp || old.opID != c.op.ID {
		return c.fail(http.StatusBadRequest, "INVALID_REQUEST", "201 商户订单号重复")
	}
	switch {
	case old.paid():
		return c.fail(http.StatusBadRequest, "ORDERPAID", "该订单已支付")
	case old.state == StateClosed || old.state == StateRevoked:
		return c.fail(http.StatusBadRequest, "ORDER_CLOSED", "订单已关闭")
	}
	return c.ok(old.answer)
}

// codePay creates a payment-code order (付款码支付), paid at once unless the
// auth code is AuthCodeUserPaying.
func (s *Server) codePay(c *call) *answer {
	o := &order{opID: c.op.ID, tradeType: "MICROPAY", state: StateSuccess, preferPublicKey: c.preferPublicKey}
	c.orderIdentity(o)
	if o.owner == "" {
		return c.failDetail(http.StatusBadRequest, "PARAM_ERROR", "缺少sub_mchid", errorDetail{Field: "/sub_mchid", Location: "body", Issue: "a service provider's order needs sub_mchid"})
	}
	o.outTradeNo = str(c.body, "out_trade_no")
	o.total, _ = num(c.body, "amount", "total")
	if o.total <= 0 {
		return c.failDetail(http.StatusBadRequest, "PARAM_ERROR", "输入源“/body/amount/total”映射到值字段“总金额”校验失败，值必须大于0",
			errorDetail{Field: "/amount/total", Value: o.total, Location: "body", Issue: "the total must be at least 1 (分)"})
	}
	o.currency = str(c.body, "amount", "currency")
	if o.currency == "" {
		o.currency = "CNY"
	}
	o.description, o.attach = str(c.body, "description"), str(c.body, "attach")
	o.deviceID = str(c.body, "scene_info", "device_id")
	o.fingerprint = fingerprint(c.body)
	now := s.now()
	o.createTime = now
	if str(c.body, "payer", "auth_code") == AuthCodeUserPaying {
		o.state = StateUserPaying
	} else {
		o.successTime = now
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := ownerKey(o.owner, o.outTradeNo)
	if old := s.st.orders[key]; old != nil {
		if old.fingerprint != o.fingerprint || old.opID != c.op.ID {
			return c.fail(http.StatusBadRequest, "INVALID_REQUEST", "201 商户订单号重复")
		}
		o = old
	} else {
		o.transactionID = s.st.newTransactionID(now)
		s.st.orders[key] = o
		s.st.byTxID[o.transactionID] = o
	}
	if o.state == StateUserPaying {
		return c.fail(http.StatusAccepted, "USERPAYING", "用户支付中，需要输入密码")
	}
	return c.ok(s.transaction(o))
}

// transaction renders an order as its mode's answer (the spec's
// DirectTransaction or PartnerTransaction) and notification resource: the
// identity fields of its mode, and the payment fields once it is paid.
// Callers hold s.mu.
func (s *Server) transaction(o *order) map[string]any {
	t := map[string]any{
		"out_trade_no":     o.outTradeNo,
		"trade_state":      o.state,
		"trade_state_desc": stateDesc[o.state],
		"amount":           map[string]any{"total": o.total, "currency": o.currency, "payer_currency": o.currency},
	}
	if o.partner {
		t["sp_appid"], t["sp_mchid"], t["sub_mchid"] = o.appid, o.mchid, o.subMchID
		if o.subAppID != "" {
			t["sub_appid"] = o.subAppID
		}
	} else {
		t["appid"], t["mchid"] = o.appid, o.mchid
	}
	if o.attach != "" {
		t["attach"] = o.attach
	}
	if o.deviceID != "" {
		t["scene_info"] = map[string]any{"device_id": o.deviceID}
	}
	if o.paid() || o.state == StateRevoked || (o.tradeType == "MICROPAY" && o.state != StateNotPay) {
		t["transaction_id"] = o.transactionID
		t["trade_type"] = o.tradeType
	}
	if o.paid() {
		t["bank_type"] = "OTHERS"
		t["success_time"] = wxTime(o.successTime)
		t["amount"].(map[string]any)["payer_total"] = o.total
		payer := map[string]any{}
		if o.partner {
			if o.spOpenID != "" {
				payer["sp_openid"] = o.spOpenID
			}
			if o.subOpenID != "" {
				payer["sub_openid"] = o.subOpenID
			}
			if len(payer) == 0 {
				payer["sp_openid"] = openID(o.appid)
			}
		} else {
			payer["openid"] = o.openid
		}
		t["payer"] = payer
		t["promotion_detail"] = []any{}
	}
	return t
}

// orderOwner is the out_trade_no namespace a call addresses: its sub_mchid
// (body or query), else the caller.
func (c *call) orderOwner() string {
	if v := str(c.body, "sub_mchid"); v != "" {
		return v
	}
	if v := c.r.URL.Query().Get("sub_mchid"); v != "" {
		return v
	}
	return c.merchant.MchID
}

func (c *call) orderNotFound() *answer {
	return c.fail(http.StatusNotFound, "ORDER_NOT_EXIST", "订单不存在")
}

// findOrder finds the order a query, close or reverse addresses, by
// transaction_id or out_trade_no. Callers hold s.mu.
func (s *Server) findOrder(c *call) *order {
	owner := c.orderOwner()
	if id := c.pathParams["transaction_id"]; id != "" {
		o := s.st.byTxID[id]
		if o == nil || o.owner != owner || (!o.paid() && o.tradeType != "MICROPAY" && o.state != StateRevoked) {
			return nil
		}
		return o
	}
	return s.st.orders[ownerKey(owner, c.pathParams["out_trade_no"])]
}

// queryOrder answers QueryOrderByID, QueryOrderByOutTradeNo and their
// partner twins.
func (s *Server) queryOrder(c *call) *answer {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.findOrder(c)
	if o == nil {
		return c.orderNotFound()
	}
	return c.ok(s.transaction(o))
}

// closeOrder closes an unpaid order (CloseOrder, PartnerCloseOrder).
func (s *Server) closeOrder(c *call) *answer {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.findOrder(c)
	if o == nil {
		return c.orderNotFound()
	}
	switch o.state {
	case StateNotPay, StateUserPaying:
		o.state = StateClosed
	case StateClosed:
	case StateRevoked:
		return c.fail(http.StatusBadRequest, "ORDER_CLOSED", "订单已撤销")
	default:
		return c.fail(http.StatusBadRequest, "ORDERPAID", "订单已支付，不能关闭")
	}
	return c.ok(nil)
}

// reverseOrder revokes a payment-code order (ReverseOrder).
func (s *Server) reverseOrder(c *call) *answer {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.findOrder(c)
	if o == nil {
		return c.orderNotFound()
	}
	if o.state == StateClosed {
		return c.fail(http.StatusBadRequest, "ORDER_CLOSED", "订单已关闭")
	}
	o.state = StateRevoked
	out := map[string]any{"out_trade_no": o.outTradeNo}
	if o.partner {
		out["sp_appid"], out["sp_mchid"], out["sub_mchid"] = o.appid, o.mchid, o.subMchID
	} else {
		out["appid"], out["mchid"] = o.appid, o.mchid
	}
	return c.ok(out)
}

// ErrNotFound is returned by the control methods for an unknown order,
// refund or notification.
var ErrNotFound = errors.New("sandbox: not found")

// Pay simulates the payer paying an order: NOTPAY or USERPAYING becomes
// SUCCESS and the TRANSACTION.SUCCESS notification goes to the order's
// notify_url. It returns the transaction_id.
//
// mchid names the merchant that owns out_trade_no:
//   - a direct merchant's order: its mchid (Credentials.MchID of Merchant());
//   - a service provider's order (partner mode): the sub-merchant's
//     sub_mchid (Credentials.SubMchID of Partner()), which owns the order;
//     the service provider's sp_mchid (Credentials.MchID) is accepted too
//     and finds the order among its sub-merchants';
//   - a combined order: the combine_mchid (all its sub-orders are paid);
//   - empty: out_trade_no is looked for among all merchants (an error when
//     several have it).
func (s *Server) Pay(mchid, outTradeNo string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var o *order
	var co *combineOrder
	if mchid != "" {
		o, co = s.st.orders[ownerKey(mchid, outTradeNo)], s.st.combines[ownerKey(mchid, outTradeNo)]
	} else {
		for _, x := range s.st.orders {
			if x.outTradeNo == outTradeNo {
				if o != nil {
					return "", fmt.Errorf("sandbox: out_trade_no %s exists for several merchants: give the mchid", outTradeNo)
				}
				o = x
			}
		}
		for _, x := range s.st.combines {
			if x.outTradeNo == outTradeNo && o == nil {
				co = x
			}
		}
	}
	if o == nil && co == nil && mchid != "" {
		// A service provider's mchid: its sub-merchants' orders.
		for _, x := range s.st.orders {
			if x.partner && x.mchid == mchid && x.outTradeNo == outTradeNo {
				o = x
			}
		}
	}
	if o != nil && o.combine != nil {
		co, o = o.combine, nil
	}
	now := s.now()
	switch {
	case co != nil:
		for _, sub := range co.subs {
			if sub.state != StateNotPay && sub.state != StateUserPaying {
				return "", fmt.Errorf("sandbox: combined order %s: sub-order %s is %s", co.outTradeNo, sub.outTradeNo, sub.state)
			}
		}
		for _, sub := range co.subs {
			s.markPaid(sub, now)
			sub.openid = co.openid
		}
		if co.notifyURL != "" {
			s.enqueue(notification{
				merchant: co.notifier, url: co.notifyURL, eventType: "TRANSACTION.SUCCESS", summary: "支付成功",
				originalType: "transaction", resource: s.combineTransaction(co), outTradeNo: co.outTradeNo,
				preferPublicKey: co.preferPublicKey,
			})
		}
		return co.transactionID, nil
	case o != nil:
		if o.state != StateNotPay && o.state != StateUserPaying {
			return "", fmt.Errorf("sandbox: order %s is %s, not payable", outTradeNo, o.state)
		}
		if !o.expire.IsZero() && now.After(o.expire) {
			return "", fmt.Errorf("sandbox: order %s expired at %s (time_expire)", outTradeNo, wxTime(o.expire))
		}
		s.markPaid(o, now)
		if o.notifyURL != "" {
			s.enqueue(notification{
				merchant: o.notifier, url: o.notifyURL, eventType: "TRANSACTION.SUCCESS", summary: "支付成功",
				originalType: "transaction", resource: s.transaction(o), outTradeNo: o.outTradeNo,
				preferPublicKey: o.preferPublicKey,
			})
		}
		return o.transactionID, nil
	}
	return "", fmt.Errorf("%w: no order %s", ErrNotFound, outTradeNo)
}

// markPaid moves an order to SUCCESS. Callers hold s.mu.
func (s *Server) markPaid(o *order, now time.Time) {
	o.state = StateSuccess
	o.successTime = now
	if o.partner {
		if o.spOpenID == "" && o.subOpenID == "" {
			if o.subAppID != "" {
				o.subOpenID = openID(o.subAppID)
			} else {
				o.spOpenID = openID(o.appid)
			}
		}
	} else if o.openid == "" {
		o.openid = openID(o.appid)
	}
	s.log.Info("sandbox: order paid", "out_trade_no", o.outTradeNo, "owner", o.owner)
}

// OrderState returns the trade state of an order (owner: mchid or
// sub_mchid; empty searches every merchant).
func (s *Server) OrderState(owner, outTradeNo string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if owner != "" {
		if o := s.st.orders[ownerKey(owner, outTradeNo)]; o != nil {
			return o.state, nil
		}
	} else {
		for _, o := range s.st.orders {
			if o.outTradeNo == outTradeNo {
				return o.state, nil
			}
		}
	}
	return "", fmt.Errorf("%w: no order %s", ErrNotFound, outTradeNo)
}

// combinePrepay creates a combined order (合单下单) and its sub-orders.
func (s *Server) combinePrepay(c *call) *answer {
	tradeType := prepayTypes[c.op.ID]
	now := s.now()
	co := &combineOrder{
		appid: str(c.body, "combine_appid"), mchid: str(c.body, "combine_mchid"),
		outTradeNo: str(c.body, "combine_out_trade_no"), tradeType: tradeType,
		notifyURL: str(c.body, "notify_url"), openid: str(c.body, "combine_payer_info", "openid"),
		deviceID: str(c.body, "scene_info", "device_id"), fingerprint: fingerprint(c.body),
		notifier: c.merchant, preferPublicKey: c.preferPublicKey,
	}
	if co.mchid == "" {
		co.mchid = c.merchant.MchID
	}
	subs, _ := c.body["sub_orders"].([]any)
	s.mu.Lock()
	defer s.mu.Unlock()
	key := ownerKey(co.mchid, co.outTradeNo)
	if old := s.st.combines[key]; old != nil {
		if old.fingerprint != co.fingerprint {
			return c.fail(http.StatusBadRequest, "INVALID_REQUEST", "201 商户订单号重复")
		}
		for _, sub := range old.subs {
			if sub.paid() {
				return c.fail(http.StatusBadRequest, "ORDERPAID", "该订单已支付")
			}
			if sub.state == StateClosed {
				return c.fail(http.StatusBadRequest, "ORDER_CLOSED", "订单已关闭")
			}
		}
		return c.ok(old.answer)
	}
	for i, x := range subs {
		o := &order{
			opID: c.op.ID, tradeType: tradeType, state: StateNotPay, createTime: now, combine: co,
			mchid: str(x, "mchid"), appid: co.appid, subMchID: str(x, "sub_mchid"), subAppID: str(x, "sub_appid"),
			outTradeNo: str(x, "out_trade_no"), description: str(x, "description"), attach: str(x, "attach"),
			currency: str(x, "amount", "currency"), notifier: c.merchant, preferPublicKey: c.preferPublicKey,
		}
		o.total, _ = num(x, "amount", "total_amount")
		if o.total <= 0 {
			return c.failDetail(http.StatusBadRequest, "PARAM_ERROR", "子单金额必须大于0",
				errorDetail{Field: fmt.Sprintf("/sub_orders/%d/amount/total_amount", i), Value: o.total, Location: "body", Issue: "the total must be at least 1 (分)"})
		}
		if o.currency == "" {
			o.currency = "CNY"
		}
		if o.mchid == "" {
			o.mchid = co.mchid
		}
		o.owner = o.mchid
		if o.subMchID != "" {
			o.owner = o.subMchID
		}
		if s.st.orders[ownerKey(o.owner, o.outTradeNo)] != nil {
			return c.fail(http.StatusBadRequest, "INVALID_REQUEST", "201 商户订单号重复")
		}
		co.subs = append(co.subs, o)
	}
	co.transactionID = s.st.newTransactionID(now)
	prepayID := newPrepayID(now)
	co.answer = prepayAnswer(tradeType, prepayID)
	for _, o := range co.subs {
		o.prepayID = prepayID
		o.transactionID = s.st.newTransactionID(now)
		s.st.orders[ownerKey(o.owner, o.outTradeNo)] = o
		s.st.byTxID[o.transactionID] = o
	}
	s.st.combines[key] = co
	return c.ok(co.answer)
}

// combineTransaction renders a combined order as the spec's
// CombineTransaction. Callers hold s.mu.
func (s *Server) combineTransaction(co *combineOrder) map[string]any {
	subs := make([]any, 0, len(co.subs))
	for _, o := range co.subs {
		so := map[string]any{
			"mchid": o.mchid, "out_trade_no": o.outTradeNo, "trade_state": o.state,
			"amount": map[string]any{"total_amount": o.total, "currency": o.currency},
		}
		if o.subMchID != "" {
			so["sub_mchid"] = o.subMchID
		}
		if o.subAppID != "" {
			so["sub_appid"] = o.subAppID
		}
		if o.attach != "" {
			so["attach"] = o.attach
		}
		if o.paid() {
			if o.subAppID != "" {
				so["sub_openid"] = openID(o.subAppID)
			}
			so["trade_type"] = o.tradeType
			so["transaction_id"] = o.transactionID
			so["bank_type"] = "OTHERS"
			so["success_time"] = wxTime(o.successTime)
			amt := so["amount"].(map[string]any)
			amt["payer_amount"], amt["payer_currency"] = o.total, o.currency
		}
		subs = append(subs, so)
	}
	out := map[string]any{
		"combine_appid": co.appid, "combine_mchid": co.mchid, "combine_out_trade_no": co.outTradeNo,
		"sub_orders": subs,
	}
	if co.deviceID != "" {
		out["scene_info"] = map[string]any{"device_id": co.deviceID}
	}
	payer := co.openid
	if payer == "" {
		payer = openID(co.appid)
	}
	out["combine_payer_info"] = map[string]any{"openid": payer}
	if len(co.subs) > 0 && co.subs[0].paid() {
		out["combine_transaction_id"] = co.transactionID
	}
	return out
}

// queryCombine answers QueryCombineOrder.
func (s *Server) queryCombine(c *call) *answer {
	s.mu.Lock()
	defer s.mu.Unlock()
	co := s.st.combines[ownerKey(c.merchant.MchID, c.pathParams["combine_out_trade_no"])]
	if co == nil {
		return c.orderNotFound()
	}
	return c.ok(s.combineTransaction(co))
}

// closeCombine closes the unpaid sub-orders of a combined order.
func (s *Server) closeCombine(c *call) *answer {
	s.mu.Lock()
	defer s.mu.Unlock()
	co := s.st.combines[ownerKey(c.merchant.MchID, c.pathParams["combine_out_trade_no"])]
	if co == nil {
		return c.orderNotFound()
	}
	want := map[string]bool{}
	if subs, ok := c.body["sub_orders"].([]any); ok {
		for _, x := range subs {
			want[str(x, "out_trade_no")] = true
		}
	}
	for _, o := range co.subs {
		if len(want) > 0 && !want[o.outTradeNo] {
			continue
		}
		if o.paid() {
			return c.fail(http.StatusBadRequest, "ORDERPAID", "子单"+o.outTradeNo+"已支付，不能关闭")
		}
	}
	for _, o := range co.subs {
		if (len(want) == 0 || want[o.outTradeNo]) && (o.state == StateNotPay || o.state == StateUserPaying) {
			o.state = StateClosed
		}
	}
	return c.ok(nil)
}
