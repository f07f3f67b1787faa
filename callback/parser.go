package callback

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/gowxpay/wxpay/auth"
	"github.com/gowxpay/wxpay/core"
)

// Config configures a Parser.
type Config struct {
	// Verifier checks notification signatures with the platform key that
	// Wechatpay-Serial names; the client's *auth.PlatformKeys is the one to
	// use (it downloads certificates again, once, for an unknown serial).
	// Required.
	Verifier auth.Verifier
	// APIv3Key is the 32-byte APIv3 key (商户平台 → API安全 → APIv3密钥)
	// that AEAD_AES_256_GCM resources are encrypted with. Required. The
	// Parser does not keep it: it keeps the AES cipher made from it.
	APIv3Key []byte
	// MaxSkew is the largest accepted difference between
	// Wechatpay-Timestamp and the clock, either way; auth.DefaultMaxSkew
	// (5 minutes) when zero or less.
	MaxSkew time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Openers adds or replaces decryption algorithms, by the name the
	// resource's algorithm field carries (auth.AlgorithmSM4GCM, say). The
	// AEAD_AES_256_GCM opener under APIv3Key is registered unless Openers
	// replaces it, and so is the suite's (AEAD_SM4_GCM) when Verifier is
	// the *auth.PlatformKeys of an opt-in suite. The map is copied.
	Openers map[string]Opener
	// Events says which Go type each notification event type's resource
	// decodes into. Each generated area lists its own (payments.Events(),
	// refunds.Events() …); wxpay.Events() lists every area's, and is what
	// wxpay.Client's CallbackParser uses. An event type not listed decodes
	// as raw JSON. The slice is copied.
	Events []core.EventType
	// Logger receives a debug line per parsed or rejected notification
	// (id, event type, Request-ID, the error), and Handler's lines; never
	// keys, signatures or decrypted data. Nil disables logging.
	Logger *slog.Logger
}

// Parser verifies, decrypts and decodes notifications. It is safe for
// concurrent use; make one per merchant and keep it.
type Parser struct {
	verifier auth.Verifier
	maxSkew  time.Duration
	now      func() time.Time
	openers  map[string]Opener
	sigType  string // the Wechatpay-Signature-Type verifier checks
	events   map[string]*eventEntry
	log      *slog.Logger
}

// eventEntry is the declarations of one event type.
type eventEntry struct {
	typ   string
	decls []core.EventType
}

// NewParser checks cfg and returns a Parser. Errors name the Config field
// that is wrong and never contain the key.
func NewParser(cfg Config) (*Parser, error) {
	if cfg.Verifier == nil {
		return nil, errors.New("callback: Config.Verifier is nil: notifications must be verified with the platform keys (the client's *auth.PlatformKeys)")
	}
	if len(cfg.APIv3Key) == 0 {
		return nil, errors.New("callback: Config.APIv3Key is empty: notifications are encrypted with the APIv3 key (商户平台 → API安全 → APIv3密钥)")
	}
	if err := auth.CheckAPIv3Key(cfg.APIv3Key); err != nil {
		return nil, fmt.Errorf("callback: Config.APIv3Key: %w", err)
	}
	p := &Parser{
		verifier: cfg.Verifier,
		maxSkew:  cfg.MaxSkew,
		now:      cfg.Now,
		openers:  make(map[string]Opener, len(cfg.Openers)+1),
		sigType:  signatureType(cfg.Verifier),
		events:   make(map[string]*eventEntry, len(cfg.Events)),
		log:      cfg.Logger,
	}
	if p.maxSkew <= 0 {
		p.maxSkew = auth.DefaultMaxSkew
	}
	if p.now == nil {
		p.now = time.Now
	}
	aes, err := NewAESGCMOpener(cfg.APIv3Key)
	if err != nil {
		return nil, fmt.Errorf("callback: Config.APIv3Key: %w", err)
	}
	p.openers[auth.AlgorithmAESGCM] = aes
	if sv, ok := cfg.Verifier.(interface{ Suite() auth.Suite }); ok && sv.Suite() != nil {
		// The keys of an opt-in suite (国密): its resources are encrypted
		// with the suite's AEAD (AEAD_SM4_GCM) under the same APIv3 key.
		s := sv.Suite()
		aead, err := s.NewAEAD(cfg.APIv3Key)
		if err != nil {
			return nil, fmt.Errorf("callback: Config.APIv3Key: %w", err)
		}
		p.openers[s.AEADAlgorithm()] = aead
	}
	for name, o := range cfg.Openers {
		if o == nil {
			return nil, fmt.Errorf("callback: Config.Openers[%q] is nil", name)
		}
		p.openers[name] = o
	}
	for _, d := range cfg.Events {
		if d.Type == "" || d.New == nil {
			return nil, fmt.Errorf("callback: Config.Events: an event type needs Type and New, have %q", d.Type)
		}
		e := p.events[d.Type]
		if e == nil {
			e = &eventEntry{typ: d.Type}
			p.events[d.Type] = e
		}
		e.decls = append(e.decls, d)
	}
	return p, nil
}

