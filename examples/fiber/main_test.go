package main

import (
	"io"
	"testing"
	"time"

	"github.com/gofiber/fiber/v3"
	"github.com/gowxpay/wxpay/callback/callbacktest"
	"github.com/gowxpay/wxpay/examples/internal/examplestest"
)

// send posts a notification through fiber's own test path (app.Test), so
// the request is parsed by fasthttp as in production.
func send(app *fiber.App, path string) examplestest.Send {
	return func(t testing.TB, d *callbacktest.Delivery) (int, []byte) {
		t.Helper()
		req, err := d.NewRequest("http://merchant.example" + path)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := app.Test(req, fiber.TestConfig{Timeout: 10 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, body
	}
}

func TestNotify(t *testing.T) {
	f := examplestest.New(t)
	app := newApp(f.Parser, f.Enqueue)
	t.Run("Handler", func(t *testing.T) {
		f.Check(t, send(app, "/wxpay/notify"), true)
	})
	t.Run("Parse", func(t *testing.T) {
		f.Check(t, send(app, "/wxpay/notify-manual"), false)
	})
}
