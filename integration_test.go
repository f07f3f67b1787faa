package wxpay_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gowxpay/wxpay"
	"github.com/gowxpay/wxpay/auth"
	"github.com/gowxpay/wxpay/callback"
	"github.com/gowxpay/wxpay/gen/bills"
	"github.com/gowxpay/wxpay/gen/payments"
	"github.com/gowxpay/wxpay/gen/refunds"
	"github.com/gowxpay/wxpay/internal/wxtest"
	"github.com/gowxpay/wxpay/sandbox"
)

// TestPaymentStory runs the whole story through the real client against the
// sandbox, in both merchant modes and both key modes: a Native order, the
// payer, the payment notification through CallbackHandler, the query, a
// partial refund and its notification, the refund query, and the day's bill
// with its digest checked.
func TestPaymentStory(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		partner bool
		keyMode sandbox.KeyMode
	}{
		{"direct/certificates", false, sandbox.CertificateMode},
		{"direct/public-key", false, sandbox.PublicKeyMode},
		{"partner/certificates", true, sandbox.CertificateMode},
		{"partner/public-key", true, sandbox.PublicKeyMode},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			sb := startTestSandbox(t, sandbox.WithKeyMode(tc.keyMode), sandbox.WithTimeScale(0.001))
			creds := sb.Merchant()
			if tc.partner {
				creds = sb.Partner()
			}
			cfg := creds.Config()
			events := make(chan *callback.Event, 8)
			var clientRef atomic.Pointer[wxpay.Client]
			hook := httptest.NewServer(nil)
			t.Cleanup(hook.Close)
			cfg.NotifyURL = hook.URL + "/notify"
			client, err := wxpay.NewClient(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { client.Close() })
			clientRef.Store(client)
			h, err := client.CallbackHandler(func(_ context.Context, ev *callback.Event) error {
				events <- ev
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			hook.Config.Handler = h

			outTradeNo := "STORY-" + tc.name[:1] + "-1"
			order, err := client.Payments.NativePrepay(ctx, &payments.NativePrepayInput{
				Description: "story", OutTradeNo: outTradeNo, Amount: payments.Amount{Total: 1000},
			})
			if err != nil || order.CodeURL == "" {
				t.Fatalf("prepay: %v %+v", err, order)
			}
			if _, err := sb.Pay("", outTradeNo); err != nil {
				t.Fatal(err)
			}
			ev := waitEvent(t, events, "TRANSACTION.SUCCESS")
			paid, ok := ev.Resource.(*payments.Transaction)
			if !ok || paid.OutTradeNo != outTradeNo || paid.TradeState != payments.TradeStateSuccess {
				t.Fatalf("payment notification: %T %+v", ev.Resource, ev.Resource)
			}
			if tc.partner && (paid.SubMchID != cfg.SubMchID || paid.SpMchID != cfg.MchID) {
				t.Errorf("partner notification ids: sp %q sub %q", paid.SpMchID, paid.SubMchID)
			}
			tx, err := client.Payments.QueryOrderByOutTradeNo(ctx, outTradeNo, nil)
			if err != nil || tx.TradeState != payments.TradeStateSuccess || tx.TransactionID != paid.TransactionID {
				t.Fatalf("query: %v %+v", err, tx)
			}

			rf, err := client.Refunds.Create(ctx, &refunds.CreateRequest{
				TransactionID: tx.TransactionID, OutRefundNo: outTradeNo + "-R",
				Amount: refunds.CreateAmount{Refund: 300, Total: 1000, Currency: "CNY"},
			})
			if err != nil {
				t.Fatalf("refund: %v", err)
			}
			ev = waitEvent(t, events, "REFUND.SUCCESS")
			rn, ok := ev.Resource.(*refunds.Notification)
			if !ok || rn.OutRefundNo != outTradeNo+"-R" || rn.Amount.Refund != 300 || rn.RefundID != rf.RefundID {
				t.Fatalf("refund notification: %T %+v", ev.Resource, ev.Resource)
			}
			rf, err = client.Refunds.Query(ctx, outTradeNo+"-R", nil)
			if err != nil || rf.Status != refunds.StatusSuccess {
				t.Fatalf("refund query: %v %+v", err, rf)
			}

			today := time.Now().In(time.FixedZone("CST", 8*3600))
			bd, err := client.Bills.ApplyTrade(ctx, &bills.ApplyTradeParams{BillDate: wxpay.DateOf(today), TarType: bills.TarTypeGZIP})
			if err != nil {
				t.Fatal(err)
			}
			var file bytes.Buffer
			if _, err := client.DownloadBill(ctx, bd, &file); err != nil {
				t.Fatalf("bill: %v", err)
			}
			bill, err := wxpay.ParseBill(&file)
			if err != nil {
				t.Fatal(err)
			}
			if len(bill.Records) != 2 || bill.Value(0, "商户订单号") != outTradeNo {
				t.Errorf("bill: %d records, first %q", len(bill.Records), bill.Value(0, "商户订单号"))
			}
		})
	}
}

