package main

import (
	"testing"

	"github.com/gowxpay/wxpay/examples/internal/examplestest"
)

func TestNotify(t *testing.T) {
	f := examplestest.New(t)
	e := newServer(f.Parser, f.Enqueue)
	t.Run("Handler", func(t *testing.T) {
		f.Check(t, examplestest.Server(t, e, "/wxpay/notify"), true)
	})
	t.Run("Parse", func(t *testing.T) {
		f.Check(t, examplestest.Server(t, e, "/wxpay/notify-manual"), false)
	})
}
