// Package wire is the plumbing that only generated code needs: building a
// request URI and joining the paths of missing fields. It is not part of
// wxpay's API.
package wire

import (
	"net/url"
	"strconv"
	"strings"
)

// URI builds the request URI of an operation: path segments escaped with
// url.PathEscape, query values with url.QueryEscape, in the order they are
// added. The generated methods check required values before they build it.
type URI struct {
	b       strings.Builder
	prefix  string
	extra   int
	started bool
	query   bool
}

// NewURI starts a URI with the literal path prefix; extra is a guess of the
// bytes still to come.
func NewURI(prefix string, extra int) URI {
	return URI{prefix: prefix, extra: extra}
}

func (u *URI) start() {
	if !u.started {
		u.started = true
		u.b.Grow(len(u.prefix) + u.extra)
		u.b.WriteString(u.prefix)
	}
}

// Lit appends a literal part of the path.
func (u *URI) Lit(s string) {
	u.start()
	u.b.WriteString(s)
}

// Seg appends a path parameter, escaped.
func (u *URI) Seg(value string) {
	u.start()
	u.b.WriteString(url.PathEscape(value))
}

// Query adds name=value; an empty value is left out.
func (u *URI) Query(name, value string) {
	u.start()
	if value == "" {
		return
	}
	if u.query {
		u.b.WriteByte('&')
	} else {
		u.b.WriteByte('?')
		u.query = true
	}
	u.b.WriteString(url.QueryEscape(name))
	u.b.WriteByte('=')
	u.b.WriteString(url.QueryEscape(value))
}

// QueryInt adds an integer parameter, zero included.
func (u *URI) QueryInt(name string, v int64) {
	u.Query(name, strconv.FormatInt(v, 10))
}

// QueryBool adds a boolean parameter, false included.
func (u *URI) QueryBool(name string, v bool) {
	u.Query(name, strconv.FormatBool(v))
}

// String returns the URI.
func (u *URI) String() string {
	u.start()
	return u.b.String()
}

// Prefix appends the paths of nested missing fields to miss, each under
// prefix ("amount." or "goods_detail[2]."). The generated checks call it
// only when something is missing, so a valid request allocates nothing.
func Prefix(miss []string, prefix string, nested []string) []string {
	for _, n := range nested {
		miss = append(miss, prefix+n)
	}
	return miss
}

// Index is the path prefix of element i of the array field name:
// "goods_detail[2].".
func Index(name string, i int) string {
	return name + "[" + strconv.Itoa(i) + "]."
}
