package callback

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// clock is a settable test clock.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newTestStore(ttl time.Duration, max int) (*MemoryStore, *clock) {
	c := &clock{t: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
	s := NewMemoryStore(ttl, max)
	s.SetClock(c.now)
	return s, c
}

func claim(t *testing.T, s *MemoryStore, id string, want Status) {
	t.Helper()
	claimAs(t, s, id, "tok-"+id, want)
}

func claimAs(t *testing.T, s *MemoryStore, id, token string, want Status) {
	t.Helper()
	got, err := s.Claim(context.Background(), id, token, time.Minute)
	if err != nil || got != want {
		t.Fatalf("Claim(%s, %s) = %v, %v; want %v", id, token, got, err, want)
	}
}

func TestMemoryStoreLifecycle(t *testing.T) {
	t.Parallel()
	s, c := newTestStore(0, 0)
	ctx := context.Background()
	claim(t, s, "a", Claimed)
	claimAs(t, s, "a", "other", InProgress)
	claim(t, s, "b", Claimed)
	if err := s.Release(ctx, "a", "tok-a"); err != nil {
		t.Fatal(err)
	}
	claim(t, s, "a", Claimed) // a failed attempt is retried
	if err := s.Complete(ctx, "a", "tok-a"); err != nil {
		t.Fatal(err)
	}
	claim(t, s, "a", Done)
	// Done for the whole retry schedule, and forgotten after the TTL.
	c.t = c.t.Add(24*time.Hour + 5*time.Minute)
	claim(t, s, "a", Done)
	c.t = c.t.Add(DefaultTTL)
	if done, busy := s.Len(); done != 0 || busy != 0 { // b's lease expired
		t.Fatalf("Len = %d, %d", done, busy)
	}
	claim(t, s, "a", Claimed)
	// In-progress ids expire with their lease.
	claim(t, s, "b", Claimed)
	for _, st := range []Status{Claimed, InProgress, Done, 0} {
		if st.String() == "" {
			t.Errorf("%d has no name", st)
		}
	}
}

func TestMemoryStoreBounded(t *testing.T) {
	t.Parallel()
	s, c := newTestStore(time.Hour, 100)
	ctx := context.Background()
	for i := 0; i < 1000; i++ {
		id := fmt.Sprint(i)
		claim(t, s, id, Claimed)
		if err := s.Complete(ctx, id, "tok-"+id); err != nil {
			t.Fatal(err)
		}
		c.t = c.t.Add(time.Millisecond)
	}
	if done, busy := s.Len(); done != 100 || busy != 0 {
		t.Fatalf("Len = %d, %d", done, busy)
	}
	if len(s.order)-s.head != 100 || cap(s.order) > 4096 {
		t.Fatalf("order holds %d entries (cap %d)", len(s.order)-s.head, cap(s.order))
	}
	claim(t, s, "999", Done) // the newest are kept
	claim(t, s, "0", Claimed)
	// Completing ids again without claiming them (misuse) leaves stale
	// entries, which are bounded too.
	for i := 0; i < 10000; i++ {
		if err := s.Complete(ctx, fmt.Sprint(900+i%50), "stale"); !errors.Is(err, ErrLeaseLost) {
			t.Fatal(err)
		}
		c.t = c.t.Add(time.Millisecond)
	}
	if n := len(s.order) - s.head; n > 2*100+1024+1 {
		t.Fatalf("order holds %d entries", n)
	}
	// Everything expires.
	c.t = c.t.Add(2 * time.Hour)
	if done, _ := s.Len(); done != 0 || len(s.order) != 0 {
		t.Fatalf("after the TTL: %d done, %d in order", done, len(s.order))
	}
}

