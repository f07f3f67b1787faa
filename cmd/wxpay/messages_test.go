package main

import (
	"strings"
	"testing"
	"time"

	"github.com/gowxpay/wxpay/sandbox"
)

// TestDoctorPublicKeyUnusedInCertificateMode: the sandbox moved to the
// WeChat Pay public key while the configuration, which has the public key,
// is still in certificate mode. Both failing checks give the same fix (use
// public-key mode); neither asks to configure the key that is configured.
func TestDoctorPublicKeyUnusedInCertificateMode(t *testing.T) {
	t.Parallel()
	s := startSandbox(t)
	m := s.Merchant()
	cfg := writeCreds(t, m)
	if err := s.SetKeyMode(sandbox.PublicKeyMode); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, "--config", cfg, "--key-mode", "certificate", "doctor")
	wantVerdict(t, r, "WeChat Pay public key", "ok")
	wantVerdict(t, r, "answer signature", "FAIL")
	expect(t, r, 1, "configured but unused in certificate mode: use public-key mode", "certificate mode, which verifies with platform certificates only")
	for _, line := range strings.Split(r.stdout, "\n") {
		if strings.Contains(line, "fix:") && strings.Contains(line, "configure it") {
			t.Fatalf("a fix asks to configure the public key that is configured: %s\n%s", line, r)
		}
	}
	if strings.Contains(r.stdout, "which is not configured") {
		t.Fatalf("the configured public key is called not configured\n%s", r)
	}
}

// TestAPIv3KeyLengthMessages: a key of the wrong length is not suspected to
// be the APIv2 key (which is 32 characters too); one with spaces around it
// is told so.
func TestAPIv3KeyLengthMessages(t *testing.T) {
	t.Parallel()
	m := startSandbox(t).Merchant()
	cfg := writeCreds(t, m)
	r := runCLI(t, "--config", cfg, "--apiv3-key", "abc", "doctor", "--offline")
	wantVerdict(t, r, "APIv3 key", "FAIL")
	expect(t, r, 1, "has 3 bytes, not 32", "copy the whole APIv3 key")
	if strings.Contains(r.stdout+r.stderr, "APIv2") {
		t.Fatalf("a 3-byte key is suspected to be the APIv2 key\n%s", r)
	}
	r = runCLI(t, "--config", cfg, "--apiv3-key", "abc", "call", "GET", "/v3/certificates")
	expect(t, r, 1, "APIv3Key", "this one has 3")
	if strings.Contains(r.stdout+r.stderr, "APIv2") {
		t.Fatalf("a 3-byte key is suspected to be the APIv2 key\n%s", r)
	}
}

// TestCallPrintsURLsAsTheyAre: a download_url holds &, which the answer
// printed by call must show as & (not \u0026) so that it can be pasted
// into the next call.
func TestCallPrintsURLsAsTheyAre(t *testing.T) {
	t.Parallel()
	m := startSandbox(t).Merchant()
	day := time.Now().In(time.FixedZone("CST", 8*3600)).AddDate(0, 0, -1).Format(time.DateOnly)
	r := runCLI(t, "--config", writeCreds(t, m), "call", "GET", "/v3/bill/tradebill?bill_date="+day+"&tar_type=GZIP")
	expect(t, r, 0, "&tartype=gzip", "signature verified")
	if strings.Contains(r.stdout, `\u0026`) {
		t.Fatalf("& printed escaped\n%s", r)
	}
}

func TestUnescapeHTML(t *testing.T) {
	t.Parallel()
	in := `{"u":"a\u0026b\u003cc\u003E","k":"\\u0026","n":"\u00e9"}`
	want := `{"u":"a&b<c>","k":"\\u0026","n":"\u00e9"}`
	if got := string(unescapeHTML([]byte(in))); got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}
