package callback

import (
	"log/slog"
	"strconv"
	"unicode/utf8"
)

// MaxLogValue bounds the bytes of one string attribute of a log line: a
// forged notification with huge headers must not make huge log lines.
// Longer values are cut (at a character boundary) and marked.
const MaxLogValue = 1024

// maxLogStack bounds a panic's stack trace in the log.
const maxLogStack = 8 << 10

// boundAttrs cuts long string attributes (and strings in groups); attrs is
// modified in place and returned.
func boundAttrs(attrs []slog.Attr) []slog.Attr {
	for i, a := range attrs {
		attrs[i] = boundAttr(a)
	}
	return attrs
}

func boundAttr(a slog.Attr) slog.Attr {
	limit := MaxLogValue
	if a.Key == "stack" {
		limit = maxLogStack
	}
	switch a.Value.Kind() {
	case slog.KindString:
		if s := a.Value.String(); len(s) > limit {
			a.Value = slog.StringValue(cut(s, limit))
		}
	case slog.KindGroup:
		g := a.Value.Group()
		cp := make([]slog.Attr, len(g))
		copy(cp, g)
		a.Value = slog.GroupValue(boundAttrs(cp)...)
	case slog.KindLogValuer:
		a.Value = a.Value.Resolve()
		if a.Value.Kind() != slog.KindLogValuer {
			return boundAttr(a)
		}
	}
	return a
}

// cut returns s cut to at most limit bytes, at a character boundary, with
// a mark of how much was left out.
func cut(s string, limit int) string {
	n := limit
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…[cut, " + strconv.Itoa(len(s)) + " bytes]"
}
