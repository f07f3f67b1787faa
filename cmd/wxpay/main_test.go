package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gowxpay/wxpay/sandbox"
)

// testKeys are the options of every sandbox of the tests, the CLI's
// included: RSA keys generated once and the spec loaded once, which are
// what makes a sandbox slow to start (seconds each under -race).
var testKeys []sandbox.Option

func TestMain(m *testing.M) {
	keys, err := sandbox.GenerateKeys(6)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	spec, err := sandbox.DefaultSpec()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testKeys = []sandbox.Option{sandbox.WithKeys(keys...), sandbox.WithSpec(spec)}
	extraSandboxOptions = testKeys
	os.Exit(m.Run())
}

// result is what one run of the command line printed and returned.
type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\n--- stdout:\n%s--- stderr:\n%s", r.code, r.stdout, r.stderr)
}

// runCLI runs the command line in-process.
func runCLI(t *testing.T, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb) // no deadline but the test's own
	return result{code, out.String(), errb.String()}
}

// expect fails the test unless the run exited with code and its output
// holds every want string.
func expect(t *testing.T, r result, code int, want ...string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("want exit %d\n%s", code, r)
	}
	all := r.stdout + r.stderr
	for _, w := range want {
		if !strings.Contains(all, w) {
			t.Fatalf("the output lacks %q\n%s", w, r)
		}
	}
}

// startSandbox starts a sandbox for a test with the shared keys.
func startSandbox(t *testing.T, opts ...sandbox.Option) *sandbox.Server {
	t.Helper()
	return sandbox.StartTest(t, append(append([]sandbox.Option{}, testKeys...), opts...)...)
}

// writeCreds writes credentials into a temporary folder and returns the
// path of its wxpay.json.
func writeCreds(t *testing.T, c sandbox.Credentials) string {
	t.Helper()
	dir := t.TempDir()
	if err := c.WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, sandbox.JSONFile)
}

// noSecrets fails the test when an output holds a secret of c.
func noSecrets(t *testing.T, r result, c sandbox.Credentials) {
	t.Helper()
	all := r.stdout + r.stderr
	der, _ := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
	keyPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	for name, secret := range map[string]string{
		"the APIv3 key":       string(c.APIv3Key),
		"the private key":     keyPEM[40:100],
		"a private key block": "PRIVATE KEY-----",
		"a signature":         "signature=\"",
	} {
		if secret != "" && strings.Contains(all, secret) {
			t.Fatalf("the output shows %s\n%s", name, r)
		}
	}
}

// syncBuffer is a buffer that one goroutine writes while another reads.
type syncBuffer struct {
	mu      sync.Mutex
	b       bytes.Buffer
	changed chan struct{} // closed at the next write; made by wait
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.changed != nil {
		close(s.changed)
		s.changed = nil
	}
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// snapshot returns what was written so far and a channel closed at the
// next write.
func (s *syncBuffer) snapshot() (string, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.changed == nil {
		s.changed = make(chan struct{})
	}
	return s.b.String(), s.changed
}

// waitOutput blocks until the output holds every want string, and returns
// it; it returns false when done delivers an exit code first. It waits on
// writes, not on a clock: the test's own -timeout is the only deadline.
func waitOutput(out *syncBuffer, done <-chan int, want ...string) (string, int, bool) {
	for {
		text, changed := out.snapshot()
		all := true
		for _, w := range want {
			if !strings.Contains(text, w) {
				all = false
				break
			}
		}
		if all {
			return text, 0, true
		}
		select {
		case <-changed:
		case code := <-done:
			return out.String(), code, false
		}
	}
}

// TestHelp: every command answers --help with a usage line, its flags and
// an example, on stdout, with status 0; mistakes are status 2.
func TestHelp(t *testing.T) {
	t.Parallel()
	for _, c := range commands {
		args := append(strings.Fields(c.name), "--help")
		r := runCLI(t, args...)
		expect(t, r, 0, "Usage: wxpay "+c.name, "Example")
		if c.name != "demo" && !strings.Contains(r.stdout, "Flags:") {
			t.Fatalf("%s --help lists no flags\n%s", c.name, r)
		}
	}
	expect(t, runCLI(t, "--help"), 0, "Commands:", "certs download", "WXPAY_APIV3_KEY")
	expect(t, runCLI(t, "help", "doctor"), 0, "Usage: wxpay doctor")
	expect(t, runCLI(t, "certs", "--help"), 0, "Commands:")
	expect(t, runCLI(t), 2, "Usage:")
	expect(t, runCLI(t, "pay"), 2, `unknown command "pay"`)
	expect(t, runCLI(t, "certs", "upload"), 2, `unknown command "certs upload"`)
	expect(t, runCLI(t, "callback"), 2, `"callback" needs a subcommand`)
	expect(t, runCLI(t, "doctor", "--nope"), 2, "flag provided but not defined: -nope", "wxpay doctor --help")
	expect(t, runCLI(t, "call", "GET"), 2, "want METHOD and PATH")
	expect(t, runCLI(t, "callback", "verify"), 2, "--headers and --body are required")
}
