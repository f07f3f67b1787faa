package sandbox

import (
	"encoding/base64"
	"encoding/json"
	"regexp"
	"regexp/syntax"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"
)

// synth builds schema-valid JSON values: request bodies for tests, and the
// answers of operations the sandbox has no state for. Values are what
// encoding/json produces when decoding into any (map[string]any, []any,
// float64, string, bool).
type synth struct {
	now time.Time
	// all includes optional properties, not only required ones.
	all bool
	// echo holds request values by field name; a property of the same name
	// and a compatible type takes its value from there (as stripe-mock does).
	echo map[string]any
}

const maxSynthDepth = 12

// value returns a value for schema s; name is the property name (for
// heuristics), echo the same-named value of the request at this level.
func (g *synth) value(s *openapi3.Schema, name string, echo any, depth int) any {
	if s == nil {
		return "sandbox"
	}
	if echo == nil && g.echo != nil {
		if v, ok := g.echo[name]; ok && !isContainer(v) {
			echo = v
		}
	}
	if echo != nil && !isContainer(echo) && validates(s, echo) {
		return echo
	}
	switch {
	case len(s.AllOf) > 0:
		return g.allOf(s, name, echo, depth)
	case len(s.OneOf) > 0 && s.OneOf[0].Value != nil:
		return g.value(s.OneOf[0].Value, name, echo, depth)
	case len(s.AnyOf) > 0 && s.AnyOf[0].Value != nil:
		return g.value(s.AnyOf[0].Value, name, echo, depth)
	}
	if len(s.Enum) > 0 {
		return normalize(s.Enum[0])
	}
	if s.Example != nil && !isContainer(s.Example) && validates(s, normalize(s.Example)) {
		return normalize(s.Example)
	}
	typ := schemaType(s)
	switch typ {
	case "object":
		return g.object(s, echo, depth)
	case "array":
		n := 1
		if s.MinItems > 1 {
			n = int(s.MinItems)
		}
		if depth >= maxSynthDepth {
			n = int(s.MinItems)
		}
		var items *openapi3.Schema
		if s.Items != nil {
			items = s.Items.Value
		}
		var echoItems []any
		if a, ok := echo.([]any); ok {
			echoItems = a
		}
		out := make([]any, 0, n)
		for i := 0; i < n; i++ {
			var e any
			if i < len(echoItems) {
				e = echoItems[i]
			}
			out = append(out, g.value(items, name, e, depth+1))
		}
		return out
	case "integer", "number":
		return g.number(s, name, typ)
	case "boolean":
		return false
	default:
		return g.str(s, name)
	}
}

func (g *synth) allOf(s *openapi3.Schema, name string, echo any, depth int) any {
	merged := map[string]any{}
	var other any
	for _, ref := range s.AllOf {
		if ref == nil || ref.Value == nil {
			continue
		}
		v := g.value(ref.Value, name, echo, depth)
		if m, ok := v.(map[string]any); ok {
			for k, x := range m {
				merged[k] = x
			}
		} else {
			other = v
		}
	}
	if other != nil && len(merged) == 0 {
		return other
	}
	if schemaType(s) == "object" || len(s.Properties) > 0 {
		for k, x := range g.object(s, echo, depth).(map[string]any) {
			merged[k] = x
		}
	}
	return merged
}

func (g *synth) object(s *openapi3.Schema, echo any, depth int) any {
	out := map[string]any{}
	if depth >= maxSynthDepth {
		return out
	}
	em, _ := echo.(map[string]any)
	required := map[string]bool{}
	for _, r := range s.Required {
		required[r] = true
	}
	names := make([]string, 0, len(s.Properties))
	for k := range s.Properties {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		ref := s.Properties[k]
		if ref == nil || ref.Value == nil {
			continue
		}
		if ref.Value.ReadOnly && g.echo == nil {
			continue // building a request: readOnly properties are not sent
		}
		if !required[k] && !g.all {
			if _, ok := em[k]; !ok {
				continue
			}
		}
		out[k] = g.value(ref.Value, k, em[k], depth+1)
	}
	return out
}

func (g *synth) number(s *openapi3.Schema, name, typ string) any {
	v := 1.0
	if strings.Contains(name, "total") || name == "refund" || strings.HasSuffix(name, "amount") {
		v = 100
	}
	if s.Min != nil {
		lo := *s.Min
		if s.ExclusiveMin {
			lo++
		}
		if v < lo {
			v = lo
		}
	}
	if s.Max != nil {
		hi := *s.Max
		if s.ExclusiveMax {
			hi--
		}
		if v > hi {
			v = hi
		}
	}
	if s.MultipleOf != nil && *s.MultipleOf > 0 {
		m := *s.MultipleOf
		v = float64(int64(v/m)+1) * m
	}
	if typ == "integer" {
		v = float64(int64(v))
	}
	return v
}

