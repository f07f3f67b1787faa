package api_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"gopkg.in/yaml.v3"

	"github.com/gowxpay/wxpay/internal/crosscheck"
	"github.com/gowxpay/wxpay/internal/refspec"
)

// referenceDir finds the MIT-licensed per-endpoint reference that the spec's
// facts come from: $WXPAY_REFERENCE, or ../shared/reference/wechatpay-openapi
// beside the repository.
func referenceDir() string {
	if d := os.Getenv("WXPAY_REFERENCE"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "shared", "reference", "wechatpay-openapi")
}

// difference is one deliberate deviation from the reference, listed in
// reference-differences.yaml with its reason.
type difference struct {
	Op   string `yaml:"op"`
	Diff string `yaml:"diff"`
	Why  string `yaml:"why"`
}

func loadDifferences(t *testing.T) map[string]difference {
	t.Helper()
	b, err := os.ReadFile("reference-differences.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var list []difference
	if err := yaml.Unmarshal(b, &list); err != nil {
		t.Fatalf("reference-differences.yaml: %v", err)
	}
	out := map[string]difference{}
	for _, d := range list {
		if d.Op == "" || d.Diff == "" || strings.TrimSpace(d.Why) == "" {
			t.Errorf("reference-differences.yaml: every entry needs op, diff and why: %+v", d)
		}
		k := d.Op + ": " + d.Diff
		if _, dup := out[k]; dup {
			t.Errorf("reference-differences.yaml: %s listed twice", k)
		}
		out[k] = d
	}
	return out
}

// TestReferenceComparison compares every operation of api/openapi.yaml with
// the reference: method and path, parameters and whether they are required,
// request-body field names, JSON types, enums, required lists and sensitive
// fields, the success answer (recursively: names, JSON types, enums,
// required), and the merchant modes. It fails on any difference that reference-differences.yaml
// does not list with a reason, and on a listed difference that no longer
// occurs.
func TestReferenceComparison(t *testing.T) {
	t.Parallel()
	dir := referenceDir()
	if _, err := os.Stat(filepath.Join(dir, "v3")); err != nil {
		t.Skipf("reference not found at %s (set WXPAY_REFERENCE): skipping the comparison", dir)
	}
	ref, err := refspec.Load(dir)
	if err != nil {
		t.Fatalf("loading the reference: %v", err)
	}
	doc := loadDoc(t)
	allowed := loadDifferences(t)
	var found []string
	compared := 0
	for _, path := range doc.Paths.InMatchingOrder() {
		item := doc.Paths.Value(path)
		for method, op := range item.Operations() {
			diffs := compareOp(ref, method, path, op)
			compared++
			for _, d := range diffs {
				found = append(found, op.OperationID+": "+d)
			}
		}
	}
	sort.Strings(found)
	seen := map[string]bool{}
	for _, f := range found {
		seen[f] = true
		if _, ok := allowed[f]; !ok {
			t.Errorf("difference from the reference: %s\n\t(fix the spec, or list it in api/reference-differences.yaml with the reason)", f)
		}
	}
	for k := range allowed {
		if !seen[k] {
			t.Errorf("reference-differences.yaml lists %q, which no longer occurs: remove it", k)
		}
	}
	t.Logf("compared %d operations with the reference; %d differences, %d of them listed as deliberate", compared, len(found), len(allowed))
}

// TestReferenceLeftOut checks left-out.yaml against the reference: an entry
// for the reference names an operation the reference has and this spec does
// not, and every operation the reference marks deprecated is either in the
// spec or left out with its reason.
func TestReferenceLeftOut(t *testing.T) {
	t.Parallel()
	dir := referenceDir()
	if _, err := os.Stat(filepath.Join(dir, "v3")); err != nil {
		t.Skipf("reference not found at %s (set WXPAY_REFERENCE): skipping", dir)
	}
	ref, err := refspec.Load(dir)
	if err != nil {
		t.Fatalf("loading the reference: %v", err)
	}
	ours := map[string]bool{}
	doc := loadDoc(t)
	for _, path := range doc.Paths.InMatchingOrder() {
		for method := range doc.Paths.Value(path).Operations() {
			ours[crosscheck.Key(method, path)] = true
		}
	}
	theirs := map[string]*refspec.Op{}
	for _, op := range ref.Ops {
		theirs[crosscheck.Key(op.Method, op.Path)] = op
	}
	left := loadLeftOut(t)
	for k, srcs := range left {
		if !slices.Contains(srcs, "reference") {
			continue
		}
		if theirs[k] == nil {
			t.Errorf("left-out.yaml lists %s for the reference, which does not have it", k)
		}
		if ours[k] {
			t.Errorf("left-out.yaml lists %s, which this spec has: remove it", k)
		}
	}
	deprecated := 0
	for k, op := range theirs {
		if !op.Deprecated {
			continue
		}
		deprecated++
		if !ours[k] && !slices.Contains(left[k], "reference") {
			t.Errorf("the reference marks %s deprecated: list it in left-out.yaml (sources: [reference]) with the reason it is left out", k)
		}
	}
	t.Logf("%d reference operations are deprecated", deprecated)
}

func compareOp(ref *refspec.Spec, method, path string, op *openapi3.Operation) []string {
	r := ref.Ops[refspec.Key(method, path)]
	if r == nil {
		return []string{"not in the reference"}
	}
	var diffs []string
	// Modes.
	if want, have := refModes(r.Roles), fmt.Sprint(op.Extensions["x-wxpay-modes"]); want != "" && want != have {
		diffs = append(diffs, fmt.Sprintf("modes: the reference serves %s, this spec %s", want, have))
	}
	// Parameters, except headers: the client sets Wechatpay-Serial and the
	// other protocol headers itself.
	ours := map[string]*openapi3.Parameter{}
	for _, p := range op.Parameters {
		ours[p.Value.In+" "+p.Value.Name] = p.Value
	}
	theirs := map[string]refspec.Param{}
	// Form fields of a multipart upload are the properties of our
	// multipart/form-data body.
	var form *refspec.Schema
	for _, p := range r.Params {
		switch p.In {
		case "header":
			continue
		case "formData":
			if form == nil {
				form = &refspec.Schema{Type: "object"}
			}
			form.Props = append(form.Props, &refspec.Prop{Name: p.Name})
			if p.Required {
				form.Required = append(form.Required, p.Name)
			}
			continue
		}
		theirs[p.In+" "+p.Name] = p
	}
	if form != nil && r.Body == nil {
		r = &refspec.Op{Method: r.Method, Path: r.Path, Roles: r.Roles, Params: r.Params, Body: form}
	}
	for _, k := range sortedMapKeys(theirs) {
		p := theirs[k]
		o, ok := ours[k]
		switch {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("%s parameter %s: missing here", p.In, p.Name))
		case p.Required && !o.Required:
			diffs = append(diffs, fmt.Sprintf("%s parameter %s: required in the reference, optional here", p.In, p.Name))
		case !p.Required && o.Required:
			diffs = append(diffs, fmt.Sprintf("%s parameter %s: optional in the reference, required here", p.In, p.Name))
		}
		if ok {
			refEnc := p.Schema != nil && p.Schema.Type == "string" && p.Schema.Format == "base64"
			switch ourEnc := o.Extensions["x-wxpay-sensitive"] == true; {
			case refEnc && !ourEnc:
				diffs = append(diffs, fmt.Sprintf("%s parameter %s: encrypted in the reference, not marked x-wxpay-sensitive here", p.In, p.Name))
			case !refEnc && ourEnc:
				diffs = append(diffs, fmt.Sprintf("%s parameter %s: marked x-wxpay-sensitive here, not in the reference", p.In, p.Name))
			}
		}
	}
	for _, k := range sortedMapKeys(ours) {
		if _, ok := theirs[k]; !ok && ours[k].In != "header" {
			diffs = append(diffs, fmt.Sprintf("%s parameter %s: not in the reference", ours[k].In, ours[k].Name))
		}
	}
	// Body.
	var body *refspec.Schema
	if op.RequestBody != nil && op.RequestBody.Value != nil {
		for ct, mt := range op.RequestBody.Value.Content {
			if strings.Contains(ct, "json") || ct == "multipart/form-data" {
				body = flatten(mt.Schema, 0)
			}
		}
	}
	switch {
	case body == nil && r.Body != nil && len(r.Body.Props) > 0:
		diffs = append(diffs, "body: the reference has one, this spec none")
	case body != nil && r.Body == nil:
		diffs = append(diffs, "body: this spec has one, the reference none")
	case body != nil:
		diffs = append(diffs, compareSchema("body", r.Body, body)...)
	}
	// JSON types and enums of the body fields both sides have, and the
	// success answer, field by field, the way TestCrossCheck compares.
	facts := ourFacts(op)
	if r.Body != nil && facts.hasRequest {
		theirs := map[string]crosscheck.Field{}
		for _, f := range crosscheck.Flatten(refShape(r.Body, 0)) {
			theirs[f.Path] = f
		}
		for _, o := range facts.request {
			if t, ok := theirs[o.Path]; ok {
				diffs = append(diffs, compareField(referenceSource, "body field "+o.Path, o, crosscheck.Field{Path: t.Path, Type: t.Type, Enum: t.Enum})...)
			}
		}
	}
	code, resp := refSuccess(r)
	switch {
	case code == "":
	case resp == nil && facts.responseBody == "json":
		diffs = append(diffs, fmt.Sprintf("response: a JSON body here, none in the reference (%s)", code))
	case resp != nil && len(resp.Props) > 0 && facts.responseBody == "none":
		diffs = append(diffs, fmt.Sprintf("response: none here, a JSON body in the reference (%s)", code))
	case resp != nil && facts.responseBody == "json":
		diffs = append(diffs, compareFields(referenceSource, "response", facts.response, crosscheck.Flatten(refShape(resp, 0)))...)
	}
	return diffs
}

