package callback_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gowxpay/wxpay/auth"
	"github.com/gowxpay/wxpay/callback"
	"github.com/gowxpay/wxpay/callback/callbacktest"
	"github.com/gowxpay/wxpay/gen/payments"
)

// serve sends d through h and returns the answer.
func serve(t testing.TB, h http.Handler, d *callbacktest.Delivery) *httptest.ResponseRecorder {
	t.Helper()
	req, err := d.NewRequest("http://merchant.example/wxpay/notify")
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

// checkFail checks a failure answer: the status and WeChat Pay's FAIL body.
func checkFail(t testing.TB, w *httptest.ResponseRecorder, status int) {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status %d, want %d (%s)", w.Code, status, w.Body)
	}
	var body struct{ Code, Message string }
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body.Code != "FAIL" || body.Message == "" {
		t.Fatalf("failure body %q: %v", w.Body, err)
	}
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q", ct)
	}
}

func checkOK(t testing.TB, w *httptest.ResponseRecorder) {
	t.Helper()
	if w.Code != http.StatusOK {
		t.Fatalf("status %d, want 200 (%s)", w.Code, w.Body)
	}
}

func TestHandlerAcknowledgesAfterFn(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var got []*callback.Event
	h := callback.NewHandler(f.p, func(ctx context.Context, ev *callback.Event) error {
		got = append(got, ev)
		return nil
	})
	d := f.transaction(t)
	checkOK(t, serve(t, h, d))
	if len(got) != 1 || got[0].ID != d.ID {
		t.Fatalf("fn got %v", got)
	}
	if tx, ok := got[0].Resource.(*payments.Transaction); !ok || tx.Amount.Total != 100 {
		t.Fatalf("resource %T", got[0].Resource)
	}
	// A replay of the same notification is acknowledged without fn.
	for i := 0; i < 3; i++ {
		checkOK(t, serve(t, h, d))
	}
	// So is a redelivery: same id, new timestamp, nonce and signature.
	again, err := f.pl.Notification(callbacktest.Notification{ID: d.ID, Plaintext: d.Plaintext})
	if err != nil {
		t.Fatal(err)
	}
	checkOK(t, serve(t, h, again))
	if len(got) != 1 {
		t.Fatalf("fn ran %d times for one notification", len(got))
	}
	// Another notification runs fn.
	checkOK(t, serve(t, h, f.transaction(t)))
	if len(got) != 2 {
		t.Fatalf("fn ran %d times", len(got))
	}
}

func TestHandlerFailureIsRedelivered(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	fail := true
	calls := 0
	h := callback.NewHandler(f.p, func(ctx context.Context, ev *callback.Event) error {
		calls++
		if fail {
			return errors.New("database is down: password=hunter2")
		}
		return nil
	})
	d := f.transaction(t)
	w := serve(t, h, d)
	checkFail(t, w, http.StatusInternalServerError)
	if strings.Contains(w.Body.String(), "hunter2") || strings.Contains(w.Body.String(), "database") {
		t.Errorf("the answer leaks the error: %s", w.Body)
	}
	// WeChat Pay delivers again; it is processed.
	fail = false
	checkOK(t, serve(t, h, d))
	checkOK(t, serve(t, h, d))
	if calls != 2 {
		t.Fatalf("fn ran %d times, want 2", calls)
	}
}

func TestHandlerPanicReleasesClaim(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	boom := true
	calls := 0
	h := callback.NewHandler(f.p, func(ctx context.Context, ev *callback.Event) error {
		calls++
		if boom {
			panic("boom")
		}
		return nil
	})
	d := f.transaction(t)
	// The panic is recovered and answered 500; the claim is released.
	checkFail(t, serve(t, h, d), http.StatusInternalServerError)
	boom = false
	checkOK(t, serve(t, h, d))
	if calls != 2 {
		t.Fatalf("fn ran %d times, want 2", calls)
	}
}