// Formats the sandbox writes times in: WeChat's RFC 3339 with the +08:00
// offset, and plain dates.
const (
	timeLayout = "2006-01-02T15:04:05-07:00"
	dateLayout = "2006-01-02"
)

// beijing is China Standard Time, the zone WeChat Pay writes times in.
var beijing = time.FixedZone("CST", 8*3600)

func wxTime(t time.Time) string { return t.In(beijing).Format(timeLayout) }

func (g *synth) str(s *openapi3.Schema, name string) any {
	now := g.now
	if now.IsZero() {
		now = time.Now()
	}
	var v string
	switch s.Format {
	case "date-time":
		if strings.Contains(name, "expire") {
			now = now.Add(2 * time.Hour)
		}
		v = wxTime(now)
	case "date":
		v = now.In(beijing).Format(dateLayout)
	case "uri", "url":
		v = "https://sandbox.example.com/" + strings.ReplaceAll(name, "_", "-")
	case "email":
		v = "sandbox@example.com"
	case "byte", "base64":
		v = base64.StdEncoding.EncodeToString([]byte("sandbox"))
	case "ipv4":
		v = "127.0.0.1"
	case "ipv6":
		v = "::1"
	case "uuid":
		v = "3119dfba-e649-5eec-ab1e-3412bc4d2e17"
	default:
		v = stringFor(name, now)
	}
	if s.Pattern != "" {
		if re, err := regexp.Compile(s.Pattern); err == nil && !re.MatchString(v) {
			if gen, ok := fromPattern(s.Pattern, int(s.MinLength)); ok {
				v = gen
			}
		}
	}
	if n := utf8.RuneCountInString(v); s.MaxLength != nil && uint64(n) > *s.MaxLength {
		v = string([]rune(v)[:*s.MaxLength])
	}
	for uint64(utf8.RuneCountInString(v)) < s.MinLength {
		v += "0"
	}
	return v
}

// stringFor guesses a plausible value from a property name.
func stringFor(name string, now time.Time) string {
	switch {
	case name == "notify_url" || strings.HasSuffix(name, "_url"):
		return "https://sandbox.example.com/" + strings.ReplaceAll(name, "_", "-")
	case strings.Contains(name, "openid"):
		return "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
	case strings.Contains(name, "appid"):
		return "wxd678efh567hg6787"
	case strings.Contains(name, "mchid"):
		return "1900000109"
	case name == "currency" || strings.HasSuffix(name, "_currency"):
		return "CNY"
	case strings.HasSuffix(name, "_time") || strings.HasSuffix(name, "_date"):
		return wxTime(now)
	case strings.HasSuffix(name, "_id") || strings.HasSuffix(name, "_no") || name == "id":
		return "1217752501201407033233368018"
	}
	return "sandbox"
}

// fromPattern generates a string matching a regular expression, for the
// common shapes spec patterns take (classes, repeats, literals,
// alternatives). It reports false when it cannot.
func fromPattern(pattern string, minLen int) (string, bool) {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return "", false
	}
	var b strings.Builder
	if !genRegexp(&b, re.Simplify(), minLen) {
		return "", false
	}
	out := b.String()
	if m, err := regexp.Compile(pattern); err != nil || !m.MatchString(out) {
		return "", false
	}
	return out, true
}

func genRegexp(b *strings.Builder, re *syntax.Regexp, minLen int) bool {
	switch re.Op {
	case syntax.OpLiteral:
		b.WriteString(string(re.Rune))
	case syntax.OpCharClass:
		if len(re.Rune) < 2 {
			return false
		}
		b.WriteRune(pickRune(re.Rune))
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		b.WriteByte('a')
	case syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary, syntax.OpEmptyMatch:
	case syntax.OpCapture:
		return genRegexp(b, re.Sub[0], minLen)
	case syntax.OpConcat:
		for _, s := range re.Sub {
			if !genRegexp(b, s, minLen) {
				return false
			}
		}
	case syntax.OpAlternate:
		return genRegexp(b, re.Sub[0], minLen)
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		lo, hi := 0, -1
		switch re.Op {
		case syntax.OpPlus:
			lo = 1
		case syntax.OpQuest:
			hi = 1
		case syntax.OpRepeat:
			lo, hi = re.Min, re.Max
		}
		n := lo
		if n < 1 && hi != 0 {
			n = 1
		}
		if n < minLen && (hi < 0 || hi >= minLen) {
			n = minLen
		}
		if hi >= 0 && n > hi {
			n = hi
		}
		for i := 0; i < n; i++ {
			if !genRegexp(b, re.Sub[0], 0) {
				return false
			}
		}
	default:
		return false
	}
	return true
}

