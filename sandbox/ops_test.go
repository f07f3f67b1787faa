package sandbox

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/gowxpay/wxpay/auth"
	"github.com/gowxpay/wxpay/internal/sm3"
)

// opRequest is a request built from the spec for one operation.
type opRequest struct {
	op         *Operation
	mode       string
	cred       Credentials
	pathParams map[string]string
	query      url.Values
	header     http.Header
	body       map[string]any
	multipart  bool
	srv        *Server // encrypts the sensitive fields of an upload's meta
}

var uniq atomic.Int64

func uniqueNo(prefix string) string {
	return fmt.Sprintf("%s%d%04d", prefix, time.Now().UnixNano()%1e9, uniq.Add(1))
}

// buildRequest synthesizes a request for op from the spec: path
// parameters, required query and header parameters, and a body with every
// property of the request schema; identity fields are the sandbox
// merchant's.
func buildRequest(t *testing.T, s *Server, op *Operation, notifyURL string) *opRequest {
	t.Helper()
	return synthRequest(t, s, op, notifyURL, true)
}

// synthRequest synthesizes op's request from the spec; with encrypt, the
// sensitive fields are encrypted as a client would (the typed client does
// that itself).
func synthRequest(t *testing.T, s *Server, op *Operation, notifyURL string, encrypt bool) *opRequest {
	t.Helper()
	mode := "direct"
	cred := s.Merchant()
	if !op.HasMode("direct") || op.HasMode("partner") && needsPartner(s, op) {
		mode, cred = "partner", s.Partner()
	}
	g := &synth{now: s.now(), all: true}
	rq := &opRequest{op: op, mode: mode, cred: cred, pathParams: map[string]string{}, query: url.Values{}, header: http.Header{}}
	if encrypt {
		rq.srv = s
	}
	item := s.spec.doc.Paths.Value(op.Path)
	for _, ref := range op.params(item) {
		p := ref.Value
		var v any = "sandbox"
		if p.Schema != nil && p.Schema.Value != nil {
			v = g.value(p.Schema.Value, p.Name, nil, 0)
		}
		sv := fmt.Sprint(v)
		if id, ok := identityValue(p.Name, mode, cred, notifyURL); ok {
			if id == "" {
				continue
			}
			sv = id
		}
		switch p.In {
		case "path":
			rq.pathParams[p.Name] = sv
		case "query":
			if p.Required || isIdentity(p.Name) && (mode == "partner" || p.Name != "sub_mchid") {
				if encrypt && p.Extensions["x-wxpay-sensitive"] == true {
					ct, err := auth.EncryptOAEP(&s.ring.current(s.now()).key.PublicKey, sv)
					if err != nil {
						t.Fatal(err)
					}
					sv = ct
					rq.header.Set("Wechatpay-Serial", s.ring.current(s.now()).serial)
				}
				rq.query.Set(p.Name, sv)
			}
		case "header":
			if p.Required {
				if strings.EqualFold(p.Name, "Wechatpay-Serial") {
					sv = s.ring.current(s.now()).serial
				}
				rq.header.Set(p.Name, sv)
			}
		}
	}
	if op.Multipart {
		rq.multipart = true
	} else if schema := op.requestSchema(); schema != nil {
		body, _ := g.value(schema, "", nil, 0).(map[string]any)
		overrideIdentity(body, mode, cred, notifyURL)
		if encrypt && encryptSensitive(t, s, schema, body) {
			rq.header.Set("Wechatpay-Serial", s.ring.current(s.now()).serial)
		}
		rq.body = body
	}
	return rq
}

func isIdentity(name string) bool {
	switch name {
	case "mchid", "sp_mchid", "combine_mchid", "sub_mchid":
		return true
	}
	return false
}

// identityValue is the value of an identity field in a mode: ok false when
// the field is not one; "" to leave it out.
func identityValue(name, mode string, cred Credentials, notifyURL string) (string, bool) {
	switch name {
	case "mchid", "sp_mchid", "combine_mchid":
		return cred.MchID, true
	case "appid", "sp_appid", "combine_appid":
		return cred.AppID, true
	case "sub_mchid":
		return cred.SubMchID, true
	case "sub_appid":
		return cred.SubAppID, true
	case "notify_url":
		return notifyURL, true
	case "out_trade_no", "combine_out_trade_no", "out_refund_no":
		return uniqueNo("SBX"), true
	}
	return "", false
}

// overrideIdentity replaces identity fields at any depth.
func overrideIdentity(v any, mode string, cred Credentials, notifyURL string) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if _, isStr := e.(string); isStr {
				if id, ok := identityValue(k, mode, cred, notifyURL); ok {
					if id == "" {
						delete(x, k)
					} else {
						x[k] = id
					}
					continue
				}
			}
			overrideIdentity(e, mode, cred, notifyURL)
		}
	case []any:
		for _, e := range x {
			overrideIdentity(e, mode, cred, notifyURL)
		}
	}
}