// referenceSource describes the reference to the field comparison shared
// with TestCrossCheck: it states required marks and enums.
var referenceSource = crosscheck.Source{Name: "the reference", Required: true, Requests: true, Enums: true}

// refSuccess returns the reference's success answer: the first 2xx status
// it declares and its schema (nil for an empty answer).
func refSuccess(r *refspec.Op) (string, *refspec.Schema) {
	for _, code := range sortedMapKeys(r.Responses) {
		if strings.HasPrefix(code, "2") {
			return code, r.Responses[code]
		}
	}
	return "", nil
}

// refShape turns a reference schema into a crosscheck shape.
func refShape(s *refspec.Schema, depth int) *crosscheck.Shape {
	if s == nil || depth > 16 {
		return &crosscheck.Shape{Type: "any"}
	}
	sh := &crosscheck.Shape{Type: s.Type, Enum: s.Enum}
	for _, p := range s.Props {
		sh.Fields = append(sh.Fields, crosscheck.ShapeField{Name: p.Name, Required: crosscheck.Bool(s.IsRequired(p.Name)), Shape: refShape(p.Schema, depth+1)})
	}
	if s.Items != nil {
		sh.Items = refShape(s.Items, depth+1)
	}
	switch {
	case sh.Type == "" && len(sh.Fields) > 0:
		sh.Type = "object"
	case sh.Type == "" && sh.Items != nil:
		sh.Type = "array"
	case sh.Type == "":
		sh.Type = "any"
	case sh.Type == "object" && len(sh.Fields) == 0:
		sh.Open = true
	}
	return sh
}

