package main

import (
	"fmt"
	"strings"
)

// A unified method serves a pair of twins, a direct operation and its
// partner variant, with one input type: the fields both modes share, the
// sub-merchant fields of partner mode, and no merchant identity (mchid and
// sp_mchid come from the client's Mode). Fields that differ only by the sp_
// prefix of partner mode (appid and sp_appid, openid and sp_openid) are one
// field. Nested objects that differ get a unified type of their own.

// srcField is where a unified field goes in one mode.
type srcField struct {
	f        *goField
	inParams bool
}

type uField struct {
	name, typ, doc string
	d, p           *srcField
	nested         *uType // set when the two modes' types differ
	slice          bool
}

type uType struct {
	name         string
	dType, pType string // qualified for the current package
	fields       []*uField
}

func isConfigField(json string) bool { return json == "mchid" || json == "sp_mchid" }

func (g *gen) collect(op *Op) ([]*srcField, error) {
	var out []*srcField
	pt, err := g.paramsType(op)
	if err != nil {
		return nil, err
	}
	if pt != nil {
		for _, f := range pt.fields {
			out = append(out, &srcField{f: f, inParams: true})
		}
	}
	bt, err := g.bodyType(op)
	if err != nil {
		return nil, err
	}
	if bt != nil {
		for _, f := range bt.fields {
			out = append(out, &srcField{f: f})
		}
	}
	return out, nil
}

// docText is a field's comment without its leading name: the predicate
// ("is the order amount"), or a plain one when the field has no comment.
func docText(f *goField) string {
	d := strings.TrimSpace(strings.TrimPrefix(f.doc, f.name))
	if d == "" {
		return "is sent as " + f.json + "."
	}
	return d
}

