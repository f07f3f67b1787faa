package callback

import (
	"context"
	"sync"
	"time"
)

// Status is what a Store knows about a notification id.
type Status int

const (
	// Claimed: the id was neither processed nor being processed; the
	// caller now holds it and must Complete or Release it.
	Claimed Status = iota + 1
	// InProgress: another delivery of the id is being processed.
	InProgress
	// Done: the id was processed successfully.
	Done
)

// String returns "claimed", "in progress" or "done".
func (s Status) String() string {
	switch s {
	case Claimed:
		return "claimed"
	case InProgress:
		return "in progress"
	case Done:
		return "done"
	}
	return "unknown"
}

// Store remembers which notification ids are being processed and which
// were processed, so that Handler runs its function once per notification
// although WeChat Pay delivers some several times. MemoryStore is the
// default; a store shared by several instances of a service (Redis, SQL)
// implements the same three methods:
//
//   - Claim atomically: SET id "processing" NX with a lease (a few minutes,
//     longer than processing takes), so that a crashed instance's claim
//     expires and a redelivery is processed;
//   - Complete: SET id "done" with a TTL of at least DefaultTTL;
//   - Release: DEL id.
type Store interface {
	// Claim reports Done for an id processed before, InProgress for an id
	// another delivery holds, and otherwise records the id as in progress
	// and reports Claimed.
	Claim(ctx context.Context, id string) (Status, error)
	// Complete records a claimed id as processed.
	Complete(ctx context.Context, id string) error
	// Release forgets a claim whose processing failed, so that the next
	// delivery is processed.
	Release(ctx context.Context, id string) error
}

// Defaults of NewMemoryStore.
const (
	// DefaultTTL is how long a processed id is remembered: WeChat Pay
	// delivers a notification again for about 24 hours (payments: 15 tries
	// over 24h4m; merchant transfers: 65 over about 23h), plus margin.
	DefaultTTL = 25 * time.Hour
	// DefaultMaxEntries bounds the processed ids a MemoryStore remembers
	// (about 10 MB); beyond it the oldest are forgotten first.
	DefaultMaxEntries = 100_000
)

// MemoryStore is a Store in this process's memory: processed ids are
// remembered for a TTL, up to a maximum number (the oldest are forgotten
// first), and expire lazily, without a goroutine. Ids in progress are kept
// until completed or released. It suits a service with one instance; with
// several, each remembers only what it processed, so use a shared Store.
// It is safe for concurrent use.
type MemoryStore struct {
	ttl time.Duration
	max int
	now func() time.Time

	mu    sync.Mutex
	done  map[string]time.Time // id → expiry
	order []memEntry           // done ids by completion time (= expiry order)
	head  int
	busy  map[string]struct{}
}

type memEntry struct {
	id  string
	exp time.Time
}

// NewMemoryStore returns a MemoryStore that remembers processed ids for
// ttl (DefaultTTL when zero or less), at most maxEntries of them
// (DefaultMaxEntries when zero or less).
func NewMemoryStore(ttl time.Duration, maxEntries int) *MemoryStore {
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	if maxEntries <= 0 {
		maxEntries = DefaultMaxEntries
	}
	return &MemoryStore{
		ttl:  ttl,
		max:  maxEntries,
		now:  time.Now,
		done: make(map[string]time.Time),
		busy: make(map[string]struct{}),
	}
}

// Claim implements Store.
func (s *MemoryStore) Claim(_ context.Context, id string) (Status, error) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire(now)
	if _, ok := s.busy[id]; ok {
		return InProgress, nil
	}
	if exp, ok := s.done[id]; ok && now.Before(exp) {
		return Done, nil
	}
	s.busy[id] = struct{}{}
	return Claimed, nil
}

// Complete implements Store.
func (s *MemoryStore) Complete(_ context.Context, id string) error {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.busy, id)
	exp := now.Add(s.ttl)
	s.done[id] = exp
	s.order = append(s.order, memEntry{id: id, exp: exp})
	s.expire(now)
	if len(s.order)-s.head > 2*s.max+1024 {
		s.rebuild()
	}
	return nil
}

// Release implements Store.
func (s *MemoryStore) Release(_ context.Context, id string) error {
	s.mu.Lock()
	delete(s.busy, id)
	s.mu.Unlock()
	return nil
}

// Len returns the number of processed ids remembered and of ids in
// progress.
func (s *MemoryStore) Len() (done, inProgress int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire(s.now())
	return len(s.done), len(s.busy)
}

// expire forgets expired ids and, beyond max, the oldest ones. An order
// entry whose id was completed again later is stale and only dropped.
func (s *MemoryStore) expire(now time.Time) {
	for s.head < len(s.order) {
		e := s.order[s.head]
		exp, ok := s.done[e.id]
		switch {
		case !ok || !exp.Equal(e.exp):
			// stale: the id was forgotten or completed again
		case !now.Before(e.exp) || len(s.done) > s.max:
			delete(s.done, e.id)
		default:
			s.compact()
			return
		}
		s.order[s.head] = memEntry{}
		s.head++
	}
	s.compact()
}

// rebuild drops the stale entries of order, which only an id completed
// again (without a Claim) leaves behind.
func (s *MemoryStore) rebuild() {
	live := s.order[:0]
	for _, e := range s.order[s.head:] {
		if exp, ok := s.done[e.id]; ok && exp.Equal(e.exp) {
			live = append(live, e)
		}
	}
	clear(s.order[len(live):])
	s.order, s.head = live, 0
}

// compact reclaims the consumed front of order.
func (s *MemoryStore) compact() {
	if s.head == len(s.order) {
		s.order, s.head = s.order[:0], 0
		return
	}
	if s.head > 1024 && s.head > len(s.order)/2 {
		n := copy(s.order, s.order[s.head:])
		clear(s.order[n:])
		s.order, s.head = s.order[:n], 0
	}
}
