package core

import (
	"net/url"
	"strconv"
	"strings"
)

// URI builds the request URI of an operation: path segments escaped with
// url.PathEscape, query values with url.QueryEscape, in the order they are
// added. The generated methods use it; a missing required value is recorded
// and reported by Finish.
type URI struct {
	b       strings.Builder
	prefix  string
	extra   int
	started bool
	query   bool
	missing []string
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

// Seg appends a path parameter; an empty value is an error.
func (u *URI) Seg(name, value string) {
	u.start()
	if value == "" {
		u.missing = append(u.missing, name)
		return
	}
	u.b.WriteString(url.PathEscape(value))
}

// Query adds name=value. An empty value is skipped, or recorded as missing
// when required.
func (u *URI) Query(name, value string, required bool) {
	u.start()
	if value == "" {
		if required {
			u.missing = append(u.missing, name)
		}
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

// QueryInt adds an integer parameter; zero counts as absent unless required.
func (u *URI) QueryInt(name string, v int64, required bool) {
	if v == 0 && !required {
		return
	}
	u.Query(name, strconv.FormatInt(v, 10), required)
}

// QueryBool adds a boolean parameter; false counts as absent unless required.
func (u *URI) QueryBool(name string, v bool, required bool) {
	if !v && !required {
		return
	}
	u.Query(name, strconv.FormatBool(v), required)
}

// Finish returns the URI, or an error naming every missing required value.
func (u *URI) Finish(op *Operation) (string, error) {
	u.start()
	if len(u.missing) > 0 {
		return "", &UsageError{Op: op.ID, Msg: "missing required parameter " + strings.Join(u.missing, ", ")}
	}
	return u.b.String(), nil
}
