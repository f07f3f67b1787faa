package auth

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/base64"
	"io"
	"math/big"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gowxpay/wxpay/core"
)

const (
	katMchID  = "1900000001"
	katSerial = "1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C"
	katNonce  = "593BEC0C930BF1AFEB40B4A08C8FB242"
	katTime   = 1554208460
	katBody   = `{"appid":"wxd678efh567hg6787","mchid":"1230000109","description":"Image形象店-深圳腾大-QQ公仔","out_trade_no":"1217752501201407033233368018","notify_url":"https://www.weixin.qq.com/wxpay/pay.php","amount":{"total":100,"currency":"CNY"},"payer":{"openid":"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}}`
	// Computed independently with
	//   printf 'POST\n/v3/pay/transactions/jsapi\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\n<katBody>\n' |
	//   openssl dgst -sha256 -sign testdata/merchant.key.pem | base64 -w0
	katPostSig = "lKA9/WeS48YLc1uaW6JocA/skrmS8ZGq5hmhh1REhf7u78uzFmtWGlJMRiQDSyiS4O+2KzcR4adV94AehCLNFZia8qL2Qm5nx2M3lXIeUZREH23rtLWABfRQv7HFFSuGwq424NMdZ9ni8eM6FZ22TCEnpOwkKdYiEQnUHUpD3kh25XABMTAfKmpK9xiUHqdIut+C15H3fxGTNnJ7tpsPb5QcpRFI00WUJxBO9bIiI+JdBirF06WG3t+V0Yw3Eb+R/MBX7tZMqgYmbyuiDqOlh3d+4sSbqXo1pxd8p7/4jIAU7CS/GI/aIL+6/8sa66sL8mYEJX9EBOX5LBOnmnL2GA=="
	// The same for 'GET\n/v3/certificates\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\n\n'.
	katGetSig = "OM6US3Ke58M7MIrRa1Uj47PhQf91BIi4jKU8DZqoH3BSex9WtywFZOJqafypHFpaUG6ddxerWNZbMClo9mmbYo0z5oYWxlTmcTkez5+1VFaiIRtM+bWSW1CkzsnyRy739ut1so6XVT8jIaUc8LK6evHrR8Sr9L6CT0g+Dj5y2/5aF5FLhP/m1DIU0gkbkFi15LeBbzZIbZLar7VyCvHQNkPdmvQxAaYPQjTKZrAY42um3rpYQJAeynTRs/gTt0LtwuEWKQDEbJnkRjuHap+1MLo/djhaUQlEDiBZeWOXed3kW3Rc10lbFaUUuWx9nz52h5SfUz4azWkgf0usCn+n8Q=="
)

func katSigner(t testing.TB) *RequestSigner {
	s, err := NewRequestSigner(katMchID, katSerial, RSASigner{Key: testKey(t, "merchant")})
	if err != nil {
		t.Fatal(err)
	}
	s.Now = func() time.Time { return time.Unix(katTime, 0) }
	s.Nonce = func() string { return katNonce }
	return s
}

func TestRequestMessageLayout(t *testing.T) {
	t.Parallel()
	got := string(RequestMessage("GET", "/v3/certificates", 1624523846, "A1B2C3D4E5F6G7", nil))
	if want := "GET\n/v3/certificates\n1624523846\nA1B2C3D4E5F6G7\n\n"; got != want {
		t.Errorf("GET message %q, want %q", got, want)
	}
	// A body ending in \n still gets its own \n.
	got = string(RequestMessage("POST", "/v3/x", 1, "n", []byte("Hello World!\n")))
	if want := "POST\n/v3/x\n1\nn\nHello World!\n\n"; got != want {
		t.Errorf("POST message %q, want %q", got, want)
	}
}

// TestAuthorizeKnownAnswer pins the header against signatures computed with
// openssl from the same key, message, time and nonce.
func TestAuthorizeKnownAnswer(t *testing.T) {
	t.Parallel()
	s := katSigner(t)
	for _, tc := range []struct {
		method, url, body, sig string
	}{
		{"POST", "/v3/pay/transactions/jsapi", katBody, katPostSig},
		{"GET", "/v3/certificates", "", katGetSig},
	} {
		var body []byte
		if tc.body != "" {
			body = []byte(tc.body)
		}
		h, err := s.Authorize(tc.method, tc.url, body)
		if err != nil {
			t.Fatal(err)
		}
		want := `WECHATPAY2-SHA256-RSA2048 mchid="1900000001",nonce_str="593BEC0C930BF1AFEB40B4A08C8FB242",timestamp="1554208460",serial_no="1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C",signature="` + tc.sig + `"`
		if h != want {
			t.Errorf("%s %s:\n got %s\nwant %s", tc.method, tc.url, h, want)
		}
		a, err := ParseAuthorization(h)
		if err != nil {
			t.Fatal(err)
		}
		if a.Scheme != SchemeRSA || a.MchID != katMchID || a.Nonce != katNonce || a.Timestamp != katTime || a.Serial != katSerial || a.Signature != tc.sig {
			t.Errorf("parsed back %+v", a)
		}
		if a.String() != h {
			t.Errorf("String() = %s", a.String())
		}
		// The signature verifies with the merchant's public key over the
		// documented message.
		raw, _ := base64.StdEncoding.DecodeString(a.Signature)
		msg := RequestMessage(tc.method, tc.url, a.Timestamp, a.Nonce, body)
		if err := VerifyRSA(&testKey(t, "merchant").PublicKey, msg, raw); err != nil {
			t.Errorf("signature does not verify: %v", err)
		}
	}
}

