package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/gowxpay/wxpay"
	"github.com/gowxpay/wxpay/auth"
	"github.com/gowxpay/wxpay/callback"
	"github.com/gowxpay/wxpay/gen/bills"
	"github.com/gowxpay/wxpay/gen/payments"
	"github.com/gowxpay/wxpay/gen/refunds"
	"github.com/gowxpay/wxpay/sandbox"
	"github.com/gowxpay/wxpay/sm"
)

var demoHelp = cmdHelp{
	name:  "demo",
	usage: "demo [--story payment|profitsharing|transfer|ecommerce] [--partner] [--key-mode certificate|public-key|transition] [--sm] [--no-qr]",
	about: `Tells a whole payment story against a WeChat Pay sandbox started in this
process, through the real client (wxpay.NewClient): no account, no network.

  1. create a Native order, and show its code_url as a QR code
  2. the payer pays (the sandbox simulates it)
  3. the payment notification arrives at a callback.Handler on a loopback
     port: verified, decrypted, typed
  4. query the order
  5. refund part of it
  6. the refund notification arrives
  7. apply for today's trade bill
  8. download it, check its SHA-1 digest, and read it

--story profitsharing pays an order, shares part of it with a receiver
(PROFITSHARING notification), takes some back and releases the rest;
--story transfer sends money to a user's balance, which the payee confirms
(MCHTRANSFER.BILL.FINISHED), and cancels a second transfer;
--story ecommerce (电商收付通, always as a service provider: the platform)
onboards a second-level merchant, takes a combined payment into it, keeps
the platform's commission (the rest is frozen until then), refunds with the
platform's advance, which the merchant makes good, and withdraws the rest.

--partner tells the same story as a service provider (服务商) for a
sub-merchant. --sm tells it in 国密: SM2 merchant credentials, requests
signed WECHATPAY2-SM2-WITH-SM3, answers verified with SM2 platform
certificates (or the SM2 public key), notifications encrypted AEAD_SM4_GCM. The exit status is 1, and stderr names the failing step, if a
step fails.`,
	examples: []string{"wxpay demo", "wxpay demo --partner --key-mode public-key", "wxpay demo --sm", "wxpay demo --story transfer", "wxpay demo --story ecommerce --no-qr"},
}

// extraSandboxOptions are added to the options of the sandboxes the demo and
// the sandbox command start; tests hand them pre-generated keys.
var extraSandboxOptions []sandbox.Option

// Amounts of the demo order, in fen.
const (
	demoTotal  = 8800
	demoRefund = 3000
)

func (a *app) demo(ctx context.Context, args []string) int {
	fs := newFlagSet("demo")
	partner := fs.Bool("partner", false, "play a service provider (服务商) with a sub-merchant")
	mode := fs.String("key-mode", "certificate", "`MODE` WeChat Pay signs with: certificate, public-key or transition")
	noQR := fs.Bool("no-qr", false, "do not draw the code_url as a QR code")
	story := fs.String("story", "payment", "`STORY` to tell: payment, profitsharing, transfer or ecommerce (always as a service provider)")
	smMode := fs.Bool("sm", false, "tell the story in 国密 (SM2 signatures, SM4-GCM notifications)")
	timeout := fs.Duration("timeout", 10*time.Second, "how long to wait for each notification")
	pos, code, ok := a.parseCommand(fs, demoHelp, args)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return a.usageError(demoHelp, "unexpected argument %q", pos[0])
	}
	km, valid := parseKeyMode(*mode)
	if !valid {
		return a.usageError(demoHelp, "--key-mode %q is not certificate, public-key or transition", *mode)
	}
	if !validStory(*story) {
		return a.usageError(demoHelp, "--story %q is not payment, profitsharing, transfer or ecommerce", *story)
	}
	if *story == storyEcommerce {
		*partner = true // 电商收付通 is for platforms: service providers
	}
	d := &demoRun{a: a, out: a.stdout, partner: *partner, mode: km, noQR: *noQR, timeout: *timeout, story: *story, sm: *smMode}
	return d.run(ctx)
}

