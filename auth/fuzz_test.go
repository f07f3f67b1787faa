package auth

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/gowxpay/wxpay/core"
)

// FuzzParseAuthorization: parsing never panics, errors wrap
// ErrAuthorizationFormat, and the String of a parsed value parses back to
// the same value.
func FuzzParseAuthorization(f *testing.F) {
	for _, seed := range []string{
		`WECHATPAY2-SHA256-RSA2048 mchid="1900000001",nonce_str="593BEC0C930BF1AFEB40B4A08C8FB242",timestamp="1554208460",serial_no="1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C",signature="` + katPostSig + `"`,
		`WECHATPAY2-SHA256-RSA2048 mchid="1900000001",nonce_str="593BEC0C930BF1AFEB40B4A08C8FB242",signature="uOVRnA4qG/MNnYzdQxJ==",timestamp="1554208460",serial_no="1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C"`,
		`WECHATPAY2-SHA256-RSA2048 mchid="1900000001",serial_no="1DDE55AD98",timestamp="1554208460",nonce_str="abc",signature="x=="`,
		`WECHATPAY2-SM2-WITH-SM3 mchid="1",serial_no="2",nonce_str="3",timestamp="4",signature="5"`,
		`WECHATPAY2-SHA256-RSA2048 mchid="1",mchid="1",nonce_str="a",timestamp="1",serial_no="s",signature="x"`,
		`WECHATPAY2-SHA256-RSA2048 mchid="1",nonce_str="a",timestamp="-1",serial_no="s",signature="x"`,
		`WECHATPAY2-SHA256-RSA2048 mchid="1",`,
		`WECHATPAY2-SHA256-RSA2048 mchid=1`,
		`Bearer x`,
		``,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, h string) {
		a, err := ParseAuthorization(h)
		if err != nil {
			if !errors.Is(err, ErrAuthorizationFormat) {
				t.Fatalf("error %v does not wrap ErrAuthorizationFormat", err)
			}
			return
		}
		s := a.String()
		b, err := ParseAuthorization(s)
		if err != nil {
			t.Fatalf("String() %q of a parsed header does not parse: %v", s, err)
		}
		if b != a {
			t.Fatalf("round trip changed %+v into %+v", a, b)
		}
		if b.String() != s {
			t.Fatalf("String() not stable: %q then %q", s, b.String())
		}
	})
}

// FuzzCheckSigned: CheckSigned never panics, every failure matches
// core.ErrVerification, and nothing but the exact signed answer is
// accepted: the only signature the fuzzer can know is the sample's, so an
// accepted input must be the sample itself.
func FuzzCheckSigned(f *testing.F) {
	orig, v := signedSample(f)
	ctx := context.Background()
	f.Add(orig.Timestamp, orig.Nonce, orig.Serial, orig.Signature, orig.Body)
	f.Add(orig.Timestamp, orig.Nonce+"\n"+string(orig.Body[:3]), orig.Serial, orig.Signature, orig.Body[3:])
	f.Add(orig.Timestamp, orig.Nonce, orig.Serial, SignatureProbePrefix+orig.Signature, orig.Body)
	f.Add(" "+orig.Timestamp, orig.Nonce, orig.Serial, orig.Signature, orig.Body)
	f.Add(orig.Timestamp, orig.Nonce, "PUB_KEY_ID_1", orig.Signature, orig.Body)
	f.Add(orig.Timestamp, orig.Nonce, orig.Serial, orig.Signature[:len(orig.Signature)-4]+"AA==", orig.Body)
	f.Add("", "", "", "", []byte(nil))
	f.Add("99999999999999999999", "n", "s", "====", []byte("{}"))
	f.Fuzz(func(t *testing.T, ts, nonce, serial, sig string, body []byte) {
		s := Signed{Timestamp: ts, Nonce: nonce, Serial: serial, Signature: sig, Body: body}
		err := CheckSigned(ctx, v, s, testClock, 0)
		if err != nil {
			if !errors.Is(err, core.ErrVerification) {
				t.Fatalf("error %v does not match core.ErrVerification", err)
			}
			var ve *VerificationError
			if !errors.As(err, &ve) {
				t.Fatalf("error %T is not a *VerificationError", err)
			}
			return
		}
		if ts != orig.Timestamp || nonce != orig.Nonce || serial != orig.Serial || sig != orig.Signature || !bytes.Equal(body, orig.Body) {
			t.Fatalf("tampered answer accepted: ts %q nonce %q serial %q body %q", ts, nonce, serial, body)
		}
	})
}
