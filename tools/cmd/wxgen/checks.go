package main

import (
	"fmt"
	"strings"
)

// A request whose required fields are empty is refused before it is signed.
// For every struct type reachable from a request body, wxgen writes a
// function that lists the JSON paths of its empty required fields, and
// where an optional nested object is set, its own. The functions compare
// fields with their zero values; nothing reflects. A valid request
// allocates nothing in them.
//
// Required means: a string that is empty, an array that is absent (or empty
// when the spec says minItems), an integer that is 0 where the spec's
// minimum is at least 1, a time that is zero. A boolean, or an integer whose
// 0 is a value, is never "missing".

// checkSet is the check, zero and fill functions one package file needs.
type checkSet struct {
	g     *gen
	types map[string]*checkType // by Go type expression in this package
	order []string
}

// checkType is one struct type with its schema and what it needs.
type checkType struct {
	expr       string // Go type expression in this package
	t          *goType
	pkg        *goPkg // declaring package
	schema     obj
	busy, done bool
	hasCheck   bool
	imports    map[string]bool // what naming expr takes, imported only when a function is written
	needZero   bool
	needFill   bool
	zeroDone   bool
}

func newCheckSet(g *gen) *checkSet {
	return &checkSet{g: g, types: map[string]*checkType{}}
}

// lookup returns the checkType of a field's Go type (as written in the
// models of package from), or nil for non-struct types.
func (cs *checkSet) lookup(from *goPkg, expr string, schema obj) *checkType {
	pkg, t := cs.g.w.resolve(from, expr)
	if t == nil || !t.isStruct {
		return nil
	}
	imports := map[string]bool{}
	q := cs.g.w.qualify(from, expr, cs.g.tag, imports)
	if ct, ok := cs.types[q]; ok {
		if ct.schema == nil {
			// first met where the schema was not at hand (a zero test)
			ct.schema = schema
		}
		return ct
	}
	ct := &checkType{expr: q, t: t, pkg: pkg, schema: schema, imports: imports}
	cs.types[q] = ct
	cs.order = append(cs.order, q)
	return ct
}

// use imports what naming ct's type takes into the file being written.
func (cs *checkSet) use(ct *checkType) {
	for k := range ct.imports {
		cs.g.f.imports[k] = true
	}
}

func (ct *checkType) fn(prefix string) string {
	return prefix + strings.ReplaceAll(ct.expr, ".", "")
}

// props returns the properties and required list of a schema, following
// $ref and merging allOf.
func (cs *checkSet) props(sc obj) (obj, map[string]bool) {
	sc = cs.resolveSchema(sc)
	props := obj{}
	req := map[string]bool{}
	for _, a := range list(sc["allOf"]) {
		p, r := cs.props(m(a))
		for k, v := range p {
			props[k] = v
		}
		for k := range r {
			req[k] = true
		}
	}
	for k, v := range m(sc["properties"]) {
		props[k] = v
	}
	for _, r := range strList(sc["required"]) {
		req[r] = true
	}
	return props, req
}

func (cs *checkSet) resolveSchema(sc obj) obj {
	for i := 0; i < 10; i++ {
		name, ok := refName(str(sc["$ref"]), "schemas")
		if !ok {
			break
		}
		sc = cs.g.s.Schemas[name]
	}
	if all := list(sc["allOf"]); len(all) == 1 && len(m(sc["properties"])) == 0 {
		return cs.resolveSchema(m(all[0]))
	}
	return sc
}

// analyse computes what a type needs: a check (a required field somewhere
// inside), defaults to fill.
func (cs *checkSet) analyse(ct *checkType) {
	if ct.done || ct.busy {
		return
	}
	ct.busy = true
	props, req := cs.props(ct.schema)
	for _, f := range ct.t.fields {
		ps := cs.resolveSchema(m(props[f.json]))
		elem, _ := cs.elem(ct, f, ps)
		if elem != nil {
			cs.analyse(elem)
			ct.hasCheck = ct.hasCheck || elem.hasCheck
			ct.needFill = ct.needFill || (elem.needFill && !strings.HasPrefix(f.typ, "[]") && !strings.HasPrefix(f.typ, "*"))
		}
		if req[f.json] && cs.requiredCond(ct.pkg, f, ps, "v."+f.name) != "" {
			ct.hasCheck = true
		}
		if req[f.json] && f.typ == "string" && str(ps["default"]) != "" {
			ct.needFill = true
		}
	}
	ct.busy, ct.done = false, true
}

