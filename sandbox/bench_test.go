package sandbox

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// signedPrepays signs n NativePrepay requests ahead of time, so that the
// benchmark measures the server only: signature verification, validation,
// state and the signed answer.
func signedPrepays(b *testing.B, s *Server, n int) []*http.Request {
	m := s.Merchant()
	sg := signer{cred: m}
	reqs := make([]*http.Request, n)
	for i := range reqs {
		body, _ := json.Marshal(nativeBody(m, uniqueNo("B"), 100+i%50))
		req := httptest.NewRequest("POST", "/v3/pay/transactions/native", bytes.NewReader(body))
		req.Header.Set("Authorization", sg.authorization("POST", "/v3/pay/transactions/native", body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", "bench")
		reqs[i] = req
	}
	return reqs
}

// BenchmarkNativePrepay: one signed NativePrepay through the whole handler.
func BenchmarkNativePrepay(b *testing.B) {
	s := newServer(b)
	reqs := signedPrepays(b, s, b.N)
	h := s.Handler()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, reqs[i])
		if rec.Code != 200 {
			b.Fatalf("%d %s", rec.Code, rec.Body)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
}

// BenchmarkNativePrepayParallel: the same from GOMAXPROCS goroutines.
func BenchmarkNativePrepayParallel(b *testing.B) {
	s := newServer(b)
	reqs := signedPrepays(b, s, b.N)
	h := s.Handler()
	var next atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, reqs[next.Add(1)-1])
			if rec.Code != 200 {
				b.Errorf("%d %s", rec.Code, rec.Body)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
}
