package api_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// addressing fields of a PATCH body say what is updated, not how: they are
// plain strings like everywhere else.
var addressing = map[string]bool{"sub_mchid": true, "sub_mch_code": true}

// TestOptionalZeroValues enforces the rule that makes every request
// expressible: an optional field whose zero value means something is a
// pointer in Go (x-go-type-skip-optional-pointer: false), so that false or 0
// can be sent and an unset field is not. Every optional boolean, integer or
// number that a request can carry says so explicitly (booleans always as
// pointers; integers per field: a pointer where 0 is a value of its own),
// and every optional field of a PATCH body is a pointer.
func TestOptionalZeroValues(t *testing.T) {
	doc := rawSpec(t)
	schemas := m(m(doc["components"])["schemas"])
	reach, patch := requestSchemas(doc)
	for _, name := range sortedSet(reach) {
		checkZeroRule(t, name, m(schemas[name]), patch[name], true)
	}
	forEachOp(doc, func(method, path string, op obj) {
		for _, p := range list(op["parameters"]) {
			p := m(p)
			if str(p["in"]) != "query" || p["required"] == true {
				continue
			}
			where := str(op["operationId"]) + " ?" + str(p["name"])
			checkZeroMark(t, where, str(m(p["schema"])["type"]), p)
		}
	})
}

func checkZeroRule(t *testing.T, where string, sc obj, isPatch, top bool) {
	req := map[string]bool{}
	for _, r := range list(sc["required"]) {
		req[str(r)] = true
	}
	props := m(sc["properties"])
	for _, k := range sortedKeys(props) {
		p := m(props[k])
		w := where + "." + k
		if !req[k] {
			if isPatch && top && !addressing[k] {
				if p["x-go-type-skip-optional-pointer"] != false {
					t.Errorf("%s: every optional field of a PATCH body must be a pointer (x-go-type-skip-optional-pointer: false)", w)
				}
			} else {
				checkZeroMark(t, w, str(p["type"]), p)
			}
		}
		if str(p["type"]) == "object" {
			checkZeroRule(t, w, p, false, false)
		}
		if items := m(p["items"]); str(p["type"]) == "array" && items["properties"] != nil {
			checkZeroRule(t, w+"[]", items, false, false)
		}
	}
}

func checkZeroMark(t *testing.T, where, typ string, node obj) {
	mark, has := node["x-go-type-skip-optional-pointer"]
	switch typ {
	case "boolean":
		if mark != false {
			t.Errorf("%s: an optional boolean must be a pointer, so that false can be sent: x-go-type-skip-optional-pointer: false", where)
		}
	case "integer", "number":
		if !has {
			t.Errorf("%s: decide whether 0 is a value of its own: x-go-type-skip-optional-pointer: false (a pointer) or true (0 means unset)", where)
		}
	}
}

// requestSchemas returns the schemas a request body can reach, and the
// bodies of PATCH operations.
func requestSchemas(doc obj) (map[string]bool, map[string]bool) {
	schemas := m(m(doc["components"])["schemas"])
	reach, patch := map[string]bool{}, map[string]bool{}
	var visit func(v any)
	visit = func(v any) {
		switch x := v.(type) {
		case obj:
			if ref, ok := x["$ref"].(string); ok && strings.HasPrefix(ref, "#/components/schemas/") {
				n := strings.TrimPrefix(ref, "#/components/schemas/")
				if !reach[n] {
					reach[n] = true
					visit(schemas[n])
				}
				return
			}
			for _, k := range sortedKeys(x) {
				visit(x[k])
			}
		case []any:
			for _, e := range x {
				visit(e)
			}
		}
	}
	forEachOp(doc, func(method, path string, op obj) {
		rb := m(op["requestBody"])
		visit(rb)
		if method == "PATCH" {
			for _, c := range m(rb["content"]) {
				patch[strings.TrimPrefix(str(m(m(c)["schema"])["$ref"]), "#/components/schemas/")] = true
			}
		}
	})
	return reach, patch
}

