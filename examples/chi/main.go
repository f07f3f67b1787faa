// Command chi receives WeChat Pay notifications with chi.
//
//	WXPAY_APIV3_KEY=… WXPAY_PUBLIC_KEY_ID=PUB_KEY_ID_… WXPAY_PUBLIC_KEY_FILE=pub_key.pem go run ./chi
//
// chi routes plain http.Handlers, so callback.NewHandler mounts as it is,
// behind chi's middleware (none of which reads the body).
package main

import (
	"context"
	"log"
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/gowxpay/wxpay/callback"
	"github.com/gowxpay/wxpay/examples/internal/setup"
)

func main() {
	parser, keys, err := setup.FromEnv()
	if err != nil {
		log.Fatal(err)
	}
	defer keys.Close()
	queue := make(chan *callback.Event, 1024) // stands in for a durable queue
	go func() {
		for ev := range queue {
			log.Printf("notification %s (%s)", ev.ID, ev.EventType)
		}
	}()
	log.Fatal(http.ListenAndServe(setup.Addr(), newRouter(parser, func(ctx context.Context, ev *callback.Event) error {
		select {
		case queue <- ev:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})))
}

// newRouter routes the notify URL; process records an event and returns
// quickly.
func newRouter(parser *callback.Parser, process func(context.Context, *callback.Event) error) chi.Router {
	r := chi.NewRouter()
	r.Use(middleware.RequestID, middleware.Recoverer)
	r.Route("/wxpay", func(r chi.Router) {
		r.Method(http.MethodPost, "/notify", callback.NewHandler(parser, process))
	})
	return r
}
