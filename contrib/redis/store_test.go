package wxredis_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gowxpay/wxpay"
	"github.com/gowxpay/wxpay/auth"
	"github.com/gowxpay/wxpay/callback"
	wxredis "github.com/gowxpay/wxpay/contrib/redis"
	"github.com/gowxpay/wxpay/gen/payments"
	"github.com/gowxpay/wxpay/sandbox"
	"github.com/redis/go-redis/v9"
)

func claim(t *testing.T, s *wxredis.Store, id, token string, lease time.Duration, want callback.Status) {
	t.Helper()
	got, err := s.Claim(context.Background(), id, token, lease)
	if err != nil || got != want {
		t.Fatalf("Claim(%s, %s) = %v, %v; want %v", id, token, got, err, want)
	}
}

// TestStore runs the Store contract against a real Redis: claims, leases
// (the expiry of a claim is forced with PEXPIRE, then awaited), tokens,
// Complete after a lost lease, and the TTL of processed ids.
func TestStore(t *testing.T) {
	srv := startServer(t)
	rdb := srv.Client()
	ctx := context.Background()
	s := wxredis.NewStore(rdb, wxredis.Options{Prefix: "test:", TTL: time.Hour})

	claim(t, s, "a", "t1", time.Minute, callback.Claimed)
	claim(t, s, "a", "t2", time.Minute, callback.InProgress)
	claim(t, s, "a", "t1", time.Minute, callback.Claimed) // a retried Claim
	if ttl := rdb.PTTL(ctx, "test:a").Val(); ttl <= 0 || ttl > time.Minute {
		t.Fatalf("the claim's TTL is %v, want the lease", ttl)
	}
	// A stranger's Release does nothing; the holder's frees the id.
	if err := s.Release(ctx, "a", "t2"); err != nil {
		t.Fatal(err)
	}
	claim(t, s, "a", "t3", time.Minute, callback.InProgress)
	if err := s.Release(ctx, "a", "t1"); err != nil {
		t.Fatal(err)
	}
	claim(t, s, "a", "t4", time.Minute, callback.Claimed)
	if err := s.Complete(ctx, "a", "t4"); err != nil {
		t.Fatal(err)
	}
	claim(t, s, "a", "t5", time.Minute, callback.Done)
	if ttl := rdb.PTTL(ctx, "test:a").Val(); ttl <= 59*time.Minute || ttl > time.Hour {
		t.Fatalf("a processed id's TTL is %v, want an hour", ttl)
	}
	if ok, err := s.Processed(ctx, "a"); !ok || err != nil {
		t.Fatal(ok, err)
	}

	// A claim expires with its lease: force the expiry, wait for it.
	claim(t, s, "b", "hung", time.Minute, callback.Claimed)
	rdb.PExpire(ctx, "test:b", time.Millisecond)
	for rdb.Exists(ctx, "test:b").Val() != 0 {
		time.Sleep(time.Millisecond)
	}
	claim(t, s, "b", "redelivery", time.Minute, callback.Claimed)
	// The hung holder's late outcome: its Release is ignored, its
	// Complete records the id and reports the lost lease.
	if err := s.Release(ctx, "b", "hung"); err != nil {
		t.Fatal(err)
	}
	claim(t, s, "b", "x", time.Minute, callback.InProgress)
	if err := s.Complete(ctx, "b", "hung"); !errors.Is(err, callback.ErrLeaseLost) {
		t.Fatalf("late Complete: %v", err)
	}
	claim(t, s, "b", "y", time.Minute, callback.Done)
	if err := s.Complete(ctx, "b", "redelivery"); !errors.Is(err, callback.ErrLeaseLost) {
		t.Fatalf("Complete of a done id: %v", err)
	}

	// Errors, not panics, without a client or a server.
	var zero wxredis.Store
	if _, err := zero.Claim(ctx, "a", "t", 0); err == nil {
		t.Fatal("a zero Store claimed")
	}
	down := wxredis.NewStore(redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialerRetries: 1}), wxredis.Options{})
	if _, err := down.Claim(ctx, "a", "t", 0); err == nil {
		t.Fatal("claimed without a server")
	}
}

// TestKeyCacheShared: two clients of one merchant share the platform
// certificates through Redis; the second starts with them, downloading
// nothing.
func TestKeyCacheShared(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()
	sb := sandbox.StartTest(t, sandbox.WithKeyMode(sandbox.CertificateMode))
	newClient := func() *wxpay.Client {
		cfg := sb.Merchant().Config()
		cfg.CertificateCache = wxredis.NewKeyCache(srv.Client(), wxredis.Options{})
		cfg.NotifyURL = "https://example.com/notify"
		c, err := wxpay.NewClient(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	first := newClient()
	if err := first.Conn().Keys().Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if st := first.Conn().Keys().Status(); st.Source != "download" {
		t.Fatalf("first client: certificates from %q", st.Source)
	}
	second := newClient()
	st := second.Conn().Keys().Status()
	if st.Source != "cache" || len(st.Keys) == 0 {
		t.Fatalf("second client: %+v", st)
	}
	// It verifies answers with them.
	if _, err := second.Payments.NativePrepay(ctx, &payments.NativePrepayInput{Description: "x", OutTradeNo: "REDIS-KEYS-1", Amount: payments.Amount{Total: 1}}); err != nil {
		t.Fatal(err)
	}
	if st := second.Conn().Keys().Status(); st.Source != "cache" {
		t.Fatalf("second client downloaded: %+v", st)
	}
	var zero wxredis.KeyCache
	if _, err := zero.Get(ctx, "k"); err == nil {
		t.Fatal("zero KeyCache: no error")
	}
	var _ auth.Cache = &zero
}