// TestHandlerConcurrentDuplicates delivers one notification many times at
// once while fn is blocked: exactly one delivery runs fn, the others are
// answered 409 (WeChat Pay retries them); once fn has returned, deliveries
// are acknowledged without running it.
func TestHandlerConcurrentDuplicates(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	release := make(chan struct{})
	entered := make(chan struct{}, 100)
	var running, calls atomic.Int32
	h := callback.NewHandler(f.p, func(ctx context.Context, ev *callback.Event) error {
		if running.Add(1) > 1 {
			t.Error("fn runs twice at once")
		}
		calls.Add(1)
		entered <- struct{}{}
		<-release
		running.Add(-1)
		return nil
	})
	d := f.transaction(t)
	const n = 16
	codes := make(chan int, n)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		codes <- serve(t, h, d).Code
	}()
	<-entered // the first delivery holds the id
	for i := 0; i < n-1; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := serve(t, h, d.Clone())
			if w.Code == http.StatusConflict {
				checkFail(t, w, http.StatusConflict)
			}
			codes <- w.Code
		}()
	}
	// The others are refused while fn runs.
	for i := 0; i < n-1; i++ {
		if c := <-codes; c != http.StatusConflict {
			t.Errorf("concurrent duplicate answered %d, want 409", c)
		}
	}
	close(release)
	wg.Wait()
	if c := <-codes; c != http.StatusOK {
		t.Errorf("first delivery answered %d", c)
	}
	checkOK(t, serve(t, h, d))
	if calls.Load() != 1 {
		t.Errorf("fn ran %d times", calls.Load())
	}
}

// TestHandlerConcurrentStress races deliveries of a few ids, some failing:
// for each id, fn never runs twice at once, and runs again only after a
// failure.
func TestHandlerConcurrentStress(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var mu sync.Mutex
	active := map[string]bool{}
	succeeded := map[string]int{}
	var n atomic.Int32
	h := callback.NewHandler(f.p, func(ctx context.Context, ev *callback.Event) error {
		mu.Lock()
		if active[ev.ID] {
			t.Errorf("%s: fn runs twice at once", ev.ID)
		}
		active[ev.ID] = true
		mu.Unlock()
		time.Sleep(time.Millisecond)
		fail := n.Add(1)%3 == 0
		mu.Lock()
		active[ev.ID] = false
		if !fail {
			succeeded[ev.ID]++
		}
		mu.Unlock()
		if fail {
			return errors.New("transient")
		}
		return nil
	})
	var ds []*callbacktest.Delivery
	for i := 0; i < 4; i++ {
		ds = append(ds, f.transaction(t))
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				serve(t, h, ds[(g+i)%len(ds)])
			}
		}()
	}
	wg.Wait()
	// Deliver each until acknowledged, as WeChat Pay would.
	for _, d := range ds {
		for i := 0; serve(t, h, d).Code != http.StatusOK; i++ {
			if i > 10 {
				t.Fatal("never acknowledged")
			}
		}
	}
	for _, d := range ds {
		if succeeded[d.ID] != 1 {
			t.Errorf("%s succeeded %d times", d.ID, succeeded[d.ID])
		}
	}
}

// countingVerifier counts the signature checks, to show which refusals come
// before any cryptography.
type countingVerifier struct {
	v auth.Verifier
	n atomic.Int32
}

func (c *countingVerifier) Verify(ctx context.Context, serial string, msg []byte, sig string) error {
	c.n.Add(1)
	return c.v.Verify(ctx, serial, msg, sig)
}

