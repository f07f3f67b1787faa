package auth

import (
	"context"
	"crypto/rsa"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gowxpay/wxpay/core"
)

// mapVerifier verifies with a fixed set of keys.
type mapVerifier map[string]*rsa.PublicKey

func (m mapVerifier) Verify(_ context.Context, serial string, msg []byte, sig string) error {
	pub := m[serial]
	if pub == nil {
		return fmt.Errorf("%w: %s", ErrUnknownKey, serial)
	}
	return VerifyBase64(pub, msg, sig)
}

const testPubKeyID = "PUB_KEY_ID_0114232134912410000000000000000001"

// signedSample is a correctly signed answer at testClock.
func signedSample(t testing.TB) (Signed, mapVerifier) {
	key := testKey(t, "platform1")
	body := []byte(`{"prepay_id":"wx201410272009395522657a690389285100","code_url":"weixin://wxpay/bizpayurl?pr=p4lpSuKzz"}`)
	h := signAnswer(t, key, testPubKeyID, testClock, "d824f2e086d3c1df967785d13fcd22ef", body)
	return SignedFromHeader(h, body), mapVerifier{testPubKeyID: &key.PublicKey}
}

func TestCheckSignedAccepts(t *testing.T) {
	t.Parallel()
	s, v := signedSample(t)
	if err := CheckSigned(context.Background(), v, s, testClock, 0); err != nil {
		t.Fatal(err)
	}
	// 204 No Content: signed over an empty body.
	key := testKey(t, "platform1")
	h := signAnswer(t, key, testPubKeyID, testClock, "n", nil)
	if err := CheckSigned(context.Background(), v, SignedFromHeader(h, nil), testClock, 0); err != nil {
		t.Fatal(err)
	}
}

// full runs the exhaustive mutation tests: go test ./auth/ -wxpay.full
var full = flag.Bool("wxpay.full", false, "mutation tests: try every byte value at every position (slow; the default tries one per position)")

// substitutes returns the values byte o at position i takes in a mutation
// test: all 255 others with -wxpay.full, else one flipped bit (a different
// bit at each position, so the positions together flip every bit).
func substitutes(o byte, i int) []byte {
	if !*full {
		return []byte{o ^ 1<<(i%8)}
	}
	out := make([]byte, 0, 255)
	for c := 0; c < 256; c++ {
		if byte(c) != o {
			out = append(out, byte(c))
		}
	}
	return out
}

// TestCheckSignedRejectsEveryByteChange changes every byte of every signed
// or naming field, and deletes and inserts a byte at every position of the
// headers, and expects a rejection each time. By default each byte takes
// one other value; with -wxpay.full it takes every other value, which
// mostly re-tests crypto/rsa and takes a minute under -race.
func TestCheckSignedRejectsEveryByteChange(t *testing.T) {
	t.Parallel()
	orig, v := signedSample(t)
	ctx := context.Background()
	step := 1
	if testing.Short() {
		step = 7
	}
	mutate := func(s string, i int, c byte) string {
		b := []byte(s)
		b[i] = c
		return string(b)
	}
	tried := 0
	check := func(field string, i, c int, s Signed) {
		t.Helper()
		tried++
		err := CheckSigned(ctx, v, s, testClock, 0)
		if err == nil {
			t.Fatalf("%s: byte %d changed to %#x accepted", field, i, c)
		}
		if !errors.Is(err, core.ErrVerification) {
			t.Fatalf("%s: byte %d: error %v does not match core.ErrVerification", field, i, err)
		}
	}
	for i := 0; i < len(orig.Body); i += step {
		for _, c := range substitutes(orig.Body[i], i) {
			s := orig
			s.Body = append([]byte(nil), orig.Body...)
			s.Body[i] = c
			check("body", i, int(c), s)
		}
	}
	for _, f := range []struct {
		name string
		get  func(*Signed) *string
	}{
		{"timestamp", func(s *Signed) *string { return &s.Timestamp }},
		{"nonce", func(s *Signed) *string { return &s.Nonce }},
		{"serial", func(s *Signed) *string { return &s.Serial }},
		{"signature", func(s *Signed) *string { return &s.Signature }},
	} {
		o := *f.get(&orig)
		for i := 0; i < len(o); i += step {
			for _, c := range substitutes(o[i], i) {
				s := orig
				*f.get(&s) = mutate(o, i, c)
				check(f.name, i, int(c), s)
			}
		}
		// Dropping or adding a byte, too.
		for i := 0; i < len(o); i += step {
			s := orig
			*f.get(&s) = o[:i] + o[i+1:]
			if *f.get(&s) != "" {
				check(f.name+" (deleted)", i, 0, s)
			}
			s = orig
			*f.get(&s) = o[:i] + "A" + o[i:]
			check(f.name+" (inserted)", i, 'A', s)
		}
	}
	t.Logf("%d tampered answers rejected", tried)
}