// elem returns the struct type a field holds (directly, by pointer or as
// array elements) with its schema.
func (cs *checkSet) elem(ct *checkType, f *goField, ps obj) (*checkType, string) {
	typ := f.typ
	kind := ""
	switch {
	case strings.HasPrefix(typ, "[]"):
		typ, kind = typ[2:], "slice"
		ps = cs.resolveSchema(m(ps["items"]))
	case strings.HasPrefix(typ, "*"):
		typ, kind = typ[1:], "pointer"
	}
	return cs.lookup(ct.pkg, typ, ps), kind
}

// requiredCond is the Go condition under which a required field counts as
// missing, or "" when no value of its type is missing.
func (cs *checkSet) requiredCond(pkg *goPkg, f *goField, ps obj, v string) string {
	switch {
	case strings.HasPrefix(f.typ, "[]"):
		if n, ok := ps["minItems"].(int); ok && n > 0 {
			return "len(" + v + ") == 0"
		}
		return v + " == nil"
	case strings.HasPrefix(f.typ, "*"), strings.HasPrefix(f.typ, "map["), f.typ == "interface{}":
		return v + " == nil"
	case f.typ == "int64" || f.typ == "int" || f.typ == "int32" || f.typ == "float32" || f.typ == "float64":
		if minimum(ps) >= 1 {
			return v + " == 0"
		}
		return ""
	case f.typ == "core.Time" || f.typ == "core.Date":
		return v + ".IsZero()"
	}
	if f.typ == "string" {
		return v + ` == ""`
	}
	if t := cs.g.w.underlying(pkg, f.typ); t == "string" {
		return v + ` == ""`
	}
	return ""
}

func minimum(ps obj) float64 {
	switch n := ps["minimum"].(type) {
	case int:
		return float64(n)
	case float64:
		return n
	}
	return 0
}

// check plans the check function of a body type and returns its name, or ""
// when nothing in it is required.
func (cs *checkSet) check(t *goType, schema obj) (string, error) {
	ct := cs.lookup(cs.g.pkg, t.name, schema)
	if ct == nil {
		return "", fmt.Errorf("%s is not a struct", t.name)
	}
	cs.analyse(ct)
	if !ct.hasCheck {
		return "", nil
	}
	return ct.fn("check"), nil
}

// fill emits the call that fills documented defaults (currency CNY) into
// v, a copy owned by the method.
func (cs *checkSet) fill(t *goType, schema obj, v string) error {
	ct := cs.lookup(cs.g.pkg, t.name, schema)
	if ct == nil {
		return fmt.Errorf("%s is not a struct", t.name)
	}
	cs.analyse(ct)
	if ct.needFill {
		cs.g.f.p("%s(&%s)", ct.fn("fill"), v)
	}
	return nil
}

// zeroExpr is a Go condition that holds when v, of Go type typ (as written
// in this package), is its zero value; "" for a boolean, whose false is a
// value.
func (cs *checkSet) zeroExpr(v, typ string) string {
	switch {
	case typ == "bool":
		return ""
	case strings.HasPrefix(typ, "[]"), strings.HasPrefix(typ, "map["):
		return "len(" + v + ") == 0"
	case strings.HasPrefix(typ, "*"), typ == "interface{}", typ == "any":
		return v + " == nil"
	case typ == "string":
		return v + ` == ""`
	case typ == "int64" || typ == "int" || typ == "int32" || typ == "float32" || typ == "float64":
		return v + " == 0"
	case typ == "core.Time" || typ == "core.Date":
		return v + ".IsZero()"
	}
	if u := cs.g.w.underlying(cs.g.pkg, typ); u == "string" {
		return v + ` == ""`
	} else if u != "" {
		return v + " == 0"
	}
	if ct := cs.lookup(cs.g.pkg, typ, nil); ct != nil {
		ct.needZero = true
		return ct.fn("zero") + "(&" + v + ")"
	}
	if strings.HasSuffix(typ, "Input") && !strings.Contains(typ, ".") {
		return v + ".isZero()"
	}
	return ""
}