// refModes maps the reference's x-role onto x-wxpay-modes.
func refModes(roles []string) string {
	direct, partner := false, false
	for _, r := range roles {
		switch r {
		case "直连商户", "特约商户（直连模式）", "普通商户":
			direct = true
		case "服务商", "普通服务商", "电商平台", "渠道商", "渠道服务商", "平台商户", "从业机构", "机构", "从业机构（支付机构）", "从业机构（银行）":
			partner = true
		case "微信平台商户", "微信支付商户":
			direct, partner = true, true
		}
	}
	switch {
	case direct && partner:
		return "[direct partner]"
	case direct:
		return "[direct]"
	case partner:
		return "[partner]"
	}
	return ""
}

func sortedMapKeys[V any](mm map[string]V) []string {
	keys := make([]string, 0, len(mm))
	for k := range mm {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// flatten turns one of our schemas into the reference's flattened shape.
func flatten(ref *openapi3.SchemaRef, depth int) *refspec.Schema {
	if ref == nil || ref.Value == nil || depth > 30 {
		return nil
	}
	v := ref.Value
	s := &refspec.Schema{Format: v.Format, Description: v.Description, Required: append([]string(nil), v.Required...)}
	if v.Type != nil && len(*v.Type) > 0 {
		s.Type = (*v.Type)[0]
	}
	for _, a := range v.AllOf {
		if f := flatten(a, depth+1); f != nil {
			s.Props = append(s.Props, f.Props...)
			s.Required = append(s.Required, f.Required...)
			if s.Type == "" {
				s.Type = f.Type
			}
			if f.Items != nil {
				s.Items = f.Items
			}
		}
	}
	for _, name := range sortedMapKeys(v.Properties) {
		p := flatten(v.Properties[name], depth+1)
		if p != nil && v.Properties[name].Value.Extensions["x-wxpay-sensitive"] == true {
			s.Sensitive = append(s.Sensitive, name)
		}
		s.Props = append(s.Props, &refspec.Prop{Name: name, Schema: p})
	}
	if v.Items != nil {
		s.Items = flatten(v.Items, depth+1)
	}
	return s
}

// refSensitive reports whether the reference marks a request field as
// encrypted: listed in its object's x-is-sensitive, or a Base64 string (the
// reference's way of saying "ciphertext goes here").
func refSensitive(parent *refspec.Schema, name string, s *refspec.Schema) bool {
	for _, n := range parent.Sensitive {
		if n == name {
			return true
		}
	}
	return s != nil && s.Type == "string" && s.Format == "base64"
}

func compareSchema(where string, theirs, ours *refspec.Schema) []string {
	var diffs []string
	if theirs == nil || ours == nil {
		return nil
	}
	if theirs.Items != nil && ours.Items != nil {
		return compareSchema(where+"[]", theirs.Items, ours.Items)
	}
	oursSens := map[string]bool{}
	for _, n := range ours.Sensitive {
		oursSens[n] = true
	}
	for _, p := range theirs.Props {
		name := where + "." + p.Name
		if where == "body" {
			name = "body field " + p.Name
		}
		o := ours.Prop(p.Name)
		if o == nil && !hasProp(ours, p.Name) {
			diffs = append(diffs, name+": missing here")
			continue
		}
		switch {
		case theirs.IsRequired(p.Name) && !ours.IsRequired(p.Name):
			diffs = append(diffs, name+": required in the reference, optional here")
		case !theirs.IsRequired(p.Name) && ours.IsRequired(p.Name):
			diffs = append(diffs, name+": optional in the reference, required here")
		}
		switch rs := refSensitive(theirs, p.Name, p.Schema); {
		case rs && !oursSens[p.Name]:
			diffs = append(diffs, name+": encrypted in the reference, not marked x-wxpay-sensitive here")
		case !rs && oursSens[p.Name]:
			diffs = append(diffs, name+": marked x-wxpay-sensitive here, not in the reference")
		}
		sub := strings.TrimPrefix(name, "body field ")
		diffs = append(diffs, compareSchema(sub, p.Schema, o)...)
	}
	for _, p := range ours.Props {
		if !hasProp(theirs, p.Name) {
			name := where + "." + p.Name
			if where == "body" {
				name = "body field " + p.Name
			}
			diffs = append(diffs, name+": not in the reference")
		}
	}
	return diffs
}

func hasProp(s *refspec.Schema, name string) bool {
	for _, p := range s.Props {
		if p.Name == name {
			return true
		}
	}
	return false
}
