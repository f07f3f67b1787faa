// Package callbacktest makes WeChat Pay notifications for tests: the
// envelope WeChat Pay writes, its resource encrypted with AEAD_AES_256_GCM
// under an APIv3 key, signed with a test platform key, with the five
// Wechatpay-* headers and a Request-ID, and the auth.Verifier that accepts
// them. It needs no network and no WeChat Pay account:
//
//	platform := callbacktest.New()
//	parser, _ := callback.NewParser(callback.Config{
//		Verifier: platform.Verifier(),
//		APIv3Key: platform.APIv3Key,
//	})
//	d, _ := platform.Notification(callbacktest.Notification{
//		Resource: map[string]any{"out_trade_no": "1217752501201407033233368018", "trade_state": "SUCCESS"},
//	})
//	req, _ := d.NewRequest("http://localhost/notify") // or d.Header, d.Body
//
// The platform key is a fixed test key shipped with this package: it is
// public, and trusts nothing but these tests.
package callbacktest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gowxpay/wxpay/auth"
)

//go:embed platform.key.pem
var platformKeyPEM []byte

// Defaults of New.
const (
	// DefaultSerial is the Wechatpay-Serial of the test platform key, shaped
	// like a WeChat Pay public key id.
	DefaultSerial = "PUB_KEY_ID_0114232134912410000000000000000001"
	// DefaultAPIv3Key is the test APIv3 key.
	DefaultAPIv3Key = "callbacktest-apiv3-key-32-bytes!"
)

// Platform plays WeChat Pay's side: it encrypts and signs notifications.
type Platform struct {
	// Key signs notifications; the embedded test key by New.
	Key *rsa.PrivateKey
	// Serial is the Wechatpay-Serial notifications carry and the only one
	// the Verifier knows.
	Serial string
	// APIv3Key encrypts resources.
	APIv3Key []byte
	// Now is the clock for Wechatpay-Timestamp and create_time; time.Now
	// when nil.
	Now func() time.Time
}

// New returns a Platform with the embedded test key, DefaultSerial and
// DefaultAPIv3Key.
func New() *Platform {
	k, _ := auth.ParsePrivateKey(platformKeyPEM) // checked by the tests; Notification reports a nil Key
	return &Platform{Key: k, Serial: DefaultSerial, APIv3Key: []byte(DefaultAPIv3Key)}
}

func (p *Platform) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

// Verifier returns the Verifier of p's notifications, as the client's
// auth.PlatformKeys would be: it accepts signatures by p.Key under p.Serial
// (compared exactly) and reports any other serial as auth.ErrUnknownKey.
func (p *Platform) Verifier() auth.Verifier {
	serial := p.Serial
	var pub *rsa.PublicKey
	if p.Key != nil {
		pub = &p.Key.PublicKey
	}
	return auth.VerifierFunc(func(_ context.Context, s string, message []byte, signature string) error {
		if s != serial || pub == nil {
			return fmt.Errorf("%w: %q is not the test platform key %s", auth.ErrUnknownKey, s, serial)
		}
		return auth.VerifyBase64(pub, message, signature)
	})
}

