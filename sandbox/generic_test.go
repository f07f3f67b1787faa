package sandbox

import (
	"strings"
	"testing"
	"time"
)

const genericSpec = `
openapi: 3.0.3
info: {title: generic, version: "1"}
paths:
  /v3/echo/{thing_id}:
    post:
      operationId: Echo
      parameters:
        - {name: thing_id, in: path, required: true, schema: {type: string}}
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [mchid, out_trade_no, amount]
              properties:
                mchid: {type: string}
                out_trade_no: {type: string}
                amount:
                  type: object
                  properties:
                    total: {type: integer}
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema:
                type: object
                required: [mchid, out_trade_no, thing_id, state, created, amount, code]
                properties:
                  mchid: {type: string}
                  out_trade_no: {type: string}
                  thing_id: {type: string}
                  state: {type: string, enum: [ACCEPTED, DONE]}
                  created: {type: string, format: date-time}
                  code: {type: string, pattern: '^[A-Z]{3}[0-9]{4}$'}
                  amount:
                    type: object
                    properties:
                      total: {type: integer}
                      currency: {type: string}
                  items:
                    type: array
                    items: {type: object, properties: {n: {type: integer, minimum: 5}}}
  /v3/example:
    get:
      operationId: Example
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema:
                type: object
                properties:
                  greeting: {type: string}
              example: {greeting: 你好}
  /v3/nothing:
    post:
      operationId: Nothing
      responses:
        '204': {description: done}
`

func TestGenericAnswers(t *testing.T) {
	t.Parallel()
	spec, err := LoadSpec([]byte(genericSpec))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	s, err := New(WithSpec(spec), WithKeys(testKeys()...), WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	m := s.Merchant()
	sg := signer{cred: m, now: func() time.Time { return now }}
	r := send(t, s.Handler(), sg, "POST", "/v3/echo/T-42", map[string]any{"mchid": m.MchID, "out_trade_no": "ORDER-1", "amount": map[string]any{"total": 77}})
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	v := r.json(t)
	if v["mchid"] != m.MchID || v["out_trade_no"] != "ORDER-1" || v["thing_id"] != "T-42" || v["state"] != "ACCEPTED" ||
		v["created"] != "2026-03-04T13:06:07+08:00" || v["amount"].(map[string]any)["total"] != 77.0 {
		t.Fatalf("echo: %s", r.body)
	}
	if code, _ := v["code"].(string); len(code) != 7 || strings.ToUpper(code) != code {
		t.Fatalf("pattern: %q", v["code"])
	}
	if n := v["items"].([]any)[0].(map[string]any)["n"]; n != 5.0 {
		t.Fatalf("minimum: %v", n)
	}
	r = send(t, s.Handler(), sg, "GET", "/v3/example", nil)
	if r.status != 200 || r.json(t)["greeting"] != "你好" {
		t.Fatalf("example: %d %s", r.status, r.body)
	}
	r = send(t, s.Handler(), sg, "POST", "/v3/nothing", nil)
	if r.status != 204 || len(r.body) != 0 || r.header.Get("Wechatpay-Signature") == "" {
		t.Fatalf("204: %d %v", r.status, r.header)
	}
}

func TestFit(t *testing.T) {
	t.Parallel()
	spec, err := LoadSpec([]byte(genericSpec))
	if err != nil {
		t.Fatal(err)
	}
	op, _ := spec.Operation("Echo")
	schema := op.responseSchema(200)
	g := &synth{now: time.Now()}
	v := g.fit(schema, "", normalize(map[string]any{"mchid": "1", "unknown": true, "state": "NOPE", "amount": map[string]any{"total": 3, "extra": 1}}), 0).(map[string]any)
	if _, ok := v["unknown"]; ok {
		t.Fatal("kept an unknown property")
	}
	if v["state"] != "ACCEPTED" || v["mchid"] != "1" || v["out_trade_no"] == nil || v["amount"].(map[string]any)["extra"] != nil {
		t.Fatalf("fit: %v", v)
	}
	if !validates(schema, v) {
		t.Fatalf("fit result invalid: %v", v)
	}
}
