package auth

import "context"

// Cache keeps the downloaded platform certificates in a store that the
// instances of a service share (PlatformKeysConfig.Cache), so that a new
// instance starts with them and a rotation seen by one is seen by all. It
// stores opaque bytes that PlatformKeys writes and reads back exactly as it
// does with a cache file, so a Cache needs no knowledge of certificates and
// adds no trust of its own: protect it like the cache directory.
// github.com/gowxpay/wxpay/contrib/redis has one on Redis. Implementations
// must be safe for concurrent use.
type Cache interface {
	// Get returns the bytes last Put under key, or nil and no error when
	// there are none.
	Get(ctx context.Context, key string) ([]byte, error)
	// Put stores data under key, replacing what was there.
	Put(ctx context.Context, key string, data []byte) error
}