// Event is a verified, decrypted notification.
type Event struct {
	// ID is the notification id; WeChat Pay delivers a notification again,
	// with the same id, until it is acknowledged, so use it to recognise
	// duplicates.
	ID string
	// CreateTime is when WeChat Pay created the notification.
	CreateTime core.Time
	// EventType is the event_type, e.g. TRANSACTION.SUCCESS
	// (payments.EventTransactionSuccess).
	EventType string
	// ResourceType is the resource_type: encrypt-resource.
	ResourceType string
	// Summary is WeChat Pay's one-line description (支付成功, 退款成功 …).
	Summary string
	// OriginalType is the resource's original_type (transaction, refund …).
	OriginalType string
	// Resource is the decrypted resource, decoded: a pointer to the
	// generated type that api/openapi.yaml declares for EventType (see
	// x-wxpay-events), e.g. *payments.Transaction for TRANSACTION.SUCCESS.
	// For an event type without a declaration it is the plaintext as a
	// json.RawMessage (the same bytes as Plaintext): such events are not
	// errors. It is never nil.
	Resource any
	// Plaintext is the decrypted resource, the JSON as WeChat Pay wrote it.
	// It is sensitive (payer ids, amounts): do not log it.
	Plaintext json.RawMessage
	// RequestID is the Request-ID header of the delivery.
	RequestID string
}

// Decode decodes the plaintext into v, for event types without a
// generated type, or into a type of your own.
func (e *Event) Decode(v any) error {
	if e == nil {
		return &Error{Step: StepDecode, Reason: "the Event is nil"}
	}
	if err := json.Unmarshal(e.Plaintext, v); err != nil {
		return &Error{Step: StepDecode, ID: e.ID, EventType: e.EventType, RequestID: e.RequestID, Reason: fmt.Sprintf("decoding the resource into %T failed: %s", v, describeDecodeError(err)), Kind: ErrDecode}
	}
	return nil
}

// LogValue implements slog.LogValuer: id, event type, original type and
// Request-ID, never the resource.
func (e *Event) LogValue() slog.Value {
	if e == nil {
		return slog.Value{}
	}
	return slog.GroupValue(
		slog.String("id", e.ID),
		slog.String("event_type", e.EventType),
		slog.String("original_type", e.OriginalType),
		slog.String("request_id", e.RequestID),
	)
}

// signatureTypeRSA is the Wechatpay-Signature-Type an RSA Verifier checks;
// an absent header means it. A Verifier of an opt-in suite (the 国密
// *auth.PlatformKeys) checks its suite's scheme instead.
const signatureTypeRSA = "WECHATPAY2-SHA256-RSA2048"

// signatureType returns the Wechatpay-Signature-Type v verifies.
func signatureType(v auth.Verifier) string {
	if sv, ok := v.(interface{ Suite() auth.Suite }); ok {
		if s := sv.Suite(); s != nil {
			return s.Scheme()
		}
	}
	return signatureTypeRSA
}

