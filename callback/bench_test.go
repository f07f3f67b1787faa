package callback_test

import (
	"bytes"
	"context"
	"github.com/gowxpay/wxpay"
	"testing"
	"time"

	"github.com/gowxpay/wxpay/auth"
	"github.com/gowxpay/wxpay/callback"
	"github.com/gowxpay/wxpay/callback/callbacktest"
	"github.com/gowxpay/wxpay/gen/payments"
)

// transactionPlaintext is a direct-mode TRANSACTION.SUCCESS resource as
// WeChat Pay's documentation shows it.
const transactionPlaintext = `{"mchid":"1900000109","appid":"wxdace645e0bc2cXXX","out_trade_no":"1217752501201407033233368018","transaction_id":"4200000000000000000000000000","trade_type":"JSAPI","trade_state":"SUCCESS","trade_state_desc":"支付成功","bank_type":"CMC","attach":"","success_time":"2018-06-08T10:34:56+08:00","payer":{"openid":"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},"amount":{"total":100,"payer_total":100,"currency":"CNY","payer_currency":"CNY"}}`

// benchSetup makes a TRANSACTION.SUCCESS notification at a fixed time.
func benchSetup(b *testing.B) (*callbacktest.Platform, *callbacktest.Delivery, time.Time) {
	b.Helper()
	pl := callbacktest.New()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	pl.Now = func() time.Time { return now }
	d, err := pl.Notification(callbacktest.Notification{
		ID:        "EV-2018022511223320873",
		Plaintext: []byte(transactionPlaintext),
	})
	if err != nil {
		b.Fatal(err)
	}
	return pl, d, now
}

func benchParse(b *testing.B, p *callback.Parser, d *callbacktest.Delivery) {
	b.Helper()
	typed := d.Header != nil && !bytes.Contains(d.Body, []byte(untypedEvent))
	ctx := context.Background()
	b.SetBytes(int64(len(d.Body)))
	b.ReportAllocs()
	for b.Loop() {
		ev, err := p.Parse(ctx, d.Header, d.Body)
		if err != nil {
			b.Fatal(err)
		}
		if typed && ev.Resource.(*payments.Transaction).Amount.Total != 100 {
			b.Fatal("wrong resource")
		}
	}
}

// untypedEvent is an event type without a generated type.
const untypedEvent = "CALLBACKTEST.UNTYPED"

// BenchmarkParse parses a TRANSACTION.SUCCESS notification (a ~750-byte
// envelope) into its typed event: with real RSA-2048 verification and
// AES-256-GCM, and with both stubbed through their interfaces (Verifier,
// Opener), which measures everything else: header lookup, the signature
// checks around RSA, envelope and plaintext decoding.
func BenchmarkParse(b *testing.B) {
	pl, d, now := benchSetup(b)
	clock := func() time.Time { return now }
	b.Logf("envelope: %d bytes, plaintext: %d bytes", len(d.Body), len(d.Plaintext))

	b.Run("crypto", func(b *testing.B) {
		p, err := callback.NewParser(callback.Config{Verifier: pl.Verifier(), APIv3Key: pl.APIv3Key, Events: wxpay.Events(), Now: clock})
		if err != nil {
			b.Fatal(err)
		}
		benchParse(b, p, d)
	})

	plain := []byte(transactionPlaintext)
	stubbed, err := callback.NewParser(callback.Config{
		Events:   wxpay.Events(),
		Verifier: auth.VerifierFunc(func(context.Context, string, []byte, string) error { return nil }),
		APIv3Key: pl.APIv3Key,
		Now:      clock,
		Openers: map[string]callback.Opener{
			auth.AlgorithmAESGCM: callback.OpenerFunc(func(dst, _, _, _ []byte) ([]byte, error) {
				return append(dst, plain...), nil
			}),
		},
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("stubbed", func(b *testing.B) {
		benchParse(b, stubbed, d)
	})
	// The same without decoding the plaintext into a typed value (Resource
	// stays json.RawMessage): Parse's own cost.
	b.Run("stubbed-untyped", func(b *testing.B) {
		u, err := pl.Notification(callbacktest.Notification{
			ID:        "EV-2018022511223320873",
			EventType: untypedEvent,
			Plaintext: plain,
		})
		if err != nil {
			b.Fatal(err)
		}
		benchParse(b, stubbed, u)
	})
}