// pickRune picks a readable rune from a character class (pairs of ranges):
// a digit, a letter, else the first.
func pickRune(ranges []rune) rune {
	for _, want := range []rune{'1', 'a', 'A', '_'} {
		for i := 0; i+1 < len(ranges); i += 2 {
			if ranges[i] <= want && want <= ranges[i+1] {
				return want
			}
		}
	}
	return ranges[0]
}

func schemaType(s *openapi3.Schema) string {
	if s.Type != nil {
		for _, t := range s.Type.Slice() {
			if t != "null" {
				return t
			}
		}
	}
	if len(s.Properties) > 0 || s.AdditionalProperties.Schema != nil {
		return "object"
	}
	if s.Items != nil {
		return "array"
	}
	return "string"
}

func isContainer(v any) bool {
	switch v.(type) {
	case map[string]any, []any:
		return true
	}
	return false
}

// validates reports whether v satisfies s.
func validates(s *openapi3.Schema, v any) bool {
	return s.VisitJSON(v, openapi3.MultiErrors()) == nil
}

// normalize turns any Go value into what encoding/json decodes JSON into.
func normalize(v any) any {
	switch x := v.(type) {
	case string, bool, float64, nil, map[string]any, []any:
		if m, ok := x.(map[string]any); ok {
			for k, e := range m {
				m[k] = normalize(e)
			}
		}
		if a, ok := x.([]any); ok {
			for i, e := range a {
				a[i] = normalize(e)
			}
		}
		return x
	case int:
		return float64(x)
	case int64:
		return float64(x)
	case json.Number:
		f, _ := x.Float64()
		return f
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var out any
	if json.Unmarshal(b, &out) != nil {
		return nil
	}
	return out
}

// fit makes v valid against s: properties the schema does not know are
// dropped, required ones it lacks are synthesized, and scalars of the wrong
// type or outside an enum are replaced. Stateful answers go through it, so
// they stay valid while the spec grows.
func (g *synth) fit(s *openapi3.Schema, name string, v any, depth int) any {
	if s == nil {
		return v
	}
	if v == nil {
		return g.value(s, name, nil, depth)
	}
	if len(s.AllOf) > 0 {
		s = flattenAllOf(s)
	}
	if len(s.OneOf) > 0 || len(s.AnyOf) > 0 {
		if validates(s, v) {
			return v
		}
		return g.value(s, name, nil, depth)
	}
	switch schemaType(s) {
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			return g.value(s, name, nil, depth)
		}
		out := map[string]any{}
		for k, x := range m {
			if ref, ok := s.Properties[k]; ok && ref != nil && ref.Value != nil {
				out[k] = g.fit(ref.Value, k, x, depth+1)
			} else if freeForm(s) {
				out[k] = x
			}
		}
		for _, r := range s.Required {
			if _, ok := out[r]; !ok {
				if ref := s.Properties[r]; ref != nil {
					out[r] = g.value(ref.Value, r, nil, depth+1)
				}
			}
		}
		return out
	case "array":
		a, ok := v.([]any)
		if !ok {
			return g.value(s, name, nil, depth)
		}
		var items *openapi3.Schema
		if s.Items != nil {
			items = s.Items.Value
		}
		out := make([]any, 0, len(a))
		for _, x := range a {
			out = append(out, g.fit(items, name, x, depth+1))
		}
		return out
	}
	if validates(s, v) {
		return v
	}
	// An integer-valued float where the schema wants a string, and the like:
	// try the string form before giving up on the value.
	if f, ok := v.(float64); ok && schemaType(s) == "string" {
		if sv := strconv.FormatFloat(f, 'f', -1, 64); validates(s, sv) {
			return sv
		}
	}
	return g.value(s, name, nil, depth)
}

// flattenAllOf merges the properties and required lists of an allOf schema
// (one level), which is what fit needs.
func flattenAllOf(s *openapi3.Schema) *openapi3.Schema {
	out := &openapi3.Schema{Type: &openapi3.Types{"object"}, Properties: openapi3.Schemas{}}
	var add func(x *openapi3.Schema)
	add = func(x *openapi3.Schema) {
		for k, p := range x.Properties {
			out.Properties[k] = p
		}
		out.Required = append(out.Required, x.Required...)
		for _, ref := range x.AllOf {
			if ref != nil && ref.Value != nil {
				add(ref.Value)
			}
		}
	}
	add(s)
	return out
}

// freeForm reports whether an object schema accepts properties it does not
// declare: no declared properties (and additionalProperties not false), or
// an additionalProperties schema.
func freeForm(s *openapi3.Schema) bool {
	if s.AdditionalProperties.Schema != nil {
		return true
	}
	return len(s.Properties) == 0 && (s.AdditionalProperties.Has == nil || *s.AdditionalProperties.Has)
}
