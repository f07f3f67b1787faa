package wxpay_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/gowxpay/wxpay"
	"github.com/gowxpay/wxpay/callback"
	"github.com/gowxpay/wxpay/callback/callbacktest"
)

// TestEveryDeclaredEvent pushes a notification of every declaration in the
// generated event lists (wxpay.Events(), which gathers every area's Events()) through Parse and checks the Go type of its resource: an
// event type added to the spec (x-wxpay-events) and regenerated is covered
// with no change here.
func TestEveryDeclaredEvent(t *testing.T) {
	events := wxpay.Events()
	if len(events) == 0 {
		t.Fatal("the generated event table is empty")
	}
	pl := callbacktest.New()
	p, err := callback.NewParser(callback.Config{Verifier: pl.Verifier(), APIv3Key: pl.APIv3Key, Events: events})
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range events {
		want := reflect.TypeOf(d.New())
		if want.Kind() != reflect.Pointer {
			t.Errorf("%s: New returns a %v, not a pointer", d.Type, want)
			continue
		}
		// The plaintext has this declaration's key (if any) and none of
		// the keys of the declarations before it for the same type.
		plain := map[string]any{"mchid": "1900000109"}
		if d.Key != "" {
			plain[d.Key] = nil // present, and null fits any field type
		}
		shadowed := false
		for _, e := range events[:i] {
			if e.Type == d.Type && e.Key == d.Key {
				shadowed = true // the earlier one always wins
			}
		}
		if shadowed {
			t.Errorf("%s: declaration %d (%v, key %q) can never be chosen", d.Type, i, want, d.Key)
			continue
		}
		dl, err := pl.Notification(callbacktest.Notification{EventType: d.Type, Resource: plain})
		if err != nil {
			t.Fatal(err)
		}
		ev, err := p.Parse(context.Background(), dl.Header, dl.Body)
		if err != nil {
			t.Fatalf("%s: %v", d.Type, err)
		}
		if got := reflect.TypeOf(ev.Resource); got != want {
			t.Errorf("%s with key %q: resource is %v, want %v", d.Type, d.Key, got, want)
		}
		if ev.EventType != d.Type || ev.ID != dl.ID {
			t.Errorf("%s: event %+v", d.Type, ev)
		}
	}
}
