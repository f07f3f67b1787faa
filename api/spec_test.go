package api_test

import (
	"context"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"gopkg.in/yaml.v3"

	"github.com/gowxpay/wxpay/api"
)

type obj = map[string]any

func rawSpec(t *testing.T) obj {
	t.Helper()
	var doc obj
	if err := yaml.Unmarshal(api.OpenAPI(), &doc); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	return doc
}

func m(v any) obj {
	o, _ := v.(obj)
	return o
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func sortedKeys(o obj) []string {
	keys := make([]string, 0, len(o))
	for k := range o {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

var methods = []string{"get", "put", "post", "delete", "patch"}

// loadDoc loads the spec with kin-openapi, as the sandbox does.
func loadDoc(t *testing.T) *openapi3.T {
	t.Helper()
	l := openapi3.NewLoader()
	doc, err := l.LoadFromData(api.OpenAPI())
	if err != nil {
		t.Fatalf("loading openapi.yaml: %v", err)
	}
	return doc
}

func TestSpecValidates(t *testing.T) {
	t.Parallel()
	doc := loadDoc(t)
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("openapi.yaml does not validate: %v", err)
	}
	if doc.OpenAPI != "3.0.3" {
		t.Errorf("openapi: want 3.0.3, have %s", doc.OpenAPI)
	}
}

// Keyword allowlists, in the spirit of stripe-mock: a keyword outside them
// is a typo, or a construct the generators and the sandbox were not written
// for. (An unquoted comma in a flow-style description, for example, turns
// the rest of the sentence into a bogus key.)
var (
	schemaKeys = set("type", "format", "description", "enum", "required", "properties", "items", "$ref", "allOf",
		"nullable", "example", "minLength", "maxLength", "minimum", "maximum", "pattern", "default", "minItems",
		"maxItems", "additionalProperties", "readOnly", "x-go-type-skip-optional-pointer", "x-wxpay-sensitive", "x-wxpay-partner-required", "x-wxpay-no-default", "x-wxpay-events", "x-wxpay-event-key", "x-wxpay-tag")
	opKeys = set("operationId", "tags", "summary", "description", "parameters", "requestBody", "responses",
		"deprecated", "x-wxpay-modes", "x-wxpay-twin", "x-wxpay-twin-answer", "x-wxpay-unsigned", "x-wxpay-resend")
	paramKeys    = set("name", "in", "required", "description", "schema", "example", "$ref", "x-go-type-skip-optional-pointer", "x-wxpay-partner-required", "x-wxpay-no-default", "x-wxpay-sensitive")
	responseKeys = set("description", "content", "headers", "$ref")
	mediaKeys    = set("schema", "example")
	bodyKeys     = set("required", "content", "description")
)

func set(keys ...string) map[string]bool {
	s := map[string]bool{}
	for _, k := range keys {
		s[k] = true
	}
	return s
}

func checkKeys(t *testing.T, where string, o obj, allowed map[string]bool) {
	t.Helper()
	for _, k := range sortedKeys(o) {
		if !allowed[k] {
			t.Errorf("%s: unexpected key %q", where, k)
		}
	}
}

// walkSchema visits a schema and the schemas inside it.
func walkSchema(where string, s obj, visit func(where string, s obj, depth int), depth int) {
	visit(where, s, depth)
	props := m(s["properties"])
	for _, k := range sortedKeys(props) {
		walkSchema(where+"."+k, m(props[k]), visit, depth+1)
	}
	if items := m(s["items"]); items != nil {
		walkSchema(where+"[]", items, visit, depth+1)
	}
	for i, a := range list(s["allOf"]) {
		walkSchema(fmt.Sprintf("%s.allOf[%d]", where, i), m(a), visit, depth+1)
	}
}

// forEachOp calls f for every operation of the raw spec.
func forEachOp(doc obj, f func(method, path string, op obj)) {
	paths := m(doc["paths"])
	for _, p := range sortedKeys(paths) {
		for _, meth := range methods {
			if op := m(m(paths[p])[meth]); op != nil {
				f(strings.ToUpper(meth), p, op)
			}
		}
	}
}

func TestSpecKeywords(t *testing.T) {
	t.Parallel()
	doc := rawSpec(t)
	comps := m(doc["components"])
	for _, name := range sortedKeys(m(comps["schemas"])) {
		walkSchema(name, m(m(comps["schemas"])[name]), func(where string, s obj, _ int) {
			checkKeys(t, where, s, schemaKeys)
		}, 0)
	}
	for _, name := range sortedKeys(m(comps["parameters"])) {
		checkKeys(t, "parameter "+name, m(m(comps["parameters"])[name]), paramKeys)
	}
	forEachOp(doc, func(method, path string, op obj) {
		where := method + " " + path
		checkKeys(t, where, op, opKeys)
		for _, p := range list(op["parameters"]) {
			checkKeys(t, where+" parameter", m(p), paramKeys)
		}
		if rb := m(op["requestBody"]); rb != nil {
			checkKeys(t, where+" requestBody", rb, bodyKeys)
			for ct, c := range m(rb["content"]) {
				checkKeys(t, where+" requestBody "+ct, m(c), mediaKeys)
			}
		}
		for code, r := range m(op["responses"]) {
			checkKeys(t, where+" response "+code, m(r), responseKeys)
			for ct, c := range m(m(r)["content"]) {
				checkKeys(t, where+" response "+code+" "+ct, m(c), mediaKeys)
			}
		}
	})
}

// TestSpecHasNoDrafts rejects what internal/tools/refdraft leaves for a
// person to write: a spec line with a TODO is not reviewed yet.
func TestSpecHasNoDrafts(t *testing.T) {
	t.Parallel()
	for i, line := range strings.Split(string(api.OpenAPI()), "\n") {
		if strings.Contains(line, "TODO") {
			t.Errorf("openapi.yaml:%d: a draft placeholder is left: %s", i+1, strings.TrimSpace(line))
		}
	}
}

var (
	goIdent   = regexp.MustCompile(`^[A-Z][A-Za-z0-9]*$`)
	eventType = regexp.MustCompile(`^[A-Z][A-Z0-9_]*(\.[A-Z][A-Z0-9_]*)*$`)
)

func TestSpecRules(t *testing.T) {
	t.Parallel()
	doc := rawSpec(t)
	tags := map[string]bool{}
	for _, tg := range list(doc["tags"]) {
		name := str(m(tg)["name"])
		if !regexp.MustCompile(`^[a-z][a-z0-9]*$`).MatchString(name) {
			t.Errorf("tag %q: tags name Go packages; use lower-case letters and digits", name)
		}
		if str(m(tg)["description"]) == "" {
			t.Errorf("tag %q has no description", name)
		}
		tags[name] = true
	}
	type opInfo struct {
		method, path string
		op           obj
	}
	ops := map[string]opInfo{}
	forEachOp(doc, func(method, path string, op obj) {
		where := method + " " + path
		id := str(op["operationId"])
		switch {
		case id == "":
			t.Errorf("%s: no operationId", where)
			return
		case !goIdent.MatchString(id):
			t.Errorf("%s: operationId %q is not a Go-friendly name (CamelCase, starting upper-case)", where, id)
		}
		if prev, dup := ops[id]; dup {
			t.Errorf("operationId %s used by %s %s and %s", id, prev.method, prev.path, where)
		}
		ops[id] = opInfo{method, path, op}
		if tg := list(op["tags"]); len(tg) != 1 || !tags[str(tg[0])] {
			t.Errorf("%s: needs exactly one tag from the tags list, has %v", id, tg)
		}
		if str(op["summary"]) == "" {
			t.Errorf("%s: no summary", id)
		}
		modes := fmt.Sprint(op["x-wxpay-modes"])
		if modes != "[direct]" && modes != "[partner]" && modes != "[direct partner]" {
			t.Errorf("%s: x-wxpay-modes must be [direct], [partner] or [direct, partner], not %s", id, modes)
		}
		if rb := m(op["requestBody"]); rb != nil {
			for ct, c := range m(rb["content"]) {
				if str(m(m(c)["schema"])["$ref"]) == "" {
					t.Errorf("%s: the %s request body must be a named schema", id, ct)
				}
			}
		}
		jsonOK, other := false, false
		for code, r := range m(op["responses"]) {
			if code == "default" {
				if str(m(r)["$ref"]) != "#/components/responses/Error" {
					t.Errorf("%s: the default response must be #/components/responses/Error", id)
				}
				continue
			}
			if code[0] != '2' {
				continue
			}
			for ct, c := range m(m(r)["content"]) {
				if strings.Contains(ct, "json") {
					jsonOK = true
					if str(m(m(c)["schema"])["$ref"]) == "" {
						t.Errorf("%s: the %s response must be a named schema", id, code)
					}
				} else {
					other = true
				}
			}
		}
		if _, ok := m(op["responses"])["default"]; !ok {
			t.Errorf("%s: no default (error) response", id)
		}
		unsigned := op["x-wxpay-unsigned"] == true
		if other && !jsonOK && !unsigned {
			t.Errorf("%s: a download (non-JSON answer) carries no signature; mark it x-wxpay-unsigned: true", id)
		}
		if unsigned && jsonOK {
			t.Errorf("%s: x-wxpay-unsigned on a JSON answer: WeChat Pay signs those", id)
		}
		for _, p := range list(op["parameters"]) {
			if ref := str(m(p)["$ref"]); ref == "" {
				checkParamSchema(t, id, m(p))
			}
		}
	})
	for _, name := range sortedKeys(m(m(doc["components"])["parameters"])) {
		checkParamSchema(t, "parameter "+name, m(m(m(doc["components"])["parameters"])[name]))
	}
	// Twins.
	for id, o := range ops {
		twin := str(o.op["x-wxpay-twin"])
		if twin == "" {
			if d, ok := ops[strings.TrimPrefix(id, "Partner")]; ok && strings.HasPrefix(id, "Partner") && fmt.Sprint(d.op["x-wxpay-modes"]) == "[direct]" {
				t.Errorf("%s looks like the partner twin of %s; declare x-wxpay-twin: %s", id, d.op["operationId"], d.op["operationId"])
			}
			continue
		}
		d, ok := ops[twin]
		switch {
		case !ok:
			t.Errorf("%s: x-wxpay-twin %s does not exist", id, twin)
		case id != "Partner"+twin:
			t.Errorf("%s: the partner twin of %s must be named Partner%s", id, twin, twin)
		case fmt.Sprint(o.op["x-wxpay-modes"]) != "[partner]" || fmt.Sprint(d.op["x-wxpay-modes"]) != "[direct]":
			t.Errorf("%s/%s: twins must be partner-only and direct-only", id, twin)
		case str(o.op["x-wxpay-twin-answer"]) != "":
			if fmt.Sprint(successSchema(o.op)) == fmt.Sprint(successSchema(d.op)) {
				t.Errorf("%s: x-wxpay-twin-answer on twins that answer with the same schema", id)
			}
		case fmt.Sprint(successSchema(o.op)) != fmt.Sprint(successSchema(d.op)) && !partnerAnswersNothing(d.op, o.op):
			t.Errorf("%s/%s: twins that answer with different schemas name the union of both in x-wxpay-twin-answer (or the partner twin answers 204 and no body)", id, twin)
		}
	}
	// A direct-mode answer never lists partner mode's identity fields.
	for id, o := range ops {
		if fmt.Sprint(o.op["x-wxpay-modes"]) != "[direct]" {
			continue
		}
		for _, f := range partnerFieldsIn(doc, answerSchema(o.op)) {
			if why, ok := directAnswersPartnerFields[id]; !ok {
				t.Errorf("%s: the direct-mode answer lists the partner-mode field %s; give direct mode its own answer schema", id, f)
			} else if why == "" {
				t.Errorf("%s: the exception has no reason", id)
			}
		}
	}
	for id := range directAnswersPartnerFields {
		if o, ok := ops[id]; !ok || len(partnerFieldsIn(doc, answerSchema(o.op))) == 0 {
			t.Errorf("directAnswersPartnerFields lists %s, whose direct answer has no partner field: remove it", id)
		}
	}
	// Schemas.
	schemas := m(m(doc["components"])["schemas"])
	for _, name := range sortedKeys(schemas) {
		if !goIdent.MatchString(name) {
			t.Errorf("schema %q: not a Go-friendly name", name)
		}
		s := m(schemas[name])
		if tg := str(s["x-wxpay-tag"]); tg != "" && !tags[tg] {
			t.Errorf("schema %s: x-wxpay-tag %q is not a tag", name, tg)
		}
		for _, e := range list(s["x-wxpay-events"]) {
			if !eventType.MatchString(str(e)) {
				t.Errorf("schema %s: %q is not an event type", name, e)
			}
		}
		walkSchema(name, s, func(where string, s obj, depth int) {
			if depth == 0 {
				return
			}
			if len(list(s["enum"])) > 0 {
				t.Errorf("%s: inline enum; make it a named schema so its Go constants are stable", where)
			}
			if s["properties"] != nil || str(s["type"]) == "object" {
				t.Errorf("%s: inline object; make it a named schema so the Go API has no anonymous structs", where)
			}
			if s["x-wxpay-partner-required"] != nil && (s["x-wxpay-partner-required"] != true || !strings.HasSuffix(where, ".sub_mchid")) {
				t.Errorf("%s: x-wxpay-partner-required: true goes on sub_mchid fields only", where)
			}
			if s["x-wxpay-sensitive"] != nil && (s["x-wxpay-sensitive"] != true || str(s["type"]) != "string") {
				t.Errorf("%s: x-wxpay-sensitive: true goes on string fields only", where)
			}
		}, 0)
	}
	// The error body.
	errSchema := m(schemas["Error"])
	for _, f := range []string{"code", "message", "detail"} {
		if m(errSchema["properties"])[f] == nil {
			t.Errorf("schema Error lacks %s", f)
		}
	}
	detail := m(schemas["ErrorDetail"])
	for _, f := range []string{"field", "value", "issue", "location"} {
		if m(detail["properties"])[f] == nil {
			t.Errorf("schema ErrorDetail lacks %s", f)
		}
	}
}

func successSchema(op obj) []string {
	var out []string
	for code, r := range m(op["responses"]) {
		if code[0] == '2' {
			out = append(out, code)
			for ct, c := range m(m(r)["content"]) {
				out = append(out, ct+"="+str(m(m(c)["schema"])["$ref"]))
			}
		}
	}
	sort.Strings(out)
	return out
}

// answerSchema is the name of the schema of an operation's JSON success
// answer, or "".
func answerSchema(op obj) string {
	for _, e := range successSchema(op) {
		if ct, ref, ok := strings.Cut(e, "="); ok && strings.Contains(ct, "json") {
			return strings.TrimPrefix(ref, "#/components/schemas/")
		}
	}
	return ""
}

// partnerAnswersNothing reports that the direct twin d answers with a JSON
// body and its partner twin p with 204 and none (微信支付分: direct mode
// answers with the order, partner mode without a body); the mode-independent
// method then returns the answer in direct mode and nil in partner mode.
func partnerAnswersNothing(d, p obj) bool {
	ps, ds := successSchema(p), successSchema(d)
	return len(ps) == 1 && ps[0] == "204" && len(ds) == 2 && strings.HasPrefix(ds[1], "application/json=")
}

func checkParamSchema(t *testing.T, where string, p obj) {
	s := m(p["schema"])
	if s == nil {
		t.Errorf("%s: parameter %s has no schema", where, p["name"])
		return
	}
	if len(list(s["enum"])) > 0 {
		t.Errorf("%s: parameter %s has an inline enum; make it a named schema", where, p["name"])
	}
	if str(s["type"]) == "object" {
		t.Errorf("%s: parameter %s is an object; WeChat Pay parameters are scalars", where, p["name"])
	}
}

// TestGeneratedNames checks that the generated Go API reads like Go: no
// Mchid, CodeUrl or TransactionId, and no Foo2 collision names.
func TestGeneratedNames(t *testing.T) {
	t.Parallel()
	bad := regexp.MustCompile(`Mchid|Appid|Openid|Unionid|Url($|[A-Z])|Id($|[A-Z])|Ip($|[A-Z])|Api($|[A-Z])|Json($|[A-Z])|Http($|[A-Z])`)
	files, _ := filepath.Glob(filepath.Join("..", "gen", "*", "*.gen.go"))
	if len(files) == 0 {
		t.Fatal("no generated code under gen/")
	}
	for _, path := range files {
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		types := map[string]bool{}
		ast.Inspect(f, func(n ast.Node) bool {
			var names []*ast.Ident
			switch x := n.(type) {
			case *ast.TypeSpec:
				names = append(names, x.Name)
				types[x.Name.Name] = true
			case *ast.Field:
				names = append(names, x.Names...)
			case *ast.ValueSpec:
				names = append(names, x.Names...)
			case *ast.FuncDecl:
				names = append(names, x.Name)
			}
			for _, id := range names {
				if id.IsExported() && bad.MatchString(id.Name) {
					t.Errorf("%s: %s: not Go-style; name it in api/go-overlay.yaml or extend wxgen's compound words", fset.Position(id.Pos()), id.Name)
				}
			}
			return true
		})
		collision := regexp.MustCompile(`^(.*[A-Za-z])(\d+)$`)
		for name := range types {
			if mm := collision.FindStringSubmatch(name); mm != nil && types[mm[1]] {
				t.Errorf("%s: %s looks like a name-collision rename of %s", path, name, mm[1])
			}
		}
	}
}

func TestEveryOperationGenerated(t *testing.T) {
	t.Parallel()
	doc := rawSpec(t)
	src := map[string]string{}
	files, _ := filepath.Glob(filepath.Join("..", "gen", "*", "client.gen.go"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		src[filepath.Base(filepath.Dir(f))] = string(b)
	}
	forEachOp(doc, func(method, path string, op obj) {
		id := str(op["operationId"])
		tag := str(list(op["tags"])[0])
		lit := regexp.MustCompile(fmt.Sprintf(`ID: %q, Name: "[A-Za-z0-9.]+", Method: %q, Path: %q`, id, method, path))
		if !lit.MatchString(src[tag]) {
			t.Errorf("%s (%s %s) has no generated method in gen/%s: run make generate", id, method, path, tag)
		}
	})
}

// directAnswersPartnerFields lists the direct-mode operations whose answer
// does carry partner-mode identity fields, with the reason.
var directAnswersPartnerFields = map[string]string{
	"AssessPayscoreUserRiskLevel": "WeChat's page for the direct-mode assessment (the reference's " +
		"/v3/payscore/permissions/assess-user-risk-level) lists sub_mchid, sub_appid and sub_openid in the answer.",
}

// partnerIdentity names the fields only a partner-mode answer carries.
var partnerIdentity = map[string]bool{
	"sp_mchid": true, "sp_appid": true, "sp_openid": true, "sub_mchid": true, "sub_appid": true, "sub_openid": true,
}

// partnerFieldsIn lists the paths of the partner-mode identity fields in
// the schema named name, at any depth.
func partnerFieldsIn(doc obj, name string) []string {
	schemas := m(m(doc["components"])["schemas"])
	var out []string
	var walk func(s obj, path string, seen map[string]bool)
	walk = func(s obj, path string, seen map[string]bool) {
		if ref := str(s["$ref"]); ref != "" {
			n := strings.TrimPrefix(ref, "#/components/schemas/")
			if seen[n] {
				return
			}
			seen[n] = true
			walk(m(schemas[n]), path, seen)
			delete(seen, n)
			return
		}
		props := m(s["properties"])
		for _, k := range sortedKeys(props) {
			if partnerIdentity[k] {
				out = append(out, path+k)
			}
			walk(m(props[k]), path+k+".", seen)
		}
		if items, ok := s["items"].(obj); ok {
			walk(items, path+"[].", seen)
		}
	}
	if name != "" {
		walk(obj{"$ref": "#/components/schemas/" + name}, "", map[string]bool{})
	}
	return out
}