func TestAuthorizeDefaults(t *testing.T) {
	t.Parallel()
	s, err := NewRequestSigner(katMchID, strings.ToLower(katSerial), RSASigner{Key: testKey(t, "merchant")})
	if err != nil {
		t.Fatal(err)
	}
	if s.Serial != katSerial {
		t.Errorf("serial not upper-cased: %s", s.Serial)
	}
	before := time.Now().Unix()
	seen := map[string]bool{}
	nonceRE := regexp.MustCompile(`^[0-9A-Za-z]{32}$`)
	for i := 0; i < 20; i++ {
		h, err := s.Authorize("GET", "/v3/certificates", nil)
		if err != nil {
			t.Fatal(err)
		}
		a, err := ParseAuthorization(h)
		if err != nil {
			t.Fatal(err)
		}
		if !nonceRE.MatchString(a.Nonce) {
			t.Errorf("nonce %q", a.Nonce)
		}
		if seen[a.Nonce] {
			t.Errorf("nonce %q repeated", a.Nonce)
		}
		seen[a.Nonce] = true
		if a.Timestamp < before || a.Timestamp > time.Now().Unix() {
			t.Errorf("timestamp %d not now", a.Timestamp)
		}
	}
}

func TestAuthorizeRejects(t *testing.T) {
	t.Parallel()
	s := katSigner(t)
	if _, err := s.Authorize("GET", "https://api.mch.weixin.qq.com/v3/certificates", nil); err == nil {
		t.Error("absolute URL accepted")
	}
	if _, err := s.Authorize("", "/v3/x", nil); err == nil {
		t.Error("empty method accepted")
	}
	s.Nonce = func() string { return "a\nb" }
	if _, err := s.Authorize("GET", "/v3/x", nil); err == nil {
		t.Error("nonce with a line break accepted")
	}
	if _, err := (&RequestSigner{MchID: "1"}).Authorize("GET", "/v3/x", nil); err == nil {
		t.Error("nil signer accepted")
	}
}

func TestNewRequestSignerValidates(t *testing.T) {
	t.Parallel()
	key := testKey(t, "merchant")
	secret := base64.StdEncoding.EncodeToString(key.D.Bytes())[:16]
	for _, tc := range []struct {
		name, mchid, serial string
		signer              Signer
		want                string
	}{
		{"empty mchid", "", katSerial, RSASigner{Key: key}, "merchant id (mchid) is empty"},
		{"spaces", " 19", katSerial, RSASigner{Key: key}, "spaces"},
		{"empty serial", "1900000001", "", RSASigner{Key: key}, "serial number is empty"},
		{"not hex", "1900000001", "XYZ123", RSASigner{Key: key}, "must be hexadecimal"},
		{"public key id", "1900000001", "PUB_KEY_ID_0114232134912410000000000000", RSASigner{Key: key}, "public key id"},
		{"nil signer", "1900000001", katSerial, nil, "private key (apiclient_key.pem) is missing"},
		{"nil key", "1900000001", katSerial, RSASigner{}, "private key (apiclient_key.pem) is missing"},
		{"nil ptr key", "1900000001", katSerial, &RSASigner{}, "private key (apiclient_key.pem) is missing"},
		{"small key", "1900000001", katSerial, RSASigner{Key: &rsa.PrivateKey{PublicKey: rsa.PublicKey{N: new(big.Int).Rsh(key.N, 1100), E: 65537}, D: key.D, Primes: key.Primes}}, "bits"},
	} {
		_, err := NewRequestSigner(tc.mchid, tc.serial, tc.signer)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to mention %q", tc.name, err, tc.want)
			continue
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("%s: error leaks the key", tc.name)
		}
	}
	if s, err := NewRequestSigner("1900000001", "serial=1d:de:55", RSASigner{Key: key}); err != nil || s.Serial != "1DDE55" {
		t.Errorf("openssl-style serial: %v %v", s, err)
	}
}

