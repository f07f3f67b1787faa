// Package wxtest is a minimal WeChat Pay server for wxpay's own client tests
// and benchmarks: it checks request signatures, records requests and signs
// the answers a test scripts, and does nothing else. The sandbox package is
// the full emulator; this one keeps client tests independent of it and lets
// benchmarks measure the client, not the server.
package wxtest

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"embed"
	"encoding/json"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gowxpay/wxpay/auth"
	"github.com/gowxpay/wxpay/merchant"
)

//go:embed testdata/*.pem
var files embed.FS

func mustRead(name string) []byte {
	b, err := files.ReadFile("testdata/" + name)
	if err != nil {
		panic(err) // test fixture missing: a broken checkout
	}
	return b
}

// Keys are fixed test credentials: a merchant key and certificate, a
// platform certificate with its key (certificate mode) and a WeChat Pay
// public key with its private half (public-key mode).
type Keys struct {
	MchID           string
	MerchantKey     *rsa.PrivateKey
	MerchantKeyPEM  []byte
	MerchantCertPEM []byte
	MerchantSerial  string

	PlatformKey     *rsa.PrivateKey
	PlatformCert    *x509.Certificate
	PlatformCertPEM []byte
	PlatformSerial  string

	PubKey    *rsa.PrivateKey
	PubKeyPEM []byte
	PubKeyID  string

	APIv3Key string
}

// LoadKeys returns the test credentials.
func LoadKeys(t testing.TB) *Keys {
	t.Helper()
	k := &Keys{
		MchID:           "1900000109",
		MerchantKeyPEM:  mustRead("merchant_key.pem"),
		MerchantCertPEM: mustRead("merchant_cert.pem"),
		PlatformCertPEM: mustRead("platform_cert.pem"),
		PubKeyPEM:       mustRead("pubkey_pub.pem"),
		PubKeyID:        "PUB_KEY_ID_0119000001092026112400000000000001",
		APIv3Key:        "0123456789abcdef0123456789ABCDEF",
	}
	var err error
	if k.MerchantKey, err = auth.ParsePrivateKey(k.MerchantKeyPEM); err != nil {
		t.Fatal(err)
	}
	cert, err := auth.ParseCertificate(k.MerchantCertPEM)
	if err != nil {
		t.Fatal(err)
	}
	k.MerchantSerial = auth.SerialNumber(cert)
	if k.PlatformKey, err = auth.ParsePrivateKey(mustRead("platform_key.pem")); err != nil {
		t.Fatal(err)
	}
	if k.PlatformCert, err = auth.ParseCertificate(k.PlatformCertPEM); err != nil {
		t.Fatal(err)
	}
	k.PlatformSerial = auth.SerialNumber(k.PlatformCert)
	if k.PubKey, err = auth.ParsePrivateKey(mustRead("pubkey_key.pem")); err != nil {
		t.Fatal(err)
	}
	return k
}

// Config returns a client configuration for these keys in public-key mode,
// pointing at baseURL.
func (k *Keys) Config(baseURL string) merchant.Config {
	return merchant.Config{
		MchID:       k.MchID,
		PrivateKey:  k.MerchantKeyPEM,
		Certificate: k.MerchantCertPEM,
		APIv3Key:    k.APIv3Key,
		PublicKeyID: k.PubKeyID,
		PublicKey:   k.PubKeyPEM,
		AppID:       "wxd678efh567hg6787",
		NotifyURL:   "https://merchant.example/notify",
		BaseURL:     baseURL,
	}
}

// Request is a request the server received.
type Request struct {
	Method, URI string
	Header      http.Header
	Body        []byte
	// Auth is the parsed Authorization header; AuthErr why it did not parse
	// or verify (nil when the signature is valid).
	Auth    auth.Authorization
	AuthErr error
}

// JSON decodes the request body.
func (r *Request) JSON(v any) error { return json.Unmarshal(r.Body, v) }

// Reply is what the server answers.
type Reply struct {
	Status int
	Body   string
	Header map[string]string
	// Unsigned leaves out the signature headers; BadSignature signs
	// something else.
	Unsigned, BadSignature bool
	// Reset drops the connection without an answer.
	Reset bool
}

// Server is the test server.
type Server struct {
	*httptest.Server
	Keys *Keys
	// SignWithCertificate signs answers with the platform certificate key
	// instead of the public key.
	SignWithCertificate bool
	// Now is the server's clock, for its timestamps; time.Now when nil.
	Now func() time.Time

	mu       sync.Mutex
	handler  func(*Request) Reply
	requests []*Request
	// cache of signatures for benchmarks: body → headers.
	cache     map[string][4]string
	cacheSigs bool
	verify    bool
	// open counts the connections the server holds; changed is closed
	// and replaced whenever it changes.
	open    int
	changed chan struct{}
}

// NewServer starts a server that verifies every request and answers with h.
// It is closed when the test ends.
func NewServer(t testing.TB, k *Keys, h func(*Request) Reply) *Server {
	s := &Server{Keys: k, handler: h, verify: true, cache: map[string][4]string{}, changed: make(chan struct{})}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.Config.ConnState = s.connState
	s.Start()
	t.Cleanup(s.Close)
	return s
}

func (s *Server) connState(_ net.Conn, st http.ConnState) {
	d := 0
	switch st {
	case http.StateNew:
		d = 1
	case http.StateClosed, http.StateHijacked:
		d = -1
	}
	if d == 0 {
		return
	}
	s.mu.Lock()
	s.open += d
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
}

// WaitConns waits until the server holds exactly n client connections, and
// reports false when ctx ends first.
func (s *Server) WaitConns(ctx context.Context, n int) bool {
	for {
		s.mu.Lock()
		open, changed := s.open, s.changed
		s.mu.Unlock()
		if open == n {
			return true
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return false
		}
	}
}

