package callback

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

func TestMatchHeader(t *testing.T) {
	t.Parallel()
	cases := map[string]int{
		"Wechatpay-Signature":           nSignature,
		"wechatpay-signature":           nSignature,
		"WECHATPAY-SIGNATURE":           nSignature,
		"WeChatPay-Signature":           nSignature,
		"HTTP_WECHATPAY_SIGNATURE":      nSignature,
		"http_wechatpay_signature":      nSignature,
		"wechatpay_signature":           nSignature,
		"HTTP_WECHATPAY_SIGNATURE_TYPE": nSignatureType,
		"Wechatpay-Signature-Type":      nSignatureType,
		"Request-ID":                    nRequestID,
		"Request-Id":                    nRequestID,
		"HTTP_REQUEST_ID":               nRequestID,
		"Wechatpay-Timestamp":           nTimestamp,
		"HTTP_WECHATPAY_NONCE":          nNonce,
		"HTTP_WECHATPAY_SERIAL":         nSerial,
		"Wechatpay-Signatur":            -1,
		"Wechatpay-Signaturee":          -1,
		"HTTP_":                         -1,
		"HTTP_HTTP_REQUEST_ID":          -1,
		"X-Wechatpay-Signature":         -1,
		"Wechatpay Signature":           -1,
		"":                              -1,
	}
	for k, want := range cases {
		if got := matchHeader(k); got != want {
			t.Errorf("matchHeader(%q) = %d, want %d", k, got, want)
		}
	}
}

// referenceLookup is the specification of the header readers: the value of
// the keys of m that name header i, or "" when none does; conflict when two
// of them have different values.
func referenceLookup(m map[string]string, i int) (v string, conflict bool) {
	if s, ok := m[canonicalNames[i]]; ok {
		return s, false
	}
	found := false
	for k, s := range m {
		norm := strings.ToLower(k)
		norm = strings.TrimPrefix(norm, "http_")
		if len(k) <= 5 && strings.HasPrefix(strings.ToLower(k), "http_") {
			norm = strings.ToLower(k)
		}
		norm = strings.ReplaceAll(norm, "_", "-")
		if norm != lowerNames[i] {
			continue
		}
		if found && s != v {
			return "", true
		}
		v, found = s, true
	}
	return v, false
}

// FuzzHeaders checks the header readers against referenceLookup with
// arbitrary keys and values, in every form Parse accepts: they never panic,
// and map[string]string, map[string][]string and http.Header agree with the
// reference and with each other; getters find what a case-insensitive
// getter holds.
func FuzzHeaders(f *testing.F) {
	f.Add("Wechatpay-Nonce", "n1", "HTTP_WECHATPAY_NONCE", "n1", "request-id", "r")
	f.Add("wechatpay-signature", "s", "WECHATPAY_SIGNATURE", "t", "Wechatpay-Serial", "x")
	f.Add("HTTP_WECHATPAY_TIMESTAMP", "1", "Http_Request_Id", "", "HTTP_", "")
	f.Add("Wechatpay-Signature-Type", "WECHATPAY2-SHA256-RSA2048", "wechatpay-signature-type", "", "\x00", "\xff")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2, k3, v3 string) {
		m := map[string]string{}
		for _, kv := range [][2]string{{k1, v1}, {k2, v2}, {k3, v3}} {
			m[kv[0]] = kv[1]
		}
		mm := map[string][]string{}
		hh := http.Header{}
		for k, v := range m {
			mm[k] = []string{v}
			hh[k] = []string{v}
		}
		got1, err1 := readHeaders(m)
		got2, err2 := readHeaders(mm)
		got3, err3 := readHeaders(hh)
		if (err1 == nil) != (err2 == nil) || (err1 == nil) != (err3 == nil) || got1 != got2 || got1 != got3 {
			t.Fatalf("forms disagree: %q %v / %q %v / %q %v", got1, err1, got2, err2, got3, err3)
		}
		if err1 != nil && err2 != nil && err1.Error() != err2.Error() {
			t.Fatalf("errors differ: %v / %v", err1, err2)
		}
		var conflicted bool
		for i := 0; i < nHeaders; i++ {
			want, c := referenceLookup(m, i)
			conflicted = conflicted || c
			if err1 == nil && !c && got1[i] != want {
				t.Fatalf("header %s = %q, want %q (map %q)", canonicalNames[i], got1[i], want, m)
			}
		}
		if conflicted != (err1 != nil) {
			t.Fatalf("conflict %v, error %v (map %q)", conflicted, err1, m)
		}
		if err1 != nil {
			var ce *headerConflictError
			if !errors.As(err1, &ce) {
				t.Fatalf("conflict error %v", err1)
			}
		}
		// Getters: a case-insensitive getter (net/http's) finds the
		// canonical spellings; a getter over the raw map finds exact ones.
		viaGet, _ := readHeaders(hh.Get)
		viaFunc, _ := readHeaders(func(k string) string { return m[k] })
		for i := 0; i < nHeaders; i++ {
			if v, ok := m[canonicalNames[i]]; ok && v != "" && (viaFunc[i] != v || viaGet[i] != v) {
				t.Fatalf("getter misses %s: %q %q", canonicalNames[i], viaFunc[i], viaGet[i])
			}
			if v, ok := m[cgiNames[i]]; ok && v != "" && m[canonicalNames[i]] == "" && viaFunc[i] != v {
				t.Fatalf("getter misses %s: %q", cgiNames[i], viaFunc[i])
			}
		}
		_, _ = readHeaders(HeaderFunc(func(k string) string { return m[k] }))
	})
}
