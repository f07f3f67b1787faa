package callback

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/gowxpay/wxpay/callback/callbacktest"
	"github.com/gowxpay/wxpay/core"
)

// TestPickSemantics checks the rules of eventDecl with a table of its own:
// the first declaration whose key is present wins, a declaration without key
// is the fallback whatever its position, and with no match and no fallback
// the resource stays raw JSON.
func TestPickSemantics(t *testing.T) {
	t.Parallel()
	type A struct{ A string }
	type B struct{ B string }
	type C struct{ C string }
	e := &eventEntry{typ: "X.Y", decls: []core.EventType{
		{Type: "X.Y", New: func() any { return new(C) }},
		{Type: "X.Y", Key: "a", New: func() any { return new(A) }},
		{Type: "X.Y", Key: "b", New: func() any { return new(B) }},
	}}
	cases := []struct {
		plain string
		want  any
	}{
		{`{"a":1}`, new(A)},
		{`{"b":1,"a":1}`, new(A)},
		{`{"b":1}`, new(B)},
		{`{"c":{"a":1}}`, new(C)},     // nested keys do not count
		{`{"x":"\"a\""}`, new(C)},     // nor strings that look like keys
		{`{"\u0061":1}`, new(A)},      // escaped keys are compared by value
		{`{"z":["a"],"b":2}`, new(B)}, // skipping arrays
	}
	for _, c := range cases {
		d := e.pick([]byte(c.plain))
		if d == nil || reflect.TypeOf(d.New()) != reflect.TypeOf(c.want) {
			t.Errorf("%s: picked %v", c.plain, d)
		}
	}
	noFallback := &eventEntry{typ: "X.Y", decls: e.decls[1:]}
	if d := noFallback.pick([]byte(`{"c":1}`)); d != nil {
		t.Errorf("picked %v without key or fallback", d)
	}
}

// TestNoDeclarationGivesRawJSON checks an event type the table lacks, via
// the internal table.
func TestNoDeclarationGivesRawJSON(t *testing.T) {
	t.Parallel()
	pl := callbacktest.New()
	p, err := NewParser(Config{Verifier: pl.Verifier(), APIv3Key: pl.APIv3Key})
	if err != nil {
		t.Fatal(err)
	}
	const typ = "CALLBACKTEST.NOT_DECLARED"
	if p.events[typ] != nil {
		t.Fatal("test event type is declared")
	}
	dl, err := pl.Notification(callbacktest.Notification{EventType: typ, Plaintext: []byte(`{"k":"v"}`)})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := p.Parse(context.Background(), dl.Header, dl.Body)
	if err != nil {
		t.Fatal(err)
	}
	raw, ok := ev.Resource.(json.RawMessage)
	if !ok || string(raw) != `{"k":"v"}` || string(ev.Plaintext) != `{"k":"v"}` {
		t.Fatalf("resource %T %s", ev.Resource, ev.Resource)
	}
}