// TestCheckSignedNoShiftBetweenNonceAndBody: moving bytes between the nonce
// and the body keeps the signed string identical; it must still fail.
func TestCheckSignedNoShiftBetweenNonceAndBody(t *testing.T) {
	t.Parallel()
	key := testKey(t, "platform1")
	v := mapVerifier{testPubKeyID: &key.PublicKey}
	body := []byte("{\"a\":1,\n\"b\":2}")
	orig := SignedFromHeader(signAnswer(t, key, testPubKeyID, testClock, "d824f2e086d3c1df967785d13fcd22ef", body), body)
	if err := CheckSigned(context.Background(), v, orig, testClock, 0); err != nil {
		t.Fatal(err)
	}
	s := orig
	s.Nonce = orig.Nonce + "\n" + "{\"a\":1,"
	s.Body = []byte("\"b\":2}")
	if string(ResponseMessage(s.Timestamp, s.Nonce, s.Body)) != string(ResponseMessage(orig.Timestamp, orig.Nonce, orig.Body)) {
		t.Fatal("test setup: messages differ")
	}
	if err := CheckSigned(context.Background(), v, s, testClock, 0); err == nil {
		t.Fatal("nonce holding a line break accepted")
	}
}

func TestCheckSignedClockSkew(t *testing.T) {
	t.Parallel()
	s, v := signedSample(t)
	ctx := context.Background()
	for _, tc := range []struct {
		offset time.Duration
		ok     bool
		want   string
	}{
		{0, true, ""},
		{299 * time.Second, true, ""},
		{-299 * time.Second, true, ""},
		{300 * time.Second, false, "5m0s ahead of"},
		{-300 * time.Second, false, "5m0s behind"},
		{2 * time.Hour, false, "2h0m0s ahead of"},
		{-2 * time.Hour, false, "2h0m0s behind"},
	} {
		err := CheckSigned(ctx, v, s, testClock.Add(tc.offset), 0)
		if tc.ok {
			if err != nil {
				t.Errorf("offset %s: %v", tc.offset, err)
			}
			continue
		}
		if !errors.Is(err, ErrClockSkew) || !errors.Is(err, core.ErrVerification) {
			t.Errorf("offset %s: %v, want ErrClockSkew", tc.offset, err)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "clock") {
			t.Errorf("offset %s: message %q should say %q and mention the clock", tc.offset, err, tc.want)
		}
	}
	// A custom window.
	if err := CheckSigned(ctx, v, s, testClock.Add(61*time.Second), time.Minute); !errors.Is(err, ErrClockSkew) {
		t.Errorf("MaxSkew 1m, offset 61s: %v", err)
	}
	// Not a number.
	bad := s
	bad.Timestamp = "+" + s.Timestamp[1:]
	if err := CheckSigned(ctx, v, bad, testClock, 0); err == nil {
		t.Error("signed timestamp accepted")
	}
}

func TestCheckSignedMissingHeader(t *testing.T) {
	t.Parallel()
	orig, v := signedSample(t)
	for _, name := range []string{HeaderTimestamp, HeaderNonce, HeaderSerial, HeaderSignature} {
		s := orig
		switch name {
		case HeaderTimestamp:
			s.Timestamp = ""
		case HeaderNonce:
			s.Nonce = ""
		case HeaderSerial:
			s.Serial = ""
		case HeaderSignature:
			s.Signature = ""
		}
		err := CheckSigned(context.Background(), v, s, testClock, 0)
		if !errors.Is(err, ErrMissingHeader) || !errors.Is(err, core.ErrVerification) || !strings.Contains(err.Error(), name) {
			t.Errorf("without %s: %v", name, err)
		}
	}
}