// demoRun is one run of the demo.
type demoRun struct {
	a       *app
	out     io.Writer
	partner bool
	mode    auth.KeyMode
	noQR    bool
	timeout time.Duration
	story   string
	sm      bool // 国密

	sb        *sandbox.Server
	creds     sandbox.Credentials
	client    *wxpay.Client
	rec       *recorder
	events    chan *callback.Event
	notifyURL string

	outTradeNo, outRefundNo string
	bill                    *bills.Bill

	// The profit-sharing and transfer stories (demo_stories.go).
	txID, outOrderNo, outBillNo string

	// The e-commerce story (demo_ecommerce.go).
	ec ecRun
}

// demoStep is one step of the story: it prints its details and returns
// its verdict.
type demoStep struct {
	title string
	fn    func(ctx context.Context) (string, error)
}

func (d *demoRun) run(ctx context.Context) int {
	start := time.Now()
	cleanup, err := d.setup(ctx)
	defer cleanup()
	if err != nil {
		fmt.Fprintf(d.a.stderr, "wxpay demo: setting up the sandbox failed: %v\n", err)
		return exitFail
	}
	steps := d.storySteps()
	if steps == nil {
		steps = d.paymentSteps()
	}
	for i, s := range steps {
		fmt.Fprintf(d.out, "\n[%d/%d] %s\n", i+1, len(steps), s.title)
		verdict, err := s.fn(ctx)
		d.printExchanges()
		if err != nil {
			fmt.Fprintf(d.out, "      FAIL\n")
			fmt.Fprintf(d.a.stderr, "wxpay demo: step %d/%d (%s) failed: %v\n", i+1, len(steps), s.title, err)
			return exitFail
		}
		fmt.Fprintf(d.out, "      ok  %s\n", verdict)
	}
	fmt.Fprintf(d.out, "\nDone: the whole story in %s.\n", time.Since(start).Round(time.Millisecond))
	return exitOK
}

// paymentSteps is the payment story: order, payment, query, refund, bill.
func (d *demoRun) paymentSteps() []demoStep {
	return []demoStep{
		{"Create a Native order", d.createOrder},
		{"The payer scans the code and pays", d.pay},
		{"Receive the payment notification", d.paymentNotification},
		{"Query the order", d.query},
		{"Refund part of it", d.refund},
		{"Receive the refund notification", d.refundNotification},
		{"Apply for today's trade bill", d.applyBill},
		{"Download the bill and verify its digest", d.downloadBill},
	}
}

// setup starts the sandbox, the notification listener and the client. The
// returned function undoes what was done, also after an error.
func (d *demoRun) setup(ctx context.Context) (func(), error) {
	var undo []func()
	cleanup := func() {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
	}
	opts := append([]sandbox.Option{
		sandbox.WithKeyMode(sandboxMode(d.mode)),
		// Refunds settle after 5 s and notification retries wait 15 s
		// and more: a hundredth of that keeps the story short.
		sandbox.WithTimeScale(0.01),
	}, extraSandboxOptions...)
	if d.sm {
		opts = append(opts, sandbox.WithSuite(sm.Suite{}))
	}
	sb, err := sandbox.New(opts...)
	if err != nil {
		return cleanup, err
	}
	undo = append(undo, func() { _ = sb.Close() })
	if _, err := sb.Start(); err != nil {
		return cleanup, err
	}
	d.sb = sb
	d.creds = sb.Merchant()
	if d.partner {
		d.creds = sb.Partner()
	}

	// The notify_url: callback.NewHandler on a loopback listener.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return cleanup, err
	}
	d.notifyURL = "http://" + ln.Addr().String() + "/notify"
	d.rec = &recorder{base: &http.Transport{}}
	undo = append(undo, func() { d.rec.base.(*http.Transport).CloseIdleConnections() })

	cfg, err := credentialsConfig(d.creds, d.mode)
	if err != nil {
		return cleanup, err
	}
	if d.sm {
		if cfg, err = smCredentialsConfig(d.creds, d.mode); err != nil {
			return cleanup, err
		}
	}
	cfg.NotifyURL = d.notifyURL
	cfg.HTTPClient = &http.Client{Transport: d.rec, Timeout: 30 * time.Second}
	cfg.CertificateRefresh = -1 // no background refresh in a run of a second
	cfg.Logger = d.a.logger()
	cl, err := wxpay.NewClient(ctx, cfg)
	if err != nil {
		ln.Close()
		return cleanup, err
	}
	undo = append(undo, func() { _ = cl.Close() })
	d.client = cl

	// The client's parser: its platform keys, and AEAD_SM4_GCM as well as
	// AEAD_AES_256_GCM for a 国密 client.
	parser, err := cl.CallbackParser()
	if err != nil {
		ln.Close()
		return cleanup, err
	}
	d.events = make(chan *callback.Event, 32)
	h := callback.NewHandler(parser, func(_ context.Context, ev *callback.Event) error {
		select {
		case d.events <- ev:
		default: // the demo waits for two events; more are not kept
		}
		return nil
	})
	mux := http.NewServeMux()
	mux.Handle("/notify", d.inbound(h))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(ln)
	}()
	undo = append(undo, func() {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		<-served
	})

	who := fmt.Sprintf("%s (direct merchant), appid %s", d.creds.MchID, d.creds.AppID)
	if d.partner {
		who = fmt.Sprintf("%s (service provider), sp_appid %s, sub-merchant %s", d.creds.MchID, d.creds.AppID, d.creds.SubMchID)
	}
	if d.story == storyEcommerce {
		who = fmt.Sprintf("%s (service provider as an e-commerce platform, 电商平台), sp_appid %s", d.creds.MchID, d.creds.AppID)
	}
	fmt.Fprintf(d.out, "wxpay demo: a whole payment story on an embedded WeChat Pay sandbox, through the real client\n\n")
	fmt.Fprintf(d.out, "  %-11s %s\n", "merchant", who)
	fmt.Fprintf(d.out, "  %-11s %s\n", "key mode", keyModeAbout(d.mode))
	if d.sm {
		fmt.Fprintf(d.out, "  %-11s %s\n", "algorithm", "国密: SM2 keys, WECHATPAY2-SM2-WITH-SM3 signatures, AEAD_SM4_GCM notifications and certificates")
	}
	fmt.Fprintf(d.out, "  %-11s %s\n", "sandbox", sb.URL())
	fmt.Fprintf(d.out, "  %-11s %s (callback.NewHandler on a loopback listener)\n", "notify_url", d.notifyURL)
	return cleanup, nil
}

