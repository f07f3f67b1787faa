package sandbox

import (
	"fmt"
	"net/http"
	"sort"
	"time"
)

// Consumer complaints (消费者投诉 2.0) with state: FileComplaint plays a
// payer complaining about a paid order (PENDING, COMPLAINT.CREATE); the
// merchant replies (PROCESSING, COMPLAINT.STATE_CHANGE with
// MERCHANT_RESPONSE) and completes it (PROCESSED, MERCHANT_CONFIRM_COMPLETE).
// Notifications go to the URL registered with CreateComplaintNotification
// by the direct merchant or the service provider. Negotiation history,
// refund progress, images and immediate-service replies stay echoes.

// cpState is the complaint state; Server.mu guards it.
type cpState struct {
	complaints map[string]*complaint // by complaint_id
	notify     map[string]string     // mchid (direct or service provider) → URL
}

func (c *cpState) init() {
	if c.complaints == nil {
		c.complaints, c.notify = map[string]*complaint{}, map[string]string{}
	}
}

type complaint struct {
	id          string
	mchid       string         // the merchant complained about: a direct merchant or a sub_mchid
	handler     *merchantState // the direct merchant or the service provider
	order       *order
	detail      string
	phone       string
	state       string // PENDING, PROCESSING, PROCESSED
	created     time.Time
	responses   []string
	preferPubKy bool
}

func (s *Server) registerComplaints() {
	s.handlers["ListComplaints"] = s.listComplaints
	s.handlers["QueryComplaint"] = s.queryComplaint
	s.handlers["RespondToComplaint"] = s.respondToComplaint
	s.handlers["CompleteComplaint"] = s.completeComplaint
	s.handlers["CreateComplaintNotification"] = s.setComplaintURL
	s.handlers["UpdateComplaintNotification"] = s.setComplaintURL
	s.handlers["QueryComplaintNotification"] = s.queryComplaintURL
	s.handlers["DeleteComplaintNotification"] = s.deleteComplaintURL
}

func (s *Server) setComplaintURL(c *call) *answer {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.cp.init()
	s.st.cp.notify[c.merchant.MchID] = str(c.body, "url")
	return c.ok(map[string]any{"mchid": c.merchant.MchID, "url": str(c.body, "url")})
}

func (s *Server) queryComplaintURL(c *call) *answer {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.cp.init()
	u, ok := s.st.cp.notify[c.merchant.MchID]
	if !ok {
		return c.fail(http.StatusNotFound, "RESOURCE_NOT_EXISTS", "商户未设置投诉通知回调地址")
	}
	return c.ok(map[string]any{"mchid": c.merchant.MchID, "url": u})
}

func (s *Server) deleteComplaintURL(c *call) *answer {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.cp.init()
	delete(s.st.cp.notify, c.merchant.MchID)
	return c.ok(nil)
}

// FileComplaint plays a payer complaining about a paid order (owner: its
// mchid or sub_mchid; "" searches every merchant). The complaint is
// PENDING and COMPLAINT.CREATE goes to the complaint notification URL the
// merchant (or its service provider) registered. It returns the
// complaint_id.
func (s *Server) FileComplaint(owner, outTradeNo, detail string) (string, error) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.cp.init()
	var o *order
	for _, x := range s.st.orders {
		if x.outTradeNo == outTradeNo && (owner == "" || x.owner == owner || x.mchid == owner) {
			if o != nil {
				return "", fmt.Errorf("sandbox: out_trade_no %s exists for several merchants: give the mchid", outTradeNo)
			}
			o = x
		}
	}
	if o == nil {
		return "", fmt.Errorf("%w: no order %s", ErrNotFound, outTradeNo)
	}
	if !o.paid() {
		return "", fmt.Errorf("sandbox: order %s is %s: only paid orders are complained about", outTradeNo, o.state)
	}
	if detail == "" {
		detail = "商品与描述不符"
	}
	handler := o.notifier
	if o.partner {
		handler = s.merchants[o.mchid]
	}
	cp := &complaint{id: fmt.Sprintf("2002%08d%s%s", s.st.nextSeq()%1e8, now.In(beijing).Format("20060102"), randomString(digits, 7)),
		mchid: o.owner, handler: handler, order: o, detail: detail, phone: "13800138000", state: "PENDING", created: now,
		preferPubKy: o.preferPublicKey}
	s.st.cp.complaints[cp.id] = cp
	s.complaintNotify(cp, "COMPLAINT.CREATE", "CREATE_COMPLAINT")
	return cp.id, nil
}

// complaintNotify sends a COMPLAINT.* notification when a URL is
// registered. Callers hold s.mu.
func (s *Server) complaintNotify(cp *complaint, event, action string) {
	u := s.st.cp.notify[cp.handler.MchID]
	if u == "" {
		return
	}
	s.enqueue(notification{merchant: cp.handler, url: u, eventType: event, summary: "投诉单状态变更", originalType: "complaint",
		resource: map[string]any{"complaint_id": cp.id, "action_type": action}, outTradeNo: cp.order.outTradeNo, preferPublicKey: cp.preferPubKy})
}

