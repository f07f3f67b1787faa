package core

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestTime(t *testing.T) {
	t.Parallel()
	cst := time.FixedZone("CST", 8*3600)
	for _, tc := range []struct {
		in   time.Time
		want string
	}{
		{time.Date(2026, 11, 24, 10, 34, 56, 999, cst), `"2026-11-24T10:34:56+08:00"`},
		{time.Date(2026, 11, 24, 2, 34, 56, 0, time.UTC), `"2026-11-24T02:34:56+00:00"`},
	} {
		b, err := json.Marshal(TimeOf(tc.in))
		if err != nil || string(b) != tc.want {
			t.Errorf("marshal %v: %s %v", tc.in, b, err)
		}
	}
	var v struct {
		A Time `json:"a"`
		B Time `json:"b,omitempty,omitzero"`
		C Time `json:"c"`
	}
	if err := json.Unmarshal([]byte(`{"a":"2026-11-24T10:34:56.123+08:00","c":null}`), &v); err != nil {
		t.Fatal(err)
	}
	if v.A.Unix() != time.Date(2026, 11, 24, 2, 34, 56, 0, time.UTC).Unix() || !v.C.IsZero() {
		t.Errorf("%v %v", v.A, v.C)
	}
	b, _ := json.Marshal(v)
	if strings.Contains(string(b), `"b"`) {
		t.Errorf("zero optional time sent: %s", b)
	}
	if err := json.Unmarshal([]byte(`{"a":"yesterday"}`), &v); err == nil {
		t.Error("accepted a bad time")
	}
	if TimeOf(time.Time{}).Param() != "" {
		t.Error("zero time as a parameter")
	}
}

func TestDate(t *testing.T) {
	t.Parallel()
	d := NewDate(2026, 11, 3)
	b, _ := json.Marshal(d)
	if string(b) != `"2026-11-03"` || d.Param() != "2026-11-03" {
		t.Errorf("%s", b)
	}
	var back Date
	if err := json.Unmarshal(b, &back); err != nil || back.String() != "2026-11-03" {
		t.Errorf("%v %v", back, err)
	}
	if err := json.Unmarshal([]byte(`"2026/11/03"`), &back); err == nil {
		t.Error("accepted a bad date")
	}
}

func apiErr(status int, code string) *APIError {
	return &APIError{StatusCode: status, Code: code}
}

func TestRetryable(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		e    *APIError
		want bool
	}{
		{apiErr(500, "SYSTEM_ERROR"), true},
		{apiErr(500, "SYSTEMERROR"), true},
		{apiErr(500, "BANK_ERROR"), true},
		{apiErr(502, ""), true},
		{apiErr(503, ""), true},
		{apiErr(429, "FREQUENCY_LIMITED"), true},
		{apiErr(500, "OPENID_MISMATCH"), false},
		{apiErr(500, "INVALID_TRANSACTIONID"), false},
		{apiErr(400, "PARAM_ERROR"), false},
		{apiErr(403, "NOT_ENOUGH"), false},
		{apiErr(404, "ORDER_NOT_EXIST"), false},
		{apiErr(401, "SIGN_ERROR"), false},
	} {
		if got := tc.e.Retryable(); got != tc.want {
			t.Errorf("%d %s: retryable %v", tc.e.StatusCode, tc.e.Code, got)
		}
	}
	err := fmt.Errorf("wrapped: %w", apiErr(404, "ORDERNOTEXIST"))
	if !IsCode(err, "ORDER_NOT_EXIST") || IsCode(err, "ORDER_CLOSED") || IsCode(errors.New("x"), "X") {
		t.Error("IsCode")
	}
}

