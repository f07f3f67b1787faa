package main

import (
	"fmt"
	"sort"
	"strings"
)

// eventDecl is one notification event type a schema decodes.
type eventDecl struct{ event, key, schema string }

// tagEvents lists the notification event types whose resource schema the
// tag owns, by event type; a declaration selected by a key comes before the
// fallback of the same event type.
func (s *Spec) tagEvents(tag string) []eventDecl {
	var out []eventDecl
	for _, name := range sortedKeys(s.Schemas) {
		if s.Owner[name] != tag {
			continue
		}
		for _, e := range strList(s.Schemas[name]["x-wxpay-events"]) {
			out = append(out, eventDecl{e, str(s.Schemas[name]["x-wxpay-event-key"]), name})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].event != out[j].event {
			return out[i].event < out[j].event
		}
		return out[i].key != "" && out[j].key == ""
	})
	return out
}

// eventConst is the Go constant of an event type in a package:
// PAYSCORE.USER_CONFIRM is payscore.EventUserConfirm. A tag's
// x-go-event-names (api/go-overlay.yaml) names the constants of event
// types whose words run together.
func (s *Spec) eventConst(tag, event string) string {
	if n := s.EventNames[tag][event]; n != "" {
		return "Event" + n
	}
	n, _ := goName(strings.ToLower(event))
	return "Event" + stripWords(n, s.Strip[tag])
}

// events emits the package's event constants and Events, which callback
// uses to decode notification resources into this package's types.
func (g *gen) events() error {
	decls := g.s.tagEvents(g.tag)
	if len(decls) == 0 {
		return nil
	}
	f := g.f
	f.imports[modulePath+"/core"] = true
	f.p("// The notification event types whose resources this package decodes.")
	f.p("const (")
	seen := map[string]bool{}
	for _, d := range decls {
		if seen[d.event] {
			continue
		}
		seen[d.event] = true
		c := g.s.eventConst(g.tag, d.event)
		f.p("\t// %s is the %s notification.", c, d.event)
		f.p("\t%s = %q", c, d.event)
	}
	f.p(")\n")
	f.p("// Events returns the notification event types whose resources this")
	f.p("// package decodes, for callback.Config.Events.")
	f.p("func Events() []core.EventType {")
	f.p("\treturn []core.EventType{")
	for _, d := range decls {
		t := g.s.goTypeOf(d.schema)
		if _, err := g.w.mustType(g.pkg, t); err != nil {
			return err
		}
		f.p("\t\t{Type: %s, Key: %q, New: func() any { return new(%s) }},", g.s.eventConst(g.tag, d.event), d.key, t)
	}
	f.p("\t}\n}\n")
	return nil
}

// eventSchemaTags checks that every schema with events has a package.
func (s *Spec) eventSchemaTags() error {
	for _, name := range sortedKeys(s.Schemas) {
		if len(strList(s.Schemas[name]["x-wxpay-events"])) > 0 && s.Owner[name] == "" {
			return fmt.Errorf("schema %s has x-wxpay-events but no package: give it x-wxpay-tag", name)
		}
	}
	return nil
}
