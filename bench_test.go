package wxpay_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/gowxpay/wxpay"
	"github.com/gowxpay/wxpay/auth"
	"github.com/gowxpay/wxpay/core"
	"github.com/gowxpay/wxpay/gen/payments"
	"github.com/gowxpay/wxpay/internal/wxtest"
)

// The round-trip benchmarks compare three ways of making the same call
// against the same local server, which answers with a pre-signed body so
// that its own cost is negligible:
//
//   - floor: a plain http.Client sending the same bytes and reading the
//     answer: what any client pays for HTTP on this machine;
//   - stub: the wxpay client with the RSA signature and verification
//     replaced by stubs through auth.Signer and auth.Verifier: stub − floor
//     is the client's own work (building, encoding, signing strings,
//     verification bookkeeping, decoding);
//   - rsa: the real client, real RSA-2048 signing and verification.
//
// Run: go test -run '^$' -bench RoundTrip -benchmem -cpu 1,2 .

const codeURLAnswer = `{"code_url":"weixin://wxpay/bizpayurl?pr=NwY5Mz9&groupid=00"}`

// transactionAnswer has the shape of the query answer in WeChat Pay's
// documentation (a paid JSAPI order); transactionRichAnswer adds a scene
// and a promotion, which cost the decoder a dozen more allocations.
const transactionAnswer = `{"amount":{"currency":"CNY","payer_currency":"CNY","payer_total":100,"total":100},"appid":"wxd678efh567hg6787",` +
	`"attach":"","bank_type":"OTHERS","mchid":"1900000109","out_trade_no":"1217752501201407033233368018","payer":{"openid":"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},` +
	`"promotion_detail":[],"success_time":"2026-11-24T10:29:05+08:00","trade_state":"SUCCESS","trade_state_desc":"支付成功","trade_type":"JSAPI",` +
	`"transaction_id":"4200000891202611248088184743"}`

const transactionRichAnswer = `{"appid":"wxd678efh567hg6787","mchid":"1900000109","out_trade_no":"1217752501201407033233368018",` +
	`"transaction_id":"4200000263202611240000000001","trade_type":"NATIVE","trade_state":"SUCCESS","trade_state_desc":"支付成功",` +
	`"bank_type":"CMC","attach":"自定义数据","success_time":"2026-11-24T10:34:56+08:00","payer":{"openid":"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},` +
	`"amount":{"total":100,"payer_total":90,"currency":"CNY","payer_currency":"CNY"},"scene_info":{"device_id":"013467007045764"},` +
	`"promotion_detail":[{"coupon_id":"109519","name":"单品惠-6","scope":"SINGLE","type":"CASH","amount":10,"stock_id":"931386",` +
	`"wechatpay_contribute":0,"merchant_contribute":10,"other_contribute":0,"currency":"CNY"}]}`

// prepayInput is a realistic Native order: its body is about 900 bytes.
func prepayInput() *payments.NativePrepayInput {
	return &payments.NativePrepayInput{
		Description: "Image形象店-深圳腾大-QQ公仔",
		OutTradeNo:  "1217752501201407033233368018",
		Attach:      "自定义数据说明",
		GoodsTag:    "WXG",
		Amount:      payments.Amount{Total: 100, Currency: "CNY"},
		Detail: payments.OrderDetail{CostPrice: wxpay.Ptr[int64](608800), InvoiceID: "微信123", GoodsDetail: []payments.GoodsDetail{
			{MerchantGoodsID: "1246464644", WechatpayGoodsID: "1001", GoodsName: "iPhoneX 256G", Quantity: 1, UnitPrice: 528800},
			{MerchantGoodsID: "1246464645", WechatpayGoodsID: "1002", GoodsName: "iPhone case", Quantity: 2, UnitPrice: 40000},
		}},
		SceneInfo: payments.SceneInfo{PayerClientIP: "14.23.150.211", DeviceID: "013467007045764",
			StoreInfo: payments.StoreInfo{ID: "0001", Name: "腾讯大厦分店", AreaCode: "440305", Address: "广东省深圳市南山区科技中一道10000号"}},
		SettleInfo: payments.SettleInfoInput{ProfitSharing: wxpay.Ptr(false)},
	}
}

func benchServer(b *testing.B) *wxtest.Server {
	k := wxtest.LoadKeys(b)
	return wxtest.NewBenchServer(b, k, func(r *wxtest.Request) wxtest.Reply {
		if strings.Contains(r.URI, "rich") {
			return wxtest.Reply{Body: transactionRichAnswer}
		}
		if r.Method == http.MethodGet {
			return wxtest.Reply{Body: transactionAnswer}
		}
		return wxtest.Reply{Body: codeURLAnswer}
	})
}

