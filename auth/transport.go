package auth

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gowxpay/wxpay/core"
	"github.com/gowxpay/wxpay/internal/wire"
)

// MaxVerifiedBody bounds the body of an answer Transport verifies: the
// whole body must be read before its signature can be checked.
const MaxVerifiedBody = 32 << 20

// Transport is an http.RoundTripper that verifies WeChat Pay's signature on
// every 2xx answer before anything reads it. It reads the whole body
// (at most MaxVerifiedBody), checks it with CheckSigned, and hands it on in
// memory (a body whose Bytes method core reads without copying). Answers of operations marked Unsigned (file
// downloads; for requests without a core.Operation, the download paths
// WeChat Pay does not sign) and non-2xx answers pass unverified, as with the
// official SDKs: WeChat Pay does not sign its authentication failures. A
// failure is a *VerificationError, which matches core.ErrVerification and
// is never retried. The request is not modified.
type Transport struct {
	// Base sends the requests; http.DefaultTransport when nil.
	Base http.RoundTripper
	// Verifier checks the signatures, usually a *PlatformKeys.
	Verifier Verifier
	// MaxSkew is the accepted clock difference; DefaultMaxSkew when zero.
	MaxSkew time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// RoundTrip sends req through Base and verifies a 2xx answer.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	resp, err := base.RoundTrip(req)
	if err != nil || resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp, err
	}
	op, _ := wire.OperationFrom(req.Context()).(*core.Operation)
	if op != nil && op.Unsigned || op == nil && UnsignedPath(req.URL.Path) {
		return resp, nil
	}
	fail := func(reason string, cause error) (*http.Response, error) {
		resp.Body.Close()
		e := &VerificationError{RequestID: resp.Header.Get(HeaderRequestID), Serial: resp.Header.Get(HeaderSerial), Reason: reason, Err: cause}
		if op != nil {
			e.Operation = op.Name
		}
		return nil, e
	}
	if t.Verifier == nil {
		return fail("auth.Transport has no Verifier (platform certificates or public key)", nil)
	}
	if resp.Body == nil {
		resp.Body = http.NoBody
	}
	body, err := readBody(resp)
	if err != nil {
		resp.Body.Close()
		return nil, fmt.Errorf("wxpay: reading the answer to verify it: %w", err)
	}
	if len(body) > MaxVerifiedBody {
		return fail(fmt.Sprintf("the answer is larger than %d bytes, too large to verify", MaxVerifiedBody), nil)
	}
	resp.Body.Close()
	now := time.Now
	if t.Now != nil {
		now = t.Now
	}
	if err := CheckSigned(req.Context(), t.Verifier, SignedFromHeader(resp.Header, body), now(), t.MaxSkew); err != nil {
		var ve *VerificationError
		if !errors.As(err, &ve) {
			ve = &VerificationError{Err: err}
		}
		ve.RequestID = resp.Header.Get(HeaderRequestID)
		if st := resp.Header.Get(HeaderSignatureType); st != "" && st != verifierScheme(t.Verifier) && errors.Is(err, ErrBadSignature) {
			ve.Reason = "the answer is signed " + st + ", but this client verifies " + verifierScheme(t.Verifier) + " signatures: configure the suite that matches the merchant's keys (Config.Suite: nil for RSA, sm.Suite{} for 国密 SM2)"
		}
		if op != nil {
			ve.Operation = op.Name
		}
		return nil, ve
	}
	resp.Body = wire.NewBody(body)
	resp.ContentLength = int64(len(body))
	return resp, nil
}

// readBody reads an answer to verify it: in one allocation when its length
// is announced (net/http stops at Content-Length), bounded otherwise.
func readBody(resp *http.Response) ([]byte, error) {
	if n := resp.ContentLength; n >= 0 && n <= MaxVerifiedBody {
		buf := make([]byte, n)
		if _, err := io.ReadFull(resp.Body, buf); err != nil {
			return nil, err
		}
		return buf, nil
	}
	return io.ReadAll(io.LimitReader(resp.Body, MaxVerifiedBody+1))
}

// UnsignedPath reports whether a 2xx answer to a request for path carries
// no signature: the file downloads of WeChat Pay (bills, images, transfer
// receipts, fapiao files, statements), whose integrity a digest checks.
// Transport consults it for requests that carry no core.Operation. A
// prefix before /v3/ (a proxy or the sandbox) is ignored.
func UnsignedPath(path string) bool {
	i := strings.Index(path, "/v3/")
	if i < 0 {
		return false
	}
	if strings.HasSuffix(path[:i], "/hk") {
		i -= len("/hk")
	}
	p := path[i:]
	switch p {
	case "/v3/billdownload/file",
		"/v3/transferdownload/signfile",
		"/v3/transferdownload/elecvoucherfile",
		"/v3/statements", "/v3/global/statements", "/hk/v3/statements":
		return true
	}
	if strings.HasPrefix(p, "/v3/new-tax-control-fapiao/download") {
		return true
	}
	for _, prefix := range []string{"/v3/merchant-service/images/", "/v3/global/merchant-service/images/"} {
		if rest, ok := strings.CutPrefix(p, prefix); ok {
			return rest != "" && rest != "upload" && !strings.Contains(rest, "/")
		}
	}
	return false
}

// verifierScheme is the signature scheme v verifies: its suite's, or RSA.
func verifierScheme(v Verifier) string {
	if sv, ok := v.(interface{ Suite() Suite }); ok {
		if s := sv.Suite(); s != nil {
			return s.Scheme()
		}
	}
	return SchemeRSA
}
