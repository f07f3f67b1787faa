package auth

import (
	"bytes"
	"context"
	"crypto"
	"crypto/cipher"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gowxpay/wxpay/core"
)

// KeyMode is how a merchant's answers and notifications are signed.
type KeyMode int

const (
	// CertificateMode: platform certificates (平台证书), downloaded from
	// GET /v3/certificates and decrypted with the APIv3 key.
	CertificateMode KeyMode = iota + 1
	// PublicKeyMode: the WeChat Pay public key (微信支付公钥, PUB_KEY_ID_…),
	// downloaded once from the merchant platform; nothing is fetched. Every
	// merchant created since about October 2024 uses it.
	PublicKeyMode
	// TransitionMode: both, while a merchant moves from certificates to the
	// public key. Answers are verified with whichever key they name;
	// sensitive fields are encrypted with the public key.
	TransitionMode
)

// String returns "certificate", "public-key" or "transition".
func (m KeyMode) String() string {
	switch m {
	case CertificateMode:
		return "certificate"
	case PublicKeyMode:
		return "public-key"
	case TransitionMode:
		return "transition"
	}
	return fmt.Sprintf("KeyMode(%d)", int(m))
}

// CertificateFetcher performs the signed GET /v3/certificates request
// without verifying the answer (the store verifies it with the certificates
// it contains) and returns the header and body of a 2xx answer. A non-2xx
// answer must come back as a *core.APIError.
type CertificateFetcher func(ctx context.Context) (http.Header, []byte, error)

// Defaults of PlatformKeysConfig.
const (
	DefaultRefreshInterval = time.Hour
	DefaultMinRefreshGap   = time.Minute
	DefaultFetchTimeout    = 30 * time.Second
)

// failedRetry bounds the wait before the refresher tries again after a
// failed download; failureBackoff is how long a failed first download is
// reported to new callers before another one is tried.
const (
	failedRetry    = 5 * time.Minute
	failureBackoff = 2 * time.Second
)

