package sandbox

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gowxpay/wxpay/auth"
)

type envelope struct {
	ID           string `json:"id"`
	CreateTime   string `json:"create_time"`
	ResourceType string `json:"resource_type"`
	EventType    string `json:"event_type"`
	Summary      string `json:"summary"`
	Resource     struct {
		OriginalType   string `json:"original_type"`
		Algorithm      string `json:"algorithm"`
		Ciphertext     string `json:"ciphertext"`
		AssociatedData string `json:"associated_data"`
		Nonce          string `json:"nonce"`
	} `json:"resource"`
}

// openNotice verifies a notification as a merchant would and decrypts it.
func openNotice(t *testing.T, s *Server, n notice, apiv3Key []byte) (envelope, map[string]any) {
	t.Helper()
	if err := verifyErr(s, n.header, n.body); err != nil {
		t.Fatalf("notification signature: %v", err)
	}
	if n.header.Get("Request-ID") == "" || n.header.Get("User-Agent") == "" || !strings.HasPrefix(n.header.Get("Content-Type"), "application/json") {
		t.Fatalf("headers %v", n.header)
	}
	var env envelope
	if err := json.Unmarshal(n.body, &env); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(env.ID) ||
		!strings.HasSuffix(env.CreateTime, "+08:00") || env.ResourceType != "encrypt-resource" ||
		env.Resource.Algorithm != auth.AlgorithmAESGCM || len(env.Resource.Nonce) != 12 ||
		env.Resource.AssociatedData != env.Resource.OriginalType {
		t.Fatalf("envelope %s", n.body)
	}
	plain, err := auth.DecryptAESGCM(apiv3Key, env.Resource.Nonce, env.Resource.AssociatedData, env.Resource.Ciphertext)
	if err != nil {
		t.Fatal(err)
	}
	var res map[string]any
	if err := json.Unmarshal(plain, &res); err != nil {
		t.Fatal(err)
	}
	schema := s.spec.eventSchema(env.EventType, res)
	if schema == nil {
		t.Fatalf("the spec describes no %s resource", env.EventType)
	}
	if err := schema.VisitJSON(res); err != nil {
		t.Fatalf("%s resource does not validate: %v", env.EventType, err)
	}
	if ns := s.spec.doc.Components.Schemas["Notification"]; ns != nil {
		var envAny any
		_ = json.Unmarshal(n.body, &envAny)
		if err := ns.Value.VisitJSON(envAny); err != nil {
			t.Fatalf("envelope does not validate against Notification: %v", err)
		}
	}
	return env, res
}

func TestPaymentNotification(t *testing.T) {
	t.Parallel()
	rv := newReceiver(t)
	s := newServer(t)
	m := s.Merchant()
	otn := uniqueNo("N")
	b := nativeBody(m, otn, 42)
	b["notify_url"] = rv.URL + "/pay"
	send(t, s.Handler(), signer{cred: m}, "POST", "/v3/pay/transactions/native", b)
	txID, _ := s.Pay(m.MchID, otn)
	d, err := s.WaitDelivery(ctx(t), func(d Delivery) bool { return d.OutTradeNo == otn })
	if err != nil || d.Status != DeliveryDelivered || len(d.Attempts) != 1 || d.Attempts[0].StatusCode != 200 {
		t.Fatalf("%+v %v", d, err)
	}
	got := rv.notices()
	if len(got) != 1 {
		t.Fatalf("%d notifications", len(got))
	}
	env, res := openNotice(t, s, got[0], m.APIv3Key)
	if env.EventType != "TRANSACTION.SUCCESS" || env.Summary != "支付成功" || env.Resource.OriginalType != "transaction" || env.ID != d.ID {
		t.Fatalf("envelope %+v", env)
	}
	if res["out_trade_no"] != otn || res["transaction_id"] != txID || res["trade_state"] != "SUCCESS" || res["mchid"] != m.MchID {
		t.Fatalf("resource %v", res)
	}
	// Redeliver: the same notification, freshly signed.
	at, err := s.Redeliver(d.ID)
	if err != nil || at.StatusCode != 200 {
		t.Fatalf("%+v %v", at, err)
	}
	got = rv.notices()
	if len(got) != 2 || string(got[1].body) != string(got[0].body) || got[1].header.Get("Wechatpay-Nonce") == got[0].header.Get("Wechatpay-Nonce") {
		t.Fatal("redelivery differs")
	}
	openNotice(t, s, got[1], m.APIv3Key)
	if _, err := s.Redeliver("nope"); err == nil {
		t.Fatal("redelivered an unknown notification")
	}
}

