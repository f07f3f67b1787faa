package crosscheck

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// goPkg is one parsed Go package directory of a source.
type goPkg struct {
	dir     string
	files   []*ast.File
	types   map[string]*ast.TypeSpec
	consts  map[string][]string // named string type -> its constant values
	strs    map[string]string   // string constant -> value
	imports map[*ast.File]map[string]string
}

// goTypes resolves Go type expressions of a source tree into shapes.
type goTypes struct {
	root   string // the repository root on disk
	module string // the module path the root is
	pkgs   map[string]*goPkg
	fset   *token.FileSet
	// required reports how a struct field's tag encodes "required"; nil
	// when the source does not say.
	required func(tag reflect.StructTag) *bool
}

func newGoTypes(root, module string, required func(reflect.StructTag) *bool) *goTypes {
	return &goTypes{root: root, module: module, pkgs: map[string]*goPkg{}, fset: token.NewFileSet(), required: required}
}

// pkg parses the non-test Go files of dir (relative to the root), keeping
// those accepted by keep.
func (g *goTypes) pkg(dir string) (*goPkg, error) {
	if p, ok := g.pkgs[dir]; ok {
		return p, nil
	}
	p := &goPkg{dir: dir, types: map[string]*ast.TypeSpec{}, consts: map[string][]string{}, strs: map[string]string{}, imports: map[*ast.File]map[string]string{}}
	g.pkgs[dir] = p
	ents, err := os.ReadDir(filepath.Join(g.root, dir))
	if err != nil {
		return nil, err
	}
	for _, e := range ents {
		n := e.Name()
		if e.IsDir() || !strings.HasSuffix(n, ".go") || strings.HasSuffix(n, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(g.fset, filepath.Join(g.root, dir, n), nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		p.files = append(p.files, f)
		imps := map[string]string{}
		for _, im := range f.Imports {
			path, _ := strconv.Unquote(im.Path.Value)
			name := filepath.Base(path)
			if im.Name != nil {
				name = im.Name.Name
			}
			imps[name] = path
		}
		p.imports[f] = imps
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok {
				continue
			}
			for _, sp := range gd.Specs {
				switch sp := sp.(type) {
				case *ast.TypeSpec:
					p.types[sp.Name.Name] = sp
				case *ast.ValueSpec:
					if gd.Tok != token.CONST {
						continue
					}
					for i, name := range sp.Names {
						if i >= len(sp.Values) {
							continue
						}
						lit, ok := sp.Values[i].(*ast.BasicLit)
						if !ok || lit.Kind != token.STRING {
							continue
						}
						v, _ := strconv.Unquote(lit.Value)
						p.strs[name.Name] = v
						if id, ok := sp.Type.(*ast.Ident); ok {
							p.consts[id.Name] = append(p.consts[id.Name], v)
						}
					}
				}
			}
		}
	}
	return p, nil
}

// fileOf returns the file of p that declares the type name.
func (p *goPkg) fileOf(pos token.Pos) *ast.File {
	for _, f := range p.files {
		if f.Pos() <= pos && pos <= f.End() {
			return f
		}
	}
	return nil
}

// dirOf maps an import path inside the module to its directory.
func (g *goTypes) dirOf(importPath string) (string, bool) {
	if importPath == g.module {
		return ".", true
	}
	if rest, ok := strings.CutPrefix(importPath, g.module+"/"); ok {
		return rest, true
	}
	return "", false
}

// shape resolves the type expression e written in file f of package p.
func (g *goTypes) shape(p *goPkg, f *ast.File, e ast.Expr, depth int) *Shape {
	if depth > maxDepth*2 {
		return &Shape{Type: "object"}
	}
	switch e := e.(type) {
	case *ast.StarExpr:
		return g.shape(p, f, e.X, depth)
	case *ast.ParenExpr:
		return g.shape(p, f, e.X, depth)
	case *ast.ArrayType:
		if id, ok := e.Elt.(*ast.Ident); ok && id.Name == "byte" {
			return &Shape{Type: "string"}
		}
		return &Shape{Type: "array", Items: g.shape(p, f, e.Elt, depth+1)}
	case *ast.MapType:
		return &Shape{Type: "object", Open: true}
	case *ast.InterfaceType:
		return &Shape{Type: "any"}
	case *ast.StructType:
		return g.structShape(p, f, e, depth)
	case *ast.SelectorExpr:
		pkgName, _ := e.X.(*ast.Ident)
		if pkgName == nil {
			return &Shape{Type: "any"}
		}
		imp := p.imports[f][pkgName.Name]
		switch imp + "." + e.Sel.Name {
		case "time.Time":
			return &Shape{Type: "string"}
		case "encoding/json.RawMessage":
			return &Shape{Type: "any"}
		}
		dir, ok := g.dirOf(imp)
		if !ok {
			return &Shape{Type: "any"}
		}
		q, err := g.pkg(dir)
		if err != nil {
			return &Shape{Type: "any"}
		}
		return g.named(q, e.Sel.Name, depth)
	case *ast.Ident:
		switch e.Name {
		case "string":
			return &Shape{Type: "string"}
		case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
			return &Shape{Type: "integer"}
		case "float32", "float64":
			return &Shape{Type: "number"}
		case "bool":
			return &Shape{Type: "boolean"}
		case "any":
			return &Shape{Type: "any"}
		}
		return g.named(p, e.Name, depth)
	}
	return &Shape{Type: "any"}
}

func (g *goTypes) named(p *goPkg, name string, depth int) *Shape {
	ts := p.types[name]
	if ts == nil {
		return &Shape{Type: "any"}
	}
	f := p.fileOf(ts.Pos())
	s := g.shape(p, f, ts.Type, depth+1)
	if s.Type == "string" {
		if vals := p.consts[name]; len(vals) > 0 {
			s = &Shape{Type: "string", Enum: append([]string(nil), vals...)}
		}
	}
	return s
}

func (g *goTypes) structShape(p *goPkg, f *ast.File, st *ast.StructType, depth int) *Shape {
	s := &Shape{Type: "object"}
	for _, fl := range st.Fields.List {
		var tag reflect.StructTag
		if fl.Tag != nil {
			v, _ := strconv.Unquote(fl.Tag.Value)
			tag = reflect.StructTag(v)
		}
		js, hasTag := tag.Lookup("json")
		name, _, _ := strings.Cut(js, ",")
		if name == "-" {
			continue
		}
		if len(fl.Names) == 0 { // embedded
			if !hasTag || name == "" {
				inner := g.shape(p, f, fl.Type, depth+1)
				s.Fields = append(s.Fields, inner.Fields...)
				continue
			}
		}
		if !hasTag {
			continue // not serialised under a JSON name of its own
		}
		if name == "" && len(fl.Names) > 0 {
			name = fl.Names[0].Name
		}
		var req *bool
		if g.required != nil {
			req = g.required(tag)
		}
		s.Fields = append(s.Fields, ShapeField{Name: name, Required: req, Shape: g.shape(p, f, fl.Type, depth+1)})
	}
	return s
}

// walkFuncs calls fn for every method declaration of the packages under
// dir whose receiver type satisfies recv.
func goFuncs(p *goPkg, recv func(string) bool) []*ast.FuncDecl {
	var out []*ast.FuncDecl
	for _, f := range p.files {
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Recv == nil || len(fd.Recv.List) == 0 || fd.Body == nil {
				continue
			}
			t := fd.Recv.List[0].Type
			if s, ok := t.(*ast.StarExpr); ok {
				t = s.X
			}
			id, ok := t.(*ast.Ident)
			if !ok || !recv(id.Name) {
				continue
			}
			out = append(out, fd)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Pos() < out[j].Pos() })
	return out
}
