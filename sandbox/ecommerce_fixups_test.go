package sandbox

// Fixups for the stateful 电商收付通 operations: each synthesized request is
// made to address a second-level merchant's paid order, share, refund,
// subsidy or withdrawal that exists.

func init() {
	paidOrder := func(s *Server, rq *opRequest) *order {
		o := seedOrder(s, rq.cred, StateSuccess)
		if rq.body != nil {
			rq.body["sub_mchid"] = rq.cred.SubMchID
		}
		return o
	}
	share := func(s *Server, rq *opRequest, receiver string) *psOrder {
		o := seedOrder(s, rq.cred, StateSuccess)
		now := s.now()
		s.mu.Lock()
		defer s.mu.Unlock()
		s.st.ps.init()
		p := &psOrder{owner: o.owner, order: o, orderID: "30" + s.st.newTransactionID(now)[2:], outOrderNo: uniqueNo("PS"), state: "FINISHED",
			receivers: []*psShare{{typ: "MERCHANT_ID", account: receiver, amount: 10, result: "SUCCESS", detailID: "36" + s.st.newTransactionID(now)[2:], created: now, finished: now}}}
		s.st.ps.shared[o.transactionID] += 10
		s.st.ps.orders[ownerKey(p.owner, p.outOrderNo)] = p
		s.st.ps.byID[p.orderID] = p
		return p
	}
	credit := func(s *Server, sub string, amount int64) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.st.ec.init()
		s.st.ec.ledger[sub] += amount
	}
	ecRefund := func(s *Server, rq *opRequest, account string) *refund {
		rf := seedRefund(s, rq.cred, RefundSuccess)
		s.mu.Lock()
		defer s.mu.Unlock()
		rf.refundAccount = account
		if account == "REFUND_SOURCE_PARTNER_ADVANCE" {
			rf.advance = rf.amount
		}
		return rf
	}
	for id, f := range map[string]func(s *Server, rq *opRequest){
		"QueryEcommerceApplymentByID": func(s *Server, rq *opRequest) {
			rq.pathParams["applyment_id"] = seedApplyment(s, rq.cred).idString()
		},
		"QueryEcommerceApplymentByOutRequestNo": func(s *Server, rq *opRequest) {
			rq.pathParams["out_request_no"] = seedApplyment(s, rq.cred).outRequestNo
		},
		"CreateEcommerceProfitSharingOrder": func(s *Server, rq *opRequest) {
			rq.body["transaction_id"] = paidOrder(s, rq).transactionID
			rq.body["receivers"] = []any{map[string]any{"type": "MERCHANT_ID", "receiver_account": rq.cred.MchID, "amount": float64(10), "description": "fixup"}}
		},
		"QueryEcommerceProfitSharingOrder": func(s *Server, rq *opRequest) {
			p := share(s, rq, rq.cred.MchID)
			rq.query.Set("transaction_id", p.order.transactionID)
			rq.query.Set("out_order_no", p.outOrderNo)
		},
		"FinishEcommerceProfitSharing": func(s *Server, rq *opRequest) {
			rq.body["transaction_id"] = paidOrder(s, rq).transactionID
		},
		"QueryEcommerceProfitSharingAmounts": func(s *Server, rq *opRequest) {
			rq.pathParams["transaction_id"] = paidOrder(s, rq).transactionID
		},
		"CreateEcommerceProfitSharingReturnOrder": func(s *Server, rq *opRequest) {
			p := share(s, rq, "1900009999")
			rq.body["order_id"], rq.body["out_order_no"], rq.body["return_mchid"], rq.body["amount"] = p.orderID, p.outOrderNo, "1900009999", float64(5)
		},
		"QueryEcommerceProfitSharingReturnOrder": func(s *Server, rq *opRequest) {
			p := share(s, rq, "1900009999")
			s.mu.Lock()
			r := &psReturn{owner: p.owner, ps: p, returnID: "30" + s.st.newTransactionID(s.now())[2:], outReturnNo: uniqueNo("RT"),
				returnMchID: "1900009999", amount: 5, result: "SUCCESS", created: s.now(), finished: s.now()}
			s.st.ps.returns[ownerKey(p.owner, r.outReturnNo)] = r
			s.mu.Unlock()
			rq.query.Set("out_return_no", r.outReturnNo)
			rq.query.Set("out_order_no", p.outOrderNo)
			rq.query.Del("order_id")
		},
		"CreateEcommerceRefund": func(s *Server, rq *opRequest) {
			o := paidOrder(s, rq)
			rq.body["transaction_id"] = o.transactionID
			delete(rq.body, "out_trade_no")
			rq.body["refund_account"] = "REFUND_SOURCE_SUB_MERCHANT"
			if amt, ok := rq.body["amount"].(map[string]any); ok {
				amt["total"], amt["refund"], amt["currency"] = float64(o.total), float64(1), "CNY"
				delete(amt, "from")
			}
		},
		"QueryEcommerceRefundByID": func(s *Server, rq *opRequest) {
			rq.pathParams["refund_id"] = ecRefund(s, rq, "REFUND_SOURCE_SUB_MERCHANT").refundID
		},
		"QueryEcommerceRefundByOutRefundNo": func(s *Server, rq *opRequest) {
			rq.pathParams["out_refund_no"] = ecRefund(s, rq, "REFUND_SOURCE_SUB_MERCHANT").outRefundNo
		},
		"ReturnEcommerceRefundAdvance": func(s *Server, rq *opRequest) {
			rf := ecRefund(s, rq, "REFUND_SOURCE_PARTNER_ADVANCE")
			credit(s, rq.cred.SubMchID, rf.advance)
			rq.pathParams["refund_id"] = rf.refundID
		},
		"QueryEcommerceRefundAdvanceReturn": func(s *Server, rq *opRequest) {
			rf := ecRefund(s, rq, "REFUND_SOURCE_PARTNER_ADVANCE")
			s.mu.Lock()
			s.st.ec.init()
			s.st.ec.advances[rf.refundID] = &ecAdvance{refund: rf, id: "12" + s.st.newTransactionID(s.now())[2:], amount: rf.advance,
				payer: rq.cred.SubMchID, payee: rq.cred.MchID, result: "SUCCESS", succeeded: s.now()}
			s.mu.Unlock()
			rq.pathParams["refund_id"] = rf.refundID
		},
		"CreateEcommerceSubsidy": func(s *Server, rq *opRequest) {
			rq.body["transaction_id"] = paidOrder(s, rq).transactionID
			rq.body["amount"] = float64(10)
		},
		"ReturnEcommerceSubsidy": func(s *Server, rq *opRequest) {
			o := paidOrder(s, rq)
			s.mu.Lock()
			s.st.ec.init()
			s.st.ec.subsidies[ownerKey(rq.cred.SubMchID, o.transactionID)] = &ecSubsidy{subMchID: rq.cred.SubMchID, txID: o.transactionID,
				id: "30" + s.st.newTransactionID(s.now())[2:], outNo: o.transactionID, amount: 10, at: s.now()}
			s.st.ec.ledger[rq.cred.SubMchID] += 10
			s.mu.Unlock()
			rq.body["transaction_id"], rq.body["amount"] = o.transactionID, float64(10)
			delete(rq.body, "from")
		},
		"CancelEcommerceSubsidy": func(s *Server, rq *opRequest) {
			rq.body["transaction_id"] = paidOrder(s, rq).transactionID
		},
		"CreateEcommerceWithdraw": func(s *Server, rq *opRequest) {
			credit(s, rq.cred.SubMchID, 100)
			rq.body["sub_mchid"], rq.body["amount"] = rq.cred.SubMchID, float64(100)
		},
		"QueryEcommerceWithdrawByID": func(s *Server, rq *opRequest) {
			rq.pathParams["withdraw_id"] = seedWithdraw(s, rq.cred).withdrawID
		},
		"QueryEcommerceWithdrawByOutRequestNo": func(s *Server, rq *opRequest) {
			rq.pathParams["out_request_no"] = seedWithdraw(s, rq.cred).outRequestNo
		},
	} {
		fixups[id] = f
	}
}

func seedApplyment(s *Server, cred Credentials) *ecApplyment {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.ec.init()
	a := &ecApplyment{spMchID: cred.MchID, outRequestNo: uniqueNo("APPLY"), applymentID: 2000002000000000 + s.st.nextSeq(), state: "CHECKING"}
	s.st.ec.applyments[ownerKey(a.spMchID, a.outRequestNo)] = a
	s.st.ec.byApplyID[a.idString()] = a
	return a
}

func seedWithdraw(s *Server, cred Credentials) *ecWithdraw {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.ec.init()
	now := s.now()
	w := &ecWithdraw{subMchID: cred.SubMchID, spMchID: cred.MchID, outRequestNo: uniqueNo("WD"), withdrawID: "1232" + s.st.newTransactionID(now),
		amount: 100, status: "SUCCESS", accountType: "BASIC", created: now, updated: now}
	s.st.ec.withdraws[ownerKey(w.subMchID, w.outRequestNo)] = w
	s.st.ec.withdrawID[w.withdrawID] = w
	return w
}
