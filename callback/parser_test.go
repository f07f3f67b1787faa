package callback_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"github.com/gowxpay/wxpay"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gowxpay/wxpay/auth"
	"github.com/gowxpay/wxpay/callback"
	"github.com/gowxpay/wxpay/callback/callbacktest"
	"github.com/gowxpay/wxpay/core"
	"github.com/gowxpay/wxpay/gen/payments"
)

// testNow is the clock of the tests.
var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// fixture is a platform and a parser that trusts it, at testNow.
type fixture struct {
	pl *callbacktest.Platform
	p  *callback.Parser
}

func newFixture(t testing.TB, mod ...func(*callback.Config)) *fixture {
	t.Helper()
	pl := callbacktest.New()
	pl.Now = func() time.Time { return testNow }
	cfg := callback.Config{Verifier: pl.Verifier(), APIv3Key: pl.APIv3Key, Events: wxpay.Events(), Now: func() time.Time { return testNow }}
	for _, m := range mod {
		m(&cfg)
	}
	p, err := callback.NewParser(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{pl: pl, p: p}
}

// transaction makes a TRANSACTION.SUCCESS delivery.
func (f *fixture) transaction(t testing.TB) *callbacktest.Delivery {
	t.Helper()
	d, err := f.pl.Notification(callbacktest.Notification{Plaintext: []byte(transactionPlaintext)})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func (f *fixture) parse(d *callbacktest.Delivery) (*callback.Event, error) {
	return f.p.Parse(context.Background(), d.Header, d.Body)
}

func TestParseTransaction(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	d, err := f.pl.Notification(callbacktest.Notification{
		ID:        "EV-2018022511223320873",
		Plaintext: []byte(transactionPlaintext),
		RequestID: "08F5B8C2B506102C18FDDFEEA30620BE821E28EDC405-0",
	})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := f.parse(d)
	if err != nil {
		t.Fatal(err)
	}
	tx, ok := ev.Resource.(*payments.Transaction)
	if !ok {
		t.Fatalf("resource is %T", ev.Resource)
	}
	if tx.OutTradeNo != "1217752501201407033233368018" || tx.Amount.Total != 100 || tx.Payer.OpenID != "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o" || tx.TradeState != "SUCCESS" {
		t.Errorf("transaction %+v", tx)
	}
	if !tx.SuccessTime.Equal(time.Date(2018, 6, 8, 2, 34, 56, 0, time.UTC)) {
		t.Errorf("success_time %v", tx.SuccessTime)
	}
	want := callback.Event{
		ID:           "EV-2018022511223320873",
		EventType:    payments.EventTransactionSuccess,
		ResourceType: "encrypt-resource",
		Summary:      "支付成功",
		OriginalType: "transaction",
		RequestID:    "08F5B8C2B506102C18FDDFEEA30620BE821E28EDC405-0",
	}
	if ev.ID != want.ID || ev.EventType != want.EventType || ev.ResourceType != want.ResourceType || ev.Summary != want.Summary || ev.OriginalType != want.OriginalType || ev.RequestID != want.RequestID {
		t.Errorf("event %+v", ev)
	}
	if !ev.CreateTime.Equal(testNow) {
		t.Errorf("create_time %v", ev.CreateTime)
	}
	if string(ev.Plaintext) != transactionPlaintext {
		t.Errorf("plaintext %s", ev.Plaintext)
	}
	// Parse keeps nothing of its inputs.
	for i := range d.Body {
		d.Body[i] = 'x'
	}
	if string(ev.Plaintext) != transactionPlaintext || ev.ID != want.ID || ev.Summary != want.Summary {
		t.Error("the event shares memory with the body")
	}
}

// full runs the exhaustive mutation test: go test ./callback/ -wxpay.full
var full = flag.Bool("wxpay.full", false, "mutation tests: flip every bit of the body and try every byte value in the headers (slow; the default flips one bit per position)")

// TestRejectsEveryByteChange changes every byte of the body and of the
// timestamp, nonce, serial and signature headers and expects each change
// to be rejected. By default each byte gets one bit flipped (a different
// bit at each position, so that across positions every bit is flipped:
// changes of case, of digit and of Base64 character among them). With
// -wxpay.full every bit of every body byte is flipped and every header
// byte takes all 255 other values; that mostly re-tests crypto/rsa.
func TestRejectsEveryByteChange(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	d := f.transaction(t)
	if _, err := f.parse(d); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	step := 1
	if testing.Short() {
		step = 5
	}
	bits := func(i int) []int {
		if *full {
			return []int{0, 1, 2, 3, 4, 5, 6, 7}
		}
		return []int{i % 8}
	}
	tried := 0
	// The body: every position, every bit.
	for i := 0; i < len(d.Body); i += step {
		for _, bit := range bits(i) {
			b := bytes.Clone(d.Body)
			b[i] ^= 1 << bit
			tried++
			ev, err := f.p.Parse(ctx, d.Header, b)
			if err == nil {
				t.Fatalf("body byte %d bit %d: accepted (%v)", i, bit, ev)
			}
			if !errors.Is(err, core.ErrVerification) {
				t.Fatalf("body byte %d bit %d: %v is not a verification error", i, bit, err)
			}
		}
	}
	for _, name := range []string{auth.HeaderTimestamp, auth.HeaderNonce, auth.HeaderSerial, auth.HeaderSignature} {
		orig := d.Header.Get(name)
		for i := 0; i < len(orig); i += step {
			var values []byte
			if !*full {
				for _, bit := range bits(i) {
					values = append(values, orig[i]^1<<bit)
				}
			} else {
				for c := 0; c < 256; c++ {
					if byte(c) != orig[i] {
						values = append(values, byte(c))
					}
				}
			}
			for _, c := range values {
				v := []byte(orig)
				v[i] = c
				h := d.Header.Clone()
				h[name] = []string{string(v)}
				tried++
				if ev, err := f.p.Parse(ctx, h, d.Body); err == nil {
					t.Fatalf("%s byte %d = %q: accepted (%v)", name, i, c, ev)
				} else if !errors.Is(err, core.ErrVerification) {
					t.Fatalf("%s byte %d = %q: %v is not a verification error", name, i, c, err)
				}
			}
		}
	}
	t.Logf("%d changes rejected", tried)
}

func TestClockSkew(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, c := range []struct {
		off time.Duration
		ok  bool
	}{
		{0, true},
		{-4*time.Minute - 59*time.Second, true},
		{4*time.Minute + 59*time.Second, true},
		{-5 * time.Minute, false},
		{5 * time.Minute, false},
		{-time.Hour, false},
		{24 * time.Hour, false},
	} {
		d, err := f.pl.Notification(callbacktest.Notification{Timestamp: testNow.Add(c.off)})
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.parse(d)
		if c.ok != (err == nil) {
			t.Errorf("timestamp %v off: %v", c.off, err)
		}
		if !c.ok && !errors.Is(err, auth.ErrClockSkew) {
			t.Errorf("timestamp %v off: %v is not ErrClockSkew", c.off, err)
		}
		if !c.ok {
			if status, _ := callback.Response(err); status != http.StatusUnauthorized {
				t.Errorf("stale timestamp answered %d", status)
			}
		}
	}
	// A wider window, configured.
	g := newFixture(t, func(c *callback.Config) { c.MaxSkew = time.Hour })
	d, err := g.pl.Notification(callbacktest.Notification{Timestamp: testNow.Add(-30 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.parse(d); err != nil {
		t.Errorf("MaxSkew 1h: %v", err)
	}
}

func TestSignatureProbe(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	d, err := f.pl.Notification(callbacktest.Notification{Probe: true})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.parse(d)
	if !errors.Is(err, auth.ErrSignatureProbe) || !errors.Is(err, core.ErrVerification) {
		t.Fatalf("probe: %v", err)
	}
	var e *callback.Error
	if !errors.As(err, &e) || e.Step != callback.StepSignature || e.RequestID != d.Header.Get("Request-ID") {
		t.Fatalf("probe: %#v", err)
	}
	if errors.Is(err, auth.ErrBadSignature) || errors.Is(err, callback.ErrBodyChanged) {
		t.Errorf("a probe is reported as a bad signature: %v", err)
	}
	if status, body := callback.Response(err); status != http.StatusUnauthorized || !strings.Contains(string(body), `"code":"FAIL"`) {
		t.Errorf("probe answered %d %s", status, body)
	}
	if strings.Contains(err.Error(), d.Header.Get(auth.HeaderSignature)) {
		t.Error("the error contains the signature")
	}
}

// reencodings are what frameworks do to a JSON body.
var reencodings = []struct {
	name string
	fn   func(t *testing.T, b []byte) []byte
	why  string
}{
	{"pretty-printed", func(t *testing.T, b []byte) []byte {
		var out bytes.Buffer
		if err := json.Indent(&out, b, "", "  "); err != nil {
			t.Fatal(err)
		}
		return out.Bytes()
	}, "whitespace"},
	{"decoded into a map and encoded (sorted keys)", func(t *testing.T, b []byte) []byte {
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		out, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}, "order"},
	{"trailing newline (json.Encoder)", func(t *testing.T, b []byte) []byte {
		return append(bytes.Clone(b), '\n')
	}, "whitespace"},
	{"Python json.dumps (ASCII escapes, spaces)", func(t *testing.T, b []byte) []byte {
		var out strings.Builder
		for _, r := range string(b) {
			switch {
			case r > 0x7f:
				fmt.Fprintf(&out, `\u%04x`, r)
			case r == ',' || r == ':':
				out.WriteRune(r)
				out.WriteByte(' ')
			default:
				out.WriteRune(r)
			}
		}
		return []byte(out.String())
	}, "escaped"},
	{"PHP json_encode (escaped slashes)", func(t *testing.T, b []byte) []byte {
		return bytes.ReplaceAll(b, []byte("/"), []byte(`\/`))
	}, "escaped"},
	{"resource keys re-ordered", func(t *testing.T, b []byte) []byte {
		var env struct {
			ID           string          `json:"id"`
			CreateTime   string          `json:"create_time"`
			ResourceType string          `json:"resource_type"`
			EventType    string          `json:"event_type"`
			Summary      string          `json:"summary"`
			Resource     json.RawMessage `json:"resource"`
		}
		if err := json.Unmarshal(b, &env); err != nil {
			t.Fatal(err)
		}
		var r map[string]string
		if err := json.Unmarshal(env.Resource, &r); err != nil {
			t.Fatal(err)
		}
		env.Resource, _ = json.Marshal(r) // alphabetical
		enc := new(bytes.Buffer)
		e := json.NewEncoder(enc)
		e.SetEscapeHTML(false)
		if err := e.Encode(env); err != nil {
			t.Fatal(err)
		}
		return bytes.TrimSuffix(enc.Bytes(), []byte("\n"))
	}, "order"},
}

func TestBodyChangedByFramework(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	d := f.transaction(t)
	for _, re := range reencodings {
		t.Run(re.name, func(t *testing.T) {
			b := re.fn(t, d.Body)
			if bytes.Equal(b, d.Body) {
				t.Fatal("the re-encoding changed nothing")
			}
			_, err := f.p.Parse(context.Background(), d.Header, b)
			if !errors.Is(err, callback.ErrBodyChanged) {
				t.Fatalf("got %v, want ErrBodyChanged", err)
			}
			if !errors.Is(err, core.ErrVerification) || !errors.Is(err, auth.ErrBadSignature) {
				t.Errorf("not a verification error: %v", err)
			}
			msg := err.Error()
			for _, s := range []string{"framework", "raw request body", "r.Body", re.why} {
				if !strings.Contains(msg, s) {
					t.Errorf("the error does not say %q: %s", s, msg)
				}
			}
			// It claims only what it found: no key order where the
			// keys kept WeChat Pay's order, no spacing where there is none.
			for _, other := range []string{"order", "whitespace", "escaped"} {
				found := other == re.why || other == "whitespace" && strings.HasPrefix(re.name, "Python")
				if !found && strings.Contains(msg, other) {
					t.Errorf("the error claims %q for a body that was only %s: %s", other, re.name, msg)
				}
			}
		})
	}
	// A tampered body, written like WeChat Pay's, is not blamed on a
	// framework.
	b := bytes.Replace(d.Body, []byte(`"summary":"支付成功"`), []byte(`"summary":"支付失败"`), 1)
	_, err := f.p.Parse(context.Background(), d.Header, b)
	if !errors.Is(err, auth.ErrBadSignature) || errors.Is(err, callback.ErrBodyChanged) {
		t.Errorf("tampered body: %v", err)
	}
}

// getter and peeker are header types of other frameworks.
type getter map[string]string

func (g getter) Get(name string) string { return g[strings.ToLower(name)] }

type peeker struct{ h http.Header }

func (p peeker) Peek(name string) []byte {
	if v := p.h.Get(name); v != "" {
		return []byte(v)
	}
	return nil
}

type namedFunc func(string) string

func TestHeaderForms(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	d := f.transaction(t)
	lower := d.HeaderMap(strings.ToLower)
	upper := d.HeaderMap(strings.ToUpper)
	cgi := d.HeaderMap(callbacktest.CGIName)
	mixed := d.HeaderMap(func(s string) string {
		b := []byte(strings.ToLower(s))
		for i := 0; i < len(b); i += 2 {
			if 'a' <= b[i] && b[i] <= 'z' {
				b[i] -= 'a' - 'A'
			}
		}
		return string(b)
	})
	underscores := d.HeaderMap(func(s string) string { return strings.ReplaceAll(strings.ToLower(s), "-", "_") })
	multi := map[string][]string{}
	for k, v := range cgi {
		multi[k] = []string{v}
	}
	raw := http.Header{} // keys not canonicalised, as a hand-made http.Header
	for k, v := range lower {
		raw[k] = []string{v}
	}
	req, err := d.NewRequest("http://localhost/notify")
	if err != nil {
		t.Fatal(err)
	}
	forms := map[string]any{
		"http.Header":                  d.Header,
		"http.Header, lower-case keys": raw,
		"*http.Request":                req,
		"map[string]string canonical":  d.HeaderMap(func(s string) string { return s }),
		"map[string]string lower":      lower,
		"map[string]string upper":      upper,
		"map[string]string CGI":        cgi,
		"map[string]string mixed":      mixed,
		"map[string]string _":          underscores,
		"map[string][]string CGI":      multi,
		"func(string) string":          d.Header.Get,
		"func over a CGI map":          func(k string) string { return cgi[k] },
		"func over a lower-case map":   func(k string) string { return lower[k] },
		"HeaderFunc":                   callback.HeaderFunc(func(k string) string { return upper[strings.ToUpper(k)] }),
		"named func via HeaderFunc":    callback.HeaderFunc(namedFunc(d.Header.Get)),
		"Getter":                       getter(lower),
		"Peeker":                       peeker{d.Header},
	}
	for name, h := range forms {
		ev, err := f.p.Parse(context.Background(), h, d.Body)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if ev.RequestID != d.Header.Get("Request-ID") || ev.RequestID == "" {
			t.Errorf("%s: Request-ID %q", name, ev.RequestID)
		}
	}

	// Unsupported types are reported, not read as empty.
	for _, h := range []any{42, "Wechatpay-Nonce: x", namedFunc(d.Header.Get), map[string]int{}} {
		_, err := f.p.Parse(context.Background(), h, d.Body)
		if !errors.Is(err, callback.ErrHeaderType) || !strings.Contains(err.Error(), fmt.Sprintf("%T", h)) {
			t.Errorf("%T: %v", h, err)
		}
	}
	// No headers at all.
	for _, h := range []any{nil, http.Header{}, map[string]string{}, (func(string) string)(nil)} {
		_, err := f.p.Parse(context.Background(), h, d.Body)
		if !errors.Is(err, auth.ErrMissingHeader) || !strings.Contains(err.Error(), "no Wechatpay-* header") {
			t.Errorf("%T: %v", h, err)
		}
	}
	// One header missing.
	h := d.Header.Clone()
	h.Del(auth.HeaderNonce)
	if _, err := f.p.Parse(context.Background(), h, d.Body); !errors.Is(err, auth.ErrMissingHeader) || !strings.Contains(err.Error(), auth.HeaderNonce) {
		t.Errorf("missing nonce: %v", err)
	}
	// A header under two spellings with different values.
	conflict := d.HeaderMap(func(s string) string { return s })
	conflict[callbacktest.CGIName(auth.HeaderNonce)] = "other"
	delete(conflict, auth.HeaderNonce)
	conflict["wechatpay-nonce"] = "another"
	_, err = f.p.Parse(context.Background(), conflict, d.Body)
	if !errors.Is(err, callback.ErrHeaderConflict) {
		t.Errorf("conflict: %v", err)
	}
	if status, _ := callback.Response(err); status != http.StatusBadRequest {
		t.Errorf("conflict answered %d", status)
	}
	// The same value twice is no conflict.
	same := d.HeaderMap(strings.ToLower)
	for k, v := range d.HeaderMap(callbacktest.CGIName) {
		same[k] = v
	}
	if _, err := f.p.Parse(context.Background(), same, d.Body); err != nil {
		t.Errorf("duplicate spellings with one value: %v", err)
	}
}

func TestUnknownEventType(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	plain := `{"mchid":"1900000109","out_bill_no":"plfk2020042013","state":"SUCCESS"}`
	d, err := f.pl.Notification(callbacktest.Notification{EventType: "MCHTRANSFER.NOT_DESCRIBED_YET.FINISHED", Plaintext: []byte(plain)})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := f.parse(d)
	if err != nil {
		t.Fatal(err)
	}
	raw, ok := ev.Resource.(json.RawMessage)
	if !ok || string(raw) != plain || string(ev.Plaintext) != plain {
		t.Fatalf("resource %T %s", ev.Resource, ev.Resource)
	}
	if ev.EventType != "MCHTRANSFER.NOT_DESCRIBED_YET.FINISHED" || ev.OriginalType != "mch_payment" {
		t.Errorf("event %+v", ev)
	}
	var bill struct {
		OutBillNo string `json:"out_bill_no"`
		State     string `json:"state"`
	}
	if err := ev.Decode(&bill); err != nil || bill.OutBillNo != "plfk2020042013" || bill.State != "SUCCESS" {
		t.Errorf("Decode: %v %+v", err, bill)
	}
	var wrong struct {
		State int `json:"state"`
	}
	if err := ev.Decode(&wrong); !errors.Is(err, callback.ErrDecode) || strings.Contains(err.Error(), "SUCCESS") {
		t.Errorf("Decode into the wrong type: %v", err)
	}
}

// sm4Stand-in registers an opener under the SM4 name: dispatch is by the
// resource's algorithm field.
func TestOpeners(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	calls := 0
	fake := callback.OpenerFunc(func(dst, nonce, ct, ad []byte) ([]byte, error) {
		calls++
		return append(dst, `{"fake":true}`...), nil
	})
	f := newFixture(t, func(c *callback.Config) {
		c.Openers = map[string]callback.Opener{auth.AlgorithmSM4GCM: fake}
	})
	d, err := f.pl.Notification(callbacktest.Notification{Algorithm: auth.AlgorithmSM4GCM, EventType: "X.Y"})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := f.p.Parse(ctx, d.Header, d.Body)
	if err != nil || calls != 1 || string(ev.Plaintext) != `{"fake":true}` {
		t.Fatalf("SM4 opener: %v, %d calls", err, calls)
	}
	// An unknown algorithm is a clear error, after verification.
	d, err = f.pl.Notification(callbacktest.Notification{Algorithm: "AEAD_CHACHA20_POLY1305"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.p.Parse(ctx, d.Header, d.Body)
	var e *callback.Error
	if !errors.Is(err, callback.ErrUnsupportedAlgorithm) || !errors.As(err, &e) || e.Step != callback.StepDecrypt || e.ID != d.ID {
		t.Fatalf("unknown algorithm: %v", err)
	}
	for _, s := range []string{"AEAD_CHACHA20_POLY1305", "AEAD_AES_256_GCM, AEAD_SM4_GCM", "Config.Openers"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("the error does not say %q: %v", s, err)
		}
	}
	if status, _ := callback.Response(err); status != http.StatusInternalServerError {
		t.Errorf("unknown algorithm answered %d", status)
	}

	// A cipher.AEAD is an Opener; a nonce of the wrong length is an
	// error, not a panic.
	block, _ := aes.NewCipher(f.pl.APIv3Key)
	gcm, _ := cipher.NewGCM(block)
	g := newFixture(t, func(c *callback.Config) {
		c.Openers = map[string]callback.Opener{auth.AlgorithmAESGCM: gcm}
	})
	d, err = g.pl.Notification(callbacktest.Notification{Plaintext: []byte(transactionPlaintext)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.parse(d); err != nil {
		t.Fatalf("cipher.AEAD opener: %v", err)
	}
	d, err = g.pl.Notification(callbacktest.Notification{ResourceNonce: "0123456789abcdef"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.parse(d); err == nil || !strings.Contains(err.Error(), "16 bytes") {
		t.Fatalf("16-byte nonce with a 12-byte AEAD: %v", err)
	}
	// The built-in opener accepts other nonce lengths, like auth.DecryptAESGCM.
	if _, err := f.parse(d); err != nil {
		t.Fatalf("16-byte nonce: %v", err)
	}
	// A nil opener is a configuration error.
	_, err = callback.NewParser(callback.Config{Verifier: f.pl.Verifier(), APIv3Key: f.pl.APIv3Key, Events: wxpay.Events(), Openers: map[string]callback.Opener{"X": nil}})
	if err == nil {
		t.Error("nil opener accepted")
	}
}

func TestDecryptFailures(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	// Encrypted under another APIv3 key.
	other := callbacktest.New()
	other.Now = f.pl.Now
	other.APIv3Key = []byte("another-apiv3-key-of-32-bytes!!!")
	d, err := other.Notification(callbacktest.Notification{Plaintext: []byte(transactionPlaintext)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.parse(d)
	if !errors.Is(err, auth.ErrDecrypt) || !strings.Contains(err.Error(), "APIv3 key") {
		t.Fatalf("wrong APIv3 key: %v", err)
	}
	var e *callback.Error
	if !errors.As(err, &e) || e.Step != callback.StepDecrypt || e.ID != d.ID || e.EventType != payments.EventTransactionSuccess {
		t.Errorf("wrong APIv3 key: %#v", err)
	}
	if strings.Contains(err.Error(), string(f.pl.APIv3Key)) || strings.Contains(err.Error(), string(other.APIv3Key)) {
		t.Error("the error contains an APIv3 key")
	}
	// Associated data that differs from what was authenticated.
	ad := "refund"
	d, err = f.pl.Notification(callbacktest.Notification{AssociatedData: &ad})
	if err != nil {
		t.Fatal(err)
	}
	b := bytes.Replace(d.Body, []byte(`"associated_data":"refund"`), []byte(`"associated_data":"transaction"`), 1)
	h := resign(t, f.pl, d, b)
	if _, err := f.p.Parse(context.Background(), h, b); !errors.Is(err, auth.ErrDecrypt) {
		t.Fatalf("changed associated_data: %v", err)
	}
	// Empty associated data is valid.
	empty := ""
	d, err = f.pl.Notification(callbacktest.Notification{AssociatedData: &empty})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.parse(d); err != nil {
		t.Fatalf("empty associated_data: %v", err)
	}
}

// resign signs body as the platform would, with d's timestamp and nonce.
func resign(t *testing.T, pl *callbacktest.Platform, d *callbacktest.Delivery, body []byte) http.Header {
	t.Helper()
	h := d.Header.Clone()
	sig, err := auth.SignBase64(auth.RSASigner{Key: pl.Key}, auth.ResponseMessage(h.Get(auth.HeaderTimestamp), h.Get(auth.HeaderNonce), body))
	if err != nil {
		t.Fatal(err)
	}
	h.Set(auth.HeaderSignature, sig)
	return h
}

// TestMalformedEnvelope signs bodies that are not notifications: they pass
// verification and fail with ErrMalformed.
func TestMalformedEnvelope(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	d := f.transaction(t)
	good := string(d.Body)
	cases := map[string]string{
		"not JSON":           `hello`,
		"array":              `[]`,
		"truncated":          good[:len(good)-1],
		"trailing data":      good + `{}`,
		"id not a string":    strings.Replace(good, `"id":"`+d.ID+`"`, `"id":12`, 1),
		"no id":              strings.Replace(good, `"id":"`+d.ID+`",`, ``, 1),
		"resource a string":  `{"id":"a","event_type":"X","resource":"x"}`,
		"no resource":        `{"id":"a","event_type":"X"}`,
		"no event_type":      `{"id":"a","resource":{}}`,
		"no ciphertext":      `{"id":"a","event_type":"X","resource":{"algorithm":"AEAD_AES_256_GCM","nonce":"n"}}`,
		"bad create_time":    strings.Replace(good, `"create_time":"`, `"create_time":"yesterday`, 1),
		"invalid escape":     `{"id":"\x","event_type":"X","resource":{}}`,
		"control character":  "{\"id\":\"a\tb\",\"event_type\":\"X\",\"resource\":{}}",
		"bad number":         `{"id":"a","n":01,"event_type":"X","resource":{}}`,
		"unterminated array": `{"id":"a","n":[1,2,"event_type":"X","resource":{}}`,
	}
	for name, body := range cases {
		b := []byte(body)
		h := resign(t, f.pl, d, b)
		_, err := f.p.Parse(context.Background(), h, b)
		if !errors.Is(err, callback.ErrMalformed) {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if status, _ := callback.Response(err); status != http.StatusBadRequest {
			t.Errorf("%s: answered %d", name, status)
		}
	}
	// Unknown fields, nulls and escapes are fine.
	b := []byte(strings.Replace(good, `"summary":"支付成功"`, `"summary":"\u652f\u4ed8\u6210\u529f","extra":[{"a":[1.5e3,-0,true,false,null]}],"more":null`, 1))
	ev, err := f.p.Parse(context.Background(), resign(t, f.pl, d, b), b)
	if err != nil || ev.Summary != "支付成功" {
		t.Errorf("extensions: %v %+v", err, ev)
	}
	// A ciphertext that is not Base64.
	b = []byte(strings.Replace(good, `"ciphertext":"`, `"ciphertext":"!`, 1))
	if _, err := f.p.Parse(context.Background(), resign(t, f.pl, d, b), b); err == nil || !strings.Contains(err.Error(), "Base64") {
		t.Errorf("ciphertext not Base64: %v", err)
	}
}

func TestDecodeError(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	d, err := f.pl.Notification(callbacktest.Notification{Plaintext: []byte(`{"out_trade_no":"SECRET-ORDER","amount":{"total":"1234567"}}`)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.parse(d)
	if !errors.Is(err, callback.ErrDecode) {
		t.Fatalf("got %v", err)
	}
	for _, s := range []string{"amount.total", "string", "int", "TRANSACTION.SUCCESS", "*payments.Transaction"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("the error does not say %q: %v", s, err)
		}
	}
	for _, s := range []string{"SECRET-ORDER", "1234567"} {
		if strings.Contains(err.Error(), s) {
			t.Errorf("the error contains plaintext %q: %v", s, err)
		}
	}
	d, err = f.pl.Notification(callbacktest.Notification{Plaintext: []byte(`{"success_time":"2018-13-45T99:00:00+08:00"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err = f.parse(d); !errors.Is(err, callback.ErrDecode) || strings.Contains(err.Error(), "2018") {
		t.Fatalf("bad time: %v", err)
	}
	d, err = f.pl.Notification(callbacktest.Notification{Plaintext: []byte(`not json at all`)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err = f.parse(d); !errors.Is(err, callback.ErrDecode) || strings.Contains(err.Error(), "not json") {
		t.Fatalf("not JSON: %v", err)
	}
}

func TestEmptyBody(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	d := f.transaction(t)
	_, err := f.p.Parse(context.Background(), d.Header, nil)
	if !errors.Is(err, callback.ErrEmptyBody) || !strings.Contains(err.Error(), "read it before Parse") {
		t.Fatalf("got %v", err)
	}
	if status, _ := callback.Response(err); status != http.StatusBadRequest {
		t.Errorf("answered %d", status)
	}
}

func TestUnknownSerial(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	other := callbacktest.New()
	other.Now = f.pl.Now
	other.Serial = "PUB_KEY_ID_0114232134912410000000000000000002"
	d, err := other.Notification(callbacktest.Notification{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.parse(d)
	if !errors.Is(err, auth.ErrUnknownKey) || !strings.Contains(err.Error(), other.Serial) {
		t.Fatalf("got %v", err)
	}
}

func TestSignatureType(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	d := f.transaction(t)
	h := d.Header.Clone()
	h.Set(auth.HeaderSignatureType, "WECHATPAY2-SM2-WITH-SM3")
	_, err := f.p.Parse(context.Background(), h, d.Body)
	if !errors.Is(err, core.ErrVerification) || !strings.Contains(err.Error(), "WECHATPAY2-SM2-WITH-SM3") {
		t.Fatalf("SM2: %v", err)
	}
	h.Del(auth.HeaderSignatureType) // absent means RSA
	if _, err := f.p.Parse(context.Background(), h, d.Body); err != nil {
		t.Fatalf("no signature type: %v", err)
	}
}

func TestNewParserChecksConfig(t *testing.T) {
	t.Parallel()
	pl := callbacktest.New()
	for name, c := range map[string]callback.Config{
		"no verifier":  {APIv3Key: pl.APIv3Key},
		"no key":       {Verifier: pl.Verifier()},
		"short key":    {Verifier: pl.Verifier(), APIv3Key: []byte("0123456789abcdef")},
		"nil opener":   {Verifier: pl.Verifier(), APIv3Key: pl.APIv3Key, Openers: map[string]callback.Opener{"A": nil}},
		"33-byte key":  {Verifier: pl.Verifier(), APIv3Key: append([]byte("x"), pl.APIv3Key...)},
		"no verifier2": {Verifier: nil, APIv3Key: pl.APIv3Key, MaxSkew: time.Minute},
	} {
		_, err := callback.NewParser(c)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if len(c.APIv3Key) > 0 && strings.Contains(err.Error(), string(c.APIv3Key)) {
			t.Errorf("%s: the error contains the key", name)
		}
		if !strings.Contains(err.Error(), "Config.") {
			t.Errorf("%s: the error names no field: %v", name, err)
		}
	}
}

// TestNoSecretsInErrorsOrLogs collects the errors and the debug log of many
// failures and checks that none contains the APIv3 key, a signature or
// plaintext.
func TestNoSecretsInErrorsOrLogs(t *testing.T) {
	t.Parallel()
	var log bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f := newFixture(t, func(c *callback.Config) { c.Logger = logger })
	d := f.transaction(t)
	var msgs []string
	try := func(h http.Header, b []byte) {
		if _, err := f.p.Parse(context.Background(), h, b); err != nil {
			msgs = append(msgs, err.Error())
		}
	}
	try(d.Header, d.Body) // success, logged at debug
	h := d.Header.Clone()
	h.Set(auth.HeaderSignature, strings.ToLower(h.Get(auth.HeaderSignature)))
	try(h, d.Body)
	h = d.Header.Clone()
	h.Set(auth.HeaderTimestamp, "1")
	try(h, d.Body)
	try(d.Header, append(bytes.Clone(d.Body), ' '))
	other := callbacktest.New()
	other.Now = f.pl.Now
	other.APIv3Key = []byte("another-apiv3-key-of-32-bytes!!!")
	od, _ := other.Notification(callbacktest.Notification{Plaintext: []byte(transactionPlaintext)})
	try(od.Header, od.Body)
	bad, _ := f.pl.Notification(callbacktest.Notification{Plaintext: []byte(`{"out_trade_no":1217752501201407033233368018}`)})
	try(bad.Header, bad.Body)
	if len(msgs) != 5 {
		t.Fatalf("%d errors: %q", len(msgs), msgs)
	}
	secrets := []string{string(f.pl.APIv3Key), string(other.APIv3Key), d.Header.Get(auth.HeaderSignature)[:40], "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", "1217752501201407033233368018", "wxdace645e0bc2cXXX"}
	all := strings.Join(msgs, "\n") + "\n" + log.String()
	for _, s := range secrets {
		if strings.Contains(all, s) {
			t.Errorf("%q appears in:\n%s", s, all)
		}
	}
	if !strings.Contains(log.String(), "notification parsed") || !strings.Contains(log.String(), d.ID) {
		t.Errorf("log:\n%s", log.String())
	}
}

// TestWithPlatformKeys verifies with the client's key store, in WeChat Pay
// public key mode, instead of the test Verifier.
func TestWithPlatformKeys(t *testing.T) {
	t.Parallel()
	pl := callbacktest.New()
	pl.Now = func() time.Time { return testNow }
	keys, err := auth.NewPlatformKeys(auth.PlatformKeysConfig{PublicKeyID: pl.Serial, PublicKey: &pl.Key.PublicKey, Now: pl.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer keys.Close()
	p, err := callback.NewParser(callback.Config{Verifier: keys, APIv3Key: pl.APIv3Key, Events: wxpay.Events(), Now: pl.Now})
	if err != nil {
		t.Fatal(err)
	}
	d, err := pl.Notification(callbacktest.Notification{Plaintext: []byte(transactionPlaintext)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Parse(context.Background(), d.Header, d.Body); err != nil {
		t.Fatal(err)
	}
	// Signed by another public key id: a clear error naming both.
	other := callbacktest.New()
	other.Now = pl.Now
	other.Serial = "PUB_KEY_ID_0114232134912410000000000000000002"
	d, err = other.Notification(callbacktest.Notification{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Parse(context.Background(), d.Header, d.Body)
	if !errors.Is(err, auth.ErrUnknownKey) || !strings.Contains(err.Error(), other.Serial) || !strings.Contains(err.Error(), pl.Serial) {
		t.Fatalf("unknown public key id: %v", err)
	}
	if status, _ := callback.Response(err); status != http.StatusUnauthorized {
		t.Errorf("unknown key answered %d", status)
	}
}

func TestNilAndZeroParser(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	d := f.transaction(t)
	var p *callback.Parser
	if _, err := p.Parse(context.Background(), d.Header, d.Body); err == nil || !strings.Contains(err.Error(), "NewParser") {
		t.Errorf("nil Parser: %v", err)
	}
	if _, err := new(callback.Parser).Parse(context.Background(), d.Header, d.Body); err == nil {
		t.Error("zero Parser accepted a notification")
	}
}

// TestNotificationErrorsSpeakOfNotifications: verification is shared with
// API answers, but the errors a notification gets never call it an
// "answer".
func TestNotificationErrorsSpeakOfNotifications(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	d := f.transaction(t)
	ctx := context.Background()
	tampered := bytes.Replace(d.Body, []byte(`"summary":"支付成功"`), []byte(`"summary":"支付失败"`), 1)
	noSig := d.Header.Clone()
	noSig.Del(auth.HeaderSignature)
	otherKey := d.Header.Clone()
	otherKey.Set(auth.HeaderSerial, "PUB_KEY_ID_0114232134912410000000000000000999")
	skewed, err := f.pl.Notification(callbacktest.Notification{Timestamp: testNow.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		h    http.Header
		body []byte
	}{
		"tampered body":     {d.Header, tampered},
		"no signature":      {noSig, d.Body},
		"unknown key":       {otherKey, d.Body},
		"clock an hour off": {skewed.Header, skewed.Body},
	} {
		_, err := f.p.Parse(ctx, c.h, c.body)
		if err == nil {
			t.Fatalf("%s: accepted", name)
		}
		if strings.Contains(err.Error(), "answer") {
			t.Errorf("%s: the notification is called an answer: %v", name, err)
		}
	}
}
