package auth

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

const (
	katAppID    = "wxd678efh567hg6787"
	katPrepayID = "wx201410272009395522657a690389285100"
	// openssl dgst -sha256 -sign testdata/merchant.key.pem over
	// "wxd678efh567hg6787\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\nprepay_id=wx201410272009395522657a690389285100\n"
	katJSAPISig = "EBrUGIttiQ3se3CuETWWqh1f4K2WSeb7m3OsW7chWWNCzzjOABPwZMtHF5LyQvkOlS83RX+qt2+B9JlFxhMQn73QWBrSOEhpiKEjWpVxwBr+ZbKhSNOzVQKHKP/i8Yqbh/SIpmNz0IeoFlrQIiSsGci+9II13bAW/x3p1TptnHafkaii7/Ha7AQkfimwU3xb9AB/Q+Tdpxz8/60519rwXsqINo0gWyRTDhb6RKS5qVCc01MOBPlxouwlyArOiZ0yuyznW4xXG00Egi2w+BPZXds7Li06ojwjd1FBzAt2YlpqOJGaO3BGTj967xnQ+Kz51sqfCmp0dmnmJoY8J8JW1Q=="
	// ... and over "wxd678efh567hg6787\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\nwx201410272009395522657a690389285100\n"
	katAPPSig = "YOb55Gqwd6yM2OQFdrDhCLCTPabuqbKtS7/GqG/webIUFflOj+ubkRyRw35gEeKtA6cV5W83sU5iJsV5Dv3flJvQfFYym9bK+xatoDdkPw7olYEv9dYnOPHg5e4jP+79iMelp9pn1g+JC0VBcAA979QBqupUVVDdT8F53efDwvlmhnZ1D457sSuJbvM6EDJzhEwHDmJJmiqR4JuU0KMazsFrsHT6F9j119QH5f+R7+QAR6ldaXD5XrmOqkZYrH97AhkRGLB4MPGpej0A1DSf8HVKjLy1h8+ZgvMgXZ9hq3kXURQdfehbebijHA/xfrRQn0W49E0xS6E5yJ8y+k+4IA=="
)

func katPaySigner(t testing.TB) PaySigner {
	return PaySigner{
		Signer: RSASigner{Key: testKey(t, "merchant")},
		Now:    func() time.Time { return time.Unix(katTime, 0) },
		Nonce:  func() string { return katNonce },
	}
}

func TestJSAPIPayParams(t *testing.T) {
	t.Parallel()
	ps := katPaySigner(t)
	for _, id := range []string{katPrepayID, "prepay_id=" + katPrepayID} {
		p, err := ps.JSAPI(katAppID, id)
		if err != nil {
			t.Fatal(err)
		}
		if p.PaySign != katJSAPISig {
			t.Errorf("paySign %s", p.PaySign)
		}
		if got := string(JSAPIPayMessage(p.AppID, p.TimeStamp, p.NonceStr, p.Package)); got != "wxd678efh567hg6787\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\nprepay_id=wx201410272009395522657a690389285100\n" {
			t.Errorf("signed string %q", got)
		}
		if err := p.Verify(&testKey(t, "merchant").PublicKey); err != nil {
			t.Error(err)
		}
		b, _ := json.Marshal(p)
		want := `{"appId":"wxd678efh567hg6787","timeStamp":"1554208460","nonceStr":"593BEC0C930BF1AFEB40B4A08C8FB242","package":"prepay_id=wx201410272009395522657a690389285100","signType":"RSA","paySign":"` + katJSAPISig + `"}`
		if string(b) != want {
			t.Errorf("JSON\n got %s\nwant %s", b, want)
		}
	}
}

func TestAPPPayParams(t *testing.T) {
	t.Parallel()
	ps := katPaySigner(t)
	p, err := ps.APP(katAppID, "1900000001", katPrepayID)
	if err != nil {
		t.Fatal(err)
	}
	if p.Sign != katAPPSig {
		t.Errorf("sign %s", p.Sign)
	}
	if got := string(APPPayMessage(p.AppID, p.Timestamp, p.NonceStr, p.PrepayID)); got != "wxd678efh567hg6787\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\nwx201410272009395522657a690389285100\n" {
		t.Errorf("signed string %q (the bare prepay_id, no prefix)", got)
	}
	if err := p.Verify(&testKey(t, "merchant").PublicKey); err != nil {
		t.Error(err)
	}
	b, _ := json.Marshal(p)
	want := `{"appid":"wxd678efh567hg6787","partnerid":"1900000001","prepayid":"wx201410272009395522657a690389285100","package":"Sign=WXPay","noncestr":"593BEC0C930BF1AFEB40B4A08C8FB242","timestamp":"1554208460","sign":"` + katAPPSig + `"}`
	if string(b) != want {
		t.Errorf("JSON\n got %s\nwant %s", b, want)
	}
	// Changing an unsigned field (partnerid, package) leaves the
	// signature valid; changing a signed one does not.
	p.PartnerID = "1900000002"
	if err := p.Verify(&testKey(t, "merchant").PublicKey); err != nil {
		t.Error("partnerid should not be signed")
	}
	p.PrepayID += "x"
	if err := p.Verify(&testKey(t, "merchant").PublicKey); err == nil {
		t.Error("prepayid should be signed")
	}
}

func TestPaySignerDefaultsAndErrors(t *testing.T) {
	t.Parallel()
	ps := PaySigner{Signer: RSASigner{Key: testKey(t, "merchant")}}
	p, err := ps.JSAPI(katAppID, katPrepayID)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.NonceStr) != 32 || p.TimeStamp == "" {
		t.Errorf("%+v", p)
	}
	for name, f := range map[string]func() error{
		"no signer":    func() error { _, err := (PaySigner{}).JSAPI(katAppID, katPrepayID); return err },
		"no appid":     func() error { _, err := ps.JSAPI("", katPrepayID); return err },
		"no prepay_id": func() error { _, err := ps.JSAPI(katAppID, "prepay_id="); return err },
		"newline":      func() error { _, err := ps.APP(katAppID, "1900000001", "wx1\nwx2"); return err },
		"no partnerid": func() error { _, err := ps.APP(katAppID, "", katPrepayID); return err },
		"long nonce": func() error {
			ps := ps
			ps.Nonce = func() string { return strings.Repeat("a", 33) }
			_, err := ps.JSAPI(katAppID, katPrepayID)
			return err
		},
	} {
		if f() == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