func TestCheckSignedProbe(t *testing.T) {
	t.Parallel()
	s, v := signedSample(t)
	s.Signature = SignatureProbePrefix + s.Signature[:40]
	// A probe is recognised before the timestamp is checked.
	err := CheckSigned(context.Background(), v, s, testClock.Add(time.Hour), 0)
	if !errors.Is(err, ErrSignatureProbe) {
		t.Fatalf("probe: %v, want ErrSignatureProbe", err)
	}
	if !errors.Is(err, core.ErrVerification) || !errors.Is(ErrSignatureProbe, core.ErrVerification) {
		t.Error("probe error does not match core.ErrVerification")
	}
	if errors.Is(err, ErrBadSignature) || errors.Is(err, ErrClockSkew) {
		t.Error("probe error is not distinct")
	}
	var ve *VerificationError
	if !errors.As(err, &ve) || ve.Serial != testPubKeyID {
		t.Errorf("VerificationError %+v", ve)
	}
	for _, want := range []string{"signature probe", "may have taken effect", "query", "non-2xx"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("probe message %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), s.Signature[len(SignatureProbePrefix):]) {
		t.Error("message contains the signature")
	}
}

func TestVerificationErrorNeverHoldsSignature(t *testing.T) {
	t.Parallel()
	orig, v := signedSample(t)
	s := orig
	s.Body = []byte("{}")
	err := CheckSigned(context.Background(), v, s, testClock, 0)
	if !errors.Is(err, ErrBadSignature) {
		t.Fatalf("%v", err)
	}
	if strings.Contains(err.Error(), orig.Signature[:20]) {
		t.Errorf("message contains the signature: %s", err)
	}
	s = orig
	s.Serial = "PUB_KEY_ID_999"
	err = CheckSigned(context.Background(), v, s, testClock, 0)
	if !errors.Is(err, ErrUnknownKey) || !strings.Contains(err.Error(), "PUB_KEY_ID_999") {
		t.Errorf("unknown key: %v", err)
	}
}

func TestVerifyBase64Canonical(t *testing.T) {
	t.Parallel()
	s, v := signedSample(t)
	pub := v[testPubKeyID]
	msg := ResponseMessage(s.Timestamp, s.Nonce, s.Body)
	if err := VerifyBase64(pub, msg, s.Signature); err != nil {
		t.Fatal(err)
	}
	// 256 bytes end in one byte + "==": the last data character has four
	// unused bits a lenient decoder ignores. Changing them must fail.
	sig := []byte(s.Signature)
	last := len(sig) - 3
	orig := sig[last]
	for _, c := range []byte(nonceAlphabet + "+/") {
		if c == orig {
			continue
		}
		sig[last] = c
		if VerifyBase64(pub, msg, string(sig)) == nil {
			t.Errorf("non-canonical spelling %q accepted", sig[last-2:])
		}
	}
	if VerifyBase64(pub, msg, s.Signature[:100]+"\n"+s.Signature[100:]) == nil {
		t.Error("signature with a line break accepted")
	}
}

func TestSignedFromHeaderCanonicalises(t *testing.T) {
	t.Parallel()
	s, _ := signedSample(t)
	h := map[string][]string{}
	h["Wechatpay-Timestamp"] = []string{s.Timestamp}
	got := SignedFromHeader(h, nil)
	if got.Timestamp != s.Timestamp {
		t.Error("header not read")
	}
}

func BenchmarkVerify(b *testing.B) {
	s, v := signedSample(b)
	pub := v[testPubKeyID]
	msg := ResponseMessage(s.Timestamp, s.Nonce, s.Body)
	b.ReportAllocs()
	for b.Loop() {
		if err := VerifyBase64(pub, msg, s.Signature); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCheckSignedStub(b *testing.B) {
	body := make([]byte, 800)
	for i := range body {
		body[i] = 'x'
	}
	s := Signed{
		Timestamp: strconv.FormatInt(testClock.Unix(), 10),
		Nonce:     "d824f2e086d3c1df967785d13fcd22ef",
		Serial:    "5DEA10EF55877E3CF6C33255C2E7DEFFF7E427EC",
		Signature: strings.Repeat("A", 342) + "==",
		Body:      body,
	}
	v := VerifierFunc(func(context.Context, string, []byte, string) error { return nil })
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := CheckSigned(ctx, v, s, testClock, 0); err != nil {
			b.Fatal(err)
		}
	}
}
