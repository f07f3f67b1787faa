// Command nethttp receives WeChat Pay notifications with net/http alone.
//
//	WXPAY_APIV3_KEY=… WXPAY_PUBLIC_KEY_ID=PUB_KEY_ID_… WXPAY_PUBLIC_KEY_FILE=pub_key.pem go run ./nethttp
//
// POST /wxpay/notify is callback.NewHandler: verification, decryption,
// duplicate suppression and the answer WeChat Pay expects.
// POST /wxpay/notify-manual does the same by hand with Parse and Response,
// for code that needs to own the handler.
package main

import (
	"context"
	"io"
	"log"
	"net/http"

	"github.com/gowxpay/wxpay/callback"
	"github.com/gowxpay/wxpay/examples/internal/setup"
	"github.com/gowxpay/wxpay/gen/payments"
)

func main() {
	parser, keys, err := setup.FromEnv()
	if err != nil {
		log.Fatal(err)
	}
	defer keys.Close()
	queue := make(chan *callback.Event, 1024) // stands in for a durable queue
	go work(queue)
	log.Fatal(http.ListenAndServe(setup.Addr(), newMux(parser, enqueue(queue))))
}

// newMux routes the notify URLs; process records an event and returns
// quickly (see callback.Handler).
func newMux(parser *callback.Parser, process func(context.Context, *callback.Event) error) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("POST /wxpay/notify", callback.NewHandler(parser, process))
	mux.HandleFunc("POST /wxpay/notify-manual", func(w http.ResponseWriter, r *http.Request) {
		// Read the raw body before anything else touches it.
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, callback.DefaultMaxBodySize))
		if err == nil {
			var ev *callback.Event
			if ev, err = parser.Parse(r.Context(), r.Header, body); err == nil {
				err = process(r.Context(), ev)
			}
		}
		if err != nil {
			log.Printf("notification refused: %v", err)
		}
		status, fail := callback.Response(err)
		if fail != nil {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(status)
		_, _ = w.Write(fail)
	})
	return mux
}

func enqueue(queue chan<- *callback.Event) func(context.Context, *callback.Event) error {
	return func(ctx context.Context, ev *callback.Event) error {
		select {
		case queue <- ev:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func work(queue <-chan *callback.Event) {
	for ev := range queue {
		switch r := ev.Resource.(type) {
		case *payments.Transaction:
			log.Printf("order %s paid: %d %s", r.OutTradeNo, r.Amount.Total, r.Amount.Currency)
		default:
			log.Printf("notification %s (%s)", ev.ID, ev.EventType)
		}
	}
}
