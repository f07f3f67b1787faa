package main

import (
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/gowxpay/wxpay/examples/internal/examplestest"
)

func TestNotify(t *testing.T) {
	gin.SetMode(gin.TestMode)
	f := examplestest.New(t)
	r := newRouter(f.Parser, f.Enqueue)
	t.Run("Handler", func(t *testing.T) {
		f.Check(t, examplestest.Server(t, r, "/wxpay/notify"), true)
	})
	t.Run("Parse", func(t *testing.T) {
		f.Check(t, examplestest.Server(t, r, "/wxpay/notify-manual"), false)
	})
}
