package core

import (
	"errors"
	"time"
)

// timeLayout is how WeChat Pay writes times: RFC 3339 with seconds precision
// and a numeric offset, e.g. 2024-06-08T10:34:56+08:00.
const timeLayout = "2006-01-02T15:04:05-07:00"

// Time is a point in time in WeChat Pay's JSON format. It embeds time.Time,
// so every time.Time method works on it; only its encoding differs: whole
// seconds and a numeric offset (2024-06-08T10:34:56+08:00), never fractional
// seconds or "Z", which the API's RFC 3339 check is known to be strict about.
// Decoding accepts any RFC 3339 time. The zero Time is omitted from requests.
type Time struct {
	time.Time
}

// TimeOf returns t as a Time.
func TimeOf(t time.Time) Time { return Time{Time: t} }

// MarshalJSON encodes t as a quoted 2006-01-02T15:04:05-07:00 string.
func (t Time) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, len(timeLayout)+2)
	b = append(b, '"')
	b = t.Time.AppendFormat(b, timeLayout)
	return append(b, '"'), nil
}

// UnmarshalJSON decodes an RFC 3339 string; null and "" give the zero Time.
func (t *Time) UnmarshalJSON(b []byte) error {
	if string(b) == "null" || string(b) == `""` {
		*t = Time{}
		return nil
	}
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return errors.New("core.Time: not a JSON string")
	}
	return t.UnmarshalText(b[1 : len(b)-1])
}

// MarshalText encodes t like MarshalJSON, without quotes.
func (t Time) MarshalText() ([]byte, error) {
	return t.Time.AppendFormat(nil, timeLayout), nil
}

// UnmarshalText decodes an RFC 3339 time.
func (t *Time) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*t = Time{}
		return nil
	}
	if v, ok := parseWeChatTime(b); ok {
		t.Time = v
		return nil
	}
	v, err := time.Parse(time.RFC3339, string(b))
	if err != nil {
		return err
	}
	t.Time = v
	return nil
}

// chinaTime is the +08:00 zone every WeChat Pay time is written in; it is
// created once, so that decoding an answer does not allocate a zone per
// time field.
var chinaTime = time.FixedZone("", 8*3600)

// parseWeChatTime parses the common form 2006-01-02T15:04:05+08:00 (or Z, or
// +00:00) without allocating; ok is false for anything else, which
// time.Parse then handles.
func parseWeChatTime(b []byte) (time.Time, bool) {
	if len(b) != 25 && len(b) != 20 {
		return time.Time{}, false
	}
	num := func(i, n int) (int, bool) {
		v := 0
		for _, c := range b[i : i+n] {
			if c < '0' || c > '9' {
				return 0, false
			}
			v = v*10 + int(c-'0')
		}
		return v, true
	}
	if b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' {
		return time.Time{}, false
	}
	year, ok1 := num(0, 4)
	month, ok2 := num(5, 2)
	day, ok3 := num(8, 2)
	hour, ok4 := num(11, 2)
	minute, ok5 := num(14, 2)
	sec, ok6 := num(17, 2)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	var loc *time.Location
	switch string(b[19:]) {
	case "+08:00":
		loc = chinaTime
	case "Z", "+00:00":
		loc = time.UTC
	default:
		return time.Time{}, false
	}
	v := time.Date(year, time.Month(month), day, hour, minute, sec, 0, loc)
	if v.Day() != day {
		return time.Time{}, false // February 30th and the like: let time.Parse reject it
	}
	return v, true
}

// String returns the WeChat Pay form of t.
func (t Time) String() string { return t.Time.Format(timeLayout) }

// Param returns t as a query parameter value, or "" for the zero Time.
func (t Time) Param() string {
	if t.IsZero() {
		return ""
	}
	return t.String()
}

const dateLayout = "2006-01-02"

// Date is a calendar day, written 2006-01-02 (bill dates, for example). It
// embeds time.Time; only the year, month and day in its location count.
type Date struct {
	time.Time
}

// DateOf returns the day of t, in t's location.
func DateOf(t time.Time) Date { return Date{Time: t} }

// NewDate returns the given day.
func NewDate(year int, month time.Month, day int) Date {
	return Date{Time: time.Date(year, month, day, 0, 0, 0, 0, time.UTC)}
}

// MarshalJSON encodes d as a quoted 2006-01-02 string.
func (d Date) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, len(dateLayout)+2)
	b = append(b, '"')
	b = d.Time.AppendFormat(b, dateLayout)
	return append(b, '"'), nil
}

// UnmarshalJSON decodes a 2006-01-02 string; null and "" give the zero Date.
func (d *Date) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" || s == `""` {
		*d = Date{}
		return nil
	}
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return errors.New("core.Date: not a JSON string")
	}
	return d.UnmarshalText(b[1 : len(b)-1])
}

// MarshalText encodes d as 2006-01-02.
func (d Date) MarshalText() ([]byte, error) { return d.Time.AppendFormat(nil, dateLayout), nil }

// UnmarshalText decodes 2006-01-02.
func (d *Date) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = Date{}
		return nil
	}
	v, err := time.Parse(dateLayout, string(b))
	if err != nil {
		return err
	}
	d.Time = v
	return nil
}

// String returns d as 2006-01-02.
func (d Date) String() string { return d.Time.Format(dateLayout) }

// Param returns d as a query parameter value, or "" for the zero Date.
func (d Date) Param() string {
	if d.IsZero() {
		return ""
	}
	return d.String()
}
