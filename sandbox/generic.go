package sandbox

import (
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// registerHandlers keys the stateful handlers by operationId. Operations
// the spec does not have are simply never routed; every other operation of
// the spec gets the generic answer.
func (s *Server) registerHandlers() {
	s.handlers = map[string]opHandler{
		"ListCertificates":              s.listCertificates,
		"CodePay":                       s.codePay,
		"PartnerCodePay":                s.codePay,
		"QueryOrderByID":                s.queryOrder,
		"PartnerQueryOrderByID":         s.queryOrder,
		"QueryOrderByOutTradeNo":        s.queryOrder,
		"PartnerQueryOrderByOutTradeNo": s.queryOrder,
		"CloseOrder":                    s.closeOrder,
		"PartnerCloseOrder":             s.closeOrder,
		"ReverseOrder":                  s.reverseOrder,
		"PartnerReverseOrder":           s.reverseOrder,
		"QueryCombineOrder":             s.queryCombine,
		"CloseCombineOrder":             s.closeCombine,
		"CreateRefund":                  s.createRefund,
		"QueryRefund":                   s.queryRefund,
		"ApplyAbnormalRefund":           s.applyAbnormalRefund,
		"ApplyTradeBill":                s.applyBill,
		"ApplyFundFlowBill":             s.applyBill,
		"ApplySubMerchantFundFlowBill":  s.applySubMerchantBill,
		"DownloadBill":                  s.downloadBill,
	}
	s.registerProfitSharing()
	s.registerTransfers()
	s.registerComplaints()
	s.registerPayscore()
	s.registerEcommerce()
	for id := range prepayTypes {
		if strings.HasPrefix(id, "Combine") {
			s.handlers[id] = s.combinePrepay
		} else {
			s.handlers[id] = s.prepay
		}
	}
}

// StatefulOperations lists the operationIds the sandbox answers with state
// (whether or not the spec has them yet).
func StatefulOperations() []string {
	s := &Server{}
	s.registerHandlers()
	out := make([]string, 0, len(s.handlers))
	for id := range s.handlers {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// IsStateful reports whether the sandbox answers the operation with state.
func (s *Server) IsStateful(operationID string) bool {
	_, ok := s.handlers[operationID]
	return ok
}

// generic answers an operation the sandbox keeps no state for: its success
// response, from the spec's example when there is one, else synthesized
// from the schema, echoing request values whose names match (as
// stripe-mock does).
func (s *Server) generic(c *call) *answer {
	status, resp := c.op.successResponse()
	if resp == nil {
		return c.noContent(http.StatusNoContent)
	}
	if len(resp.Content) == 0 {
		return c.noContent(status)
	}
	if mt := resp.Content.Get("application/json"); mt != nil {
		echo := c.echo()
		c.addCallerIdentities(echo)
		g := &synth{now: s.now(), all: true, echo: echo}
		var v any
		if ex := mediaExample(mt); ex != nil {
			v = g.fit(schemaOf(mt), "", normalize(ex), 0)
			replaceIdentities(v, echo, 0)
		} else {
			v = g.value(schemaOf(mt), "", g.echo, 0)
		}
		c.dropSubMerchant(schemaOf(mt), v, echo)
		c.encryptSensitiveAnswer(schemaOf(mt), v)
		v = c.page(v)
		b, err := json.Marshal(v)
		if err != nil {
			return c.fail(http.StatusInternalServerError, "SYSTEM_ERROR", "系统错误")
		}
		return &answer{status: status, body: b, contentType: "application/json", signed: !c.op.Unsigned}
	}
	// A file: the first declared content type, a few bytes of it.
	for ct := range resp.Content {
		body := []byte("wxpay sandbox file\n")
		if strings.HasPrefix(ct, "image/") {
			body = tinyPNG
			ct = "image/png"
		}
		return &answer{status: status, body: body, contentType: ct, signed: !c.op.Unsigned}
	}
	return c.noContent(status)
}

func schemaOf(mt *openapi3.MediaType) *openapi3.Schema {
	if mt.Schema == nil {
		return nil
	}
	return mt.Schema.Value
}

// mediaExample returns the example of a media type: example, the first of
// examples, or the schema's example.
func mediaExample(mt *openapi3.MediaType) any {
	if mt.Example != nil {
		return mt.Example
	}
	for _, ex := range mt.Examples {
		if ex != nil && ex.Value != nil && ex.Value.Value != nil {
			return ex.Value.Value
		}
	}
	if s := schemaOf(mt); s != nil && s.Example != nil && isContainer(normalize(s.Example)) {
		return s.Example
	}
	return nil
}

// echo collects the request's values by name: body fields, then query and
// path parameters.
func (c *call) echo() map[string]any {
	out := map[string]any{}
	for k, v := range c.body {
		out[k] = v
	}
	for k, vs := range c.r.URL.Query() {
		if _, ok := out[k]; !ok && len(vs) > 0 && k != "token" {
			out[k] = vs[0]
		}
	}
	for k, v := range c.pathParams {
		out[k] = v
	}
	return out
}

// tinyPNG is a 1×1 transparent PNG.
var tinyPNG = []byte{
	0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
	0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
	0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x00, 0x01, 0x00, 0x00,
	0x05, 0x00, 0x01, 0x0d, 0x0a, 0x2d, 0xb4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae,
	0x42, 0x60, 0x82,
}

// ListSize is how many items a list that pages with offset and limit holds
// in the sandbox: enough for several pages of any page size a test picks.
const ListSize = 23

// page cuts a synthesized list answer to the page the request asks for,
// when the operation pages with offset and limit: ListSize items in all,
// min(limit, what is left) of them on this page, total_count set.
func (c *call) page(v any) any {
	ans, ok := v.(map[string]any)
	q := c.r.URL.Query()
	if !ok || !q.Has("limit") {
		return v
	}
	offset, _ := strconv.Atoi(q.Get("offset"))
	limit, _ := strconv.Atoi(q.Get("limit"))
	var key string
	for k, e := range ans {
		if arr, ok := e.([]any); ok && len(arr) > 0 {
			if key != "" {
				return v // two arrays: not a plain page of items
			}
			key = k
		}
	}
	if key == "" || limit <= 0 {
		return v
	}
	n := min(limit, max(ListSize-offset, 0))
	items := make([]any, n)
	first := ans[key].([]any)[0]
	for i := range items {
		items[i] = first
	}
	ans[key] = items
	if _, ok := ans["total_count"]; ok {
		ans["total_count"] = ListSize
	}
	if _, ok := ans["offset"]; ok {
		ans["offset"] = offset
	}
	if _, ok := ans["limit"]; ok {
		ans["limit"] = limit
	}
	return ans
}
