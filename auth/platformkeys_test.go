package auth

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gowxpay/wxpay/core"
)

// fakeClock is a settable clock.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock(t time.Time) *fakeClock {
	c := &fakeClock{}
	c.ns.Store(t.UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// fakeWeChat answers GET /v3/certificates like WeChat Pay.
type fakeWeChat struct {
	t     testing.TB
	clock *fakeClock
	calls atomic.Int32
	gate  chan struct{} // when set, a fetch waits for it

	mu         sync.Mutex
	apiv3      []byte
	certs      []*x509.Certificate
	signKey    *rsa.PrivateKey
	signSerial string
	err        error
	tamper     bool
}

func (w *fakeWeChat) fetch(ctx context.Context) (http.Header, []byte, error) {
	w.calls.Add(1)
	w.mu.Lock()
	gate := w.gate
	w.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return nil, nil, w.err
	}
	body := certificatesBody(w.t, w.apiv3, w.certs...)
	h := signAnswer(w.t, w.signKey, w.signSerial, w.clock.Now(), "f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6", body)
	if w.tamper {
		body = bytes.Replace(body, []byte(`"data"`), []byte(`"data" `), 1)
	}
	return h, body, nil
}

func (w *fakeWeChat) set(f func(w *fakeWeChat)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	f(w)
}

// keyWorld is a merchant with two platform certificates, the second one
// newer, and a WeChat Pay public key.
type keyWorld struct {
	clock        *fakeClock
	key1, key2   *rsa.PrivateKey
	cert1, cert2 *x509.Certificate
	pubKey       *rsa.PrivateKey
	wechat       *fakeWeChat
}

func newKeyWorld(t testing.TB) *keyWorld {
	w := &keyWorld{clock: newFakeClock(testClock)}
	w.key1, w.key2, w.pubKey = testKey(t, "platform1"), testKey(t, "platform2"), testKey(t, "pubkey")
	w.cert1 = makePlatformCert(t, w.key1, 1, testClock.AddDate(-2, 0, 0), testClock.AddDate(3, 0, 0))
	w.cert2 = makePlatformCert(t, w.key2, 2, testClock.AddDate(0, 0, -3), testClock.AddDate(5, 0, -3))
	w.wechat = &fakeWeChat{t: t, clock: w.clock, apiv3: testAPIv3Key, certs: []*x509.Certificate{w.cert1}, signKey: w.key1, signSerial: SerialNumber(w.cert1)}
	return w
}

func (w *keyWorld) config() PlatformKeysConfig {
	return PlatformKeysConfig{APIv3Key: testAPIv3Key, Fetch: w.wechat.fetch, Now: w.clock.Now, RefreshInterval: -1}
}