// PlatformKeysConfig configures a PlatformKeys store. Set Fetch and APIv3Key
// for certificate mode, PublicKeyID and PublicKey for public-key mode, and
// all four for the transition between them.
type PlatformKeysConfig struct {
	// APIv3Key is the 32-byte APIv3 key (商户平台 → API安全 → APIv3密钥) that
	// decrypts the downloaded certificates. Certificate mode only.
	APIv3Key []byte
	// Fetch downloads the certificates. Certificate mode only.
	Fetch CertificateFetcher

	// PublicKeyID is the id of the WeChat Pay public key, PUB_KEY_ID_….
	PublicKeyID string
	// PublicKey is the WeChat Pay public key (pub_key.pem).
	PublicKey *rsa.PublicKey

	// Suite, when set, is the opt-in suite (国密: sm.Suite{}) the platform
	// keys belong to: certificates are downloaded with
	// algorithm_type=Suite.CertificateType() (the Fetch function asks for
	// it), decrypted with Suite.NewAEAD, and verify and encrypt with the
	// suite. Nil means RSA.
	Suite Suite
	// SuitePublicKey is the WeChat Pay public key of Suite (an SM2 key),
	// with PublicKeyID; PublicKey must then be nil.
	SuitePublicKey crypto.PublicKey

	// CacheDir, when set, keeps the downloaded certificates across restarts:
	// they are loaded from it at construction (no network) and written to it
	// after each successful download. It is created 0700, the file 0600.
	CacheDir string
	// CacheKey tells apart merchants that share CacheDir or Cache; use the
	// mchid.
	CacheKey string
	// Cache, when set instead of CacheDir, keeps the downloaded
	// certificates in a store shared by the instances of a service (Redis:
	// github.com/gowxpay/wxpay/contrib/redis), read at construction and
	// written after each successful download, like the cache file.
	Cache Cache

	// RefreshInterval is how often the certificates are downloaded again in
	// the background (±10% jitter); DefaultRefreshInterval when zero, never
	// when negative.
	RefreshInterval time.Duration
	// MinRefreshGap is how long a serial that a download did not find
	// waits before it may trigger another download; DefaultMinRefreshGap
	// when zero. A serial not seen before triggers one at once, at most one
	// a second (a new certificate may sign the very next answer).
	MinRefreshGap time.Duration
	// FetchTimeout bounds one download; DefaultFetchTimeout when zero.
	FetchTimeout time.Duration
	// MaxSkew is the clock difference accepted on the download's own
	// signature; DefaultMaxSkew when zero.
	MaxSkew time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Logger receives refreshes and their failures (never keys or
	// signatures); nil disables logging.
	Logger *slog.Logger
}

// ErrNoPlatformCertificate means that GET /v3/certificates answered 404
// RESOURCE_NOT_EXISTS: the merchant has no platform certificate.
var ErrNoPlatformCertificate = errors.New("auth: this merchant has no platform certificate (GET /v3/certificates answered 404 RESOURCE_NOT_EXISTS): it must use the WeChat Pay public key mode: download the public key pub_key.pem and note its id PUB_KEY_ID_… in the merchant platform (账户中心 → API安全 → 微信支付公钥), and configure them instead of certificate mode")

// ErrClosed is returned by a PlatformKeys store that would have to download
// after Close.
var ErrClosed = errors.New("auth: the platform key store is closed")

// PlatformKeys holds the keys that verify WeChat Pay's answers and
// notifications and encrypt sensitive request fields: the platform
// certificates, the WeChat Pay public key, or both (see KeyMode). It
// implements Verifier, core.Encrypter, core.Announcer and io.Closer, and is
// safe for concurrent use.
//
// In certificate mode, nothing is downloaded at construction: the first
// Verify or Encryptor that needs a certificate downloads them, concurrent
// callers sharing one download; a background refresher downloads them again
// every RefreshInterval, keeping the previous ones when that fails; and an
// answer that names an unknown certificate triggers one early download
// (at most one per MinRefreshGap). Close stops the refresher.
type PlatformKeys struct {
	mode      KeyMode
	apiv3     []byte
	fetch     CertificateFetcher
	pubID     string
	pub       crypto.PublicKey // *rsa.PublicKey, or a key of suite
	suite     Suite            // nil for RSA
	aead      cipher.AEAD      // suite.NewAEAD(apiv3)
	cacheFile string
	cache     Cache
	cacheKey  string
	interval  time.Duration
	minGap    time.Duration
	timeout   time.Duration
	maxSkew   time.Duration
	now       func() time.Time
	log       *slog.Logger

	// snap is the current certificate set, nil until one is loaded. It is
	// replaced, never modified, so readers take no lock.
	snap atomic.Pointer[certSet]

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // the refresher and running downloads

	mu                sync.Mutex // guards the fields below; never held during I/O
	cur               *flight
	closed            bool
	lastSerialRefresh time.Time
	missed            map[string]time.Time // serials a download did not find, and when
	lastEnd           time.Time
	lastErr           error
	fetches           int
}

// certSet is an immutable set of platform certificates.
type certSet struct {
	bySerial map[string]*platformCert
	newest   *platformCert
	loaded   time.Time
	source   string
}

type platformCert struct {
	serial string
	cert   *x509.Certificate
	pub    crypto.PublicKey // *rsa.PublicKey, or a key of the suite
}

// flight is one download; waiters block on done.
type flight struct {
	done chan struct{}
	err  error
}

// inFetchKey marks the context of a download, to catch a fetcher that
// verifies its own answer (it would wait for itself).
type inFetchKey struct{}

// NewPlatformKeys checks cfg and returns the store. It does no I/O but
// reading CacheDir; in certificate and transition mode it starts the
// background refresher, which Close stops.
func NewPlatformKeys(cfg PlatformKeysConfig) (*PlatformKeys, error) {
	certMode := cfg.Fetch != nil
	pubMode := cfg.PublicKeyID != "" || cfg.PublicKey != nil || cfg.SuitePublicKey != nil
	if !certMode && !pubMode {
		if len(cfg.APIv3Key) > 0 {
			return nil, errors.New("auth: PlatformKeysConfig has an APIv3 key but no Fetch function to download the platform certificates with, and no WeChat Pay public key (PublicKeyID, PublicKey)")
		}
		return nil, errors.New("auth: PlatformKeysConfig names no platform key: configure the WeChat Pay public key (PublicKeyID PUB_KEY_ID_… and PublicKey from pub_key.pem), or the APIv3 key and Fetch to download platform certificates, or both")
	}
	p := &PlatformKeys{
		interval: cfg.RefreshInterval,
		minGap:   cfg.MinRefreshGap,
		timeout:  cfg.FetchTimeout,
		maxSkew:  cfg.MaxSkew,
		now:      cfg.Now,
		log:      cfg.Logger,
		suite:    cfg.Suite,
	}
	if pubMode && p.suite != nil {
		if err := CheckPublicKeyID(cfg.PublicKeyID); err != nil {
			return nil, err
		}
		if cfg.PublicKey != nil {
			return nil, fmt.Errorf("auth: the WeChat Pay public key is an RSA key, but the suite is %s: configure the %s public key (SuitePublicKey)", p.suite.Name(), p.suite.Name())
		}
		if cfg.SuitePublicKey == nil {
			return nil, fmt.Errorf("auth: the %s WeChat Pay public key of %s is missing", p.suite.Name(), cfg.PublicKeyID)
		}
		p.pubID, p.pub = cfg.PublicKeyID, cfg.SuitePublicKey
		p.mode = PublicKeyMode
	} else if pubMode {
		if err := CheckPublicKeyID(cfg.PublicKeyID); err != nil {
			return nil, err
		}
		if cfg.SuitePublicKey != nil {
			return nil, errors.New("auth: PlatformKeysConfig.SuitePublicKey is set without a Suite")
		}
		if cfg.PublicKey == nil {
			return nil, fmt.Errorf("auth: the WeChat Pay public key (pub_key.pem) of %s is missing", cfg.PublicKeyID)
		}
		if cfg.PublicKey.N == nil || cfg.PublicKey.N.BitLen() < 2048 {
			return nil, errors.New("auth: the WeChat Pay public key is not a 2048-bit RSA key; use pub_key.pem from the merchant platform")
		}
		p.pubID, p.pub = cfg.PublicKeyID, cfg.PublicKey
		p.mode = PublicKeyMode
	}
	if certMode {
		if len(cfg.APIv3Key) == 0 {
			return nil, errors.New("auth: the APIv3 key is missing: certificate mode needs it to decrypt the platform certificates (商户平台 → API安全 → APIv3密钥); a merchant without platform certificates uses the WeChat Pay public key instead")
		}
		if err := CheckAPIv3Key(cfg.APIv3Key); err != nil {
			return nil, err
		}
		p.apiv3 = append([]byte(nil), cfg.APIv3Key...)
		p.fetch = cfg.Fetch
		if p.suite != nil {
			aead, err := p.suite.NewAEAD(p.apiv3)
			if err != nil {
				return nil, err
			}
			p.aead = aead
		}
		if pubMode {
			p.mode = TransitionMode
		} else {
			p.mode = CertificateMode
		}
	}
	if p.interval == 0 {
		p.interval = DefaultRefreshInterval
	}
	if p.minGap <= 0 {
		p.minGap = DefaultMinRefreshGap
	}
	if p.timeout <= 0 {
		p.timeout = DefaultFetchTimeout
	}
	if p.maxSkew <= 0 {
		p.maxSkew = DefaultMaxSkew
	}
	if p.now == nil {
		p.now = time.Now
	}
	ctx, cancel := context.WithCancel(context.Background())
	p.ctx, p.cancel = context.WithValue(ctx, inFetchKey{}, p), cancel
	if p.fetch == nil {
		return p, nil
	}
	if cfg.CacheDir != "" && cfg.Cache != nil {
		return nil, errors.New("auth: PlatformKeysConfig sets both CacheDir and Cache; choose one")
	}
	if cfg.CacheDir != "" || cfg.Cache != nil {
		name := "wxpay-platform-certificates"
		if p.suite != nil {
			name += "-" + sanitizeFileName(p.suite.Name())
		}
		if k := sanitizeFileName(cfg.CacheKey); k != "" {
			name += "-" + k
		}
		if cfg.Cache != nil {
			p.cache, p.cacheKey = cfg.Cache, name
		} else {
			p.cacheFile = filepath.Join(cfg.CacheDir, name+".pem")
		}
		p.loadCache()
	}
	if p.interval > 0 {
		p.wg.Add(1)
		go p.refresher()
	}
	return p, nil
}

func sanitizeFileName(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '-' || c == '_' {
			b = append(b, c)
		}
	}
	return string(b)
}

