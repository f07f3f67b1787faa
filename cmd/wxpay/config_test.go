package main

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/gowxpay/wxpay/auth"
)

// TestPrecedence: flags beat the environment, which beats the
// configuration file, value by value; relative paths in the file are
// relative to its folder.
func TestPrecedence(t *testing.T) {
	t.Parallel()
	file := writeFile(t, "wxpay.json", []byte(`{
		"mchid": "1000000001", "appid": "wxfile0000000000001", "partner_mode": true,
		"sub_mchid": "3000000001", "private_key_file": "keys/apiclient_key.pem",
		"apiv3_key": "file-apiv3-key-0123456789abcdef!", "public_key_id": "PUB_KEY_ID_0111",
		"public_key_pem": "-----BEGIN PUBLIC KEY-----\n"
	}`))
	env := map[string]string{
		"WXPAY_CONFIG":       file,
		"WXPAY_MCHID":        "1000000002",
		"WXPAY_APPID":        "wxenv00000000000002",
		"WXPAY_PARTNER_MODE": "false",
	}
	resolve := func(args ...string) *settings {
		t.Helper()
		a := &app{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}, getenv: func(k string) string { return env[k] }}
		fs := newFlagSet("test")
		a.creds.register(fs)
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		s, err := a.resolve("")
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	check := func(s *settings, key, value, source string) {
		t.Helper()
		if s.get(key) != value || s.source(key) != source {
			t.Fatalf("%s = %q from %q, want %q from %q", key, s.get(key), s.source(key), value, source)
		}
	}

	s := resolve("--mchid", "1000000003", "--partner")
	check(s, "mchid", "1000000003", "--mchid")               // flag over env over file
	check(s, "appid", "wxenv00000000000002", "$WXPAY_APPID") // env over file
	check(s, "partner_mode", "true", "--partner")            // a boolean flag over env "false"
	check(s, "sub_mchid", "3000000001", "wxpay.json")        // file only
	check(s, "private_key_file", filepath.Join(filepath.Dir(file), "keys", "apiclient_key.pem"), "wxpay.json")
	if v := s.vals["public_key_file"]; string(v.pem) != "-----BEGIN PUBLIC KEY-----\n" || v.source != "wxpay.json (public_key_pem)" {
		t.Fatalf("inline PEM: %+v", v)
	}
	if s.apiv3OnFlag {
		t.Fatal("the APIv3 key did not come from a flag")
	}

	s = resolve()
	check(s, "mchid", "1000000002", "$WXPAY_MCHID")
	check(s, "partner_mode", "false", "$WXPAY_PARTNER_MODE")
	if s.configFile != file {
		t.Fatalf("config file %q from $WXPAY_CONFIG", s.configFile)
	}

	delete(env, "WXPAY_MCHID")
	delete(env, "WXPAY_PARTNER_MODE")
	s = resolve("--public-key", "/elsewhere/pub_key.pem", "--apiv3-key", "flag-apiv3-key-0123456789abcdef!")
	check(s, "mchid", "1000000001", "wxpay.json")
	check(s, "partner_mode", "true", "wxpay.json")
	check(s, "public_key_file", "/elsewhere/pub_key.pem", "--public-key") // a file flag replaces inline PEM
	if s.vals["public_key_file"].pem != nil || !s.apiv3OnFlag {
		t.Fatalf("%+v", s.vals["public_key_file"])
	}
	if m, why, err := s.keyMode(); err != nil || m != auth.PublicKeyMode {
		t.Fatalf("key mode %v (%s) %v", m, why, err)
	}
	if _, _, err := resolve("--key-mode", "both").keyMode(); err == nil {
		t.Fatal("an unknown key mode was accepted")
	}
}

// TestPrecedenceThroughRun: the same order through the command line, as
// doctor reports where each value came from.
func TestPrecedenceThroughRun(t *testing.T) {
	file := writeFile(t, "cfg.json", []byte(`{"mchid":"1000000001","appid":"wx0123456789abcdef"}`))
	t.Setenv("WXPAY_MCHID", "1000000002")
	r := runCLI(t, "--config", file, "doctor", "--offline")
	expect(t, r, 1, "1000000002 ($WXPAY_MCHID)", "wx0123456789abcdef (cfg.json)")
	r = runCLI(t, "--config", file, "doctor", "--offline", "--mchid", "1000000003")
	expect(t, r, 1, "1000000003 (--mchid)")
}
