package auth

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestPlatformKeysCacheAuthenticated: what the cache holds is used only if
// it decrypts and authenticates under this merchant's APIv3 key. A
// certificate planted by whoever can write there (as PEM, or encrypted
// under another key) is not used, and the first use downloads instead.
func TestPlatformKeysCacheAuthenticated(t *testing.T) {
	w := newKeyWorld(t)
	dir := filepath.Join(t.TempDir(), "cache")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	cfg := w.config()
	cfg.CacheDir, cfg.CacheKey = dir, "1900000001"
	file := filepath.Join(dir, "wxpay-platform-certificates-1900000001.json")
	// The attacker's certificate, shaped like WeChat Pay's, for a key the
	// attacker holds.
	forged := makePlatformCert(t, w.pubKey, 66, testClock.AddDate(-1, 0, 0), testClock.AddDate(1, 0, 0))
	for name, content := range map[string][]byte{
		"another APIv3 key": certificatesBody(t, []byte("ffffffffffffffffffffffffffffffff"), forged),
		"PEM":               certPEM(forged),
	} {
		if err := os.WriteFile(file, content, 0o600); err != nil {
			t.Fatal(err)
		}
		p := w.store(t, cfg)
		if st := p.Status(); st.Source != "" || len(st.Keys) != 0 {
			t.Errorf("%s: the planted cache was loaded: %+v", name, st)
		}
		err := w.check(p, w.answer(t, w.pubKey, SerialNumber(forged)))
		if !errors.Is(err, ErrUnknownKey) {
			t.Errorf("%s: an answer signed with the planted certificate: %v", name, err)
		}
		p.Close()
	}
	// A genuine download is cached as it came, and loaded back.
	p := w.store(t, cfg)
	if err := w.check(p, w.answer(t, w.key1, SerialNumber(w.cert1))); err != nil {
		t.Fatal(err)
	}
	p.Close()
	calls := w.wechat.calls.Load()
	p2 := w.store(t, cfg)
	if st := p2.Status(); st.Source != "cache" || len(st.Keys) != 1 {
		t.Fatalf("status %+v", st)
	}
	if err := w.check(p2, w.answer(t, w.key1, SerialNumber(w.cert1))); err != nil || w.wechat.calls.Load() != calls {
		t.Fatalf("from the cache: %v, %d downloads", err, w.wechat.calls.Load()-calls)
	}
}

// TestPlatformKeysCacheDirPermissions: a cache directory others may write
// to is refused with an error that says so.
func TestPlatformKeysCacheDirPermissions(t *testing.T) {
	w := newKeyWorld(t)
	for _, mode := range []os.FileMode{0o777, 0o770, 0o702} {
		dir := filepath.Join(t.TempDir(), "cache")
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, mode); err != nil {
			t.Fatal(err)
		}
		cfg := w.config()
		cfg.CacheDir = dir
		p, err := NewPlatformKeys(cfg)
		if !errors.Is(err, ErrInsecureCacheDir) {
			t.Errorf("mode %v: %v", mode, err)
		}
		if p != nil {
			p.Close()
		}
	}
	dir := filepath.Join(t.TempDir(), "cache")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := w.config()
	cfg.CacheDir = dir
	w.store(t, cfg) // 0755: only the owner writes
}