// TestMemoryStoreLease: a claim holds its id for its lease and no longer;
// only the token that holds a claim releases it; Complete after the lease
// records the id and says that the lease was lost.
func TestMemoryStoreLease(t *testing.T) {
	s, c := newTestStore(0, 0)
	ctx := context.Background()
	if st, _ := s.Claim(ctx, "n1", "crashed", time.Minute); st != Claimed {
		t.Fatalf("first claim: %v", st)
	}
	c.t = c.t.Add(59 * time.Second)
	if st, _ := s.Claim(ctx, "n1", "second", time.Minute); st != InProgress {
		t.Fatalf("within the lease: %v", st)
	}
	if st, _ := s.Claim(ctx, "n1", "crashed", time.Second); st != Claimed {
		t.Fatalf("a Claim retried with the holder's token: %v", st)
	}
	// A stale token neither releases nor completes silently.
	if err := s.Release(ctx, "n1", "second"); err != nil {
		t.Fatal(err)
	}
	if st, _ := s.Claim(ctx, "n1", "third", time.Minute); st != InProgress {
		t.Fatalf("after a stranger's Release: %v", st)
	}
	c.t = c.t.Add(time.Second)
	if st, _ := s.Claim(ctx, "n1", "redelivery", time.Minute); st != Claimed {
		t.Fatalf("after the lease: %v", st)
	}
	if _, busy := s.Len(); busy != 1 {
		t.Fatalf("%d in progress", busy)
	}
	// The crashed holder's late Release does not free the new claim.
	if err := s.Release(ctx, "n1", "crashed"); err != nil {
		t.Fatal(err)
	}
	if st, _ := s.Claim(ctx, "n1", "x", time.Minute); st != InProgress {
		t.Fatalf("after a stale Release: %v", st)
	}
	if err := s.Complete(ctx, "n1", "redelivery"); err != nil {
		t.Fatal(err)
	}
	if st, _ := s.Claim(ctx, "n1", "y", time.Minute); st != Done {
		t.Fatalf("after Complete: %v", st)
	}
	// Completing after the lease expired records, and reports the loss.
	s.Claim(ctx, "n2", "slow", time.Second)
	c.t = c.t.Add(2 * time.Second)
	if err := s.Complete(ctx, "n2", "slow"); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("late Complete: %v", err)
	}
	if st, _ := s.Claim(ctx, "n2", "z", time.Minute); st != Done {
		t.Fatalf("after a late Complete: %v", st)
	}
	// No lease means DefaultLease.
	s.Claim(ctx, "n3", "t", 0)
	c.t = c.t.Add(DefaultLease - time.Second)
	if st, _ := s.Claim(ctx, "n3", "u", 0); st != InProgress {
		t.Fatalf("default lease: %v", st)
	}
}

// TestMemoryStoreZero: a zero MemoryStore works with the defaults, and a nil
// one returns errors instead of panicking.
func TestMemoryStoreZero(t *testing.T) {
	ctx := context.Background()
	var s MemoryStore
	if done, busy := s.Len(); done != 0 || busy != 0 {
		t.Fatal(done, busy)
	}
	if err := s.Release(ctx, "a", "t"); err != nil {
		t.Fatal(err)
	}
	if st, err := s.Claim(ctx, "a", "t", 0); st != Claimed || err != nil {
		t.Fatal(st, err)
	}
	if err := s.Complete(ctx, "a", "t"); err != nil {
		t.Fatal(err)
	}
	if st, err := s.Claim(ctx, "a", "t2", 0); st != Done || err != nil {
		t.Fatal(st, err)
	}
	if err := s.Complete(ctx, "b", "never claimed"); !errors.Is(err, ErrLeaseLost) {
		t.Fatal(err)
	}
	var nilStore *MemoryStore
	if _, err := nilStore.Claim(ctx, "a", "t", 0); err == nil {
		t.Fatal("nil store: no error")
	}
	if nilStore.Complete(ctx, "a", "t") == nil || nilStore.Release(ctx, "a", "t") == nil {
		t.Fatal("nil store: no error")
	}
	nilStore.Len()
}