// keyModeAbout says in a few words what a key mode means for the client.
func keyModeAbout(m auth.KeyMode) string {
	switch m {
	case auth.PublicKeyMode:
		return "public-key: answers and notifications are verified with the WeChat Pay public key (PUB_KEY_ID_…)"
	case auth.TransitionMode:
		return "transition: the client accepts platform certificates and the WeChat Pay public key"
	}
	return "certificate: the client downloads the platform certificates and decrypts them with the APIv3 key"
}

// inbound records the notifications the sandbox posts, for the output.
func (d *demoRun) inbound(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		d.rec.mu.Lock()
		d.rec.log = append(d.rec.log, exchange{method: "notify", target: r.URL.Path + " (Wechatpay-Serial " + r.Header.Get("Wechatpay-Serial") + ")", status: sw.status})
		d.rec.mu.Unlock()
	})
}

// statusWriter remembers the status a handler answered.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// printExchanges shows the requests of the step that just ran.
func (d *demoRun) printExchanges() {
	for _, ex := range d.rec.take() {
		status := fmt.Sprint(ex.status)
		if ex.err != nil {
			status = "error: " + ex.err.Error()
		}
		if ex.method == "notify" {
			fmt.Fprintf(d.out, "      ← WeChat Pay POST %s → answered %s\n", ex.target, status)
			continue
		}
		note := ""
		if strings.HasPrefix(ex.target, "/v3/certificates") {
			note = "  (to verify that answer, the client downloads the platform certificates)"
		}
		fmt.Fprintf(d.out, "      → %s %s  %s%s\n", ex.method, ex.target, status, note)
	}
}

func (d *demoRun) kv(key, value string) {
	fmt.Fprintf(d.out, "      %-14s %s\n", key, value)
}

// newOrderNo returns an out_trade_no like DEMO20260309153012-0042.
func newOrderNo(now time.Time) string {
	n, err := rand.Int(rand.Reader, big.NewInt(10000))
	if err != nil {
		n = big.NewInt(0)
	}
	return fmt.Sprintf("DEMO%s-%04d", now.Format("20060102150405"), n.Int64())
}