func TestHandlerLimits(t *testing.T) {
	t.Parallel()
	cv := &countingVerifier{}
	f := newFixture(t, func(c *callback.Config) {
		cv.v = c.Verifier
		c.Verifier = cv
	})
	calls := 0
	h := callback.NewHandler(f.p, func(context.Context, *callback.Event) error { calls++; return nil }, callback.WithMaxBodySize(1024))
	d := f.transaction(t)

	for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodHead, http.MethodDelete} {
		req, _ := d.NewRequest("http://merchant.example/notify")
		req.Method = m
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != http.MethodPost {
			t.Errorf("%s: %d %v", m, w.Code, w.Header())
		}
	}
	big := d.Clone()
	big.Body = append(big.Body, bytes.Repeat([]byte(" "), 2048)...)
	checkFail(t, serve(t, h, big), http.StatusRequestEntityTooLarge)
	// Without Content-Length (chunked), the limit holds while reading.
	req, _ := big.NewRequest("http://merchant.example/notify")
	req.ContentLength = -1
	req.Body = io.NopCloser(bytes.NewReader(big.Body))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	checkFail(t, w, http.StatusRequestEntityTooLarge)
	if cv.n.Load() != 0 || calls != 0 {
		t.Fatalf("%d verifications, %d calls before the limits", cv.n.Load(), calls)
	}
	// The default limit is 1 MiB.
	h2 := callback.NewHandler(f.p, func(context.Context, *callback.Event) error { return nil })
	huge := d.Clone()
	huge.Body = bytes.Repeat([]byte("x"), callback.DefaultMaxBodySize+1)
	checkFail(t, serve(t, h2, huge), http.StatusRequestEntityTooLarge)
	checkOK(t, serve(t, h, d))
}