// unifyFields matches the fields of the two modes.
func (g *gen) unifyFields(dp *goPkg, dFields []*srcField, pp *goPkg, pFields []*srcField, top bool) ([]*uField, error) {
	pairs := pairFields(dFields, pFields)
	var out []*uField
	byName := map[string]bool{}
	add := func(u *uField) error {
		if byName[u.name] {
			return fmt.Errorf("two fields named %s", u.name)
		}
		byName[u.name] = true
		out = append(out, u)
		return nil
	}
	for _, df := range dFields {
		if top && isConfigField(df.f.json) {
			continue
		}
		u, err := g.directField(dp, df, pp, pairs[df], top)
		if err != nil {
			return nil, err
		}
		if err := add(u); err != nil {
			return nil, err
		}
	}
	for _, pf := range pFields {
		if isMatched(pairs, pf) || (top && isConfigField(pf.f.json)) {
			continue
		}
		u := &uField{name: pf.f.name, p: pf, typ: g.w.qualify(pp, pf.f.typ, g.tag, g.f.imports), doc: docText(pf.f)}
		u.doc = strings.TrimSuffix(u.doc, ".") + ". Partner mode only."
		if r, ok := defaultRules[pf.f.json]; ok && top && u.typ == "string" {
			u.doc += fmt.Sprintf(" Config.%s when empty.", r.modeField)
		}
		if err := add(u); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// pairFields pairs each partner field with the direct field of the same
// JSON name, or of the name without partner mode's sp_ prefix.
func pairFields(dFields, pFields []*srcField) map[*srcField]*srcField {
	used := map[*srcField]bool{}
	pairs := map[*srcField]*srcField{}
	for _, pf := range pFields {
		for _, df := range dFields {
			if !used[df] && (df.f.json == pf.f.json || "sp_"+df.f.json == pf.f.json) {
				used[df] = true
				pairs[df] = pf
				break
			}
		}
	}
	return pairs
}

// directField is the unified field of a direct-mode field and its partner
// twin pf, if any.
func (g *gen) directField(dp *goPkg, df *srcField, pp *goPkg, pf *srcField, top bool) (*uField, error) {
	u := &uField{name: df.f.name, d: df, doc: docText(df.f)}
	if pf == nil {
		u.typ = g.w.qualify(dp, df.f.typ, g.tag, g.f.imports)
		u.doc = strings.TrimSuffix(u.doc, ".") + ". Direct mode only."
	} else {
		u.p = pf
		if df.f.json != pf.f.json {
			u.doc = strings.TrimSuffix(u.doc, ".") + fmt.Sprintf(". Sent as %s in direct mode and %s in partner mode.", df.f.json, pf.f.json)
		}
		dt := g.w.qualify(dp, df.f.typ, g.tag, g.f.imports)
		ptyp := g.w.qualify(pp, pf.f.typ, g.tag, g.f.imports)
		if dt == ptyp {
			u.typ = dt
		} else {
			n, slice, err := g.nestedType(dp, df.f.typ, pp, pf.f.typ)
			if err != nil {
				return nil, fmt.Errorf("field %s: %w", df.f.name, err)
			}
			u.nested, u.slice, u.typ = n, slice, n.name
			if slice {
				u.typ = "[]" + n.name
			}
		}
	}
	if r, ok := defaultRules[df.f.json]; ok && top && u.typ == "string" {
		u.doc = strings.TrimSuffix(u.doc, ".") + fmt.Sprintf(". Config.%s when empty.", r.modeField)
	}
	return u, nil
}

func isMatched(pairs map[*srcField]*srcField, pf *srcField) bool {
	for _, v := range pairs {
		if v == pf {
			return true
		}
	}
	return false
}

// nestedType unifies two differing struct types (or slices of them).
func (g *gen) nestedType(dp *goPkg, dExpr string, pp *goPkg, pExpr string) (*uType, bool, error) {
	slice := false
	if strings.HasPrefix(dExpr, "[]") && strings.HasPrefix(pExpr, "[]") {
		slice = true
		dExpr, pExpr = dExpr[2:], pExpr[2:]
	}
	dpk, dt := g.w.resolve(dp, dExpr)
	ppk, ptt := g.w.resolve(pp, pExpr)
	if dt == nil || ptt == nil || !dt.isStruct || !ptt.isStruct {
		return nil, false, fmt.Errorf("the two modes use different types %s and %s that wxgen cannot unify", dExpr, pExpr)
	}
	name := dt.name + "Input"
	u := &uType{name: name, dType: g.w.qualify(dp, dExpr, g.tag, g.f.imports), pType: g.w.qualify(pp, pExpr, g.tag, g.f.imports)}
	if g.nested[name] {
		return u, slice, nil
	}
	g.nested[name] = true
	var dFields, pFields []*srcField
	for _, f := range dt.fields {
		dFields = append(dFields, &srcField{f: f})
	}
	for _, f := range ptt.fields {
		pFields = append(pFields, &srcField{f: f})
	}
	fields, err := g.unifyFields(dpk, dFields, ppk, pFields, false)
	if err != nil {
		return nil, false, err
	}
	u.fields = fields
	g.emitInputType(u.name, fmt.Sprintf("%s is the mode-independent form of %s (direct mode) and %s (partner mode).", u.name, u.dType, u.pType), fields)
	g.emitConverter(u, "direct", u.dType)
	g.emitConverter(u, "partner", u.pType)
	return u, slice, nil
}

func (g *gen) emitInputType(name, doc string, fields []*uField) {
	f := g.f
	f.WriteString(comment(doc, ""))
	f.p("type %s struct {", name)
	var zero []string
	for _, u := range fields {
		f.WriteString(comment(u.name+" "+u.doc, "\t"))
		f.p("\t%s %s", u.name, u.typ)
		if z := g.checks.zeroExpr("v."+u.name, u.typ); z != "" {
			zero = append(zero, z)
		} else if u.typ == "bool" {
			zero = append(zero, "!v."+u.name)
		}
	}
	f.p("}\n")
	if len(zero) == 0 {
		zero = []string{"true"}
	}
	f.p("// isZero reports whether v sets no field.")
	f.p("func (v *%s) isZero() bool {\nreturn %s\n}\n", name, strings.Join(zero, " &&\n"))
}

// isSetExpr is a Go condition that holds when a field holds a value.
func (g *gen) isSetExpr(v, typ string) string {
	if typ == "bool" {
		return v
	}
	z := g.checks.zeroExpr(v, typ)
	for _, op := range []string{" == ", ".IsZero()"} {
		if i := strings.LastIndex(z, op); i > 0 && op == " == " {
			return z[:i] + " != " + z[i+len(op):]
		} else if i > 0 {
			return "!" + z
		}
	}
	if z == "" {
		return "true"
	}
	return "!" + z
}

func modeSide(u *uField, mode string) *srcField {
	if mode == "direct" {
		return u.d
	}
	return u.p
}

// assign emits the statements that copy the unified fields into the mode's
// params (pv) and body (bv), or fail on a field the mode does not have.
// path is a Go string expression prefixing field names in errors, or "" at
// the top level.
func (g *gen) assign(fields []*uField, mode, src, pv, bv, opName, path string, ret func(err string) string) {
	for _, u := range fields {
		side := modeSide(u, mode)
		from := src + "." + u.name
		if side == nil {
			g.refuse(u, mode, from, opName, path, ret)
			continue
		}
		target := bv
		if side.inParams {
			target = pv
		}
		g.assignField(u, side.f.json, mode, from, target+"."+side.f.name, opName, path, ret)
	}
}

// joinPath is the Go expression of path followed by the literal s.
func joinPath(path, s string) string {
	if path == "" {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("%s + %q", path, s)
}

// refuse emits the check that fails a call setting a field of the other
// mode.
func (g *gen) refuse(u *uField, mode, from, opName, path string, ret func(string) string) {
	other := "partner"
	if mode == "partner" {
		other = "direct"
	}
	msg := joinPath(path, u.name+" is a "+other+"-mode field but the client is in "+mode+" mode")
	g.f.p("if %s {\n%s\n}", g.isSetExpr(from, u.typ), ret(fmt.Sprintf("&core.UsageError{Op: %s, Msg: %s}", opName, msg)))
}

// assignField copies one field, converting a nested unified type.
func (g *gen) assignField(u *uField, json, mode, from, to, opName, path string, ret func(string) string) {
	f := g.f
	switch {
	case u.nested == nil:
		f.p("%s = %s", to, from)
	case u.slice:
		g.f.imports["strconv"] = true
		elemPath := fmt.Sprintf("%s+strconv.Itoa(i)+\"].\"", joinPath(path, json+"["))
		f.p("if len(%s) > 0 {", from)
		f.p("%s = make(%s, len(%s))", to, "[]"+strings.TrimPrefix(modeType(u.nested, mode), "[]"), from)
		f.p("for i := range %s {", from)
		f.p("var err error")
		f.p("if %s[i], err = %s[i].%s(%s, %s); err != nil {\n%s\n}", to, from, mode, opName, elemPath, ret("err"))
		f.p("}\n}")
	default:
		f.p("if !%s.isZero() {", from)
		f.p("var err error")
		f.p("if %s, err = %s.%s(%s, %s); err != nil {\n%s\n}", to, from, mode, opName, joinPath(path, json+"."), ret("err"))
		f.p("}")
	}
}

func modeType(u *uType, mode string) string {
	if mode == "direct" {
		return u.dType
	}
	return u.pType
}

func (g *gen) emitConverter(u *uType, mode, target string) {
	f := g.f
	f.p("// %s converts v to its %s-mode form; path prefixes field names in errors.", mode, mode)
	f.p("func (v *%s) %s(op, path string) (%s, error) {", u.name, mode, target)
	f.p("var out %s", target)
	g.assign(u.fields, mode, "v", "out", "out", "op", "path", func(e string) string { return "return out, " + e })
	f.p("return out, nil\n}\n")
}

// unified emits the mode-independent method of a pair of twins: its input
// type and the method, which converts the input to the mode's request and
// sends it with the mode's (unexported) method.
func (g *gen) unified(d, p *Op) error {
	kind, rtype, err := g.ret(d)
	if err != nil {
		return err
	}
	if d.answer != "" {
		if rtype, err = g.schemaType(d.answer); err != nil {
			return err
		}
	}
	args, err := g.twinArgs(d, p)
	if err != nil {
		return err
	}
	fields, err := g.twinFields(d, p)
	if err != nil {
		return err
	}
	inName := d.GoName + "Input"
	if len(fields) > 0 {
		g.emitInputType(inName, fmt.Sprintf("%s is the input of %s in either merchant mode. The merchant ids come from the client's configuration.", inName, d.GoName), fields)
	}
	sig := []string{"ctx context.Context"}
	var call []string
	for _, a := range args {
		sig = append(sig, a.goName+" "+a.goTyp)
		call = append(call, a.goName)
	}
	if len(fields) > 0 {
		sig = append(sig, "in *"+inName)
	}
	sig = append(sig, "opts ...core.CallOption")
	doc := fmt.Sprintf("%s %s.", d.GoName, strings.TrimSuffix(sentence(d.Summary), "."))
	if d.Description != "" {
		doc += "\n\n" + strings.TrimSpace(d.Description)
	}
	doc += fmt.Sprintf("\n\nIt follows the client's mode: %s %s in direct mode, %s %s in partner mode.", d.Method, d.Path, p.Method, p.Path)
	if d.partnerAnswersNothing(p) {
		doc += " Only direct mode answers with a body; in partner mode WeChat Pay answers 204 and the result is always nil."
	}
	if d.answer != "" {
		dt, _ := g.schemaType(d.Resp)
		pt, _ := g.schemaType(p.Resp)
		doc += fmt.Sprintf(" The two modes answer with different fields: the result has those of both (%s in direct mode, %s in partner mode), and only the client's mode's are set.", dt, pt)
	}
	g.f.imports["context"] = true
	g.f.WriteString(comment(doc, ""))
	g.f.p("func (c *Client) %s(%s) %s {", d.GoName, strings.Join(sig, ", "), retSig(kind, rtype))
	if len(fields) > 0 {
		g.f.p("var v %s\nif in != nil {\nv = *in\n}", inName)
	}
	if d.answer != "" {
		g.f.p("out := new(%s)", rtype)
	}
	g.f.p("if c.conn.Mode().Partner {")
	g.dispatch(p, "partner", fields, call, kind, d.partnerAnswersNothing(p))
	g.f.p("}")
	g.dispatch(d, "direct", fields, call, kind, false)
	g.f.p("}\n")
	return nil
}

// twinArgs checks that twins take the same path parameters and returns them.
func (g *gen) twinArgs(d, p *Op) ([]pathArg, error) {
	dArgs, pArgs := g.pathArgs(d), g.pathArgs(p)
	if len(dArgs) != len(pArgs) {
		return nil, fmt.Errorf("twins %s and %s have different path parameters", d.ID, p.ID)
	}
	for i := range dArgs {
		if dArgs[i].param.Name != pArgs[i].param.Name || dArgs[i].goTyp != pArgs[i].goTyp {
			return nil, fmt.Errorf("twins %s and %s have different path parameters", d.ID, p.ID)
		}
	}
	return dArgs, nil
}

func (g *gen) twinFields(d, p *Op) ([]*uField, error) {
	dFields, err := g.collect(d)
	if err != nil {
		return nil, err
	}
	pFields, err := g.collect(p)
	if err != nil {
		return nil, err
	}
	return g.unifyFields(g.pkg, dFields, g.pkg, pFields, true)
}

// dispatch emits the conversion to one mode's request and the call.
// When nothing is true the mode's operation answers no body though the
// method returns one (payscore's partner twins): it returns nil and the
// error.
func (g *gen) dispatch(op *Op, mode string, fields []*uField, call []string, kind retKind, nothing bool) {
	pt, _ := g.paramsType(op)
	bt, _ := g.bodyType(op)
	args := append([]string{"ctx"}, call...)
	if pt != nil {
		g.f.p("var params %s", pt.name)
		args = append(args, "&params")
	}
	if bt != nil {
		g.f.p("var body %s", bt.name)
		args = append(args, "&body")
	}
	g.assign(fields, mode, "v", "params", "body", opVar(op)+".Name", "", func(e string) string { return retErr(kind, e) })
	if op.answer != "" {
		g.f.p("if err := c.%s().%s(%s); err != nil {\nreturn nil, err\n}\nreturn out, nil", g.receiver(op), intoName(op), strings.Join(append(args, "out", "opts"), ", "))
		return
	}
	ret := "return "
	if nothing {
		ret = "return nil, "
	}
	g.f.p("%sc.%s().%s(%s)", ret, g.receiver(op), op.methodName, strings.Join(append(args, "opts..."), ", "))
}