func (d *demoRun) createOrder(ctx context.Context) (string, error) {
	d.outTradeNo = newOrderNo(time.Now())
	d.outRefundNo = d.outTradeNo + "-R1"
	res, err := d.client.Payments.NativePrepay(ctx, &payments.NativePrepayInput{
		Description: "wxpay demo: T-shirt",
		OutTradeNo:  d.outTradeNo,
		Amount:      payments.Amount{Total: demoTotal, Currency: "CNY"},
	})
	if err != nil {
		return "", err
	}
	if res.CodeURL == "" {
		return "", errors.New("the answer has no code_url")
	}
	d.kv("out_trade_no", d.outTradeNo)
	d.kv("amount", yuan(demoTotal)+" CNY")
	d.kv("code_url", res.CodeURL)
	if !d.noQR {
		fmt.Fprintln(d.out)
		if err := writeQR(d.out, res.CodeURL, "      "); err != nil {
			return "", fmt.Errorf("drawing the QR code: %w", err)
		}
		fmt.Fprintln(d.out)
	}
	return "order created: the payer scans code_url", nil
}

func (d *demoRun) pay(context.Context) (string, error) {
	owner := d.creds.MchID
	if d.partner {
		owner = d.creds.SubMchID
	}
	txID, err := d.sb.Pay(owner, d.outTradeNo)
	if err != nil {
		return "", err
	}
	d.kv("simulated by", fmt.Sprintf("the sandbox (POST /sandbox/pay {\"mchid\":%q,\"out_trade_no\":%q})", owner, d.outTradeNo))
	return "paid: transaction_id " + txID, nil
}

