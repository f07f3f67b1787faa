package main

import (
	"testing"

	"github.com/gowxpay/wxpay/examples/internal/examplestest"
)

func TestNotify(t *testing.T) {
	f := examplestest.New(t)
	mux := newMux(f.Parser, f.Enqueue)
	t.Run("Handler", func(t *testing.T) {
		f.Check(t, examplestest.Server(t, mux, "/wxpay/notify"), true)
	})
	t.Run("Parse", func(t *testing.T) {
		f.Check(t, examplestest.Server(t, mux, "/wxpay/notify-manual"), false)
	})
}
