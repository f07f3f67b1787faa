package wxredis_test

import (
	"context"
	"log"
	"net/http"

	"github.com/gowxpay/wxpay"
	"github.com/gowxpay/wxpay/callback"
	wxredis "github.com/gowxpay/wxpay/contrib/redis"
	"github.com/gowxpay/wxpay/gen/payments"
	"github.com/redis/go-redis/v9"
)

// Every instance of a service shares the platform certificates and the
// record of processed notifications through one Redis.
func Example() {
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	defer rdb.Close()

	cfg := wxpay.Config{ /* MchID, keys, APIv3Key … */ }
	cfg.CertificateCache = wxredis.NewKeyCache(rdb, wxredis.Options{})
	client, err := wxpay.NewClient(ctx, cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	h, err := client.CallbackHandler(func(ctx context.Context, ev *callback.Event) error {
		if tx, ok := ev.Resource.(*payments.Transaction); ok {
			log.Printf("paid: %s", tx.OutTradeNo) // record it, idempotently by out_trade_no
		}
		return nil
	}, callback.WithStore(wxredis.NewStore(rdb, wxredis.Options{})))
	if err != nil {
		log.Fatal(err)
	}
	http.Handle("/wxpay/notify", h)
}
