package auth

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"
)

// The keys in testdata/*.key.pem were generated for these tests only
// (openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048).

var keyCache sync.Map

func testKey(t testing.TB, name string) *rsa.PrivateKey {
	t.Helper()
	if k, ok := keyCache.Load(name); ok {
		return k.(*rsa.PrivateKey)
	}
	b, err := os.ReadFile("testdata/" + name + ".key.pem")
	if err != nil {
		t.Fatal(err)
	}
	k, err := ParsePrivateKey(b)
	if err != nil {
		t.Fatal(err)
	}
	keyCache.Store(name, k)
	return k
}

// testAPIv3Key is a made-up APIv3 key.
var testAPIv3Key = []byte("0123456789abcdefghijklmnopqrstuv")

// testClock is the fixed time of most tests.
var testClock = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// makePlatformCert makes a certificate shaped like a WeChat Pay platform
// certificate for key, with a 40-hex-digit serial derived from n.
func makePlatformCert(t testing.TB, key *rsa.PrivateKey, n int64, notBefore, notAfter time.Time) *x509.Certificate {
	t.Helper()
	serial := new(big.Int).Lsh(big.NewInt(0x5DEA10EF), 128)
	serial.Add(serial, big.NewInt(n))
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: platformCertCN, Organization: []string{"Tenpay.com"}},
		Issuer:       pkix.Name{CommonName: "Tenpay.com Root CA"},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func certPEM(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

// signAnswer returns the headers WeChat Pay would put on an answer with
// body, signed by key under serial at ts.
func signAnswer(t testing.TB, key *rsa.PrivateKey, serial string, ts time.Time, nonce string, body []byte) http.Header {
	t.Helper()
	tss := strconv.FormatInt(ts.Unix(), 10)
	sig, err := SignBase64(RSASigner{Key: key}, ResponseMessage(tss, nonce, body))
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	h.Set(HeaderTimestamp, tss)
	h.Set(HeaderNonce, nonce)
	h.Set(HeaderSerial, serial)
	h.Set(HeaderSignature, sig)
	h.Set(HeaderSignatureType, SchemeRSA)
	h.Set(HeaderRequestID, "08F5B8C2B506102C18FDDFEEA30620BE821E28EDC405-0")
	return h
}

// certificatesBody encrypts certs under apiv3 as GET /v3/certificates does.
func certificatesBody(t testing.TB, apiv3 []byte, certs ...*x509.Certificate) []byte {
	t.Helper()
	type enc struct {
		Algorithm      string `json:"algorithm"`
		AssociatedData string `json:"associated_data"`
		Nonce          string `json:"nonce"`
		Ciphertext     string `json:"ciphertext"`
	}
	type item struct {
		SerialNo           string `json:"serial_no"`
		EffectiveTime      string `json:"effective_time"`
		ExpireTime         string `json:"expire_time"`
		EncryptCertificate enc    `json:"encrypt_certificate"`
	}
	var ans struct {
		Data []item `json:"data"`
	}
	for i, c := range certs {
		nonce := "14b16c03dc1" + strconv.Itoa(i%10)
		ct, err := EncryptAESGCM(apiv3, nonce, "certificate", certPEM(c))
		if err != nil {
			t.Fatal(err)
		}
		ans.Data = append(ans.Data, item{
			SerialNo:           SerialNumber(c),
			EffectiveTime:      c.NotBefore.Format(time.RFC3339),
			ExpireTime:         c.NotAfter.Format(time.RFC3339),
			EncryptCertificate: enc{AlgorithmAESGCM, "certificate", nonce, ct},
		})
	}
	b, err := json.Marshal(ans)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// stubSigner returns a fixed 256-byte signature, to measure everything but
// the RSA arithmetic.
type stubSigner struct{ sig []byte }

func (s stubSigner) Sign([]byte) ([]byte, error) { return s.sig, nil }
