package sandbox

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/gowxpay/wxpay/api"
)

// Spec is a loaded and indexed OpenAPI description the sandbox serves. It is
// read-only once loaded, so one Spec may back many Servers (tests load it
// once and pass it to every New with WithSpec).
type Spec struct {
	doc    *openapi3.T
	router routers.Router
	ops    map[string]*Operation
	sorted []*Operation
	events map[string][]eventSchema // by event_type
}

// eventSchema is a schema that describes the decrypted resource of some
// notifications (x-wxpay-events); key, when set, is the field that tells
// it apart from the other schemas of the same event (x-wxpay-event-key).
type eventSchema struct {
	name   string
	key    string
	schema *openapi3.Schema
}

// Operation is one operation of the spec, as the sandbox sees it.
type Operation struct {
	// ID is the operationId.
	ID string
	// Method is the upper-case HTTP method.
	Method string
	// Path is the path template, e.g. /v3/pay/transactions/id/{transaction_id}.
	Path string
	// Modes lists x-wxpay-modes (direct, partner).
	Modes []string
	// Unsigned is x-wxpay-unsigned: the success answer carries no signature.
	Unsigned bool
	// Multipart reports a multipart/form-data request body (media uploads).
	Multipart bool

	op *openapi3.Operation
}

// LoadSpec parses and indexes an OpenAPI 3.0 description (YAML or JSON). The
// servers list is dropped, so the sandbox routes requests whatever host they
// were sent to.
func LoadSpec(data []byte) (*Spec, error) {
	l := openapi3.NewLoader()
	doc, err := l.LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("sandbox: loading the spec: %w", err)
	}
	doc.Servers = nil
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("sandbox: the spec is invalid: %w", err)
	}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("sandbox: routing the spec: %w", err)
	}
	s := &Spec{doc: doc, router: router, ops: map[string]*Operation{}}
	for _, path := range doc.Paths.InMatchingOrder() {
		item := doc.Paths.Value(path)
		for method, op := range item.Operations() {
			if op.OperationID == "" {
				return nil, fmt.Errorf("sandbox: %s %s has no operationId", method, path)
			}
			o := &Operation{ID: op.OperationID, Method: strings.ToUpper(method), Path: path, op: op}
			if v, ok := op.Extensions["x-wxpay-modes"].([]any); ok {
				for _, m := range v {
					if s, ok := m.(string); ok {
						o.Modes = append(o.Modes, s)
					}
				}
			}
			if v, ok := op.Extensions["x-wxpay-unsigned"].(bool); ok && v {
				o.Unsigned = true
			}
			if op.RequestBody != nil && op.RequestBody.Value != nil {
				if op.RequestBody.Value.Content.Get("multipart/form-data") != nil {
					o.Multipart = true
				}
			}
			s.ops[o.ID] = o
			s.sorted = append(s.sorted, o)
		}
	}
	sort.Slice(s.sorted, func(i, j int) bool { return s.sorted[i].ID < s.sorted[j].ID })
	s.events = map[string][]eventSchema{}
	if doc.Components != nil {
		names := make([]string, 0, len(doc.Components.Schemas))
		for name := range doc.Components.Schemas {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			ref := doc.Components.Schemas[name]
			if ref == nil || ref.Value == nil {
				continue
			}
			evs, _ := ref.Value.Extensions["x-wxpay-events"].([]any)
			key, _ := ref.Value.Extensions["x-wxpay-event-key"].(string)
			for _, e := range evs {
				if et, ok := e.(string); ok {
					s.events[et] = append(s.events[et], eventSchema{name: name, key: key, schema: ref.Value})
				}
			}
		}
	}
	return s, nil
}

// eventSchema returns the schema of a notification resource: among the
// schemas that list the event type, the one whose event key the resource
// has, else the one without a key.
func (s *Spec) eventSchema(eventType string, resource map[string]any) *openapi3.Schema {
	var plain *openapi3.Schema
	for _, e := range s.events[eventType] {
		if e.key == "" {
			if plain == nil {
				plain = e.schema
			}
			continue
		}
		if _, ok := resource[e.key]; ok {
			return e.schema
		}
	}
	return plain
}

// DefaultSpec loads the spec embedded in github.com/gowxpay/wxpay/api.
func DefaultSpec() (*Spec, error) { return LoadSpec(api.OpenAPI()) }

// Operations lists the operations of the spec, sorted by operationId.
func (s *Spec) Operations() []*Operation { return append([]*Operation(nil), s.sorted...) }