// Mode returns the store's mode.
func (p *PlatformKeys) Mode() KeyMode { return p.mode }

// Close stops the background refresher and any running download and waits
// for them. Verification with the keys already held keeps working; nothing
// is downloaded any more. Close is idempotent.
func (p *PlatformKeys) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.mu.Unlock()
	p.cancel()
	p.wg.Wait()
	return nil
}

// Verify checks a Base64 signature over message with the key serial names:
// the WeChat Pay public key when serial is its PUB_KEY_ID, otherwise the
// platform certificate with that serial, downloading the certificates
// first when none are held, and once more when serial is unknown. It
// implements Verifier.
func (p *PlatformKeys) Verify(ctx context.Context, serial string, message []byte, signature string) error {
	if ctx == nil {
		return errNilContext
	}
	pub, err := p.keyFor(ctx, serial)
	if err != nil {
		return err
	}
	return p.verifyWith(pub, message, signature)
}

// verifyWith checks a Base64 signature with a key the store holds.
func (p *PlatformKeys) verifyWith(pub crypto.PublicKey, message []byte, signature string) error {
	if p.suite != nil {
		return VerifySuiteBase64(p.suite, pub, message, signature)
	}
	return VerifyBase64(pub.(*rsa.PublicKey), message, signature)
}

// encryptWith encrypts a sensitive field with a key the store holds.
func (p *PlatformKeys) encryptWith(pub crypto.PublicKey, plaintext string) (string, error) {
	if p.suite == nil {
		return EncryptOAEP(pub.(*rsa.PublicKey), plaintext)
	}
	ct, err := p.suite.Encrypt(pub, []byte(plaintext))
	if err != nil {
		return "", fmt.Errorf("auth: encrypting a sensitive field: %w", err)
	}
	return base64.StdEncoding.EncodeToString(ct), nil
}

