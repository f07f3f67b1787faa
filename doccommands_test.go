package wxpay_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// docFiles are the documents whose shell blocks (```sh) TestDocCommands
// runs; the examples of every command's --help are added to them.
var docFiles = []string{"README.md", "README.zh-CN.md", "examples/README.md", "docs/faq.md", "docs/faq.zh-CN.md", "docs/architecture.md", "docs/generation.md"}

// docSkipped are the documented lines that do not run here, each with the
// reason. A line listed here that no document has any more fails the test,
// so the list stays true.
var docSkipped = map[string]string{
	"go test -race ./...":                                    "the test suite this test is part of",
	"go -C examples test ./...":                              "TestExamplesModule runs exactly this",
	"(cd contrib/redis && go test -race ./...)":              ".ci/run runs exactly this, with a redis-server it installs",
	"git clone https://github.com/gowxpay/wxpay && cd wxpay": "needs the network",
	"wxpay --config ./wxpay-sandbox/wxpay.json callback verify --headers notify.headers --body notify.json":                                                                 "needs a notification captured from a real endpoint; TestCallbackVerify (cmd/wxpay) runs the command on one",
	"wxpay --config wxpay.json callback verify --headers notify.headers --body notify.json":                                                                                 "needs a captured notification; TestCallbackVerify (cmd/wxpay) runs the command on one",
	"wxpay --config wxpay.json callback verify --headers h.json --body body.json --ignore-age":                                                                              "needs a captured notification; TestCallbackVerifyAge (cmd/wxpay) covers --ignore-age",
	"WXPAY_APIV3_KEY=… wxpay certs download --mchid 1900000109 --private-key apiclient_key.pem --cert apiclient_cert.pem --out certs":                                       "a real merchant's credentials given as flags (… is a placeholder)",
	"WXPAY_APIV3_KEY=… wxpay doctor --mchid 1900000109 --private-key apiclient_key.pem --cert apiclient_cert.pem --public-key-id PUB_KEY_ID_0119… --public-key pub_key.pem": "a real merchant's credentials given as flags (… is a placeholder)",
	"WXPAY_APIV3_KEY=… WXPAY_PUBLIC_KEY_ID=PUB_KEY_ID_… WXPAY_PUBLIC_KEY_FILE=pub_key.pem go -C examples run ./gin":                                                         "a real merchant's public key (… is a placeholder), and it serves until interrupted",
}

// docExpect are the lines that do not exit 0 as documented, with their
// documented outcome.
var docExpect = map[string]struct {
	code int
	want string
}{
	"wxpay --config ./wxpay-sandbox/wxpay.json call GET '/v3/pay/transactions/out-trade-no/ORDER-1?mchid=1900001001'":                                                                                      {1, "ORDER_NOT_EXIST"},
	`echo '{"out_trade_no":"ORDER-1","out_refund_no":"R-1","amount":{"refund":1,"total":1,"currency":"CNY"}}' | wxpay --config ./wxpay-sandbox/wxpay.json call POST /v3/refund/domestic/refunds --data @-`: {1, "HTTP 404"},
}

// TestDocCommands runs, as written, every shell line of the README (in
// English and Chinese), examples/README.md, docs/ and every --help example
// of the command line, against a sandbox served by `wxpay sandbox` with the
// configuration it writes. The wxpay binary is the one the README's
// install-from-clone line (go install ./cmd/wxpay) installs, into a
// temporary GOBIN. The one rewrite: `wxpay sandbox` gets --addr
// 127.0.0.1:0, because port 8080 may be taken on a shared machine.
// Lines that cannot run here are in docSkipped, with the reason.
func TestDocCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the command line")
	}
	if runtime.GOOS == "windows" {
		t.Skip("the documented lines are POSIX shell")
	}
	t.Parallel()
	root, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	bin, work := filepath.Join(tmp, "bin"), filepath.Join(tmp, "work")
	if err := os.MkdirAll(work, 0o755); err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "WXPAY_") && !strings.HasPrefix(kv, "GOBIN=") && !strings.HasPrefix(kv, "PATH=") {
			env = append(env, kv)
		}
	}
	env = append(env, "GOBIN="+bin, "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))

	var lines []string
	seen := map[string]bool{}
	add := func(l string) {
		if !seen[l] {
			seen[l] = true
			lines = append(lines, l)
		}
	}
	for _, f := range docFiles {
		b, err := os.ReadFile(f)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range shellLines(string(b)) {
			add(l)
		}
	}
	const install = "go install ./cmd/wxpay"
	if !seen[install] {
		t.Fatalf("the README no longer says %q: how does a user of a clone install the command?", install)
	}
	sh := func(dir, line string) (int, string) {
		cmd := exec.Command("bash", "-c", line)
		cmd.Dir, cmd.Env = dir, env
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		return code, string(out)
	}
	if code, out := sh(root, install); code != 0 {
		t.Fatalf("%s: exit %d\n%s", install, code, out)
	}
	// The --help examples of every command.
	_, top := sh(work, "wxpay --help")
	for _, l := range helpExamples(top) {
		add(l)
	}
	for _, name := range helpCommands(top) {
		code, out := sh(work, "wxpay "+name+" --help")
		if code != 0 {
			t.Fatalf("wxpay %s --help: exit %d\n%s", name, code, out)
		}
		ex := helpExamples(out)
		if len(ex) == 0 {
			t.Errorf("wxpay %s --help shows no example", name)
		}
		for _, l := range ex {
			add(l)
		}
	}

	// The sandbox first, in the background, until its URL line.
	stop := startDocSandbox(t, bin, work, env, lines)
	defer stop()

	for l := range docSkipped {
		if !seen[l] {
			t.Errorf("docSkipped lists %q, which no document or --help has any more", l)
		}
	}
	for l := range docExpect {
		if !seen[l] {
			t.Errorf("docExpect lists %q, which no document or --help has any more", l)
		}
	}
	for _, l := range lines {
		if _, skip := docSkipped[l]; skip || isSandboxLine(l) || l == install {
			continue
		}
		dir := work
		if strings.HasPrefix(l, "go ") || strings.HasPrefix(l, "make ") {
			dir = root // the module's commands run in the clone
		}
		code, out := sh(dir, l)
		want := docExpect[l]
		if code != want.code || !strings.Contains(out, want.want) {
			t.Errorf("documented line failed (exit %d, want %d and %q):\n  %s\n%s", code, want.code, want.want, l, out)
		}
	}
	t.Logf("%d documented lines, %d of them skipped (see docSkipped)", len(lines), len(docSkipped))
}

