package wxpay_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gowxpay/wxpay"
	"github.com/gowxpay/wxpay/gen/complaints"
	"github.com/gowxpay/wxpay/gen/fapiao"
	"github.com/gowxpay/wxpay/gen/payments"
	"github.com/gowxpay/wxpay/gen/refunds"
	"github.com/gowxpay/wxpay/internal/wxtest"
	"github.com/gowxpay/wxpay/sandbox"
)

// wire records the bodies of the requests a client sends.
type wire struct {
	mu     sync.Mutex
	bodies [][]byte
}

func (w *wire) RoundTrip(r *http.Request) (*http.Response, error) {
	var b []byte
	if r.Body != nil {
		b, _ = io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(b))
	}
	w.mu.Lock()
	w.bodies = append(w.bodies, b)
	w.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

func (w *wire) sent() [][]byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.bodies)
}

// sandboxClient is a direct-mode client of a fresh sandbox whose requests
// are recorded on the way out.
func sandboxClient(t *testing.T) (*wxpay.Client, *wire) {
	t.Helper()
	sb := sandbox.StartTest(t)
	w := &wire{}
	cfg := sb.Merchant().Config()
	cfg.NotifyURL = "https://example.com/notify"
	cfg.HTTPClient = &http.Client{Transport: w}
	c, err := wxpay.NewClient(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c, w
}

// TestPatchSendsFalse sends a PATCH whose every boolean is false: the bytes
// on the wire carry both switches as false, and a field left nil is not
// sent at all.
func TestPatchSendsFalse(t *testing.T) {
	c, w := sandboxClient(t)
	_, err := c.Fapiao.UpdateDevelopmentConfig(context.Background(), &fapiao.UpdateDevelopmentConfigRequest{
		ShowFapiaoCell:   wxpay.Ptr(false),
		SupportVatFapiao: wxpay.Ptr(false),
	})
	if err != nil {
		t.Fatal(err)
	}
	var patch []byte
	for _, b := range w.sent() {
		if bytes.Contains(b, []byte("fapiao")) {
			patch = b
		}
	}
	for _, want := range []string{`"show_fapiao_cell":false`, `"support_vat_fapiao":false`} {
		if !bytes.Contains(patch, []byte(want)) {
			t.Errorf("the PATCH body %s lacks %s", patch, want)
		}
	}
	if bytes.Contains(patch, []byte("callback_url")) {
		t.Errorf("an unset field was sent: %s", patch)
	}
}

// TestMissingRequiredRefusedBeforeSending leaves a required field of a
// nested array element empty: the call fails with a *UsageError naming its
// JSON path, and nothing reaches the server.
func TestMissingRequiredRefusedBeforeSending(t *testing.T) {
	c, w := sandboxClient(t)
	before := len(w.sent())
	in := order("MISSING-1")
	in.Detail = payments.OrderDetail{GoodsDetail: []payments.GoodsDetail{
		{MerchantGoodsID: "G1", Quantity: 1, UnitPrice: 100},
		{Quantity: 1, UnitPrice: 100}, // no merchant_goods_id
	}}
	_, err := c.Payments.NativePrepay(context.Background(), in)
	var ue *wxpay.UsageError
	if !errors.As(err, &ue) || !slices.Equal(ue.Missing, []string{"detail.goods_detail[1].merchant_goods_id"}) || ue.Op != "Payments.NativePrepay" {
		t.Fatalf("want a UsageError naming detail.goods_detail[1].merchant_goods_id, got %v", err)
	}
	if n := len(w.sent()) - before; n != 0 {
		t.Errorf("%d requests sent for a call refused before sending", n)
	}
	// A nil input is the empty input: refused, naming what it lacks.
	_, err = c.Payments.NativePrepay(context.Background(), nil)
	if !errors.As(err, &ue) || !slices.Contains(ue.Missing, "description") || !slices.Contains(ue.Missing, "out_trade_no") {
		t.Fatalf("nil input: %v", err)
	}
	_, err = c.Payments.Direct().NativePrepay(context.Background(), nil)
	if !errors.As(err, &ue) || ue.Op != "Payments.NativePrepay" {
		t.Fatalf("nil body of the direct form: %v", err)
	}
	if n := len(w.sent()) - before; n != 0 {
		t.Errorf("%d requests sent for calls refused before sending", n)
	}
}

// TestModeFieldErrorNamesCalledMethod sets a partner-mode field in direct
// mode: the error names the method called.
func TestModeFieldErrorNamesCalledMethod(t *testing.T) {
	c, _ := sandboxClient(t)
	in := order("MODE-1")
	in.SubMchID = "1900000110"
	_, err := c.Payments.NativePrepay(context.Background(), in)
	var ue *wxpay.UsageError
	if !errors.As(err, &ue) || ue.Op != "Payments.NativePrepay" {
		t.Fatalf("%v", err)
	}
}

// TestIteratorStopsAtFirstError: the second page fails; the iterator
// yields the first page's items, then the error once, and asks no more.
func TestIteratorStopsAtFirstError(t *testing.T) {
	k := wxtest.LoadKeys(t)
	var calls atomic.Int32
	srv := wxtest.NewServer(t, k, func(*wxtest.Request) wxtest.Reply {
		if calls.Add(1) == 1 {
			return wxtest.Reply{Body: `{"data":[{"complaint_id":"C1"},{"complaint_id":"C2"}],"limit":2,"offset":0,"total_count":9}`}
		}
		return wxtest.Reply{Status: 400, Unsigned: true, Body: `{"code":"PARAM_ERROR","message":"bad"}`}
	})
	c := newClient(t, srv, nil)
	var got []string
	var errs int
	for cp, err := range c.Complaints.ListAll(context.Background(), &complaints.ListParams{Limit: 2, BeginDate: wxpay.NewDate(2026, 11, 1), EndDate: wxpay.NewDate(2026, 11, 30)}) {
		if err != nil {
			errs++
			continue
		}
		got = append(got, cp.ComplaintID)
	}
	if !slices.Equal(got, []string{"C1", "C2"}) || errs != 1 || calls.Load() != 2 {
		t.Errorf("items %v, %d errors, %d calls; want C1 C2, 1 error, 2 calls", got, errs, calls.Load())
	}
}

// TestDocumentedDefaultFilled: a refund that leaves its required currency
// empty sends the documented default, CNY, not "".
func TestDocumentedDefaultFilled(t *testing.T) {
	k := wxtest.LoadKeys(t)
	srv := wxtest.NewServer(t, k, ok(`{"refund_id":"R1","out_refund_no":"RF-1","status":"PROCESSING"}`))
	c := newClient(t, srv, nil)
	in := &refunds.CreateRequest{OutTradeNo: "O1", OutRefundNo: "RF-1", Amount: refunds.CreateAmount{Refund: 1, Total: 1}}
	if _, err := c.Refunds.Create(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	if b := srv.Last().Body; !bytes.Contains(b, []byte(`"currency":"CNY"`)) {
		t.Errorf("the refund body %s lacks the default currency", b)
	}
	if in.Amount.Currency != "" {
		t.Error("the caller's input was changed")
	}
}

// TestTwinAnswersPerMode pays one order in each mode and reads it back
// three ways: the mode-independent method answers the union type with only
// the client's mode's identity fields set, and each mode's own method
// answers that mode's exact type (a direct answer has no sp_mchid field at
// all).
func TestTwinAnswersPerMode(t *testing.T) {
	t.Parallel()
	sb := sandbox.StartTest(t)
	ctx := context.Background()
	for _, partner := range []bool{false, true} {
		creds := sb.Merchant()
		owner := creds.MchID
		if partner {
			creds = sb.Partner()
			owner = creds.SubMchID
		}
		cfg := creds.Config()
		cfg.NotifyURL = "https://example.com/notify"
		c, err := wxpay.NewClient(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		otn := "TWIN" + map[bool]string{false: "D", true: "P"}[partner]
		if _, err := c.Payments.NativePrepay(ctx, &payments.NativePrepayInput{
			OutTradeNo: otn, Description: "twin", Amount: payments.Amount{Total: 1},
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := sb.Pay(owner, otn); err != nil {
			t.Fatal(err)
		}
		u, err := c.Payments.QueryOrderByOutTradeNo(ctx, otn, nil)
		if err != nil {
			t.Fatal(err)
		}
		if partner {
			if u.SpMchID != creds.MchID || u.SubMchID != creds.SubMchID || u.MchID != "" || u.Payer.OpenID != "" || u.Payer.SpOpenID+u.Payer.SubOpenID == "" {
				t.Errorf("partner mode, union answer: %+v", u)
			}
			p, err := c.Payments.Partner().QueryOrderByOutTradeNo(ctx, otn, &payments.PartnerQueryOrderByOutTradeNoParams{})
			if err != nil {
				t.Fatal(err)
			}
			var _ *payments.PartnerTransaction = p
			if p.SpMchID != creds.MchID || p.SubMchID != creds.SubMchID || p.TransactionID != u.TransactionID {
				t.Errorf("partner mode, partner answer: %+v", p)
			}
			continue
		}
		if u.MchID != creds.MchID || u.AppID == "" || u.SpMchID != "" || u.SubMchID != "" || u.Payer.OpenID == "" || u.Payer.SpOpenID != "" {
			t.Errorf("direct mode, union answer: %+v", u)
		}
		d, err := c.Payments.Direct().QueryOrderByOutTradeNo(ctx, otn, nil)
		if err != nil {
			t.Fatal(err)
		}
		var _ *payments.DirectTransaction = d
		if d.MchID != creds.MchID || d.Payer.OpenID != u.Payer.OpenID || d.TransactionID != u.TransactionID || d.TradeState != payments.TradeStateSuccess {
			t.Errorf("direct mode, direct answer: %+v", d)
		}
	}
}
