// Command refdraft drafts api/openapi.yaml fragments from the reference
// description, for whoever adds a business area to the spec. It runs at
// development time only; its output is a starting point that a person
// reviews, names and describes before it goes into the spec, which stays
// the reviewed source of truth (api/reference_test.go then compares every
// operation with the reference).
//
// The operation list names each operation and its place:
//
//	# operationId  METHOD  /path  [twin=DirectTwin]
//	ListProvinces  GET     /v3/capital/capitallhh/areas/provinces
//
//	go run ./internal/tools/refdraft -tag capital ops.txt > draft.yaml
//
// The draft has two parts, "paths" and "schemas", indented to paste under
// the spec's paths: and components.schemas: keys. Every object and enum
// becomes a named schema (nested ones are named Parent+Field), structurally
// identical schemas are emitted once, sensitive fields carry
// x-wxpay-sensitive, downloads x-wxpay-unsigned. Descriptions are left as
// "TODO (<the reference's Chinese term>)": the spec's descriptions are
// written in our own words, and the spec test rejects a TODO.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"unicode"

	"github.com/gowxpay/wxpay/internal/refspec"
)

type opLine struct {
	id, method, path, twin string
}

func main() {
	ref := flag.String("ref", "../shared/reference/wechatpay-openapi", "reference root")
	tag := flag.String("tag", "", "the spec tag (Go package) of the operations")
	flag.Parse()
	if *tag == "" || flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: refdraft [-ref dir] -tag TAG OPS-FILE")
		os.Exit(2)
	}
	ops, err := readOps(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	spec, err := refspec.Load(*ref)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	d := &drafter{names: map[string]string{}, used: map[string]bool{}}
	var paths strings.Builder
	for _, o := range ops {
		r := spec.Ops[refspec.Key(o.method, o.path)]
		if r == nil {
			fmt.Fprintf(os.Stderr, "%s: %s %s is not in the reference\n", o.id, o.method, o.path)
			os.Exit(1)
		}
		d.op(&paths, *tag, o, r)
	}
	fmt.Println("# ---- paths (paste under paths:)")
	fmt.Print(paths.String())
	fmt.Println("# ---- schemas (paste under components.schemas:)")
	for _, name := range d.order {
		fmt.Print(d.text[name])
	}
}

func readOps(file string) ([]opLine, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []opLine
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fs := strings.Fields(line)
		if len(fs) < 3 {
			return nil, fmt.Errorf("%q: want operationId METHOD /path [twin=X]", line)
		}
		o := opLine{id: fs[0], method: strings.ToUpper(fs[1]), path: fs[2]}
		for _, extra := range fs[3:] {
			if v, ok := strings.CutPrefix(extra, "twin="); ok {
				o.twin = v
			}
		}
		out = append(out, o)
	}
	return out, sc.Err()
}

type drafter struct {
	lastPath string            // the path item being written
	names    map[string]string // structural key -> schema name
	used     map[string]bool
	order    []string
	text     map[string]string
}

