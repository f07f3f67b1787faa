package wxpay_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/gowxpay/wxpay"
	"github.com/gowxpay/wxpay/gen/bills"
	"github.com/gowxpay/wxpay/internal/wxtest"
)

// countingWriter counts what DownloadBill writes.
type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

// TestDownloadBillBounded: 1 MiB of gzip that would expand to 1 GiB stops
// after a few MiB, before any digest check; a plain bill over
// Config.MaxBillSize stops at the limit.
func TestDownloadBillBounded(t *testing.T) {
	k := wxtest.LoadKeys(t)
	// 128 gzip members of 8 MiB of zeros each: 1 GiB from about 1 MiB.
	var member bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&member, gzip.BestCompression)
	zero := make([]byte, 1<<20)
	for range 8 {
		zw.Write(zero)
	}
	zw.Close()
	bomb := bytes.Repeat(member.Bytes(), 128)
	if len(bomb) > 2<<20 {
		t.Fatalf("the bomb has %d bytes", len(bomb))
	}
	plain := strings.Repeat("`x,`y\r\n", 1000)
	srv := wxtest.NewServer(t, k, func(r *wxtest.Request) wxtest.Reply {
		if strings.Contains(r.URI, "tartype=gzip") {
			return wxtest.Reply{Body: string(bomb), Unsigned: true, Header: map[string]string{"Content-Type": "application/x-gzip"}}
		}
		return wxtest.Reply{Body: plain, Unsigned: true, Header: map[string]string{"Content-Type": "text/plain"}}
	})
	c := newClient(t, srv, nil)
	var w countingWriter
	n, err := c.DownloadBill(context.Background(), &bills.Bill{DownloadURL: srv.URL + "/v3/billdownload/file?token=B&tartype=gzip", HashType: "SHA1", HashValue: strings.Repeat("0", 40)}, &w)
	if !errors.Is(err, wxpay.ErrBillTooLarge) {
		t.Fatalf("gzip bomb: %v", err)
	}
	if n != w.n || n > 16<<20 {
		t.Fatalf("gzip bomb: %d bytes written (%d reported) from %d compressed", w.n, n, len(bomb))
	}
	t.Logf("gzip bomb of %d bytes (1 GiB expanded): stopped after %d bytes", len(bomb), n)

	small := newClient(t, srv, func(cfg *wxpay.Config) { cfg.MaxBillSize = 1000 })
	w = countingWriter{}
	n, err = small.DownloadBill(context.Background(), &bills.Bill{DownloadURL: srv.URL + "/v3/billdownload/file?token=P", HashType: "SHA1", HashValue: strings.Repeat("0", 40)}, &w)
	if !errors.Is(err, wxpay.ErrBillTooLarge) || n != 1000 || w.n != 1000 {
		t.Fatalf("plain bill over the limit: %d bytes, %v", n, err)
	}
	// At the limit exactly, it is the digest that decides.
	exact := newClient(t, srv, func(cfg *wxpay.Config) { cfg.MaxBillSize = int64(len(plain)) })
	if _, err := exact.DownloadBill(context.Background(), &bills.Bill{DownloadURL: srv.URL + "/v3/billdownload/file?token=P", HashType: "SHA1", HashValue: strings.Repeat("0", 40)}, io.Discard); errors.Is(err, wxpay.ErrBillTooLarge) || err == nil {
		t.Fatalf("a bill of exactly the limit: %v", err)
	}
}
