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
	twins := map[string]bool{}
	for _, op := range s.spec.Operations() {
		if tw, _ := op.op.Extensions["x-wxpay-twin"].(string); tw != "" {
			twins[tw] = true
		}
	}
	for _, op := range s.spec.Operations() {
		t.Run(op.ID, func(t *testing.T) {
			rq := synthRequest(t, s, op, notifyURL, false)
			if f := fixups[op.ID]; f != nil {
				f(s, rq)
			}
			name := op.ID
			if twins[op.ID] {
				name = "Direct" + op.ID
			}
			m, ok := typedMethod(clients[rq.mode], name)
			if !ok {
				t.Fatalf("no generated method %s on any service of wxpay.Client", name)
			}
			args := typedArgs(t, s, op, rq, m.Type())
			out := m.Call(args)
			if err, _ := out[len(out)-1].Interface().(error); err != nil {
				t.Fatalf("%s (%s mode): %v", name, rq.mode, err)
			}
			if len(out) == 2 {
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
		})
	}
}

// typedMethod finds the method called name on one of the client's
// services (operationIds are unique across the spec).
func typedMethod(cl *wxpay.Client, name string) (reflect.Value, bool) {
	services := reflect.ValueOf(cl).Elem().FieldByName("Services")
	for i := 0; i < services.NumField(); i++ {
		if m := services.Field(i).MethodByName(name); m.IsValid() {
			return m, true
		}
	}
	return reflect.Value{}, false
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
