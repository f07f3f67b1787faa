package wxredis_test

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gowxpay/wxpay/callback"
	"github.com/gowxpay/wxpay/callback/callbacktest"
	wxredis "github.com/gowxpay/wxpay/contrib/redis"
)

// replica is one instance of a service: its own Redis client, Store,
// Handler and HTTP server, on its own loopback port.
type replica struct {
	name string
	srv  *httptest.Server
}

// outcome of the function for one notification.
type record struct {
	mu        sync.Mutex
	calls     int // times the function started
	successes int // times it returned nil
	running   int // runs in progress (hung ones excluded)
	overlap   bool
}

// TestReplicas is the exactly-once test across replicas: two Handlers on
// two ports share one Redis; 1,000 signed notifications are delivered the
// way WeChat Pay does, until acknowledged, with up to three concurrent
// copies per try to random replicas and a duplicate after the
// acknowledgement. The function fails on the first try of some
// notifications, panics on others, and hangs for good on others (a crashed
// instance: the claim's lease expires, here forced with PEXPIRE, and a
// redelivery processes it). One
// replica is restarted a third of the way through, and Redis is killed
// (SIGKILL) and restarted two thirds of the way through. At the end every
// notification is offered once more to each replica. Each notification's
// function must have succeeded exactly once and never run twice at once,
// and every id acknowledged before the Redis kill must still be recorded.
func TestReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("long")
	}
	srv := startServer(t)
	if v, err := srv.info("aof_enabled"); err != nil || v != "1" {
		t.Fatalf("the test server runs without the append-only file: %q %v", v, err)
	}
	// The lease is long, so that no function is overtaken by a
	// redelivery however slowly this machine runs it; a hung function's
	// claim is made to expire at once (PEXPIRE), as time would.
	const (
		total   = 1000
		timeout = 200 * time.Millisecond
		lease   = time.Minute
	)
	rdb := srv.Client()
	pl := callbacktest.New()
	parser, err := callback.NewParser(callback.Config{Verifier: pl.Verifier(), APIv3Key: pl.APIv3Key})
	if err != nil {
		t.Fatal(err)
	}

	records := make([]record, total)
	deliveries := make([]*callbacktest.Delivery, total)
	index := map[string]int{}
	for i := range deliveries {
		d, err := pl.Notification(callbacktest.Notification{
			ID:        fmt.Sprintf("replicas-%04d", i),
			Plaintext: []byte(fmt.Sprintf(`{"mchid":"1900000109","out_trade_no":"R%04d","trade_state":"SUCCESS","amount":{"total":%d}}`, i, i+1)),
		})
		if err != nil {
			t.Fatal(err)
		}
		deliveries[i] = d
		index[d.ID] = i
	}

	hang := make(chan struct{}) // closed at the end: hung functions return
	var hangs, panics, failures atomic.Int64
	fn := func(ctx context.Context, ev *callback.Event) error {
		i := index[ev.ID]
		r := &records[i]
		r.mu.Lock()
		r.calls++
		attempt := r.calls
		r.running++
		if r.running > 1 {
			r.overlap = true
		}
		r.mu.Unlock()
		done := func(ok bool) {
			r.mu.Lock()
			r.running--
			if ok {
				r.successes++
			}
			r.mu.Unlock()
		}
		switch {
		case attempt == 1 && i%100 == 42:
			// A hung instance: it never finishes as far as anyone
			// knows; it stops counting as running (its lease ends).
			hangs.Add(1)
			done(false)
			if err := rdb.PExpire(context.Background(), "replicas:"+ev.ID, time.Millisecond).Err(); err != nil {
				t.Errorf("expiring the claim of %s: %v", ev.ID, err)
			}
			<-hang
			return fmt.Errorf("the instance died")
		case attempt == 1 && i%25 == 7:
			panics.Add(1)
			done(false)
			panic("boom")
		case attempt == 1 && i%10 == 3:
			failures.Add(1)
			done(false)
			return fmt.Errorf("the database is busy")
		}
		done(true)
		return nil
	}

	newReplica := func(name string) *replica {
		store := wxredis.NewStore(srv.Client(), wxredis.Options{Prefix: "replicas:"})
		h := callback.NewHandler(parser, fn, callback.WithStore(store), callback.WithTimeout(timeout), callback.WithLease(lease))
		return &replica{name: name, srv: httptest.NewServer(h)}
	}
	var repMu sync.RWMutex
	replicas := []*replica{newReplica("a"), newReplica("b")}
	defer func() {
		for _, r := range replicas {
			r.srv.Close()
		}
	}()
	pick := func() string {
		repMu.RLock()
		defer repMu.RUnlock()
		return replicas[rand.IntN(len(replicas))].srv.URL
	}

	var offered, ok200, conflicts, unavailable, failed, neterr atomic.Int64
	post := func(d *callbacktest.Delivery) int {
		offered.Add(1)
		req, err := d.NewRequest(pick() + "/notify")
		if err != nil {
			t.Error(err)
			return 0
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			neterr.Add(1) // a replica restarting: WeChat Pay tries again
			return 0
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusOK:
			ok200.Add(1)
		case http.StatusConflict:
			conflicts.Add(1)
		case http.StatusServiceUnavailable:
			unavailable.Add(1)
		default:
			failed.Add(1)
		}
		return resp.StatusCode
	}

	var ackMu sync.Mutex
	acked := make([]bool, total)
	var nAcked atomic.Int64
	restartReplica := make(chan struct{})
	restartRedis := make(chan struct{})
	var restartOnce, redisOnce sync.Once
	deliver := func(i int) {
		d := deliveries[i]
		for try := 0; ; try++ {
			copies := 1 + rand.IntN(3)
			var wg sync.WaitGroup
			var got atomic.Bool
			for range copies {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if post(d) == http.StatusOK {
						got.Store(true)
					}
				}()
			}
			wg.Wait()
			if got.Load() {
				break
			}
			if try > 20000 {
				t.Errorf("notification %d was never acknowledged", i)
				return
			}
			// WeChat Pay waits 15 s, 15 s, 30 s, 3 min …; a
			// compressed schedule.
			time.Sleep(time.Duration(10+rand.IntN(40)) * time.Millisecond)
		}
		ackMu.Lock()
		acked[i] = true
		ackMu.Unlock()
		switch nAcked.Add(1) {
		case total / 3:
			restartOnce.Do(func() { close(restartReplica) })
		case 2 * total / 3:
			redisOnce.Do(func() { close(restartRedis) })
		}
		// A duplicate after the acknowledgement.
		if code := post(d); code != http.StatusOK && code != 0 && code != http.StatusServiceUnavailable {
			t.Errorf("a duplicate of acknowledged notification %d was answered %d", i, code)
		}
	}

	// The disruptions.
	var redisChecked, dialsBefore atomic.Int64
	disrupt := make(chan struct{})
	go func() {
		defer close(disrupt)
		<-restartReplica
		repMu.Lock()
		old := replicas[1]
		repMu.Unlock()
		old.srv.Close() // waits for the requests it is serving
		repMu.Lock()
		replicas[1] = newReplica("b2")
		repMu.Unlock()

		<-restartRedis
		ackMu.Lock()
		var before []int
		for i, a := range acked {
			if a {
				before = append(before, i)
			}
		}
		ackMu.Unlock()
		srv.restart()
		check := wxredis.NewStore(srv.Client(), wxredis.Options{Prefix: "replicas:"})
		for _, i := range before {
			done, err := check.Processed(context.Background(), deliveries[i].ID)
			if err != nil || !done {
				t.Errorf("notification %d was acknowledged before Redis restarted and is not recorded after (%v)", i, err)
			}
		}
		redisChecked.Store(int64(len(before)))
		dialsBefore.Store(srv.dialErrors.Load())
	}()

	sem := make(chan struct{}, 48)
	var wg sync.WaitGroup
	for i := range total {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			deliver(i)
		}()
	}
	wg.Wait()
	<-disrupt
	// Every notification offered once more to every replica.
	repMu.RLock()
	urls := []string{replicas[0].srv.URL, replicas[1].srv.URL}
	repMu.RUnlock()
	for _, d := range deliveries {
		for _, u := range urls {
			req, _ := d.NewRequest(u + "/notify")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			offered.Add(1)
			if resp.StatusCode != http.StatusOK {
				t.Errorf("final duplicate of %s: %d", d.ID, resp.StatusCode)
			}
		}
	}
	close(hang)

	var calls, successes int
	for i := range records {
		r := &records[i]
		r.mu.Lock()
		calls += r.calls
		successes += r.successes
		if r.successes != 1 {
			t.Errorf("notification %d: the function succeeded %d times", i, r.successes)
		}
		if r.overlap {
			t.Errorf("notification %d: the function ran twice at once", i)
		}
		r.mu.Unlock()
	}
	t.Logf("replicas: %d notifications, %d deliveries offered (%d duplicates), function run %d times (%d successes, %d failures, %d panics, %d hung); answers: %d 200, %d 409, %d 503, %d 500, %d connection errors; %d ids acknowledged before the Redis kill all recorded after it; %d connection attempts to Redis failed during its restart",
		total, offered.Load(), offered.Load()-total, calls, successes, failures.Load(), panics.Load(), hangs.Load(),
		ok200.Load(), conflicts.Load(), unavailable.Load(), failed.Load(), neterr.Load(), redisChecked.Load(), dialsBefore.Load())
	if successes != total {
		t.Fatalf("%d successes for %d notifications", successes, total)
	}
}