// Suite returns the suite the store's keys belong to; nil for RSA.
func (p *PlatformKeys) Suite() Suite { return p.suite }

func (p *PlatformKeys) keyFor(ctx context.Context, serial string) (crypto.PublicKey, error) {
	if IsPublicKeyID(serial) {
		switch {
		case p.pub != nil && serial == p.pubID:
			return p.pub, nil
		case p.pub != nil:
			return nil, fmt.Errorf("%w: signed by the WeChat Pay public key %s, but the configured public key is %s: check PublicKeyID and pub_key.pem against the merchant platform (账户中心 → API安全 → 微信支付公钥)", ErrUnknownKey, serial, p.pubID)
		case p.mode == CertificateMode:
			// A public key may well be in the configuration: certificate
			// mode does not use it, so do not call it missing.
			return nil, fmt.Errorf("%w: signed by the WeChat Pay public key %s, but this client is in certificate mode, which verifies with platform certificates only (a public key in the configuration is not used in this mode): this merchant has moved to the WeChat Pay public key, so use public-key mode (or transition mode) with PUB_KEY_ID %s and its pub_key.pem", ErrUnknownKey, serial, serial)
		default:
			return nil, fmt.Errorf("%w: signed by the WeChat Pay public key %s, which is not configured: this merchant uses (or is moving to) the WeChat Pay public key, so configure its PUB_KEY_ID and key (pub_key.pem)", ErrUnknownKey, serial)
		}
	}
	if p.fetch == nil {
		return nil, fmt.Errorf("%w: signed by platform certificate %s, but only the WeChat Pay public key %s is configured: this merchant still signs with platform certificates, so configure the APIv3 key as well (transition mode)", ErrUnknownKey, serial, p.pubID)
	}
	key := upperSerial(serial)
	set, err := p.certs(ctx)
	if err != nil {
		return nil, fmt.Errorf("no platform certificate to verify the signature with: %w", err)
	}
	if c := set.bySerial[key]; c != nil {
		return c.pub, nil
	}
	if err := p.refreshFor(ctx, key); err != nil {
		return nil, fmt.Errorf("%w: signed by key %s, which is not among the downloaded platform certificates, and downloading them again failed: %w", ErrUnknownKey, serial, err)
	}
	if set := p.snap.Load(); set != nil {
		if c := set.bySerial[key]; c != nil {
			return c.pub, nil
		}
	}
	return nil, fmt.Errorf("%w: signed by key %s, which is neither a downloaded platform certificate nor the configured public key; if this merchant uses the WeChat Pay public key, configure its PUB_KEY_ID and key", ErrUnknownKey, serial)
}

func upperSerial(s string) string {
	for i := 0; i < len(s); i++ {
		if 'a' <= s[i] && s[i] <= 'z' {
			return strings.ToUpper(s)
		}
	}
	return s
}

// Encryptor returns the key to encrypt sensitive fields with: the WeChat Pay
// public key when one is configured, otherwise the newest platform
// certificate (downloading them first when needed). It implements
// core.Encrypter; serial goes into the Wechatpay-Serial request header.
func (p *PlatformKeys) Encryptor(ctx context.Context) (serial string, encrypt func(string) (string, error), err error) {
	if ctx == nil {
		return "", nil, errNilContext
	}
	if p.pub != nil {
		pub := p.pub
		return p.pubID, func(s string) (string, error) { return p.encryptWith(pub, s) }, nil
	}
	set, err := p.certs(ctx)
	if err != nil {
		return "", nil, fmt.Errorf("auth: no platform certificate to encrypt with: %w", err)
	}
	c := set.newest
	return c.serial, func(s string) (string, error) { return p.encryptWith(c.pub, s) }, nil
}

