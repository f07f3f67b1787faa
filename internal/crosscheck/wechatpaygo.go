package crosscheck

import (
	"go/ast"
	"io/fs"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// WechatpayGo extracts the operations of the official Go SDK checked out at
// root (github.com/wechatpay-apiv3/wechatpay-go): every method of a
// services/**/api_*.go service, its HTTP method and path, its query
// parameters, its request body and its response, typed by the models.go of
// the package. The SDK's generator marks a required field by leaving
// omitempty off its JSON tag (and refuses to marshal it when nil); string
// types with constants are enums.
func WechatpayGo(root string) ([]*Op, error) {
	g := newGoTypes(root, "github.com/wechatpay-apiv3/wechatpay-go", func(tag reflect.StructTag) *bool {
		return Bool(!strings.Contains(tag.Get("json"), ",omitempty"))
	})
	var dirs []string
	err := filepath.WalkDir(filepath.Join(root, "services"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		if m, _ := filepath.Glob(filepath.Join(p, "api_*.go")); len(m) > 0 {
			rel, _ := filepath.Rel(root, p)
			dirs = append(dirs, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(dirs)
	var ops []*Op
	for _, dir := range dirs {
		p, err := g.pkg(dir)
		if err != nil {
			return nil, err
		}
		for _, fd := range goFuncs(p, func(n string) bool { return strings.HasSuffix(n, "ApiService") }) {
			if op := g.wechatpayGoOp(p, fd); op != nil {
				ops = append(ops, op)
			}
		}
	}
	return ops, nil
}

func (g *goTypes) wechatpayGoOp(p *goPkg, fd *ast.FuncDecl) *Op {
	f := p.fileOf(fd.Pos())
	recv := fd.Recv.List[0].Type.(*ast.StarExpr).X.(*ast.Ident).Name
	op := &Op{Source: "wechatpay-go", Name: strings.TrimPrefix(p.dir, "services/") + "." + recv + "." + fd.Name.Name}
	var reqType ast.Expr
	for _, prm := range fd.Type.Params.List {
		for _, n := range prm.Names {
			if n.Name == "req" {
				reqType = prm.Type
			}
		}
	}
	var body ast.Expr
	bodyIsReq := false
	var query []string
	ast.Inspect(fd.Body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.ValueSpec:
			for i, name := range n.Names {
				if name.Name == "localVarHTTPMethod" && i < len(n.Values) {
					if sel, ok := n.Values[i].(*ast.SelectorExpr); ok {
						op.Method = strings.ToUpper(strings.TrimPrefix(sel.Sel.Name, "Method"))
					}
				}
			}
		case *ast.AssignStmt:
			if len(n.Lhs) != 1 || len(n.Rhs) != 1 {
				return true
			}
			lhs, ok := n.Lhs[0].(*ast.Ident)
			if !ok {
				return true
			}
			switch lhs.Name {
			case "localVarPath":
				if be, ok := n.Rhs[0].(*ast.BinaryExpr); ok {
					if lit, ok := be.Y.(*ast.BasicLit); ok {
						op.Path, _ = strconv.Unquote(lit.Value)
					}
				}
			case "localVarHTTPMethod":
				if sel, ok := n.Rhs[0].(*ast.SelectorExpr); ok {
					op.Method = strings.ToUpper(strings.TrimPrefix(sel.Sel.Name, "Method"))
				}
			case "localVarPostBody":
				switch r := n.Rhs[0].(type) {
				case *ast.Ident:
					if r.Name == "req" {
						bodyIsReq = true
					}
				case *ast.UnaryExpr:
					if cl, ok := r.X.(*ast.CompositeLit); ok {
						body = cl.Type
					}
				case *ast.CompositeLit:
					body = r.Type
				}
			case "resp":
				if call, ok := n.Rhs[0].(*ast.CallExpr); ok && len(call.Args) == 1 {
					if id, ok := call.Fun.(*ast.Ident); ok && id.Name == "new" {
						op.Response = Flatten(g.shape(p, f, call.Args[0], 0))
						op.ResponseBody = "json"
					}
				}
			}
		case *ast.CallExpr:
			sel, ok := n.Fun.(*ast.SelectorExpr)
			if !ok || sel.Sel.Name != "Add" || len(n.Args) != 2 {
				return true
			}
			if id, ok := sel.X.(*ast.Ident); ok && id.Name == "localVarQueryParams" {
				if lit, ok := n.Args[0].(*ast.BasicLit); ok {
					q, _ := strconv.Unquote(lit.Value)
					query = append(query, q)
				}
			}
		}
		return true
	})
	if op.Method == "" || op.Path == "" {
		return nil
	}
	if op.ResponseBody == "" {
		op.ResponseBody = "none"
	}
	var req *Shape
	if reqType != nil {
		req = g.shape(p, f, reqType, 0)
	}
	inPath := map[string]bool{}
	for _, m := range paramRE.FindAllString(op.Path, -1) {
		inPath[strings.Trim(m, "{}")] = true
	}
	isQuery := map[string]bool{}
	for _, q := range query {
		isQuery[q] = true
		fl := Field{Path: q, Type: "string"}
		if req != nil {
			for _, rf := range req.Fields {
				if rf.Name == q {
					fl.Type, fl.Enum, fl.Required = rf.Shape.Type, sortedCopy(rf.Shape.Enum), rf.Required
				}
			}
		}
		op.Query = append(op.Query, fl)
	}
	switch {
	case bodyIsReq && req != nil:
		trimmed := &Shape{Type: "object"}
		for _, rf := range req.Fields {
			if !inPath[rf.Name] && !isQuery[rf.Name] {
				trimmed.Fields = append(trimmed.Fields, rf)
			}
		}
		op.Request = Flatten(trimmed)
	case body != nil:
		op.Request = Flatten(g.shape(p, f, body, 0))
	}
	return op
}