// waitEvent waits for a notification of the given type about the demo's
// order.
func (d *demoRun) waitEvent(ctx context.Context, eventType string) (*callback.Event, error) {
	t := time.NewTimer(d.timeout)
	defer t.Stop()
	for {
		select {
		case ev := <-d.events:
			if ev.EventType == eventType {
				return ev, nil
			}
		case <-t.C:
			return nil, fmt.Errorf("no %s notification within %s (see GET %s/sandbox/notifications)", eventType, d.timeout, d.sb.URL())
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (d *demoRun) paymentNotification(ctx context.Context) (string, error) {
	ev, err := d.waitEvent(ctx, payments.EventTransactionSuccess)
	if err != nil {
		return "", err
	}
	tx, ok := ev.Resource.(*payments.Transaction)
	if !ok {
		return "", fmt.Errorf("the resource decoded into %T, not *payments.Transaction", ev.Resource)
	}
	if tx.OutTradeNo != d.outTradeNo {
		return "", fmt.Errorf("the notification is about order %s, not %s", tx.OutTradeNo, d.outTradeNo)
	}
	d.kv("event", fmt.Sprintf("%s (%s), id %s", ev.EventType, ev.Summary, ev.ID))
	payer := tx.Payer.OpenID
	if d.partner {
		payer = firstNonEmpty(tx.Payer.SubOpenID, tx.Payer.SpOpenID)
	}
	d.kv("resource", fmt.Sprintf("%T: trade_state %s, %s %s, payer %s", ev.Resource, tx.TradeState, yuan(tx.Amount.Total), tx.Amount.Currency, payer))
	return "payment notification received and verified: signature checked, resource decrypted with the APIv3 key", nil
}

func (d *demoRun) query(ctx context.Context) (string, error) {
	tx, err := d.client.Payments.QueryOrderByOutTradeNo(ctx, d.outTradeNo, nil)
	if err != nil {
		return "", err
	}
	if tx.TradeState != payments.TradeStateSuccess {
		return "", fmt.Errorf("trade_state is %s, not SUCCESS", tx.TradeState)
	}
	d.kv("transaction_id", tx.TransactionID)
	return fmt.Sprintf("query: trade_state SUCCESS (%s), %s %s paid at %s", tx.TradeStateDesc, yuan(tx.Amount.PayerTotal), tx.Amount.Currency, tx.SuccessTime), nil
}

func (d *demoRun) refund(ctx context.Context) (string, error) {
	rf, err := d.client.Refunds.Create(ctx, &refunds.CreateRequest{
		OutTradeNo:  d.outTradeNo,
		OutRefundNo: d.outRefundNo,
		Reason:      "wxpay demo: wrong size",
		Amount:      refunds.CreateAmount{Refund: demoRefund, Total: demoTotal, Currency: "CNY"},
	})
	if err != nil {
		return "", err
	}
	d.kv("out_refund_no", d.outRefundNo)
	d.kv("refund_id", rf.RefundID)
	return fmt.Sprintf("refund of %s of %s CNY accepted: status %s", yuan(rf.Amount.Refund), yuan(demoTotal), rf.Status), nil
}

func (d *demoRun) refundNotification(ctx context.Context) (string, error) {
	ev, err := d.waitEvent(ctx, refunds.EventSuccess)
	if err != nil {
		return "", err
	}
	rn, ok := ev.Resource.(*refunds.Notification)
	if !ok {
		return "", fmt.Errorf("the resource decoded into %T, not *refunds.Notification", ev.Resource)
	}
	if rn.OutRefundNo != d.outRefundNo {
		return "", fmt.Errorf("the notification is about refund %s, not %s", rn.OutRefundNo, d.outRefundNo)
	}
	d.kv("event", fmt.Sprintf("%s (%s), id %s", ev.EventType, ev.Summary, ev.ID))
	d.kv("resource", fmt.Sprintf("%T: refund_status %s, %s CNY to %s", ev.Resource, rn.RefundStatus, yuan(rn.Amount.Refund), rn.UserReceivedAccount))
	return "refund notification received and verified", nil
}

func (d *demoRun) applyBill(ctx context.Context) (string, error) {
	today := time.Now().In(time.FixedZone("CST", 8*3600)) // bill days are Beijing days
	p := &bills.ApplyTradeParams{
		BillDate: wxpay.NewDate(today.Year(), today.Month(), today.Day()),
		TarType:  bills.TarTypeGZIP,
	}
	if d.partner {
		p.SubMchID = d.creds.SubMchID
	}
	bd, err := d.client.Bills.ApplyTrade(ctx, p)
	if err != nil {
		return "", err
	}
	d.bill = bd
	d.kv("hash", fmt.Sprintf("%s %s", bd.HashType, bd.HashValue))
	return "download_url received (valid five minutes)", nil
}

func (d *demoRun) downloadBill(ctx context.Context) (string, error) {
	var buf bytes.Buffer
	p := newProgress(d.a.stderr, "downloading the bill")
	n, err := d.client.DownloadBill(ctx, d.bill, io.MultiWriter(&buf, p))
	p.done()
	if err != nil {
		return "", err
	}
	bill, err := wxpay.ParseBill(&buf)
	if err != nil {
		return "", err
	}
	found := false
	for i := range bill.Records {
		if bill.Value(i, "商户订单号") == d.outTradeNo {
			found = true
		}
		if i < 2 {
			var cols []string
			for _, c := range []string{"交易时间", "商户订单号", "交易状态", "应结订单金额", "退款金额"} {
				cols = append(cols, c+" "+bill.Value(i, c))
			}
			d.kv(fmt.Sprintf("record %d", i+1), strings.Join(cols, " · "))
		}
	}
	var totals []string
	for _, c := range []string{"总交易单数", "应结订单总金额", "退款总金额", "手续费总金额"} {
		totals = append(totals, c+" "+bill.Total(c))
	}
	d.kv("totals", strings.Join(totals, " · "))
	if !found {
		return "", fmt.Errorf("the bill does not list order %s", d.outTradeNo)
	}
	return fmt.Sprintf("bill digest verified: %s uncompressed, SHA-1 %s matches; %d records", byteCount(n), d.bill.HashValue, len(bill.Records)), nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// smCredentialsConfig is credentialsConfig with the merchant's 国密
// credentials of a sandbox started WithSuite.
func smCredentialsConfig(c sandbox.Credentials, mode auth.KeyMode) (wxpay.Config, error) {
	cfg, err := credentialsConfig(c, mode)
	if err != nil {
		return cfg, err
	}
	if c.SM == nil {
		return cfg, errors.New("the sandbox has no 国密 credentials")
	}
	cfg.Suite = sm.Suite{}
	cfg.PrivateKey, cfg.Certificate, cfg.CertificateSerial = c.SM.PrivateKeyPEM, c.SM.CertificatePEM, c.SM.CertificateSerial
	cfg.PublicKeyID, cfg.PublicKey = "", nil
	if mode != auth.CertificateMode {
		cfg.PublicKeyID, cfg.PublicKey = c.SM.PublicKeyID, c.SM.PublicKeyPEM
	}
	return cfg, nil
}