// AnnouncedSerial returns the key the client wants answers signed with, for
// the Wechatpay-Serial header of every request: the PUB_KEY_ID when a
// public key is configured (so that, during the transition, WeChat Pay signs
// answers with it), else the newest certificate held, else "". It never does
// I/O. It implements core.Announcer.
func (p *PlatformKeys) AnnouncedSerial() string {
	if p.pub != nil {
		return p.pubID
	}
	if set := p.snap.Load(); set != nil {
		return set.newest.serial
	}
	return ""
}

// certs returns the current certificates, downloading them when none are
// held yet.
func (p *PlatformKeys) certs(ctx context.Context) (*certSet, error) {
	if set := p.snap.Load(); set != nil {
		return set, nil
	}
	if p.fetch == nil {
		return nil, errors.New("auth: no platform certificates in public-key mode")
	}
	if ctx.Value(inFetchKey{}) == p {
		return nil, errors.New("auth: the certificate fetcher verifies its own answer; it must not (the store verifies the download itself)")
	}
	p.mu.Lock()
	if set := p.snap.Load(); set != nil {
		p.mu.Unlock()
		return set, nil
	}
	f := p.cur
	if f == nil {
		if p.closed {
			p.mu.Unlock()
			return nil, ErrClosed
		}
		if p.lastErr != nil && p.now().Sub(p.lastEnd) < failureBackoff {
			err := p.lastErr
			p.mu.Unlock()
			return nil, err
		}
		f = p.startLocked("first use")
	}
	p.mu.Unlock()
	if err := p.wait(ctx, f); err != nil {
		return nil, err
	}
	if set := p.snap.Load(); set != nil {
		return set, nil
	}
	return nil, errors.New("auth: the platform certificate download left no certificate")
}

// serialBurstGap is the least time between two downloads triggered by
// different unknown serials: it bounds what a flood of made-up serials costs.
const serialBurstGap = time.Second

// maxMissed bounds the memory of serials that downloads did not find.
const maxMissed = 1024

// refreshFor downloads the certificates again because an answer names the
// unknown serial, unless another download is running (it joins it), the
// serial was already looked for less than minGap ago, or another unknown
// serial triggered a download less than serialBurstGap ago.
func (p *PlatformKeys) refreshFor(ctx context.Context, serial string) error {
	p.mu.Lock()
	if set := p.snap.Load(); set != nil && set.bySerial[serial] != nil {
		p.mu.Unlock()
		return nil
	}
	f := p.cur
	if f == nil {
		now := p.now()
		missedAt, missed := p.missed[serial]
		if p.closed ||
			missed && now.Sub(missedAt) < p.minGap ||
			!p.lastSerialRefresh.IsZero() && now.Sub(p.lastSerialRefresh) < serialBurstGap {
			p.mu.Unlock()
			return nil
		}
		p.lastSerialRefresh = now
		f = p.startLocked("unknown serial " + serial)
	}
	p.mu.Unlock()
	err := p.wait(ctx, f)
	if set := p.snap.Load(); set == nil || set.bySerial[serial] == nil {
		p.mu.Lock()
		if p.missed == nil || len(p.missed) >= maxMissed {
			p.missed = map[string]time.Time{}
		}
		p.missed[serial] = p.now()
		p.mu.Unlock()
	}
	return err
}

// Refresh downloads the certificates now (or waits for the download under
// way) and reports its outcome; on failure the previous certificates stay
// in use. In public-key mode it does nothing.
func (p *PlatformKeys) Refresh(ctx context.Context) error {
	if ctx == nil {
		return errNilContext
	}
	if p.fetch == nil {
		return nil
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return ErrClosed
	}
	f := p.cur
	if f == nil {
		f = p.startLocked("forced")
	}
	p.mu.Unlock()
	return p.wait(ctx, f)
}

func (p *PlatformKeys) wait(ctx context.Context, f *flight) error {
	select {
	case <-f.done:
		return f.err
	case <-ctx.Done():
		return fmt.Errorf("auth: waiting for the platform certificate download: %w", ctx.Err())
	}
}

