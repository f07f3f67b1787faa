package crosscheck

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func write(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, text := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func fieldsByPath(fs []Field) map[string]Field {
	m := map[string]Field{}
	for _, f := range fs {
		m[f.Path] = f
	}
	return m
}

func TestWechatpayGo(t *testing.T) {
	root := t.TempDir()
	write(t, root, map[string]string{
		"services/shop/models.go": `package shop

import "time"

type Color string

const (
	COLOR_RED  Color = "RED"
	COLOR_BLUE Color = "BLUE"
)

type CreateRequest struct {
	StockId *string ` + "`json:\"stock_id\"`" + `
	Colors  []Color ` + "`json:\"colors,omitempty\"`" + `
	Rule    *Rule   ` + "`json:\"rule\"`" + `
	Offset  *int64  ` + "`json:\"offset,omitempty\"`" + `
}

type Rule struct {
	Max   *int64     ` + "`json:\"max\"`" + `
	Begin *time.Time ` + "`json:\"begin,omitempty\"`" + `
	Color *Color     ` + "`json:\"color,omitempty\"`" + `
}

type Stock struct {
	StockId *string ` + "`json:\"stock_id\"`" + `
	Rules   []Rule  ` + "`json:\"rules,omitempty\"`" + `
}

type StopBody struct {
	Mchid *string ` + "`json:\"mchid\"`" + `
}
`,
		"services/shop/api_stock.go": `package shop

import (
	nethttp "net/http"
	neturl "net/url"
)

type StockApiService struct{}

func (a *StockApiService) Create(ctx context.Context, req CreateRequest) (resp *Stock, result *core.APIResult, err error) {
	var (
		localVarHTTPMethod  = nethttp.MethodPost
		localVarPostBody    interface{}
		localVarQueryParams neturl.Values
	)
	localVarPath := consts.WechatPayAPIServer + "/v3/shop/stocks/{stock_id}"
	localVarQueryParams.Add("offset", core.ParameterToString(*req.Offset, ""))
	localVarPostBody = req
	resp = new(Stock)
	return resp, result, nil
}

func (a *StockApiService) Stop(ctx context.Context, req CreateRequest) (result *core.APIResult, err error) {
	var (
		localVarHTTPMethod = nethttp.MethodPost
		localVarPostBody   interface{}
	)
	localVarPath := consts.WechatPayAPIServer + "/v3/shop/stocks/{stock_id}/stop"
	localVarPostBody = &StopBody{Mchid: nil}
	return result, nil
}
`,
	})
	ops, err := WechatpayGo(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(ops) != 2 {
		t.Fatalf("want 2 operations, have %d", len(ops))
	}
	c := ops[0]
	if c.Method != "POST" || c.Path != "/v3/shop/stocks/{stock_id}" || c.ResponseBody != "json" {
		t.Errorf("create: %+v", c)
	}
	if len(c.Query) != 1 || c.Query[0].Path != "offset" || c.Query[0].Type != "integer" || *c.Query[0].Required {
		t.Errorf("create query: %+v", c.Query)
	}
	req := fieldsByPath(c.Request)
	if _, ok := req["stock_id"]; ok {
		t.Error("the path parameter stock_id is in the body")
	}
	if _, ok := req["offset"]; ok {
		t.Error("the query parameter offset is in the body")
	}
	if f := req["colors[]"]; f.Type != "string" || !reflect.DeepEqual(f.Enum, []string{"BLUE", "RED"}) {
		t.Errorf("colors[]: %+v", f)
	}
	if f := req["rule"]; f.Type != "object" || f.Required == nil || !*f.Required {
		t.Errorf("rule: %+v", f)
	}
	if f := req["rule.begin"]; f.Type != "string" || *f.Required {
		t.Errorf("rule.begin: %+v", f)
	}
	resp := fieldsByPath(c.Response)
	if f := resp["rules[].max"]; f.Type != "integer" || !*f.Required {
		t.Errorf("rules[].max: %+v", f)
	}
	if f := resp["rules[].color"]; !reflect.DeepEqual(f.Enum, []string{"BLUE", "RED"}) {
		t.Errorf("rules[].color: %+v", f)
	}
	s := ops[1]
	if s.ResponseBody != "none" || len(s.Request) != 1 || s.Request[0].Path != "mchid" {
		t.Errorf("stop: %+v", s)
	}
}

func TestWechatpayJava(t *testing.T) {
	root := t.TempDir()
	base := "service/src/main/java/com/wechat/pay/java/service/shop/"
	write(t, root, map[string]string{
		base + "ShopService.java": `package com.wechat.pay.java.service.shop;

public class ShopService {
  public Stock queryStock(QueryStockRequest request) {
    String requestPath =
        "https://api.mch.weixin.qq.com/v3/shop/stocks/{stock_id}";
    QueryStockRequest realRequest = request;
    requestPath = requestPath.replace("{" + "stock_id" + "}", urlEncode(realRequest.getStockId()));
    QueryParameter queryParameter = new QueryParameter();
    if (realRequest.getMchid() != null) {
      queryParameter.add("mchid", urlEncode(realRequest.getMchid()));
    }
    HttpRequest httpRequest =
        new HttpRequest.Builder()
            .httpMethod(HttpMethod.GET)
            .build();
    HttpResponse<Stock> httpResponse = httpClient.execute(httpRequest, Stock.class);
    return httpResponse.getServiceResponse();
  }

  public void closeStock(CloseRequest request) {
    String requestPath = "https://api.mch.weixin.qq.com/v3/shop/stocks/{stock_id}/close";
    CloseRequest realRequest = request;
    HttpRequest httpRequest =
        new HttpRequest.Builder()
            .httpMethod(HttpMethod.POST)
            .body(createRequestBody(realRequest))
            .build();
    httpClient.execute(httpRequest, null);
  }
}
`,
		base + "model/QueryStockRequest.java": `package com.wechat.pay.java.service.shop.model;
public class QueryStockRequest {
  @SerializedName("mchid")
  @Expose(serialize = false)
  private String mchid;

  @SerializedName("stock_id")
  @Expose(serialize = false)
  private String stockId;
}
`,
		base + "model/CloseRequest.java": `package com.wechat.pay.java.service.shop.model;
public class CloseRequest {
  @SerializedName("stock_id")
  @Expose(serialize = false)
  private String stockId;

  @SerializedName("reason")
  private String reason;
}
`,
		base + "model/Stock.java": `package com.wechat.pay.java.service.shop.model;
public class Stock {
  @SerializedName("amount")
  private Long amount;

  @SerializedName("limits")
  private List<LimitEnum> limits = new ArrayList<LimitEnum>();

  @SerializedName("color")
  private Color color;

  public enum LimitEnum {
    @SerializedName("no_credit")
    NO_CREDIT,

    @SerializedName("no_debit")
    NO_DEBIT
  }
}
`,
		base + "model/Color.java": `package com.wechat.pay.java.service.shop.model;
public enum Color {
  @SerializedName("RED")
  RED,

  @SerializedName("BLUE")
  BLUE
}
`,
	})
	ops, err := WechatpayJava(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(ops) != 2 {
		t.Fatalf("want 2 operations, have %d", len(ops))
	}
	q, c := ops[0], ops[1]
	if q.Method != "GET" || q.Path != "/v3/shop/stocks/{stock_id}" || len(q.Request) != 0 || q.ResponseBody != "json" {
		t.Errorf("query: %+v", q)
	}
	if len(q.Query) != 1 || q.Query[0].Path != "mchid" || q.Query[0].Required != nil {
		t.Errorf("query parameters: %+v", q.Query)
	}
	resp := fieldsByPath(q.Response)
	if resp["amount"].Type != "integer" || !reflect.DeepEqual(resp["limits[]"].Enum, []string{"no_credit", "no_debit"}) || !reflect.DeepEqual(resp["color"].Enum, []string{"BLUE", "RED"}) {
		t.Errorf("response: %+v", q.Response)
	}
	if c.Method != "POST" || c.ResponseBody != "none" || len(c.Request) != 1 || c.Request[0].Path != "reason" {
		t.Errorf("close: %+v", c)
	}
}

func TestGopay(t *testing.T) {
	root := t.TempDir()
	write(t, root, map[string]string{
		"wechat/v3/constant.go": `package wechat

const (
	MethodPost = "POST"
	v3Cancel = "/v3/shop/orders/%s/cancel"
	v3Query  = "/v3/shop/orders"
)
`,
		"wechat/v3/model.go": `package wechat

type EmptyRsp struct{ Code int ` + "`json:\"-\"`" + ` }
type OrderRsp struct {
	Code     int    ` + "`json:\"-\"`" + `
	Response *Order ` + "`json:\"response,omitempty\"`" + `
}
type Order struct {
	OrderId string  ` + "`json:\"order_id\"`" + `
	Items   []*Item ` + "`json:\"items,omitempty\"`" + `
}
type Item struct {
	Amount int ` + "`json:\"amount\"`" + `
}
`,
		"wechat/v3/order.go": `package wechat

func (c *ClientV3) Query(ctx context.Context, bm gopay.BodyMap) (wxRsp *OrderRsp, err error) {
	uri := v3Query + "?" + bm.EncodeURLParams()
	authorization, err := c.authorization(MethodGet, uri, nil)
	wxRsp = &OrderRsp{Code: Success, Response: new(Order)}
	return wxRsp, nil
}

func (c *ClientV3) Cancel(ctx context.Context, no string) (wxRsp *EmptyRsp, err error) {
	uri := fmt.Sprintf(v3Cancel, no)
	authorization, err := c.authorization(MethodPost, uri, nil)
	return &EmptyRsp{}, nil
}
`,
	})
	ops, err := Gopay(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(ops) != 2 {
		t.Fatalf("want 2 operations, have %d", len(ops))
	}
	q, c := ops[0], ops[1]
	if q.Method != "GET" || q.Path != "/v3/shop/orders" || q.ResponseBody != "json" {
		t.Errorf("query: %+v", q)
	}
	if f := fieldsByPath(q.Response)["items[].amount"]; f.Type != "integer" || f.Required != nil {
		t.Errorf("items[].amount: %+v", f)
	}
	if c.Method != "POST" || c.Path != "/v3/shop/orders/{p1}/cancel" || c.ResponseBody != "none" {
		t.Errorf("cancel: %+v", c)
	}
	if Key(c.Method, c.Path) != Key("post", "/v3/shop/orders/{out_order_no}/cancel") {
		t.Error("Key does not blank path parameter names")
	}
}

func TestMarshalReadsBack(t *testing.T) {
	f := &Fixture{
		Sources: []Source{{Name: "a", Commit: "c"}},
		Ops: []*Op{
			{Source: "a", Name: "z", Method: "GET", Path: "/v3/b", Response: []Field{{Path: "x", Type: "string", Enum: []string{"A"}, Required: Bool(true)}}, ResponseBody: "json"},
			{Source: "a", Name: "y", Method: "POST", Path: "/v3/a", Query: []Field{{Path: "q", Type: "integer"}}, Request: []Field{{Path: "o", Type: "object", Open: true}}},
		},
	}
	b, err := f.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var back Fixture
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&back, f) {
		t.Errorf("read back differently:\n%s", b)
	}
	if back.Ops[0].Path != "/v3/a" {
		t.Error("operations are not sorted by path")
	}
}
