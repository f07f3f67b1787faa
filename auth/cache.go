package auth

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// ErrInsecureCacheDir means that the platform certificate cache directory
// may be written by other users: whoever writes there could replace the
// cache.
var ErrInsecureCacheDir = errors.New("auth: the platform certificate cache directory is writable by group or others")

// checkCacheDir refuses an existing cache directory that group or others
// may write to. A missing one is created 0700 on the first write.
func checkCacheDir(dir string) error {
	fi, err := os.Stat(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("auth: the platform certificate cache directory: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("auth: the platform certificate cache %s is not a directory", dir)
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("%w: %s has mode %v; run chmod go-w on it, or choose a directory only this program's user can write", ErrInsecureCacheDir, dir, fi.Mode().Perm())
	}
	return nil
}

// loadCache reads the cached download, if any, as the initial set: only
// certificates that decrypt and authenticate under the APIv3 key, look like
// WeChat Pay's and have not expired are used. The cache holds the download
// exactly as WeChat Pay sent it, so nothing written there by anyone else
// (a file in the directory, a value in a shared Cache) is trusted.
func (p *PlatformKeys) loadCache() {
	b, err := p.readCache()
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			p.warn("wxpay: reading the platform certificate cache failed", err)
		}
		return
	}
	certs, err := p.decryptAnswer(b)
	if err != nil {
		p.warn("wxpay: ignoring the platform certificate cache: it is not a download under this merchant's APIv3 key", err)
		return
	}
	now := p.now()
	for s, c := range certs {
		if !now.Before(c.cert.NotAfter) {
			delete(certs, s)
		}
	}
	if len(certs) > 0 {
		set := newCertSet(certs, now, "cache")
		set.raw = b
		p.snap.Store(set)
	}
}

// readCache returns the cached bytes; an error matching os.ErrNotExist
// when there are none.
func (p *PlatformKeys) readCache() ([]byte, error) {
	if p.cache == nil {
		return os.ReadFile(p.cacheFile)
	}
	ctx, cancel := context.WithTimeout(p.ctx, p.timeout)
	defer cancel()
	b, err := p.cache.Get(ctx, p.cacheKey)
	if err == nil && b == nil {
		err = os.ErrNotExist
	}
	return b, err
}

// writeCache saves the download set came in: to the Cache, or to the cache
// file atomically (write, sync, rename).
func (p *PlatformKeys) writeCache(set *certSet) {
	if p.cacheFile == "" && p.cache == nil || set.raw == nil {
		return
	}
	if p.cache != nil {
		ctx, cancel := context.WithTimeout(p.ctx, p.timeout)
		defer cancel()
		if err := p.cache.Put(ctx, p.cacheKey, set.raw); err != nil {
			p.warn("wxpay: writing the platform certificate cache failed", err)
		}
		return
	}
	dir := filepath.Dir(p.cacheFile)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		p.warn("wxpay: creating the platform certificate cache directory failed", err)
		return
	}
	if err := checkCacheDir(dir); err != nil {
		p.warn("wxpay: not writing the platform certificate cache", err)
		return
	}
	f, err := os.CreateTemp(dir, ".wxpay-platform-*.tmp")
	if err != nil {
		p.warn("wxpay: writing the platform certificate cache failed", err)
		return
	}
	tmp := f.Name()
	err = f.Chmod(0o600)
	if err == nil {
		_, err = f.Write(set.raw)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, p.cacheFile)
	}
	if err != nil {
		os.Remove(tmp)
		p.warn("wxpay: writing the platform certificate cache failed", err)
	}
}

// Cache keeps the downloaded platform certificates in a store that the
// instances of a service share (PlatformKeysConfig.Cache), so that a new
// instance starts with them and a rotation seen by one is seen by all. It
// stores opaque bytes that PlatformKeys writes and reads back exactly as it
// does with a cache file: the download as WeChat Pay sent it, encrypted under
// the APIv3 key, which PlatformKeys decrypts and authenticates again on
// every load, so a Cache needs no knowledge of certificates and a value
// planted in it is ignored.
// github.com/gowxpay/wxpay/contrib/redis has one on Redis. Implementations
// must be safe for concurrent use.
type Cache interface {
	// Get returns the bytes last Put under key, or nil and no error when
	// there are none.
	Get(ctx context.Context, key string) ([]byte, error)
	// Put stores data under key, replacing what was there.
	Put(ctx context.Context, key string, data []byte) error
}
