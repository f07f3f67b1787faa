package main

import (
	"fmt"
	"sort"
	"strings"
	"unicode"
)

// compoundWords are WeChat field-name words that Go's initialism rules cannot
// split: mchid is "merchant id", so it is MchID, not Mchid.
var compoundWords = map[string]string{
	"mchid":   "MchID",
	"appid":   "AppID",
	"openid":  "OpenID",
	"unionid": "UnionID",
}

// initialisms follows oapi-codegen's ToCamelCaseWithInitialisms list.
var initialisms = map[string]bool{
	"ACL": true, "API": true, "ASCII": true, "CPU": true, "CSS": true, "DNS": true, "EOF": true,
	"GUID": true, "HTML": true, "HTTP": true, "HTTPS": true, "ID": true, "IP": true, "JSON": true,
	"LHS": true, "QPS": true, "RAM": true, "RHS": true, "RPC": true, "SLA": true, "SMTP": true,
	"SQL": true, "SSH": true, "TCP": true, "TLS": true, "TTL": true, "UDP": true, "UI": true,
	"GID": true, "UID": true, "UUID": true, "URI": true, "URL": true, "UTF8": true, "VM": true,
	"XML": true, "XMPP": true, "XSRF": true, "XSS": true, "SIP": true, "RTP": true, "AMQP": true,
	"DB": true, "TS": true,
}

func splitWords(name string) []string {
	return strings.FieldsFunc(name, func(r rune) bool { return r == '_' || r == '-' || r == '.' || r == ' ' })
}

// goName is the Go identifier wxgen expects for a JSON name, and whether it
// differs from what oapi-codegen derives on its own (only names containing
// a compound word do).
func goName(jsonName string) (string, bool) {
	var b strings.Builder
	compound := false
	for _, w := range splitWords(jsonName) {
		lw := strings.ToLower(w)
		if c, ok := compoundWords[lw]; ok {
			b.WriteString(c)
			compound = true
			continue
		}
		if initialisms[strings.ToUpper(w)] {
			b.WriteString(strings.ToUpper(w))
			continue
		}
		r := []rune(w)
		r[0] = unicode.ToUpper(r[0])
		b.WriteString(string(r))
	}
	return b.String(), compound
}

// lowerFirst turns a Go name into a parameter name: TransactionID becomes
// transactionID, ID becomes id.
func lowerFirst(s string) string {
	r := []rune(s)
	i := 0
	for i < len(r) && unicode.IsUpper(r[i]) {
		i++
	}
	switch {
	case i == 0:
		return s
	case i == 1 || i == len(r):
		return strings.ToLower(string(r[:i])) + string(r[i:])
	default:
		return strings.ToLower(string(r[:i-1])) + string(r[i-1:])
	}
}

// applyNamingHints sets x-go-name on properties and parameters whose names
// contain a compound word, unless the overlay already named them, and
// x-enum-varnames on enums that have none, so that constants read like Go
// (TradeStateNotpay rather than TradeStateNOTPAY) and never depend on
// other enums.
func applyNamingHints(doc obj) error {
	comps := m(doc["components"])
	for _, name := range sortedKeys(m(comps["schemas"])) {
		sc := m(m(comps["schemas"])[name])
		if err := hintSchema(sc, name); err != nil {
			return err
		}
	}
	for _, name := range sortedKeys(m(comps["parameters"])) {
		hintParam(m(m(comps["parameters"])[name]))
	}
	for _, path := range sortedKeys(m(doc["paths"])) {
		item := m(m(doc["paths"])[path])
		for _, p := range list(item["parameters"]) {
			hintParam(m(p))
		}
		for _, method := range httpMethods {
			for _, p := range list(m(item[method])["parameters"]) {
				hintParam(m(p))
			}
		}
	}
	return nil
}

func hintParam(p obj) {
	if _, ok := p["x-go-name"]; ok || p["$ref"] != nil {
		return
	}
	if n, ok := goName(str(p["name"])); ok {
		p["x-go-name"] = n
		p["x-oapi-codegen-only-honour-go-name"] = true
	}
}

func hintSchema(sc obj, where string) error {
	if enum := list(sc["enum"]); len(enum) > 0 {
		if _, ok := sc["x-enum-varnames"]; !ok {
			names, err := enumVarNames(enum)
			if err != nil {
				return fmt.Errorf("enum %s: %w; name its constants with x-enum-varnames in go-overlay.yaml", where, err)
			}
			sc["x-enum-varnames"] = names
		}
	}
	props := m(sc["properties"])
	for _, k := range sortedKeys(props) {
		p := m(props[k])
		if _, ok := p["x-go-name"]; !ok {
			if n, ok := goName(k); ok {
				if p["$ref"] != nil {
					// A $ref with siblings is ignored by OpenAPI 3.0 tools; wrap it.
					props[k] = obj{"allOf": []any{obj{"$ref": p["$ref"]}}, "x-go-name": n, "x-oapi-codegen-only-honour-go-name": true}
					continue
				}
				p["x-go-name"] = n
				p["x-oapi-codegen-only-honour-go-name"] = true
			}
		}
		if err := hintSchema(p, where+"."+k); err != nil {
			return err
		}
	}
	if items, ok := sc["items"].(obj); ok {
		if err := hintSchema(items, where+"[]"); err != nil {
			return err
		}
	}
	for _, a := range list(sc["allOf"]) {
		if err := hintSchema(m(a), where); err != nil {
			return err
		}
	}
	return nil
}

// enumVarNames derives constant suffixes from enum values: SNAKE_CASE and
// dotted values become CamelCase (TRANSACTION.SUCCESS is TransactionSuccess);
// numbers get a V prefix.
func enumVarNames(values []any) ([]any, error) {
	seen := map[string]bool{}
	out := make([]any, 0, len(values))
	for _, v := range values {
		s := fmt.Sprint(v)
		var b strings.Builder
		for _, w := range splitWords(s) {
			r := []rune(strings.ToLower(w))
			for i, c := range r {
				if !(unicode.IsLetter(c) && c < unicode.MaxASCII) && !unicode.IsDigit(c) {
					return nil, fmt.Errorf("value %q cannot become a Go name", s)
				}
				if i == 0 {
					r[i] = unicode.ToUpper(c)
				}
			}
			b.WriteString(string(r))
		}
		name := b.String()
		if name == "" {
			return nil, fmt.Errorf("value %q cannot become a Go name", s)
		}
		if unicode.IsDigit([]rune(name)[0]) {
			name = "V" + name
		}
		if seen[name] {
			return nil, fmt.Errorf("values map to the same name %s", name)
		}
		seen[name] = true
		out = append(out, name)
	}
	return out, nil
}

// verbS turns an imperative first word into the third person: Create ->
// creates, Query -> queries.
func verbS(w string) string {
	lw := strings.ToLower(w)
	switch {
	case strings.HasSuffix(lw, "y") && len(lw) > 1 && !strings.ContainsRune("aeiou", rune(lw[len(lw)-2])):
		return lw[:len(lw)-1] + "ies"
	case strings.HasSuffix(lw, "s"), strings.HasSuffix(lw, "sh"), strings.HasSuffix(lw, "ch"), strings.HasSuffix(lw, "x"), strings.HasSuffix(lw, "z"):
		return lw + "es"
	default:
		return lw + "s"
	}
}

// sentence turns "Create a Native order (Native下单)" into "creates a Native
// order (Native下单)".
func sentence(summary string) string {
	first, rest, _ := strings.Cut(summary, " ")
	if first == "" {
		return summary
	}
	return verbS(first) + " " + rest
}

func sortedStrings(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