func isSandboxLine(l string) bool { return strings.HasPrefix(l, "wxpay sandbox ") }

// startDocSandbox serves the documented `wxpay sandbox` line in work and
// waits for its URL line, with no deadline but the test's own.
func startDocSandbox(t *testing.T, bin, work string, env, lines []string) (stop func()) {
	t.Helper()
	var line string
	for _, l := range lines {
		if isSandboxLine(l) && line == "" {
			line = l
		}
	}
	if line == "" {
		t.Fatal("no document shows how to start the sandbox (wxpay sandbox --dir …)")
	}
	args := append(strings.Fields(strings.SplitN(line, "#", 2)[0])[1:], "--addr", "127.0.0.1:0")
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "wxpay"), args...)
	cmd.Dir, cmd.Env = work, env
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			_ = cmd.Wait()
		})
	}
	r := bufio.NewReader(out)
	var head strings.Builder
	for {
		l, err := r.ReadString('\n')
		head.WriteString(l)
		if strings.Contains(l, "Serving until interrupted") {
			break
		}
		if err != nil {
			stop()
			t.Fatalf("%s: the sandbox stopped before it served: %v\n%s%s", line, err, head.String(), errb.String())
		}
	}
	go func() { _, _ = io.Copy(io.Discard, r) }()
	if !regexp.MustCompile(`at http://127\.0\.0\.1:\d+ `).MatchString(head.String()) {
		stop()
		t.Fatalf("no URL printed:\n%s", head.String())
	}
	return stop
}

// shellLines returns the commands of the ```sh blocks of a Markdown
// document: continuation lines joined, comment-only and blank lines left
// out, a trailing comment kept (the shell ignores it) but trimmed.
func shellLines(doc string) []string {
	var out []string
	in := false
	cont := ""
	for _, l := range strings.Split(doc, "\n") {
		trim := strings.TrimSpace(l)
		if strings.HasPrefix(trim, "```") {
			in = trim == "```sh" || trim == "```bash" || trim == "```shell"
			cont = ""
			continue
		}
		if !in {
			continue
		}
		if cont != "" {
			trim = cont + " " + trim
			cont = ""
		}
		if strings.HasSuffix(trim, `\`) {
			cont = strings.TrimSpace(strings.TrimSuffix(trim, `\`))
			continue
		}
		if trim == "" || strings.HasPrefix(trim, "#") {
			continue
		}
		out = append(out, stripComment(trim))
	}
	return out
}

// stripComment drops a trailing "  # comment" outside quotes.
func stripComment(l string) string {
	var q byte
	for i := 0; i < len(l); i++ {
		c := l[i]
		switch {
		case q != 0:
			if c == q {
				q = 0
			}
		case c == '\'' || c == '"':
			q = c
		case c == '#' && i > 0 && (l[i-1] == ' ' || l[i-1] == '\t'):
			return strings.TrimSpace(l[:i])
		}
	}
	return l
}

// helpCommands lists the commands of `wxpay --help`.
func helpCommands(help string) []string {
	var out []string
	in := false
	for _, l := range strings.Split(help, "\n") {
		switch {
		case strings.HasPrefix(l, "Commands:"):
			in = true
		case in && strings.TrimSpace(l) == "":
			return out
		case in:
			name, _, _ := strings.Cut(strings.TrimSpace(l), "  ")
			out = append(out, name)
		}
	}
	return out
}

// helpExamples lists the lines under "Examples:" of a help text.
func helpExamples(help string) []string {
	var out []string
	in := false
	for _, l := range strings.Split(help, "\n") {
		switch {
		case strings.HasPrefix(l, "Examples:"):
			in = true
		case in && strings.HasPrefix(l, "  "):
			out = append(out, stripComment(strings.TrimSpace(l)))
		case in:
			in = false
		}
	}
	return out
}

func TestShellLines(t *testing.T) {
	t.Parallel()
	doc := "x\n```sh\n# comment\nwxpay demo   # no account\nA=1 \\\n  go run ./x\necho 'a # b'\n```\n```go\nnot shell\n```\n"
	got := fmt.Sprint(shellLines(doc))
	if want := "[wxpay demo A=1 go run ./x echo 'a # b']"; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}
