// Command wxpay is the command line of the wxpay SDK for the WeChat Pay API
// v3 (微信支付 APIv3):
//
//	wxpay demo              a whole payment story on the embedded sandbox
//	wxpay sandbox           serve the offline WeChat Pay sandbox on a port
//	wxpay certs download    download, verify and decrypt the platform certificates
//	wxpay call              a signed request with a verified answer
//	wxpay callback verify   verify and decrypt a captured notification
//	wxpay doctor            check a configuration, one verdict per check
//
// Credentials come from flags, environment variables (WXPAY_…) or a JSON
// configuration file (--config, in the format `wxpay sandbox` writes), in
// that order of precedence. Secrets (private key, APIv3 key, signatures)
// are never printed.
//
// Install it with
//
//	go install github.com/gowxpay/wxpay/cmd/wxpay@latest
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// After the first signal, a second one ends the process at once.
		<-ctx.Done()
		stop()
	}()
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit statuses.
const (
	exitOK    = 0
	exitFail  = 1 // a command failed (a failing check, an API error …)
	exitUsage = 2 // the command line is wrong
)

// run runs the command line args (without the program name), writing its
// results to stdout and its errors and progress to stderr, and returns the
// exit status. Cancelling ctx (SIGINT, SIGTERM in main) stops long-running
// commands cleanly.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	a := &app{stdout: stdout, stderr: stderr, getenv: os.Getenv, stdin: os.Stdin}
	return a.main(ctx, args)
}

// app is one run of the command line: its output streams, its
// environment and the credential flags seen so far.
type app struct {
	stdout, stderr io.Writer
	stdin          io.Reader
	getenv         func(string) string
	creds          credFlags
	verbose        bool
}

// command is a subcommand.
type command struct {
	name    string // as typed: "certs download"
	summary string
	run     func(a *app, ctx context.Context, args []string) int
}

var commands = []command{
	{"demo", "run a whole payment story on the embedded sandbox", (*app).demo},
	{"sandbox", "serve the offline WeChat Pay sandbox until interrupted", (*app).sandbox},
	{"certs download", "download, verify and decrypt the platform certificates", (*app).certsDownload},
	{"call", "send a signed request and verify the answer", (*app).call},
	{"callback verify", "verify and decrypt a captured notification", (*app).callbackVerify},
	{"doctor", "check a configuration: one line per check, with a fix", (*app).doctor},
}

// main parses the global flags, finds the command and runs it.
func (a *app) main(ctx context.Context, args []string) int {
	fs := newFlagSet("wxpay")
	a.creds.register(fs)
	fs.BoolVar(&a.verbose, "verbose", false, "log every request (method, path, status, Request-ID; never keys, signatures or bodies) to stderr")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, errHelp) {
			a.globalUsage(a.stdout)
			return exitOK
		}
		fmt.Fprintf(a.stderr, "wxpay: %v\nRun 'wxpay --help' for usage.\n", err)
		return exitUsage
	}
	rest := fs.Args()
	if len(rest) == 0 {
		a.globalUsage(a.stderr)
		return exitUsage
	}
	if rest[0] == "help" {
		if len(rest) == 1 {
			a.globalUsage(a.stdout)
			return exitOK
		}
		rest = append(rest[1:], "--help")
	}
	for _, c := range commands {
		words := strings.Fields(c.name)
		if len(rest) >= len(words) && equalWords(rest[:len(words)], words) {
			return c.run(a, ctx, rest[len(words):])
		}
	}
	switch {
	case !isCommandGroup(rest[0]):
		fmt.Fprintf(a.stderr, "wxpay: unknown command %q\nRun 'wxpay --help' for the list of commands.\n", rest[0])
	case len(rest) == 1:
		fmt.Fprintf(a.stderr, "wxpay: %q needs a subcommand\nRun 'wxpay --help' for the list of commands.\n", rest[0])
	case rest[1] == "--help" || rest[1] == "-h":
		a.globalUsage(a.stdout)
		return exitOK
	default:
		fmt.Fprintf(a.stderr, "wxpay: unknown command %q\nRun 'wxpay --help' for the list of commands.\n", rest[0]+" "+rest[1])
	}
	return exitUsage
}

func equalWords(a, b []string) bool {
	for i := range b {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// isCommandGroup reports whether word starts a two-word command.
func isCommandGroup(word string) bool {
	for _, c := range commands {
		if strings.HasPrefix(c.name, word+" ") {
			return true
		}
	}
	return false
}

func (a *app) globalUsage(w io.Writer) {
	var b strings.Builder
	b.WriteString(`wxpay — the command line of the wxpay SDK for WeChat Pay API v3 (微信支付 APIv3)

Usage:
  wxpay [credentials] <command> [flags] [arguments]

Commands:
`)
	width := 0
	for _, c := range commands {
		width = max(width, len(c.name))
	}
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-*s  %s\n", width, c.name, c.summary)
	}
	b.WriteString("\nCredentials, for sandbox, certs, call, callback and doctor (flags > environment > --config file):\n")
	writeCredentialHelp(&b)
	b.WriteString(`
Global flags:
  --verbose            log every request to stderr (never keys, signatures or bodies)

Examples:
  wxpay demo                                   # no account needed
  wxpay sandbox --dir ./wxpay-sandbox          # then, in another terminal:
  wxpay --config ./wxpay-sandbox/wxpay.json doctor

Run 'wxpay <command> --help' for the flags of a command and an example.
`)
	io.WriteString(w, b.String())
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