// Notification describes a notification to make. The zero value is a
// TRANSACTION.SUCCESS notification with a resource of {} and fresh ids.
type Notification struct {
	// ID is the notification id; a random UUID when empty.
	ID string
	// CreateTime is create_time; the Platform's clock when zero.
	CreateTime time.Time
	// EventType is event_type; TRANSACTION.SUCCESS when empty.
	EventType string
	// ResourceType is resource_type; encrypt-resource when empty.
	ResourceType string
	// Summary is summary; derived from EventType when empty (支付成功 for
	// TRANSACTION.SUCCESS).
	Summary string
	// OriginalType is resource.original_type; derived from EventType when
	// empty (transaction for TRANSACTION.*, refund for REFUND.*).
	OriginalType string
	// AssociatedData is resource.associated_data, authenticated with the
	// resource; OriginalType when nil.
	AssociatedData *string
	// Algorithm is resource.algorithm; AEAD_AES_256_GCM when empty. The
	// resource is always encrypted with AEAD_AES_256_GCM: another name
	// tests algorithm dispatch.
	Algorithm string
	// Resource is encoded with encoding/json and encrypted, unless
	// Plaintext is set. Nil gives {}.
	Resource any
	// Plaintext is the exact resource JSON to encrypt.
	Plaintext []byte
	// ResourceNonce is resource.nonce; 12 random characters when empty.
	ResourceNonce string

	// Timestamp is Wechatpay-Timestamp; the Platform's clock when zero.
	Timestamp time.Time
	// Nonce is Wechatpay-Nonce; 32 random characters when empty.
	Nonce string
	// Signature replaces the computed Wechatpay-Signature when set.
	Signature string
	// Probe makes the signature one of WeChat Pay's signature probes
	// (WECHATPAY/SIGNTEST/…), which must be refused.
	Probe bool
	// RequestID is Request-ID; random when empty.
	RequestID string
}

// Delivery is a notification as it reaches the notify_url.
type Delivery struct {
	// Header holds Content-Type, User-Agent, Request-ID and the five
	// Wechatpay-* headers.
	Header http.Header
	// Body is the envelope, byte for byte as signed.
	Body []byte
	// Plaintext is the resource before encryption.
	Plaintext []byte
	// ID is the notification id.
	ID string
}

// Notification makes a signed, encrypted notification.
func (p *Platform) Notification(n Notification) (*Delivery, error) {
	if p.Key == nil {
		return nil, errors.New("callbacktest: the Platform has no Key")
	}
	now := p.now()
	if n.ID == "" {
		n.ID = newUUID()
	}
	if n.CreateTime.IsZero() {
		n.CreateTime = now
	}
	if n.EventType == "" {
		n.EventType = "TRANSACTION.SUCCESS"
	}
	if n.ResourceType == "" {
		n.ResourceType = "encrypt-resource"
	}
	if n.Summary == "" {
		n.Summary = summaryOf(n.EventType)
	}
	if n.OriginalType == "" {
		n.OriginalType = originalTypeOf(n.EventType)
	}
	ad := n.OriginalType
	if n.AssociatedData != nil {
		ad = *n.AssociatedData
	}
	if n.Algorithm == "" {
		n.Algorithm = auth.AlgorithmAESGCM
	}
	plain := n.Plaintext
	if plain == nil {
		if n.Resource == nil {
			plain = []byte("{}")
		} else {
			b, err := json.Marshal(n.Resource)
			if err != nil {
				return nil, fmt.Errorf("callbacktest: encoding Resource: %w", err)
			}
			plain = b
		}
	}
	if n.ResourceNonce == "" {
		n.ResourceNonce = randomString(12)
	}
	ct, err := auth.EncryptAESGCM(p.APIv3Key, n.ResourceNonce, ad, plain)
	if err != nil {
		return nil, fmt.Errorf("callbacktest: encrypting the resource: %w", err)
	}

	// The envelope, written as WeChat Pay writes it: compact, in this key
	// order, non-ASCII characters as they are.
	var b bytes.Buffer
	b.WriteString(`{"id":`)
	writeJSONString(&b, n.ID)
	b.WriteString(`,"create_time":`)
	writeJSONString(&b, n.CreateTime.In(chinaTime).Format("2006-01-02T15:04:05-07:00"))
	b.WriteString(`,"resource_type":`)
	writeJSONString(&b, n.ResourceType)
	b.WriteString(`,"event_type":`)
	writeJSONString(&b, n.EventType)
	b.WriteString(`,"summary":`)
	writeJSONString(&b, n.Summary)
	b.WriteString(`,"resource":{"original_type":`)
	writeJSONString(&b, n.OriginalType)
	b.WriteString(`,"algorithm":`)
	writeJSONString(&b, n.Algorithm)
	b.WriteString(`,"ciphertext":`)
	writeJSONString(&b, ct)
	b.WriteString(`,"associated_data":`)
	writeJSONString(&b, ad)
	b.WriteString(`,"nonce":`)
	writeJSONString(&b, n.ResourceNonce)
	b.WriteString(`}}`)
	body := b.Bytes()

	ts := n.Timestamp
	if ts.IsZero() {
		ts = now
	}
	tsText := strconv.FormatInt(ts.Unix(), 10)
	if n.Nonce == "" {
		n.Nonce = randomString(32)
	}
	sig := n.Signature
	switch {
	case n.Probe:
		sig = auth.SignatureProbePrefix + randomString(40) + "=="
	case sig == "":
		sig, err = auth.SignBase64(auth.RSASigner{Key: p.Key}, auth.ResponseMessage(tsText, n.Nonce, body))
		if err != nil {
			return nil, fmt.Errorf("callbacktest: signing: %w", err)
		}
	}
	if n.RequestID == "" {
		n.RequestID = strings.ToUpper(randomHex(16)) + "-0"
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "Mozilla/4.0")
	h.Set(auth.HeaderRequestID, n.RequestID)
	h.Set(auth.HeaderTimestamp, tsText)
	h.Set(auth.HeaderNonce, n.Nonce)
	h.Set(auth.HeaderSerial, p.Serial)
	h.Set(auth.HeaderSignature, sig)
	h.Set(auth.HeaderSignatureType, "WECHATPAY2-SHA256-RSA2048")
	return &Delivery{Header: h, Body: body, Plaintext: plain, ID: n.ID}, nil
}