func (w *keyWorld) store(t testing.TB, cfg PlatformKeysConfig) *PlatformKeys {
	t.Helper()
	p, err := NewPlatformKeys(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// answer returns an answer signed by key under serial at the world's time.
func (w *keyWorld) answer(t testing.TB, key *rsa.PrivateKey, serial string) Signed {
	body := []byte(`{"trade_state":"SUCCESS"}`)
	return SignedFromHeader(signAnswer(t, key, serial, w.clock.Now(), "0a1b2c3d4e5f60718293a4b5c6d7e8f9", body), body)
}

func (w *keyWorld) check(p *PlatformKeys, s Signed) error {
	return CheckSigned(context.Background(), p, s, w.clock.Now(), 0)
}

// syncBuffer is a log sink safe for the store's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestPlatformKeysNoIOAtConstruction(t *testing.T) {
	t.Parallel()
	w := newKeyWorld(t)
	cfg := w.config()
	cfg.RefreshInterval = time.Hour
	p := w.store(t, cfg)
	time.Sleep(20 * time.Millisecond)
	if n := w.wechat.calls.Load(); n != 0 {
		t.Fatalf("%d downloads at construction", n)
	}
	if p.AnnouncedSerial() != "" || w.wechat.calls.Load() != 0 {
		t.Fatal("AnnouncedSerial downloaded")
	}
	if p.Mode() != CertificateMode {
		t.Errorf("mode %s", p.Mode())
	}
}

// TestPlatformKeysConcurrentFirstUse: 100 concurrent first calls share one
// download.
func TestPlatformKeysConcurrentFirstUse(t *testing.T) {
	t.Parallel()
	w := newKeyWorld(t)
	w.wechat.gate = make(chan struct{})
	p := w.store(t, w.config())
	s := w.answer(t, w.key1, SerialNumber(w.cert1))
	const n = 100
	var wg sync.WaitGroup
	errs := make(chan error, n)
	var started sync.WaitGroup
	started.Add(n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			started.Done()
			if i%2 == 0 {
				errs <- w.check(p, s)
				return
			}
			serial, enc, err := p.Encryptor(context.Background())
			if err == nil && serial != SerialNumber(w.cert1) {
				err = fmt.Errorf("encrypting with %s", serial)
			}
			if err == nil {
				_, err = enc("张三")
			}
			errs <- err
		}(i)
	}
	started.Wait()
	time.Sleep(20 * time.Millisecond) // let them all reach the download
	close(w.wechat.gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := w.wechat.calls.Load(); got != 1 {
		t.Fatalf("%d downloads, want exactly 1", got)
	}
	if st := p.Status(); st.Downloads != 1 || st.Source != "download" || len(st.Keys) != 1 || !st.Keys[0].Encrypts {
		t.Errorf("status %+v", st)
	}
}

func TestPlatformKeysRefreshFailureKeepsCertificates(t *testing.T) {
	t.Parallel()
	w := newKeyWorld(t)
	var logs syncBuffer
	cfg := w.config()
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	p := w.store(t, cfg)
	s := w.answer(t, w.key1, SerialNumber(w.cert1))
	if err := w.check(p, s); err != nil {
		t.Fatal(err)
	}
	w.wechat.set(func(w *fakeWeChat) { w.err = errors.New("connection reset by peer") })
	if err := p.Refresh(context.Background()); err == nil || !strings.Contains(err.Error(), "connection reset") {
		t.Fatalf("Refresh: %v", err)
	}
	if err := w.check(p, s); err != nil {
		t.Fatalf("after a failed refresh: %v", err)
	}
	if _, _, err := p.Encryptor(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := p.Status()
	if st.LastError == nil || st.Downloads != 2 || len(st.Keys) != 1 {
		t.Errorf("status %+v", st)
	}
	out := logs.String()
	if !strings.Contains(out, "keeping the current ones") || !strings.Contains(out, "connection reset") {
		t.Errorf("log %q", out)
	}
	if strings.Contains(out, string(testAPIv3Key)) {
		t.Error("the APIv3 key is in the log")
	}
}

func TestPlatformKeysUnknownSerial(t *testing.T) {
	t.Parallel()
	w := newKeyWorld(t)
	cfg := w.config()
	p := w.store(t, cfg)
	if err := w.check(p, w.answer(t, w.key1, SerialNumber(w.cert1))); err != nil {
		t.Fatal(err)
	}
	// WeChat Pay rotates: cert2 appears and signs. The first answer naming
	// it triggers one download, shared by everyone asking at once.
	w.wechat.set(func(x *fakeWeChat) { x.certs = append(x.certs, w.cert2) })
	s2 := w.answer(t, w.key2, SerialNumber(w.cert2))
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := w.check(p, s2); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if got := w.wechat.calls.Load(); got != 2 {
		t.Fatalf("%d downloads, want 2 (first use + one refresh)", got)
	}
	if serial, _, _ := p.Encryptor(context.Background()); serial != SerialNumber(w.cert2) {
		t.Errorf("encrypting with %s, want the newest %s", serial, SerialNumber(w.cert2))
	}
	if p.AnnouncedSerial() != SerialNumber(w.cert2) {
		t.Errorf("announcing %s", p.AnnouncedSerial())
	}

	// WeChat Pay rotates again two seconds later: the new serial triggers a
	// download at once (a single timer for every serial would leave it
	// unresolved for a minute).
	w.clock.Advance(2 * time.Second)
	cert3 := makePlatformCert(t, w.pubKey, 3, testClock.AddDate(0, 0, -1), testClock.AddDate(5, 0, -1))
	w.wechat.set(func(x *fakeWeChat) { x.certs = append(x.certs, cert3) })
	if err := w.check(p, w.answer(t, w.pubKey, SerialNumber(cert3))); err != nil {
		t.Fatalf("second rotation: %v", err)
	}
	if got := w.wechat.calls.Load(); got != 3 {
		t.Fatalf("%d downloads, want 3", got)
	}

	// A flood of answers naming a key nobody has: one refresh, then none
	// until MinRefreshGap has passed.
	w.clock.Advance(2 * DefaultMinRefreshGap)
	bogus := "0123456789ABCDEF0123456789ABCDEF01234567"
	sb := w.answer(t, w.key2, bogus)
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := w.check(p, sb)
			if !errors.Is(err, ErrUnknownKey) || !errors.Is(err, core.ErrVerification) {
				t.Errorf("bogus serial: %v", err)
			}
		}()
	}
	wg.Wait()
	err := w.check(p, sb)
	for _, want := range []string{bogus, "neither a downloaded platform certificate nor the configured public key", "PUB_KEY_ID"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}
	if got := w.wechat.calls.Load(); got != 4 {
		t.Fatalf("%d downloads, want 4: a flood of one unknown serial must cause one", got)
	}
	// Made-up serials that change every time: at most one download a second.
	w.clock.Advance(2 * time.Second)
	for i := 0; i < 20; i++ {
		_ = w.check(p, w.answer(t, w.key2, fmt.Sprintf("%040X", i+1)))
	}
	if got := w.wechat.calls.Load(); got != 5 {
		t.Fatalf("%d downloads, want 5: distinct unknown serials within a second must cause one", got)
	}
	w.clock.Advance(DefaultMinRefreshGap + time.Second)
	_ = w.check(p, sb)
	if got := w.wechat.calls.Load(); got != 6 {
		t.Fatalf("%d downloads, want 6 after MinRefreshGap", got)
	}
	// A PUB_KEY_ID in certificate mode: no download, advice to switch modes.
	err = w.check(p, w.answer(t, w.pubKey, testPubKeyID))
	if !errors.Is(err, ErrUnknownKey) || !strings.Contains(err.Error(), "use public-key mode") {
		t.Errorf("PUB_KEY_ID in certificate mode: %v", err)
	}
	if got := w.wechat.calls.Load(); got != 6 {
		t.Errorf("a PUB_KEY_ID caused a download")
	}
}

