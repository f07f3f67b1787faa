package wxpay_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gowxpay/wxpay"
	"github.com/gowxpay/wxpay/auth"
	"github.com/gowxpay/wxpay/callback"
	"github.com/gowxpay/wxpay/gen/bills"
	"github.com/gowxpay/wxpay/gen/capital"
	"github.com/gowxpay/wxpay/gen/payments"
	"github.com/gowxpay/wxpay/gen/profitsharing"
	"github.com/gowxpay/wxpay/gen/refunds"
	"github.com/gowxpay/wxpay/sandbox"
	"github.com/gowxpay/wxpay/sm"
)

// TestSMPaymentStory runs the whole story in 国密 mode against a sandbox
// started WithSuite: every request is signed WECHATPAY2-SM2-WITH-SM3 and
// every answer verified with an SM2 platform certificate (downloaded with
// algorithm_type=SM2 and decrypted AEAD_SM4_GCM) or the SM2 public key;
// notifications are SM2-signed and AEAD_SM4_GCM-encrypted; a sensitive
// query parameter is SM2-encrypted; the trade bill and the encrypted
// sub-merchant bill (SM4_GCM) are downloaded and checked.
func TestSMPaymentStory(t *testing.T) {
	for _, tc := range []struct {
		name    string
		partner bool
		keyMode sandbox.KeyMode
	}{
		{"direct/certificates", false, sandbox.CertificateMode},
		{"partner/public-key", true, sandbox.PublicKeyMode},
		{"direct/transition", false, sandbox.TransitionMode},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			var mu sync.Mutex
			var schemes []string
			sb := sandbox.StartTest(t, sandbox.WithSuite(sm.Suite{}), sandbox.WithKeyMode(tc.keyMode), sandbox.WithTimeScale(0.001))
			creds := sb.Merchant()
			if tc.partner {
				creds = sb.Partner()
			}
			cfg, err := creds.SMConfig()
			if err != nil {
				t.Fatal(err)
			}
			cfg.HTTPClient = &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
				mu.Lock()
				schemes = append(schemes, strings.Fields(r.Header.Get("Authorization"))[0])
				mu.Unlock()
				resp, err := http.DefaultTransport.RoundTrip(r)
				if err == nil && resp.StatusCode/100 == 2 && resp.Header.Get("Wechatpay-Signature") != "" {
					if st := resp.Header.Get("Wechatpay-Signature-Type"); st != auth.SchemeSM2 {
						t.Errorf("answer to %s signed %q", r.URL.Path, st)
					}
				}
				return resp, err
			})}
			events := make(chan *callback.Event, 8)
			hook := httptest.NewServer(nil)
			t.Cleanup(hook.Close)
			cfg.NotifyURL = hook.URL + "/notify"
			client, err := wxpay.NewClient(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { client.Close() })
			h, err := client.CallbackHandler(func(_ context.Context, ev *callback.Event) error {
				events <- ev
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			hook.Config.Handler = h

			outTradeNo := "SM-" + strings.ReplaceAll(tc.name, "/", "-")
			order, err := client.Payments.NativePrepay(ctx, &payments.NativePrepayInput{
				Description: "国密 story", OutTradeNo: outTradeNo, Amount: payments.Amount{Total: 1000},
			})
			if err != nil || order.CodeURL == "" {
				t.Fatalf("prepay: %v %+v", err, order)
			}
			if _, err := sb.Pay("", outTradeNo); err != nil {
				t.Fatal(err)
			}
			ev := waitEvent(t, events, "TRANSACTION.SUCCESS")
			paid, ok := ev.Resource.(*payments.Transaction)
			if !ok || paid.OutTradeNo != outTradeNo {
				t.Fatalf("payment notification: %T %+v", ev.Resource, ev.Resource)
			}
			if d := sb.Deliveries(); len(d) == 0 || !strings.Contains(string(d[0].Body), `"algorithm":"AEAD_SM4_GCM"`) {
				t.Fatalf("the notification was not AEAD_SM4_GCM: %.200s", d[0].Body)
			}
			tx, err := client.Payments.QueryOrderByOutTradeNo(ctx, outTradeNo, nil)
			if err != nil || tx.TransactionID != paid.TransactionID {
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
			if rn, ok := ev.Resource.(*refunds.Notification); !ok || rn.RefundID != rf.RefundID {
				t.Fatalf("refund notification: %T %+v", ev.Resource, ev.Resource)
			}

			// Sensitive fields, SM2-encrypted to the platform key the
			// client holds (named in Wechatpay-Serial); the sandbox
			// refuses them unless they decrypt with that SM2 key.
			if tc.partner {
				if _, err := client.Capital.SearchBanksByAccount(ctx, &capital.SearchBanksByAccountParams{AccountNumber: "6225880123456789"}); err != nil {
					t.Fatalf("SM2-encrypted query: %v", err)
				}
			} else if _, err := client.Profitsharing.AddReceiver(ctx, &profitsharing.AddReceiverRequest{
				Type: profitsharing.ReceiverTypeMerchantID, Account: "1900000109", Name: "示例商户全称",
				RelationType: profitsharing.RelationTypeDistributor,
			}); err != nil {
				t.Fatalf("SM2-encrypted body field: %v", err)
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
			if bill, err := wxpay.ParseBill(&file); err != nil || len(bill.Records) != 2 {
				t.Fatalf("bill: %v", err)
			}
			if tc.partner {
				sub, err := client.Bills.ApplySubMerchantFundFlow(ctx, &bills.ApplySubMerchantFundFlowParams{
					BillDate: wxpay.DateOf(today), AccountType: bills.SubMerchantAccountTypeBasic,
					Algorithm: bills.AlgorithmSM4GCM, TarType: bills.TarTypeGZIP,
				})
				if err != nil {
					t.Fatal(err)
				}
				var fb bytes.Buffer
				if _, err := client.DownloadSubMerchantBill(ctx, bills.AlgorithmSM4GCM, sub, &fb); err != nil {
					t.Fatalf("SM4_GCM sub-merchant bill: %v", err)
				}
				if !strings.Contains(fb.String(), "`7.00") && !strings.Contains(fb.String(), "资金流水总笔数") {
					t.Fatalf("sub-merchant bill:\n%s", fb.String())
				}
			}
			mu.Lock()
			defer mu.Unlock()
			for _, s := range schemes {
				if s != auth.SchemeSM2 {
					t.Fatalf("a request was signed %s", s)
				}
			}
			if tc.keyMode == sandbox.CertificateMode {
				st := client.Conn().Keys().Status()
				if st.Source != "download" || len(st.Keys) != 1 {
					t.Fatalf("SM2 platform certificates: %+v", st)
				}
			}
			// Pay signatures are RSA-only at WeChat Pay.
			if _, err := client.JSAPIPayParams("wx123", "prepay"); err == nil || !strings.Contains(err.Error(), "RSA") {
				t.Fatalf("JSAPIPayParams in 国密 mode: %v", err)
			}
		})
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestSMRotation: the SM2 platform certificate rotates; the client
// downloads the new one when an answer names it.
func TestSMRotation(t *testing.T) {
	ctx := context.Background()
	sb := sandbox.StartTest(t, sandbox.WithSuite(sm.Suite{}))
	cfg, err := sb.Merchant().SMConfig()
	if err != nil {
		t.Fatal(err)
	}
	cfg.NotifyURL = "http://127.0.0.1:9/notify"
	client, err := wxpay.NewClient(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	if _, err := client.Payments.NativePrepay(ctx, &payments.NativePrepayInput{Description: "r", OutTradeNo: "SMROT-1", Amount: payments.Amount{Total: 1}}); err != nil {
		t.Fatal(err)
	}
	serial, err := sb.RotateSMPlatformCertificate()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Payments.QueryOrderByOutTradeNo(ctx, "SMROT-1", nil); err != nil {
		t.Fatalf("after rotation: %v", err)
	}
	found := false
	for _, k := range client.Conn().Keys().Status().Keys {
		found = found || k.Serial == serial
	}
	if !found {
		t.Fatalf("the client did not fetch the new SM2 certificate %s", serial)
	}
}

// TestSMAndRSAMix: an RSA client refuses SM2 credentials with a hint, and
// a 国密 client refuses RSA ones; an RSA-signed answer does not verify
// with SM2 keys.
func TestSMAndRSAMix(t *testing.T) {
	ctx := context.Background()
	sb := sandbox.StartTest(t, sandbox.WithSuite(sm.Suite{}))
	creds := sb.Merchant()
	smCfg, err := creds.SMConfig()
	if err != nil {
		t.Fatal(err)
	}
	rsaWithSMKey := creds.Config()
	rsaWithSMKey.PrivateKey = smCfg.PrivateKey
	rsaWithSMKey.Certificate = nil
	_, err = wxpay.NewClient(ctx, rsaWithSMKey)
	var ce *wxpay.ConfigError
	if !errors.As(err, &ce) || ce.Field != "PrivateKey" || !strings.Contains(err.Error(), "SM2") || !strings.Contains(err.Error(), "sm.Suite") {
		t.Fatalf("an RSA client with an SM2 key: %v", err)
	}
	smWithRSAKey := smCfg
	smWithRSAKey.PrivateKey = creds.Config().PrivateKey
	smWithRSAKey.Certificate = nil
	if _, err := wxpay.NewClient(ctx, smWithRSAKey); !errors.As(err, &ce) || ce.Field != "PrivateKey" || !strings.Contains(err.Error(), "RSA") {
		t.Fatalf("a 国密 client with an RSA key: %v", err)
	}
	smWithRSACert := smCfg
	smWithRSACert.Certificate = creds.Config().Certificate
	if _, err := wxpay.NewClient(ctx, smWithRSACert); !errors.As(err, &ce) || ce.Field != "Certificate" {
		t.Fatalf("a 国密 client with an RSA certificate: %v", err)
	}
}

// TestSMCertificateCache: SM2 platform certificates are cached on disk in
// their own file, and a new client starts from the cache without
// downloading.
func TestSMCertificateCache(t *testing.T) {
	ctx := context.Background()
	sb := sandbox.StartTest(t, sandbox.WithSuite(sm.Suite{}))
	dir := t.TempDir()
	var downloads atomic.Int64
	newClient := func() *wxpay.Client {
		cfg, err := sb.Merchant().SMConfig()
		if err != nil {
			t.Fatal(err)
		}
		cfg.NotifyURL = "http://127.0.0.1:9/notify"
		cfg.CertificateCacheDir = dir
		cfg.CertificateRefresh = -1
		cfg.HTTPClient = &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			if r.URL.Path == "/v3/certificates" {
				downloads.Add(1)
			}
			return http.DefaultTransport.RoundTrip(r)
		})}
		c, err := wxpay.NewClient(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	c1 := newClient()
	if _, err := c1.Payments.NativePrepay(ctx, &payments.NativePrepayInput{Description: "c", OutTradeNo: "SMCACHE-1", Amount: payments.Amount{Total: 1}}); err != nil {
		t.Fatal(err)
	}
	if downloads.Load() != 1 {
		t.Fatalf("%d downloads", downloads.Load())
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(files) != 1 || !strings.Contains(filepath.Base(files[0]), "-SM2-") {
		t.Fatalf("cache files %v", files)
	}
	c2 := newClient()
	if st := c2.Conn().Keys().Status(); st.Source != "cache" || len(st.Keys) != 1 {
		t.Fatalf("the second client did not start from the cache: %+v", st)
	}
	if _, err := c2.Payments.QueryOrderByOutTradeNo(ctx, "SMCACHE-1", nil); err != nil {
		t.Fatal(err)
	}
	if downloads.Load() != 1 {
		t.Fatalf("the second client downloaded again (%d downloads)", downloads.Load())
	}
}