func TestHints(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	resp := func(status int, date string) *http.Response {
		h := http.Header{}
		if date != "" {
			h.Set("Date", date)
		}
		h.Set("Request-ID", "RID")
		return &http.Response{StatusCode: status, Header: h}
	}
	e := newAPIError(&Operation{ID: "X"}, resp(401, now.Add(-7*time.Minute).Format(http.TimeFormat)), []byte(`{"code":"SIGN_ERROR","message":"签名错误"}`), now)
	if !strings.Contains(e.Hint, "7m0s off") || e.RequestID != "RID" {
		t.Errorf("skewed clock: %q", e.Hint)
	}
	e = newAPIError(&Operation{ID: "X"}, resp(401, now.Format(http.TimeFormat)), []byte(`{"code":"SIGN_ERROR","message":"签名错误"}`), now)
	if strings.Contains(e.Hint, "clock") || !strings.Contains(e.Hint, "serial") {
		t.Errorf("good clock: %q", e.Hint)
	}
	e = newAPIError(&Operation{ID: "ListCertificates"}, resp(404, ""), []byte(`{"code":"RESOURCE_NOT_EXISTS","message":"无可用的平台证书"}`), now)
	if !strings.Contains(e.Hint, "public key") {
		t.Errorf("no certificate: %q", e.Hint)
	}
	e = newAPIError(&Operation{ID: "X"}, resp(404, ""), nil, now)
	if e.Code != "" || e.StatusCode != 404 || !strings.Contains(e.Error(), "404") {
		t.Errorf("empty 404: %v", e)
	}
	e = newAPIError(&Operation{ID: "X"}, resp(502, ""), []byte("<html>bad gateway</html>"), now)
	if e.Code != "" || !e.Retryable() || string(e.Body) != "<html>bad gateway</html>" {
		t.Errorf("HTML 502: %+v", e)
	}
}

type fakeEnc struct{ calls int }

func (f *fakeEnc) Encryptor(context.Context) (string, func(string) (string, error), error) {
	f.calls++
	return "PUB_KEY_ID_1", func(s string) (string, error) { return "enc(" + s + ")", nil }, nil
}

func TestEncryptFields(t *testing.T) {
	t.Parallel()
	enc := &fakeEnc{}
	c := &Conn{enc: enc}
	op := &Operation{ID: "Op", Sensitive: [][]string{{"payer", "identity", "name"}, {"receivers", "*", "name"}, {"list", "*"}}}
	in := []byte(`{"payer":{"identity":{"name":"张三","type":"IDCARD"}},"receivers":[{"name":"李四"},{"name":""},{"account":"a"}],"list":["x",1],"amount":{"total":100}}`)
	out, serial, err := c.encryptFields(context.Background(), op, in)
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	json.Unmarshal(out, &v)
	want := `map[amount:map[total:100] list:[enc(x) 1] payer:map[identity:map[name:enc(张三) type:IDCARD]] receivers:[map[name:enc(李四)] map[name:] map[account:a]]]`
	if fmt.Sprint(v) != want || serial != "PUB_KEY_ID_1" {
		t.Errorf("got %v %s", v, serial)
	}
	// Without any sensitive value: untouched, no key needed.
	enc.calls = 0
	plain := []byte(`{"payer":{"openid":"o"},"amount":{"total":1}}`)
	out, serial, err = c.encryptFields(context.Background(), op, plain)
	if err != nil || string(out) != string(plain) || serial != "" || enc.calls != 0 {
		t.Errorf("plain body changed or key fetched: %s %q %v %d", out, serial, err, enc.calls)
	}
	// A sensitive value without an encrypter is an error, never sent in the clear.
	c.enc = nil
	if _, _, err := c.encryptFields(context.Background(), op, in); err == nil {
		t.Error("sensitive value sent without encryption")
	}
}

