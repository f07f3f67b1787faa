// Package wxredis keeps wxpay's shared state on Redis, so that the
// instances of a service behave as one: Store is a callback.Store (each
// notification is processed once across instances and restarts) and
// KeyCache an auth.Cache (the platform certificates are downloaded once and
// shared). It is a module of its own, github.com/gowxpay/wxpay/contrib/redis,
// so that the wxpay module itself needs only the standard library; it
// builds on github.com/redis/go-redis/v9 and works with any of its clients
// (single server, Sentinel failover, cluster: every command touches one
// key).
//
//	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
//	h, err := client.CallbackHandler(fn, callback.WithStore(wxredis.NewStore(rdb, wxredis.Options{})))
//
// Durability: the store is as durable as the Redis server. With the
// default persistence a Redis crash forgets the last second or more of
// writes, and a notification recorded as processed in that second is
// processed again when WeChat Pay delivers it again. Run Redis with
// appendonly yes and appendfsync always (or replicate it and accept a
// failover's loss) where that matters.
package wxredis

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gowxpay/wxpay/auth"
	"github.com/gowxpay/wxpay/callback"
	"github.com/redis/go-redis/v9"
)

// Options configures a Store or a KeyCache.
type Options struct {
	// Prefix starts every key; "wxpay:notify:" for a Store and
	// "wxpay:keys:" for a KeyCache when empty. Give the instances of one
	// service the same prefix, and other services another.
	Prefix string
	// TTL is how long a Store remembers a processed notification;
	// callback.DefaultTTL when zero.
	TTL time.Duration
}

// Store is a callback.Store on Redis. One key per notification id holds
// either the claim of a delivery ("c:" and its token, expiring with the
// lease) or "done" (expiring after the TTL); every operation is one Lua
// script, atomic on the server. A Claim repeated with the same token (a
// client retrying after a lost answer) reports Claimed again, so that a
// retry does not leave a claim nobody holds.
type Store struct {
	rdb    redis.UniversalClient
	prefix string
	ttl    time.Duration
}

var _ callback.Store = (*Store)(nil)

// NewStore returns a Store that keeps its keys in rdb.
func NewStore(rdb redis.UniversalClient, o Options) *Store {
	if o.Prefix == "" {
		o.Prefix = "wxpay:notify:"
	}
	if o.TTL <= 0 {
		o.TTL = callback.DefaultTTL
	}
	return &Store{rdb: rdb, prefix: o.Prefix, ttl: o.TTL}
}

const doneValue = "done"

var (
	claimScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if not v then
	redis.call('SET', KEYS[1], 'c:' .. ARGV[1], 'PX', ARGV[2])
	return 1
end
if v == 'done' then return 3 end
if v == 'c:' .. ARGV[1] then return 1 end
return 2`)
	completeScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
redis.call('SET', KEYS[1], 'done', 'PX', ARGV[2])
if v == 'c:' .. ARGV[1] then return 1 end
return 0`)
	releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == 'c:' .. ARGV[1] then
	redis.call('DEL', KEYS[1])
	return 1
end
return 0`)
)

var errNoClient = errors.New("wxredis: the Store has no Redis client: make it with NewStore")

// Key returns the Redis key of a notification id.
func (s *Store) Key(id string) string { return s.prefix + id }

// Claim implements callback.Store.
func (s *Store) Claim(ctx context.Context, id, token string, lease time.Duration) (callback.Status, error) {
	if s == nil || s.rdb == nil {
		return 0, errNoClient
	}
	if lease <= 0 {
		lease = callback.DefaultLease
	}
	n, err := claimScript.Run(ctx, s.rdb, []string{s.Key(id)}, token, millis(lease)).Int()
	if err != nil {
		return 0, fmt.Errorf("wxredis: claiming notification %s: %w", id, err)
	}
	switch n {
	case 1:
		return callback.Claimed, nil
	case 2:
		return callback.InProgress, nil
	case 3:
		return callback.Done, nil
	}
	return 0, fmt.Errorf("wxredis: claiming notification %s: unexpected answer %d", id, n)
}

// Complete implements callback.Store.
func (s *Store) Complete(ctx context.Context, id, token string) error {
	if s == nil || s.rdb == nil {
		return errNoClient
	}
	n, err := completeScript.Run(ctx, s.rdb, []string{s.Key(id)}, token, millis(s.ttl)).Int()
	if err != nil {
		return fmt.Errorf("wxredis: recording notification %s as processed: %w", id, err)
	}
	if n != 1 {
		return callback.ErrLeaseLost
	}
	return nil
}

// Release implements callback.Store.
func (s *Store) Release(ctx context.Context, id, token string) error {
	if s == nil || s.rdb == nil {
		return errNoClient
	}
	if err := releaseScript.Run(ctx, s.rdb, []string{s.Key(id)}, token).Err(); err != nil {
		return fmt.Errorf("wxredis: releasing notification %s: %w", id, err)
	}
	return nil
}

// Processed reports whether id is recorded as processed.
func (s *Store) Processed(ctx context.Context, id string) (bool, error) {
	if s == nil || s.rdb == nil {
		return false, errNoClient
	}
	v, err := s.rdb.Get(ctx, s.Key(id)).Result()
	if errors.Is(err, redis.Nil) {
		return false, nil
	}
	return v == doneValue, err
}

func millis(d time.Duration) int64 { return max(1, d.Milliseconds()) }

// KeyCache is an auth.Cache on Redis: the platform certificates the
// instances of a service download, shared under one key per merchant
// (merchant.Config.CertificateCache). It stores the bytes wxpay gives it
// as they are, without expiry.
type KeyCache struct {
	rdb    redis.UniversalClient
	prefix string
}

var _ auth.Cache = (*KeyCache)(nil)

// NewKeyCache returns a KeyCache that keeps its keys in rdb.
func NewKeyCache(rdb redis.UniversalClient, o Options) *KeyCache {
	if o.Prefix == "" {
		o.Prefix = "wxpay:keys:"
	}
	return &KeyCache{rdb: rdb, prefix: o.Prefix}
}

// Get implements auth.Cache.
func (c *KeyCache) Get(ctx context.Context, key string) ([]byte, error) {
	if c == nil || c.rdb == nil {
		return nil, errors.New("wxredis: the KeyCache has no Redis client: make it with NewKeyCache")
	}
	b, err := c.rdb.Get(ctx, c.prefix+key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("wxredis: reading the platform key cache: %w", err)
	}
	return b, nil
}

// Put implements auth.Cache.
func (c *KeyCache) Put(ctx context.Context, key string, data []byte) error {
	if c == nil || c.rdb == nil {
		return errors.New("wxredis: the KeyCache has no Redis client: make it with NewKeyCache")
	}
	if err := c.rdb.Set(ctx, c.prefix+key, data, 0).Err(); err != nil {
		return fmt.Errorf("wxredis: writing the platform key cache: %w", err)
	}
	return nil
}
