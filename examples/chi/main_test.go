package main

import (
	"testing"

	"github.com/gowxpay/wxpay/examples/internal/examplestest"
)

func TestNotify(t *testing.T) {
	f := examplestest.New(t)
	f.Check(t, examplestest.Server(t, newRouter(f.Parser, f.Enqueue), "/wxpay/notify"), true)
}
