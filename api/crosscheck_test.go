package api_test

import (
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"gopkg.in/yaml.v3"

	"github.com/gowxpay/wxpay/internal/crosscheck"
)

// crosscheckFixture holds the facts extracted by internal/tools/crosscheck
// from the official Go and Java SDKs and gopay.
const crosscheckFixture = "testdata/crosscheck.json"

// crossDifference is one difference from a source, listed in
// crosscheck-differences.yaml with its reason.
type crossDifference struct {
	Op      string   `yaml:"op"`
	Sources []string `yaml:"sources"`
	Diff    string   `yaml:"diff"`
	Why     string   `yaml:"why"`
}

func loadCrossDifferences(t *testing.T, sources map[string]crosscheck.Source) map[string]bool {
	t.Helper()
	b, err := os.ReadFile("crosscheck-differences.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var list []crossDifference
	if err := yaml.Unmarshal(b, &list); err != nil {
		t.Fatalf("crosscheck-differences.yaml: %v", err)
	}
	out := map[string]bool{}
	for _, d := range list {
		if d.Op == "" || d.Diff == "" || len(d.Sources) == 0 || strings.TrimSpace(d.Why) == "" {
			t.Errorf("crosscheck-differences.yaml: every entry needs op, sources, diff and why: %+v", d)
		}
		for _, s := range d.Sources {
			if _, ok := sources[s]; !ok {
				t.Errorf("crosscheck-differences.yaml: unknown source %q in %+v", s, d)
			}
			k := crossKey(d.Op, s, d.Diff)
			if out[k] {
				t.Errorf("crosscheck-differences.yaml: %s listed twice", k)
			}
			out[k] = true
		}
	}
	return out
}

func crossKey(op, source, diff string) string { return op + " [" + source + "]: " + diff }

// leftOut is an operation a source (or the reference) has and this spec
// deliberately does not, listed in left-out.yaml with its reason.
type leftOut struct {
	Op      string   `yaml:"op"` // METHOD /path, as the source writes it
	Sources []string `yaml:"sources"`
	Why     string   `yaml:"why"`
}

// loadLeftOut reads left-out.yaml into a map from crosscheck.Key to the
// sources that list the operation.
func loadLeftOut(t *testing.T) map[string][]string {
	t.Helper()
	b, err := os.ReadFile("left-out.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var list []leftOut
	if err := yaml.Unmarshal(b, &list); err != nil {
		t.Fatalf("left-out.yaml: %v", err)
	}
	out := map[string][]string{}
	for _, l := range list {
		method, path, ok := strings.Cut(l.Op, " ")
		if !ok || len(l.Sources) == 0 || strings.TrimSpace(l.Why) == "" {
			t.Errorf("left-out.yaml: every entry needs op (METHOD /path), sources and why: %+v", l)
			continue
		}
		k := crosscheck.Key(method, path)
		if out[k] != nil {
			t.Errorf("left-out.yaml: %s listed twice", l.Op)
		}
		out[k] = l.Sources
	}
	return out
}

// TestCrossCheck compares every operation of api/openapi.yaml that the
// official Go SDK, the official Java SDK or gopay describe with what they
// say: query parameters, request and response fields recursively, their
// JSON types, enum values and (where the source states it) whether they are
// required, and whether the answer has a body. It fails on any difference
// that crosscheck-differences.yaml does not list with a reason, and on a
// listed difference that no longer occurs.
func TestCrossCheck(t *testing.T) {
	fx, err := crosscheck.Load(crosscheckFixture)
	if os.IsNotExist(err) {
		t.Skipf("%s not found: skipping the cross-check (regenerate it with internal/tools/crosscheck)", crosscheckFixture)
	}
	if err != nil {
		t.Fatal(err)
	}
	sources := map[string]crosscheck.Source{}
	for _, s := range fx.Sources {
		sources[s.Name] = s
	}
	theirs := map[string][]*crosscheck.Op{}
	for _, op := range fx.Ops {
		k := crosscheck.Key(op.Method, op.Path)
		theirs[k] = append(theirs[k], op)
	}
	doc := loadDoc(t)
	allowed := loadCrossDifferences(t, sources)
	found := map[string]bool{}
	covered := map[string]map[string]bool{} // source -> our operationIds
	var request, response int
	matched := map[string]bool{}
	for _, path := range doc.Paths.InMatchingOrder() {
		for method, op := range doc.Paths.Value(path).Operations() {
			k := crosscheck.Key(method, path)
			for _, th := range theirs[k] {
				matched[k] = true
				if covered[th.Source] == nil {
					covered[th.Source] = map[string]bool{}
				}
				covered[th.Source][op.OperationID] = true
				ours := ourFacts(op)
				request += len(th.Request)
				response += len(th.Response)
				for _, d := range compareFacts(sources[th.Source], ours, th) {
					found[crossKey(op.OperationID, th.Source, d)] = true
				}
			}
		}
	}
	for _, k := range sortedMapKeys(found) {
		if !allowed[k] {
			t.Errorf("difference: %s\n\t(fix the spec, or list it in api/crosscheck-differences.yaml with the reason)", k)
		}
	}
	for _, k := range sortedMapKeys(allowed) {
		if !found[k] {
			t.Errorf("crosscheck-differences.yaml lists %q, which no longer occurs: remove it", k)
		}
	}
	var unmatched []string
	left := loadLeftOut(t)
	for k, ops := range theirs {
		if matched[k] {
			if left[k] != nil {
				t.Errorf("left-out.yaml lists %s, which this spec has: remove it", k)
			}
			continue
		}
		unmatched = append(unmatched, fmt.Sprintf("%s (%s)", k, ops[0].Name))
		for _, op := range ops {
			if !slices.Contains(left[k], op.Source) {
				t.Errorf("not in this spec: %s (%s of %s)\n\t(add it to api/openapi.yaml, or list it in api/left-out.yaml with the reason)", k, op.Name, op.Source)
			}
		}
	}
	for k, srcs := range left {
		for _, src := range srcs {
			if src == "reference" {
				continue // checked by TestReferenceLeftOut
			}
			if !slices.ContainsFunc(theirs[k], func(op *crosscheck.Op) bool { return op.Source == src }) {
				t.Errorf("left-out.yaml lists %s for %s, which does not have it", k, src)
			}
		}
	}
	sort.Strings(unmatched)
	for _, s := range sortedMapKeys(covered) {
		t.Logf("%s: %d of our operations compared", s, len(covered[s]))
	}
	t.Logf("%d request and %d response fields of the sources compared; %d differences, %d listed; %d source operations this spec does not have, each listed in left-out.yaml",
		request, response, len(found), len(allowed), len(unmatched))
	if testing.Verbose() {
		for _, u := range unmatched {
			t.Logf("not in this spec: %s", u)
		}
	}
}

// facts is one of our operations flattened like the fixture.
type facts struct {
	query        map[string]crosscheck.Field
	request      []crosscheck.Field
	hasRequest   bool
	response     []crosscheck.Field
	responseBody string // json, none, other
}

func ourFacts(op *openapi3.Operation) *facts {
	f := &facts{query: map[string]crosscheck.Field{}}
	for _, p := range op.Parameters {
		if p.Value.In != "query" {
			continue
		}
		s := ourShape(p.Value.Schema, 0)
		f.query[p.Value.Name] = crosscheck.Field{Path: p.Value.Name, Type: s.Type, Enum: sortedStrings(s.Enum), Required: crosscheck.Bool(p.Value.Required)}
	}
	if op.RequestBody != nil && op.RequestBody.Value != nil {
		for ct, mt := range op.RequestBody.Value.Content {
			if strings.Contains(ct, "json") {
				f.hasRequest = true
				f.request = crosscheck.Flatten(ourShape(mt.Schema, 0))
			}
		}
	}
	f.responseBody = "none"
	for _, code := range sortedMapKeys(op.Responses.Map()) {
		if !strings.HasPrefix(code, "2") {
			continue
		}
		r := op.Responses.Map()[code].Value
		if r == nil || len(r.Content) == 0 {
			break
		}
		f.responseBody = "other"
		for ct, mt := range r.Content {
			if strings.Contains(ct, "json") {
				f.responseBody = "json"
				f.response = crosscheck.Flatten(ourShape(mt.Schema, 0))
			}
		}
		break
	}
	return f
}

func sortedStrings(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	c := append([]string(nil), s...)
	sort.Strings(c)
	return c
}

// ourShape turns one of our schemas into a crosscheck shape: allOf merged,
// properties in name order.
func ourShape(ref *openapi3.SchemaRef, depth int) *crosscheck.Shape {
	if ref == nil || ref.Value == nil || depth > 16 {
		return &crosscheck.Shape{Type: "any"}
	}
	v := ref.Value
	s := &crosscheck.Shape{}
	if v.Type != nil && len(*v.Type) > 0 {
		s.Type = (*v.Type)[0]
	}
	for _, e := range v.Enum {
		s.Enum = append(s.Enum, fmt.Sprint(e))
	}
	required := map[string]bool{}
	for _, r := range v.Required {
		required[r] = true
	}
	for _, a := range v.AllOf {
		in := ourShape(a, depth+1)
		if s.Type == "" {
			s.Type = in.Type
		}
		s.Fields = append(s.Fields, in.Fields...)
		if in.Items != nil {
			s.Items = in.Items
		}
		if len(s.Enum) == 0 {
			s.Enum = in.Enum
		}
		if in.Open {
			s.Open = true
		}
	}
	for _, name := range sortedMapKeys(v.Properties) {
		s.Fields = append(s.Fields, crosscheck.ShapeField{Name: name, Required: crosscheck.Bool(required[name]), Shape: ourShape(v.Properties[name], depth+1)})
	}
	// Required names listed on an allOf member apply to the merged object.
	for i, f := range s.Fields {
		if required[f.Name] {
			s.Fields[i].Required = crosscheck.Bool(true)
		}
	}
	if v.Items != nil {
		s.Items = ourShape(v.Items, depth+1)
		if s.Type == "" {
			s.Type = "array"
		}
	}
	if s.Type == "" {
		switch {
		case len(s.Fields) > 0:
			s.Type = "object"
		default:
			s.Type = "any"
		}
	}
	if s.Type == "object" && len(s.Fields) == 0 && (v.AdditionalProperties.Has == nil || *v.AdditionalProperties.Has || v.AdditionalProperties.Schema != nil) {
		s.Open = true
	}
	return s
}

// compareFacts lists the differences between our operation and a source's.
func compareFacts(src crosscheck.Source, ours *facts, th *crosscheck.Op) []string {
	var diffs []string
	if src.Requests {
		theirQuery := map[string]crosscheck.Field{}
		for _, q := range th.Query {
			theirQuery[q.Path] = q
		}
		for _, name := range sortedMapKeys(theirQuery) {
			q := theirQuery[name]
			o, ok := ours.query[name]
			if !ok {
				diffs = append(diffs, "query parameter "+name+": missing here")
				continue
			}
			diffs = append(diffs, compareField(src, "query parameter "+name, o, q)...)
		}
		for _, name := range sortedMapKeys(ours.query) {
			if _, ok := theirQuery[name]; !ok {
				diffs = append(diffs, "query parameter "+name+": not in "+src.Name)
			}
		}
		switch {
		case len(th.Request) > 0 && !ours.hasRequest:
			diffs = append(diffs, "request: a JSON body there, none here")
		case len(th.Request) > 0:
			diffs = append(diffs, compareFields(src, "request", ours.request, th.Request)...)
		}
	}
	switch {
	case th.ResponseBody == "json" && ours.responseBody == "none":
		diffs = append(diffs, "response: a JSON body there, none here")
	case th.ResponseBody == "none" && ours.responseBody == "json":
		diffs = append(diffs, "response: a JSON body here, none there")
	case th.ResponseBody == "json" && ours.responseBody == "json":
		diffs = append(diffs, compareFields(src, "response", ours.response, th.Response)...)
	}
	return diffs
}

func compareFields(src crosscheck.Source, part string, ours, theirs []crosscheck.Field) []string {
	o := map[string]crosscheck.Field{}
	for _, f := range ours {
		o[f.Path] = f
	}
	th := map[string]crosscheck.Field{}
	for _, f := range theirs {
		th[f.Path] = f
	}
	var diffs []string
	// A field missing on one side is reported once, at its top: not for
	// each of its descendants, nor under an object the other side leaves
	// open or types differently.
	under := func(m map[string]crosscheck.Field, path string) bool {
		for p := parentPath(path); p != ""; p = parentPath(p) {
			f, ok := m[p]
			if !ok || f.Open || f.Type == "any" || (f.Type != "object" && f.Type != "array") {
				return true
			}
		}
		return false
	}
	for _, f := range theirs {
		if _, ok := o[f.Path]; ok {
			continue
		}
		if under(o, f.Path) || under(th, f.Path) {
			continue
		}
		diffs = append(diffs, part+" field "+f.Path+": missing here")
	}
	for _, f := range ours {
		if _, ok := th[f.Path]; ok {
			continue
		}
		if under(th, f.Path) || under(o, f.Path) {
			continue
		}
		diffs = append(diffs, part+" field "+f.Path+": not in "+src.Name)
	}
	for _, f := range theirs {
		if g, ok := o[f.Path]; ok {
			diffs = append(diffs, compareField(src, part+" field "+f.Path, g, f)...)
		}
	}
	return diffs
}

// parentPath returns the path of the object or array holding path: a.b
// for a.b.c, a for a[] and a.b for a.b[].c; "" at the root.
func parentPath(path string) string {
	if strings.HasSuffix(path, "[]") {
		return strings.TrimSuffix(path, "[]")
	}
	i := strings.LastIndex(path, ".")
	if i < 0 {
		return ""
	}
	return path[:i]
}

func compareField(src crosscheck.Source, name string, ours, theirs crosscheck.Field) []string {
	var diffs []string
	if ours.Type != theirs.Type && theirs.Type != "any" && ours.Type != "any" {
		diffs = append(diffs, fmt.Sprintf("%s: type %s here, %s there", name, ours.Type, theirs.Type))
		return diffs
	}
	if src.Enums && len(theirs.Enum) > 0 {
		if len(ours.Enum) == 0 {
			diffs = append(diffs, fmt.Sprintf("%s: no enum here, %s there", name, strings.Join(theirs.Enum, "|")))
		} else {
			missing, extra := setDiff(theirs.Enum, ours.Enum), setDiff(ours.Enum, theirs.Enum)
			if len(missing) > 0 {
				diffs = append(diffs, fmt.Sprintf("%s: enum lacks %s", name, strings.Join(missing, "|")))
			}
			if len(extra) > 0 {
				diffs = append(diffs, fmt.Sprintf("%s: enum has %s, which is not there", name, strings.Join(extra, "|")))
			}
		}
	}
	if src.Required && theirs.Required != nil && ours.Required != nil && *theirs.Required != *ours.Required && !strings.HasSuffix(name, "[]") {
		if *theirs.Required {
			diffs = append(diffs, name+": required there, optional here")
		} else {
			diffs = append(diffs, name+": optional there, required here")
		}
	}
	return diffs
}

func setDiff(a, b []string) []string {
	in := map[string]bool{}
	for _, v := range b {
		in[v] = true
	}
	var out []string
	for _, v := range a {
		if !in[v] {
			out = append(out, v)
		}
	}
	return out
}
