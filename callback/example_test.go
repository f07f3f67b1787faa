package callback_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/gowxpay/wxpay/auth"
	"github.com/gowxpay/wxpay/callback"
	"github.com/gowxpay/wxpay/callback/callbacktest"
	"github.com/gowxpay/wxpay/gen/payments"
	"github.com/gowxpay/wxpay/gen/refunds"
)

// The test platform plays WeChat Pay: it encrypts and signs notifications,
// and its Verifier stands in for the client's platform keys.
func Example() {
	platform := callbacktest.New()
	parser, err := callback.NewParser(callback.Config{
		Events:   payments.Events(),
		Verifier: platform.Verifier(), // in production: the client's *auth.PlatformKeys
		APIv3Key: platform.APIv3Key,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	d, _ := platform.Notification(callbacktest.Notification{
		Plaintext: []byte(`{"mchid":"1900000109","out_trade_no":"1217752501201407033233368018","trade_state":"SUCCESS","amount":{"total":100,"currency":"CNY"}}`),
	})

	// In a handler: the request's headers and raw body.
	ev, err := parser.Parse(context.Background(), d.Header, d.Body)
	if err != nil {
		fmt.Println(err)
		return
	}
	switch r := ev.Resource.(type) {
	case *payments.Transaction:
		fmt.Println(ev.EventType, r.OutTradeNo, r.TradeState, r.Amount.Total, r.Amount.Currency)
	case *refunds.Notification:
		fmt.Println(ev.EventType, r.OutRefundNo)
	case json.RawMessage:
		fmt.Println(ev.EventType, "without a generated type:", len(r), "bytes of JSON")
	}
	// Output:
	// TRANSACTION.SUCCESS 1217752501201407033233368018 SUCCESS 100 CNY
}

// Acknowledge quickly, process slowly: the function only records the event
// in your own durable queue (a database table, a message broker) and
// returns; the Handler then answers 200 at once. A worker processes the
// queue at its pace, so a slow process never makes WeChat Pay wait past its
// 5-second limit. The Handler answers 200 only once the event is recorded:
// if recording fails, WeChat Pay delivers again.
func ExampleNewHandler() {
	platform := callbacktest.New()
	parser, _ := callback.NewParser(callback.Config{Verifier: platform.Verifier(), APIv3Key: platform.APIv3Key, Events: payments.Events()})

	queue := make(chan *callback.Event, 100) // stands in for a durable queue
	notify := callback.NewHandler(parser, func(ctx context.Context, ev *callback.Event) error {
		select {
		case queue <- ev:
			return nil
		case <-ctx.Done():
			return ctx.Err() // not recorded: answer non-2xx, WeChat Pay retries
		}
	})
	mux := http.NewServeMux()
	mux.Handle("POST /wxpay/notify", notify)

	// WeChat Pay delivers a notification, then delivers it again.
	d, _ := platform.Notification(callbacktest.Notification{Resource: map[string]any{"out_trade_no": "T1001"}})
	for i := 0; i < 2; i++ {
		req, _ := d.NewRequest("https://merchant.example/wxpay/notify")
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, req)
		fmt.Println("answer:", w.Code)
	}

	// The worker (in production a goroutine or another process).
	fmt.Println("queued:", len(queue))
	ev := <-queue
	fmt.Println("processing", ev.Resource.(*payments.Transaction).OutTradeNo)
	// Output:
	// answer: 200
	// answer: 200
	// queued: 1
	// processing T1001
}

// With a framework that hands over the request in its own way, call Parse
// and answer with Response. A signature probe, for instance, must be
// refused so that WeChat Pay delivers the notification again, with a valid
// signature.
func ExampleResponse() {
	platform := callbacktest.New()
	parser, _ := callback.NewParser(callback.Config{Verifier: platform.Verifier(), APIv3Key: platform.APIv3Key, Events: payments.Events()})
	d, _ := platform.Notification(callbacktest.Notification{Probe: true})

	ev, err := parser.Parse(context.Background(), d.Header, d.Body)
	if err == nil {
		err = process(ev)
	}
	status, body := callback.Response(err)
	fmt.Println(errors.Is(err, auth.ErrSignatureProbe), status, string(body))
	// Output:
	// true 401 {"code":"FAIL","message":"signature verification failed"}
}

func process(*callback.Event) error { return nil }

// Headers can come as a framework gives them: here as Django's
// request.META, with CGI names.
func ExampleParser_Parse_headers() {
	platform := callbacktest.New()
	parser, _ := callback.NewParser(callback.Config{Verifier: platform.Verifier(), APIv3Key: platform.APIv3Key, Events: payments.Events()})
	d, _ := platform.Notification(callbacktest.Notification{})

	meta := map[string]string{}
	for name, v := range d.Header {
		meta[callbacktest.CGIName(name)] = v[0] // HTTP_WECHATPAY_SIGNATURE …
	}
	ev, err := parser.Parse(context.Background(), meta, d.Body)
	fmt.Println(ev.EventType, err)
	// Output:
	// TRANSACTION.SUCCESS <nil>
}

// A body that a framework decoded and encoded again no longer verifies;
// the error says so and how to pass the raw body.
func ExampleParser_Parse_reencodedBody() {
	platform := callbacktest.New()
	parser, _ := callback.NewParser(callback.Config{Verifier: platform.Verifier(), APIv3Key: platform.APIv3Key, Events: payments.Events()})
	d, _ := platform.Notification(callbacktest.Notification{})

	var decoded map[string]any
	_ = json.Unmarshal(d.Body, &decoded)
	reencoded, _ := json.Marshal(decoded) // what binding to a map does

	_, err := parser.Parse(context.Background(), d.Header, reencoded)
	fmt.Println(errors.Is(err, callback.ErrBodyChanged))

	// With net/http, read the body yourself, first:
	handler := func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, callback.DefaultMaxBodySize))
		if err == nil {
			_, err = parser.Parse(r.Context(), r.Header, body)
		}
		status, fail := callback.Response(err)
		w.WriteHeader(status)
		_, _ = w.Write(fail)
	}
	req, _ := d.NewRequest("https://merchant.example/wxpay/notify")
	w := httptest.NewRecorder()
	handler(w, req)
	fmt.Println(w.Code)
	// Output:
	// true
	// 200
}
