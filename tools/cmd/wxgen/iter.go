package main

import (
	"fmt"
	"strings"
)

// pager is what an operation that pages with offset and limit needs for
// its iterator.
type pager struct {
	offset, limit *goField // of the Params type
	items         *goField // the answer's array
	total         *goField // the answer's total count, if any
	pageSize      int
}

// pagerOf returns the paging facts of op, or nil when it does not page: a
// query with offset and limit whose JSON answer holds one array.
func (g *gen) pagerOf(op *Op, sg *sig) (*pager, error) {
	if sg.pt == nil || sg.kind != retJSON || op.isTwin() {
		return nil, nil
	}
	pg := &pager{offset: sg.pt.fieldByJSON("offset"), limit: sg.pt.fieldByJSON("limit"), pageSize: 10}
	if pg.offset == nil || pg.limit == nil {
		return nil, nil
	}
	for _, p := range op.Params {
		if p.Name == "limit" {
			if n := minimum(obj{"minimum": p.Schema["maximum"]}); n > 0 {
				pg.pageSize = int(n)
			}
		}
	}
	rp, rt := g.w.resolve(g.pkg, sg.rtype)
	if rt == nil {
		return nil, fmt.Errorf("answer type %s not found", sg.rtype)
	}
	for _, f := range rt.fields {
		switch {
		case strings.HasPrefix(f.typ, "[]"):
			if pg.items != nil {
				return nil, fmt.Errorf("%s pages but its answer has two arrays; wxgen cannot tell which to iterate", op.ID)
			}
			pg.items = &goField{name: f.name, typ: g.w.qualify(rp, f.typ, g.tag, g.f.imports), json: f.json}
		case f.json == "total_count":
			pg.total = f
		}
	}
	if pg.items == nil {
		return nil, fmt.Errorf("%s pages but its answer has no array", op.ID)
	}
	return pg, nil
}

// iterator emits <Method>All, which walks every page of a paging list.
func (g *gen) iterator(op *Op) error {
	sg, err := g.sigOf(op)
	if err != nil {
		return err
	}
	pg, err := g.pagerOf(op, sg)
	if pg == nil || err != nil {
		return err
	}
	f := g.f
	f.imports["iter"] = true
	elem := "*" + strings.TrimPrefix(pg.items.typ, "[]")
	var args, call []string
	for _, a := range sg.args {
		args = append(args, a.goName+" "+a.goTyp)
		call = append(call, a.goName)
	}
	name := op.GoName + "All"
	f.WriteString(comment(fmt.Sprintf("%s returns an iterator over the %s of every page of %s, from params.Offset on, params.Limit at a time (%d when 0). It asks for a page only when the loop wants more, and ends after the last page, after the first error, which it yields, or when the loop breaks.\n\n%s %s (%s)", name, pg.items.json, op.GoName, pg.pageSize, op.Method, op.Path, strings.Join(op.Modes, ", ")), ""))
	f.p("func (c *Client) %s(%s) iter.Seq2[%s, error] {", name, strings.Join(append(append([]string{"ctx context.Context"}, args...), "params *"+sg.pt.name, "opts ...core.CallOption"), ", "), elem)
	f.p("return func(yield func(%s, error) bool) {", elem)
	f.p("var p %s\nif params != nil {\np = *params\n}", sg.pt.name)
	f.p("if p.%s == 0 {\np.%s = %d\n}", pg.limit.name, pg.limit.name, pg.pageSize)
	f.p("for {")
	f.p("page, err := c.%s(%s)", op.methodName, strings.Join(append(append([]string{"ctx"}, call...), "&p", "opts..."), ", "))
	f.p("if err != nil {\nyield(nil, err)\nreturn\n}")
	f.p("for i := range page.%s {\nif !yield(&page.%s[i], nil) {\nreturn\n}\n}", pg.items.name, pg.items.name)
	for _, fl := range []*goField{pg.offset, pg.limit, pg.total} {
		if fl != nil && fl.typ != "int64" {
			return fmt.Errorf("%s: %s is %s; wxgen's iterators page with int64", op.ID, fl.json, fl.typ)
		}
	}
	f.p("n := int64(len(page.%s))", pg.items.name)
	stop := fmt.Sprintf("n == 0 || n < p.%s", pg.limit.name)
	if pg.total != nil {
		stop = fmt.Sprintf("n == 0 || (page.%s > 0 && p.%s+n >= page.%s) || (page.%s == 0 && n < p.%s)", pg.total.name, pg.offset.name, pg.total.name, pg.total.name, pg.limit.name)
	}
	f.p("if %s {\nreturn\n}", stop)
	f.p("p.%s += n", pg.offset.name)
	f.p("}\n}\n}\n")
	return nil
}
