package sandbox

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gowxpay/wxpay/auth"
)

// TestSensitiveAnswerEncrypted: a sensitive field of an answer is encrypted
// to the merchant's certificate key, as WeChat Pay does, and decrypts to
// what the merchant sent (encrypted to the platform key).
func TestSensitiveAnswerEncrypted(t *testing.T) {
	s := newServer(t)
	m := s.Merchant()
	ct, err := auth.EncryptOAEP(&s.ring.current(s.now()).key.PublicKey, "张三")
	if err != nil {
		t.Fatal(err)
	}
	body := map[string]any{"appid": m.AppID, "type": "PERSONAL_OPENID", "account": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", "name": ct, "relation_type": "STORE"}
	serial := auth.SerialNumber(s.PlatformCertificates()[0])
	r := send(t, s.Handler(), signer{cred: m}, "POST", "/v3/profitsharing/receivers/add", body, func(r *http.Request) {
		r.Header.Set("Wechatpay-Serial", serial)
	})
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	name, _ := r.json(t)["name"].(string)
	if name == ct {
		t.Fatal("the answer echoes the ciphertext sent to the platform key")
	}
	plain, err := auth.DecryptOAEP(m.PrivateKey, name)
	if err != nil || plain != "张三" {
		t.Fatalf("name %q does not decrypt with the merchant key to what was sent: %v", plain, err)
	}
}

// TestGenericAnswerCallerIdentity: a generic answer names the caller, not a
// fixed merchant.
func TestGenericAnswerCallerIdentity(t *testing.T) {
	s := newServer(t)
	m, p := s.Merchant(), s.Partner()
	for _, tc := range []struct {
		cred Credentials
		uri  string
		want map[string]string
	}{
		{m, "/v3/transfer/batches/batch-id/1030000071100999991182020050700019480001/details/detail-id/1040000071100999991182020050700019500100",
			map[string]string{"mchid": m.MchID, "appid": m.AppID}},
		{p, "/v3/vehicle/transactions/out-trade-no/P1?sub_mchid=" + p.SubMchID, map[string]string{"sp_mchid": p.MchID, "sub_mchid": p.SubMchID}},
	} {
		r := send(t, s.Handler(), signer{cred: tc.cred}, "GET", tc.uri, nil)
		if r.status != 200 {
			t.Fatalf("%s: %d %s", tc.uri, r.status, r.body)
		}
		got := r.json(t)
		for k, v := range tc.want {
			if got[k] != v {
				t.Errorf("%s as %s: %s = %v, want %s", tc.uri, tc.cred.MchID, k, got[k], v)
			}
		}
	}
}

// TestControlSwitch: the control API's "switch now".
func TestControlSwitch(t *testing.T) {
	s := newServer(t)
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	code, out, _ := ctl(t, ts.URL, "POST", "/sandbox/certificates/rotate", nil)
	serial, _ := out["serial_no"].(string)
	if code != 200 || serial == "" || s.SigningSerial() == serial {
		t.Fatalf("rotate: %d %v, signing %s", code, out, s.SigningSerial())
	}
	if code, out, _ = ctl(t, ts.URL, "POST", "/sandbox/certificates/switch", nil); code != 200 || out["serial_no"] != serial || s.SigningSerial() != serial {
		t.Fatalf("switch: %d %v", code, out)
	}
}

// TestResourceFieldOrder: a notification resource is written in WeChat
// Pay's key order, nested amounts too.
func TestResourceFieldOrder(t *testing.T) {
	b, err := marshalResource(map[string]any{
		"amount": map[string]any{"payer_total": 1, "total": 1, "currency": "CNY", "payer_currency": "CNY"},
		"appid":  "wx", "mchid": "190", "trade_state": "SUCCESS", "out_trade_no": "o", "transaction_id": "t", "zzz": true,
	}, "transaction")
	if err != nil {
		t.Fatal(err)
	}
	want := `{"mchid":"190","appid":"wx","out_trade_no":"o","transaction_id":"t","trade_state":"SUCCESS","amount":{"total":1,"payer_total":1,"currency":"CNY","payer_currency":"CNY"},"zzz":true}`
	if string(b) != want {
		t.Fatalf("%s\nwant %s", b, want)
	}
}
