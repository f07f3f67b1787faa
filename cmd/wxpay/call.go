package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/gowxpay/wxpay"
	"github.com/gowxpay/wxpay/auth"
	"github.com/gowxpay/wxpay/core"
)

var callHelp = cmdHelp{
	name:  "call",
	usage: "call METHOD PATH [--data JSON|@FILE] [--include] [--out FILE] [credentials]",
	about: `Sends one signed request and verifies the answer's signature, for endpoints
that are not in the spec yet and for debugging. PATH is the path and query as
they go on the wire (escape them yourself), or a full URL on the API host.
The body is sent exactly as given, after checking that it is JSON.

The status line, the Request-ID and the signature check go to stderr; the
answer's body to stdout, JSON pretty-printed, so that it can be piped. Bill
and other file downloads are not signed by WeChat Pay: their body is written
as it comes. A non-2xx answer prints WeChat Pay's error (code, message,
detail) with a hint, and the exit status is 1.`,
	examples: []string{
		"wxpay --config ./wxpay-sandbox/wxpay.json call GET /v3/certificates",
		"wxpay --config ./wxpay-sandbox/wxpay.json call GET '/v3/pay/transactions/out-trade-no/ORDER-1?mchid=1900001001'",
		`echo '{"out_trade_no":"ORDER-1","out_refund_no":"R-1","amount":{"refund":1,"total":1,"currency":"CNY"}}' | wxpay --config ./wxpay-sandbox/wxpay.json call POST /v3/refund/domestic/refunds --data @-`,
	},
	creds: true,
}

