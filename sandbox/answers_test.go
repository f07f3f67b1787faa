package sandbox

import (
	"encoding/json"
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
	for _, cred := range []Credentials{s.Merchant(), s.Partner()} {
		// A profit-sharing order query: the answer has mchid / sub_mchid
		// fields the request does not carry.
		uri := "/v3/profitsharing/orders/P1?transaction_id=4208450740201411110007820472"
		if cred.PartnerMode {
			uri += "&sub_mchid=" + cred.SubMchID
		}
		r := send(t, s.Handler(), signer{cred: cred}, "GET", uri, nil)
		if r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		got := r.json(t)
		for k, v := range got {
			if callerIdentityKeys[k] && v == "1900000109" {
				t.Errorf("%s answered the fixed %s=%v", cred.MchID, k, v)
			}
		}
		if cred.PartnerMode && got["sub_mchid"] != nil && got["sub_mchid"] != cred.SubMchID {
			t.Errorf("sub_mchid %v, want %s", got["sub_mchid"], cred.SubMchID)
		}
	}
}

// TestEnvelopeFieldOrder: notifications are serialized in WeChat Pay's
// field order, not alphabetically.
func TestEnvelopeFieldOrder(t *testing.T) {
	b, err := json.Marshal(wireEnvelope{ID: "i", Resource: wireResource{Nonce: "n"}})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"i","create_time":"","resource_type":"","event_type":"","summary":"","resource":{"original_type":"","algorithm":"","ciphertext":"","associated_data":"","nonce":"n"}}`
	if string(b) != want {
		t.Fatalf("%s\nwant %s", b, want)
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