// Conns returns the number of client connections the server holds.
func (s *Server) Conns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.open
}

// NewBenchServer starts a server for benchmarks: it neither verifies nor
// records requests, and signs each distinct answer body once, so that what
// a benchmark measures is the client.
func NewBenchServer(b testing.TB, k *Keys, h func(*Request) Reply) *Server {
	s := &Server{Keys: k, handler: h, cache: map[string][4]string{}, cacheSigs: true}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	b.Cleanup(s.Close)
	return s
}

// Requests returns the requests received so far.
func (s *Server) Requests() []*Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*Request(nil), s.requests...)
}

// Last returns the last request, or nil.
func (s *Server) Last() *Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.requests) == 0 {
		return nil
	}
	return s.requests[len(s.requests)-1]
}

// Handle replaces the handler.
func (s *Server) Handle(h func(*Request) Reply) {
	s.mu.Lock()
	s.handler = h
	s.mu.Unlock()
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	req := &Request{Method: r.Method, URI: r.URL.RequestURI(), Header: r.Header.Clone(), Body: body}
	if s.verify {
		req.Auth, req.AuthErr = auth.ParseAuthorization(r.Header.Get("Authorization"))
		if req.AuthErr == nil {
			signed := body
			if meta, ok := multipartMetaOK(r.Header.Get("Content-Type"), body); ok {
				signed = meta
			}
			msg := auth.RequestMessage(r.Method, req.URI, req.Auth.Timestamp, req.Auth.Nonce, signed)
			if req.Auth.MchID != s.Keys.MchID || req.Auth.Serial != s.Keys.MerchantSerial {
				req.AuthErr = errWrongMerchant
			} else {
				req.AuthErr = auth.VerifyBase64(&s.Keys.MerchantKey.PublicKey, msg, req.Auth.Signature)
			}
		}
		s.mu.Lock()
		s.requests = append(s.requests, req)
		s.mu.Unlock()
	}
	s.mu.Lock()
	h := s.handler
	s.mu.Unlock()
	rep := h(req)
	if rep.Reset {
		if hj, ok := w.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				c.Close()
				return
			}
		}
	}
	if rep.Status == 0 {
		rep.Status = http.StatusOK
	}
	hdr := w.Header()
	for k, v := range rep.Header {
		hdr.Set(k, v)
	}
	if hdr.Get("Request-ID") == "" {
		hdr.Set("Request-ID", "08F5B8C2B506102C18FDDFEEA30620BE821E28EDC405-0")
	}
	if rep.Body != "" && hdr.Get("Content-Type") == "" {
		hdr.Set("Content-Type", "application/json; charset=utf-8")
	}
	if !rep.Unsigned {
		sig := s.sign(rep.Body, rep.BadSignature)
		hdr.Set("Wechatpay-Timestamp", sig[0])
		hdr.Set("Wechatpay-Nonce", sig[1])
		hdr.Set("Wechatpay-Serial", sig[2])
		hdr.Set("Wechatpay-Signature", sig[3])
		hdr.Set("Wechatpay-Signature-Type", auth.SchemeRSA)
	}
	w.WriteHeader(rep.Status)
	io.WriteString(w, rep.Body)
}

type errString string

func (e errString) Error() string { return string(e) }

const errWrongMerchant = errString("wxtest: wrong mchid or serial_no")

// sign returns timestamp, nonce, serial and signature for body.
func (s *Server) sign(body string, bad bool) [4]string {
	if s.cacheSigs && !bad {
		s.mu.Lock()
		v, ok := s.cache[body]
		s.mu.Unlock()
		if ok {
			return v
		}
	}
	key, serial := s.Keys.PubKey, s.Keys.PubKeyID
	if s.SignWithCertificate {
		key, serial = s.Keys.PlatformKey, s.Keys.PlatformSerial
	}
	ts := strconv.FormatInt(s.now().Unix(), 10)
	nonce, _ := auth.NewNonce()
	signed := body
	if bad {
		signed += "tampered"
	}
	sig, err := auth.SignBase64(auth.RSASigner{Key: key}, auth.ResponseMessage(ts, nonce, []byte(signed)))
	if err != nil {
		panic(err) // a test key that cannot sign: a broken fixture
	}
	v := [4]string{ts, nonce, serial, sig}
	if s.cacheSigs && !bad {
		s.mu.Lock()
		s.cache[body] = v
		s.mu.Unlock()
	}
	return v
}

// multipartMetaOK returns the meta part of a multipart upload, which is
// what its signature covers.
func multipartMetaOK(contentType string, body []byte) ([]byte, bool) {
	meta, err := auth.MultipartMeta(contentType, body)
	return meta, err == nil
}

// sandboxKeys parses testdata/sandbox_keys.pem once.
var sandboxKeys = sync.OnceValues(func() ([]*rsa.PrivateKey, error) {
	rest := mustRead("sandbox_keys.pem")
	var keys []*rsa.PrivateKey
	for {
		var block *pem.Block
		if block, rest = pem.Decode(rest); block == nil {
			return keys, nil
		}
		k, err := auth.ParsePrivateKey(pem.EncodeToMemory(block))
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
})

// SandboxKeys returns ten fixed RSA-2048 test keys for sandbox.WithKeys:
// a sandbox then takes its platform, public-key, merchant and rotation
// keys from them instead of generating each (which takes up to seconds
// under -race on a busy machine). Servers that share them share
// identities; tests that need distinct servers to have distinct keys
// must not use them. The slice is a copy.
func SandboxKeys(t testing.TB) []*rsa.PrivateKey {
	t.Helper()
	keys, err := sandboxKeys()
	if err != nil {
		t.Fatal(err)
	}
	return append([]*rsa.PrivateKey(nil), keys...)
}
