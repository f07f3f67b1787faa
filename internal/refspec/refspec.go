// Package refspec reads the per-endpoint WeChat Pay API description kept in
// ../shared/reference/wechatpay-openapi (Swagger-2 flavoured YAML, one file per
// path, shared pieces under definitions/) and flattens every operation into
// plain facts: method, path, parameters, request-body fields with their
// required lists, enums and sensitive markers, and response fields.
//
// It exists for development and tests only: the spec test compares
// api/openapi.yaml with these facts, and internal/tools/refdump prints them
// while the spec is being written. Nothing in the library imports it.
package refspec

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Spec is the set of operations found under a reference tree.
type Spec struct {
	Root string
	Ops  map[string]*Op // keyed by Key(method, path)
}

// Key is the map key of an operation: upper-case method, a space, the path.
func Key(method, path string) string { return strings.ToUpper(method) + " " + path }

// Op is one operation, flattened.
type Op struct {
	Method, Path string
	File         string // relative to Root
	Roles        []string
	Tags         []string
	Summary      string
	Params       []Param
	Body         *Schema
	Responses    map[string]*Schema // status code -> schema (nil for empty)
	Produces     []string
	// Deprecated reports that the reference marks the operation deprecated
	// (WeChat Pay retired it or replaced it with another).
	Deprecated bool
	// SerialHeader reports that the operation declares the Wechatpay-Serial
	// request header, which the reference uses to say the request may carry
	// fields encrypted with the platform key.
	SerialHeader bool
}

// Param is a non-body parameter.
type Param struct {
	Name, In string
	Required bool
	Schema   *Schema
}

// Schema is a flattened schema: allOf merged, $refs resolved.
type Schema struct {
	Type, Format, Description string
	Enum                      []string
	Required                  []string
	Props                     []*Prop
	Items                     *Schema
	// Sensitive lists the properties the reference marks with x-is-sensitive.
	Sensitive []string
	Example   string
}

// Prop is a named property of an object schema.
type Prop struct {
	Name   string
	Schema *Schema
}

// Prop returns the property with the given name, or nil.
func (s *Schema) Prop(name string) *Schema {
	if s == nil {
		return nil
	}
	for _, p := range s.Props {
		if p.Name == name {
			return p.Schema
		}
	}
	return nil
}

// IsRequired reports whether name is in the schema's required list.
func (s *Schema) IsRequired(name string) bool {
	if s == nil {
		return false
	}
	for _, r := range s.Required {
		if r == name {
			return true
		}
	}
	return false
}

// Load reads every operation file under root/v3.
func Load(root string) (*Spec, error) {
	l := &loader{root: root, files: map[string]*yaml.Node{}}
	spec := &Spec{Root: root, Ops: map[string]*Op{}}
	v3 := filepath.Join(root, "v3")
	if _, err := os.Stat(v3); err != nil {
		return nil, err
	}
	err := filepath.WalkDir(v3, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(p, ".yaml") {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		if rel == filepath.Join("v3", "webhooks.yaml") {
			return nil
		}
		ops, err := l.loadOps(p, rel)
		if err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
		for _, op := range ops {
			spec.Ops[Key(op.Method, op.Path)] = op
		}
		return nil
	})
	return spec, err
}

// pathOf turns a file name relative to the root into the URL path it
// describes: v3/pay/transactions/id/{transaction_id}.yaml becomes
// /v3/pay/transactions/id/{transaction_id}; a {empty}.yaml file stands for a
// trailing slash.
func pathOf(rel string) string {
	p := "/" + filepath.ToSlash(strings.TrimSuffix(rel, ".yaml"))
	if strings.HasSuffix(p, "/{empty}") {
		p = strings.TrimSuffix(p, "{empty}")
	}
	return p
}

type loader struct {
	root  string
	files map[string]*yaml.Node
}

func (l *loader) file(abs string) (*yaml.Node, error) {
	if n, ok := l.files[abs]; ok {
		return n, nil
	}
	b, err := os.ReadFile(abs)
	if err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, errors.New("empty document")
	}
	n := doc.Content[0]
	l.files[abs] = n
	return n, nil
}