func TestNotificationRetry(t *testing.T) {
	t.Parallel()
	rv := newReceiver(t, 500, 503)
	s := newServer(t, WithTimeScale(0.001))
	m := s.Merchant()
	otn := uniqueNo("N")
	b := nativeBody(m, otn, 1)
	b["notify_url"] = rv.URL
	send(t, s.Handler(), signer{cred: m}, "POST", "/v3/pay/transactions/native", b)
	start := time.Now()
	if _, err := s.Pay(m.MchID, otn); err != nil {
		t.Fatal(err)
	}
	d, err := s.WaitDelivery(ctx(t), nil)
	if err != nil || d.Status != DeliveryDelivered || len(d.Attempts) != 3 {
		t.Fatalf("%+v %v", d, err)
	}
	if d.Attempts[0].StatusCode != 500 || d.Attempts[1].StatusCode != 503 || d.Attempts[2].StatusCode != 200 {
		t.Fatalf("attempts %+v", d.Attempts)
	}
	// 15 s and 15 s at scale 0.001: at least 30 ms in all.
	if el := time.Since(start); el < 30*time.Millisecond {
		t.Fatalf("retried after %s", el)
	}
	if gap := d.Attempts[1].Time.Sub(d.Attempts[0].Time); gap < 14*time.Millisecond {
		t.Fatalf("first retry after %s", gap)
	}
	ids := map[string]bool{}
	for _, n := range rv.notices() {
		var e envelope
		_ = json.Unmarshal(n.body, &e)
		ids[e.ID] = true
		openNotice(t, s, n, m.APIv3Key)
	}
	if len(ids) != 1 {
		t.Fatalf("retries changed the id: %v", ids)
	}
}

func TestNotificationGivesUp(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(500)
		_, _ = w.Write([]byte(`{"code":"FAIL","message":"失败"}`))
	}))
	t.Cleanup(srv.Close)
	s := newServer(t, WithTimeScale(1e-6)) // 24h4m of schedule in about 90 ms
	m := s.Merchant()
	otn := uniqueNo("N")
	b := nativeBody(m, otn, 1)
	b["notify_url"] = srv.URL
	send(t, s.Handler(), signer{cred: m}, "POST", "/v3/pay/transactions/native", b)
	_, _ = s.Pay(m.MchID, otn)
	d, err := s.WaitDelivery(ctx(t), nil)
	if err != nil || d.Status != DeliveryFailed || len(d.Attempts) != len(RetrySchedule())+1 || int(calls.Load()) != len(RetrySchedule())+1 {
		t.Fatalf("status %s, %d attempts, %d calls, %v", d.Status, len(d.Attempts), calls.Load(), err)
	}
}

func TestNotificationTimeout(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body) // lets the server notice the client hanging up
		if calls.Add(1) == 1 {
			select {
			case <-time.After(5 * time.Second):
			case <-r.Context().Done():
			}
		}
		w.WriteHeader(204)
	}))
	t.Cleanup(srv.Close)
	s := newServer(t, WithTimeScale(0.001), WithNotifyTimeout(300*time.Millisecond))
	m := s.Merchant()
	otn := uniqueNo("N")
	b := nativeBody(m, otn, 1)
	b["notify_url"] = srv.URL
	send(t, s.Handler(), signer{cred: m}, "POST", "/v3/pay/transactions/native", b)
	_, _ = s.Pay(m.MchID, otn)
	d, err := s.WaitDelivery(ctx(t), nil)
	if err != nil || d.Status != DeliveryDelivered || len(d.Attempts) < 2 || d.Attempts[0].Error == "" || d.Attempts[len(d.Attempts)-1].StatusCode != 204 {
		t.Fatalf("%+v %v", d, err)
	}
}

func TestRefundAndPartnerNotifications(t *testing.T) {
	t.Parallel()
	rv := newReceiver(t)
	s := newServer(t, WithRefundDelay(-1), WithKeyMode(PublicKeyMode))
	p := s.Partner()
	sg := signer{cred: p}
	otn := uniqueNo("N")
	b := partnerBody(p, otn, 100)
	b["notify_url"] = rv.URL
	send(t, s.Handler(), sg, "POST", "/v3/pay/partner/transactions/native", b)
	_, _ = s.Pay(p.SubMchID, otn)
	orn := uniqueNo("RF")
	rb := refundBody(otn, orn, 100, 100)
	rb["sub_mchid"], rb["notify_url"] = p.SubMchID, rv.URL+"/refund"
	if r := send(t, s.Handler(), sg, "POST", "/v3/refund/domestic/refunds", rb); r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if err := s.SetRefundOutcome(orn, RefundAbnormal); err != nil {
		t.Fatal(err)
	}
	d, err := s.WaitDelivery(ctx(t), func(d Delivery) bool { return d.OutRefundNo == orn })
	if err != nil || d.EventType != "REFUND.ABNORMAL" {
		t.Fatalf("%+v %v", d, err)
	}
	if _, err := s.WaitDelivery(ctx(t), func(d Delivery) bool { return d.EventType == "TRANSACTION.SUCCESS" }); err != nil {
		t.Fatal(err)
	}
	id, _ := s.PublicKey()
	for _, n := range rv.notices() {
		if n.header.Get("Wechatpay-Serial") != id {
			t.Fatalf("public key mode notification signed by %s", n.header.Get("Wechatpay-Serial"))
		}
		env, res := openNotice(t, s, n, p.APIv3Key)
		if res["sp_mchid"] != p.MchID || res["sub_mchid"] != p.SubMchID {
			t.Fatalf("partner resource %v", res)
		}
		if env.EventType == "REFUND.ABNORMAL" && (env.Resource.OriginalType != "refund" || res["refund_status"] != "ABNORMAL" || env.Summary != "退款异常") {
			t.Fatalf("refund notification %+v %v", env, res)
		}
	}
	if len(s.Deliveries()) != 2 {
		t.Fatalf("%d deliveries", len(s.Deliveries()))
	}
}