// startLocked starts a download; p.mu is held and p is not closed.
func (p *PlatformKeys) startLocked(trigger string) *flight {
	f := &flight{done: make(chan struct{})}
	p.cur = f
	p.wg.Add(1)
	go p.run(f, trigger)
	return f
}

func (p *PlatformKeys) run(f *flight, trigger string) {
	defer p.wg.Done()
	old := p.snap.Load()
	set, err := p.downloadSafe()
	if err == nil {
		p.snap.Store(set)
		p.writeCache(set)
	}
	p.logDownload(trigger, old, set, err)
	p.mu.Lock()
	p.cur = nil
	p.fetches++
	p.lastEnd = p.now()
	p.lastErr = err
	p.mu.Unlock()
	f.err = err
	close(f.done)
}

// logDownload reports the outcome of a download: failures as warnings, a
// changed set of certificates as information, a routine refresh at debug
// level. Errors never hold key material.
func (p *PlatformKeys) logDownload(trigger string, old, set *certSet, err error) {
	if p.log == nil {
		return
	}
	if err != nil {
		msg := "wxpay: downloading the platform certificates failed"
		if old != nil {
			msg = "wxpay: refreshing the platform certificates failed; keeping the current ones"
		}
		p.log.LogAttrs(context.Background(), slog.LevelWarn, msg, slog.String("trigger", trigger), slog.String("error", err.Error()))
		return
	}
	level := slog.LevelDebug
	if old == nil || !slices.Equal(old.serials(), set.serials()) {
		level = slog.LevelInfo
	}
	p.log.LogAttrs(context.Background(), level, "wxpay: platform certificates downloaded",
		slog.String("trigger", trigger), slog.Any("serials", set.serials()), slog.String("encrypting_with", set.newest.serial))
}

// downloadSafe runs the download, turning a panic of the fetcher into an
// error so that no waiter hangs.
func (p *PlatformKeys) downloadSafe() (set *certSet, err error) {
	defer func() {
		if r := recover(); r != nil {
			set, err = nil, fmt.Errorf("auth: the certificate fetcher panicked: %v", r)
		}
	}()
	ctx, cancel := context.WithTimeout(p.ctx, p.timeout)
	defer cancel()
	return p.download(ctx)
}

func (p *PlatformKeys) download(ctx context.Context) (*certSet, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	h, body, err := p.fetch(ctx)
	if err != nil {
		var apiErr *core.APIError
		if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusNotFound && (core.IsCode(err, "RESOURCE_NOT_EXISTS") || core.IsCode(err, "NOT_FOUND")) {
			return nil, fmt.Errorf("%w: %w", ErrNoPlatformCertificate, err)
		}
		return nil, fmt.Errorf("auth: downloading the platform certificates: %w", err)
	}
	return p.parseDownload(ctx, h, body)
}

// certificatesAnswer is the body of GET /v3/certificates.
type certificatesAnswer struct {
	Data []struct {
		SerialNo           string `json:"serial_no"`
		EffectiveTime      string `json:"effective_time"`
		ExpireTime         string `json:"expire_time"`
		EncryptCertificate struct {
			Algorithm      string `json:"algorithm"`
			Nonce          string `json:"nonce"`
			AssociatedData string `json:"associated_data"`
			Ciphertext     string `json:"ciphertext"`
		} `json:"encrypt_certificate"`
	} `json:"data"`
}

