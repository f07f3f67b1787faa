package interop

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/wechatpay-apiv3/wechatpay-go/core"
	paymentsnative "github.com/wechatpay-apiv3/wechatpay-go/services/payments/native"

	"github.com/gowxpay/wxpay/sandbox"
)

// TestOfficialSDKRotation: a platform certificate rotation in the middle
// of a run breaks no official-SDK call. The sandbox lists the new
// certificate first and signs with it only later, as WeChat Pay does; the
// SDK's scheduled re-download (here triggered, as its daily timer would)
// learns it in between. Calls run concurrently throughout.
func TestOfficialSDKRotation(t *testing.T) {
	e := newEnv(t, sandbox.CertificateMode)
	o := e.direct
	od := e.newOrder(t, o, true)
	ctx := context.Background()

	var calls, failures atomic.Int64
	var firstErr atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
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
				if err := e.tryQuery(o, od.outTradeNo); err != nil {
					failures.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				}
			}
		}()
	}
	check := func(step string) {
		t.Helper()
		if err := e.tryQuery(o, od.outTradeNo); err != nil {
			t.Fatalf("%s: the official SDK's call failed: %v", step, err)
		}
	}
	old := e.sb.SigningSerial()
	check("before the rotation")
	serial, err := e.sb.RotateCertificate()
	if err != nil {
		t.Fatal(err)
	}
	check("new certificate listed, old one signing")
	o.mgr.DownloadCertificates(ctx) // the SDK's scheduled re-download
	if _, ok := o.mgr.GetCertificate(ctx, o.cred.MchID, serial); !ok {
		t.Fatalf("the SDK did not learn the new certificate %s", serial)
	}
	check("after the SDK's re-download")
	if got := e.sb.SwitchCertificate(); got != serial {
		t.Fatalf("switched to %s, want %s", got, serial)
	}
	check("new certificate signing")
	// A notification signed with the new certificate.
	paid := e.newOrder(t, o, true)
	e.waitNotification(t, "TRANSACTION.SUCCESS", "out_trade_no", paid.outTradeNo)
	if err := e.sb.ExpireCertificate(old); err != nil {
		t.Fatal(err)
	}
	o.mgr.DownloadCertificates(ctx)
	check("old certificate expired")
	close(stop)
	wg.Wait()
	if failures.Load() != 0 {
		t.Fatalf("%d of %d concurrent official calls failed during the rotation; first: %v", failures.Load(), calls.Load(), firstErr.Load())
	}
	if errs := e.sink.errors(); len(errs) > 0 {
		t.Fatalf("the official notify handler refused a notification: %v", errs[0])
	}
	t.Logf("%d concurrent official calls across the rotation, none failed", calls.Load())
}

// TestOfficialSDKStrandedBySwitchAtOnce is the control: a sandbox that
// signs with a new certificate the moment it is issued (what WeChat Pay
// never does) strands the official SDK until its next download, which is
// what TestOfficialSDKRotation guards against.
func TestOfficialSDKStrandedBySwitchAtOnce(t *testing.T) {
	e := newEnv(t, sandbox.CertificateMode, sandbox.WithCertificateSwitchDelay(0))
	o := e.direct
	od := e.newOrder(t, o, false)
	if _, err := e.sb.RotateCertificate(); err != nil {
		t.Fatal(err)
	}
	err := e.tryQuery(o, od.outTradeNo)
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("the official SDK accepted an answer signed by a certificate it never downloaded: %v", err)
	}
}

// tryQuery queries an order through the official SDK.
func (e *env) tryQuery(o *official, outTradeNo string) error {
	_, res, err := (&paymentsnative.NativeApiService{Client: o.client}).QueryOrderByOutTradeNo(context.Background(),
		paymentsnative.QueryOrderByOutTradeNoRequest{OutTradeNo: core.String(outTradeNo), Mchid: core.String(o.cred.MchID)})
	return callErr(res, err)
}
