package sandbox

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/gowxpay/wxpay/auth"
)

// Server is an offline emulator of the WeChat Pay API v3 server. It serves
// every operation of its spec: the payment flows with state (orders,
// refunds, bills, certificates, notifications), everything else with
// schema-valid answers synthesized from the spec. It is safe for concurrent
// use. Serve it in-process through Handler, or on a port with Start or
// StartTest; Close stops every goroutine it started.
//
// A sandbox holds merchant private keys and APIv3 keys and hands them out
// through its control API: run it for local development and tests only.
type Server struct {
	opts     options
	spec     *Spec
	log      *slog.Logger
	keys     *keySource
	ring     *keyring
	sm       *smRing // nil unless WithSuite
	handlers map[string]opHandler
	control  http.Handler

	merchants map[string]*merchantState // by mchid (direct merchants and service providers)
	direct    []*merchantState
	partners  []*merchantState
	subOwner  map[string]*merchantState // sub_mchid → service provider

	faults faultSet

	mu      sync.Mutex // guards st and changed
	st      *state
	changed chan struct{}

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	lifeMu    sync.Mutex
	closed    bool
	httpSrv   *http.Server
	testSrv   *httptest.Server
	url       string
	closeOnce sync.Once
}

// New builds a sandbox. Without options it has one direct merchant, one
// service provider with one sub-merchant, a platform certificate and a
// platform public key, all generated, and serves the spec embedded in
// github.com/gowxpay/wxpay/api.
func New(opts ...Option) (*Server, error) {
	o := options{timeScale: 1, notifyTimeout: 5 * time.Second, refundDelay: 5 * time.Second, addr: "127.0.0.1:0", switchDelay: rotationSwitch}
	for _, opt := range opts {
		opt(&o)
	}
	if o.clock == nil {
		o.clock = time.Now
	}
	if o.timeScale < 0 {
		return nil, errors.New("sandbox: the time scale must not be negative")
	}
	if o.notifyClient == nil {
		o.notifyClient = &http.Client{}
	}
	if o.logger == nil {
		o.logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Server{
		opts:      o,
		log:       o.logger,
		keys:      &keySource{given: append([]*rsa.PrivateKey(nil), o.keys...)},
		merchants: map[string]*merchantState{},
		subOwner:  map[string]*merchantState{},
		st:        newState(),
		changed:   make(chan struct{}),
	}
	s.spec = o.spec
	if s.spec == nil {
		var err error
		if s.spec, err = DefaultSpec(); err != nil {
			return nil, err
		}
	}
	if err := s.keys.prepare(s.keysNeeded()); err != nil {
		return nil, err
	}
	if err := s.initKeys(); err != nil {
		return nil, err
	}
	if err := s.initMerchants(); err != nil {
		return nil, err
	}
	if o.suite != nil {
		if err := s.initSM(); err != nil {
			return nil, err
		}
	}
	for _, f := range o.faults {
		if _, err := s.Inject(f); err != nil {
			return nil, err
		}
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.registerHandlers()
	s.control = s.controlMux()
	return s, nil
}

func (s *Server) now() time.Time { return s.opts.clock() }

// scaled converts a sandbox delay to the real time to wait.
func (s *Server) scaled(d time.Duration) time.Duration {
	return time.Duration(float64(d) * s.opts.timeScale)
}

// keysNeeded counts the keys New generates: platform certificate, public
// key, and merchants given without a private key.
func (s *Server) keysNeeded() int {
	n := 0
	if s.opts.platformCert == nil {
		n++
	}
	if s.opts.pubKey == nil {
		n++
	}
	if len(s.opts.merchants) == 0 && len(s.opts.partners) == 0 {
		return n + 2
	}
	for _, m := range append(append([]Merchant(nil), s.opts.merchants...), s.opts.partners...) {
		if m.PrivateKey == nil {
			n++
		}
	}
	return n
}

func (s *Server) initKeys() error {
	now := s.now()
	s.ring = &keyring{mode: s.opts.mode}
	if s.opts.platformCert != nil {
		if s.opts.platformKey == nil {
			return errors.New("sandbox: WithPlatformCertificate needs the certificate's private key")
		}
		pub, ok := s.opts.platformCert.PublicKey.(*rsa.PublicKey)
		if !ok || !auth.SameKey(s.opts.platformKey, pub) {
			return errors.New("sandbox: the platform certificate does not hold the given key's public key")
		}
		s.ring.certs = []*platformCert{{cert: s.opts.platformCert, key: s.opts.platformKey, serial: auth.SerialNumber(s.opts.platformCert)}}
	} else {
		key, err := s.keys.next()
		if err != nil {
			return err
		}
		pc, err := newPlatformCert(key, now)
		if err != nil {
			return err
		}
		s.ring.certs = []*platformCert{pc}
	}
	s.ring.pubKeyID, s.ring.pubKey = s.opts.pubKeyID, s.opts.pubKey
	if s.ring.pubKey == nil {
		key, err := s.keys.next()
		if err != nil {
			return err
		}
		s.ring.pubKey = key
	}
	if s.ring.pubKeyID == "" {
		s.ring.pubKeyID = "PUB_KEY_ID_01" + randomString(digits, 28)
	}
	if !auth.IsPublicKeyID(s.ring.pubKeyID) {
		return fmt.Errorf("sandbox: the public key id %q does not start with PUB_KEY_ID_", s.ring.pubKeyID)
	}
	return nil
}

func (s *Server) initMerchants() error {
	now := s.now()
	directs, partners := s.opts.merchants, s.opts.partners
	if len(directs) == 0 && len(partners) == 0 {
		directs, partners = []Merchant{{}}, []Merchant{{}}
	}
	add := func(m *merchantState) error {
		if _, dup := s.merchants[m.MchID]; dup {
			return fmt.Errorf("sandbox: merchant %s given twice", m.MchID)
		}
		if _, dup := s.subOwner[m.MchID]; dup {
			return fmt.Errorf("sandbox: merchant %s is also a sub-merchant", m.MchID)
		}
		s.merchants[m.MchID] = m
		return nil
	}
	for i, d := range directs {
		m, err := completeMerchant(d, fmt.Sprintf("19%08d", 1001+i), s.keys, now)
		if err != nil {
			return err
		}
		if err := add(m); err != nil {
			return err
		}
		s.direct = append(s.direct, m)
	}
	for i, p := range partners {
		m, err := completeMerchant(p, fmt.Sprintf("19%08d", 2001+i), s.keys, now)
		if err != nil {
			return err
		}
		m.partner = true
		if len(m.SubMerchants) == 0 {
			m.SubMerchants = []SubMerchant{{}}
		}
		m.subs = map[string]SubMerchant{}
		for j, sub := range m.SubMerchants {
			if sub.MchID == "" {
				sub.MchID = fmt.Sprintf("19%08d", 3001+10*i+j)
			}
			if sub.AppID == "" {
				sub.AppID = newAppID()
			}
			m.SubMerchants[j] = sub
			if _, dup := s.subOwner[sub.MchID]; dup {
				return fmt.Errorf("sandbox: sub-merchant %s given twice", sub.MchID)
			}
			m.subs[sub.MchID] = sub
			s.subOwner[sub.MchID] = m
		}
		if err := add(m); err != nil {
			return err
		}
		s.partners = append(s.partners, m)
	}
	for id := range s.subOwner {
		if _, dup := s.merchants[id]; dup {
			return fmt.Errorf("sandbox: merchant %s is also a sub-merchant", id)
		}
	}
	return nil
}

// Spec returns the spec the server serves.
func (s *Server) Spec() *Spec { return s.spec }

// Handler returns the server as an http.Handler: WeChat Pay paths, the
// control API under /sandbox/, and the dashboard at /.
func (s *Server) Handler() http.Handler { return s }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == ControlPrefix[:len(ControlPrefix)-1] || strings.HasPrefix(r.URL.Path, ControlPrefix) {
		s.control.ServeHTTP(w, r)
		return
	}
	if r.URL.Path == "/" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		s.serveDashboard(w, r)
		return
	}
	s.serveAPI(w, r)
}