// NewRequest returns a POST request of d to url, for a handler's
// ServeHTTP, a framework's test helper or an http.Client.
func (d *Delivery) NewRequest(url string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, url, bytes.NewReader(d.Body))
	if err != nil {
		return nil, err
	}
	req.Header = d.Header.Clone()
	return req, nil
}

// Clone returns a deep copy of d, to tamper with.
func (d *Delivery) Clone() *Delivery {
	return &Delivery{
		Header:    d.Header.Clone(),
		Body:      bytes.Clone(d.Body),
		Plaintext: bytes.Clone(d.Plaintext),
		ID:        d.ID,
	}
}

// HeaderMap returns d's headers as a map[string]string with the names
// given by name (http.CanonicalHeaderKey, strings.ToLower, CGI…), the way
// some frameworks hand them over.
func (d *Delivery) HeaderMap(name func(string) string) map[string]string {
	m := make(map[string]string, len(d.Header))
	for k, v := range d.Header {
		if len(v) > 0 {
			m[name(k)] = v[0]
		}
	}
	return m
}

// CGIName returns the CGI/WSGI/Django request.META name of a header:
// HTTP_ and the name in upper case with dashes as underscores.
func CGIName(name string) string {
	return "HTTP_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

func writeJSONString(b *bytes.Buffer, s string) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)       // a string always encodes
	b.Truncate(b.Len() - 1) // Encode's newline
}

func summaryOf(eventType string) string {
	switch eventType {
	case "TRANSACTION.SUCCESS":
		return "支付成功"
	case "REFUND.SUCCESS":
		return "退款成功"
	case "REFUND.ABNORMAL":
		return "退款异常"
	case "REFUND.CLOSED":
		return "退款关闭"
	}
	return "通知"
}

func originalTypeOf(eventType string) string {
	prefix, _, _ := strings.Cut(eventType, ".")
	switch prefix {
	case "TRANSACTION":
		return "transaction"
	case "REFUND":
		return "refund"
	case "MCHTRANSFER":
		return "mch_payment"
	}
	return strings.ToLower(prefix)
}

// chinaTime is the zone WeChat Pay writes times in.
var chinaTime = time.FixedZone("CST", 8*3600)

const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%x", b)
}

func newUUID() string {
	h := randomHex(16)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