// Parse verifies a notification, decrypts its resource and decodes it into
// an Event. It needs the request's headers and its raw body, exactly the
// bytes received: not a body a framework has decoded and encoded again.
//
// header may be any of the shapes frameworks hand headers over in:
//
//   - http.Header or *http.Request (net/http, chi, gin's c.Request.Header,
//     echo's c.Request().Header);
//   - map[string][]string (fiber's c.GetReqHeaders()) or map[string]string
//     (serverless events, hand-made maps);
//   - func(string) string (gin's c.GetHeader, echo's c.Request().Header.Get),
//     or any lookup wrapped in HeaderFunc;
//   - any value with a Get(string) string method (Getter), or with a
//     Peek(string) []byte method (Peeker: fasthttp's &ctx.Request.Header,
//     fiber's &c.Request().Header).
//
// Names are matched case-insensitively, and CGI/WSGI/Django names
// (HTTP_WECHATPAY_SIGNATURE: upper case, underscores, HTTP_ prefix) are
// understood, in maps and through getters alike. Parse takes an any rather
// than an interface of its own because these shapes share no method set: each
// can be passed as the framework gives it, without an adapter to find, and a
// value of any other type is reported by the first call (ErrHeaderType), never
// silently read as empty.
//
// Parse then checks, in order: that the signature headers are present and
// the signature is no probe (auth.ErrSignatureProbe: answer non-2xx and WeChat
// Pay delivers again with a valid signature); that Wechatpay-Timestamp is
// within MaxSkew of the clock (auth.ErrClockSkew); and that the signature over
// TIMESTAMP\nNONCE\nBODY\n verifies with the key Wechatpay-Serial names. When it
// does not, and the body looks re-encoded, the error also matches
// ErrBodyChanged and says how to pass the raw body. Only then does it decode
// the envelope, decrypt the resource with the Opener its algorithm names and
// decode the plaintext by event type (see Event.Resource).
//
// Every failure is an *Error. Parse does not keep header or body after it
// returns.
func (p *Parser) Parse(ctx context.Context, header any, body []byte) (*Event, error) {
	if p == nil {
		return nil, &Error{Reason: "the Parser is nil: make one with NewParser"}
	}
	if ctx == nil {
		return nil, &Error{Reason: "the context is nil: pass the request's context"}
	}
	ev, err := p.parse(ctx, header, body)
	if p.log != nil && p.log.Enabled(ctx, slog.LevelDebug) {
		if err != nil {
			p.log.LogAttrs(ctx, slog.LevelDebug, "wxpay callback: notification rejected", boundAttr(slog.String("error", err.Error())))
		} else {
			p.log.LogAttrs(ctx, slog.LevelDebug, "wxpay callback: notification parsed", boundAttr(slog.Any("event", ev)))
		}
	}
	return ev, err
}