// waitEvent waits for the next notification however long it takes (the
// test's -timeout is the only deadline).
func waitEvent(t *testing.T, events <-chan *callback.Event, eventType string) *callback.Event {
	t.Helper()
	ev := <-events
	if ev.EventType != eventType {
		t.Fatalf("got a %s notification, want %s", ev.EventType, eventType)
	}
	return ev
}

// TestCertificateRotationUnderTraffic rotates the platform certificate three
// times, retiring the old ones, while clients in certificate mode keep
// calling: every answer signed with a certificate the client has not seen
// yet makes it download the new ones, and no call fails.
func TestCertificateRotationUnderTraffic(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sb := startTestSandbox(t, sandbox.WithKeyMode(sandbox.CertificateMode))
	cfg := sb.Merchant().Config()
	cfg.NotifyURL = "http://127.0.0.1:9/notify"
	// The client's clock runs ahead by whatever the test adds: real
	// rotations are years apart, and the client allows a download for a
	// new serial at most once a second; the test moves its clock instead
	// of sleeping.
	var ahead atomic.Int64
	cfg.Now = func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }
	client, err := wxpay.NewClient(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	if _, err := client.Payments.NativePrepay(ctx, &payments.NativePrepayInput{Description: "r", OutTradeNo: "ROT-1", Amount: payments.Amount{Total: 1}}); err != nil {
		t.Fatal(err)
	}

	stop := make(chan struct{})
	var calls, failures atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				calls.Add(1)
				if _, err := client.Payments.QueryOrderByOutTradeNo(ctx, "ROT-1", nil); err != nil {
					failures.Add(1)
					firstErr.CompareAndSwap(nil, fmt.Sprint(err))
				}
			}
		}()
	}
	holds := func(serial string) bool {
		for _, k := range client.Conn().Keys().Status().Keys {
			if k.Serial == serial {
				return true
			}
		}
		return false
	}
	// waitCalls waits until the workers have made n more calls: events,
	// not a clock, however slow the machine.
	waitCalls := func(n int64) {
		for start := calls.Load(); calls.Load() < start+n; {
			time.Sleep(time.Millisecond) // a poll interval, not a deadline
		}
	}
	var serials []string
	for i := 0; i < 3; i++ {
		ahead.Add(int64(1100 * time.Millisecond))
		old := sb.PlatformCertificates()
		serial, err := sb.RotateCertificate()
		if err != nil {
			t.Fatal(err)
		}
		serials = append(serials, serial)
		// The sandbox lists a new certificate days before it signs with
		// it; "switch now" makes answers carry the new serial at once, so
		// that the client meets a serial it has not downloaded and
		// fetches it.
		sb.SwitchCertificate()
		for !holds(serial) {
			waitCalls(1)
		}
		for _, c := range old {
			if err := sb.ExpireCertificate(auth.SerialNumber(c)); err != nil {
				t.Fatal(err)
			}
		}
		waitCalls(20)
	}
	close(stop)
	wg.Wait()
	if failures.Load() != 0 {
		t.Fatalf("%d of %d calls failed during rotation; first: %v", failures.Load(), calls.Load(), firstErr.Load())
	}
	have := map[string]bool{}
	for _, k := range client.Conn().Keys().Status().Keys {
		have[k.Serial] = true
	}
	if !have[serials[len(serials)-1]] {
		t.Errorf("the client does not hold the newest certificate %s: %v", serials[len(serials)-1], have)
	}
	t.Logf("%d calls, no failure, across 3 rotations", calls.Load())
}

// sharedSpec is the sandbox's spec, loaded once for the package's tests:
// loading it is most of what starting a sandbox costs under -race.
var sharedSpec = sync.OnceValues(sandbox.DefaultSpec)

// startTestSandbox starts a sandbox with the shared spec and the fixed test
// keys, then opts.
func startTestSandbox(t *testing.T, opts ...sandbox.Option) *sandbox.Server {
	t.Helper()
	spec, err := sharedSpec()
	if err != nil {
		t.Fatal(err)
	}
	return sandbox.StartTest(t, append([]sandbox.Option{sandbox.WithSpec(spec), sandbox.WithKeys(wxtest.SandboxKeys(t)...)}, opts...)...)
}
