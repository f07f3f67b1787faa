package main

import (
	"bytes"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/speakeasy-api/openapi/overlay/loader"
	"gopkg.in/yaml.v3"
)

// obj is a JSON/YAML object of the spec as a generic tree.
type obj = map[string]any

// Spec is api/openapi.yaml after the Go overlay, with the facts wxgen needs
// pulled out.
type Spec struct {
	Doc     obj
	Tags    []Tag
	Ops     []*Op
	Schemas map[string]obj
	// Owner maps a schema name to the tag (Go package) that declares it.
	Owner map[string]string
	// GoType maps a schema name to its Go type name in its package.
	GoType map[string]string
	// Strip lists, per tag, the words its Go names drop.
	Strip map[string][]string
	// EventNames maps, per tag, an event type to the Go name of its
	// constant after "Event", where the words of the event type run
	// together (WEBIZPAY.PAYMENTSUCCESS is EventPaymentSuccess).
	EventNames map[string]map[string]string
}

// Tag is a business domain: one Go package under gen/.
type Tag struct {
	Name, Description string
}

// Op is one operation.
type Op struct {
	ID, Method, Path, Tag string
	Summary, Description  string
	Modes                 []string
	Twin                  string // on a partner operation: its direct twin
	TwinAnswer            string // on a partner operation: the union of the twins' differing answers
	Unsigned              bool
	ResendSafe            bool // x-wxpay-resend: safe
	Params                []*Param
	Body                  string // schema name of the request body, "" if none
	BodyContentType       string
	Status                int    // success status
	Resp                  string // schema name of the success body, "" if none
	RespTypes             []string
	Sensitive             [][]string
	SensitiveQuery        []string // query parameters the client encrypts
	UploadMeta            string   // schema of a multipart upload's meta part
	MetaFileDigest        bool     // a typed upload meta with filename and sha256
	MetaSM3Digest         bool     // a typed upload meta with digest_alogrithm and digest (SM3)
	FilePart              string   // the form name of an upload's file part, when not "file"
	MetaSHA256            bool     // a typed upload meta with sha256 but no filename
	Node                  obj
	partner, direct       *Op // twins, set by linkTwins
	// answer is, for twins whose JSON answers differ, the schema the
	// mode-independent method answers with (TwinAnswer); set by linkTwins.
	answer string
	// GoName is the operation's name in its package (CreateOrder for
	// CreatePayscoreOrder; PartnerCreateOrder for its partner twin);
	// methodName is the Go method that sends it. A twin's is the name of
	// the pair, on the package's Direct or Partner type, behind the Client's
	// mode-independent method of that name.
	GoName, methodName string
}

// queryOrHeader lists the query and header parameters: the fields of the
// operation's Params type.
func (o *Op) queryOrHeader() []*Param {
	var out []*Param
	for _, p := range o.Params {
		if p.In == "query" || p.In == "header" {
			out = append(out, p)
		}
	}
	return out
}

// isTwin reports whether the operation is one of a direct/partner pair
// served by one mode-independent method.
func (o *Op) isTwin() bool { return o.partner != nil || o.direct != nil }

// Param is a path, query or header parameter.
type Param struct {
	Name, In, Description string
	Required              bool
	Schema                obj
	Node                  obj // the resolved parameter object
}

// HasMode reports whether the operation serves mode m.
func (o *Op) HasMode(m string) bool {
	for _, x := range o.Modes {
		if x == m {
			return true
		}
	}
	return false
}

