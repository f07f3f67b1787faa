package main

import (
	"context"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"

	"rsc.io/qr"

	"github.com/gowxpay/wxpay/sandbox"
)

// demoLines are the verdicts every demo run prints, in order.
var demoLines = []string{
	"ok  order created",
	"ok  paid: transaction_id 42",
	"ok  payment notification received and verified",
	"ok  query: trade_state SUCCESS",
	"ok  refund of 30.00 of 88.00 CNY accepted",
	"ok  refund notification received and verified",
	"ok  download_url received",
	"ok  bill digest verified",
	"Done: the whole story in",
}

// TestDemo runs the whole story in both merchant modes and key modes,
// through the real client, and checks the verdict of every step.
func TestDemo(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"direct", []string{"demo"}, []string{"(direct merchant)", "POST /v3/pay/transactions/native  200", "GET /v3/certificates  200", "TRANSACTION.SUCCESS", "*payments.Transaction: trade_state SUCCESS", "REFUND.SUCCESS", "██"}},
		{"partner", []string{"demo", "--partner", "--no-qr"}, []string{"(service provider)", "sub-merchant 19000030", "POST /v3/pay/partner/transactions/native  200", "sub_mchid=19000030"}},
		{"public key", []string{"demo", "--key-mode", "public-key", "--no-qr"}, []string{"public-key: answers", "Wechatpay-Serial PUB_KEY_ID_"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // each demo has its own sandbox
			// No wall-clock limit on the notifications: a busy machine
			// under -race may take longer than the default 10 s.
			r := runCLI(t, append(tc.args, "--timeout", "1h")...)
			expect(t, r, 0, append(tc.want, demoLines...)...)
			last := -1
			for _, l := range demoLines {
				i := strings.Index(r.stdout, l)
				if i < last {
					t.Fatalf("%q is out of order\n%s", l, r)
				}
				last = i
			}
			if r.stderr != "" {
				t.Fatalf("a successful demo writes nothing to stderr\n%s", r)
			}
			if strings.Contains(r.stdout, "token=") && !strings.Contains(r.stdout, "token=…") {
				t.Fatalf("the bill download token is shown\n%s", r)
			}
			if tc.name != "direct" && strings.Contains(r.stdout, "██") {
				t.Fatal("--no-qr drew a QR code")
			}
		})
	}
}

// TestDemoFailure: a failing step stops the demo with status 1 and its
// name on stderr.
func TestDemoFailure(t *testing.T) {
	saved := extraSandboxOptions
	t.Cleanup(func() { extraSandboxOptions = saved })
	extraSandboxOptions = append(append([]sandbox.Option{}, saved...), sandbox.WithFaults(sandbox.Fault{
		Target: "ApplyTradeBill", Kind: sandbox.FaultError, Status: 400, Code: "NO_STATEMENT_EXIST", Message: "账单文件不存在",
	}))
	r := runCLI(t, "demo", "--no-qr", "--timeout", "1h")
	expect(t, r, 1, "ok  refund notification received", "step 7/8 (Apply for today's trade bill) failed", "NO_STATEMENT_EXIST")
	if strings.Contains(r.stdout, "bill digest verified") {
		t.Fatalf("the demo went on after a failed step\n%s", r)
	}
}

// TestQR: the half-block drawing is the QR code's module grid, quiet zone
// included.
func TestQR(t *testing.T) {
	t.Parallel()
	const text = "weixin://wxpay/bizpayurl?pr=AbC123xyz"
	code, err := qr.Encode(text, qr.L)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := writeQR(&b, text, ""); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	n := code.Size + 2*qrQuiet
	if len(lines) != (n+1)/2 {
		t.Fatalf("%d lines for %d module rows", len(lines), n)
	}
	for row, l := range lines {
		cells := []rune(l)
		if len(cells) != n {
			t.Fatalf("line %d has %d cells, want %d", row, len(cells), n)
		}
		for x, c := range cells {
			top, bottom := c == '█' || c == '▀', c == '█' || c == '▄'
			for i, light := range []bool{top, bottom} {
				mx, my := x-qrQuiet, 2*row+i-qrQuiet
				if 2*row+i >= n {
					continue
				}
				wantLight := !code.Black(mx, my) // outside the grid: quiet zone, light
				if light != wantLight {
					t.Fatalf("module (%d,%d) drawn light=%v", mx, my, light)
				}
			}
		}
	}
}

// TestNoGoroutineLeak: the demo and the sandbox command stop every
// goroutine they start (listeners, notification deliveries, the client's
// certificate store, keep-alive connections).
func TestNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	expect(t, runCLI(t, "demo", "--no-qr", "--partner", "--timeout", "1h"), 0)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	dir := t.TempDir()
	out := &syncBuffer{}
	go func() {
		done <- run(ctx, []string{"sandbox", "--addr", "127.0.0.1:0", "--dir", dir}, out, io.Discard)
	}()
	if text, code, ok := waitOutput(out, done, "Serving until interrupted"); !ok {
		t.Fatalf("the sandbox exited with %d\n%s", code, text)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("the sandbox exited with %d", code)
	}
	// Goroutines end asynchronously after Close returns (keep-alive
	// connections); give them a bounded number of scheduler turns rather
	// than a wall-clock deadline.
	for i := 0; i < 2000 && runtime.NumGoroutine() > before; i++ {
		time.Sleep(time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines before, %d after:\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}
}