// Start listens on the address of WithAddr (a free loopback port by
// default) and serves in the background until Close. It returns the base
// URL, e.g. http://127.0.0.1:41234.
func (s *Server) Start() (string, error) {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	if s.closed {
		return "", errors.New("sandbox: server closed")
	}
	if s.url != "" {
		return "", errors.New("sandbox: server already started")
	}
	ln, err := net.Listen("tcp", s.opts.addr)
	if err != nil {
		return "", fmt.Errorf("sandbox: %w", err)
	}
	s.httpSrv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	s.url = "http://" + ln.Addr().String()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := s.httpSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("sandbox: serving", "err", err)
		}
	}()
	s.log.Info("sandbox listening", "url", s.url)
	return s.url, nil
}

// TB is the part of testing.TB that StartTest uses.
type TB interface {
	Helper()
	Cleanup(func())
	Fatalf(format string, args ...any)
}

// StartTest builds a sandbox, serves it on an httptest server and closes it
// when the test ends. It fails the test on error.
func StartTest(t TB, opts ...Option) *Server {
	t.Helper()
	s, err := New(opts...)
	if err != nil {
		t.Fatalf("sandbox: %v", err)
		return nil
	}
	ts := httptest.NewServer(s)
	s.lifeMu.Lock()
	s.testSrv, s.url = ts, ts.URL
	s.lifeMu.Unlock()
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// URL returns the base URL once the server listens (Start, StartTest), else
// "".
func (s *Server) URL() string {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	return s.url
}

// Close stops the listener, pending notification deliveries and timers, and
// waits for every goroutine the server started. It is safe to call twice.
func (s *Server) Close() error {
	var err error
	s.closeOnce.Do(func() {
		s.lifeMu.Lock()
		s.closed = true
		hs, ts := s.httpSrv, s.testSrv
		s.lifeMu.Unlock()
		s.cancel()
		if hs != nil {
			err = hs.Close()
		}
		if ts != nil {
			ts.CloseClientConnections()
			ts.Close()
		}
		s.wg.Wait()
	})
	return err
}

// spawn runs fn on a goroutine that Close waits for; it reports false (and
// does not run fn) once the server is closed.
func (s *Server) spawn(fn func()) bool {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		fn()
	}()
	return true
}