func TestPlatformKeysDropsExpired(t *testing.T) {
	t.Parallel()
	w := newKeyWorld(t)
	expired := makePlatformCert(t, w.key2, 3, testClock.AddDate(-5, 0, 0), testClock.Add(-time.Hour))
	w.wechat.certs = []*x509.Certificate{expired, w.cert1}
	p := w.store(t, w.config())
	if err := p.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if certs := p.Certificates(); len(certs) != 1 || SerialNumber(certs[0]) != SerialNumber(w.cert1) {
		t.Fatalf("kept %d certificates", len(certs))
	}
	if err := w.check(p, w.answer(t, w.key2, SerialNumber(expired))); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("answer by an expired certificate: %v", err)
	}

	// Only expired certificates: an error that mentions the clock.
	w2 := newKeyWorld(t)
	w2.wechat.certs = []*x509.Certificate{expired}
	w2.wechat.signKey, w2.wechat.signSerial = w2.key2, SerialNumber(expired)
	p2 := w2.store(t, w2.config())
	if err := p2.Refresh(context.Background()); err == nil || !strings.Contains(err.Error(), "expired") || !strings.Contains(err.Error(), "clock") {
		t.Errorf("all expired: %v", err)
	}
}

func TestPlatformKeysCache(t *testing.T) {
	t.Parallel()
	w := newKeyWorld(t)
	w.wechat.certs = []*x509.Certificate{w.cert1, w.cert2}
	dir := filepath.Join(t.TempDir(), "cache")
	cfg := w.config()
	cfg.CacheDir, cfg.CacheKey = dir, "1900000001"
	p1 := w.store(t, cfg)
	if err := w.check(p1, w.answer(t, w.key1, SerialNumber(w.cert1))); err != nil {
		t.Fatal(err)
	}
	p1.Close()
	file := filepath.Join(dir, "wxpay-platform-certificates-1900000001.pem")
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("cache file mode %v", fi.Mode().Perm())
	}
	if di, _ := os.Stat(dir); di.Mode().Perm() != 0o700 {
		t.Errorf("cache dir mode %v", di.Mode().Perm())
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".wxpay-platform-*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}

	// A restart: the store starts from the cache, without downloading.
	calls := w.wechat.calls.Load()
	p2 := w.store(t, cfg)
	for _, s := range []Signed{w.answer(t, w.key1, SerialNumber(w.cert1)), w.answer(t, w.key2, SerialNumber(w.cert2))} {
		if err := w.check(p2, s); err != nil {
			t.Fatal(err)
		}
	}
	if serial, _, err := p2.Encryptor(context.Background()); err != nil || serial != SerialNumber(w.cert2) {
		t.Errorf("Encryptor from cache: %s %v", serial, err)
	}
	if got := w.wechat.calls.Load(); got != calls {
		t.Fatalf("%d downloads after a restart with a cache", got-calls)
	}
	if st := p2.Status(); st.Source != "cache" || len(st.Keys) != 2 {
		t.Errorf("status %+v", st)
	}

	// Another merchant's key does not read this cache.
	cfg.CacheKey = "1900000002"
	p3 := w.store(t, cfg)
	if p3.Status().Source != "" {
		t.Error("cache shared across merchants")
	}
	// A corrupt cache is ignored.
	if err := os.WriteFile(file, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.CacheKey = "1900000001"
	p4 := w.store(t, cfg)
	if p4.Status().Source != "" {
		t.Error("corrupt cache used")
	}
}

func TestPlatformKeysAPIv3KeyMismatch(t *testing.T) {
	t.Parallel()
	w := newKeyWorld(t)
	wrong := []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZ012345")
	cfg := w.config()
	cfg.APIv3Key = wrong
	p := w.store(t, cfg)
	err := w.check(p, w.answer(t, w.key1, SerialNumber(w.cert1)))
	if !errors.Is(err, ErrDecrypt) || !errors.Is(err, core.ErrVerification) {
		t.Fatalf("%v", err)
	}
	if !strings.Contains(err.Error(), "APIv3 key does not match the one set in the merchant platform") {
		t.Errorf("message %q", err)
	}
	if strings.Contains(err.Error(), string(wrong)) || strings.Contains(err.Error(), string(testAPIv3Key)) {
		t.Error("the message contains an APIv3 key")
	}
	if _, _, err := p.Encryptor(context.Background()); !errors.Is(err, ErrDecrypt) {
		t.Errorf("Encryptor: %v", err)
	}
}

func TestPlatformKeysNoPlatformCertificate(t *testing.T) {
	t.Parallel()
	w := newKeyWorld(t)
	apiErr := &core.APIError{Operation: "ListCertificates", StatusCode: 404, Code: "RESOURCE_NOT_EXISTS", Message: "无可用的平台证书，请在商户平台-API安全申请使用微信支付公钥。"}
	w.wechat.err = fmt.Errorf("wxpay: ListCertificates: %w", apiErr)
	p := w.store(t, w.config())
	err := w.check(p, w.answer(t, w.key1, SerialNumber(w.cert1)))
	if !errors.Is(err, ErrNoPlatformCertificate) {
		t.Fatalf("%v", err)
	}
	var got *core.APIError
	if !errors.As(err, &got) || got != apiErr {
		t.Error("the *core.APIError is not wrapped")
	}
	for _, want := range []string{"no platform certificate", "public key", "PUB_KEY_ID"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message lacks %q: %s", want, err)
		}
	}
	// A 404 of another kind is not this advice.
	w.wechat.set(func(x *fakeWeChat) { x.err = &core.APIError{StatusCode: 404} })
	w.clock.Advance(time.Minute)
	if err := p.Refresh(context.Background()); errors.Is(err, ErrNoPlatformCertificate) {
		t.Errorf("404 without RESOURCE_NOT_EXISTS: %v", err)
	}
}

