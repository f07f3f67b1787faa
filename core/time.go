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
	s := string(b)
	if s == "null" || s == `""` {
		*t = Time{}
		return nil
	}
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
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
	v, err := time.Parse(time.RFC3339, string(b))
	if err != nil {
		return err
	}
	t.Time = v
	return nil
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