// parseDownload decrypts the certificates of an answer to GET
// /v3/certificates, verifies the answer's signature with them, and drops
// the expired ones.
func (p *PlatformKeys) parseDownload(ctx context.Context, h http.Header, body []byte) (*certSet, error) {
	var ans certificatesAnswer
	if err := json.Unmarshal(body, &ans); err != nil {
		return nil, fmt.Errorf("auth: the platform certificate answer is not the expected JSON: %w", err)
	}
	certs := make(map[string]*platformCert, len(ans.Data))
	alg := AlgorithmAESGCM
	if p.suite != nil {
		alg = p.suite.AEADAlgorithm()
	}
	for _, d := range ans.Data {
		ec := d.EncryptCertificate
		if ec.Algorithm != alg {
			continue // certificates of the other suite
		}
		serial := upperSerial(d.SerialNo)
		var plain []byte
		var err error
		if p.suite != nil {
			plain, err = OpenAEAD(p.aead, ec.Nonce, ec.AssociatedData, ec.Ciphertext)
		} else {
			plain, err = DecryptAESGCM(p.apiv3, ec.Nonce, ec.AssociatedData, ec.Ciphertext)
		}
		if err != nil {
			return nil, fmt.Errorf("auth: decrypting platform certificate %s: %w", serial, err)
		}
		var cert *x509.Certificate
		if p.suite != nil {
			cert, err = ParseSuiteCertificate(p.suite, plain)
		} else {
			cert, err = ParseCertificate(plain)
		}
		if err != nil {
			return nil, fmt.Errorf("auth: platform certificate %s: %w", serial, err)
		}
		if got := SerialNumber(cert); got != serial {
			return nil, fmt.Errorf("auth: the platform certificate listed as %s has serial number %s", serial, got)
		}
		certs[serial] = &platformCert{serial: serial, cert: cert, pub: cert.PublicKey}
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("auth: the platform certificate answer holds no %s certificate", alg)
	}
	old := p.snap.Load()
	v := VerifierFunc(func(_ context.Context, serial string, msg []byte, sig string) error {
		serial = upperSerial(serial)
		if c := certs[serial]; c != nil {
			return p.verifyWith(c.pub, msg, sig)
		}
		if p.pub != nil && serial == p.pubID {
			return p.verifyWith(p.pub, msg, sig)
		}
		if old != nil {
			if c := old.bySerial[serial]; c != nil {
				return p.verifyWith(c.pub, msg, sig)
			}
		}
		if IsPublicKeyID(serial) {
			return fmt.Errorf("%w: the certificate answer is signed by the WeChat Pay public key %s, which is not configured: this merchant is moving to the public key, so configure its PUB_KEY_ID and key (pub_key.pem) as well", ErrUnknownKey, serial)
		}
		return fmt.Errorf("%w: the certificate answer is signed by key %s, which is neither one of the certificates it holds nor the configured public key", ErrUnknownKey, serial)
	})
	now := p.now()
	if err := CheckSigned(ctx, v, SignedFromHeader(h, body), now, p.maxSkew); err != nil {
		var ve *VerificationError
		if errors.As(err, &ve) {
			ve.Operation = "ListCertificates"
			ve.RequestID = h.Get(HeaderRequestID)
		}
		return nil, fmt.Errorf("auth: the platform certificate answer: %w", err)
	}
	var newestExpired time.Time
	for s, c := range certs {
		if !now.Before(c.cert.NotAfter) {
			if c.cert.NotAfter.After(newestExpired) {
				newestExpired = c.cert.NotAfter
			}
			delete(certs, s)
		}
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("auth: every downloaded platform certificate has expired (the last on %s): check this machine's clock", newestExpired.Format(time.RFC3339))
	}
	return newCertSet(certs, now, "download"), nil
}

func newCertSet(certs map[string]*platformCert, now time.Time, source string) *certSet {
	s := &certSet{bySerial: certs, loaded: now, source: source}
	var newestValid, newestAny *platformCert
	for _, c := range certs {
		if newestAny == nil || later(c, newestAny) {
			newestAny = c
		}
		if !c.cert.NotBefore.After(now) && (newestValid == nil || later(c, newestValid)) {
			newestValid = c
		}
	}
	s.newest = newestValid
	if s.newest == nil {
		s.newest = newestAny
	}
	return s
}

// later orders certificates by NotBefore, then serial, so that the choice
// of the newest is deterministic.
func later(a, b *platformCert) bool {
	if !a.cert.NotBefore.Equal(b.cert.NotBefore) {
		return a.cert.NotBefore.After(b.cert.NotBefore)
	}
	return a.serial > b.serial
}