// TestPlatformKeysFailureBackoff: while no certificate is held, a failed
// download is reported to new callers for a moment instead of repeated.
func TestPlatformKeysFailureBackoff(t *testing.T) {
	t.Parallel()
	w := newKeyWorld(t)
	w.wechat.err = errors.New("boom")
	p := w.store(t, w.config())
	s := w.answer(t, w.key1, SerialNumber(w.cert1))
	for i := 0; i < 5; i++ {
		if err := w.check(p, s); err == nil {
			t.Fatal("accepted")
		}
	}
	if got := w.wechat.calls.Load(); got != 1 {
		t.Errorf("%d downloads", got)
	}
	w.clock.Advance(failureBackoff)
	w.wechat.set(func(x *fakeWeChat) { x.err = nil })
	if err := w.check(p, s); err != nil {
		t.Fatal(err)
	}
}

func TestPlatformKeysDownloadMustVerify(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		edit func(w *keyWorld)
		want error
	}{
		{"tampered body", func(w *keyWorld) { w.wechat.tamper = true }, ErrBadSignature},
		{"signed by a stranger", func(w *keyWorld) {
			w.wechat.signKey, w.wechat.signSerial = w.key2, SerialNumber(w.cert2)
		}, ErrUnknownKey},
		{"stale", func(w *keyWorld) { w.wechat.clock = newFakeClock(testClock.Add(-time.Hour)) }, ErrClockSkew},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newKeyWorld(t)
			tc.edit(w)
			p := w.store(t, w.config())
			err := p.Refresh(context.Background())
			if !errors.Is(err, tc.want) {
				t.Fatalf("%v, want %v", err, tc.want)
			}
			var ve *VerificationError
			if !errors.As(err, &ve) || ve.Operation != "ListCertificates" || ve.RequestID == "" {
				t.Errorf("VerificationError %+v", ve)
			}
			if len(p.Certificates()) != 0 {
				t.Error("certificates kept from an unverified download")
			}
		})
	}
}

