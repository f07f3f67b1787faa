package wxpay

import (
	"bufio"

	"errors"
	"fmt"
	"io"
	"strings"
)

// Bill is a trade or fund-flow bill as WeChat Pay writes it: a header line,
// one line per record, then a totals header and a totals line. Every value
// is prefixed with a backtick in the file; Bill holds them without it.
// Columns differ between bill types (a refund bill has refund columns, a
// fund-flow bill is entirely different), so read values by column name.
type Bill struct {
	// Columns are the names of the record columns, e.g. 交易时间, 商户订单号.
	Columns []string
	// Records are the record lines, one value per column.
	Records [][]string
	// TotalColumns and Totals are the summary section (总交易单数, …).
	TotalColumns []string
	Totals       []string
}

// Column returns the index of the named record column, or -1.
func (b *Bill) Column(name string) int {
	if b == nil {
		return -1
	}
	return indexOf(b.Columns, name)
}

// Value returns the value of column name in record i, or "" when the column
// does not exist. It accepts ASCII and full-width parentheses alike: fund-flow
// bills have been seen with both 收支金额(元) and 收支金额（元）.
func (b *Bill) Value(i int, name string) string {
	if b == nil {
		return ""
	}
	c := b.Column(name)
	if c < 0 {
		c = b.Column(swapParens(name))
	}
	if c < 0 || i < 0 || i >= len(b.Records) || c >= len(b.Records[i]) {
		return ""
	}
	return b.Records[i][c]
}

// Total returns the named value of the totals line, or "".
func (b *Bill) Total(name string) string {
	if b == nil {
		return ""
	}
	c := indexOf(b.TotalColumns, name)
	if c < 0 {
		c = indexOf(b.TotalColumns, swapParens(name))
	}
	if c < 0 || c >= len(b.Totals) {
		return ""
	}
	return b.Totals[c]
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

func swapParens(s string) string {
	if strings.ContainsAny(s, "()") {
		return strings.NewReplacer("(", "（", ")", "）").Replace(s)
	}
	return strings.NewReplacer("（", "(", "）", ")").Replace(s)
}

// ErrBillFormat is wrapped by ParseBill's errors.
var ErrBillFormat = errors.New("wxpay: malformed bill")

// ParseBill reads an uncompressed bill (see Client.DownloadBill). It accepts
// the UTF-8 byte-order mark and CRLF or LF line ends, and checks that every
// record has as many values as there are columns. Values keep their text:
// amounts are in yuan with two decimals (fees with five), rates like 0.60%.
func ParseBill(r io.Reader) (*Bill, error) {
	if r == nil {
		return nil, fmt.Errorf("%w: the reader is nil", ErrBillFormat)
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var lines []string
	first := true
	for sc.Scan() {
		l := strings.TrimRight(sc.Text(), "\r")
		if first {
			l = strings.TrimPrefix(l, "\ufeff")
			first = false
		}
		if strings.TrimSpace(l) == "" {
			continue
		}
		lines = append(lines, l)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBillFormat, err)
	}
	if len(lines) < 3 {
		return nil, fmt.Errorf("%w: %d lines; a bill has at least a header, a totals header and a totals line", ErrBillFormat, len(lines))
	}
	b := &Bill{Columns: splitHeader(lines[0])}
	if len(b.Columns) < 2 {
		return nil, fmt.Errorf("%w: the header has %d columns", ErrBillFormat, len(b.Columns))
	}
	// The totals header is the last line without a backtick before the
	// totals line.
	totalsAt := len(lines) - 2
	if strings.HasPrefix(lines[totalsAt], "`") {
		return nil, fmt.Errorf("%w: no totals section", ErrBillFormat)
	}
	for i, l := range lines[1:totalsAt] {
		vals, err := splitValues(l)
		if err != nil {
			return nil, fmt.Errorf("%w: line %d: %v", ErrBillFormat, i+2, err)
		}
		if len(vals) != len(b.Columns) {
			return nil, fmt.Errorf("%w: line %d has %d values for %d columns", ErrBillFormat, i+2, len(vals), len(b.Columns))
		}
		b.Records = append(b.Records, vals)
	}
	b.TotalColumns = splitHeader(lines[totalsAt])
	totals, err := splitValues(lines[totalsAt+1])
	if err != nil {
		return nil, fmt.Errorf("%w: totals line: %v", ErrBillFormat, err)
	}
	if len(totals) != len(b.TotalColumns) {
		return nil, fmt.Errorf("%w: the totals line has %d values for %d columns", ErrBillFormat, len(totals), len(b.TotalColumns))
	}
	b.Totals = totals
	return b, nil
}

func splitHeader(l string) []string {
	parts := strings.Split(l, ",")
	for i, p := range parts {
		parts[i] = strings.TrimSpace(p)
	}
	return parts
}

// splitValues splits a record line: every value starts with a backtick; a
// value may itself contain commas (product names do), so a comma only ends a
// value when a backtick follows it.
func splitValues(l string) ([]string, error) {
	if !strings.HasPrefix(l, "`") {
		return nil, errors.New("a record line must start with a backtick")
	}
	var out []string
	rest := l[1:]
	for {
		i := strings.Index(rest, ",`")
		if i < 0 {
			out = append(out, rest)
			return out, nil
		}
		out = append(out, rest[:i])
		rest = rest[i+2:]
	}
}