func (s *certSet) serials() []string {
	out := make([]string, 0, len(s.bySerial))
	for k := range s.bySerial {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// refresher downloads the certificates every interval until Close.
func (p *PlatformKeys) refresher() {
	defer p.wg.Done()
	t := time.NewTimer(jitter(p.interval))
	defer t.Stop()
	for {
		select {
		case <-p.ctx.Done():
			return
		case <-t.C:
		}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return
		}
		f := p.cur
		if f == nil {
			f = p.startLocked("scheduled")
		}
		p.mu.Unlock()
		var err error
		select {
		case <-p.ctx.Done():
			return
		case <-f.done:
			err = f.err
		}
		next := p.interval
		if err != nil {
			next = min(next, failedRetry)
		}
		t.Reset(jitter(next))
	}
}

// jitter returns d ± 10%.
func jitter(d time.Duration) time.Duration {
	if d < 10 {
		return d
	}
	return d - d/10 + rand.N(d/5+1)
}

// loadCache reads the cached certificates, if any, as the initial set.
func (p *PlatformKeys) loadCache() {
	b, err := p.readCache()
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			p.warn("wxpay: reading the platform certificate cache failed", err)
		}
		return
	}
	now := p.now()
	certs := make(map[string]*platformCert)
	for rest := b; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		var c *x509.Certificate
		var err error
		if p.suite != nil {
			c, err = p.suite.ParseCertificate(block.Bytes)
		} else {
			c, err = x509.ParseCertificate(block.Bytes)
		}
		if err != nil {
			p.warn("wxpay: ignoring an unreadable certificate in the platform certificate cache", err)
			continue
		}
		var pub crypto.PublicKey = c.PublicKey
		if _, isRSA := pub.(*rsa.PublicKey); (p.suite == nil) != isRSA || !now.Before(c.NotAfter) {
			continue
		}
		s := SerialNumber(c)
		certs[s] = &platformCert{serial: s, cert: c, pub: pub}
	}
	if len(certs) > 0 {
		p.snap.Store(newCertSet(certs, now, "cache"))
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

// writeCache saves set to the cache: to the file atomically (write, sync,
// rename), or to the Cache.
func (p *PlatformKeys) writeCache(set *certSet) {
	if p.cacheFile == "" && p.cache == nil {
		return
	}
	var buf bytes.Buffer
	for _, s := range set.serials() {
		_ = pem.Encode(&buf, &pem.Block{Type: "CERTIFICATE", Bytes: set.bySerial[s].cert.Raw})
	}
	if p.cache != nil {
		ctx, cancel := context.WithTimeout(p.ctx, p.timeout)
		defer cancel()
		if err := p.cache.Put(ctx, p.cacheKey, buf.Bytes()); err != nil {
			p.warn("wxpay: writing the platform certificate cache failed", err)
		}
		return
	}
	dir := filepath.Dir(p.cacheFile)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		p.warn("wxpay: creating the platform certificate cache directory failed", err)
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
		_, err = f.Write(buf.Bytes())
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

func (p *PlatformKeys) warn(msg string, err error) {
	if p.log != nil {
		p.log.LogAttrs(context.Background(), slog.LevelWarn, msg, slog.String("error", err.Error()))
	}
}

// KeyInfo describes one platform key.
type KeyInfo struct {
	// Serial is the certificate serial number or the PUB_KEY_ID_….
	Serial string
	// PublicKey is true for the WeChat Pay public key.
	PublicKey bool
	// NotBefore and NotAfter bound a certificate's validity; zero for the
	// public key.
	NotBefore, NotAfter time.Time
	// Encrypts is true for the key sensitive fields are encrypted with.
	Encrypts bool
}

// KeyStatus is what a diagnostics command shows about the store.
type KeyStatus struct {
	// Mode is the store's mode.
	Mode KeyMode
	// Keys are the keys held, the public key first, then the certificates
	// by serial.
	Keys []KeyInfo
	// Source is where the certificates came from: "download", "cache", or
	// "" when none are held yet.
	Source string
	// Loaded is when the certificates held were loaded.
	Loaded time.Time
	// Downloads counts the downloads attempted.
	Downloads int
	// LastDownload is when the last download ended.
	LastDownload time.Time
	// LastError is the error of the last download, nil when it succeeded.
	LastError error
}

// Status reports the keys held and the last download. It does no I/O.
func (p *PlatformKeys) Status() KeyStatus {
	st := KeyStatus{Mode: p.mode}
	if p.pub != nil {
		st.Keys = append(st.Keys, KeyInfo{Serial: p.pubID, PublicKey: true, Encrypts: true})
	}
	if set := p.snap.Load(); set != nil {
		st.Source, st.Loaded = set.source, set.loaded
		for _, s := range set.serials() {
			c := set.bySerial[s]
			st.Keys = append(st.Keys, KeyInfo{Serial: s, NotBefore: c.cert.NotBefore, NotAfter: c.cert.NotAfter, Encrypts: p.pub == nil && c == set.newest})
		}
	}
	p.mu.Lock()
	st.Downloads, st.LastDownload, st.LastError = p.fetches, p.lastEnd, p.lastErr
	p.mu.Unlock()
	return st
}

// Certificates returns the platform certificates held, by serial, without
// downloading; the CLI saves them as PEM.
func (p *PlatformKeys) Certificates() []*x509.Certificate {
	set := p.snap.Load()
	if set == nil {
		return nil
	}
	out := make([]*x509.Certificate, 0, len(set.bySerial))
	for _, s := range set.serials() {
		out = append(out, set.bySerial[s].cert)
	}
	return out
}
