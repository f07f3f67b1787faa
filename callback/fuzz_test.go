package callback_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"github.com/gowxpay/wxpay"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gowxpay/wxpay/auth"
	"github.com/gowxpay/wxpay/callback"
	"github.com/gowxpay/wxpay/callback/callbacktest"
)

// fuzzDelivery is a fixed, valid notification at testNow.
func fuzzDelivery(t testing.TB, pl *callbacktest.Platform, plaintext string) *callbacktest.Delivery {
	d, err := pl.Notification(callbacktest.Notification{
		ID:            "3119dfba-e649-5eec-ab1e-3412bc4d2e17",
		Plaintext:     []byte(plaintext),
		ResourceNonce: "Kj7QIyUiYx1q",
		Nonce:         "d824f2e086d3c1df967785d13fcd22ef",
		RequestID:     "08F5B8C2B506102C18FDDFEEA30620BE821E28EDC405-0",
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// FuzzParse feeds arbitrary bodies and signature headers to two parsers:
//
//   - a real one (RSA verification, AES-GCM), which must accept exactly the
//     original notification and nothing else: any change to the body, the
//     timestamp, the nonce, the serial or the signature is rejected;
//   - a permissive one (every signature accepted, the "ciphertext" being the
//     Base64 of the plaintext), which lets arbitrary input reach the
//     envelope decoder, algorithm dispatch and resource decoding.
//
// Neither may panic; every failure is an *Error that Response maps to a
// non-2xx answer; every success is a complete Event.
func FuzzParse(f *testing.F) {
	pl := callbacktest.New()
	pl.Now = func() time.Time { return testNow }
	now := func() time.Time { return testNow }
	orig := fuzzDelivery(f, pl, transactionPlaintext)
	real, err := callback.NewParser(callback.Config{Verifier: pl.Verifier(), APIv3Key: pl.APIv3Key, Events: wxpay.Events(), Now: now})
	if err != nil {
		f.Fatal(err)
	}
	identity := callback.OpenerFunc(func(dst, _, ct, _ []byte) ([]byte, error) { return append(dst, ct...), nil })
	permissive, err := callback.NewParser(callback.Config{
		Events:   wxpay.Events(),
		Verifier: auth.VerifierFunc(func(context.Context, string, []byte, string) error { return nil }),
		APIv3Key: pl.APIv3Key,
		Now:      now,
		Openers:  map[string]callback.Opener{auth.AlgorithmAESGCM: identity, "PLAIN": identity},
	})
	if err != nil {
		f.Fatal(err)
	}
	h := orig.Header
	ts, nonce, serial, sig := h.Get(auth.HeaderTimestamp), h.Get(auth.HeaderNonce), h.Get(auth.HeaderSerial), h.Get(auth.HeaderSignature)

	f.Add(orig.Body, ts, nonce, serial, sig)
	var pretty bytes.Buffer
	_ = json.Indent(&pretty, orig.Body, "", " ")
	f.Add(pretty.Bytes(), ts, nonce, serial, sig)
	f.Add(orig.Body, ts, nonce, serial, "WECHATPAY/SIGNTEST/abc==")
	f.Add([]byte(nil), "", "", "", "")
	for _, plain := range []string{transactionPlaintext, `{"combine_out_trade_no":"x","sub_orders":[{"mchid":"1"}]}`, `{"refund_status":"SUCCESS","amount":{"refund":1}}`, `{"amount":{"total":"x"}}`, `[]`, `{"\u0063ombine_out_trade_no":1}`} {
		for _, typ := range []string{"TRANSACTION.SUCCESS", "REFUND.SUCCESS", "UNKNOWN.EVENT"} {
			body := `{"id":"a","create_time":"2026-03-01T20:00:00+08:00","resource_type":"encrypt-resource","event_type":"` + typ + `","summary":"s","resource":{"original_type":"transaction","algorithm":"AEAD_AES_256_GCM","ciphertext":"` + base64.StdEncoding.EncodeToString([]byte(plain)) + `","associated_data":"","nonce":"Kj7QIyUiYx1q"}}`
			f.Add([]byte(body), ts, nonce, serial, sig)
		}
	}

	f.Fuzz(func(t *testing.T, body []byte, ts, nonce, serial, sig string) {
		ctx := context.Background()
		hdr := http.Header{}
		hdr.Set(auth.HeaderTimestamp, ts)
		hdr.Set(auth.HeaderNonce, nonce)
		hdr.Set(auth.HeaderSerial, serial)
		hdr.Set(auth.HeaderSignature, sig)
		hdr.Set("Request-ID", "fuzz")
		check := func(name string, ev *callback.Event, err error) {
			if err != nil {
				var e *callback.Error
				if !errors.As(err, &e) {
					t.Fatalf("%s: %T is not an *Error: %v", name, err, err)
				}
				_ = err.Error()
				if status, _ := callback.Response(err); status < 400 {
					t.Fatalf("%s: failure answered %d", name, status)
				}
				if ev != nil {
					t.Fatalf("%s: event and error", name)
				}
				return
			}
			if ev == nil || ev.ID == "" || ev.EventType == "" || ev.Resource == nil || ev.RequestID != "fuzz" {
				t.Fatalf("%s: incomplete event %+v", name, ev)
			}
			if raw, ok := ev.Resource.(json.RawMessage); ok && !bytes.Equal(raw, ev.Plaintext) {
				t.Fatalf("%s: raw resource differs from the plaintext", name)
			}
		}
		ev, err := real.Parse(ctx, hdr, body)
		check("real", ev, err)
		if err == nil && (!bytes.Equal(body, orig.Body) || ts != orig.Header.Get(auth.HeaderTimestamp) || nonce != orig.Header.Get(auth.HeaderNonce) || serial != orig.Header.Get(auth.HeaderSerial) || sig != orig.Header.Get(auth.HeaderSignature)) {
			t.Fatalf("a changed notification was accepted: %q %q %q %q %q", body, ts, nonce, serial, sig)
		}
		if err != nil && strings.HasPrefix(sig, auth.SignatureProbePrefix) && ts != "" && nonce != "" && serial != "" && len(body) > 0 && !errors.Is(err, auth.ErrSignatureProbe) && !errors.Is(err, callback.ErrHeaderConflict) {
			t.Fatalf("a probe was not reported as one: %v", err)
		}
		ev, err = permissive.Parse(ctx, hdr, body)
		check("permissive", ev, err)
	})
}
