package sandbox

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/routers"

	"github.com/gowxpay/wxpay/auth"
)

// opHandler answers one operation once the request is authenticated and
// valid.
type opHandler func(c *call) *answer

// call is one request to a WeChat Pay path.
type call struct {
	s          *Server
	w          http.ResponseWriter
	r          *http.Request
	op         *Operation
	route      *routers.Route
	pathParams map[string]string
	raw        []byte         // the body as received
	body       map[string]any // the JSON body, when it is an object
	merchant   *merchantState // the authenticated merchant
	// preferPublicKey: the request's Wechatpay-Serial names the platform
	// public key (TransitionMode signs the answer with it).
	preferPublicKey bool
	// sm: the request was signed WECHATPAY2-SM2-WITH-SM3; its answer is
	// signed with SM2.
	sm     bool
	faults []Fault
}

// answer is what a handler returns; the pipeline signs and writes it.
type answer struct {
	status      int
	body        []byte
	contentType string
	signed      bool
	code        string // error code, for the Request-ID suffix
	noRequestID bool
}

// maxBody bounds request bodies (media uploads included).
const maxBody = 32 << 20

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	route, pathParams, err := s.spec.findRoute(r)
	if err != nil {
		if errors.Is(err, errMethodNotAllowed) {
			w.WriteHeader(http.StatusMethodNotAllowed)
		} else {
			w.WriteHeader(http.StatusNotFound)
		}
		return
	}
	op := s.spec.ops[route.Operation.OperationID]
	c := &call{s: s, w: w, r: r, op: op, route: route, pathParams: pathParams}
	c.faults = s.faults.take(op, r.URL.Path)
	if !s.applyPreFaults(c) {
		return
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		s.write(c, errorAnswer(http.StatusBadRequest, "INVALID_REQUEST", "读取请求体失败", false))
		return
	}
	if len(raw) > maxBody {
		s.write(c, errorAnswer(http.StatusRequestEntityTooLarge, "INVALID_REQUEST", "请求体过大", false))
		return
	}
	c.raw = raw
	if a := s.authenticate(c); a != nil {
		s.write(c, a)
		return
	}
	if a := c.faultAnswer(); a != nil {
		s.write(c, a)
		return
	}
	if a := s.validate(c); a != nil {
		s.write(c, a)
		return
	}
	if a := s.checkSensitive(c); a != nil {
		s.write(c, a)
		return
	}
	if a := s.checkIdentity(c); a != nil {
		s.write(c, a)
		return
	}
	h := s.handlers[op.ID]
	if h == nil {
		h = s.generic
	}
	s.write(c, h(c))
}

// errorAnswer builds a WeChat error body {code, message}.
func errorAnswer(status int, code, message string, signed bool) *answer {
	b, _ := json.Marshal(struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}{code, message})
	return &answer{status: status, body: b, contentType: "application/json", signed: signed, code: code}
}

// fail is a business error after authentication: signed, like the
// successful answers.
func (c *call) fail(status int, code, message string) *answer {
	return errorAnswer(status, code, message, true)
}

// failDetail is fail with a detail object.
func (c *call) failDetail(status int, code, message string, d errorDetail) *answer {
	b, _ := json.Marshal(struct {
		Code    string      `json:"code"`
		Message string      `json:"message"`
		Detail  errorDetail `json:"detail"`
	}{code, message, d})
	return &answer{status: status, body: b, contentType: "application/json", signed: true, code: code}
}

// errorDetail locates a parameter error.
type errorDetail struct {
	Field    string `json:"field,omitempty"`
	Value    any    `json:"value,omitempty"`
	Issue    string `json:"issue,omitempty"`
	Location string `json:"location,omitempty"`
}

// reply answers v (a map or struct) as JSON with the given status, fitted to
// the operation's response schema for that status so that it stays valid
// while the spec changes.
func (c *call) reply(status int, v any) *answer {
	if schema := c.op.responseSchema(status); schema != nil {
		g := &synth{now: c.s.now(), all: false}
		v = g.fit(schema, "", normalize(v), 0)
	} else if code, resp := c.op.successResponse(); resp != nil && code == status && len(resp.Content) == 0 {
		return c.noContent(status)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return c.fail(http.StatusInternalServerError, "SYSTEM_ERROR", "系统错误")
	}
	return &answer{status: status, body: b, contentType: "application/json", signed: !c.op.Unsigned}
}

// ok answers v with the operation's success status: 200 for most, 204 (no
// body) when the spec says so.
func (c *call) ok(v any) *answer {
	code, resp := c.op.successResponse()
	if resp == nil {
		code = http.StatusOK
	}
	if code == http.StatusNoContent || (resp != nil && len(resp.Content) == 0) {
		return c.noContent(code)
	}
	return c.reply(code, v)
}

func (c *call) noContent(status int) *answer {
	return &answer{status: status, signed: !c.op.Unsigned}
}

// Request-ID suffixes: WeChat's internal code of the outcome, 0 on success
// (protocol notes §2.6, §8.2).
var requestIDCodes = map[string]string{
	"SIGN_ERROR":        "268443699",
	"ORDER_NOT_EXIST":   "268512771",
	"ORDERNOTEXIST":     "268512771",
	"PARAM_ERROR":       "268435461",
	"FREQUENCY_LIMITED": "268447840",
	"INVALID_REQUEST":   "268498688",
}