// seedOrder puts an order straight into the sandbox state.
func seedOrder(s *Server, cred Credentials, state string) *order {
	now := s.now()
	o := &order{
		opID: "NativePrepay", tradeType: "NATIVE", state: state, outTradeNo: uniqueNo("SEED"),
		total: 100, currency: "CNY", description: "seeded", createTime: now, notifier: s.merchants[cred.MchID],
	}
	if cred.PartnerMode {
		o.opID, o.partner, o.mchid, o.appid, o.subMchID, o.owner = "PartnerNativePrepay", true, cred.MchID, cred.AppID, cred.SubMchID, cred.SubMchID
	} else {
		o.mchid, o.appid, o.owner = cred.MchID, cred.AppID, cred.MchID
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o.transactionID = s.st.newTransactionID(now)
	o.prepayID = newPrepayID(now)
	if state == StateSuccess {
		s.markPaid(o, now)
	}
	s.st.orders[ownerKey(o.owner, o.outTradeNo)] = o
	s.st.byTxID[o.transactionID] = o
	return o
}

func seedRefund(s *Server, cred Credentials, status RefundStatus) *refund {
	o := seedOrder(s, cred, StateSuccess)
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	rf := &refund{order: o, owner: o.owner, refundID: s.st.newRefundID(now), outRefundNo: uniqueNo("RF"),
		status: status, amount: 10, currency: "CNY", channel: "ORIGINAL", userReceivedAccount: "支付用户零钱",
		fundsAccount: "AVAILABLE", createTime: now, notifier: o.notifier}
	o.refunded += 10
	s.st.refunds[ownerKey(o.owner, rf.outRefundNo)] = rf
	s.st.refundByID[rf.refundID] = rf
	return rf
}

func seedCombine(s *Server, cred Credentials) *combineOrder {
	now := s.now()
	co := &combineOrder{appid: cred.AppID, mchid: cred.MchID, outTradeNo: uniqueNo("CMB"), tradeType: "JSAPI", notifier: s.merchants[cred.MchID]}
	o := &order{opID: "CombineJSAPIPrepay", tradeType: "JSAPI", state: StateNotPay, mchid: cred.MchID, appid: cred.AppID,
		subMchID: cred.SubMchID, outTradeNo: uniqueNo("SUB"), total: 100, currency: "CNY", createTime: now, combine: co, notifier: co.notifier}
	o.owner = o.mchid
	if o.subMchID != "" {
		o.owner = o.subMchID
	}
	co.subs = []*order{o}
	s.mu.Lock()
	defer s.mu.Unlock()
	co.transactionID = s.st.newTransactionID(now)
	o.transactionID = s.st.newTransactionID(now)
	s.st.orders[ownerKey(o.owner, o.outTradeNo)] = o
	s.st.byTxID[o.transactionID] = o
	s.st.combines[ownerKey(co.mchid, co.outTradeNo)] = co
	return co
}

// fixups make the synthesized request of a stateful operation address
// state that exists, so that it can succeed.
var fixups = map[string]func(s *Server, rq *opRequest){
	"QueryOrderByID": func(s *Server, rq *opRequest) {
		rq.pathParams["transaction_id"] = seedOrder(s, rq.cred, StateSuccess).transactionID
	},
	"QueryOrderByOutTradeNo": func(s *Server, rq *opRequest) {
		rq.pathParams["out_trade_no"] = seedOrder(s, rq.cred, StateNotPay).outTradeNo
	},
	"CloseOrder": func(s *Server, rq *opRequest) {
		rq.pathParams["out_trade_no"] = seedOrder(s, rq.cred, StateNotPay).outTradeNo
	},
	"ReverseOrder": func(s *Server, rq *opRequest) {
		rq.pathParams["out_trade_no"] = seedOrder(s, rq.cred, StateSuccess).outTradeNo
	},
	"QueryCombineOrder": func(s *Server, rq *opRequest) {
		rq.pathParams["combine_out_trade_no"] = seedCombine(s, rq.cred).outTradeNo
	},
	"CloseCombineOrder": func(s *Server, rq *opRequest) {
		co := seedCombine(s, rq.cred)
		rq.pathParams["combine_out_trade_no"] = co.outTradeNo
		if subs, ok := rq.body["sub_orders"].([]any); ok && len(subs) > 0 {
			if m, ok := subs[0].(map[string]any); ok {
				m["out_trade_no"] = co.subs[0].outTradeNo
			}
		}
	},
	"CreateRefund": func(s *Server, rq *opRequest) {
		o := seedOrder(s, rq.cred, StateSuccess)
		rq.body["out_trade_no"] = o.outTradeNo
		delete(rq.body, "transaction_id")
		if amt, ok := rq.body["amount"].(map[string]any); ok {
			amt["total"], amt["refund"], amt["currency"] = float64(o.total), float64(1), "CNY"
			delete(amt, "from")
		}
	},
	"QueryRefund": func(s *Server, rq *opRequest) {
		rq.pathParams["out_refund_no"] = seedRefund(s, rq.cred, RefundSuccess).outRefundNo
	},
	"ApplyAbnormalRefund": func(s *Server, rq *opRequest) {
		rf := seedRefund(s, rq.cred, RefundAbnormal)
		rq.pathParams["refund_id"] = rf.refundID
		rq.body["out_refund_no"] = rf.outRefundNo
	},
	"DownloadBill": func(s *Server, rq *opRequest) {
		token := uniqueNo("TOKEN")
		s.mu.Lock()
		s.st.bills[token] = &billFile{mchid: rq.cred.MchID, data: csvLines([]string{"a"}, nil, []string{"b"}, []string{"0"}), contentType: "text/plain", expires: s.now().Add(time.Minute)}
		s.mu.Unlock()
		rq.query = url.Values{"token": {token}}
	},
}

func init() {
	// The partner twins share the direct fixups.
	for id, f := range map[string]string{
		"PartnerQueryOrderByID": "QueryOrderByID", "PartnerQueryOrderByOutTradeNo": "QueryOrderByOutTradeNo",
		"PartnerCloseOrder": "CloseOrder", "PartnerReverseOrder": "ReverseOrder",
	} {
		fixups[id] = fixups[f]
	}
}

// httpRequest turns an opRequest into a signed *http.Request.
func (rq *opRequest) httpRequest(t *testing.T) *http.Request {
	t.Helper()
	path := rq.op.Path
	for k, v := range rq.pathParams {
		path = strings.ReplaceAll(path, "{"+k+"}", url.PathEscape(v))
	}
	uri := path
	if len(rq.query) > 0 {
		uri += "?" + rq.query.Encode()
	}
	var body, signed []byte
	ct := ""
	switch {
	case rq.multipart:
		file := []byte("\x89PNG sandbox upload")
		sum := sha256.Sum256(file)
		// The meta its schema describes, with the file's name and digest
		// where the schema has them (media uploads: only those).
		fields := map[string]any{}
		ms := rq.op.uploadMetaSchema()
		if ms != nil {
			g := &synth{now: time.Now(), all: true}
			if v, ok := g.value(ms, "", nil, 0).(map[string]any); ok {
				fields = v
			}
			overrideIdentity(fields, rq.mode, rq.cred, "")
		}
		if ms == nil || ms.Properties["filename"] != nil {
			fields["filename"] = "a.png"
		}
		if ms == nil || ms.Properties["sha256"] != nil {
			fields["sha256"] = hex.EncodeToString(sum[:])
		}
		if ms != nil && ms.Properties["digest"] != nil {
			fields["digest"] = sm3.Hex(file) // the 电子发票 upload's SM3
		}
		if ms != nil && rq.srv != nil && encryptSensitive(t, rq.srv, ms, fields) {
			rq.header.Set("Wechatpay-Serial", rq.srv.ring.current(rq.srv.now()).serial)
		}
		meta, err := json.Marshal(fields)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", `form-data; name="meta"`)
		h.Set("Content-Type", "application/json")
		pw, _ := mw.CreatePart(h)
		_, _ = pw.Write(meta)
		h = textproto.MIMEHeader{}
		h.Set("Content-Disposition", `form-data; name="`+rq.op.filePart()+`"; filename="a.png"`)
		h.Set("Content-Type", "image/png")
		pw, _ = mw.CreatePart(h)
		_, _ = pw.Write(file)
		_ = mw.Close()
		body, signed, ct = b.Bytes(), meta, mw.FormDataContentType()
	case rq.body != nil:
		var err error
		if body, err = json.Marshal(rq.body); err != nil {
			t.Fatal(err)
		}
		signed, ct = body, "application/json"
	}
	req := httptest.NewRequest(rq.op.Method, uri, bytes.NewReader(body))
	for k, v := range rq.header {
		req.Header[k] = v
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	req.Header.Set("User-Agent", "wxpay-sandbox-test/1.0")
	req.Header.Set("Accept", "*/*")
	req.Header.Set("Authorization", signer{cred: rq.cred}.authorization(rq.op.Method, uri, signed))
	return req
}

// TestEveryOperation calls every operation of the spec once, with a
// request synthesized from the spec and signed like a client's, and checks
// that the answer is 2xx, that its signature verifies (unless the
// operation is unsigned) and that it validates against the spec's response
// schema. It keeps passing as the spec grows: new operations get generic
// answers; stateful ones get their state from fixups.
func TestEveryOperation(t *testing.T) {
	t.Parallel()
	rv := newReceiver(t)
	s := newServer(t, WithRefundDelay(-1))
	ops := s.spec.Operations()
	if len(ops) == 0 {
		t.Fatal("the spec has no operations")
	}
	stateful := 0
	for _, op := range ops {
		if s.IsStateful(op.ID) {
			stateful++
		}
		t.Run(op.ID, func(t *testing.T) {
			rq := buildRequest(t, s, op, rv.URL+"/notify")
			if f := fixups[op.ID]; f != nil {
				f(s, rq)
			}
			req := rq.httpRequest(t)
			rec := httptest.NewRecorder()
			// Keep a copy of the body for response validation.
			var reqBody []byte
			if req.Body != nil {
				reqBody, _ = io.ReadAll(req.Body)
				req.Body = io.NopCloser(bytes.NewReader(reqBody))
			}
			s.Handler().ServeHTTP(rec, req)
			res := rec.Result()
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode < 200 || res.StatusCode > 299 {
				t.Fatalf("%s %s: %d %s", req.Method, req.RequestURI, res.StatusCode, body)
			}
			if !op.Unsigned {
				verify(t, s, res.Header, body)
			}
			if res.Header.Get("Request-ID") == "" {
				t.Error("no Request-ID")
			}
			vreq := httptest.NewRequest(req.Method, req.RequestURI, bytes.NewReader(reqBody))
			vreq.Header = req.Header.Clone()
			route, pp, err := s.spec.findRoute(vreq)
			if err != nil {
				t.Fatal(err)
			}
			in := &openapi3filter.ResponseValidationInput{
				RequestValidationInput: &openapi3filter.RequestValidationInput{Request: vreq, PathParams: pp, Route: route},
				Status:                 res.StatusCode,
				Header:                 res.Header,
				Options:                &openapi3filter.Options{IncludeResponseStatus: true},
			}
			in.SetBodyBytes(body)
			if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
				t.Fatalf("the answer does not validate: %v\n%s", err, body)
			}
		})
	}
	t.Logf("%d operations: %d with state, %d generic", len(ops), stateful, len(ops)-stateful)
}

// TestStatefulOperationsInSpec reports which stateful handlers the current
// spec routes (informational: the others wait for their operations).
func TestStatefulOperationsInSpec(t *testing.T) {
	t.Parallel()
	spec, err := testSpec()
	if err != nil {
		t.Fatal(err)
	}
	var routed, waiting []string
	for _, id := range StatefulOperations() {
		if _, ok := spec.Operation(id); ok {
			routed = append(routed, id)
		} else {
			waiting = append(waiting, id)
		}
	}
	sort.Strings(routed)
	t.Logf("stateful and in the spec: %v", routed)
	t.Logf("stateful, not in the spec yet: %v", waiting)
}

// encryptSensitive encrypts the x-wxpay-sensitive fields of a body with the
// current platform certificate, as a client does; it reports whether there
// were any.
func encryptSensitive(t *testing.T, s *Server, schema *openapi3.Schema, body map[string]any) bool {
	t.Helper()
	var fields []sensitiveField
	collectSensitive(schema, body, "", &fields, 0)
	pub := &s.ring.current(s.now()).key.PublicKey
	for _, f := range fields {
		ct, err := auth.EncryptOAEP(pub, f.value)
		if err != nil {
			t.Fatal(err)
		}
		setPointer(body, f.pointer, ct)
	}
	return len(fields) > 0
}

// setPointer sets the value at a JSON pointer of v.
func setPointer(v any, ptr, val string) {
	parts := strings.Split(strings.TrimPrefix(ptr, "/"), "/")
	for i, p := range parts {
		last := i == len(parts)-1
		switch x := v.(type) {
		case map[string]any:
			if last {
				x[p] = val
				return
			}
			v = x[p]
		case []any:
			n, _ := strconv.Atoi(p)
			if last {
				x[n] = val
				return
			}
			v = x[n]
		}
	}
}

// needsPartner reports whether an operation requires partner identity
// fields (sub_mchid, sp_mchid) in its parameters or body.
func needsPartner(s *Server, op *Operation) bool {
	partnerField := func(n string) bool { return n == "sub_mchid" || n == "sp_mchid" || n == "sp_appid" }
	for _, ref := range op.params(s.spec.doc.Paths.Value(op.Path)) {
		if ref.Value.Required && partnerField(ref.Value.Name) {
			return true
		}
	}
	if schema := op.requestSchema(); schema != nil {
		for _, r := range flattenAllOf(schema).Required {
			if partnerField(r) {
				return true
			}
		}
	}
	return false
}