// areaWords reads the words each tag's Go names drop (x-go-strip) from the
// overlay.
func areaWords(t *testing.T) map[string][]string {
	b, err := os.ReadFile("go-overlay.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var ov struct {
		Actions []struct {
			Target string         `yaml:"target"`
			Update map[string]any `yaml:"update"`
		} `yaml:"actions"`
	}
	if err := yaml.Unmarshal(b, &ov); err != nil {
		t.Fatal(err)
	}
	tag := regexp.MustCompile(`^\$\.tags\[\?\(@\.name == '(\w+)'\)\]$`)
	out := map[string][]string{}
	for _, a := range ov.Actions {
		if mm := tag.FindStringSubmatch(a.Target); mm != nil {
			for _, w := range list(a.Update["x-go-strip"]) {
				out[mm[1]] = append(out[mm[1]], str(w))
			}
		}
	}
	return out
}

// TestGoNamesRelativeToPackage enforces the naming rules of the generated
// API: no exported method or type of an area package contains the area's
// word (payscore.CreateOrder, not CreatePayscoreOrder), except a type that
// is the word itself (like time.Time); and an area Client shows each
// operation once: no DirectX or PartnerX beside X.
func TestGoNamesRelativeToPackage(t *testing.T) {
	words := areaWords(t)
	files, _ := filepath.Glob(filepath.Join("..", "gen", "*", "*.gen.go"))
	if len(files) == 0 {
		t.Fatal("no generated files")
	}
	methods := map[string]map[string]bool{}
	for _, f := range files {
		pkg := filepath.Base(filepath.Dir(f))
		if len(words[pkg]) == 0 {
			t.Errorf("gen/%s: its tag has no x-go-strip words in go-overlay.yaml", pkg)
		}
		fset := token.NewFileSet()
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		if methods[pkg] == nil {
			methods[pkg] = map[string]bool{}
		}
		for _, d := range file.Decls {
			var names []string
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv != nil {
					if star, ok := d.Recv.List[0].Type.(*ast.StarExpr); ok && star.X.(*ast.Ident).Name == "Client" {
						methods[pkg][d.Name.Name] = true
					}
				}
				names = append(names, d.Name.Name)
			case *ast.GenDecl:
				for _, s := range d.Specs {
					if ts, ok := s.(*ast.TypeSpec); ok {
						names = append(names, ts.Name.Name)
					}
				}
			}
			for _, n := range names {
				if !ast.IsExported(n) {
					continue
				}
				for _, w := range words[pkg] {
					if n != w && containsWord(n, w) {
						t.Errorf("%s: %s.%s repeats the area word %s", fset.Position(d.Pos()), pkg, n, w)
					}
				}
			}
		}
	}
	var pkgs []string
	for pkg := range methods {
		pkgs = append(pkgs, pkg)
	}
	sort.Strings(pkgs)
	for _, pkg := range pkgs {
		var twins []string
		for name := range methods[pkg] {
			for _, mode := range []string{"Direct", "Partner"} {
				if rest, ok := strings.CutPrefix(name, mode); ok && methods[pkg][rest] {
					twins = append(twins, mode+" "+rest)
				}
			}
		}
		sort.Strings(twins)
		for _, tw := range twins {
			mode, rest, _ := strings.Cut(tw, " ")
			t.Errorf("gen/%s: Client.%s%s is a per-mode twin of Client.%s; it belongs on the package's %s type", pkg, mode, rest, rest, mode)
		}
	}
}

// containsWord reports whether w stands in the CamelCase name n as whole
// words.
func containsWord(n, w string) bool {
	for i := 0; ; {
		j := strings.Index(n[i:], w)
		if j < 0 {
			return false
		}
		end := i + j + len(w)
		if end == len(n) || !(n[end] >= 'a' && n[end] <= 'z') {
			return true
		}
		i += j + 1
	}
}

func sortedSet(s map[string]bool) []string {
	out := make([]string, 0, len(s))
	for k := range s {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
