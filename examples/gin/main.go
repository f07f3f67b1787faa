// Command gin receives WeChat Pay notifications with gin.
//
//	WXPAY_APIV3_KEY=… WXPAY_PUBLIC_KEY_ID=PUB_KEY_ID_… WXPAY_PUBLIC_KEY_FILE=pub_key.pem go run ./gin   (in examples/)
//
// POST /wxpay/notify mounts callback.NewHandler with gin.WrapH.
// POST /wxpay/notify-manual calls Parse in a gin handler: the raw body from
// c.GetRawData (never ShouldBindJSON, which decodes it and breaks the
// signature) and the headers through c.GetHeader.
package main

import (
	"context"
	"log"
	"net/http"

	"github.com/gin-gonic/gin"
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
	log.Fatal(newRouter(parser, func(ctx context.Context, ev *callback.Event) error {
		select {
		case queue <- ev:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}).Run(setup.Addr()))
}

// newRouter routes the notify URLs; process records an event and returns
// quickly.
func newRouter(parser *callback.Parser, process func(context.Context, *callback.Event) error) *gin.Engine {
	r := gin.New()
	r.Use(gin.Recovery())
	r.POST("/wxpay/notify", gin.WrapH(callback.NewHandler(parser, process)))
	r.POST("/wxpay/notify-manual", func(c *gin.Context) {
		body, err := c.GetRawData()
		if err == nil {
			var ev *callback.Event
			// c.GetHeader is a func(string) string; c.Request.Header works too.
			if ev, err = parser.Parse(c.Request.Context(), c.GetHeader, body); err == nil {
				err = process(c.Request.Context(), ev)
			}
		}
		if err != nil {
			_ = c.Error(err)
		}
		status, fail := callback.Response(err)
		if fail == nil {
			c.Status(http.StatusOK)
			return
		}
		c.Data(status, "application/json", fail)
	})
	return r
}
