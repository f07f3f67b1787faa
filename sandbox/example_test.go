package sandbox_test

import (
	"bytes"
	"fmt"
	"net/http"
	"time"

	"github.com/gowxpay/wxpay/auth"
	"github.com/gowxpay/wxpay/sandbox"
)

// A Native order on a sandbox listening on a loopback port, signed with the
// auth primitives (the wxpay client does this for you), paid by the
// simulated payer.
func Example() {
	s, err := sandbox.New()
	if err != nil {
		panic(err)
	}
	defer s.Close()
	base, err := s.Start()
	if err != nil {
		panic(err)
	}
	m := s.Merchant()

	body := []byte(fmt.Sprintf(`{"appid":%q,"mchid":%q,"description":"coffee","out_trade_no":"order-1","notify_url":"http://127.0.0.1:9/notify","amount":{"total":1800}}`, m.AppID, m.MchID))
	ts, nonce := time.Now().Unix(), "593BEC0C930BF1AFEB40B4A08C8FB242"
	sig, _ := auth.SignBase64(auth.RSASigner{Key: m.PrivateKey}, auth.RequestMessage("POST", "/v3/pay/transactions/native", ts, nonce, body))
	req, _ := http.NewRequest("POST", base+"/v3/pay/transactions/native", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", auth.Authorization{MchID: m.MchID, Nonce: nonce, Timestamp: ts, Serial: m.CertificateSerial, Signature: sig}.String())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode, "signed:", resp.Header.Get("Wechatpay-Signature") != "")

	before, _ := s.OrderState(m.MchID, "order-1")
	if _, err := s.Pay(m.MchID, "order-1"); err != nil {
		panic(err)
	}
	after, _ := s.OrderState(m.MchID, "order-1")
	fmt.Println(before, "→", after)
	// Output:
	// 200 signed: true
	// NOTPAY → SUCCESS
}
