// Package examplestest checks a framework integration of the examples with
// real notifications: signed with a test platform key and encrypted under
// a test APIv3 key by callbacktest.
package examplestest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gowxpay/wxpay/callback"
	"github.com/gowxpay/wxpay/callback/callbacktest"
	"github.com/gowxpay/wxpay/gen/payments"
)

// Fixture is a test platform, a Parser that trusts it, and the queue the
// example's process function fills.
type Fixture struct {
	Platform *callbacktest.Platform
	Parser   *callback.Parser
	Queue    chan *callback.Event
}

// New returns a Fixture.
func New(t testing.TB) *Fixture {
	t.Helper()
	pl := callbacktest.New()
	p, err := callback.NewParser(callback.Config{Verifier: pl.Verifier(), APIv3Key: pl.APIv3Key, Events: payments.Events()})
	if err != nil {
		t.Fatal(err)
	}
	return &Fixture{Platform: pl, Parser: p, Queue: make(chan *callback.Event, 16)}
}

// Enqueue is the process function the examples are given: it records the
// event in the queue.
func (f *Fixture) Enqueue(ctx context.Context, ev *callback.Event) error {
	select {
	case f.Queue <- ev:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Send delivers a notification to the framework and returns the answer's
// status code and body.
type Send func(t testing.TB, d *callbacktest.Delivery) (status int, body []byte)

// Check delivers notifications through send and checks the outcome:
//
//   - a valid TRANSACTION.SUCCESS notification is acknowledged (2xx) and
//     its *payments.Transaction reaches the queue;
//   - a tampered body, a tampered header, a signature probe and a
//     pretty-printed body are refused with a non-2xx status and WeChat Pay's
//     FAIL body, and nothing is queued;
//   - with dedup, a second delivery of the notification is acknowledged
//     without being queued again.
func (f *Fixture) Check(t *testing.T, send Send, dedup bool) {
	t.Helper()
	d, err := f.Platform.Notification(callbacktest.Notification{
		Resource: map[string]any{
			"mchid":        "1900000109",
			"out_trade_no": "1217752501201407033233368018",
			"trade_state":  "SUCCESS",
			"amount":       map[string]any{"total": 100, "currency": "CNY"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if status, body := send(t, d); status < 200 || status > 299 {
		t.Fatalf("valid notification: status %d %s", status, body)
	}
	select {
	case ev := <-f.Queue:
		tx, ok := ev.Resource.(*payments.Transaction)
		if !ok || ev.ID != d.ID || tx.OutTradeNo != "1217752501201407033233368018" || tx.Amount.Total != 100 {
			t.Fatalf("queued %+v (%T)", ev, ev.Resource)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the event was not queued")
	}

	refused := map[string]*callbacktest.Delivery{}
	tampered := d.Clone()
	tampered.Body = bytes.Replace(tampered.Body, []byte(`"summary":"`), []byte(`"summary":"!`), 1)
	refused["tampered body"] = tampered
	h := d.Clone()
	h.Header.Set("Wechatpay-Nonce", h.Header.Get("Wechatpay-Nonce")+"x")
	refused["tampered nonce"] = h
	probe, err := f.Platform.Notification(callbacktest.Notification{Probe: true})
	if err != nil {
		t.Fatal(err)
	}
	refused["signature probe"] = probe
	pretty := d.Clone()
	var buf bytes.Buffer
	if err := json.Indent(&buf, d.Body, "", "  "); err != nil {
		t.Fatal(err)
	}
	pretty.Body = buf.Bytes()
	refused["pretty-printed body"] = pretty
	for name, r := range refused {
		status, body := send(t, r)
		if status < 400 {
			t.Errorf("%s: status %d", name, status)
			continue
		}
		var fail struct{ Code, Message string }
		if err := json.Unmarshal(body, &fail); err != nil || fail.Code != "FAIL" {
			t.Errorf("%s: body %q", name, body)
		}
	}
	select {
	case ev := <-f.Queue:
		t.Fatalf("a refused notification was queued: %s", ev.ID)
	default:
	}

	if dedup {
		again, err := f.Platform.Notification(callbacktest.Notification{ID: d.ID, Plaintext: d.Plaintext})
		if err != nil {
			t.Fatal(err)
		}
		if status, body := send(t, again); status < 200 || status > 299 {
			t.Fatalf("redelivery: status %d %s", status, body)
		}
		select {
		case ev := <-f.Queue:
			t.Fatalf("a duplicate was queued: %s", ev.ID)
		default:
		}
	}
}

// Server serves h on a loopback httptest.Server, closed when the test ends,
// and returns a Send that posts to its path with an http.Client, as WeChat
// Pay does.
func Server(t testing.TB, h http.Handler, path string) Send {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return func(t testing.TB, d *callbacktest.Delivery) (int, []byte) {
		t.Helper()
		req, err := d.NewRequest(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, body
	}
}
