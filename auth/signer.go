package auth

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gowxpay/wxpay/core"
)

// NonceSize is the length of the nonces RequestSigner and PaySigner
// generate: 32 characters from [0-9A-Za-z], as the official SDKs send.
const NonceSize = 32

const nonceAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// appendNonce appends NonceSize random characters from [0-9A-Za-z], drawn
// from crypto/rand without modulo bias.
func appendNonce(b []byte) ([]byte, error) {
	var raw [64]byte
	n := 0
	for n < NonceSize {
		if _, err := rand.Read(raw[:]); err != nil {
			return b, fmt.Errorf("auth: reading random bytes for the nonce: %w", err)
		}
		for _, c := range raw {
			// 248 = 4*62: values at or above it would bias the result.
			if c >= 248 {
				continue
			}
			b = append(b, nonceAlphabet[c%62])
			if n++; n == NonceSize {
				break
			}
		}
	}
	return b, nil
}

// NewNonce returns NonceSize random characters from [0-9A-Za-z].
func NewNonce() (string, error) {
	var buf [NonceSize]byte
	b, err := appendNonce(buf[:0])
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// checkToken rejects a value that would change the structure of a signed
// message or of the Authorization header: control characters (\n above
// all) and double quotes.
func checkToken(what, v string) error {
	if v == "" {
		return fmt.Errorf("auth: the %s is empty", what)
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c == 0x7f || c == '"' {
			return fmt.Errorf("auth: the %s contains a control character or a double quote", what)
		}
	}
	return nil
}

// bufPool recycles the buffers a signature or a verification builds its
// message in.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

// maxPooled bounds the buffers returned to bufPool, so one huge body does
// not stay in memory.
const maxPooled = 64 << 10

func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

func putBuf(bp *[]byte) {
	if cap(*bp) > maxPooled {
		return
	}
	*bp = (*bp)[:0]
	bufPool.Put(bp)
}

// RequestSigner signs requests to WeChat Pay: it computes the
// WECHATPAY2-SHA256-RSA2048 Authorization header over the method, the
// canonical URL, a timestamp, a nonce and the body. It implements
// core.Authorizer, and EditRequest signs a plain *http.Request. It is safe
// for concurrent use once set up; create it with NewRequestSigner to have its
// fields checked.
type RequestSigner struct {
	// MchID is the merchant id (the service provider's sp_mchid in partner
	// mode).
	MchID string
	// Serial is the serial number of the merchant API certificate
	// (apiclient_cert.pem) whose private key Signer holds.
	Serial string
	// Signer signs with the merchant API private key (apiclient_key.pem).
	// It must not keep the message it is given.
	Signer Signer
	// Now is the clock for the timestamp; time.Now when nil.
	Now func() time.Time
	// Nonce returns the nonce_str of one request; 32 random characters from
	// [0-9A-Za-z] (crypto/rand) when nil.
	Nonce func() string
	// Scheme is the Authorization scheme Signer's signatures belong to:
	// SchemeRSA when empty, SchemeSM2 with an SM2 signer (SuiteSigner of
	// sm.Suite).
	Scheme string
}

// NewRequestSigner checks the merchant credentials and returns a
// RequestSigner. mchID must not be empty, serial must be the hexadecimal
// serial number of the merchant API certificate (it is upper-cased, as
// WeChat Pay writes it), and signer must hold a key. Errors name the
// parameter at fault, never a secret.
func NewRequestSigner(mchID, serial string, signer Signer) (*RequestSigner, error) {
	if strings.TrimSpace(mchID) == "" {
		return nil, errors.New("auth: the merchant id (mchid) is empty")
	}
	if mchID != strings.TrimSpace(mchID) {
		return nil, errors.New("auth: the merchant id (mchid) has leading or trailing spaces")
	}
	if err := checkToken("merchant id (mchid)", mchID); err != nil {
		return nil, err
	}
	s, err := normalizeSerial(serial)
	if err != nil {
		return nil, err
	}
	if err := checkSigner(signer); err != nil {
		return nil, err
	}
	return &RequestSigner{MchID: mchID, Serial: s, Signer: signer}, nil
}

// normalizeSerial checks a merchant certificate serial number and returns it
// in upper case.
func normalizeSerial(serial string) (string, error) {
	if serial == "" {
		return "", errors.New("auth: the merchant certificate serial number is empty (openssl x509 -in apiclient_cert.pem -noout -serial prints it)")
	}
	if IsPublicKeyID(serial) {
		return "", errors.New("auth: the merchant certificate serial number is a WeChat Pay public key id (PUB_KEY_ID_…); it must be the serial of your merchant API certificate apiclient_cert.pem (openssl x509 -in apiclient_cert.pem -noout -serial)")
	}
	s := strings.TrimPrefix(strings.TrimPrefix(serial, "serial="), "0x")
	if strings.Contains(s, ":") {
		s = strings.ReplaceAll(s, ":", "")
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return "", fmt.Errorf("auth: the merchant certificate serial number must be hexadecimal, %q is not (openssl x509 -in apiclient_cert.pem -noout -serial prints it)", serial)
		}
	}
	if s == "" {
		return "", fmt.Errorf("auth: the merchant certificate serial number %q has no digits", serial)
	}
	return strings.ToUpper(s), nil
}