func (d *drafter) op(w *strings.Builder, tag string, o opLine, r *refspec.Op) {
	if o.path != d.lastPath {
		fmt.Fprintf(w, "  %s:\n", o.path)
		d.lastPath = o.path
	}
	fmt.Fprintf(w, "    %s:\n", strings.ToLower(o.method))
	fmt.Fprintf(w, "      operationId: %s\n", o.id)
	fmt.Fprintf(w, "      tags: [%s]\n", tag)
	fmt.Fprintf(w, "      summary: %s\n", quote("TODO ("+r.Summary+")"))
	fmt.Fprintf(w, "      x-wxpay-modes: %s\n", modes(r.Roles))
	if o.twin != "" {
		fmt.Fprintf(w, "      x-wxpay-twin: %s\n", o.twin)
	}
	download := false
	for _, p := range r.Produces {
		if !strings.Contains(p, "json") {
			download = true
		}
	}
	if download {
		fmt.Fprintf(w, "      x-wxpay-unsigned: true\n")
	}
	var params, form []refspec.Param
	for _, p := range r.Params {
		switch p.In {
		case "path", "query":
			params = append(params, p)
		case "formData":
			form = append(form, p)
		}
	}
	if len(params) > 0 {
		fmt.Fprintf(w, "      parameters:\n")
		for _, p := range params {
			fmt.Fprintf(w, "        - name: %s\n          in: %s\n", p.Name, p.In)
			if p.Required || p.In == "path" {
				fmt.Fprintf(w, "          required: true\n")
			}
			fmt.Fprintf(w, "          description: %s\n", quote(todo(p.Schema)))
			if p.Schema != nil && p.Schema.Format == "base64" {
				fmt.Fprintf(w, "          x-wxpay-sensitive: true\n")
			}
			fmt.Fprintf(w, "          schema: %s\n", noDescription(d.inline(o.id+camel(p.Name), p.Schema)))
		}
	}
	switch {
	case len(form) > 0:
		fmt.Fprintf(w, "      requestBody:\n        required: true\n        content:\n          multipart/form-data:\n")
		fmt.Fprintf(w, "            schema: {$ref: '#/components/schemas/MediaUpload'}  # form fields:")
		for _, f := range form {
			fmt.Fprintf(w, " %s", f.Name)
		}
		fmt.Fprintln(w)
	case r.Body != nil && len(r.Body.Props) > 0:
		name := d.named(o.id+"Request", r.Body)
		fmt.Fprintf(w, "      requestBody:\n        required: true\n        content:\n          application/json:\n")
		fmt.Fprintf(w, "            schema: {$ref: '#/components/schemas/%s'}\n", name)
	}
	fmt.Fprintf(w, "      responses:\n")
	codes := make([]string, 0, len(r.Responses))
	for c := range r.Responses {
		if strings.HasPrefix(c, "2") {
			codes = append(codes, c)
		}
	}
	sort.Strings(codes)
	if len(codes) == 0 {
		codes = []string{"204"}
	}
	c := codes[0]
	s := r.Responses[c]
	switch {
	case download:
		ct := "application/octet-stream"
		for _, p := range r.Produces {
			if !strings.Contains(p, "json") {
				ct = p
				break
			}
		}
		fmt.Fprintf(w, "        '%s':\n          description: TODO\n          content:\n            %s:\n              schema: {type: string, format: binary}\n", c, ct)
	case s == nil || len(s.Props) == 0 && s.Items == nil:
		if c == "200" {
			c = "204"
		}
		fmt.Fprintf(w, "        '%s': {description: TODO}\n", c)
	default:
		name := d.named(o.id+"Response", s)
		fmt.Fprintf(w, "        '%s':\n          description: TODO\n          content:\n            application/json:\n              schema: {$ref: '#/components/schemas/%s'}\n", c, name)
	}
	fmt.Fprintf(w, "        default: {$ref: '#/components/responses/Error'}\n")
}

// named emits s as a named schema (deduplicated) and returns its name.
func (d *drafter) named(want string, s *refspec.Schema) string {
	key := structKey(s)
	if n, ok := d.names[key]; ok {
		return n
	}
	name := want
	for i := 2; d.used[name]; i++ {
		name = fmt.Sprintf("%s%d", want, i)
	}
	d.used[name] = true
	d.names[key] = name
	if d.text == nil {
		d.text = map[string]string{}
	}
	d.order = append(d.order, name)
	var b strings.Builder
	fmt.Fprintf(&b, "    %s:\n", name)
	if len(s.Enum) > 0 {
		fmt.Fprintf(&b, "      type: string\n      description: %s\n      enum: [%s]\n", quote(todo(s)), strings.Join(quoteAll(s.Enum), ", "))
		d.text[name] = b.String()
		return name
	}
	if s.Items != nil {
		fmt.Fprintf(&b, "      type: array\n      description: %s\n      items: %s\n", quote(todo(s)), d.inline(name+"Item", s.Items))
		d.text[name] = b.String()
		return name
	}
	fmt.Fprintf(&b, "      type: object\n      description: %s\n", quote(todo(s)))
	var req []string
	for _, r := range s.Required {
		if s.Prop(r) != nil || hasProp(s, r) {
			req = append(req, r)
		}
	}
	if len(req) > 0 {
		fmt.Fprintf(&b, "      required: [%s]\n", strings.Join(req, ", "))
	}
	if len(s.Props) == 0 {
		fmt.Fprintf(&b, "      additionalProperties: true\n")
	} else {
		fmt.Fprintf(&b, "      properties:\n")
	}
	sens := map[string]bool{}
	for _, n := range s.Sensitive {
		sens[n] = true
	}
	for _, p := range s.Props {
		ps := p.Schema
		if ps == nil {
			ps = &refspec.Schema{Type: "string"}
		}
		child := name + camel(p.Name)
		if ps.Items != nil {
			child = name + singular(camel(p.Name))
		}
		v := d.inline(child, ps)
		if (sens[p.Name] || ps.Type == "string" && ps.Format == "base64") && !strings.HasPrefix(v, "{$ref") {
			v = strings.TrimSuffix(v, "}") + ", x-wxpay-sensitive: true}"
		}
		fmt.Fprintf(&b, "        %s: %s\n", p.Name, v)
	}
	d.text[name] = b.String()
	return name
}

