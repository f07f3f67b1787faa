package sandbox

import (
	"fmt"
	"strconv"
)

// RefundFromPlatform refunds amount (分) of a paid order the way a person
// does on the merchant platform (商户平台) rather than through the API:
// owner is the order's mchid or sub_mchid ("" finds the out_trade_no among
// all merchants). The refund follows the same course as an API refund
// (PROCESSING, then its outcome after the refund delay) and its
// notification goes to the order's notify_url. It returns the
// out_refund_no.
func (s *Server) RefundFromPlatform(owner, outTradeNo string, amount int64) (string, error) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
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
		return "", fmt.Errorf("sandbox: order %s is %s, not paid", outTradeNo, o.state)
	}
	left := o.total - o.refunded
	if amount <= 0 {
		amount = left
	}
	if amount <= 0 || amount > left {
		return "", fmt.Errorf("sandbox: order %s: %d 分 cannot be refunded (%d left)", outTradeNo, amount, left)
	}
	orn := "PLATFORM" + strconv.FormatInt(s.st.nextSeq(), 10) + randomString(digits, 8)
	rf := &refund{
		order: o, owner: o.owner, refundID: s.st.newRefundID(now), outRefundNo: orn,
		status: RefundProcessing, outcome: s.refundOutcome(orn), amount: amount, currency: o.currency,
		reason: "商户平台退款", notifyURL: o.notifyURL,
		fundsAccount: "AVAILABLE", channel: "ORIGINAL", userReceivedAccount: "支付用户零钱",
		createTime: now, fingerprint: orn, notifier: o.notifier, preferPublicKey: o.preferPublicKey,
	}
	o.refunded += amount
	s.st.refunds[ownerKey(o.owner, orn)] = rf
	s.st.refundByID[rf.refundID] = rf
	s.scheduleRefund(rf)
	return orn, nil
}
