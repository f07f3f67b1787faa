package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"
)

// prettyJSON indents a JSON document and writes &, < and > as they are
// rather than as \u0026, \u003c and \u003e (as Go's encoders escape
// them), so that URLs in it can be pasted back; other content comes back
// unchanged.
func prettyJSON(b []byte) []byte {
	var out bytes.Buffer
	if json.Indent(&out, bytes.TrimSpace(b), "", "  ") != nil {
		return b
	}
	out.WriteByte('\n')
	return unescapeHTML(out.Bytes())
}

// unescapeHTML replaces the escapes \u0026, \u003c and \u003e in the
// strings of a valid JSON document with the characters themselves; the
// document means the same.
func unescapeHTML(b []byte) []byte {
	if !bytes.Contains(b, []byte(`\u00`)) {
		return b
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '\\' || i+1 >= len(b) {
			out = append(out, c)
			continue
		}
		if b[i+1] == 'u' && i+5 < len(b) {
			switch strings.ToLower(string(b[i+2 : i+6])) {
			case "0026":
				out, i = append(out, '&'), i+5
				continue
			case "003c":
				out, i = append(out, '<'), i+5
				continue
			case "003e":
				out, i = append(out, '>'), i+5
				continue
			}
		}
		out = append(out, c, b[i+1]) // any other escape, \\ included, stays
		i++
	}
	return out
}

// yuan formats an amount in fen (分) as yuan.
func yuan(fen int64) string {
	sign := ""
	if fen < 0 {
		sign, fen = "-", -fen
	}
	return fmt.Sprintf("%s%d.%02d", sign, fen/100, fen%100)
}

// isTerminal reports whether w is a terminal, for progress lines that only
// make sense there.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progress reports the bytes of a long transfer on a terminal, at most five
// times a second, and erases its line when done. On anything else it is
// silent: logs and pipes get no carriage returns.
type progress struct {
	w     io.Writer
	what  string
	on    bool
	n     int64
	last  time.Time
	shown bool
}

func newProgress(w io.Writer, what string) *progress {
	return &progress{w: w, what: what, on: isTerminal(w)}
}

// Write counts bytes; wrap the destination with io.MultiWriter.
func (p *progress) Write(b []byte) (int, error) {
	p.n += int64(len(b))
	if p.on && time.Since(p.last) > 200*time.Millisecond {
		p.last = time.Now()
		p.shown = true
		fmt.Fprintf(p.w, "\r%s… %s", p.what, byteCount(p.n))
	}
	return len(b), nil
}

// done erases the progress line.
func (p *progress) done() {
	if p.shown {
		fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", len(p.what)+24))
	}
}

// byteCount formats a size.
func byteCount(n int64) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d bytes", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

// exchange is one request the client sent and the status it got.
type exchange struct {
	method, target string
	status         int
	err            error
}

// recorder is an http.RoundTripper that remembers the requests that pass
// through it (method, path and query with download tokens elided), for the
// demo to show what the client sent.
type recorder struct {
	base http.RoundTripper
	mu   sync.Mutex
	log  []exchange
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.base.RoundTrip(req)
	ex := exchange{method: req.Method, target: elideTokens(req.URL.RequestURI()), err: err}
	if resp != nil {
		ex.status = resp.StatusCode
	}
	r.mu.Lock()
	r.log = append(r.log, ex)
	r.mu.Unlock()
	return resp, err
}

// take returns the exchanges since the last take.
func (r *recorder) take() []exchange {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.log
	r.log = nil
	return out
}

// elideTokens hides the value of a token query parameter (bill download
// URLs): it is a credential for five minutes.
func elideTokens(uri string) string {
	i := strings.Index(uri, "token=")
	if i < 0 || (i > 0 && uri[i-1] != '?' && uri[i-1] != '&') {
		return uri
	}
	end := strings.IndexByte(uri[i:], '&')
	if end < 0 {
		return uri[:i] + "token=…"
	}
	return uri[:i] + "token=…" + uri[i+end:]
}

// retryLogger returns the client logger of long operations: every request
// with --verbose, else one progress line per attempt that failed in a way
// the client retries (connection errors, 429, 5xx).
func (a *app) retryLogger() *slog.Logger {
	if a.verbose {
		return a.logger()
	}
	return slog.New(retryHandler{w: a.stderr})
}

// retryHandler prints the retried attempts of core's "wxpay request"
// records; it ignores everything else.
type retryHandler struct{ w io.Writer }

func (h retryHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h retryHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "wxpay request" {
		return nil
	}
	var attempt, status int64
	var op, errText string
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "attempt":
			attempt = a.Value.Int64()
		case "status":
			status = a.Value.Int64()
		case "op":
			op = a.Value.String()
		case "error":
			errText = a.Value.String()
		}
		return true
	})
	what := errText
	if what == "" {
		if status != http.StatusTooManyRequests && status < 500 {
			return nil
		}
		what = fmt.Sprintf("HTTP %d", status)
	}
	fmt.Fprintf(h.w, "  %s, attempt %d: %s (retrying if attempts are left)\n", op, attempt, what)
	return nil
}

func (h retryHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h retryHandler) WithGroup(string) slog.Handler      { return h }
