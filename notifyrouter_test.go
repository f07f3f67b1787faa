package wxpay_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/gowxpay/wxpay"
	"github.com/gowxpay/wxpay/callback"
	"github.com/gowxpay/wxpay/callback/callbacktest"
	"github.com/gowxpay/wxpay/internal/wxtest"
	"github.com/gowxpay/wxpay/sandbox"
)

// TestNotifyRouter checks the recipe of Example_severalMerchantsOneNotifyURL
// where it could go wrong: two merchants whose notifications carry the same
// Wechatpay-Serial (one platform key) are told apart by their APIv3 keys; a
// notification no merchant's key opens is refused (non-2xx, so WeChat Pay
// delivers again) and reaches no handler; a redelivery is processed once.
func TestNotifyRouter(t *testing.T) {
	t.Parallel()
	keys := wxtest.SandboxKeys(t)
	sb := startTestSandbox(t, sandbox.WithKeyMode(sandbox.PublicKeyMode))
	m, p := sb.Merchant(), sb.Partner()
	if bytes.Equal(m.APIv3Key, p.APIv3Key) || m.PublicKeyID != p.PublicKeyID {
		t.Fatal("test setup: want distinct APIv3 keys and one platform public key")
	}
	platform := callbacktest.New()
	platform.Serial = m.PublicKeyID
	platform.Key = nil
	for _, k := range keys {
		if k.PublicKey.Equal(m.PublicKey) {
			platform.Key = k
		}
	}
	if platform.Key == nil {
		t.Fatal("test setup: the sandbox's public key is not one of the fixed keys")
	}

	var mu sync.Mutex
	got := map[string][]string{}
	router := &notifyRouter{}
	ctx := context.Background()
	for name, creds := range map[string]sandbox.Credentials{"direct": m, "partner": p} {
		client, err := wxpay.NewClient(ctx, creds.Config())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { client.Close() })
		if err := router.add(client, func(_ context.Context, ev *callback.Event) error {
			mu.Lock()
			defer mu.Unlock()
			got[name] = append(got[name], ev.ID)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewServer(router)
	t.Cleanup(srv.Close)
	post := func(d *callbacktest.Delivery) int {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(d.Body))
		req.Header = d.Header.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	notify := func(apiv3 []byte) *callbacktest.Delivery {
		platform.APIv3Key = apiv3
		d, err := platform.Notification(callbacktest.Notification{Plaintext: []byte(`{"mchid":"x","out_trade_no":"R-1","trade_state":"SUCCESS"}`)})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}

	toPartner := notify(p.APIv3Key)
	if s := post(toPartner); s/100 != 2 {
		t.Fatalf("the partner's notification: status %d", s)
	}
	if s := post(toPartner); s/100 != 2 { // redelivered
		t.Fatalf("the redelivery: status %d", s)
	}
	toDirect := notify(m.APIv3Key)
	if s := post(toDirect); s/100 != 2 {
		t.Fatalf("the direct merchant's notification: status %d", s)
	}
	if s := post(notify([]byte("0123456789abcdef0123456789abcdef"))); s/100 == 2 {
		t.Fatalf("a notification for no configured merchant was acknowledged (%d)", s)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got["partner"]) != 1 || got["partner"][0] != toPartner.ID || len(got["direct"]) != 1 || got["direct"][0] != toDirect.ID {
		t.Fatalf("routed: %v; want partner [%s], direct [%s]", got, toPartner.ID, toDirect.ID)
	}
}
