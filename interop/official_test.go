package interop

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wechatpay-apiv3/wechatpay-go/core"
	"github.com/wechatpay-apiv3/wechatpay-go/core/auth/verifiers"
	"github.com/wechatpay-apiv3/wechatpay-go/core/downloader"
	"github.com/wechatpay-apiv3/wechatpay-go/core/notify"
	"github.com/wechatpay-apiv3/wechatpay-go/core/option"

	"github.com/gowxpay/wxpay/sandbox"
)

// officialOp is one API operation of the official SDK: call decodes a JSON
// request into the method's request type and calls the method.
type officialOp struct {
	Pkg, Name, HTTP, Path string
	call                  func(ctx context.Context, c *core.Client, in []byte) (any, *core.APIResult, error)
}

// reroute sends the official SDK's requests, addressed to
// api.mch.weixin.qq.com, to the sandbox. The signature covers the path and
// query only, so nothing else changes.
type reroute struct{ base *url.URL }

func (r reroute) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.URL.Scheme, req.URL.Host, req.Host = r.base.Scheme, r.base.Host, r.base.Host
	return http.DefaultTransport.RoundTrip(req)
}

// official is one merchant's official-SDK client.
type official struct {
	cred   sandbox.Credentials
	client *core.Client
	mgr    *downloader.CertificateDownloaderMgr // certificate mode
	notify *notify.Handler
}

// env is a sandbox and the official clients of its direct merchant and
// service provider, with a notification receiver that parses every
// notification with the official notify handler.
type env struct {
	sb        *sandbox.Server
	mode      sandbox.KeyMode
	direct    *official
	partner   *official
	notifyURL string
	sink      *sink
}

func newEnv(t *testing.T, mode sandbox.KeyMode, opts ...sandbox.Option) *env {
	t.Helper()
	sb := sandbox.StartTest(t, append([]sandbox.Option{sandbox.WithKeyMode(mode), sandbox.WithTimeScale(0.001), sandbox.WithRefundDelay(time.Second)}, opts...)...)
	base, _ := url.Parse(sb.URL())
	hc := &http.Client{Transport: reroute{base}, Timeout: 30 * time.Second}
	e := &env{sb: sb, mode: mode, sink: newSink()}
	ctx := context.Background()
	build := func(cred sandbox.Credentials) *official {
		o := &official{cred: cred}
		var err error
		switch mode {
		case sandbox.PublicKeyMode:
			id, pub := sb.PublicKey()
			o.client, err = core.NewClient(ctx,
				option.WithWechatPayPublicKeyAuthCipher(cred.MchID, cred.CertificateSerial, cred.PrivateKey, id, pub),
				option.WithHTTPClient(hc))
			if err == nil {
				o.notify, err = notify.NewRSANotifyHandler(string(cred.APIv3Key), verifiers.NewSHA256WithRSAPubkeyVerifier(id, *pub))
			}
		default:
			// The SDK's own certificate download: a client that only
			// signs (its first download is checked by decrypting the
			// list with the APIv3 key), then verification with what it
			// downloaded.
			var dl *core.Client
			dl, err = core.NewClient(ctx, option.WithMerchantCredential(cred.MchID, cred.CertificateSerial, cred.PrivateKey),
				option.WithoutValidator(), option.WithHTTPClient(hc))
			if err != nil {
				t.Fatal(err)
			}
			o.mgr = downloader.NewCertificateDownloaderMgr(ctx)
			t.Cleanup(o.mgr.Stop)
			if err = o.mgr.RegisterDownloaderWithClient(ctx, dl, cred.MchID, string(cred.APIv3Key)); err != nil {
				t.Fatalf("the official certificate download failed: %v", err)
			}
			o.client, err = core.NewClient(ctx,
				option.WithWechatPayAutoAuthCipherUsingDownloaderMgr(cred.MchID, cred.CertificateSerial, cred.PrivateKey, o.mgr),
				option.WithHTTPClient(hc))
			if err == nil {
				o.notify, err = notify.NewRSANotifyHandler(string(cred.APIv3Key), verifiers.NewSHA256WithRSAVerifier(o.mgr.GetCertificateVisitor(cred.MchID)))
			}
		}
		if err != nil {
			t.Fatalf("official client for %s: %v", cred.MchID, err)
		}
		return o
	}
	e.direct, e.partner = build(sb.Merchant()), build(sb.Partner())
	handlers := map[string]*official{e.direct.cred.MchID: e.direct, e.partner.cred.MchID: e.partner}
	rv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o := handlers[strings.TrimPrefix(r.URL.Path, "/notify/")]
		if o == nil {
			http.NotFound(w, r)
			return
		}
		var content map[string]any
		req, err := o.notify.ParseNotifyRequest(r.Context(), r, &content)
		e.sink.add(received{req: req, content: content, err: err})
		if err != nil {
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte(`{"code":"FAIL","message":"verification failed"}`))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"code":"SUCCESS","message":"成功"}`))
	}))
	t.Cleanup(rv.Close)
	e.notifyURL = rv.URL + "/notify/"
	return e
}

// notifyFor is the notify_url of a merchant.
func (e *env) notifyFor(o *official) string { return e.notifyURL + o.cred.MchID }

// received is one notification as the official handler parsed it.
type received struct {
	req     *notify.Request
	content map[string]any
	err     error
}

// sink collects parsed notifications; wait blocks until one matches.
type sink struct {
	mu      sync.Mutex
	got     []received
	changed chan struct{}
}

func newSink() *sink { return &sink{changed: make(chan struct{})} }

func (s *sink) add(r received) {
	s.mu.Lock()
	s.got = append(s.got, r)
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
}

func (s *sink) errors() []error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []error
	for _, r := range s.got {
		if r.err != nil {
			out = append(out, r.err)
		}
	}
	return out
}

func (s *sink) wait(ctx context.Context, match func(received) bool) (received, error) {
	for {
		s.mu.Lock()
		for _, r := range s.got {
			if r.err == nil && match(r) {
				s.mu.Unlock()
				return r, nil
			}
		}
		ch := s.changed
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return received{}, ctx.Err()
		}
	}
}

// specOp finds the sandbox's spec operation for an official one.
func specOp(sb *sandbox.Server, method, path string) *sandbox.Operation {
	norm := regexp.MustCompile(`\{[^}]+\}`)
	want := norm.ReplaceAllString(path, "{}")
	for _, op := range sb.Spec().Operations() {
		if op.Method == method && norm.ReplaceAllString(op.Path, "{}") == want {
			return op
		}
	}
	return nil
}

// request builds the JSON an official request type decodes from: the
// sample's path and query parameters and its body, merged.
func request(s sandbox.SampleRequest) []byte {
	m := map[string]any{}
	for k, v := range s.Params {
		m[k] = v
	}
	for k, v := range s.Body {
		m[k] = v
	}
	b, _ := json.Marshal(m)
	return b
}

// callErr describes a failed official call.
func callErr(res *core.APIResult, err error) error {
	if err == nil {
		return nil
	}
	var api *core.APIError
	if errors.As(err, &api) {
		return fmt.Errorf("%d %s %s: %s", api.StatusCode, api.Code, api.Message, api.Body)
	}
	return err
}