func requestID(code string) string {
	var b [22]byte
	_, _ = rand.Read(b[:])
	id := strings.ToUpper(hex.EncodeToString(b[:]))
	switch {
	case code == "":
		return id + "-0"
	case requestIDCodes[code] != "":
		return id + "-" + requestIDCodes[code]
	}
	return id + "-268435456"
}

// newNonce returns a 32-character hex nonce, like WeChat's.
func newNonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// write signs (when the answer is signed) and writes an answer.
func (s *Server) write(c *call, a *answer) {
	h := c.w.Header()
	if !a.noRequestID {
		h.Set("Request-ID", requestID(a.code))
	}
	if a.contentType != "" {
		ct := a.contentType
		if ct == "application/json" || ct == "text/plain" {
			ct += "; charset=utf-8"
		}
		h.Set("Content-Type", ct)
	}
	if a.signed {
		sh, err := s.signHeaders(a.body, c.preferPublicKey, c.sm, c.faults)
		if err != nil {
			s.log.Error("sandbox: signing an answer", "err", err)
			a = errorAnswer(http.StatusInternalServerError, "SYSTEM_ERROR", "系统错误", false)
			h.Set("Content-Type", "application/json; charset=utf-8")
		} else {
			for k, v := range sh {
				h[k] = v
			}
		}
	}
	if off, ok := clockOffset(c.faults); ok {
		// The server's clock is off: its Date says so too, so that a
		// client can measure the difference.
		h.Set("Date", s.now().Add(off).UTC().Format(http.TimeFormat))
	}
	h.Set("Content-Length", strconv.Itoa(len(a.body)))
	c.w.WriteHeader(a.status)
	if len(a.body) > 0 {
		_, _ = c.w.Write(a.body)
	}
	if a.status >= 400 {
		s.log.Debug("sandbox: refused", "op", c.op.ID, "status", a.status, "code", a.code)
	}
}

// signHeaders returns the Wechatpay-* headers for a body, with the
// signature faults among faults applied.
func (s *Server) signHeaders(body []byte, preferPublicKey, sm bool, faults []Fault) (http.Header, error) {
	off, _ := clockOffset(faults)
	now := s.now().Add(off)
	ts := strconv.FormatInt(now.Unix(), 10)
	nonce := newNonce()
	var serial, sig, scheme string
	var err error
	if sm && s.sm != nil {
		serial, sig, err = s.smSign(preferPublicKey, auth.ResponseMessage(ts, nonce, body))
		scheme = auth.SchemeSM2
	} else {
		var key *rsa.PrivateKey
		serial, key = s.ring.signingKey(s.now(), preferPublicKey)
		sig, err = auth.SignBase64(auth.RSASigner{Key: key}, auth.ResponseMessage(ts, nonce, body))
		scheme = auth.SchemeRSA
	}
	if err != nil {
		return nil, err
	}
	h := http.Header{}
	h.Set("Wechatpay-Timestamp", ts)
	h.Set("Wechatpay-Nonce", nonce)
	h.Set("Wechatpay-Serial", serial)
	h.Set("Wechatpay-Signature-Type", scheme)
	h.Set("Wechatpay-Signature", sig)
	for _, f := range faults {
		switch f.Kind {
		case FaultBadSignature:
			h.Set("Wechatpay-Signature", corruptSignature(sig))
		case FaultNoSignature:
			h.Del("Wechatpay-Signature")
		case FaultSignTest:
			h.Set("Wechatpay-Signature", SignTestPrefix+sig)
		}
	}
	return h, nil
}

// clockOffset sums the clock offsets among faults; ok is false when there
// is none.
func clockOffset(faults []Fault) (off time.Duration, ok bool) {
	for _, f := range faults {
		if f.Kind == FaultClockOffset {
			off, ok = off+f.ClockOffset, true
		}
	}
	return off, ok
}

// corruptSignature returns a well-formed Base64 signature that does not
// verify.
func corruptSignature(sig string) string {
	b := []byte(sig)
	for i := 0; i < len(b); i++ {
		if b[i] != '=' && b[i] != 'A' {
			b[i] = 'A'
			return string(b)
		}
	}
	return "AAAA" + sig[4:]
}

// SignTestPrefix starts the Wechatpay-Signature of the signature probes
// WeChat Pay sends now and then to check that merchants verify signatures.
const SignTestPrefix = "WECHATPAY/SIGNTEST/"

// baseURL is the URL the request reached the server at: download_url
// values point there.
func (c *call) baseURL() string {
	scheme := "http"
	if c.r.TLS != nil {
		scheme = "https"
	}
	if c.r.Host != "" {
		return scheme + "://" + c.r.Host
	}
	if u := c.s.URL(); u != "" {
		return u
	}
	return "http://localhost"
}

// str reads a string at a path of nested objects in v.
func str(v any, path ...string) string {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = m[p]
	}
	s, _ := v.(string)
	return s
}

// num reads an integer at a path of nested objects in v.
func num(v any, path ...string) (int64, bool) {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return 0, false
		}
		v = m[p]
	}
	switch x := v.(type) {
	case float64:
		return int64(x), true
	case json.Number:
		i, err := x.Int64()
		return i, err == nil
	}
	return 0, false
}

// decodeBody decodes a JSON object body; nil when empty or not an object.
func decodeBody(raw []byte) (map[string]any, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, nil
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	m, _ := v.(map[string]any)
	return m, nil
}

// sleepCtx sleeps for d unless the request or the server ends first.
func (s *Server) sleepCtx(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	case <-s.ctx.Done():
		return false
	}
}