func loadSpec(specPath, overlayPath string) (*Spec, error) {
	doc, err := readWithOverlay(specPath, overlayPath)
	if err != nil {
		return nil, err
	}
	if err := applyNamingHints(doc); err != nil {
		return nil, err
	}
	s := &Spec{Doc: doc, Schemas: map[string]obj{}, Owner: map[string]string{}}
	for _, t := range list(doc["tags"]) {
		t := t.(obj)
		s.Tags = append(s.Tags, Tag{Name: str(t["name"]), Description: str(t["description"])})
	}
	comps := m(doc["components"])
	for name, sc := range m(comps["schemas"]) {
		s.Schemas[name] = sc.(obj)
	}
	for _, step := range []func() error{s.loadOps, s.assignOwners, s.assignGoNames, s.eventSchemaTags, s.linkTwins} {
		if err := step(); err != nil {
			return nil, err
		}
	}
	for _, op := range s.Ops {
		s.protocolFacts(op)
	}
	return s, nil
}

// readWithOverlay reads the spec and applies the Go overlay to it.
func readWithOverlay(specPath, overlayPath string) (obj, error) {
	raw, err := os.ReadFile(specPath)
	if err != nil {
		return nil, err
	}
	var node yaml.Node
	if err := yaml.Unmarshal(raw, &node); err != nil {
		return nil, fmt.Errorf("%s: %w", specPath, err)
	}
	if overlayPath != "" {
		ov, err := loader.LoadOverlay(overlayPath)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", overlayPath, err)
		}
		if err := ov.Validate(); err != nil {
			return nil, fmt.Errorf("%s: %w", overlayPath, err)
		}
		warnings, err := ov.ApplyToStrict(&node)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", overlayPath, err)
		}
		for _, w := range warnings {
			if !strings.Contains(w, "rfc9535") {
				return nil, fmt.Errorf("%s: %s", overlayPath, w)
			}
		}
	}
	var buf bytes.Buffer
	if err := yaml.NewEncoder(&buf).Encode(&node); err != nil {
		return nil, err
	}
	var doc obj
	if err := yaml.Unmarshal(buf.Bytes(), &doc); err != nil {
		return nil, err
	}
	return doc, nil
}

// protocolFacts fills what the transport needs to know of an operation:
// sensitive fields, the upload meta, sensitive query parameters.
func (s *Spec) protocolFacts(op *Op) {
	if op.Body != "" {
		op.Sensitive = s.sensitivePaths(op.Body, nil, 0)
	}
	if op.BodyContentType == "multipart/form-data" {
		op.UploadMeta, _ = refName(str(m(m(s.Schemas[op.Body]["properties"])["meta"])["$ref"]), "schemas")
		props := m(s.Schemas[op.UploadMeta]["properties"])
		op.MetaFileDigest = op.UploadMeta != standardMeta && props["filename"] != nil && props["sha256"] != nil
		op.MetaSHA256 = op.UploadMeta != standardMeta && props["filename"] == nil && props["sha256"] != nil
		if op.UploadMeta != "" {
			// the meta part is the JSON that carries (and signs) the
			// sensitive fields of an upload
			op.Sensitive = s.sensitivePaths(op.UploadMeta, nil, 0)
		}
		op.MetaSM3Digest = props["digest_alogrithm"] != nil && props["digest"] != nil
		for name, v := range m(s.Schemas[op.Body]["properties"]) {
			if str(m(v)["format"]) == "binary" && name != "file" {
				op.FilePart = name
			}
		}
	}
	for _, p := range op.Params {
		if p.In == "query" && p.Node["x-wxpay-sensitive"] == true {
			op.SensitiveQuery = append(op.SensitiveQuery, p.Name)
		}
	}
}

func m(v any) obj {
	if o, ok := v.(obj); ok {
		return o
	}
	return obj{}
}

func list(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	return nil
}

func str(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return ""
}

func strList(v any) []string {
	var out []string
	for _, x := range list(v) {
		out = append(out, str(x))
	}
	return out
}