func checkSigner(signer Signer) error {
	switch s := signer.(type) {
	case nil:
		return errors.New("auth: no signer: the merchant API private key (apiclient_key.pem) is missing")
	case RSASigner:
		if s.Key == nil {
			return errors.New("auth: the merchant API private key (apiclient_key.pem) is missing")
		}
		return checkRSAKey(s.Key)
	case *RSASigner:
		if s == nil || s.Key == nil {
			return errors.New("auth: the merchant API private key (apiclient_key.pem) is missing")
		}
		return checkRSAKey(s.Key)
	case SuiteSigner:
		if s.Suite == nil || s.Key == nil {
			return errors.New("auth: the merchant API private key (apiclient_key.pem) or its suite is missing")
		}
	}
	return nil
}

func checkRSAKey(k *rsa.PrivateKey) error {
	if k.N == nil || k.D == nil || len(k.Primes) < 2 {
		return errors.New("auth: the merchant API private key (apiclient_key.pem) is incomplete")
	}
	if k.N.BitLen() < 2048 {
		return fmt.Errorf("auth: the merchant API private key (apiclient_key.pem) has %d bits; WeChat Pay keys have 2048", k.N.BitLen())
	}
	return nil
}

// Authorize returns the Authorization header value of a request:
//
//	WECHATPAY2-SHA256-RSA2048 mchid="…",nonce_str="…",timestamp="…",serial_no="…",signature="…"
//
// signed over RequestMessage(method, canonicalURL, now, nonce, body).
// canonicalURL is the path and query exactly as sent (URL.RequestURI());
// body is the exact bytes sent, nil for none, or the meta JSON of an upload.
// It implements core.Authorizer.
func (s *RequestSigner) Authorize(method, canonicalURL string, body []byte) (string, error) {
	if s.Signer == nil {
		return "", errors.New("auth: RequestSigner.Signer is nil: the merchant API private key is missing")
	}
	if method == "" {
		return "", errors.New("auth: the request method is empty")
	}
	if canonicalURL == "" || canonicalURL[0] != '/' {
		return "", fmt.Errorf("auth: the URL to sign must be the path and query (URL.RequestURI()), starting with /; got %.40q", canonicalURL)
	}
	var ts int64
	if s.Now != nil {
		ts = s.Now().Unix()
	} else {
		ts = time.Now().Unix()
	}
	var nonceArr [NonceSize]byte
	var nonce []byte
	if s.Nonce != nil {
		n := s.Nonce()
		if err := checkToken("nonce", n); err != nil {
			return "", err
		}
		nonce = append(nonceArr[:0], n...)
	} else {
		var err error
		if nonce, err = appendNonce(nonceArr[:0]); err != nil {
			return "", err
		}
	}

	bp := getBuf()
	defer putBuf(bp)
	b := appendRequestMessage((*bp)[:0], method, canonicalURL, ts, nonce, body)
	*bp = b
	sig, err := s.Signer.Sign(b)
	if err != nil {
		return "", fmt.Errorf("auth: signing the request: %w", err)
	}

	// The message is no longer needed: build the header in its buffer.
	h := b[:0]
	if s.Scheme == "" {
		h = append(h, SchemeRSA...)
	} else {
		h = append(h, s.Scheme...)
	}
	h = append(h, ` mchid="`...)
	h = append(h, s.MchID...)
	h = append(h, `",nonce_str="`...)
	h = append(h, nonce...)
	h = append(h, `",timestamp="`...)
	h = strconv.AppendInt(h, ts, 10)
	h = append(h, `",serial_no="`...)
	h = append(h, s.Serial...)
	h = append(h, `",signature="`...)
	h = base64.StdEncoding.AppendEncode(h, sig)
	h = append(h, '"')
	*bp = h
	return string(h), nil
}

