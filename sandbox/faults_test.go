package sandbox

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestFaults(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	h, m := s.Handler(), s.Merchant()
	sg := signer{cred: m}
	certs := func() result { return send(t, h, sg, "GET", "/v3/certificates", nil) }

	t.Run("latency, once", func(t *testing.T) {
		if _, err := s.Inject(Fault{Target: "ListCertificates", Kind: FaultLatency, Latency: 150 * time.Millisecond, Count: 1}); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if r := certs(); r.status != 200 || time.Since(start) < 150*time.Millisecond {
			t.Fatalf("%d after %s", r.status, time.Since(start))
		}
		start = time.Now()
		certs()
		if time.Since(start) > 100*time.Millisecond {
			t.Fatal("the latency outlived its count")
		}
	})
	t.Run("error answers", func(t *testing.T) {
		id, _ := s.Inject(Fault{Target: "/v3/certificates", Kind: FaultError, Count: 2})
		for i := 0; i < 2; i++ {
			r := certs()
			if r.status != 500 || r.code() != "SYSTEM_ERROR" {
				t.Fatalf("%d %s", r.status, r.body)
			}
			verify(t, s, r.header, r.body)
		}
		if r := certs(); r.status != 200 {
			t.Fatalf("after the count: %d", r.status)
		}
		if s.ClearFault(id) {
			t.Fatal("a used-up fault is still listed")
		}
		s.Inject(Fault{Kind: FaultError, Status: 429, Count: 1})
		if r := certs(); r.status != 429 || r.code() != "FREQUENCY_LIMITED" {
			t.Fatalf("%d %s", r.status, r.body)
		}
		s.Inject(Fault{Target: "NativePrepay", Kind: FaultError, Status: 403, Code: "NO_AUTH", Message: "商户无权限", Count: 1})
		r := send(t, h, sg, "POST", "/v3/pay/transactions/native", nativeBody(m, uniqueNo("F"), 1))
		if r.status != 403 || r.code() != "NO_AUTH" || !strings.Contains(string(r.body), "商户无权限") {
			t.Fatalf("%d %s", r.status, r.body)
		}
		if _, err := s.Inject(Fault{Kind: FaultError, Status: 200}); err == nil {
			t.Fatal("a 200 error fault was accepted")
		}
		if _, err := s.Inject(Fault{Kind: "boom"}); err == nil {
			t.Fatal("an unknown kind was accepted")
		}
	})
	t.Run("signatures", func(t *testing.T) {
		s.Inject(Fault{Target: "ListCertificates", Kind: FaultBadSignature, Count: 1})
		r := certs()
		if r.status != 200 || r.header.Get("Wechatpay-Signature") == "" || verifyErr(s, r.header, r.body) == nil {
			t.Fatal("bad signature verifies")
		}
		s.Inject(Fault{Target: "ListCertificates", Kind: FaultNoSignature, Count: 1})
		if r := certs(); r.header.Get("Wechatpay-Signature") != "" || r.header.Get("Wechatpay-Serial") == "" {
			t.Fatalf("no signature: %v", r.header)
		}
		s.Inject(Fault{Target: "ListCertificates", Kind: FaultSignTest, Count: 1})
		if r := certs(); !strings.HasPrefix(r.header.Get("Wechatpay-Signature"), SignTestPrefix) || verifyErr(s, r.header, r.body) == nil {
			t.Fatalf("probe: %v", r.header)
		}
		// A request timed by the machine's clock is refused against the
		// server's offset clock, as in production …
		s.Inject(Fault{Target: "ListCertificates", Kind: FaultClockOffset, ClockOffset: -10 * time.Minute, Count: 1})
		if r := certs(); r.status != 401 || r.code() != "SIGN_ERROR" {
			t.Fatalf("a request 10 minutes ahead of the server's clock: %d %s", r.status, r.body)
		}
		// … and one timed by the server's clock is answered, from its clock.
		s.Inject(Fault{Target: "ListCertificates", Kind: FaultClockOffset, ClockOffset: -10 * time.Minute, Count: 1})
		behind := signer{cred: m, now: func() time.Time { return time.Now().Add(-10 * time.Minute) }}
		r = send(t, h, behind, "GET", "/v3/certificates", nil)
		ts, _ := strconv.ParseInt(r.header.Get("Wechatpay-Timestamp"), 10, 64)
		if d := time.Since(time.Unix(ts, 0)); d < 9*time.Minute {
			t.Fatalf("timestamp %s off", d)
		}
		if date, err := http.ParseTime(r.header.Get("Date")); err != nil || time.Since(date) < 9*time.Minute {
			t.Fatalf("the Date header %q does not show the offset (%v)", r.header.Get("Date"), err)
		}
		if err := verifyErr(s, r.header, r.body); err == nil || !strings.Contains(err.Error(), "off") {
			t.Fatalf("a client must refuse it for its age: %v", err)
		}
		if r := certs(); verifyErr(s, r.header, r.body) != nil {
			t.Fatal("faults outlived their counts")
		}
	})
	t.Run("always until cleared", func(t *testing.T) {
		id, _ := s.Inject(Fault{Kind: FaultNoSignature})
		for i := 0; i < 3; i++ {
			if r := certs(); r.header.Get("Wechatpay-Signature") != "" {
				t.Fatal("signed")
			}
		}
		if len(s.Faults()) != 1 || !s.ClearFault(id) {
			t.Fatal("not listed")
		}
		if r := certs(); r.header.Get("Wechatpay-Signature") == "" {
			t.Fatal("still unsigned")
		}
		s.Inject(Fault{Kind: FaultNoSignature})
		s.ClearFaults()
		if len(s.Faults()) != 0 {
			t.Fatal("ClearFaults left some")
		}
	})
	t.Run("reset in-process", func(t *testing.T) {
		s.Inject(Fault{Target: "ListCertificates", Kind: FaultReset, Count: 1})
		if r := certs(); r.status != 502 || len(r.body) != 0 {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
}

func TestFaultResetOverTCP(t *testing.T) {
	t.Parallel()
	spec, _ := testSpec()
	s := StartTest(t, WithSpec(spec), WithKeys(testKeys()...))
	if _, err := s.Inject(Fault{Target: "ListCertificates", Kind: FaultReset, Count: 1}); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", s.URL()+"/v3/certificates", nil)
	req.Header.Set("User-Agent", "test")
	req.Header.Set("Authorization", signer{cred: s.Merchant()}.authorization("GET", "/v3/certificates", nil))
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("got %d instead of a reset", resp.StatusCode)
	}
	// The next call goes through.
	req.Header.Set("Authorization", signer{cred: s.Merchant()}.authorization("GET", "/v3/certificates", nil))
	resp, err = http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("%v", err)
	}
	resp.Body.Close()
}

func TestNotificationFaults(t *testing.T) {
	t.Parallel()
	// A merchant endpoint that verifies signatures, as it must: probes and
	// bad signatures get 401, and WeChat retries.
	var sp atomic.Pointer[Server]
	var got atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got.Add(1)
		if verifyErr(sp.Load(), r.Header, b) != nil {
			w.WriteHeader(401)
			return
		}
		w.WriteHeader(200)
	}))
	t.Cleanup(srv.Close)
	s := newServer(t, WithTimeScale(0.001))
	sp.Store(s)
	s.Inject(Fault{Target: NotifyTarget, Kind: FaultSignTest, Count: 1})
	s.Inject(Fault{Target: NotifyTarget, Kind: FaultLatency, Latency: 20 * time.Millisecond, Count: 1})
	m := s.Merchant()
	otn := uniqueNo("NF")
	b := nativeBody(m, otn, 1)
	b["notify_url"] = srv.URL
	send(t, s.Handler(), signer{cred: m}, "POST", "/v3/pay/transactions/native", b)
	start := time.Now()
	_, _ = s.Pay(m.MchID, otn)
	d, err := s.WaitDelivery(ctx(t), nil)
	if err != nil || d.Status != DeliveryDelivered || len(d.Attempts) != 2 || d.Attempts[0].StatusCode != 401 || got.Load() != 2 {
		t.Fatalf("%s %v %v", d.Status, d.Attempts, err)
	}
	if time.Since(start) < 20*time.Millisecond {
		t.Fatal("no latency")
	}
	// Faults for API calls do not touch notifications.
	s.Inject(Fault{Kind: FaultBadSignature})
	if _, err := s.Redeliver(d.ID); err != nil {
		t.Fatal(err)
	}
	if last := s.Deliveries()[0].Attempts; last[len(last)-1].StatusCode != 200 {
		t.Fatalf("API fault applied to a notification: %v", last)
	}
}
