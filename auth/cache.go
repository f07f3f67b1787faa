package auth

import (
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
// WeChat Pay's and have not expired are used.
func (p *PlatformKeys) loadCache() {
	b, err := os.ReadFile(p.cacheFile)
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

// writeCache saves the download set came in to the cache file atomically
// (write, sync, rename).
func (p *PlatformKeys) writeCache(set *certSet) {
	if p.cacheFile == "" || set.raw == nil {
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