func TestHandlerVerificationFailures(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	calls := 0
	h := callback.NewHandler(f.p, func(context.Context, *callback.Event) error { calls++; return nil })
	d := f.transaction(t)

	probe, err := f.pl.Notification(callbacktest.Notification{Probe: true})
	if err != nil {
		t.Fatal(err)
	}
	checkFail(t, serve(t, h, probe), http.StatusUnauthorized)

	tampered := d.Clone()
	tampered.Body[len(tampered.Body)/2] ^= 1
	checkFail(t, serve(t, h, tampered), http.StatusUnauthorized)

	stale, err := f.pl.Notification(callbacktest.Notification{Timestamp: testNow.Add(-10 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	checkFail(t, serve(t, h, stale), http.StatusUnauthorized)

	unsigned := d.Clone()
	unsigned.Header.Del(auth.HeaderSignature)
	checkFail(t, serve(t, h, unsigned), http.StatusUnauthorized)

	empty := d.Clone()
	empty.Body = nil
	checkFail(t, serve(t, h, empty), http.StatusBadRequest)

	if calls != 0 {
		t.Fatalf("fn ran %d times", calls)
	}
	// The redelivery with a valid signature is processed.
	again, err := f.pl.Notification(callbacktest.Notification{ID: probe.ID})
	if err != nil {
		t.Fatal(err)
	}
	checkOK(t, serve(t, h, again))
	if calls != 1 {
		t.Fatalf("fn ran %d times", calls)
	}
}

// failingStore fails on demand.
type failingStore struct {
	callback.Store
	claim, complete error
}

func (s *failingStore) Claim(ctx context.Context, id, token string, lease time.Duration) (callback.Status, error) {
	if s.claim != nil {
		return 0, s.claim
	}
	return s.Store.Claim(ctx, id, token, lease)
}

func (s *failingStore) Complete(ctx context.Context, id, token string) error {
	if s.complete != nil {
		return s.complete
	}
	return s.Store.Complete(ctx, id, token)
}

func TestHandlerStoreFailures(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	calls := 0
	st := &failingStore{Store: callback.NewMemoryStore(0, 0), claim: errors.New("redis: connection refused")}
	h := callback.NewHandler(f.p, func(context.Context, *callback.Event) error { calls++; return nil }, callback.WithStore(st))
	d := f.transaction(t)
	checkFail(t, serve(t, h, d), http.StatusServiceUnavailable)
	if calls != 0 {
		t.Fatal("fn ran without a claim")
	}
	// Recording the success fails: the work is done, so acknowledge.
	st.claim, st.complete = nil, errors.New("redis: timeout")
	checkOK(t, serve(t, h, d))
	if calls != 1 {
		t.Fatal("fn did not run")
	}
	// Without a store, every delivery runs fn.
	h = callback.NewHandler(f.p, func(context.Context, *callback.Event) error { calls++; return nil }, callback.WithStore(nil))
	checkOK(t, serve(t, h, d))
	checkOK(t, serve(t, h, d))
	if calls != 3 {
		t.Fatalf("fn ran %d times", calls)
	}
}

func TestHandlerMisconfigured(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	d := f.transaction(t)
	checkFail(t, serve(t, callback.NewHandler(nil, func(context.Context, *callback.Event) error { return nil }), d), http.StatusInternalServerError)
	checkFail(t, serve(t, callback.NewHandler(f.p, nil), d), http.StatusInternalServerError)
}

// TestHandlerOverHTTP runs the handler behind a real (loopback) server and
// posts to it with an http.Client, as WeChat Pay does.
func TestHandlerOverHTTP(t *testing.T) {
	t.Parallel()
	var log bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f := newFixture(t)
	events := make(chan *callback.Event, 1)
	mux := http.NewServeMux()
	mux.Handle("/wxpay/notify", callback.NewHandler(f.p, func(ctx context.Context, ev *callback.Event) error {
		events <- ev
		return nil
	}, callback.WithLogger(logger)))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	d := f.transaction(t)
	post := func(d *callbacktest.Delivery) *http.Response {
		req, err := d.NewRequest(srv.URL + "/wxpay/notify")
		if err != nil {
			t.Fatal(err)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	if resp := post(d); resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	select {
	case ev := <-events:
		if ev.Resource.(*payments.Transaction).OutTradeNo != "1217752501201407033233368018" {
			t.Fatalf("event %+v", ev)
		}
	default:
		t.Fatal("no event")
	}
	tampered := d.Clone()
	tampered.Body = bytes.Replace(tampered.Body, []byte(`"id":"`), []byte(`"id":"X`), 1)
	if resp := post(tampered); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("tampered: status %d", resp.StatusCode)
	}
	// The log has the ids, not the secrets.
	for _, s := range []string{d.ID, "notification processed", "notification rejected"} {
		if !strings.Contains(log.String(), s) {
			t.Errorf("log lacks %q:\n%s", s, log.String())
		}
	}
	for _, s := range []string{string(f.pl.APIv3Key), d.Header.Get(auth.HeaderSignature)[:40], "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", "1217752501201407033233368018"} {
		if strings.Contains(log.String(), s) {
			t.Errorf("log contains %q:\n%s", s, log.String())
		}
	}
}

// TestHandlerTimeoutAndLease: a function that hangs is answered 500 once its
// timeout passes; redeliveries are answered 409 while its claim's lease
// runs, and processed once the lease (on the store's injected clock) has
// expired. When the hung function finally returns, its late success neither
// releases nor overwrites the new claim, and is reported as a lost lease.
func TestHandlerTimeoutAndLease(t *testing.T) {
	var log syncBuffer
	logger := slog.New(slog.NewTextHandler(&log, nil))
	f := newFixture(t)
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	st := callback.NewMemoryStore(0, 0)
	st.SetClock(func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }

	hang := make(chan struct{})
	hung := make(chan struct{}, 1)
	var calls atomic.Int32
	var sawDeadline atomic.Bool
	h := callback.NewHandler(f.p, func(ctx context.Context, ev *callback.Event) error {
		if calls.Add(1) == 1 {
			_, ok := ctx.Deadline()
			sawDeadline.Store(ok)
			hung <- struct{}{}
			<-hang // ignores its context, like a stuck database call
			return nil
		}
		return nil
	}, callback.WithStore(st), callback.WithTimeout(time.Millisecond), callback.WithLease(time.Minute), callback.WithLogger(logger))

	d := f.transaction(t)
	checkFail(t, serve(t, h, d), http.StatusInternalServerError)
	<-hung
	if !sawDeadline.Load() {
		t.Error("the function's context has no deadline")
	}
	checkFail(t, serve(t, h, d), http.StatusConflict) // the lease runs
	advance(59 * time.Second)
	checkFail(t, serve(t, h, d), http.StatusConflict)
	advance(time.Second) // the lease expired: the redelivery is processed
	checkOK(t, serve(t, h, d))
	if n := calls.Load(); n != 2 {
		t.Fatalf("the function ran %d times, want 2", n)
	}
	checkOK(t, serve(t, h, d)) // and is remembered
	close(hang)
	// The hung function returns; its outcome is recorded.
	if err := h.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "lease expired") {
		t.Errorf("the late success is not reported as a lost lease:\n%s", log.String())
	}
	checkOK(t, serve(t, h, d))
	if n := calls.Load(); n != 2 {
		t.Fatalf("the function ran %d times, want 2", n)
	}
	if !strings.Contains(log.String(), "did not finish in time") {
		t.Errorf("the log does not say that the function timed out:\n%s", log.String())
	}
}

// TestHandlerTimeoutCooperative: a function that returns when its context
// ends is answered 500 and its claim released at once.
func TestHandlerTimeoutCooperative(t *testing.T) {
	f := newFixture(t)
	var calls atomic.Int32
	var slow atomic.Bool
	slow.Store(true)
	h := callback.NewHandler(f.p, func(ctx context.Context, ev *callback.Event) error {
		wasSlow := slow.Load() // read before counting: see the wait below
		calls.Add(1)
		if wasSlow {
			<-ctx.Done()
			return ctx.Err()
		}
		return nil
	}, callback.WithTimeout(time.Millisecond))
	d := f.transaction(t)
	checkFail(t, serve(t, h, d), http.StatusInternalServerError)
	// On a loaded machine the first run may start only after the answer:
	// once it is counted it has seen slow, and gives up with its expired
	// context, so only the second delivery's run can succeed.
	for calls.Load() == 0 {
		runtime.Gosched()
	}
	slow.Store(false)
	// The claim is released when the function returns, possibly just
	// after the answer; a 409 means it is not yet.
	for {
		w := serve(t, h, d)
		if w.Code == http.StatusOK {
			break
		}
		checkFail(t, w, http.StatusConflict)
		runtime.Gosched()
	}
	if n := calls.Load(); n != 2 {
		t.Fatalf("the function ran %d times", n)
	}
}

// TestHandlerBoundedLog: a notification with huge forged headers makes
// bounded log lines, at every level.
func TestHandlerBoundedLog(t *testing.T) {
	var log bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f := newFixture(t, func(c *callback.Config) { c.Logger = logger })
	d := f.transaction(t)
	big := strings.Repeat("A", 300<<10)
	for _, name := range []string{auth.HeaderSerial, auth.HeaderSignature, auth.HeaderTimestamp} {
		forged := d.Clone()
		forged.Header.Set(name, big)
		forged.Header.Set("Request-Id", big) // not signed
		h := callback.NewHandler(f.p, func(context.Context, *callback.Event) error { return nil })
		if w := serve(t, h, forged); w.Code == http.StatusOK {
			t.Fatalf("%s: forged notification accepted", name)
		}
	}
	// A processed one with a long Request-ID, and a panic.
	long := d.Clone()
	long.Header.Set("Request-Id", big)
	h := callback.NewHandler(f.p, func(context.Context, *callback.Event) error { panic(big) })
	serve(t, h, long)
	if log.Len() > 64<<10 {
		t.Fatalf("%d bytes of log for 4 notifications with 600 KiB headers", log.Len())
	}
	if !strings.Contains(log.String(), "cut, ") {
		t.Fatalf("nothing was marked as cut:\n%.2000s", log.String())
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
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

// TestErrorTextBounded: the error of a notification with huge forged
// headers quotes them cut, so that a caller logging it logs little.
func TestErrorTextBounded(t *testing.T) {
	f := newFixture(t)
	d := f.transaction(t)
	big := strings.Repeat("S", 300<<10)
	for _, name := range []string{auth.HeaderSerial, "Request-Id"} {
		forged := d.Clone()
		forged.Header.Set(name, big)
		forged.Header.Set(auth.HeaderSignature, "x"+forged.Header.Get(auth.HeaderSignature)[1:])
		_, err := f.parse(forged)
		if err == nil {
			t.Fatalf("%s: accepted", name)
		}
		if n := len(err.Error()); n > 2<<10 {
			t.Errorf("%s: the error has %d bytes", name, n)
		}
	}
}
