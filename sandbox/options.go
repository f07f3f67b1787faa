package sandbox

import (
	"crypto/rsa"
	"crypto/x509"
	"log/slog"
	"net/http"
	"time"
)

// Option configures a Server.
type Option func(*options)

type options struct {
	spec          *Spec
	clock         func() time.Time
	timeScale     float64
	notifyClient  *http.Client
	notifyTimeout time.Duration
	logger        *slog.Logger
	keys          []*rsa.PrivateKey
	merchants     []Merchant
	partners      []Merchant
	mode          KeyMode
	platformCert  *x509.Certificate
	platformKey   *rsa.PrivateKey
	pubKeyID      string
	pubKey        *rsa.PrivateKey
	refundDelay   time.Duration
	addr          string
	faults        []Fault
	switchDelay   time.Duration
	suite         Suite
}

// WithSpec serves the given spec instead of the embedded one. Loading a
// large spec takes a while: tests that start many servers load it once with
// LoadSpec or DefaultSpec and pass it to each.
func WithSpec(s *Spec) Option { return func(o *options) { o.spec = s } }

// WithClock sets the server's clock (time.Now by default). It drives the
// request timestamp check, the times in answers, bills and notifications,
// certificate validity and bill token expiry; timers (notification retries,
// refund settlement) run on real time scaled by WithTimeScale.
func WithClock(now func() time.Time) Option { return func(o *options) { o.clock = now } }

// WithTimeScale multiplies every delay the sandbox waits for on its own: the
// notification retry schedule (15s, 15s, 30s, 3m, … 6h) and the refund
// settlement delay. 0.001 turns seconds into milliseconds for tests.
func WithTimeScale(scale float64) Option { return func(o *options) { o.timeScale = scale } }

// WithNotifyClient sets the HTTP client that delivers notifications.
func WithNotifyClient(c *http.Client) Option { return func(o *options) { o.notifyClient = c } }

// WithNotifyTimeout bounds one notification attempt (5 s, as WeChat Pay
// waits). It is not scaled.
func WithNotifyTimeout(d time.Duration) Option { return func(o *options) { o.notifyTimeout = d } }

// WithLogger sets the logger (silent by default). Secrets never reach it.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithKeys hands the server RSA-2048 private keys to use, in order, for the
// identities it generates (platform certificate, platform public key,
// merchants, rotations) before it generates keys of its own. Generating a
// key takes tens of milliseconds; tests that start many servers generate a
// handful once and pass them here.
func WithKeys(keys ...*rsa.PrivateKey) Option {
	return func(o *options) { o.keys = append(o.keys, keys...) }
}

// WithMerchant adds a direct merchant (直连商户). Without WithMerchant and
// WithPartner the server has one generated direct merchant and one
// generated service provider with one sub-merchant.
func WithMerchant(m Merchant) Option {
	return func(o *options) { o.merchants = append(o.merchants, m) }
}

// WithPartner adds a service provider (服务商) and its sub-merchants.
func WithPartner(m Merchant) Option { return func(o *options) { o.partners = append(o.partners, m) } }

// WithKeyMode sets how answers are signed (CertificateMode by default).
func WithKeyMode(m KeyMode) Option { return func(o *options) { o.mode = m } }

// WithPlatformCertificate uses the given platform certificate and its key
// instead of generating them.
func WithPlatformCertificate(cert *x509.Certificate, key *rsa.PrivateKey) Option {
	return func(o *options) { o.platformCert, o.platformKey = cert, key }
}

// WithPublicKey uses the given platform public key id (PUB_KEY_ID_…) and
// private key instead of generating them.
func WithPublicKey(id string, key *rsa.PrivateKey) Option {
	return func(o *options) { o.pubKeyID, o.pubKey = id, key }
}

// WithRefundDelay sets how long a refund stays PROCESSING before it reaches
// its outcome (5 s by default, scaled by WithTimeScale). A negative delay
// keeps refunds PROCESSING until SetRefundOutcome settles them.
func WithRefundDelay(d time.Duration) Option { return func(o *options) { o.refundDelay = d } }

// WithAddr sets the address Start listens on (127.0.0.1:0 by default: a
// free loopback port).
func WithAddr(addr string) Option { return func(o *options) { o.addr = addr } }

// WithFaults injects faults from the start, as Inject does.
func WithFaults(f ...Fault) Option { return func(o *options) { o.faults = append(o.faults, f...) } }