type stubSigner struct{}

func (stubSigner) Sign([]byte) ([]byte, error) { return make([]byte, 256), nil }

// stubClient is the real client stack with the RSA arithmetic stubbed out:
// the same core.Conn, auth.RequestSigner and auth.Transport that
// wxpay.NewClient wires, with a Signer and a Verifier that do no math.
func stubClient(b *testing.B, srv *wxtest.Server) *payments.Client {
	k := srv.Keys
	signer, err := auth.NewRequestSigner(k.MchID, k.MerchantSerial, stubSigner{})
	if err != nil {
		b.Fatal(err)
	}
	verifier := auth.VerifierFunc(func(context.Context, string, []byte, string) error { return nil })
	conn, err := core.NewConn(core.Options{
		BaseURL:    srv.URL,
		HTTPClient: &http.Client{Transport: &auth.Transport{Verifier: verifier}},
		Authorizer: signer,
		Mode:       core.Mode{MchID: k.MchID, AppID: "wxd678efh567hg6787", NotifyURL: "https://merchant.example/notify"},
	})
	if err != nil {
		b.Fatal(err)
	}
	return payments.New(conn)
}

func rsaClient(b *testing.B, srv *wxtest.Server) *wxpay.Client {
	c, err := wxpay.NewClient(context.Background(), srv.Keys.Config(srv.URL))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	return c
}

// floor sends body (nil for GET) to path with a plain http.Client, with the
// headers a signed request carries, and reads the answer.
func floor(b *testing.B, srv *wxtest.Server, method, path string, body []byte) func() {
	client := &http.Client{}
	authz := `WECHATPAY2-SHA256-RSA2048 mchid="1900000109",nonce_str="` + strings.Repeat("N", 32) + `",timestamp="1700000000",serial_no="` + srv.Keys.MerchantSerial + `",signature="` + strings.Repeat("S", 344) + `"`
	return func() {
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		req, err := http.NewRequest(method, srv.URL+path, rd)
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Authorization", authz)
		req.Header.Set("Accept", "application/json")
		req.Header.Set("User-Agent", "floor")
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadAll(resp.Body); err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
	}
}

func prepayBody(b *testing.B) []byte {
	in := prepayInput()
	body, err := json.Marshal(payments.NativePrepayRequest{
		AppID: "wxd678efh567hg6787", MchID: "1900000109", NotifyURL: "https://merchant.example/notify",
		Description: in.Description, OutTradeNo: in.OutTradeNo, Attach: in.Attach, GoodsTag: in.GoodsTag,
		Amount: in.Amount, Detail: in.Detail, SceneInfo: in.SceneInfo,
	})
	if err != nil {
		b.Fatal(err)
	}
	return body
}

func BenchmarkRoundTripPrepay(b *testing.B) {
	srv := benchServer(b)
	ctx := context.Background()
	in := prepayInput()
	b.Run("floor", func(b *testing.B) {
		body := prepayBody(b)
		b.ReportMetric(float64(len(body)), "body-bytes")
		do := floor(b, srv, http.MethodPost, "/v3/pay/transactions/native", body)
		b.ReportAllocs()
		for b.Loop() {
			do()
		}
	})
	b.Run("stub", func(b *testing.B) {
		c := stubClient(b, srv)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.NativePrepay(ctx, in); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("rsa", func(b *testing.B) {
		c := rsaClient(b, srv)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.Payments.NativePrepay(ctx, in); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkRoundTripQuery(b *testing.B) {
	benchQuery(b, "4200000263202611240000000001")
}

// BenchmarkRoundTripQueryRich answers with transactionRichAnswer.
func BenchmarkRoundTripQueryRich(b *testing.B) {
	benchQuery(b, "rich")
}

func benchQuery(b *testing.B, id string) {
	srv := benchServer(b)
	ctx := context.Background()
	b.Run("floor", func(b *testing.B) {
		do := floor(b, srv, http.MethodGet, "/v3/pay/transactions/id/"+id+"?mchid=1900000109", nil)
		b.ReportAllocs()
		for b.Loop() {
			do()
		}
	})
	b.Run("stub", func(b *testing.B) {
		c := stubClient(b, srv)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.QueryOrderByID(ctx, id, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("rsa", func(b *testing.B) {
		c := rsaClient(b, srv)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.Payments.QueryOrderByID(ctx, id, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkRoundTripPrepayParallel runs real RSA prepay calls from parallel
// goroutines; compare -cpu 1 and -cpu 2 for the scaling.
func BenchmarkRoundTripPrepayParallel(b *testing.B) {
	srv := benchServer(b)
	c := rsaClient(b, srv)
	in := prepayInput()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.Payments.NativePrepay(context.Background(), in); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
