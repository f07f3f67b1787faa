package sandbox

import (
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gowxpay/wxpay"
	"github.com/gowxpay/wxpay/core"
)

// TestEveryOperationTyped calls every operation of the spec once through
// the generated, typed client (wxpay.Client) in the operation's mode, with
// arguments synthesized from the spec, against the sandbox. Where
// TestEveryOperation checks the sandbox's answers, this checks the client
// side of every generated method: path and query building, defaults,
// required-parameter checks, sensitive-field encryption, uploads, signing,
// verification and decoding into the generated types.
func TestEveryOperationTyped(t *testing.T) {
	t.Parallel()
	s, clients, notifyURL := typedClients(t)
	twins := map[string]bool{}
	for _, op := range s.spec.Operations() {
		if tw, _ := op.op.Extensions["x-wxpay-twin"].(string); tw != "" {
			twins[tw], twins[op.ID] = true, true
		}
	}
	goOps := map[string]*core.Operation{}
	for _, op := range wxpay.Operations() {
		goOps[op.ID] = op
	}
	for _, op := range s.spec.Operations() {
		t.Run(op.ID, func(t *testing.T) {
			callTyped(t, s, clients, op, notifyURL, goOps[op.ID], twins[op.ID])
		})
	}
}

// typedClients starts a sandbox with a client in each mode.
func typedClients(t *testing.T) (*Server, map[string]*wxpay.Client, string) {
	s := newServer(t, WithRefundDelay(-1))
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	rv := newReceiver(t)
	notifyURL := rv.URL + "/notify"
	clients := map[string]*wxpay.Client{}
	for mode, cred := range map[string]Credentials{"direct": s.Merchant(), "partner": s.Partner()} {
		cfg := cred.Config()
		cfg.BaseURL = ts.URL
		cfg.NotifyURL = notifyURL
		cl, err := wxpay.NewClient(context.Background(), cfg)
		if err != nil {
			t.Fatalf("%s client: %v", mode, err)
		}
		t.Cleanup(func() { _ = cl.Close() })
		clients[mode] = cl
	}
	return s, clients, notifyURL
}

// callTyped calls one operation through its generated method with
// arguments synthesized from the spec.
func callTyped(t *testing.T, s *Server, clients map[string]*wxpay.Client, op *Operation, notifyURL string, gop *core.Operation, twin bool) {
	rq := synthRequest(t, s, op, notifyURL, false)
	if f := fixups[op.ID]; f != nil {
		f(s, rq)
	}
	if gop == nil {
		t.Fatalf("%s is not in wxpay.Operations()", op.ID)
	}
	// A twin is called in its mode's own form (Direct or Partner), which
	// takes the request exactly as synthesized.
	m, name, ok := typedMethod(clients[rq.mode], gop, twin)
	if !ok {
		t.Fatalf("no generated method %s", name)
	}
	args := typedArgs(t, s, op, rq, m.Type())
	out := m.Call(args)
	if err, _ := out[len(out)-1].Interface().(error); err != nil {
		t.Fatalf("%s (%s mode): %v", name, rq.mode, err)
	}
	if len(out) != 2 {
		return
	}
	res := out[0]
	if res.IsNil() {
		t.Fatalf("%s: nil result without an error", name)
	}
	if rc, ok := res.Interface().(io.ReadCloser); ok {
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || len(b) == 0 {
			t.Fatalf("%s: download: %d bytes, %v", name, len(b), err)
		}
	}
}

// TestEveryIteratorWalksAllPages calls the <Method>All iterator of every
// list that pages with offset and limit, with 5 items a page, against the
// sandbox's lists of ListSize items: the iterator must yield every item,
// over several pages, and stop asking when the loop breaks.
func TestEveryIteratorWalksAllPages(t *testing.T) {
	t.Parallel()
	s, clients, notifyURL := typedClients(t)
	goOps := map[string]*core.Operation{}
	for _, op := range wxpay.Operations() {
		goOps[op.ID] = op
	}
	found := 0
	for _, op := range s.spec.Operations() {
		gop := goOps[op.ID]
		rq := synthRequest(t, s, op, notifyURL, false)
		area, method, _ := strings.Cut(gop.Name, ".")
		svc := reflect.ValueOf(clients[rq.mode]).Elem().FieldByName("Services").FieldByName(area)
		it := svc.MethodByName(method + "All")
		if !it.IsValid() {
			continue
		}
		if f := fixups[op.ID]; f != nil {
			f(s, rq) // a list with state: ListSize items of it
		}
		found++
		t.Run(op.ID, func(t *testing.T) {
			rq.query.Set("offset", "0")
			rq.query.Set("limit", "5")
			args := typedArgs(t, s, op, rq, it.Type())
			seq := it.Call(args)[0].Interface()
			n, pages := walk(t, seq, -1)
			if n != ListSize || pages < 3 {
				t.Errorf("%s: %d items over %d pages, want %d over at least 3", method+"All", n, pages, ListSize)
			}
			if n, pages := walk(t, seq, 7); n != 7 || pages != 2 {
				t.Errorf("%s: a loop that breaks after 7 items saw %d items over %d pages, want 7 over 2", method+"All", n, pages)
			}
		})
	}
	if found < 21 {
		t.Errorf("%d iterators, want at least the 21 paging lists", found)
	}
}

