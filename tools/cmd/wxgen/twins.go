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

func docText(f *goField) string {
	d := strings.TrimSpace(strings.TrimPrefix(f.doc, f.name))
	return d
}

// unifyFields matches the fields of the two modes.
func (g *gen) unifyFields(dp *goPkg, dFields []*srcField, pp *goPkg, pFields []*srcField, top bool) ([]*uField, error) {
	used := map[*srcField]bool{}
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
	match := func(pf *srcField) *srcField {
		for _, df := range dFields {
			if used[df] {
				continue
			}
			if df.f.json == pf.f.json || "sp_"+df.f.json == pf.f.json {
				return df
			}
		}
		return nil
	}
	pairs := map[*srcField]*srcField{}
	for _, pf := range pFields {
		if df := match(pf); df != nil {
			used[df] = true
			pairs[df] = pf
		}
	}
	for _, df := range dFields {
		if top && isConfigField(df.f.json) {
			continue
		}
		pf := pairs[df]
		u := &uField{name: df.f.name, d: df, doc: docText(df.f)}
		if pf != nil {
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
				u.nested, u.slice = n, slice
				u.typ = n.name
				if slice {
					u.typ = "[]" + n.name
				}
			}
		} else {
			u.typ = g.w.qualify(dp, df.f.typ, g.tag, g.f.imports)
			u.doc = strings.TrimSuffix(u.doc, ".") + ". Direct mode only."
		}
		if r, ok := defaultRules[df.f.json]; ok && top && u.typ == "string" {
			u.doc = strings.TrimSuffix(u.doc, ".") + fmt.Sprintf(". Config.%s when empty.", r.modeField)
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
	for _, u := range fields {
		f.WriteString(comment(u.name+" "+u.doc, "\t"))
		f.p("\t%s %s", u.name, u.typ)
	}
	f.p("}\n")
}

// isSetExpr is a Go expression that is true when a field holds a value.
func isSetExpr(v, typ string) string {
	switch {
	case typ == "string":
		return v + ` != ""`
	case typ == "bool":
		return v
	case typ == "int64" || typ == "int" || typ == "int32" || typ == "float64" || typ == "float32":
		return v + " != 0"
	case strings.HasPrefix(typ, "[]"):
		return "len(" + v + ") > 0"
	}
	return "!core.IsZero(" + v + ")"
}

func modeSide(u *uField, mode string) *srcField {
	if mode == "direct" {
		return u.d
	}
	return u.p
}

// assign emits the statements that copy the unified fields into the mode's
// params (pv) and body (bv), or fail on a field the mode does not have.
func (g *gen) assign(fields []*uField, mode, src, pv, bv, opID, path, errRet string) {
	f := g.f
	other := "partner"
	if mode == "partner" {
		other = "direct"
	}
	for _, u := range fields {
		side := modeSide(u, mode)
		from := src + "." + u.name
		if side == nil {
			msg := fmt.Sprintf("%q", u.name+" is a "+other+"-mode field but the client is in "+mode+" mode")
			if path != `""` {
				msg = path + " + " + msg
			}
			f.p("if %s {\n%s\n}", isSetExpr(from, u.typ), strings.Replace(errRet, "err", fmt.Sprintf("&core.UsageError{Op: %s, Msg: %s}", opID, msg), 1))
			continue
		}
		target := bv
		if side.inParams {
			target = pv
		}
		to := target + "." + side.f.name
		switch {
		case u.nested == nil:
			f.p("%s = %s", to, from)
		case u.slice:
			f.p("if len(%s) > 0 {", from)
			f.p("%s = make(%s, len(%s))", to, "[]"+strings.TrimPrefix(modeType(u.nested, mode), "[]"), from)
			f.p("for i := range %s {", from)
			f.p("var err error")
			f.p("if %s[i], err = %s[i].%s(%s, %s+%q+strconv.Itoa(i)+\"].\"); err != nil {\n%s\n}", to, from, mode, opID, path, u.name+"[", errRet)
			f.p("}\n}")
			g.f.imports["strconv"] = true
		default:
			f.p("if %s {", isSetExpr(from, "struct"))
			f.p("var err error")
			f.p("if %s, err = %s.%s(%s, %s+%q); err != nil {\n%s\n}", to, from, mode, opID, path, u.name+".", errRet)
			f.p("}")
		}
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
	g.assign(u.fields, mode, "v", "out", "out", "op", "path", "return out, err")
	f.p("return out, nil\n}\n")
}

// unified emits the mode-independent method of a pair of twins.
func (g *gen) unified(d, p *Op) error {
	f := g.f
	kind, rtype, err := g.ret(d)
	if err != nil {
		return err
	}
	dArgs, pArgs := g.pathArgs(d), g.pathArgs(p)
	if len(dArgs) != len(pArgs) {
		return fmt.Errorf("twins %s and %s have different path parameters", d.ID, p.ID)
	}
	for i := range dArgs {
		if dArgs[i].param.Name != pArgs[i].param.Name || dArgs[i].goTyp != pArgs[i].goTyp {
			return fmt.Errorf("twins %s and %s have different path parameters", d.ID, p.ID)
		}
	}
	dFields, err := g.collect(d)
	if err != nil {
		return err
	}
	pFields, err := g.collect(p)
	if err != nil {
		return err
	}
	fields, err := g.unifyFields(g.pkg, dFields, g.pkg, pFields, true)
	if err != nil {
		return err
	}
	inName := d.ID + "Input"
	if len(fields) > 0 {
		g.emitInputType(inName, fmt.Sprintf("%s is the input of %s, in either mode: the fields of %s and %s, without the merchant ids, which come from the client's configuration.", inName, d.unifiedName, d.methodName, p.methodName), fields)
	}
	var sig []string
	sig = append(sig, "ctx context.Context")
	var call []string
	for _, a := range dArgs {
		sig = append(sig, a.goName+" "+a.goTyp)
		call = append(call, a.goName)
	}
	if len(fields) > 0 {
		sig = append(sig, "in *"+inName)
	}
	sig = append(sig, "opts ...core.CallOption")
	doc := fmt.Sprintf("%s %s, in the client's mode: it calls %s in direct mode and %s in partner mode.", d.unifiedName, strings.TrimSuffix(sentence(d.Summary), "."), d.methodName, p.methodName)
	nothing := d.partnerAnswersNothing(p)
	if nothing {
		doc += " Only direct mode answers with a body; in partner mode WeChat Pay answers 204 and the result is always nil."
	}
	if d.Description != "" {
		doc += "\n\n" + strings.TrimSpace(d.Description)
	}
	f.WriteString(comment(doc, ""))
	f.p("func (c *Client) %s(%s) %s {", d.unifiedName, strings.Join(sig, ", "), retSig(kind, rtype))
	errRet := retErr(kind)
	if len(fields) > 0 {
		f.p("var v %s\nif in != nil {\nv = *in\n}", inName)
	}
	for _, mode := range []string{"partner", "direct"} {
		op := p
		if mode == "direct" {
			op = d
		}
		if mode == "partner" {
			f.p("if c.conn.Mode().Partner {")
		}
		pt, _ := g.paramsType(op)
		bt, _ := g.bodyType(op)
		args := append([]string{"ctx"}, call...)
		if pt != nil {
			f.p("var params %s", pt.name)
			args = append(args, "&params")
		}
		if bt != nil {
			f.p("var body %s", bt.name)
			args = append(args, "&body")
		}
		g.assign(fields, mode, "v", "params", "body", opVar(d)+".ID", `""`, errRet)
		args = append(args, "opts...")
		if mode == "partner" && nothing {
			f.p("return nil, c.%s(%s)", op.methodName, strings.Join(args, ", "))
		} else {
			f.p("return c.%s(%s)", op.methodName, strings.Join(args, ", "))
		}
		if mode == "partner" {
			f.p("}")
		}
	}
	f.p("}\n")
	return nil
}