// emit writes every planned function, in a stable order.
func (cs *checkSet) emit() error {
	for i := 0; i < len(cs.order); i++ {
		ct := cs.types[cs.order[i]]
		if ct.hasCheck {
			cs.emitCheck(ct)
		}
		if ct.needFill {
			cs.emitFill(ct)
		}
	}
	// Zero tests may be planned while checks and other zero tests are
	// written.
	for again := true; again; {
		again = false
		for i := 0; i < len(cs.order); i++ {
			if ct := cs.types[cs.order[i]]; ct.needZero && !ct.zeroDone {
				ct.zeroDone, again = true, true
				cs.emitZero(ct)
			}
		}
	}
	return nil
}

func (cs *checkSet) emitCheck(ct *checkType) {
	f := cs.g.f
	cs.use(ct)
	f.p("// %s lists the empty required fields of v, as JSON paths.", ct.fn("check"))
	f.p("func %s(v *%s) (miss []string) {", ct.fn("check"), ct.expr)
	props, req := cs.props(ct.schema)
	for _, fl := range ct.t.fields {
		ps := cs.resolveSchema(m(props[fl.json]))
		if req[fl.json] {
			if cond := cs.requiredCond(ct.pkg, fl, ps, "v."+fl.name); cond != "" {
				f.p("if %s {\nmiss = append(miss, %q)\n}", cond, fl.json)
			}
		}
		elem, kind := cs.elem(ct, fl, ps)
		if elem == nil || !elem.hasCheck {
			continue
		}
		cs.g.f.imports[modulePath+"/internal/wire"] = true
		call := fmt.Sprintf("if n := %s(%%s); n != nil {\nmiss = wire.Prefix(miss, %%s, n)\n}", elem.fn("check"))
		switch {
		case kind == "slice":
			f.p("for i := range v.%s {\n%s\n}", fl.name, fmt.Sprintf(call, "&v."+fl.name+"[i]", fmt.Sprintf("wire.Index(%q, i)", fl.json)))
		case kind == "pointer":
			f.p("if v.%s != nil {\n%s\n}", fl.name, fmt.Sprintf(call, "v."+fl.name, fmt.Sprintf("%q", fl.json+".")))
		case req[fl.json]:
			f.p("%s", fmt.Sprintf(call, "&v."+fl.name, fmt.Sprintf("%q", fl.json+".")))
		default:
			elem.needZero = true
			f.p("if !%s(&v.%s) {\n%s\n}", elem.fn("zero"), fl.name, fmt.Sprintf(call, "&v."+fl.name, fmt.Sprintf("%q", fl.json+".")))
		}
	}
	f.p("return miss\n}\n")
}

func (cs *checkSet) emitFill(ct *checkType) {
	f := cs.g.f
	cs.use(ct)
	f.p("// %s fills the documented defaults of v's empty required fields.", ct.fn("fill"))
	f.p("func %s(v *%s) {", ct.fn("fill"), ct.expr)
	props, req := cs.props(ct.schema)
	for _, fl := range ct.t.fields {
		ps := cs.resolveSchema(m(props[fl.json]))
		if d := str(ps["default"]); d != "" && req[fl.json] && fl.typ == "string" {
			f.p("if v.%s == \"\" {\nv.%s = %q\n}", fl.name, fl.name, d)
		}
		if elem, kind := cs.elem(ct, fl, ps); elem != nil && kind == "" && elem.needFill {
			f.p("%s(&v.%s)", elem.fn("fill"), fl.name)
		}
	}
	f.p("}\n")
}

func (cs *checkSet) emitZero(ct *checkType) {
	f := cs.g.f
	var conds []string
	for _, fl := range ct.t.fields {
		typ := cs.g.w.qualify(ct.pkg, fl.typ, cs.g.tag, cs.g.f.imports)
		c := cs.zeroExpr("v."+fl.name, typ)
		if c == "" && typ == "bool" {
			c = "!v." + fl.name
		}
		if c != "" {
			conds = append(conds, c)
		}
	}
	if len(conds) == 0 {
		conds = []string{"true"}
	}
	cs.use(ct)
	f.p("// %s reports whether v is the zero %s.", ct.fn("zero"), ct.expr)
	f.p("func %s(v *%s) bool {\nreturn %s\n}\n", ct.fn("zero"), ct.expr, strings.Join(conds, " &&\n"))
}
