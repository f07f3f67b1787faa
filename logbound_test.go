package wxpay_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/gowxpay/wxpay"
	"github.com/gowxpay/wxpay/internal/wxtest"
)

// TestRequestLogBounded: answers with a huge Request-ID and a huge error
// message make request log lines of bounded size.
func TestRequestLogBounded(t *testing.T) {
	k := wxtest.LoadKeys(t)
	big := strings.Repeat("R", 200<<10)
	srv := wxtest.NewServer(t, k, func(r *wxtest.Request) wxtest.Reply {
		return wxtest.Reply{Status: 400, Body: `{"code":"PARAM_ERROR","message":"` + strings.Repeat("m", 200<<10) + `"}`, Header: map[string]string{"Request-ID": big}}
	})
	var log bytes.Buffer
	c := newClient(t, srv, func(cfg *wxpay.Config) {
		cfg.Logger = slog.New(slog.NewJSONHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	if _, err := c.Payments.QueryOrderByOutTradeNo(context.Background(), "X1", nil); err == nil {
		t.Fatal("no error")
	}
	if log.Len() == 0 || log.Len() > 8<<10 {
		t.Fatalf("%d bytes of log for one call", log.Len())
	}
	if !strings.Contains(log.String(), "cut, ") {
		t.Fatalf("nothing marked as cut: %.500s", log.String())
	}
}