func TestPlatformKeysSerialMismatch(t *testing.T) {
	t.Parallel()
	w := newKeyWorld(t)
	p := w.store(t, w.config())
	body := bytes.Replace(certificatesBody(t, testAPIv3Key, w.cert1), []byte(SerialNumber(w.cert1)), []byte(SerialNumber(w.cert2)), 1)
	_, err := p.parseDownload(context.Background(), signAnswer(t, w.key1, SerialNumber(w.cert1), testClock, "n", body), body)
	if err == nil || !strings.Contains(err.Error(), "has serial number") {
		t.Errorf("%v", err)
	}
}

func TestPlatformKeysPublicKeyMode(t *testing.T) {
	t.Parallel()
	w := newKeyWorld(t)
	p := w.store(t, PlatformKeysConfig{PublicKeyID: testPubKeyID, PublicKey: &w.pubKey.PublicKey})
	if p.Mode() != PublicKeyMode || p.AnnouncedSerial() != testPubKeyID {
		t.Errorf("mode %s announced %s", p.Mode(), p.AnnouncedSerial())
	}
	if err := w.check(p, w.answer(t, w.pubKey, testPubKeyID)); err != nil {
		t.Fatal(err)
	}
	err := w.check(p, w.answer(t, w.key1, SerialNumber(w.cert1)))
	if !errors.Is(err, ErrUnknownKey) || !strings.Contains(err.Error(), "APIv3 key as well") {
		t.Errorf("certificate serial in public-key mode: %v", err)
	}
	err = w.check(p, w.answer(t, w.pubKey, "PUB_KEY_ID_0000000000000000000000000000000002"))
	if !errors.Is(err, ErrUnknownKey) || !strings.Contains(err.Error(), testPubKeyID) {
		t.Errorf("other PUB_KEY_ID: %v", err)
	}
	serial, enc, err := p.Encryptor(context.Background())
	if err != nil || serial != testPubKeyID {
		t.Fatal(serial, err)
	}
	ct, err := enc("张三")
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := DecryptOAEP(w.pubKey, ct); err != nil || pt != "张三" {
		t.Errorf("decrypt: %q %v", pt, err)
	}
	if err := p.Refresh(context.Background()); err != nil {
		t.Error(err)
	}
	st := p.Status()
	if len(st.Keys) != 1 || !st.Keys[0].PublicKey || st.Downloads != 0 {
		t.Errorf("status %+v", st)
	}
	if w.wechat.calls.Load() != 0 {
		t.Error("downloaded in public-key mode")
	}
	if err := p.Close(); err != nil {
		t.Error(err)
	}
}