// Operation returns the operation with the given operationId.
func (s *Spec) Operation(id string) (*Operation, bool) {
	o, ok := s.ops[id]
	return o, ok
}

// Doc returns the parsed document (read-only: do not modify it).
func (s *Spec) Doc() *openapi3.T { return s.doc }

// HasMode reports whether the operation serves the mode (direct or partner).
// An operation without x-wxpay-modes serves both.
func (o *Operation) HasMode(mode string) bool {
	if len(o.Modes) == 0 {
		return true
	}
	for _, m := range o.Modes {
		if m == mode {
			return true
		}
	}
	return false
}

var errMethodNotAllowed = errors.New("method not allowed")

// findRoute finds the operation of a request: errPathNotFound-style errors
// map to 404, errMethodNotAllowed to 405.
func (s *Spec) findRoute(r *http.Request) (*routers.Route, map[string]string, error) {
	route, params, err := s.router.FindRoute(r)
	if err == nil {
		return route, params, nil
	}
	// The legacy router reports 405 only for paths without parameters; try
	// the other methods to tell "no such path" from "wrong method".
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		if m == r.Method {
			continue
		}
		probe := &http.Request{Method: m, URL: r.URL, Header: http.Header{}}
		if _, _, err := s.router.FindRoute(probe); err == nil {
			return nil, nil, errMethodNotAllowed
		}
	}
	return nil, nil, err
}

// successResponse returns the lowest 2xx response of an operation and its
// status; nil when the operation declares none.
func (o *Operation) successResponse() (int, *openapi3.Response) {
	best, code := (*openapi3.Response)(nil), 0
	if o.op.Responses == nil {
		return 0, nil
	}
	for k, ref := range o.op.Responses.Map() {
		var c int
		if _, err := fmt.Sscanf(k, "%d", &c); err != nil || c < 200 || c > 299 {
			continue
		}
		if ref == nil || ref.Value == nil {
			continue
		}
		if best == nil || c < code {
			best, code = ref.Value, c
		}
	}
	return code, best
}

// responseSchema returns the JSON schema of the operation's answer with the
// given status, or nil.
func (o *Operation) responseSchema(status int) *openapi3.Schema {
	if o.op.Responses == nil {
		return nil
	}
	ref := o.op.Responses.Status(status)
	if ref == nil || ref.Value == nil {
		return nil
	}
	mt := ref.Value.Content.Get("application/json")
	if mt == nil || mt.Schema == nil {
		return nil
	}
	return mt.Schema.Value
}

// requestSchema returns the JSON schema of the request body, or nil.
func (o *Operation) requestSchema() *openapi3.Schema {
	if o.op.RequestBody == nil || o.op.RequestBody.Value == nil {
		return nil
	}
	mt := o.op.RequestBody.Value.Content.Get("application/json")
	if mt == nil || mt.Schema == nil {
		return nil
	}
	return mt.Schema.Value
}

// uploadMetaSchema returns the schema of a multipart upload's meta part,
// or nil.
func (o *Operation) uploadMetaSchema() *openapi3.Schema {
	if o.op.RequestBody == nil || o.op.RequestBody.Value == nil {
		return nil
	}
	mt := o.op.RequestBody.Value.Content.Get("multipart/form-data")
	if mt == nil || mt.Schema == nil || mt.Schema.Value == nil {
		return nil
	}
	if meta := mt.Schema.Value.Properties["meta"]; meta != nil {
		return meta.Value
	}
	return nil
}

// filePart returns the form name of a multipart upload's file part: the
// binary property of its schema ("file" for most uploads).
func (o *Operation) filePart() string {
	if o.op.RequestBody != nil && o.op.RequestBody.Value != nil {
		if mt := o.op.RequestBody.Value.Content.Get("multipart/form-data"); mt != nil && mt.Schema != nil && mt.Schema.Value != nil {
			for name, p := range mt.Schema.Value.Properties {
				if p.Value != nil && p.Value.Format == "binary" {
					return name
				}
			}
		}
	}
	return "file"
}

// params returns the operation's parameters (path item ones included).
func (o *Operation) params(item *openapi3.PathItem) openapi3.Parameters {
	var out openapi3.Parameters
	seen := map[string]bool{}
	for _, p := range o.op.Parameters {
		if p != nil && p.Value != nil {
			seen[p.Value.In+" "+p.Value.Name] = true
			out = append(out, p)
		}
	}
	if item != nil {
		for _, p := range item.Parameters {
			if p != nil && p.Value != nil && !seen[p.Value.In+" "+p.Value.Name] {
				out = append(out, p)
			}
		}
	}
	return out
}
