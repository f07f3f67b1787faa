package auth

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gowxpay/wxpay/core"
)

// gatedFetch answers from the certificates WeChat Pay publishes when the
// download starts (as a real download does), announces each start on
// started, and holds the download numbered hold until release is closed.
func gatedFetch(t *testing.T, w *keyWorld, hold int32, started chan<- int32, release <-chan struct{}) CertificateFetcher {
	return func(ctx context.Context) (http.Header, []byte, error) {
		n := w.wechat.calls.Add(1)
		w.wechat.mu.Lock()
		certs := slices.Clone(w.wechat.certs)
		w.wechat.mu.Unlock()
		started <- n
		if n == hold {
			select {
			case <-release:
			case <-ctx.Done():
				return nil, nil, ctx.Err()
			}
		}
		body := certificatesBody(t, w.wechat.apiv3, certs...)
		return signAnswer(t, w.key1, SerialNumber(w.cert1), w.clock.Now(), "f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6", body), body, nil
	}
}

// TestPlatformKeysRotationDuringDownload: an answer signed by a new
// certificate arrives while a download that started before the rotation
// is under way. That download cannot bring the new certificate; the serial
// is looked up again at once instead of being given up for MinRefreshGap.
func TestPlatformKeysRotationDuringDownload(t *testing.T) {
	w := newKeyWorld(t)
	started := make(chan int32, 10)
	release := make(chan struct{})
	cfg := w.config()
	cfg.Fetch = gatedFetch(t, w, 2, started, release)
	p := w.store(t, cfg)
	if err := w.check(p, w.answer(t, w.key1, SerialNumber(w.cert1))); err != nil {
		t.Fatal(err)
	}
	<-started // download 1: first use

	// A scheduled refresh starts and hangs on the network.
	refreshed := make(chan error, 1)
	go func() { refreshed <- p.Refresh(context.Background()) }()
	if n := <-started; n != 2 {
		t.Fatalf("download %d started, want 2", n)
	}
	// WeChat Pay rotates; an answer signed by the new certificate arrives
	// and joins the download under way.
	w.wechat.set(func(x *fakeWeChat) { x.certs = append(x.certs, w.cert2) })
	joined := make(chan struct{}, 1)
	p.mu.Lock()
	p.onJoin = func() { joined <- struct{}{} }
	p.mu.Unlock()
	verified := make(chan error, 1)
	go func() { verified <- w.check(p, w.answer(t, w.key2, SerialNumber(w.cert2))) }()
	<-joined
	close(release)
	if err := <-refreshed; err != nil {
		t.Fatal(err)
	}
	if n := <-started; n != 3 {
		t.Fatalf("download %d started, want 3: the new serial looked up again", n)
	}
	if err := <-verified; err != nil {
		t.Fatalf("the answer signed by the new certificate: %v", err)
	}
	if got := w.wechat.calls.Load(); got != 3 {
		t.Errorf("%d downloads, want 3", got)
	}
}

// TestPlatformKeysForgedSerialsBounded: made-up serials, however many and
// however spread out, start at most maxSerialDownloads downloads per
// MinRefreshGap, a setting.
func TestPlatformKeysForgedSerialsBounded(t *testing.T) {
	w := newKeyWorld(t)
	cfg := w.config()
	cfg.MinRefreshGap = 10 * time.Minute
	p := w.store(t, cfg)
	if err := w.check(p, w.answer(t, w.key1, SerialNumber(w.cert1))); err != nil {
		t.Fatal(err)
	}
	base := w.wechat.calls.Load()
	for i := 0; i < 200; i++ {
		w.clock.Advance(2 * time.Second) // past serialBurstGap every time
		err := w.check(p, w.answer(t, w.key2, fmt.Sprintf("%040X", i+1)))
		if !errors.Is(err, ErrUnknownKey) {
			t.Fatalf("forged serial %d: %v", i, err)
		}
	}
	// 400 seconds: one window of 10 minutes.
	if got := w.wechat.calls.Load() - base; got != maxSerialDownloads {
		t.Fatalf("%d downloads for 200 forged serials, want %d", got, maxSerialDownloads)
	}
	// The budget comes back with the next window; a real rotation is then
	// found at once.
	w.clock.Advance(cfg.MinRefreshGap)
	w.wechat.set(func(x *fakeWeChat) { x.certs = append(x.certs, w.cert2) })
	if err := w.check(p, w.answer(t, w.key2, SerialNumber(w.cert2))); err != nil {
		t.Fatal(err)
	}
}

// TestPlatformKeysNotYetValid: a certificate is not used to verify before
// its validity starts (beyond the accepted clock skew).
func TestPlatformKeysNotYetValid(t *testing.T) {
	w := newKeyWorld(t)
	future := makePlatformCert(t, w.key2, 9, testClock.Add(24*time.Hour), testClock.AddDate(5, 0, 0))
	w.wechat.certs = []*x509.Certificate{w.cert1, future}
	p := w.store(t, w.config())
	err := w.check(p, w.answer(t, w.key2, SerialNumber(future)))
	if !errors.Is(err, ErrCertificate) || !errors.Is(err, core.ErrVerification) {
		t.Fatalf("got %v", err)
	}
	w.clock.Advance(25 * time.Hour)
	if err := w.check(p, w.answer(t, w.key2, SerialNumber(future))); err != nil {
		t.Fatal(err)
	}
}

// TestPlatformKeysReadyAfterExpiry: when every certificate held has
// expired, Ready downloads new ones before a call is sent, and reports
// the failure when there are none.
func TestPlatformKeysReadyAfterExpiry(t *testing.T) {
	w := newKeyWorld(t)
	p := w.store(t, w.config())
	ctx := context.Background()
	if err := p.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	w.clock.Advance(4 * 365 * 24 * time.Hour) // cert1 expired, cert2 not
	w.wechat.set(func(x *fakeWeChat) {
		x.certs, x.signKey, x.signSerial = []*x509.Certificate{w.cert2}, w.key2, SerialNumber(w.cert2)
	})
	calls := w.wechat.calls.Load()
	if err := p.Ready(ctx); err != nil || w.wechat.calls.Load() != calls+1 {
		t.Fatalf("%v after %d downloads", err, w.wechat.calls.Load()-calls)
	}
	if err := p.Ready(ctx); err != nil || w.wechat.calls.Load() != calls+1 {
		t.Fatalf("a held, valid certificate: %v after %d downloads", err, w.wechat.calls.Load()-calls)
	}
	w.clock.Advance(5 * 365 * 24 * time.Hour)
	w.wechat.set(func(x *fakeWeChat) { x.err = errors.New("unreachable") })
	var ke *KeysError
	if err := p.Ready(ctx); !errors.As(err, &ke) || !strings.Contains(err.Error(), "expired") {
		t.Errorf("got %v", err)
	}
}
