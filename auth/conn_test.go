package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gowxpay/wxpay/core"
)

// TestWithCoreConn wires RequestSigner, Transport and PlatformKeys into a
// core.Conn as the root package does, against a server that checks the
// request signature and the encrypted field and signs its answer.
func TestWithCoreConn(t *testing.T) {
	t.Parallel()
	merchant := testKey(t, "merchant")
	pubKey := testKey(t, "pubkey")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		a, err := ParseAuthorization(r.Header.Get("Authorization"))
		if err != nil {
			http.Error(w, `{"code":"SIGN_ERROR"}`, http.StatusUnauthorized)
			return
		}
		raw, _ := base64.StdEncoding.DecodeString(a.Signature)
		if VerifyRSA(&merchant.PublicKey, RequestMessage(r.Method, r.URL.RequestURI(), a.Timestamp, a.Nonce, body), raw) != nil {
			http.Error(w, `{"code":"SIGN_ERROR"}`, http.StatusUnauthorized)
			return
		}
		if r.Header.Get("Wechatpay-Serial") != testPubKeyID {
			http.Error(w, `{"code":"PARAM_ERROR","message":"Wechatpay-Serial"}`, http.StatusBadRequest)
			return
		}
		var in struct {
			Name string `json:"name"`
		}
		_ = json.Unmarshal(body, &in)
		name, err := DecryptOAEP(pubKey, in.Name)
		if err != nil {
			http.Error(w, `{"code":"PARAM_ERROR","message":"name"}`, http.StatusBadRequest)
			return
		}
		out, _ := json.Marshal(map[string]string{"echo": name})
		for k, v := range signAnswer(t, pubKey, testPubKeyID, time.Now(), "d824f2e086d3c1df967785d13fcd22ef", out) {
			w.Header()[k] = v
		}
		_, _ = w.Write(out)
	}))
	defer srv.Close()

	signer, err := NewRequestSigner("1900000001", "1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C", RSASigner{Key: merchant})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := NewPlatformKeys(PlatformKeysConfig{PublicKeyID: testPubKeyID, PublicKey: &pubKey.PublicKey})
	if err != nil {
		t.Fatal(err)
	}
	defer keys.Close()
	conn, err := core.NewConn(core.Options{
		BaseURL:    srv.URL,
		HTTPClient: &http.Client{Transport: &Transport{Base: srv.Client().Transport, Verifier: keys}},
		Authorizer: signer,
		Encrypter:  keys,
	})
	if err != nil {
		t.Fatal(err)
	}
	op := &core.Operation{ID: "SecurityEcho", Method: "POST", Path: "/v3/security/echo", Modes: core.Direct, Sensitive: [][]string{{"name"}}}
	var out struct {
		Echo string `json:"echo"`
	}
	if err := conn.Do(context.Background(), op, "/v3/security/echo?x=%E4%BD%A0", map[string]string{"name": "张三"}, &out, nil); err != nil {
		t.Fatal(err)
	}
	if out.Echo != "张三" {
		t.Errorf("echo %q", out.Echo)
	}

	// A verification failure is not retried.
	calls := 0
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		_, _ = io.WriteString(w, `{}`)
	}))
	defer bad.Close()
	conn2, _ := core.NewConn(core.Options{
		BaseURL:    bad.URL,
		HTTPClient: &http.Client{Transport: &Transport{Verifier: keys}},
		Authorizer: signer,
		Sleep:      func(context.Context, time.Duration) error { return nil },
	})
	err = conn2.Do(context.Background(), &core.Operation{ID: "Q", Method: "GET"}, "/v3/q", nil, &out, nil)
	if !errors.Is(err, core.ErrVerification) || !errors.Is(err, ErrMissingHeader) || calls != 1 {
		t.Errorf("%v after %d calls", err, calls)
	}
}
