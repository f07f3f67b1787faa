package main

import (
	"fmt"
	"sort"
	"strings"
	"unicode"
)

// Go names are relative to their package: an operation or a schema of the
// payscore tag is payscore.CreateOrder and payscore.Order, not
// CreatePayscoreOrder and PayscoreOrder. A tag lists the words its names
// drop in x-go-strip (api/go-overlay.yaml); an operation or schema may set
// its Go name outright with x-go-name. The spec's own names stay unique
// across the whole spec; the Go names only within their package.

// assignGoNames fills Op.GoName and Spec.GoType.
func (s *Spec) assignGoNames() error {
	strip := map[string][]string{}
	for _, t := range list(s.Doc["tags"]) {
		words := strList(m(t)["x-go-strip"])
		sort.Slice(words, func(i, j int) bool { return len(words[i]) > len(words[j]) })
		strip[str(m(t)["name"])] = words
	}
	s.Strip = strip
	s.EventNames = map[string]map[string]string{}
	for _, t := range list(s.Doc["tags"]) {
		names := map[string]string{}
		for ev, n := range m(m(t)["x-go-event-names"]) {
			names[ev] = str(n)
		}
		s.EventNames[str(m(t)["name"])] = names
	}
	for _, op := range s.Ops {
		op.GoName = str(op.Node["x-go-name"])
		if op.GoName == "" {
			op.GoName = stripWords(op.ID, strip[op.Tag])
		}
	}
	// A partner twin is always Partner + its direct twin's name.
	for _, op := range s.Ops {
		if op.Twin != "" {
			if d := s.opByID(op.Twin); d != nil {
				op.GoName = "Partner" + d.GoName
			}
		}
	}
	s.GoType = map[string]string{}
	for name, owner := range s.Owner {
		n := str(s.Schemas[name]["x-go-name"])
		if n == "" {
			n = stripWords(name, strip[owner])
		}
		s.GoType[name] = n
	}
	return s.checkGoNames()
}

// checkGoNames fails on two declarations of one Go name in a package.
func (s *Spec) checkGoNames() error {
	seen := map[string]string{} // package.Name -> what declared it
	claim := func(pkg, name, what string) error {
		k := pkg + "." + name
		if prev, ok := seen[k]; ok {
			return fmt.Errorf("%s and %s are both %s in Go: give one an x-go-name in api/go-overlay.yaml", prev, what, k)
		}
		seen[k] = what
		return nil
	}
	for _, name := range sortedKeys(s.GoType) {
		if err := claim(s.Owner[name], s.GoType[name], "schema "+name); err != nil {
			return err
		}
	}
	for _, op := range s.Ops {
		if err := claim(op.Tag, "op:"+op.GoName, "operation "+op.ID); err != nil {
			return err
		}
		if len(op.queryOrHeader()) > 0 {
			if err := claim(op.Tag, op.GoName+"Params", "the parameters of "+op.ID); err != nil {
				return err
			}
		}
	}
	return nil
}

// goTypeOf is the Go type name of a schema in its package.
func (s *Spec) goTypeOf(schema string) string {
	if n, ok := s.GoType[schema]; ok {
		return n
	}
	return schema
}

// stripWords removes each word from a CamelCase name where it stands as
// whole words: Payscore from CreatePayscoreOrder, Complaints from
// ListComplaints. A name that is nothing but the word keeps it (the
// package's principal type, like time.Time).
func stripWords(name string, words []string) string {
	out := name
	for _, w := range words {
		for {
			i := wordIndex(out, w)
			if i < 0 {
				break
			}
			out = out[:i] + out[i+len(w):]
		}
	}
	if out == "" || !unicode.IsUpper(rune(out[0])) {
		return name
	}
	return out
}

// wordIndex finds w in s at a CamelCase word boundary on both sides.
func wordIndex(s, w string) int {
	from := 0
	for {
		i := strings.Index(s[from:], w)
		if i < 0 {
			return -1
		}
		i += from
		end := i + len(w)
		if end == len(s) || !unicode.IsLower(rune(s[end])) {
			return i
		}
		from = i + 1
	}
}
