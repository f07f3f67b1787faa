package merchant

import (
	"crypto/tls"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Settings of the transport Connect makes when Config.HTTPClient is nil:
// tuned for one host (WeChat Pay's API) called from many goroutines.
const (
	// DefaultMaxIdleConnsPerHost keeps enough connections open to the API
	// host for concurrent calls to reuse them (net/http keeps 2).
	DefaultMaxIdleConnsPerHost = 64
	// DefaultCallTimeout bounds one attempt, answer body included, when
	// the call's context has no deadline.
	DefaultCallTimeout = 30 * time.Second
)

// newTransport returns the default transport: HTTPS with TLS 1.2 or later
// and certificate verification, bounded connection set-up and waiting.
func newTransport() *http.Transport {
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          DefaultMaxIdleConnsPerHost * 2,
		MaxIdleConnsPerHost:   DefaultMaxIdleConnsPerHost,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: DefaultCallTimeout,
		ExpectContinueTimeout: time.Second,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
	}
}

// noRedirect keeps every redirect as the answer: WeChat Pay does not
// redirect API calls, and following one would send the signed request (and
// its Authorization) elsewhere.
func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// loopback reports whether rawURL's host is a loopback address or
// localhost (a sandbox on this machine).
func loopback(rawURL string) bool {
	u, err := url.Parse(rawURL)
	if err != nil {
		return false
	}
	h := u.Hostname()
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// checkTransport enforces the transport floor: HTTPS to anything but a
// loopback address, and no HTTPClient that skips certificate verification
// or allows TLS below 1.2, unless DangerouslyAllowInsecureTransport.
func (cfg *Config) checkTransport(base, backup string) error {
	if cfg.DangerouslyAllowInsecureTransport {
		return nil
	}
	local := true
	for _, f := range []struct{ field, u string }{{"BaseURL", base}, {"BackupURL", backup}} {
		if f.u == "" {
			continue
		}
		if loopback(f.u) {
			continue
		}
		local = false
		if u, err := url.Parse(f.u); err == nil && !strings.EqualFold(u.Scheme, "https") {
			return cfgErr(f.field, "%s is not HTTPS: requests to WeChat Pay must be encrypted (plain HTTP is accepted only for a loopback address, such as the sandbox, or with DangerouslyAllowInsecureTransport)", f.u)
		}
	}
	if local || cfg.HTTPClient == nil {
		return nil
	}
	t, ok := cfg.HTTPClient.Transport.(*http.Transport)
	if !ok || t.TLSClientConfig == nil {
		return nil
	}
	tc := t.TLSClientConfig
	switch {
	case tc.InsecureSkipVerify:
		return cfgErr("HTTPClient", "its transport skips TLS certificate verification (InsecureSkipVerify): anyone on the path could read and answer the calls; remove it (or set DangerouslyAllowInsecureTransport for a debugging proxy)")
	case tc.MinVersion != 0 && tc.MinVersion < tls.VersionTLS12, tc.MaxVersion != 0 && tc.MaxVersion < tls.VersionTLS12:
		return cfgErr("HTTPClient", "its transport allows TLS versions below 1.2, which WeChat Pay does not accept and which are not safe; set MinVersion to tls.VersionTLS12 or leave it zero")
	}
	return nil
}