func TestPlatformKeysTransitionMode(t *testing.T) {
	t.Parallel()
	w := newKeyWorld(t)
	// During the switch WeChat Pay signs the certificate answer with the
	// public key when the request announced it.
	w.wechat.signKey, w.wechat.signSerial = w.pubKey, testPubKeyID
	cfg := w.config()
	cfg.PublicKeyID, cfg.PublicKey = testPubKeyID, &w.pubKey.PublicKey
	p := w.store(t, cfg)
	if p.Mode() != TransitionMode || p.AnnouncedSerial() != testPubKeyID {
		t.Fatalf("mode %s announced %s", p.Mode(), p.AnnouncedSerial())
	}
	if err := w.check(p, w.answer(t, w.pubKey, testPubKeyID)); err != nil {
		t.Fatal(err)
	}
	if w.wechat.calls.Load() != 0 {
		t.Fatal("an answer signed with the public key caused a download")
	}
	if serial, _, _ := p.Encryptor(context.Background()); serial != testPubKeyID {
		t.Errorf("encrypting with %s, want the public key", serial)
	}
	if err := w.check(p, w.answer(t, w.key1, SerialNumber(w.cert1))); err != nil {
		t.Fatal(err)
	}
	if w.wechat.calls.Load() != 1 {
		t.Errorf("%d downloads", w.wechat.calls.Load())
	}
	if st := p.Status(); len(st.Keys) != 2 || !st.Keys[0].PublicKey || !st.Keys[0].Encrypts || st.Keys[1].Encrypts {
		t.Errorf("status %+v", st)
	}
}

func TestPlatformKeysEncryptorSkipsNotYetValid(t *testing.T) {
	t.Parallel()
	w := newKeyWorld(t)
	future := makePlatformCert(t, w.key2, 9, testClock.Add(24*time.Hour), testClock.AddDate(5, 0, 0))
	w.wechat.certs = []*x509.Certificate{w.cert1, future}
	p := w.store(t, w.config())
	serial, enc, err := p.Encryptor(context.Background())
	if err != nil || serial != SerialNumber(w.cert1) {
		t.Fatalf("%s %v", serial, err)
	}
	ct, _ := enc("x")
	if pt, err := DecryptOAEP(w.key1, ct); err != nil || pt != "x" {
		t.Error("not encrypted with cert1")
	}
	w.clock.Advance(48 * time.Hour)
	w.wechat.set(func(*fakeWeChat) {})
	if err := p.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if serial, _, _ := p.Encryptor(context.Background()); serial != SerialNumber(future) {
		t.Errorf("encrypting with %s once the new certificate is valid", serial)
	}
}

func TestPlatformKeysBackgroundRefresh(t *testing.T) {
	t.Parallel()
	w := newKeyWorld(t)
	cfg := w.config()
	cfg.RefreshInterval = 5 * time.Millisecond
	p := w.store(t, cfg)
	w.wechat.set(func(x *fakeWeChat) { x.certs = append(x.certs, w.cert2) })
	for len(p.Certificates()) != 2 { // no deadline but the test's -timeout
		time.Sleep(5 * time.Millisecond)
	}
}

