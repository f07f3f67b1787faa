package wxpay_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"sort"

	"github.com/gowxpay/wxpay"
	"github.com/gowxpay/wxpay/auth"
	"github.com/gowxpay/wxpay/callback"
	"github.com/gowxpay/wxpay/gen/payments"
	"github.com/gowxpay/wxpay/sandbox"
)

// notifyRouter serves one notify URL for several merchants (or several
// service providers). A notification does not name its merchant in the
// clear: what it carries is the Wechatpay-Serial header (the merchant's
// PUB_KEY_ID_…, or the serial of a platform certificate) and a resource
// encrypted with the merchant's APIv3 key. So the router tries the
// merchants whose key the serial names first, then the others, and hands
// the notification to the first whose parser verifies its signature and
// decrypts it: AES-GCM authenticates, so another merchant's APIv3 key
// fails instead of decrypting to garbage. That merchant's own handler then
// processes it (deduplication, acknowledgement).
//
// A notify URL per merchant (Config.NotifyURL "…/notify/<mchid>") needs no
// router at all; use this when the URL is fixed.
type notifyRouter struct {
	merchants []*routedMerchant
}

type routedMerchant struct {
	client  *wxpay.Client
	parser  *callback.Parser
	handler http.Handler
}

// add routes notifications for client to fn, through client's own handler.
func (rt *notifyRouter) add(client *wxpay.Client, fn func(context.Context, *callback.Event) error) error {
	p, err := client.CallbackParser()
	if err != nil {
		return err
	}
	rt.merchants = append(rt.merchants, &routedMerchant{client, p, callback.NewHandler(p, fn)})
	return nil
}

// signs reports whether the serial names a key this merchant verifies
// with: its WeChat Pay public key or a platform certificate it holds.
func (m *routedMerchant) signs(serial string) bool {
	for _, k := range m.client.Conn().Keys().Status().Keys {
		if k.Serial == serial {
			return true
		}
	}
	return false
}

func (rt *notifyRouter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "read error", http.StatusBadRequest)
		return
	}
	serial := r.Header.Get(auth.HeaderSerial)
	order := make([]*routedMerchant, len(rt.merchants))
	copy(order, rt.merchants)
	sort.SliceStable(order, func(i, j int) bool { return order[i].signs(serial) && !order[j].signs(serial) })
	var first error
	for _, m := range order {
		_, err := m.parser.Parse(r.Context(), r.Header, body)
		if err == nil {
			r.Body = io.NopCloser(bytes.NewReader(body))
			m.handler.ServeHTTP(w, r) // parses again, deduplicates, acknowledges
			return
		}
		if first == nil {
			first = err // the likeliest merchant's reason
		}
	}
	status, answer := callback.Response(first) // non-2xx: WeChat Pay delivers again
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(answer)
}

// Several merchants share one notify URL: a direct merchant and a service
// provider of the same platform, each with its own APIv3 key. Each payment
// notification reaches the handler of the merchant it is for.
func Example_severalMerchantsOneNotifyURL() {
	sb, stop := startSandbox() // sandbox.New and Start: see example_test.go
	defer stop()
	ctx := context.Background()

	got := make(chan string)
	router := &notifyRouter{}
	srv := httptest.NewServer(router) // https://example.com/wxpay/notify in production
	defer srv.Close()

	var clients []*wxpay.Client
	for _, creds := range []sandbox.Credentials{sb.Merchant(), sb.Partner()} {
		cfg := creds.Config()
		cfg.NotifyURL = srv.URL + "/wxpay/notify" // the same URL for both
		client, err := wxpay.NewClient(ctx, cfg)
		if err != nil {
			log.Fatal(err)
		}
		defer client.Close()
		name := map[bool]string{false: "direct merchant", true: "service provider"}[cfg.PartnerMode]
		err = router.add(client, func(ctx context.Context, ev *callback.Event) error {
			tx := ev.Resource.(*payments.Transaction)
			got <- name + " got " + tx.OutTradeNo
			return nil
		})
		if err != nil {
			log.Fatal(err)
		}
		clients = append(clients, client)
	}

	for i, client := range clients {
		no := fmt.Sprintf("SHARED-URL-%d", i+1)
		_, err := client.Payments.NativePrepay(ctx, &payments.NativePrepayInput{
			Description: "Coffee", OutTradeNo: no, Amount: payments.Amount{Total: 100},
		})
		if err != nil {
			log.Fatal(err)
		}
		if _, err := sb.Pay("", no); err != nil {
			log.Fatal(err)
		}
		fmt.Println(<-got)
	}
	// Output:
	// direct merchant got SHARED-URL-1
	// service provider got SHARED-URL-2
}
