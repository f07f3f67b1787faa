package sandbox_test

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gowxpay/wxpay"
	"github.com/gowxpay/wxpay/callback"
	"github.com/gowxpay/wxpay/core"
	"github.com/gowxpay/wxpay/gen/bills"
	"github.com/gowxpay/wxpay/gen/payments"
	"github.com/gowxpay/wxpay/gen/refunds"
	"github.com/gowxpay/wxpay/sandbox"
)

var (
	e2eKeys = sync.OnceValues(func() ([]*rsa.PrivateKey, error) { return sandbox.GenerateKeys(6) })
	e2eSpec = sync.OnceValues(sandbox.DefaultSpec) // loading it is most of a start's cost
)

func e2eSandbox(t *testing.T, opts ...sandbox.Option) *sandbox.Server {
	t.Helper()
	keys, err := e2eKeys()
	if err != nil {
		t.Fatal(err)
	}
	spec, err := e2eSpec()
	if err != nil {
		t.Fatal(err)
	}
	return sandbox.StartTest(t, append([]sandbox.Option{sandbox.WithKeys(keys...), sandbox.WithSpec(spec)}, opts...)...)
}

func pemOf(t *testing.T, typ string, der []byte, err error) []byte {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

// clientFor configures the real wxpay client with sandbox credentials.
func clientFor(t *testing.T, c sandbox.Credentials, publicKey bool, notifyURL string) *wxpay.Client {
	t.Helper()
	keyDER, err := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
	cfg := wxpay.Config{
		MchID: c.MchID, PrivateKey: pemOf(t, "PRIVATE KEY", keyDER, err), CertificateSerial: c.CertificateSerial,
		APIv3Key: string(c.APIv3Key), AppID: c.AppID, PartnerMode: c.PartnerMode, SubMchID: c.SubMchID, SubAppID: c.SubAppID,
		BaseURL: c.BaseURL, NotifyURL: notifyURL,
	}
	if publicKey {
		pubDER, err := x509.MarshalPKIXPublicKey(c.PublicKey)
		cfg.PublicKeyID, cfg.PublicKey = c.PublicKeyID, pemOf(t, "PUBLIC KEY", pubDER, err)
	}
	cl, err := wxpay.NewClient(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cl.Close() })
	return cl
}

