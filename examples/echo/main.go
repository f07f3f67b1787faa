// Command echo receives WeChat Pay notifications with echo.
//
//	WXPAY_APIV3_KEY=… WXPAY_PUBLIC_KEY_ID=PUB_KEY_ID_… WXPAY_PUBLIC_KEY_FILE=pub_key.pem go run ./echo
//
// POST /wxpay/notify mounts callback.NewHandler with echo.WrapHandler.
// POST /wxpay/notify-manual calls Parse in an echo handler: the raw body read
// from c.Request().Body (never c.Bind, which decodes it) and the request's
// http.Header.
package main

import (
	"context"
	"io"
	"log"
	"net/http"

	"github.com/gowxpay/wxpay/callback"
	"github.com/gowxpay/wxpay/examples/internal/setup"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

func main() {
	parser, keys, err := setup.FromEnv()
	if err != nil {
		log.Fatal(err)
	}
	defer keys.Close()
	queue := make(chan *callback.Event, 1024) // stands in for a durable queue
	go func() {
		for ev := range queue {
			log.Printf("notification %s (%s)", ev.ID, ev.EventType)
		}
	}()
	e := newServer(parser, func(ctx context.Context, ev *callback.Event) error {
		select {
		case queue <- ev:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	log.Fatal(e.Start(setup.Addr()))
}

// newServer routes the notify URLs; process records an event and returns
// quickly.
func newServer(parser *callback.Parser, process func(context.Context, *callback.Event) error) *echo.Echo {
	e := echo.New()
	e.HideBanner = true
	e.Use(middleware.Recover())
	e.POST("/wxpay/notify", echo.WrapHandler(callback.NewHandler(parser, process)))
	e.POST("/wxpay/notify-manual", func(c echo.Context) error {
		req := c.Request()
		body, err := io.ReadAll(io.LimitReader(req.Body, callback.DefaultMaxBodySize))
		if err == nil {
			var ev *callback.Event
			if ev, err = parser.Parse(req.Context(), req.Header, body); err == nil {
				err = process(req.Context(), ev)
			}
		}
		if err != nil {
			c.Logger().Warn(err)
		}
		status, fail := callback.Response(err)
		if fail == nil {
			return c.NoContent(http.StatusOK)
		}
		return c.Blob(status, echo.MIMEApplicationJSON, fail)
	})
	return e
}
