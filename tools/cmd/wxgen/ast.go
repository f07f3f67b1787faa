package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
)

// goPkg is what wxgen learns from a generated models file: the exact Go
// names oapi-codegen chose, so the typed layer never guesses them.
type goPkg struct {
	tag     string
	imports map[string]string // alias -> tag of the imported gen package
	types   map[string]*goType
}

type goType struct {
	name       string
	fields     []*goField // struct fields; nil otherwise
	underlying string     // for named non-struct types
	isStruct   bool
}

type goField struct {
	name, typ, json, doc string
}

func (t *goType) fieldByJSON(j string) *goField {
	for _, f := range t.fields {
		if f.json == j {
			return f
		}
	}
	return nil
}

func parseModels(root, tag string) (*goPkg, error) {
	path := filepath.Join(root, "gen", tag, "models.gen.go")
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
	if err != nil {
		return nil, err
	}
	p := &goPkg{tag: tag, imports: map[string]string{}, types: map[string]*goType{}}
	for _, imp := range f.Imports {
		ip, _ := strconv.Unquote(imp.Path.Value)
		if !strings.HasPrefix(ip, modulePath+"/gen/") {
			continue
		}
		other := strings.TrimPrefix(ip, modulePath+"/gen/")
		alias := other
		if imp.Name != nil {
			alias = imp.Name.Name
		}
		p.imports[alias] = other
	}
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.TYPE {
			continue
		}
		for _, s := range gd.Specs {
			ts := s.(*ast.TypeSpec)
			t := &goType{name: ts.Name.Name}
			if st, ok := ts.Type.(*ast.StructType); ok {
				t.isStruct = true
				for _, fl := range st.Fields.List {
					if len(fl.Names) != 1 || fl.Tag == nil {
						continue
					}
					tagv, _ := strconv.Unquote(fl.Tag.Value)
					j, _, _ := strings.Cut(reflect.StructTag(tagv).Get("json"), ",")
					doc := ""
					if fl.Doc != nil {
						doc = strings.TrimSpace(fl.Doc.Text())
					}
					t.fields = append(t.fields, &goField{name: fl.Names[0].Name, typ: types.ExprString(fl.Type), json: j, doc: doc})
				}
			} else {
				t.underlying = types.ExprString(ts.Type)
			}
			p.types[t.name] = t
		}
	}
	return p, nil
}

// world holds every generated package, for following types across them.
type world struct {
	root string
	pkgs map[string]*goPkg
}

func (w *world) pkg(tag string) (*goPkg, error) {
	if p, ok := w.pkgs[tag]; ok {
		return p, nil
	}
	p, err := parseModels(w.root, tag)
	if err != nil {
		return nil, err
	}
	w.pkgs[tag] = p
	return p, nil
}

// resolve finds the declaration of a type expression used in package from:
// "Amount" or "externalRef0.Amount". It returns the declaring package and
// the type, or nil for types not declared by the gen packages (string,
// core.Time, slices...).
func (w *world) resolve(from *goPkg, expr string) (*goPkg, *goType) {
	pkg := from
	name := expr
	if alias, n, ok := strings.Cut(expr, "."); ok {
		tag, known := from.imports[alias]
		if !known {
			// A type qualified for the package being written names its
			// package directly: payments.Amount.
			tag = alias
		}
		p, err := w.pkg(tag)
		if err != nil {
			return nil, nil
		}
		pkg, name = p, n
	}
	t := pkg.types[name]
	if t == nil {
		return nil, nil
	}
	return pkg, t
}

// qualify rewrites a type expression of package from so that it is valid in
// package to: local names gain their package qualifier, externalRefN
// aliases become the package name.
func (w *world) qualify(from *goPkg, expr, to string, imports map[string]bool) string {
	if strings.HasPrefix(expr, "[]") {
		return "[]" + w.qualify(from, expr[2:], to, imports)
	}
	if alias, n, ok := strings.Cut(expr, "."); ok {
		if tag, known := from.imports[alias]; known {
			if tag == to {
				return n
			}
			imports[modulePath+"/gen/"+tag] = true
			return tag + "." + n
		}
		if alias == "core" {
			imports[modulePath+"/core"] = true
		}
		return expr
	}
	if _, ok := from.types[expr]; ok && from.tag != to {
		imports[modulePath+"/gen/"+from.tag] = true
		return from.tag + "." + expr
	}
	return expr
}

func (w *world) mustType(p *goPkg, name string) (*goType, error) {
	t := p.types[name]
	if t == nil {
		return nil, fmt.Errorf("package %s has no type %s (did oapi-codegen name it differently?)", p.tag, name)
	}
	return t, nil
}

// underlying returns the underlying type of a named non-struct type
// ("string" for an enum), or "".
func (w *world) underlying(from *goPkg, expr string) string {
	_, t := w.resolve(from, expr)
	if t == nil || t.isStruct {
		return ""
	}
	return t.underlying
}
