package core

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

type nopAuthz struct{}

func (nopAuthz) Authorize(string, string, []byte) (string, error) { return "x", nil }

// TestResendRule: after a 5xx that may follow WeChat Pay's action, only
// operations safe to repeat are sent again; the error of the others says
// to query first. 429 means nothing was done, so it is retried for all.
func TestResendRule(t *testing.T) {
	var n atomic.Int32
	status := atomic.Int32{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.WriteHeader(int(status.Load()))
		w.Write([]byte(`{"code":"SYSTEM_ERROR","message":"x"}`))
	}))
	defer srv.Close()
	c, err := NewConn(Options{BaseURL: srv.URL, HTTPClient: srv.Client(), Authorizer: nopAuthz{},
		Sleep: func(context.Context, time.Duration) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	safe := &Operation{ID: "Safe", Method: "POST", Path: "/v3/a", ResendSafe: true}
	unsafe := &Operation{ID: "Unsafe", Method: "POST", Path: "/v3/b"}
	get := &Operation{ID: "Get", Method: "GET", Path: "/v3/c"}
	for _, tc := range []struct {
		op     *Operation
		status int32
		opts   []CallOption
		sends  int32
		effect bool
	}{
		{safe, 500, nil, 3, true},
		{unsafe, 500, nil, 1, true},
		{unsafe, 500, []CallOption{WithHeader("Idempotency-Key", "k")}, 3, true},
		{get, 500, nil, 3, false},
		{unsafe, 429, nil, 3, false},
	} {
		n.Store(0)
		status.Store(tc.status)
		var body any
		if tc.op.Method == "POST" {
			body = map[string]string{"a": "b"}
		}
		err := c.Do(context.Background(), tc.op, tc.op.Path, body, nil, tc.opts)
		var apiErr *APIError
		if !errors.As(err, &apiErr) || n.Load() != tc.sends {
			t.Errorf("%s %d: %v after %d sends, want %d", tc.op.ID, tc.status, err, n.Load(), tc.sends)
		}
		if got := strings.Contains(err.Error(), mayTakeEffect); got != tc.effect {
			t.Errorf("%s %d: %q says it may have taken effect: %v", tc.op.ID, tc.status, err, got)
		}
	}
}

// TestBeforeStopsTheCall: a refusal of Options.Before sends nothing.
func TestBeforeStopsTheCall(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { n.Add(1) }))
	defer srv.Close()
	cause := errors.New("no key")
	c, err := NewConn(Options{BaseURL: srv.URL, HTTPClient: srv.Client(), Authorizer: nopAuthz{},
		Before: func(context.Context, *Operation) error { return cause }})
	if err != nil {
		t.Fatal(err)
	}
	var meta ResponseMeta
	err = c.Do(context.Background(), &Operation{ID: "Op", Method: "POST", Path: "/v3/x"}, "/v3/x", map[string]int{}, nil, []CallOption{CaptureResponse(&meta)})
	var oe *OpError
	if !errors.Is(err, ErrNotSent) || !errors.Is(err, cause) || !errors.As(err, &oe) || oe.Uncertain || n.Load() != 0 || meta.Attempts != 0 {
		t.Errorf("%v; %d sent, %d attempts", err, n.Load(), meta.Attempts)
	}
}

type failingAuthz struct{}

func (failingAuthz) Authorize(string, string, []byte) (string, error) {
	return "", errors.New("the signer failed")
}

// TestSigningFailureIsNotSent: a request that could not be signed never
// left: its error says so and does not advise querying.
func TestSigningFailureIsNotSent(t *testing.T) {
	c, err := NewConn(Options{BaseURL: "http://127.0.0.1:1", HTTPClient: http.DefaultClient, Authorizer: failingAuthz{}})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Do(context.Background(), &Operation{ID: "Op", Method: "POST", Path: "/v3/x", ResendSafe: true}, "/v3/x", map[string]int{}, nil, nil)
	if !errors.Is(err, ErrNotSent) || strings.Contains(err.Error(), mayTakeEffect) {
		t.Errorf("got %v", err)
	}
}