func (a *app) call(ctx context.Context, args []string) int {
	fs := newFlagSet("call")
	data := fs.String("data", "", "request body: `JSON`, @FILE, or @- for stdin")
	include := fs.Bool("include", false, "print the answer's headers to stderr (the signature is not shown)")
	outFile := fs.String("out", "", "write the answer's body to `FILE` instead of stdout")
	timeout := fs.Duration("timeout", time.Minute, "give up after this long, retries included")
	pos, code, ok := a.parseCommand(fs, callHelp, args)
	if !ok {
		return code
	}
	if len(pos) != 2 {
		return a.usageError(callHelp, "want METHOD and PATH, got %d argument(s)", len(pos))
	}
	method := strings.ToUpper(pos[0])
	switch method {
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
	default:
		return a.usageError(callHelp, "method %q is not GET, POST, PUT, PATCH or DELETE", pos[0])
	}
	body, err := a.readData(*data)
	if err != nil {
		return a.usageError(callHelp, "%v", err)
	}
	if len(body) > 0 && !json.Valid(body) {
		return a.usageError(callHelp, "the --data body is not valid JSON (WeChat Pay takes JSON bodies; it is sent exactly as given)")
	}
	fail := func(format string, args ...any) int {
		fmt.Fprintf(a.stderr, "wxpay call: "+format+"\n", args...)
		return exitFail
	}
	cfg, err := a.clientConfig()
	if err != nil {
		return fail("%v", err)
	}
	cfg.CertificateRefresh = -1
	cfg.Logger = a.retryLogger()
	uri, err := requestTarget(pos[1], cfg.BaseURL)
	if err != nil {
		return a.usageError(callHelp, "%v", err)
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	client, err := wxpay.NewClient(ctx, cfg)
	if err != nil {
		return fail("%v\n(run 'wxpay doctor' to check every setting)", configError(err))
	}
	defer client.Close()

	path, _, _ := strings.Cut(uri, "?")
	unsigned := auth.UnsignedPath(path)
	resp, err := client.Conn().Raw(ctx, method, uri, body, unsigned)
	var apiErr *wxpay.APIError
	switch {
	case errors.As(err, &apiErr):
		a.printAPIError(apiErr, *include)
		if len(apiErr.Body) > 0 {
			a.stdout.Write(prettyJSON(apiErr.Body))
		}
		return exitFail
	case err != nil:
		return fail("%v", err)
	}
	check := "signature verified (Wechatpay-Serial " + resp.Header.Get("Wechatpay-Serial") + ")"
	if unsigned {
		check = "a download: WeChat Pay does not sign it (check its digest)"
	}
	fmt.Fprintf(a.stderr, "HTTP %d %s · Request-ID %s · %s\n", resp.StatusCode, http.StatusText(resp.StatusCode), orNone(resp.Header.Get("Request-ID")), check)
	if *include {
		writeHeaders(a.stderr, resp.Header)
	}
	out := resp.Body
	if !unsigned || json.Valid(out) {
		out = prettyJSON(out)
	}
	if *outFile != "" {
		if err := os.WriteFile(*outFile, resp.Body, 0o600); err != nil {
			return fail("%v", err)
		}
		fmt.Fprintf(a.stderr, "%s written to %s\n", byteCount(int64(len(resp.Body))), *outFile)
		return exitOK
	}
	a.stdout.Write(out)
	return exitOK
}

// readData reads the --data argument: JSON, @FILE or @- (stdin).
func (a *app) readData(data string) ([]byte, error) {
	switch {
	case data == "":
		return nil, nil
	case data == "@-":
		return io.ReadAll(a.stdin)
	case strings.HasPrefix(data, "@"):
		b, err := os.ReadFile(data[1:])
		if err != nil {
			return nil, fmt.Errorf("--data: %w", err)
		}
		return b, nil
	}
	return []byte(data), nil
}

// requestTarget returns the path and query to request: PATH as given, or
// the path and query of a URL on the API host.
func requestTarget(p, base string) (string, error) {
	if strings.HasPrefix(p, "http://") || strings.HasPrefix(p, "https://") {
		u, err := url.Parse(p)
		if err != nil {
			return "", err
		}
		if base == "" {
			base = core.DefaultBaseURL
		}
		b, err := url.Parse(base)
		if err != nil {
			return "", err
		}
		if !strings.EqualFold(u.Host, b.Host) || !strings.EqualFold(u.Scheme, b.Scheme) {
			return "", fmt.Errorf("%s is not on the API host %s; set --base-url to call another host", p, base)
		}
		return u.RequestURI(), nil
	}
	if !strings.HasPrefix(p, "/") {
		return "", fmt.Errorf("PATH %q must start with / (e.g. /v3/certificates)", p)
	}
	return p, nil
}

// printAPIError explains a non-2xx answer on stderr.
func (a *app) printAPIError(e *wxpay.APIError, include bool) {
	w := a.stderr
	fmt.Fprintf(w, "HTTP %d %s · Request-ID %s\n", e.StatusCode, http.StatusText(e.StatusCode), orNone(e.RequestID))
	if e.Code != "" {
		fmt.Fprintf(w, "  %-8s %s\n", "code", e.Code)
	}
	if e.Message != "" {
		fmt.Fprintf(w, "  %-8s %s\n", "message", e.Message)
	}
	if d := e.Detail; d != nil {
		parts := []string{}
		if d.Location != "" {
			parts = append(parts, d.Location)
		}
		if d.Field != "" {
			parts = append(parts, d.Field)
		}
		if len(d.Value) > 0 {
			parts = append(parts, "value "+string(d.Value))
		}
		if d.Issue != "" {
			parts = append(parts, d.Issue)
		}
		fmt.Fprintf(w, "  %-8s %s\n", "detail", strings.Join(parts, " · "))
	}
	if e.Code == "" && len(e.Body) == 0 {
		fmt.Fprintf(w, "  %-8s %s\n", "body", "(empty: an unknown path or method gets no JSON error)")
	}
	if e.Hint != "" {
		fmt.Fprintf(w, "  %-8s %s\n", "hint", e.Hint)
	}
	if include {
		writeHeaders(w, e.Header)
	}
}

// writeHeaders prints a header, sorted, with the signature left out.
func writeHeaders(w io.Writer, h http.Header) {
	for _, k := range sortedKeys(h) {
		for _, v := range h[k] {
			if strings.EqualFold(k, "Wechatpay-Signature") {
				v = fmt.Sprintf("(%d characters, not shown)", len(v))
			}
			fmt.Fprintf(w, "  %s: %s\n", k, v)
		}
	}
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