// TestPlatformKeysCloseStopsGoroutines: nothing started by the store
// outlives Close, not even a download in progress.
func TestPlatformKeysCloseStopsGoroutines(t *testing.T) {
	base := runtime.NumGoroutine()
	w := newKeyWorld(t)
	cfg := w.config()
	cfg.RefreshInterval = 2 * time.Millisecond
	p, err := NewPlatformKeys(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for w.wechat.calls.Load() < 3 {
		time.Sleep(time.Millisecond)
	}
	// A download blocked on the network when Close comes.
	w.wechat.set(func(x *fakeWeChat) { x.gate = make(chan struct{}) })
	go func() { _ = p.Refresh(context.Background()) }()
	time.Sleep(10 * time.Millisecond)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	calls := w.wechat.calls.Load()
	// Goroutines end asynchronously (the test's own Refresh caller): a
	// bounded number of polls, which a busy machine makes longer, not a
	// wall-clock deadline.
	for i := 0; runtime.NumGoroutine() > base; i++ {
		if i == 2000 {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines, %d before:\n%s", runtime.NumGoroutine(), base, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
	if w.wechat.calls.Load() != calls {
		t.Error("downloads after Close")
	}
	if err := p.Refresh(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("Refresh after Close: %v", err)
	}
	if err := p.Close(); err != nil {
		t.Error("second Close:", err)
	}
	// Keys held before Close still verify.
	if err := w.check(p, w.answer(t, w.key1, SerialNumber(w.cert1))); err != nil {
		t.Error(err)
	}
}

func TestPlatformKeysFetcherMustNotVerify(t *testing.T) {
	t.Parallel()
	w := newKeyWorld(t)
	var p *PlatformKeys
	cfg := w.config()
	cfg.FetchTimeout = time.Second
	cfg.Fetch = func(ctx context.Context) (http.Header, []byte, error) {
		err := p.Verify(ctx, "ABCDEF", []byte("x"), "AAAA")
		return nil, nil, err
	}
	p = w.store(t, cfg)
	err := p.Refresh(context.Background())
	if err == nil || !strings.Contains(err.Error(), "must not") {
		t.Errorf("%v", err)
	}
}

func TestPlatformKeysFetcherPanic(t *testing.T) {
	t.Parallel()
	w := newKeyWorld(t)
	cfg := w.config()
	cfg.Fetch = func(context.Context) (http.Header, []byte, error) { panic("oops") }
	p := w.store(t, cfg)
	if err := p.Refresh(context.Background()); err == nil || !strings.Contains(err.Error(), "panicked") {
		t.Errorf("%v", err)
	}
}

func TestPlatformKeysWaitHonoursContext(t *testing.T) {
	t.Parallel()
	w := newKeyWorld(t)
	w.wechat.gate = make(chan struct{})
	defer close(w.wechat.gate)
	p := w.store(t, w.config())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, _, err := p.Encryptor(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("%v", err)
	}
}

func TestNewPlatformKeysValidates(t *testing.T) {
	t.Parallel()
	w := newKeyWorld(t)
	pub := &w.pubKey.PublicKey
	for _, tc := range []struct {
		name string
		cfg  PlatformKeysConfig
		want string
	}{
		{"nothing", PlatformKeysConfig{}, "names no platform key"},
		{"key without fetch", PlatformKeysConfig{APIv3Key: testAPIv3Key}, "no Fetch"},
		{"fetch without key", PlatformKeysConfig{Fetch: w.wechat.fetch}, "APIv3 key is missing"},
		{"short key", PlatformKeysConfig{Fetch: w.wechat.fetch, APIv3Key: []byte("short")}, "exactly 32 bytes"},
		{"id without key", PlatformKeysConfig{PublicKeyID: testPubKeyID}, "pub_key.pem"},
		{"key without id", PlatformKeysConfig{PublicKey: pub}, "PUB_KEY_ID"},
		{"serial as id", PlatformKeysConfig{PublicKeyID: "5DEA10EF55877E3CF6C33255C2E7DEFFF7E427EC", PublicKey: pub}, "certificate serial number"},
	} {
		_, err := NewPlatformKeys(tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), string(testAPIv3Key)) {
			t.Errorf("%s: the APIv3 key is in the error", tc.name)
		}
	}
}

func TestKeyModeString(t *testing.T) {
	t.Parallel()
	for m, want := range map[KeyMode]string{CertificateMode: "certificate", PublicKeyMode: "public-key", TransitionMode: "transition", 0: "KeyMode(0)"} {
		if m.String() != want {
			t.Errorf("%d: %s", int(m), m)
		}
	}
}