func (p *Parser) parse(ctx context.Context, header any, body []byte) (*Event, error) {
	h, err := readHeaders(header)
	if err != nil {
		var te *headerTypeError
		if errors.As(err, &te) {
			return nil, &Error{Step: StepHeaders, Reason: err.Error(), Kind: ErrHeaderType}
		}
		return nil, &Error{Step: StepHeaders, Reason: err.Error(), Kind: ErrHeaderConflict}
	}
	reqID := h[nRequestID]
	if len(body) == 0 {
		return nil, &Error{Step: StepBody, RequestID: reqID, Kind: ErrEmptyBody,
			Reason: "the body is empty: something read it before Parse (with net/http, a middleware or r.ParseForm); read the request body once, before anything else does, and pass those bytes"}
	}
	if err := p.verify(ctx, h, body); err != nil {
		return nil, err
	}

	var env envelope
	if err := parseEnvelope(body, &env); err != nil {
		return nil, &Error{Step: StepEnvelope, RequestID: reqID, Kind: ErrMalformed, Reason: "the verified body is not a WeChat Pay notification: " + err.Error()}
	}
	ev := &Event{RequestID: reqID}
	var entry *eventEntry
	if raw := env.eventType.raw(); !env.eventType.esc {
		if entry = p.events[string(raw)]; entry != nil {
			ev.EventType = entry.typ
		} else {
			ev.EventType = string(raw)
		}
	} else {
		ev.EventType = env.eventType.string()
		entry = p.events[ev.EventType]
	}
	ev.ID = env.id.string()
	missing := ""
	switch {
	case ev.ID == "":
		missing = "id"
	case ev.EventType == "":
		missing = "event_type"
	case !env.hasResource:
		missing = "resource"
	case !env.algorithm.set():
		missing = "resource.algorithm"
	case !env.ciphertext.set():
		missing = "resource.ciphertext"
	case !env.nonce.set():
		missing = "resource.nonce"
	}
	if missing != "" {
		return nil, &Error{Step: StepEnvelope, ID: ev.ID, EventType: ev.EventType, RequestID: reqID, Kind: ErrMalformed, Reason: "the verified body has no " + missing + " field: it is not a WeChat Pay notification"}
	}
	if env.createTime.set() {
		if err := ev.CreateTime.UnmarshalText(env.createTime.bytes()); err != nil {
			return nil, &Error{Step: StepEnvelope, ID: ev.ID, EventType: ev.EventType, RequestID: reqID, Kind: ErrMalformed, Reason: "the create_time field is not an RFC 3339 time"}
		}
	}
	ev.ResourceType = intern(env.resourceType, resourceTypes)
	ev.Summary = env.summary.string()
	ev.OriginalType = intern(env.originalType, originalTypes)

	plain, err := p.decrypt(&env)
	if err != nil {
		if e, ok := err.(*Error); ok {
			e.ID, e.EventType, e.RequestID = ev.ID, ev.EventType, reqID
		}
		return nil, err
	}
	ev.Plaintext = plain
	ev.Resource = json.RawMessage(plain)
	if entry != nil {
		if d := entry.pick(plain); d != nil {
			v := d.New()
			if err := json.Unmarshal(plain, v); err != nil {
				return nil, &Error{Step: StepDecode, ID: ev.ID, EventType: ev.EventType, RequestID: reqID, Kind: ErrDecode,
					Reason: fmt.Sprintf("the decrypted resource of %s does not decode into %T: %s", ev.EventType, v, describeDecodeError(err))}
			}
			ev.Resource = v
		}
	}
	return ev, nil
}

// verify checks the signature headers and the signature.
func (p *Parser) verify(ctx context.Context, h headerValues, body []byte) error {
	s := auth.Signed{Timestamp: h[nTimestamp], Nonce: h[nNonce], Serial: h[nSerial], Signature: h[nSignature], Body: body}
	reqID := h[nRequestID]
	if t := h[nSignatureType]; t != "" && t != p.sigType && !strings.HasPrefix(s.Signature, auth.SignatureProbePrefix) {
		return &Error{Step: StepSignature, RequestID: reqID, Err: &auth.VerificationError{RequestID: reqID, Serial: s.Serial,
			Reason: fmt.Sprintf("Wechatpay-Signature-Type %.40q is not the one this parser's keys verify (%s): RSA and 国密 (SM2) merchants need their own keys (Config.Suite)", t, p.sigType)}}
	}
	now := time.Now
	if p.now != nil { // a zero Parser, not made by NewParser
		now = p.now
	}
	err := auth.CheckSigned(ctx, p.verifier, s, now(), p.maxSkew)
	if err == nil {
		return nil
	}
	var ve *auth.VerificationError
	if errors.As(err, &ve) && ve.RequestID == "" {
		ve.RequestID = reqID
	}
	e := &Error{Step: StepSignature, RequestID: reqID, Err: err}
	if errors.Is(err, auth.ErrMissingHeader) && h[nTimestamp] == "" && h[nNonce] == "" && h[nSerial] == "" && h[nSignature] == "" {
		e.Reason = "no Wechatpay-* header was found: pass the notification request's headers (all of them, as the framework gives them)"
	}
	if errors.Is(err, auth.ErrBadSignature) {
		if why := diagnoseBody(body); why != "" {
			e.Kind = ErrBodyChanged
			e.Reason = "signature verification failed, and the body is not written the way WeChat Pay writes notifications: " + why + ". A framework or middleware that decodes and re-encodes the body does this: pass the raw request body instead: with net/http, read r.Body (io.ReadAll) before anything parses it; gin: c.GetRawData(); echo: io.ReadAll(c.Request().Body); fiber: c.BodyRaw()"
		}
	}
	return e
}