// walk ranges over an iter.Seq2[*T, error] through reflection, breaking
// after stop items (never when stop < 0). It counts the items and the
// pages: runs of 5 items or fewer.
func walk(t *testing.T, seq any, stop int) (items, pages int) {
	t.Helper()
	v := reflect.ValueOf(seq)
	yield := reflect.MakeFunc(v.Type().In(0), func(args []reflect.Value) []reflect.Value {
		if err, _ := args[1].Interface().(error); err != nil {
			t.Fatalf("iterator error after %d items: %v", items, err)
		}
		items++
		return []reflect.Value{reflect.ValueOf(stop < 0 || items < stop)}
	})
	v.Call([]reflect.Value{yield})
	return items, (items + 4) / 5
}

// typedMethod finds the method that sends op: Area.Method of its Name on
// the client's services, or for a twin the method of the area's Direct or
// Partner form.
func typedMethod(cl *wxpay.Client, op *core.Operation, twin bool) (reflect.Value, string, bool) {
	area, method, _ := strings.Cut(op.Name, ".")
	svc := reflect.ValueOf(cl).Elem().FieldByName("Services").FieldByName(area)
	if !svc.IsValid() {
		return reflect.Value{}, op.Name, false
	}
	if twin {
		form := "Direct"
		if op.Modes == core.Partner {
			form = "Partner"
		}
		acc := svc.MethodByName(form)
		if !acc.IsValid() {
			return reflect.Value{}, op.Name + " (" + form + ")", false
		}
		svc = acc.Call(nil)[0]
		area += "." + form + "()"
	}
	m := svc.MethodByName(method)
	return m, area + "." + method, m.IsValid()
}

var pathParam = regexp.MustCompile(`\{([^}]+)\}`)

// typedArgs builds a generated method's arguments: the context, the path
// parameters in template order, the query parameters (*…Params), the body
// or upload meta, the file of an upload.
func typedArgs(t *testing.T, s *Server, op *Operation, rq *opRequest, mt reflect.Type) []reflect.Value {
	t.Helper()
	args := []reflect.Value{reflect.ValueOf(t.Context())}
	var names []string
	for _, mm := range pathParam.FindAllStringSubmatch(op.Path, -1) {
		names = append(names, mm[1])
	}
	last := mt.NumIn()
	if mt.IsVariadic() {
		last-- // the call options
	}
	for i := 1; i < last; i++ {
		in := mt.In(i)
		switch {
		case in == reflect.TypeOf(core.File{}):
			args = append(args, reflect.ValueOf(core.File{Name: "evidence.png", Data: tinyPNG}))
		case in.Kind() == reflect.String || in.Kind() == reflect.Int64:
			if len(names) == 0 {
				t.Fatalf("argument %d (%s): more scalar arguments than path parameters", i, in)
			}
			raw := rq.pathParams[names[0]]
			names = names[1:]
			v := reflect.New(in).Elem()
			if in.Kind() == reflect.Int64 {
				n, err := strconv.ParseInt(raw, 10, 64)
				if err != nil {
					t.Fatalf("path parameter %q: %v", raw, err)
				}
				v.SetInt(n)
			} else {
				v.SetString(raw)
			}
			args = append(args, v)
		case in.Kind() == reflect.Pointer && strings.HasSuffix(in.Elem().Name(), "Params"):
			args = append(args, decodeInto(t, in.Elem(), queryValues(in.Elem(), rq)))
		case in.Kind() == reflect.Pointer && op.Multipart:
			args = append(args, decodeInto(t, in.Elem(), uploadMeta(s, op, rq)))
		case in.Kind() == reflect.Pointer:
			args = append(args, decodeInto(t, in.Elem(), rq.body))
		default:
			t.Fatalf("argument %d: unexpected type %s", i, in)
		}
	}
	return args
}

// queryValues turns the synthesized query strings into JSON values of the
// Params struct's field types.
func queryValues(params reflect.Type, rq *opRequest) map[string]any {
	kinds := map[string]reflect.Type{}
	for i := 0; i < params.NumField(); i++ {
		f := params.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		kinds[name] = f.Type
	}
	out := map[string]any{}
	for k, vs := range rq.header {
		if _, ok := kinds[k]; ok && len(vs) > 0 {
			out[k] = vs[0]
		}
	}
	for k, vs := range rq.query {
		if len(vs) == 0 {
			continue
		}
		v := vs[0]
		switch typ := kinds[k]; {
		case typ == nil:
		case typ.Kind() == reflect.Int64 || typ.Kind() == reflect.Int:
			n, _ := strconv.ParseInt(v, 10, 64)
			out[k] = n
		case typ.Kind() == reflect.Bool:
			out[k] = v == "true"
		case typ.Kind() == reflect.Slice:
			out[k] = strings.Split(v, ",")
		default:
			out[k] = v
		}
	}
	return out
}

// uploadMeta synthesizes the meta part of a typed-meta upload.
func uploadMeta(s *Server, op *Operation, rq *opRequest) any {
	g := &synth{now: s.now(), all: true}
	v := g.value(op.uploadMetaSchema(), "", nil, 0)
	if fields, ok := v.(map[string]any); ok {
		// the client fills these from the file
		delete(fields, "filename")
		delete(fields, "sha256")
		delete(fields, "digest") // SM3, for the 电子发票 upload
		overrideIdentity(fields, rq.mode, rq.cred, "")
	}
	return v
}

func decodeInto(t *testing.T, typ reflect.Type, v any) reflect.Value {
	t.Helper()
	p := reflect.New(typ)
	if v == nil {
		return p
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, p.Interface()); err != nil {
		t.Fatalf("decoding the synthesized %s: %v\n%s", typ, err, b)
	}
	return p
}