// inline returns the flow-style schema of a property: a $ref to a named
// schema for objects and enums, else the scalar type with its description.
func (d *drafter) inline(name string, s *refspec.Schema) string {
	if s == nil {
		return "{type: string}"
	}
	if len(s.Enum) > 0 || len(s.Props) > 0 || s.Type == "object" {
		return "{$ref: '#/components/schemas/" + d.named(name, s) + "'}"
	}
	if s.Items != nil || s.Type == "array" {
		items := "{type: string}"
		if s.Items != nil {
			items = d.inline(name, s.Items)
		}
		return fmt.Sprintf("{type: array, description: %s, items: %s}", quote(todo(s)), items)
	}
	typ := s.Type
	format := ""
	switch typ {
	case "integer", "number", "boolean":
		if s.Format == "int32" || s.Format == "int64" || s.Format == "float" || s.Format == "double" {
			format = s.Format
		}
	default:
		typ = "string"
		switch s.Format {
		case "date-time", "rfc3339":
			format = "date-time"
		case "date":
			format = "date"
		case "binary":
			format = "binary"
		}
	}
	out := "{type: " + typ
	if format != "" {
		out += ", format: " + format
	}
	return out + ", description: " + quote(todo(s)) + "}"
}

// noDescription drops the description of a flow-style scalar schema (a
// parameter's description sits on the parameter).
func noDescription(v string) string {
	if i := strings.Index(v, ", description: "); i > 0 && !strings.HasPrefix(v, "{type: array") {
		return v[:i] + "}"
	}
	return v
}

func hasProp(s *refspec.Schema, name string) bool {
	for _, p := range s.Props {
		if p.Name == name {
			return true
		}
	}
	return false
}

// structKey identifies a schema's structure: names, types, required lists,
// enums, sensitive marks; not descriptions.
func structKey(s *refspec.Schema) string {
	if s == nil {
		return "nil"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s/%s/%v/%v/%v[", s.Type, s.Format, s.Enum, sorted(s.Required), sorted(s.Sensitive))
	for _, p := range s.Props {
		fmt.Fprintf(&b, "%s:%s,", p.Name, structKey(p.Schema))
	}
	b.WriteString("]")
	if s.Items != nil {
		b.WriteString("items:" + structKey(s.Items))
	}
	return b.String()
}

func sorted(in []string) []string {
	out := append([]string(nil), in...)
	sort.Strings(out)
	return out
}

var firstLine = regexp.MustCompile(`^[^\n。，,；;：:]*`)

// todo is the placeholder description: the reference's term, for the
// person who writes the real one.
func todo(s *refspec.Schema) string {
	if s == nil || s.Description == "" {
		return "TODO"
	}
	t := strings.TrimSpace(firstLine.FindString(strings.TrimSpace(s.Description)))
	t = strings.Trim(t, "【】 ")
	if i := strings.Index(t, "】"); i > 0 {
		t = t[:i]
	}
	if r := []rune(t); len(r) > 30 {
		t = string(r[:30])
	}
	return "TODO (" + t + ")"
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func quoteAll(in []string) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = quote(s)
	}
	return out
}

func camel(s string) string {
	var b strings.Builder
	up := true
	for _, r := range s {
		if r == '_' || r == '-' || r == '.' || r == '{' || r == '}' {
			up = true
			continue
		}
		if up {
			b.WriteRune(unicode.ToUpper(r))
			up = false
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func singular(s string) string {
	switch {
	case strings.HasSuffix(s, "ies"):
		return strings.TrimSuffix(s, "ies") + "y"
	case strings.HasSuffix(s, "sses"), strings.HasSuffix(s, "xes"):
		return strings.TrimSuffix(s, "es")
	case strings.HasSuffix(s, "List"):
		return strings.TrimSuffix(s, "List")
	case strings.HasSuffix(s, "s") && !strings.HasSuffix(s, "ss"):
		return strings.TrimSuffix(s, "s")
	}
	return s + "Item"
}

// modes maps the reference's x-role list onto x-wxpay-modes.
func modes(roles []string) string {
	direct, partner := false, false
	for _, r := range roles {
		switch r {
		case "直连商户", "特约商户（直连模式）", "普通商户":
			direct = true
		case "服务商", "普通服务商", "电商平台", "渠道商", "从业机构", "机构", "从业机构（支付机构）":
			partner = true
		case "微信平台商户", "微信支付商户":
			direct, partner = true, true
		}
	}
	switch {
	case direct && partner:
		return "[direct, partner]"
	case direct:
		return "[direct]"
	default:
		return "[partner]"
	}
}
