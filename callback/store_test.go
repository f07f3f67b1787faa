package callback

import (
	"context"
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
	s.now = c.now
	return s, c
}

func claim(t *testing.T, s *MemoryStore, id string, want Status) {
	t.Helper()
	got, err := s.Claim(context.Background(), id)
	if err != nil || got != want {
		t.Fatalf("Claim(%s) = %v, %v; want %v", id, got, err, want)
	}
}

func TestMemoryStoreLifecycle(t *testing.T) {
	t.Parallel()
	s, c := newTestStore(0, 0)
	ctx := context.Background()
	claim(t, s, "a", Claimed)
	claim(t, s, "a", InProgress)
	claim(t, s, "b", Claimed)
	if err := s.Release(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	claim(t, s, "a", Claimed) // a failed attempt is retried
	if err := s.Complete(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	claim(t, s, "a", Done)
	// Done for the whole retry schedule, and forgotten after the TTL.
	c.t = c.t.Add(24*time.Hour + 5*time.Minute)
	claim(t, s, "a", Done)
	c.t = c.t.Add(DefaultTTL)
	if done, busy := s.Len(); done != 0 || busy != 1 {
		t.Fatalf("Len = %d, %d", done, busy)
	}
	claim(t, s, "a", Claimed)
	// In-progress ids do not expire.
	claim(t, s, "b", InProgress)
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
		if err := s.Complete(ctx, id); err != nil {
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
		if err := s.Complete(ctx, fmt.Sprint(900+i%50)); err != nil {
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
