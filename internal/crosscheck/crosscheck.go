// Package crosscheck holds the facts about WeChat Pay operations that
// independent descriptions of the API state — the official Go SDK
// (wechatpay-go), the official Java SDK (wechatpay-java) and gopay — and
// the extractors that read those facts from the sources.
//
// It exists for development and tests only: internal/tools/crosscheck runs
// the extractors over local checkouts of the sources and writes
// api/testdata/crosscheck.json, and api/crosscheck_test.go compares
// api/openapi.yaml with that fixture. Nothing in the library imports it.
//
// A fact is never code: it is a method, a path, a field path with its JSON
// type, its enum values and whether the source requires it.
package crosscheck

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
)

// Fixture is the committed set of facts.
type Fixture struct {
	Sources []Source `json:"sources"`
	Ops     []*Op    `json:"operations"`
}

// Source names one description the facts come from.
type Source struct {
	Name    string `json:"name"`
	Repo    string `json:"repo"`
	Commit  string `json:"commit"`
	License string `json:"license"`
	// Required tells whether the source states which fields are required.
	Required bool `json:"required"`
	// Requests tells whether the source describes request bodies and query
	// parameters (gopay passes them as untyped maps).
	Requests bool `json:"requests"`
	// Enums tells whether the source states enum values.
	Enums bool `json:"enums"`
}

// Op is one operation as one source describes it.
type Op struct {
	Source string `json:"source"`
	// Name is the source's own name of the operation, for people.
	Name   string `json:"name"`
	Method string `json:"method"`
	Path   string `json:"path"`
	// Query lists the query parameters (Required as the source encodes it).
	Query []Field `json:"query,omitempty"`
	// Request lists the request-body fields; nil when the source sends no
	// body or does not describe it.
	Request []Field `json:"request,omitempty"`
	// Response lists the fields of the success answer.
	Response []Field `json:"response,omitempty"`
	// ResponseBody is "json" when the source decodes a JSON answer, "none"
	// when it expects an empty one, "" when it does not say.
	ResponseBody string `json:"response_body,omitempty"`
}

// Field is one field of a request or a response, by its path from the
// body's root: a.b for a nested object field, a[] for the items of an
// array, a[].b for a field of them.
type Field struct {
	Path string `json:"path"`
	// Type is the JSON type: string, integer, number, boolean, object,
	// array, or any.
	Type     string   `json:"type"`
	Enum     []string `json:"enum,omitempty"`
	Required *bool    `json:"required,omitempty"`
	// Open marks an object whose properties the source leaves free.
	Open bool `json:"open,omitempty"`
}

// Key is an operation's method and its path with the path parameters'
// names blanked, so that /a/{id} and /a/{out_no} compare equal.
func Key(method, path string) string {
	return strings.ToUpper(method) + " " + paramRE.ReplaceAllString(path, "{}")
}

var paramRE = regexp.MustCompile(`\{[^}]*\}`)

// Load reads a fixture.
func Load(file string) (*Fixture, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var f Fixture
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return &f, nil
}

// Marshal writes a fixture with one operation field per line, so that a
// change of the sources shows as a readable diff.
func (f *Fixture) Marshal() ([]byte, error) {
	sort.SliceStable(f.Ops, func(i, j int) bool {
		a, b := f.Ops[i], f.Ops[j]
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		if a.Method != b.Method {
			return a.Method < b.Method
		}
		if a.Source != b.Source {
			return a.Source < b.Source
		}
		return a.Name < b.Name
	})
	var buf bytes.Buffer
	buf.WriteString("{\n\"sources\": [\n")
	for i, s := range f.Sources {
		b, err := json.Marshal(s)
		if err != nil {
			return nil, err
		}
		buf.Write(b)
		if i < len(f.Sources)-1 {
			buf.WriteByte(',')
		}
		buf.WriteByte('\n')
	}
	buf.WriteString("],\n\"operations\": [\n")
	for i, op := range f.Ops {
		fmt.Fprintf(&buf, "{\"source\": %q, \"name\": %q, \"method\": %q, \"path\": %q", op.Source, op.Name, op.Method, op.Path)
		if op.ResponseBody != "" {
			fmt.Fprintf(&buf, ", \"response_body\": %q", op.ResponseBody)
		}
		for _, part := range []struct {
			name   string
			fields []Field
		}{{"query", op.Query}, {"request", op.Request}, {"response", op.Response}} {
			if len(part.fields) == 0 {
				continue
			}
			fmt.Fprintf(&buf, ",\n \"%s\": [\n", part.name)
			for j, fl := range part.fields {
				b, err := json.Marshal(fl)
				if err != nil {
					return nil, err
				}
				buf.WriteString("  ")
				buf.Write(b)
				if j < len(part.fields)-1 {
					buf.WriteByte(',')
				}
				buf.WriteByte('\n')
			}
			buf.WriteString(" ]")
		}
		buf.WriteString("}")
		if i < len(f.Ops)-1 {
			buf.WriteByte(',')
		}
		buf.WriteByte('\n')
	}
	buf.WriteString("]\n}\n")
	// Check it reads back.
	var check Fixture
	if err := json.Unmarshal(buf.Bytes(), &check); err != nil {
		return nil, fmt.Errorf("fixture does not read back: %w", err)
	}
	return buf.Bytes(), nil
}

// Shape is a type as a source states it, before it is flattened into
// fields.
type Shape struct {
	Type   string // JSON type
	Enum   []string
	Fields []ShapeField // object properties, in the source's order
	Items  *Shape       // array items
	// Open marks an object whose properties the source leaves free (a map).
	Open bool
}

// ShapeField is one property of an object shape.
type ShapeField struct {
	Name     string
	Required *bool
	Shape    *Shape
}

// maxDepth bounds the flattening of recursive types.
const maxDepth = 8

// Flatten turns a shape into fields by path, prefix first.
func Flatten(s *Shape) []Field {
	var out []Field
	flatten(&out, "", s, 0)
	return out
}

func flatten(out *[]Field, prefix string, s *Shape, depth int) {
	if s == nil || depth > maxDepth {
		return
	}
	switch s.Type {
	case "object":
		for _, f := range s.Fields {
			if f.Shape == nil {
				continue
			}
			p := f.Name
			if prefix != "" {
				p = prefix + "." + f.Name
			}
			*out = append(*out, Field{Path: p, Type: f.Shape.Type, Enum: sortedCopy(f.Shape.Enum), Required: f.Required, Open: f.Shape.Open})
			flatten(out, p, f.Shape, depth+1)
		}
	case "array":
		if s.Items == nil {
			return
		}
		p := prefix + "[]"
		*out = append(*out, Field{Path: p, Type: s.Items.Type, Enum: sortedCopy(s.Items.Enum), Open: s.Items.Open})
		flatten(out, p, s.Items, depth+1)
	}
}

func sortedCopy(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	c := append([]string(nil), s...)
	sort.Strings(c)
	// Deduplicate.
	out := c[:1]
	for _, v := range c[1:] {
		if v != out[len(out)-1] {
			out = append(out, v)
		}
	}
	return out
}

// Bool returns a pointer to b.
func Bool(b bool) *bool { return &b }
