// Command fiber receives WeChat Pay notifications with fiber v3, which runs
// on fasthttp rather than net/http.
//
//	WXPAY_APIV3_KEY=… WXPAY_PUBLIC_KEY_ID=PUB_KEY_ID_… WXPAY_PUBLIC_KEY_FILE=pub_key.pem go run ./fiber
//
// POST /wxpay/notify mounts callback.NewHandler through fiber's net/http
// adaptor. POST /wxpay/notify-manual calls Parse in a fiber handler with
// fasthttp's own types: the header is &c.Request().Header (a
// *fasthttp.RequestHeader, whose Peek method Parse reads; c.GetReqHeaders()
// works too), the body c.BodyRaw() (the bytes received, before any
// decompression). Both are valid only during the handler: Parse copies
// what it keeps, so the Event outlives them.
package main

import (
	"context"
	"log"
	"net/http"

	"github.com/gofiber/fiber/v3"
	"github.com/gofiber/fiber/v3/middleware/adaptor"
	"github.com/gowxpay/wxpay/callback"
	"github.com/gowxpay/wxpay/examples/internal/setup"
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
	app := newApp(parser, func(ctx context.Context, ev *callback.Event) error {
		select {
		case queue <- ev:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	log.Fatal(app.Listen(setup.Addr()))
}

// newApp routes the notify URLs; process records an event and returns
// quickly.
func newApp(parser *callback.Parser, process func(context.Context, *callback.Event) error) *fiber.App {
	app := fiber.New(fiber.Config{BodyLimit: callback.DefaultMaxBodySize})
	app.Post("/wxpay/notify", adaptor.HTTPHandler(callback.NewHandler(parser, process)))
	app.Post("/wxpay/notify-manual", func(c fiber.Ctx) error {
		ctx := c.Context()
		ev, err := parser.Parse(ctx, &c.Request().Header, c.BodyRaw())
		if err == nil {
			err = process(ctx, ev)
		}
		if err != nil {
			log.Printf("notification refused: %v", err)
		}
		status, fail := callback.Response(err)
		if fail == nil {
			return c.SendStatus(http.StatusOK)
		}
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
		return c.Status(status).Send(fail)
	})
	return app
}