func get(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func str(n *yaml.Node) string {
	if n == nil {
		return ""
	}
	return n.Value
}

func strs(n *yaml.Node) []string {
	if n == nil {
		return nil
	}
	if n.Kind == yaml.ScalarNode {
		return []string{n.Value}
	}
	var out []string
	for _, c := range n.Content {
		out = append(out, c.Value)
	}
	return out
}

var methods = []string{"get", "post", "put", "patch", "delete"}

func (l *loader) loadOps(abs, rel string) ([]*Op, error) {
	root, err := l.file(abs)
	if err != nil {
		return nil, err
	}
	var ops []*Op
	for _, m := range methods {
		on := get(root, m)
		if on == nil {
			continue
		}
		op := &Op{
			Method:     strings.ToUpper(m),
			Path:       pathOf(rel),
			File:       rel,
			Roles:      strs(get(on, "x-role")),
			Tags:       strs(get(on, "tags")),
			Summary:    str(get(on, "summary")),
			Deprecated: str(get(on, "deprecated")) == "true",
			Produces:   strs(get(on, "produces")),
			Responses:  map[string]*Schema{},
		}
		if params := get(on, "parameters"); params != nil {
			for _, pn := range params.Content {
				pn, pfile, err := l.deref(pn, abs)
				if err != nil {
					return nil, err
				}
				in := str(get(pn, "in"))
				name := str(get(pn, "name"))
				switch in {
				case "body":
					s, err := l.flatten(get(pn, "schema"), pfile, 0)
					if err != nil {
						return nil, fmt.Errorf("body: %w", err)
					}
					op.Body = s
				default:
					if in == "header" && strings.EqualFold(name, "Wechatpay-Serial") {
						op.SerialHeader = true
					}
					s, err := l.flatten(pn, pfile, 0)
					if err != nil {
						return nil, fmt.Errorf("param %s: %w", name, err)
					}
					s.Props, s.Required = nil, nil
					op.Params = append(op.Params, Param{Name: name, In: in, Required: get(pn, "required") != nil && get(pn, "required").Value == "true", Schema: s})
				}
			}
		}
		if rs := get(on, "responses"); rs != nil {
			for i := 0; i+1 < len(rs.Content); i += 2 {
				code := rs.Content[i].Value
				sn := get(rs.Content[i+1], "schema")
				if sn == nil {
					op.Responses[code] = nil
					continue
				}
				s, err := l.flatten(sn, abs, 0)
				if err != nil {
					return nil, fmt.Errorf("response %s: %w", code, err)
				}
				op.Responses[code] = s
			}
		}
		ops = append(ops, op)
	}
	return ops, nil
}

// deref follows a $ref on n (if any) and returns the target and the file it
// lives in.
func (l *loader) deref(n *yaml.Node, file string) (*yaml.Node, string, error) {
	for depth := 0; depth < 16; depth++ {
		r := get(n, "$ref")
		if r == nil {
			return n, file, nil
		}
		target, tfile, err := l.resolve(r.Value, file)
		if err != nil {
			return nil, "", err
		}
		n, file = target, tfile
	}
	return nil, "", errors.New("$ref chain too deep")
}

func (l *loader) resolve(ref, file string) (*yaml.Node, string, error) {
	filePart, frag, _ := strings.Cut(ref, "#")
	target := file
	if filePart != "" {
		target = filepath.Join(filepath.Dir(file), filePart)
	}
	n, err := l.file(target)
	if err != nil {
		return nil, "", fmt.Errorf("$ref %q: %w", ref, err)
	}
	frag = strings.TrimPrefix(frag, "/")
	if frag != "" {
		for _, key := range strings.Split(frag, "/") {
			key = strings.ReplaceAll(strings.ReplaceAll(key, "~1", "/"), "~0", "~")
			n = get(n, key)
			if n == nil {
				return nil, "", fmt.Errorf("$ref %q: %q not found", ref, key)
			}
		}
	}
	return n, target, nil
}

func (l *loader) flatten(n *yaml.Node, file string, depth int) (*Schema, error) {
	if n == nil {
		return nil, nil
	}
	if depth > 40 {
		return nil, errors.New("schema nesting too deep (cycle?)")
	}
	s := &Schema{
		Type:        str(get(n, "type")),
		Format:      str(get(n, "format")),
		Description: str(get(n, "description")),
		Enum:        strs(get(n, "enum")),
		Required:    strs(get(n, "required")),
		Example:     str(get(n, "example")),
	}
	if sens := get(n, "x-is-sensitive"); sens != nil {
		s.Sensitive = strs(sens)
	}
	if r := get(n, "$ref"); r != nil {
		target, tfile, err := l.resolve(r.Value, file)
		if err != nil {
			return nil, err
		}
		t, err := l.flatten(target, tfile, depth+1)
		if err != nil {
			return nil, err
		}
		merge(s, t)
	}
	if all := get(n, "allOf"); all != nil {
		for _, m := range all.Content {
			t, err := l.flatten(m, file, depth+1)
			if err != nil {
				return nil, err
			}
			merge(s, t)
		}
	}
	if props := get(n, "properties"); props != nil {
		for i := 0; i+1 < len(props.Content); i += 2 {
			name := props.Content[i].Value
			ps, err := l.flatten(props.Content[i+1], file, depth+1)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			addProp(s, name, ps)
		}
	}
	if items := get(n, "items"); items != nil {
		t, err := l.flatten(items, file, depth+1)
		if err != nil {
			return nil, err
		}
		s.Items = t
	}
	if s.Type == "" && len(s.Props) > 0 {
		s.Type = "object"
	}
	return s, nil
}

func addProp(s *Schema, name string, ps *Schema) {
	for _, p := range s.Props {
		if p.Name == name {
			if p.Schema == nil {
				p.Schema = ps
			} else if ps != nil {
				merge(p.Schema, ps)
			}
			return
		}
	}
	s.Props = append(s.Props, &Prop{Name: name, Schema: ps})
}

// merge folds t into s: properties and required lists are unioned, scalar
// facts fill gaps.
func merge(s, t *Schema) {
	if t == nil {
		return
	}
	if s.Type == "" {
		s.Type = t.Type
	}
	if s.Format == "" {
		s.Format = t.Format
	}
	if s.Description == "" {
		s.Description = t.Description
	}
	if s.Example == "" {
		s.Example = t.Example
	}
	s.Enum = union(s.Enum, t.Enum)
	s.Required = union(s.Required, t.Required)
	s.Sensitive = union(s.Sensitive, t.Sensitive)
	for _, p := range t.Props {
		addProp(s, p.Name, p.Schema)
	}
	if s.Items == nil {
		s.Items = t.Items
	}
}

func union(a, b []string) []string {
	for _, x := range b {
		found := false
		for _, y := range a {
			if x == y {
				found = true
				break
			}
		}
		if !found {
			a = append(a, x)
		}
	}
	return a
}

// Sorted returns the operation keys in order.
func (s *Spec) Sorted() []string {
	keys := make([]string, 0, len(s.Ops))
	for k := range s.Ops {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