func TestAcceptedError(t *testing.T) {
	t.Parallel()
	resp := &http.Response{StatusCode: 202, Header: http.Header{}}
	if e := acceptedError(&Operation{ID: "CodePay"}, resp, []byte(`{"code":"USERPAYING","message":"需要用户输入支付密码"}`), time.Now()); e == nil || e.Code != "USERPAYING" {
		t.Errorf("%v", e)
	}
	if e := acceptedError(&Operation{}, resp, []byte(`{"trade_state":"USERPAYING"}`), time.Now()); e != nil {
		t.Errorf("a 202 with a resource body is not an error: %v", e)
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	c := &Conn{retryBase: 100 * time.Millisecond, retryMax: time.Second}
	for attempt := 1; attempt <= 8; attempt++ {
		for i := 0; i < 50; i++ {
			d := c.backoff(attempt, nil)
			full := min(c.retryBase<<(attempt-1), c.retryMax)
			if d < full/2 || d > full {
				t.Fatalf("attempt %d: %v outside [%v, %v]", attempt, d, full/2, full)
			}
		}
	}
	resp := &http.Response{Header: http.Header{"Retry-After": {"2"}}}
	if d := c.backoff(1, resp); d != 2*time.Second {
		t.Errorf("Retry-After: %v", d)
	}
}

func TestRetryableNetError(t *testing.T) {
	t.Parallel()
	dial := &url.Error{Op: "Post", URL: "u", Err: &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}}
	for _, tc := range []struct {
		err        error
		retry, dia bool
	}{
		{dial, true, true},
		{&url.Error{Op: "Post", Err: io.ErrUnexpectedEOF}, true, false},
		{&url.Error{Op: "Post", Err: &net.OpError{Op: "read", Err: syscall.ECONNRESET}}, true, false},
		{&url.Error{Op: "Post", Err: fmt.Errorf("v: %w", ErrVerification)}, false, false},
		{&url.Error{Op: "Post", Err: context.Canceled}, false, false},
		{&url.Error{Op: "Post", Err: errors.New("tls: failed to verify certificate: x509: unknown authority")}, false, false},
	} {
		if got := retryableNetError(tc.err); got != tc.retry {
			t.Errorf("%v: retryable %v", tc.err, got)
		}
		if got := isDialError(tc.err); got != tc.dia {
			t.Errorf("%v: dial %v", tc.err, got)
		}
	}
}

func TestModes(t *testing.T) {
	t.Parallel()
	c := &Conn{mode: Mode{Partner: true}}
	if err := c.CheckMode(&Operation{ID: "X", Modes: Direct}); err == nil {
		t.Error("direct op in partner mode")
	}
	if err := c.CheckMode(&Operation{ID: "X", Modes: Direct | Partner}); err != nil {
		t.Error(err)
	}
	if (Direct | Partner).String() != "direct+partner" {
		t.Error(Direct | Partner)
	}
}

func TestParseWeChatTimeMatchesTimeParse(t *testing.T) {
	t.Parallel()
	for _, s := range []string{
		"2026-11-24T10:34:56+08:00", "2026-11-24T02:34:56Z", "2026-11-24T02:34:56+00:00", "2024-02-29T23:59:59+08:00",
		"2026-02-30T10:00:00+08:00", "2026-13-01T10:00:00+08:00", "2026-11-24T24:00:00+08:00", "2026-11-24T10:34:56+09:00",
		"2026-11-24T10:34:56.5+08:00", "2026-11-24 10:34:56+08:00", "20261124T103456+0800",
	} {
		want, werr := time.Parse(time.RFC3339, s)
		var got Time
		gerr := got.UnmarshalText([]byte(s))
		if (werr == nil) != (gerr == nil) || werr == nil && (!got.Equal(want) || got.Format(timeLayout) != want.Format(timeLayout)) {
			t.Errorf("%s: got %v %v, time.Parse %v %v", s, got, gerr, want, werr)
		}
	}
}

func FuzzTimeMatchesTimeParse(f *testing.F) {
	f.Add("2026-11-24T10:34:56+08:00")
	f.Add("2026-11-24T02:34:56Z")
	f.Fuzz(func(t *testing.T, s string) {
		want, werr := time.Parse(time.RFC3339, s)
		var got Time
		gerr := got.UnmarshalText([]byte(s))
		if s == "" {
			return
		}
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("%q: time.Parse err %v, ours %v", s, werr, gerr)
		}
		if werr == nil && (!got.Equal(want) || got.Format(timeLayout) != want.Format(timeLayout)) {
			t.Fatalf("%q: %v vs %v", s, got, want)
		}
	})
}