// decrypt opens the resource.
func (p *Parser) decrypt(env *envelope) ([]byte, error) {
	alg := env.algorithm.raw()
	var o Opener
	if !env.algorithm.esc {
		o = p.openers[string(alg)]
	}
	if o == nil {
		return nil, &Error{Step: StepDecrypt, Kind: ErrUnsupportedAlgorithm,
			Reason: fmt.Sprintf("the resource is encrypted with %.40q, for which no Opener is registered (registered: %s): add one to Config.Openers", env.algorithm.string(), p.openerNames())}
	}
	ct := env.ciphertext.bytes()
	buf := make([]byte, base64.StdEncoding.DecodedLen(len(ct)))
	n, err := base64.StdEncoding.Decode(buf, ct)
	if err != nil {
		return nil, &Error{Step: StepDecrypt, Reason: "the resource's ciphertext is not Base64"}
	}
	nonce := env.nonce.bytes()
	if a, ok := o.(aeadShape); ok {
		if len(nonce) != a.NonceSize() {
			return nil, &Error{Step: StepDecrypt, Reason: fmt.Sprintf("the resource's nonce has %d bytes, and %.40s needs %d", len(nonce), alg, a.NonceSize())}
		}
		if n < a.Overhead() {
			return nil, &Error{Step: StepDecrypt, Err: auth.ErrDecrypt}
		}
	}
	plain, err := o.Open(buf[:0], nonce, buf[:n], env.associatedData.bytes())
	if err != nil {
		if errors.Is(err, auth.ErrDecrypt) {
			return nil, &Error{Step: StepDecrypt, Err: err}
		}
		return nil, &Error{Step: StepDecrypt, Reason: "decrypting the resource failed", Err: err}
	}
	return plain, nil
}

func (p *Parser) openerNames() string {
	names := make([]string, 0, len(p.openers))
	for n := range p.openers {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// pick returns the declaration for a plaintext: the first whose Key is one
// of its top-level properties, else the first without a Key, else nil.
func (e *eventEntry) pick(plain []byte) *core.EventType {
	var fallback *core.EventType
	for i := range e.decls {
		d := &e.decls[i]
		if d.Key == "" {
			if fallback == nil {
				fallback = d
			}
			continue
		}
		if hasTopLevelKey(plain, d.Key) {
			return d
		}
	}
	return fallback
}

// Frequent values, kept as constants so that Parse does not copy them.
var (
	resourceTypes = []string{"encrypt-resource"}
	originalTypes = []string{"transaction", "refund", "payscore", "mch_payment", "profitsharing", "coupon"}
)

// intern returns s's value, reusing a string of list when it is one.
func intern(s jsonString, list []string) string {
	if !s.esc {
		raw := s.raw()
		for _, v := range list {
			if string(raw) == v {
				return v
			}
		}
	}
	return s.string()
}

// describeDecodeError words a decoding error without quoting the data: a
// type error names the field and the types, a syntax error its offset.
func describeDecodeError(err error) string {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	var pe *time.ParseError
	switch {
	case errors.As(err, &te):
		kind := te.Value
		if i := strings.IndexByte(kind, ' '); i >= 0 {
			kind = kind[:i]
		}
		return fmt.Sprintf("field %q holds a JSON %s where Go type %s is expected", te.Field, kind, te.Type)
	case errors.As(err, &se):
		return fmt.Sprintf("it is not valid JSON (offset %d)", se.Offset)
	case errors.As(err, &pe):
		return "a time is not in RFC 3339 form"
	}
	return fmt.Sprintf("a value does not decode (%T)", err)
}
