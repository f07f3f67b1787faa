package sandbox

import (
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestDirectOrderLifecycle(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	h, m := s.Handler(), s.Merchant()
	sg := signer{cred: m}
	otn := uniqueNo("D")
	body := nativeBody(m, otn, 88)
	body["attach"] = "cart-7"
	r := send(t, h, sg, "POST", "/v3/pay/transactions/native", body)
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	verify(t, s, r.header, r.body)
	codeURL := r.json(t)["code_url"].(string)
	if !strings.HasPrefix(codeURL, "weixin://wxpay/bizpayurl?pr=") {
		t.Fatalf("code_url %s", codeURL)
	}
	// Idempotent: same content, same answer; other content, 201 duplicate.
	if r := send(t, h, sg, "POST", "/v3/pay/transactions/native", body); r.json(t)["code_url"] != codeURL {
		t.Fatalf("retry: %s", r.body)
	}
	other := nativeBody(m, otn, 99)
	if r := send(t, h, sg, "POST", "/v3/pay/transactions/native", other); r.status != 400 || r.code() != "INVALID_REQUEST" || !strings.Contains(string(r.body), "201 商户订单号重复") {
		t.Fatalf("duplicate: %d %s", r.status, r.body)
	}

	q := "/v3/pay/transactions/out-trade-no/" + otn + "?mchid=" + m.MchID
	r = send(t, h, sg, "GET", q, nil)
	tx := r.json(t)
	if r.status != 200 || tx["trade_state"] != "NOTPAY" || tx["transaction_id"] != nil || tx["mchid"] != m.MchID || tx["appid"] != m.AppID {
		t.Fatalf("NOTPAY query: %d %s", r.status, r.body)
	}
	verify(t, s, r.header, r.body)

	txID, err := s.Pay(m.MchID, otn)
	if err != nil {
		t.Fatal(err)
	}
	r = send(t, h, sg, "GET", q, nil)
	tx = r.json(t)
	amount := tx["amount"].(map[string]any)
	if tx["trade_state"] != "SUCCESS" || tx["transaction_id"] != txID || tx["trade_type"] != "NATIVE" || tx["attach"] != "cart-7" ||
		tx["success_time"] == nil || amount["total"] != 88.0 || amount["payer_total"] != 88.0 || tx["payer"].(map[string]any)["openid"] == nil {
		t.Fatalf("SUCCESS query: %s", r.body)
	}
	r = send(t, h, sg, "GET", "/v3/pay/transactions/id/"+txID+"?mchid="+m.MchID, nil)
	if r.status != 200 || r.json(t)["out_trade_no"] != otn {
		t.Fatalf("by id: %d %s", r.status, r.body)
	}
	if _, err := s.Pay(m.MchID, otn); err == nil {
		t.Fatal("paid twice")
	}
	if r := send(t, h, sg, "POST", "/v3/pay/transactions/native", body); r.status != 400 || r.code() != "ORDERPAID" {
		t.Fatalf("prepay of a paid order: %d %s", r.status, r.body)
	}
	if r := send(t, h, sg, "POST", "/v3/pay/transactions/out-trade-no/"+otn+"/close", map[string]any{"mchid": m.MchID}); r.status != 400 || r.code() != "ORDERPAID" {
		t.Fatalf("close of a paid order: %d %s", r.status, r.body)
	}
	if r := send(t, h, sg, "GET", "/v3/pay/transactions/id/4200000000000000000000000000?mchid="+m.MchID, nil); r.status != 404 || r.code() != "ORDER_NOT_EXIST" {
		t.Fatalf("unknown id: %d %s", r.status, r.body)
	}
	// Another merchant does not see it.
	p := s.Partner()
	if r := send(t, h, signer{cred: p}, "GET", "/v3/pay/partner/transactions/id/"+txID+"?sp_mchid="+p.MchID+"&sub_mchid="+p.SubMchID, nil); r.status != 404 {
		t.Fatalf("partner sees the direct order: %d %s", r.status, r.body)
	}
}

func TestCloseOrder(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	h, m := s.Handler(), s.Merchant()
	sg := signer{cred: m}
	otn := uniqueNo("C")
	body := nativeBody(m, otn, 1)
	send(t, h, sg, "POST", "/v3/pay/transactions/native", body)
	r := send(t, h, sg, "POST", "/v3/pay/transactions/out-trade-no/"+otn+"/close", map[string]any{"mchid": m.MchID})
	if r.status != 204 || len(r.body) != 0 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	verify(t, s, r.header, r.body)
	if st, _ := s.OrderState(m.MchID, otn); st != StateClosed {
		t.Fatalf("state %s", st)
	}
	if r := send(t, h, sg, "POST", "/v3/pay/transactions/native", body); r.status != 400 || r.code() != "ORDER_CLOSED" {
		t.Fatalf("prepay of a closed order: %d %s", r.status, r.body)
	}
	if _, err := s.Pay("", otn); err == nil {
		t.Fatal("paid a closed order")
	}
	if r := send(t, h, sg, "POST", "/v3/pay/transactions/out-trade-no/NOPE123/close", map[string]any{"mchid": m.MchID}); r.status != 404 {
		t.Fatalf("close unknown: %d %s", r.status, r.body)
	}
}

func TestPrepayAnswers(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	h, m := s.Handler(), s.Merchant()
	sg := signer{cred: m}
	for _, tc := range []struct{ path, field, prefix string }{
		{"/v3/pay/transactions/jsapi", "prepay_id", "wx"},
		{"/v3/pay/transactions/app", "prepay_id", "wx"},
		{"/v3/pay/transactions/h5", "h5_url", "https://"},
	} {
		b := nativeBody(m, uniqueNo("P"), 1)
		b["payer"] = map[string]any{"openid": "oUser"}
		b["scene_info"] = map[string]any{"payer_client_ip": "127.0.0.1", "h5_info": map[string]any{"type": "Wap"}}
		r := send(t, h, sg, "POST", tc.path, b)
		if r.status != 200 {
			t.Fatalf("%s: %d %s", tc.path, r.status, r.body)
		}
		if v, _ := r.json(t)[tc.field].(string); !strings.HasPrefix(v, tc.prefix) {
			t.Fatalf("%s: %s", tc.path, r.body)
		}
	}
}

func partnerBody(p Credentials, otn string, total int) map[string]any {
	return map[string]any{
		"sp_appid": p.AppID, "sp_mchid": p.MchID, "sub_mchid": p.SubMchID, "description": "partner test",
		"out_trade_no": otn, "notify_url": "http://127.0.0.1:9/notify", "amount": map[string]any{"total": total},
	}
}

func TestPartnerOrderLifecycle(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	h, p := s.Handler(), s.Partner()
	sg := signer{cred: p}
	otn := uniqueNo("P")
	b := partnerBody(p, otn, 300)
	b["payer"] = map[string]any{"sp_openid": "oSpPayer"}
	r := send(t, h, sg, "POST", "/v3/pay/partner/transactions/jsapi", b)
	if r.status != 200 || !strings.HasPrefix(r.json(t)["prepay_id"].(string), "wx") {
		t.Fatalf("%d %s", r.status, r.body)
	}
	prepay := r.json(t)["prepay_id"]
	if r := send(t, h, sg, "POST", "/v3/pay/partner/transactions/jsapi", b); r.json(t)["prepay_id"] != prepay {
		t.Fatalf("retry: %s", r.body)
	}
	q := "/v3/pay/partner/transactions/out-trade-no/" + otn + "?sp_mchid=" + p.MchID + "&sub_mchid=" + p.SubMchID
	if _, err := s.Pay(p.SubMchID, otn); err != nil {
		t.Fatal(err)
	}
	r = send(t, h, sg, "GET", q, nil)
	tx := r.json(t)
	if tx["trade_state"] != "SUCCESS" || tx["sp_mchid"] != p.MchID || tx["sub_mchid"] != p.SubMchID || tx["sp_appid"] != p.AppID ||
		tx["mchid"] != nil || tx["payer"].(map[string]any)["sp_openid"] != "oSpPayer" {
		t.Fatalf("partner query: %s", r.body)
	}
	verify(t, s, r.header, r.body)
	// The direct path does not know partner orders.
	m := s.Merchant()
	if r := send(t, h, signer{cred: m}, "GET", "/v3/pay/transactions/out-trade-no/"+otn+"?mchid="+m.MchID, nil); r.status != 404 {
		t.Fatalf("direct merchant sees it: %d", r.status)
	}
	// Close in partner mode.
	otn2 := uniqueNo("P")
	send(t, h, sg, "POST", "/v3/pay/partner/transactions/native", partnerBody(p, otn2, 1))
	r = send(t, h, sg, "POST", "/v3/pay/partner/transactions/out-trade-no/"+otn2+"/close", map[string]any{"sp_mchid": p.MchID, "sub_mchid": p.SubMchID})
	if r.status != 204 {
		t.Fatalf("close: %d %s", r.status, r.body)
	}
	if st, _ := s.OrderState(p.SubMchID, otn2); st != StateClosed {
		t.Fatalf("state %s", st)
	}
	// Pay takes the service provider's sp_mchid too, as its doc says.
	otn3 := uniqueNo("P")
	send(t, h, sg, "POST", "/v3/pay/partner/transactions/native", partnerBody(p, otn3, 1))
	if _, err := s.Pay(p.MchID, otn3); err != nil {
		t.Fatalf("Pay with the sp_mchid: %v", err)
	}
	if st, _ := s.OrderState(p.SubMchID, otn3); st != StateSuccess {
		t.Fatalf("paid with the sp_mchid: state %s", st)
	}
}

func codePayBody(m Credentials, otn, authCode string) map[string]any {
	return map[string]any{
		"appid": m.AppID, "mchid": m.MchID, "description": "till", "out_trade_no": otn,
		"payer": map[string]any{"auth_code": authCode}, "amount": map[string]any{"total": 250},
		"scene_info": map[string]any{"device_id": "POS-1", "store_info": map[string]any{"out_id": "S1"}},
	}
}

func TestCodePayAndReverse(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	h, m := s.Handler(), s.Merchant()
	sg := signer{cred: m}
	otn := uniqueNo("M")
	r := send(t, h, sg, "POST", "/v3/pay/transactions/codepay", codePayBody(m, otn, "134567890123456789"))
	tx := r.json(t)
	if r.status != 200 || tx["trade_state"] != "SUCCESS" || tx["trade_type"] != "MICROPAY" || tx["transaction_id"] == nil {
		t.Fatalf("%d %s", r.status, r.body)
	}
	verify(t, s, r.header, r.body)

	otn2 := uniqueNo("M")
	r = send(t, h, sg, "POST", "/v3/pay/transactions/codepay", codePayBody(m, otn2, AuthCodeUserPaying))
	if r.status != 202 || r.code() != "USERPAYING" {
		t.Fatalf("user paying: %d %s", r.status, r.body)
	}
	q := "/v3/pay/transactions/out-trade-no/" + otn2 + "?mchid=" + m.MchID
	if r := send(t, h, sg, "GET", q, nil); r.json(t)["trade_state"] != "USERPAYING" {
		t.Fatalf("query: %s", r.body)
	}
	if _, err := s.Pay(m.MchID, otn2); err != nil {
		t.Fatal(err)
	}
	if r := send(t, h, sg, "GET", q, nil); r.json(t)["trade_state"] != "SUCCESS" {
		t.Fatalf("after Pay: %s", r.body)
	}
	r = send(t, h, sg, "POST", "/v3/pay/transactions/out-trade-no/"+otn2+"/reverse", map[string]any{"appid": m.AppID, "mchid": m.MchID})
	if r.status/100 != 2 {
		t.Fatalf("reverse: %d %s", r.status, r.body)
	}
	if r := send(t, h, sg, "GET", q, nil); r.json(t)["trade_state"] != "REVOKED" {
		t.Fatalf("after reverse: %s", r.body)
	}
}

func TestCombineOrder(t *testing.T) {
	t.Parallel()
	rv := newReceiver(t)
	s := newServer(t)
	h, p := s.Handler(), s.Partner()
	sg := signer{cred: p}
	cotn := uniqueNo("CO")
	subs := []any{
		map[string]any{"mchid": p.MchID, "sub_mchid": p.SubMchID, "out_trade_no": uniqueNo("S"), "description": "a", "attach": "x",
			"amount": map[string]any{"total_amount": 100, "currency": "CNY"}},
		map[string]any{"mchid": p.MchID, "sub_mchid": p.SubMchID, "out_trade_no": uniqueNo("S"), "description": "b", "attach": "y",
			"amount": map[string]any{"total_amount": 200, "currency": "CNY"}},
	}
	body := map[string]any{"combine_appid": p.AppID, "combine_mchid": p.MchID, "combine_out_trade_no": cotn,
		"sub_orders": subs, "notify_url": rv.URL + "/combine", "scene_info": map[string]any{"payer_client_ip": "127.0.0.1"}}
	r := send(t, h, sg, "POST", "/v3/combine-transactions/native", body)
	if r.status != 200 || !strings.HasPrefix(r.json(t)["code_url"].(string), "weixin://") {
		t.Fatalf("%d %s", r.status, r.body)
	}
	q := "/v3/combine-transactions/out-trade-no/" + cotn
	r = send(t, h, sg, "GET", q, nil)
	ct := r.json(t)
	if r.status != 200 || ct["combine_out_trade_no"] != cotn || len(ct["sub_orders"].([]any)) != 2 ||
		ct["sub_orders"].([]any)[0].(map[string]any)["trade_state"] != "NOTPAY" {
		t.Fatalf("query: %d %s", r.status, r.body)
	}
	verify(t, s, r.header, r.body)
	if _, err := s.Pay(p.MchID, cotn); err != nil {
		t.Fatal(err)
	}
	r = send(t, h, sg, "GET", q, nil)
	for _, x := range r.json(t)["sub_orders"].([]any) {
		so := x.(map[string]any)
		if so["trade_state"] != "SUCCESS" || so["transaction_id"] == nil {
			t.Fatalf("after Pay: %s", r.body)
		}
	}
	d, err := s.WaitDelivery(ctx(t), func(d Delivery) bool { return d.OutTradeNo == cotn })
	if err != nil || d.Status != DeliveryDelivered || d.EventType != "TRANSACTION.SUCCESS" || !strings.Contains(string(d.Resource), cotn) {
		t.Fatalf("notification %+v %v", d, err)
	}
	var res map[string]any
	_ = json.Unmarshal(d.Resource, &res)
	if sch := s.spec.eventSchema(d.EventType, res); sch == nil || sch.Properties["combine_out_trade_no"] == nil || sch.VisitJSON(res) != nil {
		t.Fatalf("combined notification resource: %s", d.Resource)
	}
	// A sub-order is an order of the sub-merchant too.
	so := subs[0].(map[string]any)
	r = send(t, h, sg, "GET", "/v3/pay/partner/transactions/out-trade-no/"+so["out_trade_no"].(string)+"?sp_mchid="+p.MchID+"&sub_mchid="+p.SubMchID, nil)
	if r.status != 200 || r.json(t)["trade_state"] != "SUCCESS" {
		t.Fatalf("sub-order query: %d %s", r.status, r.body)
	}
	// Close another combined order.
	cotn2 := uniqueNo("CO")
	body["combine_out_trade_no"] = cotn2
	for _, x := range subs {
		x.(map[string]any)["out_trade_no"] = uniqueNo("S")
	}
	if r := send(t, h, sg, "POST", "/v3/combine-transactions/jsapi", withPayer(body)); r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	r = send(t, h, sg, "POST", "/v3/combine-transactions/out-trade-no/"+cotn2+"/close", map[string]any{"combine_appid": p.AppID, "sub_orders": []any{
		map[string]any{"mchid": p.MchID, "sub_mchid": p.SubMchID, "out_trade_no": subs[0].(map[string]any)["out_trade_no"]},
		map[string]any{"mchid": p.MchID, "sub_mchid": p.SubMchID, "out_trade_no": subs[1].(map[string]any)["out_trade_no"]},
	}})
	if r.status != 204 {
		t.Fatalf("close: %d %s", r.status, r.body)
	}
	r = send(t, h, sg, "GET", "/v3/combine-transactions/out-trade-no/"+cotn2, nil)
	if r.json(t)["sub_orders"].([]any)[1].(map[string]any)["trade_state"] != "CLOSED" {
		t.Fatalf("after close: %s", r.body)
	}
}

func withPayer(b map[string]any) map[string]any {
	c := map[string]any{}
	for k, v := range b {
		c[k] = v
	}
	c["combine_payer_info"] = map[string]any{"openid": "oCombinePayer"}
	return c
}

func TestPayRules(t *testing.T) {
	t.Parallel()
	now := time.Now()
	var offset atomic.Int64 // the server's goroutines read the clock too
	clock := func() time.Time { return now.Add(time.Duration(offset.Load())) }
	s := newServer(t, WithClock(clock))
	h, p := s.Handler(), s.Partner()
	sg := signer{cred: p, now: clock}
	otn := uniqueNo("E")
	b := partnerBody(p, otn, 1)
	b["time_expire"] = wxTime(now.Add(30 * time.Minute))
	if r := send(t, h, sg, "POST", "/v3/pay/partner/transactions/native", b); r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	offset.Store(int64(time.Hour))
	if _, err := s.Pay(p.SubMchID, otn); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("paid after time_expire: %v", err)
	}
	// The service provider's mchid finds its sub-merchants' orders.
	offset.Store(0)
	otn2 := uniqueNo("E")
	send(t, h, sg, "POST", "/v3/pay/partner/transactions/native", partnerBody(p, otn2, 1))
	if _, err := s.Pay(p.MchID, otn2); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pay("", "NOPE"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown order: %v", err)
	}
}
