package wxpay_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/gowxpay/wxpay"
	"github.com/gowxpay/wxpay/gen/payscore"
	"github.com/gowxpay/wxpay/internal/wxtest"
)

// TestPayscoreDirectAnswersWithTheOrder checks the twins whose modes answer
// differently: in direct mode WeChat Pay answers cancelling a payscore order
// with 200 and the order's ids, which the mode-independent method returns;
// in partner mode it answers 204 without a body, and the method returns nil
// and no error.
func TestPayscoreDirectAnswersWithTheOrder(t *testing.T) {
	k := wxtest.LoadKeys(t)
	srv := wxtest.NewServer(t, k, func(r *wxtest.Request) wxtest.Reply {
		if strings.HasPrefix(r.URI, "/v3/payscore/partner/") {
			return wxtest.Reply{Status: http.StatusNoContent}
		}
		return wxtest.Reply{Body: `{"appid":"wxd678efh567hg6787","mchid":"1230000109","out_order_no":"PS-1","service_id":"500001","order_id":"15646546545165651651"}`}
	})
	for _, partner := range []bool{false, true} {
		t.Run(fmt.Sprintf("partner=%v", partner), func(t *testing.T) {
			c := newClient(t, srv, func(cfg *wxpay.Config) {
				cfg.PartnerMode = partner
				if partner {
					cfg.SubMchID = "1900000110"
				}
			})
			ids, err := c.Payscore.CancelOrder(context.Background(), "PS-1", &payscore.CancelOrderInput{ServiceID: "500001", Reason: "no longer needed"})
			if err != nil {
				t.Fatal(err)
			}
			wantURI := "/v3/payscore/serviceorder/PS-1/cancel"
			if partner {
				wantURI = "/v3/payscore/partner/serviceorder/PS-1/cancel"
			}
			if r := srv.Last(); r.URI != wantURI {
				t.Errorf("path %s, want %s", r.URI, wantURI)
			}
			switch {
			case partner && ids != nil:
				t.Errorf("partner mode answers without a body, but the result is %+v", ids)
			case !partner && (ids == nil || ids.OrderID != "15646546545165651651" || ids.OutOrderNo != "PS-1"):
				t.Errorf("direct mode: the order's ids are lost: %+v", ids)
			}
		})
	}
}
