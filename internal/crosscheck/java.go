package crosscheck

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// WechatpayJava extracts the operations of the official Java SDK checked
// out at root (github.com/wechatpay-apiv3/wechatpay-java): every public
// method of a service/**/XxxService.java, its HTTP method and path, its
// query parameters, its request body (the fields Gson serialises) and its
// response, typed by the classes and enums under model/. The Java models
// do not say which fields are required.
func WechatpayJava(root string) ([]*Op, error) {
	src := filepath.Join(root, "service", "src", "main", "java")
	j := &javaTypes{src: src, classes: map[string]*javaClass{}}
	var files []string
	err := filepath.WalkDir(filepath.Join(src, "com", "wechat", "pay", "java", "service"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, "Service.java") {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var ops []*Op
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		text := string(b)
		pkg := javaPackage(text)
		locs := javaMethodRE.FindAllStringSubmatchIndex(text, -1)
		for i, loc := range locs {
			end := len(text)
			if i+1 < len(locs) {
				end = locs[i+1][0]
			}
			body := text[loc[1]:end]
			retType, name, reqType := text[loc[2]:loc[3]], text[loc[4]:loc[5]], text[loc[6]:loc[7]]
			op := j.op(pkg, file, text, retType, name, reqType, body)
			if op != nil {
				ops = append(ops, op)
			}
		}
	}
	return ops, nil
}

var (
	javaMethodRE    = regexp.MustCompile(`(?m)^  public (\w+(?:<[^>]*>)?) (\w+)\((\w+) request\) \{`)
	javaPathRE      = regexp.MustCompile(`String requestPath\s*=\s*"([^"]+)"`)
	javaHTTPRE      = regexp.MustCompile(`\.httpMethod\(HttpMethod\.(\w+)\)`)
	javaQueryRE     = regexp.MustCompile(`queryParameter\.add\(\s*"([^"]+)"`)
	javaRealRE      = regexp.MustCompile(`(\w+) realRequest = request`)
	javaExecRE      = regexp.MustCompile(`httpClient\.execute\(\s*\w+,\s*(\w+)(\.class)?\)`)
	javaPackageRE   = regexp.MustCompile(`(?m)^package ([\w.]+);`)
	javaImportRE    = regexp.MustCompile(`(?m)^import ([\w.]+)\.(\w+);`)
	javaFieldRE     = regexp.MustCompile(`@SerializedName\("([^"]+)"\)\s*((?:@\w+(?:\([^)]*\))?\s*)*)private ([\w.<>, ]+?) \w+(?: = [^;]*)?;`)
	javaNestedRE    = regexp.MustCompile(`(?m)^  public enum (\w+) \{([^}]*)\}`)
	javaEnumRE      = regexp.MustCompile(`(?m)^public enum \w+`)
	javaEnumValueRE = regexp.MustCompile(`@SerializedName\("([^"]+)"\)\s*\w+\s*[,;]?`)
)

func javaPackage(text string) string {
	if m := javaPackageRE.FindStringSubmatch(text); m != nil {
		return m[1]
	}
	return ""
}

func (j *javaTypes) op(pkg, file, text, retType, name, reqType, body string) *Op {
	pm := javaPathRE.FindStringSubmatch(body)
	hm := javaHTTPRE.FindStringSubmatch(body)
	if pm == nil || hm == nil {
		return nil
	}
	path := strings.TrimPrefix(pm[1], "https://api.mch.weixin.qq.com")
	path, _, _ = strings.Cut(path, "?")
	rel, _ := filepath.Rel(j.src, filepath.Dir(file))
	op := &Op{Source: "wechatpay-java", Name: filepath.Base(rel) + "." + strings.TrimSuffix(filepath.Base(file), ".java") + "." + name, Method: hm[1], Path: path}
	imports := javaImports(text)
	reqClass := j.class(pkg+".model", imports, reqType)
	for _, q := range javaQueryRE.FindAllStringSubmatch(body, -1) {
		fl := Field{Path: q[1], Type: "string"}
		if reqClass != nil {
			for _, f := range reqClass.fields {
				if f.name == q[1] {
					s := j.shape(reqClass, f.typ, 0)
					fl.Type, fl.Enum = s.Type, sortedCopy(s.Enum)
				}
			}
		}
		op.Query = append(op.Query, fl)
	}
	if strings.Contains(body, ".body(createRequestBody(") {
		real := reqType
		if m := javaRealRE.FindStringSubmatch(body); m != nil {
			real = m[1]
		}
		if c := j.class(pkg+".model", imports, real); c != nil {
			op.Request = Flatten(j.classShape(c, true, 0))
		}
	}
	if m := javaExecRE.FindStringSubmatch(body); m != nil {
		if m[1] == "null" {
			op.ResponseBody = "none"
		} else if c := j.class(pkg+".model", imports, m[1]); c != nil {
			op.ResponseBody = "json"
			op.Response = Flatten(j.classShape(c, false, 0))
		}
	} else if retType == "void" {
		op.ResponseBody = "none"
	}
	return op
}

func javaImports(text string) map[string]string {
	out := map[string]string{}
	for _, m := range javaImportRE.FindAllStringSubmatch(text, -1) {
		out[m[2]] = m[1]
	}
	return out
}

type javaTypes struct {
	src     string
	classes map[string]*javaClass // by qualified name
}

type javaClass struct {
	pkg     string
	imports map[string]string
	enum    []string
	isEnum  bool
	fields  []javaField
	nested  map[string]*javaClass // enums declared inside the class
}

type javaField struct {
	name, typ    string
	unserialised bool
}

// class finds the class simpleName as seen from package pkg with the given
// imports.
func (j *javaTypes) class(pkg string, imports map[string]string, simpleName string) *javaClass {
	cands := []string{}
	if p, ok := imports[simpleName]; ok {
		cands = append(cands, p)
	}
	cands = append(cands, pkg, strings.TrimSuffix(pkg, ".model")+".model")
	for _, c := range cands {
		if cl := j.load(c + "." + simpleName); cl != nil {
			return cl
		}
	}
	return nil
}

func (j *javaTypes) load(qualified string) *javaClass {
	if c, ok := j.classes[qualified]; ok {
		return c
	}
	j.classes[qualified] = nil
	file := filepath.Join(j.src, filepath.FromSlash(strings.ReplaceAll(qualified, ".", "/"))+".java")
	b, err := os.ReadFile(file)
	if err != nil {
		return nil
	}
	text := string(b)
	c := &javaClass{pkg: javaPackage(text), imports: javaImports(text), nested: map[string]*javaClass{}}
	for _, m := range javaNestedRE.FindAllStringSubmatch(text, -1) {
		e := &javaClass{isEnum: true}
		for _, v := range javaEnumValueRE.FindAllStringSubmatch(m[2], -1) {
			e.enum = append(e.enum, v[1])
		}
		c.nested[m[1]] = e
	}
	text = javaNestedRE.ReplaceAllString(text, "")
	if javaEnumRE.MatchString(text) {
		c.isEnum = true
		for _, m := range javaEnumValueRE.FindAllStringSubmatch(text, -1) {
			c.enum = append(c.enum, m[1])
		}
	} else {
		for _, m := range javaFieldRE.FindAllStringSubmatch(text, -1) {
			c.fields = append(c.fields, javaField{name: m[1], typ: strings.TrimSpace(m[3]), unserialised: strings.Contains(m[2], "serialize = false")})
		}
	}
	j.classes[qualified] = c
	return c
}

func (j *javaTypes) classShape(c *javaClass, serialisedOnly bool, depth int) *Shape {
	if c.isEnum {
		return &Shape{Type: "string", Enum: c.enum}
	}
	s := &Shape{Type: "object"}
	for _, f := range c.fields {
		if serialisedOnly && f.unserialised {
			continue
		}
		s.Fields = append(s.Fields, ShapeField{Name: f.name, Shape: j.shape(c, f.typ, depth+1)})
	}
	return s
}

func (j *javaTypes) shape(from *javaClass, typ string, depth int) *Shape {
	if depth > maxDepth*2 {
		return &Shape{Type: "object", Open: true}
	}
	typ = strings.TrimSpace(typ)
	if inner, ok := strings.CutPrefix(typ, "List<"); ok {
		return &Shape{Type: "array", Items: j.shape(from, strings.TrimSuffix(inner, ">"), depth+1)}
	}
	if strings.HasPrefix(typ, "Map<") {
		return &Shape{Type: "object", Open: true}
	}
	switch typ {
	case "String":
		return &Shape{Type: "string"}
	case "Integer", "Long", "int", "long", "Short":
		return &Shape{Type: "integer"}
	case "Double", "Float", "BigDecimal", "double", "float":
		return &Shape{Type: "number"}
	case "Boolean", "boolean":
		return &Shape{Type: "boolean"}
	case "Object", "JsonObject", "JsonElement":
		return &Shape{Type: "any"}
	}
	if e := from.nested[typ]; e != nil {
		return j.classShape(e, false, depth)
	}
	c := j.class(from.pkg, from.imports, typ)
	if c == nil {
		return &Shape{Type: "object", Open: true}
	}
	return j.classShape(c, false, depth)
}