func sortedKeys[V any](mm map[string]V) []string {
	keys := make([]string, 0, len(mm))
	for k := range mm {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// refName returns X for "#/components/<kind>/X".
func refName(ref, kind string) (string, bool) {
	prefix := "#/components/" + kind + "/"
	if !strings.HasPrefix(ref, prefix) {
		return "", false
	}
	return strings.TrimPrefix(ref, prefix), true
}

func (s *Spec) resolveParam(p obj) obj {
	if ref := str(p["$ref"]); ref != "" {
		name, _ := refName(ref, "parameters")
		return m(m(m(s.Doc["components"])["parameters"])[name])
	}
	return p
}

var httpMethods = []string{"get", "put", "post", "delete", "patch"}

func (s *Spec) loadOps() error {
	paths := m(s.Doc["paths"])
	seen := map[string]bool{}
	for _, path := range sortedKeys(paths) {
		item := m(paths[path])
		for _, method := range httpMethods {
			n, ok := item[method].(obj)
			if !ok {
				continue
			}
			op, err := s.loadOp(path, method, item, n)
			if err != nil {
				return err
			}
			if seen[op.ID] {
				return fmt.Errorf("%s %s: operationId %s used twice", op.Method, path, op.ID)
			}
			seen[op.ID] = true
			s.Ops = append(s.Ops, op)
		}
	}
	return nil
}

// loadOp reads one operation of the path item.
func (s *Spec) loadOp(path, method string, item, n obj) (*Op, error) {
	op := &Op{
		ID:          str(n["operationId"]),
		Method:      strings.ToUpper(method),
		Path:        path,
		Summary:     str(n["summary"]),
		Description: str(n["description"]),
		Modes:       strList(n["x-wxpay-modes"]),
		Twin:        str(n["x-wxpay-twin"]),
		TwinAnswer:  str(n["x-wxpay-twin-answer"]),
		Unsigned:    n["x-wxpay-unsigned"] == true,
		ResendSafe:  n["x-wxpay-resend"] == "safe",
		Node:        n,
	}
	if op.ID == "" {
		return nil, fmt.Errorf("%s %s: no operationId", op.Method, path)
	}
	tags := strList(n["tags"])
	if len(tags) != 1 {
		return nil, fmt.Errorf("%s: want exactly one tag, have %v", op.ID, tags)
	}
	op.Tag = tags[0]
	if len(op.Modes) == 0 {
		return nil, fmt.Errorf("%s: no x-wxpay-modes", op.ID)
	}
	for _, p := range append(list(item["parameters"]), list(n["parameters"])...) {
		p := s.resolveParam(m(p))
		op.Params = append(op.Params, &Param{
			Name:        str(p["name"]),
			In:          str(p["in"]),
			Description: str(p["description"]),
			Required:    p["required"] == true,
			Schema:      m(p["schema"]),
			Node:        p,
		})
	}
	if err := op.loadBody(m(n["requestBody"])); err != nil {
		return nil, err
	}
	return op, op.loadResponse(m(n["responses"]))
}

func (op *Op) loadBody(rb obj) error {
	if len(rb) == 0 {
		return nil
	}
	content := m(rb["content"])
	if len(content) != 1 {
		return fmt.Errorf("%s: want one request content type", op.ID)
	}
	for ct, c := range content {
		op.BodyContentType = ct
		name, ok := refName(str(m(m(c)["schema"])["$ref"]), "schemas")
		if !ok {
			return fmt.Errorf("%s: the request body must be a named schema ($ref)", op.ID)
		}
		op.Body = name
	}
	return nil
}

func (op *Op) loadResponse(responses obj) error {
	for code, r := range responses {
		if len(code) != 3 || code[0] != '2' {
			continue
		}
		if op.Status != 0 {
			return fmt.Errorf("%s: more than one success response", op.ID)
		}
		fmt.Sscanf(code, "%d", &op.Status)
		content := m(m(r)["content"])
		for _, ct := range sortedKeys(content) {
			op.RespTypes = append(op.RespTypes, ct)
			if strings.Contains(ct, "json") {
				name, ok := refName(str(m(m(content[ct])["schema"])["$ref"]), "schemas")
				if !ok {
					return fmt.Errorf("%s: the %s response must be a named schema ($ref)", op.ID, code)
				}
				op.Resp = name
			}
		}
	}
	if op.Status == 0 {
		return fmt.Errorf("%s: no success response", op.ID)
	}
	return nil
}

// refsOf lists the schema names a node refers to, directly.
func refsOf(v any, out map[string]bool) {
	switch x := v.(type) {
	case obj:
		if ref, ok := x["$ref"].(string); ok {
			if name, ok := refName(ref, "schemas"); ok {
				out[name] = true
			}
		}
		for _, k := range sortedKeys(x) {
			refsOf(x[k], out)
		}
	case []any:
		for _, e := range x {
			refsOf(e, out)
		}
	}
}

// opRoots lists the schemas an operation's Go code refers to: its request
// body, its parameters' schemas and its success response.
func (s *Spec) opRoots(op *Op) map[string]bool {
	roots := map[string]bool{}
	if op.Body != "" {
		roots[op.Body] = true
	}
	if op.Resp != "" {
		roots[op.Resp] = true
	}
	if op.TwinAnswer != "" {
		roots[op.TwinAnswer] = true
	}
	for _, p := range op.Params {
		refsOf(p.Schema, roots)
	}
	return roots
}

// closure returns every schema reachable from roots.
func (s *Spec) closure(roots map[string]bool) map[string]bool {
	out := map[string]bool{}
	var visit func(string)
	visit = func(name string) {
		if out[name] {
			return
		}
		out[name] = true
		direct := map[string]bool{}
		refsOf(s.Schemas[name], direct)
		for _, d := range sortedKeys(direct) {
			visit(d)
		}
	}
	for _, r := range sortedKeys(roots) {
		visit(r)
	}
	return out
}

// assignOwners gives every schema a package: the x-wxpay-tag it declares, or
// else the first tag, in the order of the spec's tags list, whose operations
// reach it. Packages only import packages listed before them, so the
// generated packages never form an import cycle.
func (s *Spec) assignOwners() error {
	reached := map[string]map[string]bool{}
	for _, op := range s.Ops {
		for name := range s.closure(s.opRoots(op)) {
			if reached[name] == nil {
				reached[name] = map[string]bool{}
			}
			reached[name][op.Tag] = true
		}
	}
	tagIndex := map[string]int{}
	for i, t := range s.Tags {
		tagIndex[t.Name] = i
	}
	for _, op := range s.Ops {
		if _, ok := tagIndex[op.Tag]; !ok {
			return fmt.Errorf("%s: tag %q is not in the spec's tags list", op.ID, op.Tag)
		}
	}
	for _, name := range sortedKeys(s.Schemas) {
		if t := str(s.Schemas[name]["x-wxpay-tag"]); t != "" {
			if _, ok := tagIndex[t]; !ok {
				return fmt.Errorf("schema %s: x-wxpay-tag %q is not a tag", name, t)
			}
			s.Owner[name] = t
			continue
		}
		best := ""
		for t := range reached[name] {
			if best == "" || tagIndex[t] < tagIndex[best] {
				best = t
			}
		}
		if best == "" {
			// Schemas that no operation uses (the error body, notification
			// envelopes) have no Go type unless they name a tag.
			continue
		}
		s.Owner[name] = best
	}
	return s.checkOwners(tagIndex)
}

// checkOwners checks that no package imports one listed after it, and that
// request bodies belong to their operation's package.
func (s *Spec) checkOwners(tagIndex map[string]int) error {
	// Everything a schema refers to must live in its own package or in one
	// listed before it.
	for _, name := range sortedKeys(s.Owner) {
		direct := map[string]bool{}
		refsOf(s.Schemas[name], direct)
		for d := range direct {
			if tagIndex[s.Owner[d]] > tagIndex[s.Owner[name]] {
				return fmt.Errorf("schema %s (package %s) refers to %s (package %s), which is listed later: that would be an import cycle; move one of them with x-wxpay-tag", name, s.Owner[name], d, s.Owner[d])
			}
		}
	}
	for _, op := range s.Ops {
		// A multipart body is never a Go type of the method (the file and,
		// for a typed meta, the meta schema are), so a shared MediaUpload
		// is fine.
		if op.Body != "" && s.Owner[op.Body] != op.Tag && op.BodyContentType != "multipart/form-data" {
			return fmt.Errorf("%s: its request body %s belongs to package %s; request bodies must belong to the operation's own tag", op.ID, op.Body, s.Owner[op.Body])
		}
	}
	return nil
}

func (s *Spec) opByID(id string) *Op {
	for _, op := range s.Ops {
		if op.ID == id {
			return op
		}
	}
	return nil
}

func (s *Spec) linkTwins() error {
	for _, op := range s.Ops {
		op.methodName = op.GoName
	}
	for _, p := range s.Ops {
		if p.Twin == "" {
			if p.TwinAnswer != "" {
				return fmt.Errorf("%s: x-wxpay-twin-answer without x-wxpay-twin", p.ID)
			}
			continue
		}
		d := s.opByID(p.Twin)
		if d == nil {
			return fmt.Errorf("%s: x-wxpay-twin %s does not exist", p.ID, p.Twin)
		}
		if p.ID != "Partner"+d.ID {
			return fmt.Errorf("%s: the partner twin of %s must be named Partner%s", p.ID, d.ID, d.ID)
		}
		if fmt.Sprint(d.Modes) != "[direct]" || fmt.Sprint(p.Modes) != "[partner]" {
			return fmt.Errorf("%s/%s: twins must be direct-only and partner-only", d.ID, p.ID)
		}
		if d.Tag != p.Tag {
			return fmt.Errorf("%s/%s: twins must share a tag", d.ID, p.ID)
		}
		if err := s.twinAnswers(d, p); err != nil {
			return err
		}
		if d.partner != nil {
			return fmt.Errorf("%s has two partner twins", d.ID)
		}
		d.partner, p.direct = p, d
		p.methodName = d.GoName
	}
	return nil
}

// twinAnswers checks that twins answer alike: with the same schema; or,
// when WeChat Pay's answers differ by mode, each with its own schema and
// the partner twin naming in x-wxpay-twin-answer a schema that has every
// field of both (the mode-independent method's answer); or the partner twin
// with no body (partnerAnswersNothing).
func (s *Spec) twinAnswers(d, p *Op) error {
	same := d.Resp == p.Resp && d.Status == p.Status && fmt.Sprint(d.RespTypes) == fmt.Sprint(p.RespTypes)
	switch {
	case p.TwinAnswer == "" && (same || d.partnerAnswersNothing(p)):
		return nil
	case p.TwinAnswer == "":
		return fmt.Errorf("%s/%s: twins must answer with the same schema, or name the union of their answers in x-wxpay-twin-answer (or the partner twin must answer with no body)", d.ID, p.ID)
	case same || d.Resp == "" || p.Resp == "" || d.Status != p.Status:
		return fmt.Errorf("%s: x-wxpay-twin-answer is only for twins that answer with different JSON schemas and the same status", p.ID)
	case isUpload(d) || isUpload(p):
		return fmt.Errorf("%s: x-wxpay-twin-answer is not supported on uploads", p.ID)
	case s.Schemas[p.TwinAnswer] == nil:
		return fmt.Errorf("%s: x-wxpay-twin-answer %s is not a schema", p.ID, p.TwinAnswer)
	}
	for _, r := range []string{d.Resp, p.Resp} {
		if err := s.covers(p.TwinAnswer, r); err != nil {
			return fmt.Errorf("%s: x-wxpay-twin-answer %s does not cover %s: %w", p.ID, p.TwinAnswer, r, err)
		}
	}
	d.answer, p.answer = p.TwinAnswer, p.TwinAnswer
	return nil
}

// covers checks that every field of schema x, at any depth, is in schema u
// with the same JSON type, so that u can hold whatever x can.
func (s *Spec) covers(u, x string) error {
	if u == x {
		return nil
	}
	return s.coversNode(s.Schemas[u], s.Schemas[x], "", 0)
}

func (s *Spec) coversNode(u, x obj, path string, depth int) error {
	if depth > 20 {
		return fmt.Errorf("%s: too deep", path)
	}
	un, ur := s.deref(u)
	xn, xr := s.deref(x)
	if ur != "" && ur == xr {
		return nil
	}
	if ut, xt := strings.TrimSpace(str(un["type"])+" "+str(un["format"])), strings.TrimSpace(str(xn["type"])+" "+str(xn["format"])); ut != xt {
		return fmt.Errorf("%s: type %s in the union, %s here", path, ut, xt)
	}
	if ue, xe := list(un["enum"]), list(xn["enum"]); len(ue) > 0 {
		if len(xe) == 0 {
			return fmt.Errorf("%s: an enum in the union, any value here", path)
		}
		have := map[string]bool{}
		for _, v := range ue {
			have[fmt.Sprint(v)] = true
		}
		for _, v := range xe {
			if !have[fmt.Sprint(v)] {
				return fmt.Errorf("%s: the union's enum lacks %v", path, v)
			}
		}
	}
	if items, ok := xn["items"].(obj); ok {
		return s.coversNode(m(un["items"]), items, path+"[]", depth+1)
	}
	up, xp := m(un["properties"]), m(xn["properties"])
	for _, k := range sortedKeys(xp) {
		fp := k
		if path != "" {
			fp = path + "." + k
		}
		if up[k] == nil {
			return fmt.Errorf("%s: missing in the union", fp)
		}
		if err := s.coversNode(m(up[k]), m(xp[k]), fp, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// deref follows a $ref to its schema and returns the schema and the name
// referred to ("" for an inline schema).
func (s *Spec) deref(n obj) (obj, string) {
	if name, ok := refName(str(n["$ref"]), "schemas"); ok {
		return s.Schemas[name], name
	}
	return n, ""
}

// partnerAnswersNothing reports that d answers with a JSON schema and its
// partner twin p with no body at all (payscore: direct mode answers 200 with
// the order, partner mode 204). The mode-independent method then returns
// d's answer in direct mode and nil in partner mode.
func (d *Op) partnerAnswersNothing(p *Op) bool {
	return d.Resp != "" && p.Resp == "" && len(p.RespTypes) == 0
}

// sensitivePaths lists the JSON paths, from the body root, of the string
// fields marked x-wxpay-sensitive; "*" stands for every array element.
func (s *Spec) sensitivePaths(name string, prefix []string, depth int) [][]string {
	if depth > 20 {
		return nil
	}
	return s.sensitiveIn(s.Schemas[name], prefix, depth)
}

func (s *Spec) sensitiveIn(sc obj, prefix []string, depth int) [][]string {
	var out [][]string
	if ref := str(sc["$ref"]); ref != "" {
		name, _ := refName(ref, "schemas")
		return s.sensitivePaths(name, prefix, depth+1)
	}
	if sc["x-wxpay-sensitive"] == true {
		return [][]string{append([]string(nil), prefix...)}
	}
	for _, a := range list(sc["allOf"]) {
		out = append(out, s.sensitiveIn(m(a), prefix, depth+1)...)
	}
	props := m(sc["properties"])
	for _, k := range sortedKeys(props) {
		out = append(out, s.sensitiveIn(m(props[k]), append(append([]string(nil), prefix...), k), depth+1)...)
	}
	if items, ok := sc["items"].(obj); ok {
		out = append(out, s.sensitiveIn(items, append(append([]string(nil), prefix...), "*"), depth+1)...)
	}
	return out
}

// tagOps returns the operations of one tag in spec order.
func (s *Spec) tagOps(tag string) []*Op {
	var out []*Op
	for _, op := range s.Ops {
		if op.Tag == tag {
			out = append(out, op)
		}
	}
	return out
}