// findComplaint returns a complaint the caller may see: its own, or a
// sub-merchant's for a service provider. Callers hold s.mu.
func (s *Server) findComplaint(c *call) *complaint {
	s.st.cp.init()
	cp := s.st.cp.complaints[c.pathParams["complaint_id"]]
	if cp == nil || cp.handler != c.merchant {
		return nil
	}
	return cp
}

// complaintJSON renders a Complaint, payer_phone in plaintext (callers
// encrypt it). Callers hold s.mu.
func (s *Server) complaintJSON(cp *complaint) map[string]any {
	return map[string]any{
		"complaint_id": cp.id, "complaint_time": wxTime(cp.created), "complaint_detail": cp.detail, "complaint_state": cp.state,
		"complainted_mchid": cp.mchid, "payer_phone": cp.phone, "payer_openid": cp.order.openid,
		"complaint_order_info":    []any{map[string]any{"transaction_id": cp.order.transactionID, "out_trade_no": cp.order.outTradeNo, "amount": cp.order.total}},
		"complaint_full_refunded": cp.order.refunded >= cp.order.total, "incoming_user_response": false,
		"problem_description": cp.detail, "user_complaint_times": 1, "problem_type": "REFUND", "apply_refund_amount": cp.order.total,
		"in_platform_service": false, "need_immediate_service": false,
	}
}

func (s *Server) queryComplaint(c *call) *answer {
	s.mu.Lock()
	defer s.mu.Unlock()
	cp := s.findComplaint(c)
	if cp == nil {
		return c.fail(http.StatusNotFound, "RESOURCE_NOT_EXISTS", "投诉单不存在")
	}
	v := s.complaintJSON(cp)
	c.encryptSensitiveAnswer(c.op.responseSchema(http.StatusOK), v)
	return c.ok(v)
}

func (s *Server) listComplaints(c *call) *answer {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.cp.init()
	q := c.r.URL.Query()
	var list []*complaint
	for _, cp := range s.st.cp.complaints {
		if cp.handler == c.merchant && (q.Get("complainted_mchid") == "" || q.Get("complainted_mchid") == cp.mchid) {
			list = append(list, cp)
		}
	}
	sort.Slice(list, func(i, j int) bool {
		return list[i].created.Before(list[j].created) || list[i].created.Equal(list[j].created) && list[i].id < list[j].id
	})
	limit, offset := 10, 0
	fmt.Sscan(q.Get("limit"), &limit)
	fmt.Sscan(q.Get("offset"), &offset)
	data := []any{}
	for i := offset; i >= 0 && i < len(list) && len(data) < limit; i++ {
		data = append(data, s.complaintJSON(list[i]))
	}
	v := map[string]any{"data": data, "limit": limit, "offset": offset, "total_count": len(list)}
	c.encryptSensitiveAnswer(c.op.responseSchema(http.StatusOK), v)
	return c.ok(v)
}

func (s *Server) respondToComplaint(c *call) *answer {
	s.mu.Lock()
	defer s.mu.Unlock()
	cp := s.findComplaint(c)
	if cp == nil || str(c.body, "complainted_mchid") != cp.mchid {
		return c.fail(http.StatusNotFound, "RESOURCE_NOT_EXISTS", "投诉单不存在")
	}
	if cp.state == "PROCESSED" {
		return c.fail(http.StatusBadRequest, "INVALID_REQUEST", "投诉单已处理完成，不能回复")
	}
	cp.responses = append(cp.responses, str(c.body, "response_content"))
	if cp.state == "PENDING" {
		cp.state = "PROCESSING"
	}
	s.complaintNotify(cp, "COMPLAINT.STATE_CHANGE", "MERCHANT_RESPONSE")
	return c.ok(nil)
}

func (s *Server) completeComplaint(c *call) *answer {
	s.mu.Lock()
	defer s.mu.Unlock()
	cp := s.findComplaint(c)
	if cp == nil || str(c.body, "complainted_mchid") != cp.mchid {
		return c.fail(http.StatusNotFound, "RESOURCE_NOT_EXISTS", "投诉单不存在")
	}
	if cp.state == "PENDING" {
		return c.fail(http.StatusBadRequest, "INVALID_REQUEST", "请先回复用户再反馈处理完成")
	}
	if cp.state != "PROCESSED" {
		cp.state = "PROCESSED"
		s.complaintNotify(cp, "COMPLAINT.STATE_CHANGE", "MERCHANT_CONFIRM_COMPLETE")
	}
	return c.ok(nil)
}

// ComplaintState returns where a complaint stands.
func (s *Server) ComplaintState(complaintID string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.cp.init()
	cp := s.st.cp.complaints[complaintID]
	if cp == nil {
		return "", fmt.Errorf("%w: no complaint %s", ErrNotFound, complaintID)
	}
	return cp.state, nil
}
