package crosscheck

import (
	"go/ast"
	"regexp"
	"strings"
)

// Gopay extracts the operations of gopay checked out at root
// (github.com/go-pay/gopay, package wechat/v3): every method of ClientV3
// that signs a request for a path constant, its HTTP method, and the
// response struct it decodes the answer into. gopay passes requests as
// untyped maps and marks no field required, so only responses and their
// JSON types are facts here.
func Gopay(root string) ([]*Op, error) {
	g := newGoTypes(root, "github.com/go-pay/gopay", nil)
	p, err := g.pkg("wechat/v3")
	if err != nil {
		return nil, err
	}
	var ops []*Op
	for _, fd := range goFuncs(p, func(n string) bool { return n == "ClientV3" }) {
		ops = append(ops, g.gopayOps(p, fd)...)
	}
	return ops, nil
}

var fmtVerbRE = regexp.MustCompile(`%[sdv]`)

func (g *goTypes) gopayOps(p *goPkg, fd *ast.FuncDecl) []*Op {
	f := p.fileOf(fd.Pos())
	var method string
	var paths []string
	seen := map[string]bool{}
	var resp ast.Expr
	empty := false
	if fd.Type.Results != nil {
		for _, r := range fd.Type.Results.List {
			if st, ok := r.Type.(*ast.StarExpr); ok {
				if id, ok := st.X.(*ast.Ident); ok && id.Name == "EmptyRsp" {
					empty = true
				}
			}
		}
	}
	ast.Inspect(fd.Body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CallExpr:
			sel, ok := n.Fun.(*ast.SelectorExpr)
			if ok && sel.Sel.Name == "authorization" && len(n.Args) > 0 && method == "" {
				if id, ok := n.Args[0].(*ast.Ident); ok {
					method = strings.ToUpper(strings.TrimPrefix(id.Name, "Method"))
				}
			}
		case *ast.Ident:
			if v, ok := p.strs[n.Name]; ok && strings.HasPrefix(v, "/v3/") && !seen[v] {
				seen[v] = true
				paths = append(paths, v)
			}
		case *ast.KeyValueExpr:
			if k, ok := n.Key.(*ast.Ident); ok && k.Name == "Response" {
				switch v := n.Value.(type) {
				case *ast.CallExpr:
					if id, ok := v.Fun.(*ast.Ident); ok && id.Name == "new" && len(v.Args) == 1 {
						resp = v.Args[0]
					}
				case *ast.UnaryExpr:
					if cl, ok := v.X.(*ast.CompositeLit); ok {
						resp = cl.Type
					}
				}
			}
		}
		return true
	})
	if method == "" || len(paths) == 0 {
		return nil
	}
	var fields []Field
	body := ""
	switch {
	case resp != nil:
		fields = Flatten(g.shape(p, f, resp, 0))
		body = "json"
	case empty:
		body = "none"
	}
	var ops []*Op
	for _, path := range paths {
		path, _, _ = strings.Cut(path, "?")
		i := 0
		path = fmtVerbRE.ReplaceAllStringFunc(path, func(string) string { i++; return "{p" + string(rune('0'+i)) + "}" })
		ops = append(ops, &Op{Source: "gopay", Name: "wechat/v3.ClientV3." + fd.Name.Name, Method: method, Path: path, Response: fields, ResponseBody: body})
	}
	return ops
}