// userAgent is what EditRequest sends when the request has no User-Agent;
// WeChat Pay refuses requests without one.
var userAgent = "wxpay/" + core.Version + " (" + runtime.GOOS + "; " + runtime.GOARCH + ") " + runtime.Version()

// EditRequest signs req in place and has the signature of an
// oapi-codegen RequestEditorFn, for programs that build their own requests
// or use generated code directly:
//
//	client.NewClient(server, client.WithRequestEditorFn(signer.EditRequest))
//
// It signs req.URL.RequestURI() and the exact body (read through
// req.GetBody, or buffered and put back when GetBody is nil; for a
// multipart/form-data upload, the content of its "meta" part), sets
// Authorization, and sets Accept (application/json) and User-Agent when they
// are missing.
func (s *RequestSigner) EditRequest(_ context.Context, req *http.Request) error {
	if req == nil || req.URL == nil {
		return errors.New("auth: no request to sign")
	}
	body, err := requestBody(req)
	if err != nil {
		return err
	}
	signBody := body
	if mt, _, err := mime.ParseMediaType(req.Header.Get("Content-Type")); err == nil && mt == "multipart/form-data" {
		if signBody, err = MultipartMeta(req.Header.Get("Content-Type"), body); err != nil {
			return err
		}
	}
	authz, err := s.Authorize(req.Method, req.URL.RequestURI(), signBody)
	if err != nil {
		return err
	}
	if req.Header == nil {
		req.Header = make(http.Header)
	}
	req.Header.Set("Authorization", authz)
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "application/json")
	}
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", userAgent)
	}
	return nil
}

// requestBody returns the bytes req will send, leaving req able to send
// them.
func requestBody(req *http.Request) ([]byte, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, nil
	}
	if req.GetBody != nil {
		rc, err := req.GetBody()
		if err != nil {
			return nil, fmt.Errorf("auth: reading the request body to sign it: %w", err)
		}
		defer rc.Close()
		b, err := io.ReadAll(rc)
		if err != nil {
			return nil, fmt.Errorf("auth: reading the request body to sign it: %w", err)
		}
		return b, nil
	}
	b, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("auth: reading the request body to sign it: %w", err)
	}
	req.Body = io.NopCloser(bytes.NewReader(b))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	req.ContentLength = int64(len(b))
	return b, nil
}

// MultipartMeta returns the content of the "meta" part of a
// multipart/form-data body, which is what the signature of a media upload
// covers. contentType is the request's Content-Type (it holds the boundary).
func MultipartMeta(contentType string, body []byte) ([]byte, error) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || mt != "multipart/form-data" {
		return nil, errors.New("auth: the request is not multipart/form-data")
	}
	if params["boundary"] == "" {
		return nil, errors.New("auth: the multipart/form-data request has no boundary")
	}
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return nil, errors.New(`auth: the multipart/form-data request has no "meta" part to sign`)
		}
		if err != nil {
			return nil, fmt.Errorf("auth: reading the multipart request to sign it: %w", err)
		}
		if p.FormName() == "meta" {
			b, err := io.ReadAll(p)
			if err != nil {
				return nil, fmt.Errorf("auth: reading the meta part to sign it: %w", err)
			}
			return b, nil
		}
	}
}
