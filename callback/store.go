package callback

import (
	"context"
	"errors"
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
// although WeChat Pay delivers some several times, to any instance of a
// service. MemoryStore keeps them in one process; a store shared by several
// instances (the Redis one in github.com/gowxpay/wxpay/contrib/redis, or one
// of your own on SQL) implements the same three methods, each atomically:
//
//   - Claim: when the id is done, Done; when another token holds an
//     unexpired claim, InProgress; otherwise record "token holds id until
//     now+lease" and Claimed (also when token holds it already: a store
//     client retrying a Claim whose answer was lost gets it). A claim whose lease expired is taken over:
//     this is how the notification of a crashed or hung delivery is
//     processed again.
//   - Complete: record the id as done for at least DefaultTTL, whoever
//     holds the claim, and report ErrLeaseLost when token no longer held it.
//   - Release: forget the claim, only when token still holds it.
//
// The guarantee this gives is: while a lease runs, no other delivery of the
// id runs the function, and once the function returned nil for an id, no
// delivery runs it again (for the TTL). A function that overruns its lease
// may overlap with a redelivery: Handler bounds the function's time to less
// than the lease (WithTimeout, WithLease), and a function with side effects
// outside your database should still be idempotent (keyed by the business
// id) to survive a store that lost data.
type Store interface {
	// Claim reports Done for an id processed before, InProgress for an id
	// another delivery holds, and otherwise records that token holds the
	// id for lease and reports Claimed.
	Claim(ctx context.Context, id, token string, lease time.Duration) (Status, error)
	// Complete records id as processed; it returns ErrLeaseLost (after
	// recording) when token no longer held the claim.
	Complete(ctx context.Context, id, token string) error
	// Release forgets token's claim on id, whose processing failed, so
	// that the next delivery is processed. It does nothing when token no
	// longer holds the claim.
	Release(ctx context.Context, id, token string) error
}

// ErrLeaseLost is reported by Store.Complete when the claim had expired
// before the function returned: another delivery may have run it too.
var ErrLeaseLost = errors.New("callback: the claim's lease expired before processing finished; another delivery may have processed the notification too")

// Defaults of NewMemoryStore.
const (
	// DefaultTTL is how long a processed id is remembered: WeChat Pay
	// delivers a notification again for about 24 hours (payments: 15 tries
	// over 24h4m; merchant transfers: 65 over about 23h), plus margin.
	DefaultTTL = 25 * time.Hour
	// DefaultMaxEntries bounds the processed ids a MemoryStore remembers
	// (about 10 MB); beyond it the oldest are forgotten first.
	DefaultMaxEntries = 100_000
	// DefaultLease is how long a claim holds an id when Claim is given no
	// lease: after it, another delivery may process the notification.
	DefaultLease = 2 * time.Minute
)

// MemoryStore is a Store in this process's memory: processed ids are
// remembered for a TTL, up to a maximum number (the oldest are forgotten
// first), and expire lazily, without a goroutine; claims expire with their
// lease. It suits a service with one instance; with several, each remembers
// only what it processed, so use a shared Store. A zero MemoryStore is
// ready to use with the defaults. It is safe for concurrent use.
type MemoryStore struct {
	ttl time.Duration
	max int
	now func() time.Time

	mu    sync.Mutex
	done  map[string]time.Time // id → expiry
	order []memEntry           // done ids by completion time (= expiry order)
	head  int
	busy  map[string]memClaim
}

type memEntry struct {
	id  string
	exp time.Time
}

type memClaim struct {
	token string
	exp   time.Time
}

// NewMemoryStore returns a MemoryStore that remembers processed ids for
// ttl (DefaultTTL when zero or less), at most maxEntries of them
// (DefaultMaxEntries when zero or less).
func NewMemoryStore(ttl time.Duration, maxEntries int) *MemoryStore {
	return &MemoryStore{ttl: ttl, max: maxEntries}
}

// SetClock replaces the store's clock (time.Now by default), for tests of
// leases and expiry.
func (s *MemoryStore) SetClock(now func() time.Time) {
	if s == nil {
		return
	}
	s.mu.Lock()
	s.now = now
	s.mu.Unlock()
}

var errNilMemoryStore = errors.New("callback: the MemoryStore is nil: make one with NewMemoryStore")

// init applies the defaults; s.mu is held.
func (s *MemoryStore) init() time.Time {
	if s.ttl <= 0 {
		s.ttl = DefaultTTL
	}
	if s.max <= 0 {
		s.max = DefaultMaxEntries
	}
	if s.done == nil {
		s.done = make(map[string]time.Time)
		s.busy = make(map[string]memClaim)
	}
	if s.now == nil {
		return time.Now()
	}
	return s.now()
}

// Claim implements Store.
func (s *MemoryStore) Claim(_ context.Context, id, token string, lease time.Duration) (Status, error) {
	if s == nil {
		return 0, errNilMemoryStore
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.init()
	s.expire(now)
	if c, ok := s.busy[id]; ok && now.Before(c.exp) && c.token != token {
		return InProgress, nil
	}
	if exp, ok := s.done[id]; ok && now.Before(exp) {
		return Done, nil
	}
	if lease <= 0 {
		lease = DefaultLease
	}
	if len(s.busy) >= s.max {
		for k, c := range s.busy {
			if !now.Before(c.exp) {
				delete(s.busy, k)
			}
		}
	}
	s.busy[id] = memClaim{token: token, exp: now.Add(lease)}
	return Claimed, nil
}

// Complete implements Store.
func (s *MemoryStore) Complete(_ context.Context, id, token string) error {
	if s == nil {
		return errNilMemoryStore
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.init()
	c, held := s.busy[id]
	held = held && c.token == token
	if held {
		delete(s.busy, id)
	}
	exp := now.Add(s.ttl)
	s.done[id] = exp
	s.order = append(s.order, memEntry{id: id, exp: exp})
	s.expire(now)
	if len(s.order)-s.head > 2*s.max+1024 {
		s.rebuild()
	}
	if !held || !now.Before(c.exp) {
		return ErrLeaseLost
	}
	return nil
}

// Release implements Store.
func (s *MemoryStore) Release(_ context.Context, id, token string) error {
	if s == nil {
		return errNilMemoryStore
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.busy[id]; ok && c.token == token {
		delete(s.busy, id)
	}
	return nil
}

// Len returns the number of processed ids remembered and of ids in
// progress (claims whose lease has not expired).
func (s *MemoryStore) Len() (done, inProgress int) {
	if s == nil {
		return 0, 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.init()
	s.expire(now)
	for id, c := range s.busy {
		if now.Before(c.exp) {
			inProgress++
		} else {
			delete(s.busy, id)
		}
	}
	return len(s.done), inProgress
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