// TestClientEndToEnd drives the sandbox with the real client in
// certificate mode (it downloads and decrypts the platform certificates):
// order, payment, notification through the callback parser, refund, bill.
func TestClientEndToEnd(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var events []*callback.Event
	var mu sync.Mutex
	var parser atomic.Pointer[callback.Parser]
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ev, err := parser.Load().Parse(r.Context(), r.Header, body)
		if err != nil {
			t.Errorf("callback: %v", err)
			w.WriteHeader(400)
			return
		}
		mu.Lock()
		events = append(events, ev)
		mu.Unlock()
		w.WriteHeader(204)
	}))
	t.Cleanup(hook.Close)

	s := e2eSandbox(t, sandbox.WithRefundDelay(-1))
	m := s.Merchant()
	cl := clientFor(t, m, false, hook.URL+"/notify")
	p, err := callback.NewParser(callback.Config{Verifier: cl.Conn().Keys(), APIv3Key: m.APIv3Key, Events: wxpay.Events()})
	if err != nil {
		t.Fatal(err)
	}
	parser.Store(p)

	res, err := cl.Payments.NativePrepay(ctx, &payments.NativePrepayInput{
		Description: "e2e", OutTradeNo: "E2E-0001", Amount: payments.Amount{Total: 990},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.CodeURL) < 10 {
		t.Fatalf("code_url %q", res.CodeURL)
	}
	if _, err := s.Pay(m.MchID, "E2E-0001"); err != nil {
		t.Fatal(err)
	}
	tx, err := cl.Payments.QueryOrderByOutTradeNo(ctx, "E2E-0001", nil)
	if err != nil {
		t.Fatal(err)
	}
	if tx.TradeState != payments.TradeStateSuccess || tx.Amount.Total != 990 || tx.TransactionID == "" {
		t.Fatalf("%+v", tx)
	}
	d, err := s.WaitDelivery(ctxT(t), nil)
	if err != nil || d.Status != sandbox.DeliveryDelivered {
		t.Fatalf("notification %s %+v %v", d.Status, d.Attempts, err)
	}
	mu.Lock()
	if len(events) != 1 || events[0].EventType != "TRANSACTION.SUCCESS" {
		t.Fatalf("events %+v", events)
	}
	mu.Unlock()

	// An API error comes back as *wxpay.APIError with the detail.
	_, err = cl.Payments.NativePrepay(ctx, &payments.NativePrepayInput{Description: "e2e", OutTradeNo: "E2E-0001", Amount: payments.Amount{Total: 1}})
	var apiErr *wxpay.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || apiErr.RequestID == "" {
		t.Fatalf("duplicate: %v", err)
	}

	rf, err := cl.Refunds.Create(ctx, &refunds.CreateRequest{
		OutTradeNo: "E2E-0001", OutRefundNo: "E2E-R-0001", Amount: refunds.CreateAmount{Refund: 90, Total: 990, Currency: "CNY"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if string(rf.Status) != "PROCESSING" {
		t.Fatalf("refund %+v", rf)
	}
	if err := s.SetRefundOutcome("E2E-R-0001", sandbox.RefundSuccess); err != nil {
		t.Fatal(err)
	}
	rf, err = cl.Refunds.Query(ctx, "E2E-R-0001", nil)
	if err != nil || string(rf.Status) != "SUCCESS" {
		t.Fatalf("%+v %v", rf, err)
	}

	today := time.Now().In(time.FixedZone("CST", 8*3600))
	bd, err := cl.Bills.ApplyTrade(ctx, &bills.ApplyTradeParams{BillDate: wxpay.NewDate(today.Year(), today.Month(), today.Day()), TarType: bills.TarTypeGZIP})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := cl.DownloadBill(ctx, bd, &buf); err != nil {
		t.Fatal(err)
	}
	bill, err := wxpay.ParseBill(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(bill.Records) != 2 || bill.Value(0, "商户订单号") != "E2E-0001" || bill.Total("总交易单数") != "2" {
		t.Fatalf("bill %+v", bill)
	}
}

// TestClientPublicKeyPartner: a service provider's client verifying with
// the platform public key.
func TestClientPublicKeyPartner(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := e2eSandbox(t, sandbox.WithKeyMode(sandbox.PublicKeyMode))
	p := s.Partner()
	cl := clientFor(t, p, true, "http://127.0.0.1:9/notify")
	res, err := cl.Payments.JSAPIPrepay(ctx, &payments.JSAPIPrepayInput{
		Description: "partner", OutTradeNo: "P-E2E-01", Amount: payments.Amount{Total: 5},
		Payer: payments.JSAPIPayerInput{OpenID: "oSp"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.JSAPIPayParams(p.AppID, res.PrepayID); err != nil {
		t.Fatal(err)
	}
	if err := cl.Payments.CloseOrder(ctx, "P-E2E-01", nil); err != nil {
		t.Fatal(err)
	}
	tx, err := cl.Payments.QueryOrderByOutTradeNo(ctx, "P-E2E-01", nil)
	if err != nil || tx.TradeState != payments.TradeStateClosed || tx.SubMchID != p.SubMchID {
		t.Fatalf("%+v %v", tx, err)
	}
	// The client refuses a probe signature, as it must.
	if _, err := s.Inject(sandbox.Fault{Target: "PartnerQueryOrderByOutTradeNo", Kind: sandbox.FaultSignTest, Count: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Payments.QueryOrderByOutTradeNo(ctx, "P-E2E-01", nil, core.WithMaxAttempts(1)); err == nil {
		t.Fatal("the client accepted a SIGNTEST signature")
	}
}

// ctxT ends with the test; no deadline of its own.
func ctxT(t *testing.T) context.Context { return t.Context() }