// verifyRequest checks r's Authorization as the server would, and returns
// the body it covers.
func verifyRequest(t *testing.T, r *http.Request, signed []byte) {
	t.Helper()
	a, err := ParseAuthorization(r.Header.Get("Authorization"))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.StdEncoding.DecodeString(a.Signature)
	msg := RequestMessage(r.Method, r.URL.RequestURI(), a.Timestamp, a.Nonce, signed)
	if err := VerifyRSA(&testKey(t, "merchant").PublicKey, msg, raw); err != nil {
		t.Errorf("request signature does not verify: %v", err)
	}
}

func TestEditRequest(t *testing.T) {
	t.Parallel()
	s := katSigner(t)
	var gotBody []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotBody, _ = io.ReadAll(r.Body)
		if r.Header.Get("Accept") == "" || r.Header.Get("User-Agent") == "" {
			t.Errorf("Accept %q User-Agent %q", r.Header.Get("Accept"), r.Header.Get("User-Agent"))
		}
		verifyRequest(t, r, gotBody)
	}))
	defer srv.Close()
	body := `{"out_trade_no":"T 1"}`

	// GetBody nil: the body is buffered and put back.
	req, _ := http.NewRequest("POST", srv.URL+"/v3/pay/transactions/id/a%2Fb?mchid=1900000001&x=%E4%BD%A0", nil)
	req.Body = io.NopCloser(strings.NewReader(body))
	req.ContentLength = -1
	if err := s.EditRequest(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if req.ContentLength != int64(len(body)) || req.GetBody == nil {
		t.Errorf("ContentLength %d GetBody %v", req.ContentLength, req.GetBody != nil)
	}
	if _, err := http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
	if string(gotBody) != body {
		t.Errorf("server got %q", gotBody)
	}

	// GetBody set: read through it, the body itself untouched.
	req, _ = http.NewRequest("POST", srv.URL+"/v3/refund/domestic/refunds", strings.NewReader(body))
	req.Header.Set("User-Agent", "mine")
	if err := s.EditRequest(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if req.Header.Get("User-Agent") != "mine" {
		t.Error("User-Agent overwritten")
	}
	if _, err := http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}

	// GET without a body.
	req, _ = http.NewRequest("GET", srv.URL+"/v3/certificates", nil)
	if err := s.EditRequest(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if _, err := http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
}

func TestEditRequestMultipartSignsMeta(t *testing.T) {
	t.Parallel()
	s := katSigner(t)
	meta := `{"filename":"a.png","sha256":"abc"}`
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("meta", meta)
	fw, _ := mw.CreateFormFile("file", "a.png")
	_, _ = fw.Write([]byte("\x89PNG..."))
	_ = mw.Close()
	req, _ := http.NewRequest("POST", "https://api.mch.weixin.qq.com/v3/merchant/media/upload", bytes.NewReader(buf.Bytes()))
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if err := s.EditRequest(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	verifyRequest(t, req, []byte(meta))

	req, _ = http.NewRequest("POST", "https://api.mch.weixin.qq.com/v3/merchant/media/upload", strings.NewReader("--x--"))
	req.Header.Set("Content-Type", "multipart/form-data; boundary=x")
	if err := s.EditRequest(context.Background(), req); err == nil || !strings.Contains(err.Error(), "meta") {
		t.Errorf("no meta part: %v", err)
	}
}

func BenchmarkSign(b *testing.B) {
	key := testKey(b, "merchant")
	body := bytes.Repeat([]byte("x"), 900-len("POST\n/v3/pay/transactions/jsapi\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\n\n"))
	msg := RequestMessage("POST", "/v3/pay/transactions/jsapi", katTime, katNonce, body)
	s := RSASigner{Key: key}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Sign(msg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAuthorizeStub(b *testing.B) {
	s := &RequestSigner{MchID: katMchID, Serial: katSerial, Signer: stubSigner{sig: make([]byte, 256)}}
	body := bytes.Repeat([]byte("x"), 800)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Authorize("POST", "/v3/pay/transactions/jsapi", body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAuthorizeRSA(b *testing.B) {
	s := &RequestSigner{MchID: katMchID, Serial: katSerial, Signer: RSASigner{Key: testKey(b, "merchant")}}
	body := bytes.Repeat([]byte("x"), 800)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Authorize("POST", "/v3/pay/transactions/jsapi", body); err != nil {
			b.Fatal(err)
		}
	}
}

// requestEditorFn is oapi-codegen's RequestEditorFn.
type requestEditorFn func(ctx context.Context, req *http.Request) error

var _ requestEditorFn = (&RequestSigner{}).EditRequest

// TestAuthorizerInterfaces: the types implement what core and net/http
// expect of them.
func TestAuthorizerInterfaces(t *testing.T) {
	t.Parallel()
	var _ core.Authorizer = (*RequestSigner)(nil)
	var _ core.Encrypter = (*PlatformKeys)(nil)
	var _ core.Announcer = (*PlatformKeys)(nil)
	var _ Verifier = (*PlatformKeys)(nil)
	var _ io.Closer = (*PlatformKeys)(nil)
	var _ http.RoundTripper = (*Transport)(nil)
}