// Merchant returns the credentials of the first direct merchant.
func (s *Server) Merchant() Credentials {
	if len(s.direct) == 0 {
		return Credentials{}
	}
	return s.credentials(s.direct[0])
}

// Partner returns the credentials of the first service provider, with its
// first sub-merchant.
func (s *Server) Partner() Credentials {
	if len(s.partners) == 0 {
		return Credentials{}
	}
	return s.credentials(s.partners[0])
}

// Credentials returns the credentials of the merchant or service provider
// with the given mchid.
func (s *Server) Credentials(mchid string) (Credentials, bool) {
	m, ok := s.merchants[mchid]
	if !ok {
		return Credentials{}, false
	}
	return s.credentials(m), true
}

func (s *Server) credentials(m *merchantState) Credentials {
	c := Credentials{
		BaseURL:           s.URL(),
		PartnerMode:       m.partner,
		MchID:             m.MchID,
		AppID:             m.AppID,
		CertificateSerial: m.serial,
		PrivateKey:        m.PrivateKey,
		Certificate:       m.Certificate,
		APIv3Key:          append([]byte(nil), m.APIv3Key...),
		PublicKeyID:       s.ring.pubKeyID,
		PublicKey:         &s.ring.pubKey.PublicKey,
	}
	if m.partner && len(m.SubMerchants) > 0 {
		c.SubMchID, c.SubAppID = m.SubMerchants[0].MchID, m.SubMerchants[0].AppID
	}
	c.KeyMode = s.ring.getMode()
	if c.KeyMode != PublicKeyMode {
		c.PlatformCertificates = s.ring.certificates()
	}
	c.SM = s.smCredentials(m)
	return c
}

// PlatformCertificates returns the platform certificates, oldest first
// (expired ones included).
func (s *Server) PlatformCertificates() []*x509.Certificate { return s.ring.certificates() }

// PublicKey returns the platform public key and its id (PUB_KEY_ID_…).
func (s *Server) PublicKey() (string, *rsa.PublicKey) {
	return s.ring.pubKeyID, &s.ring.pubKey.PublicKey
}

// KeyMode returns how the server signs.
func (s *Server) KeyMode() KeyMode { return s.ring.getMode() }

// SetKeyMode switches the signing mode at run time: PublicKeyMode (the
// merchant uses the WeChat Pay public key), TransitionMode, or back to
// CertificateMode.
func (s *Server) SetKeyMode(m KeyMode) error { return s.ring.setMode(m) }

// RotateCertificate issues a new platform certificate, as WeChat Pay does
// ten days before the current one expires: /v3/certificates lists it at
// once, but it signs answers and notifications only from five days later
// on the server's clock (WithClock, WithCertificateSwitchDelay), or from
// SwitchCertificate on. A client that re-downloads the list in between, as
// clients do daily, never meets an unknown serial. The previous
// certificates stay listed until they expire, ten days from now (their
// expiry is shortened to that); ExpireCertificate drops one sooner. It
// returns the new serial number.
func (s *Server) RotateCertificate() (string, error) {
	key, err := s.keys.next()
	if err != nil {
		return "", err
	}
	serial, err := s.ring.rotate(key, s.now(), s.opts.switchDelay)
	if err == nil {
		s.log.Info("sandbox: platform certificate rotated", "serial", serial)
	}
	return serial, err
}

// ExpireCertificate makes the platform certificate with the given serial
// expire now: /v3/certificates stops listing it and, if it was signing, the
// newest unexpired certificate signs instead.
func (s *Server) ExpireCertificate(serial string) error {
	return s.ring.expire(serial, s.now().Add(-time.Second))
}
