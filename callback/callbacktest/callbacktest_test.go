package callbacktest

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gowxpay/wxpay/auth"
)

func TestPlatform(t *testing.T) {
	p := New()
	if p.Key == nil || p.Key.N.BitLen() != 2048 {
		t.Fatal("the embedded key is not a 2048-bit RSA key")
	}
	if err := auth.CheckPublicKeyID(p.Serial); err != nil {
		t.Fatal(err)
	}
	if err := auth.CheckAPIv3Key(p.APIv3Key); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 1, 4, 0, 0, 0, time.UTC)
	p.Now = func() time.Time { return now }
	d, err := p.Notification(Notification{Resource: map[string]int{"total": 1}})
	if err != nil {
		t.Fatal(err)
	}
	// WeChat Pay's envelope: compact, in its key order, China time.
	re := regexp.MustCompile(`^\{"id":"[0-9a-f-]{36}","create_time":"2026-03-01T12:00:00\+08:00","resource_type":"encrypt-resource","event_type":"TRANSACTION.SUCCESS","summary":"支付成功","resource":\{"original_type":"transaction","algorithm":"AEAD_AES_256_GCM","ciphertext":"[A-Za-z0-9+/=]+","associated_data":"transaction","nonce":"[0-9A-Za-z]{12}"\}\}$`)
	if !re.Match(d.Body) {
		t.Fatalf("envelope %s", d.Body)
	}
	var env struct {
		Resource struct {
			Ciphertext     string `json:"ciphertext"`
			AssociatedData string `json:"associated_data"`
			Nonce          string `json:"nonce"`
		} `json:"resource"`
	}
	if err := json.Unmarshal(d.Body, &env); err != nil {
		t.Fatal(err)
	}
	plain, err := auth.DecryptAESGCM(p.APIv3Key, env.Resource.Nonce, env.Resource.AssociatedData, env.Resource.Ciphertext)
	if err != nil || string(plain) != `{"total":1}` || string(d.Plaintext) != `{"total":1}` {
		t.Fatalf("plaintext %s: %v", plain, err)
	}
	// The headers, and a signature the Verifier accepts.
	h := d.Header
	if h.Get(auth.HeaderTimestamp) != strconv.FormatInt(now.Unix(), 10) || len(h.Get(auth.HeaderNonce)) != 32 || h.Get(auth.HeaderSerial) != DefaultSerial || h.Get(auth.HeaderSignatureType) != "WECHATPAY2-SHA256-RSA2048" || !strings.HasSuffix(h.Get("Request-ID"), "-0") {
		t.Fatalf("headers %v", h)
	}
	v := p.Verifier()
	msg := auth.ResponseMessage(h.Get(auth.HeaderTimestamp), h.Get(auth.HeaderNonce), d.Body)
	if err := v.Verify(context.Background(), DefaultSerial, msg, h.Get(auth.HeaderSignature)); err != nil {
		t.Fatal(err)
	}
	if err := v.Verify(context.Background(), "PUB_KEY_ID_OTHER", msg, h.Get(auth.HeaderSignature)); !errors.Is(err, auth.ErrUnknownKey) {
		t.Fatalf("other serial: %v", err)
	}
	msg[0] ^= 1
	if err := v.Verify(context.Background(), DefaultSerial, msg, h.Get(auth.HeaderSignature)); !errors.Is(err, auth.ErrBadSignature) {
		t.Fatalf("changed message: %v", err)
	}
	// Probes.
	d, err = p.Notification(Notification{Probe: true})
	if err != nil || !strings.HasPrefix(d.Header.Get(auth.HeaderSignature), auth.SignatureProbePrefix) {
		t.Fatalf("probe: %v %v", d.Header, err)
	}
	// Helpers.
	if CGIName("Wechatpay-Signature-Type") != "HTTP_WECHATPAY_SIGNATURE_TYPE" {
		t.Error(CGIName("Wechatpay-Signature-Type"))
	}
	if m := d.HeaderMap(strings.ToLower); m["wechatpay-nonce"] != d.Header.Get(auth.HeaderNonce) {
		t.Errorf("HeaderMap %v", m)
	}
	c := d.Clone()
	c.Body[0] = 'x'
	c.Header.Set(auth.HeaderNonce, "x")
	if d.Body[0] != '{' || d.Header.Get(auth.HeaderNonce) == "x" {
		t.Error("Clone shares memory")
	}
	req, err := d.NewRequest("http://localhost/notify")
	if err != nil || req.Method != "POST" || req.Header.Get(auth.HeaderSerial) != DefaultSerial {
		t.Fatalf("NewRequest: %v", err)
	}
	// A Platform without a key says so.
	if _, err := (&Platform{}).Notification(Notification{}); err == nil {
		t.Error("no key: no error")
	}
}
