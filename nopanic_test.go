package wxpay_test

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"runtime/debug"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gowxpay/wxpay"
	"github.com/gowxpay/wxpay/auth"
	"github.com/gowxpay/wxpay/callback"
	"github.com/gowxpay/wxpay/core"
	"github.com/gowxpay/wxpay/gen/bills"
	"github.com/gowxpay/wxpay/gen/payments"
	"github.com/gowxpay/wxpay/merchant"
	"github.com/gowxpay/wxpay/sandbox"
)

// exportedAPI lists the exported functions ("pkg.Func") and methods
// ("pkg.Type.Method") declared in the non-test files of the client packages.
func exportedAPI(t *testing.T) (funcs, methods []string) {
	t.Helper()
	for _, dir := range []string{".", "auth", "callback", "core", "merchant"} {
		pkg := filepath.Base(dir)
		if dir == "." {
			pkg = "wxpay"
		}
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		fset := token.NewFileSet()
		for _, name := range files {
			if strings.HasSuffix(name, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range f.Decls {
				fd, ok := d.(*ast.FuncDecl)
				if !ok || !fd.Name.IsExported() {
					continue
				}
				if fd.Recv == nil {
					funcs = append(funcs, pkg+"."+fd.Name.Name)
					continue
				}
				typ := fd.Recv.List[0].Type
				if s, ok := typ.(*ast.StarExpr); ok {
					typ = s.X
				}
				if id, ok := typ.(*ast.Ident); ok && id.IsExported() {
					methods = append(methods, pkg+"."+id.Name+"."+fd.Name.Name)
				}
			}
		}
	}
	sort.Strings(funcs)
	sort.Strings(methods)
	return funcs, methods
}

// noPanicExempt are calls with zero arguments that may panic, and why.
var noPanicExempt = map[string]string{
	// net/http never passes a nil ResponseWriter or *http.Request.
	"callback.Handler.ServeHTTP": "net/http's contract",
	"auth.Transport.RoundTrip":   "net/http's contract (nil *http.Request)",
	// fmt never passes a nil fmt.State.
	"*.Format": "fmt's contract",
}

// argsFor returns the arguments of a call of ft: every one its type's zero
// value (nil context, nil pointers, empty strings) or, with filled, pointers
// to zero values, empty maps, and still a nil context.
func argsFor(ft reflect.Type, skip int, filled bool) []reflect.Value {
	n := ft.NumIn()
	if ft.IsVariadic() {
		n--
	}
	var args []reflect.Value
	for i := skip; i < n; i++ {
		typ := ft.In(i)
		switch {
		case filled && typ.Kind() == reflect.Pointer:
			args = append(args, reflect.New(typ.Elem()))
		case filled && typ.Kind() == reflect.Map:
			args = append(args, reflect.MakeMap(typ))
		default:
			args = append(args, reflect.Zero(typ))
		}
	}
	return args
}

// call calls fn and returns the panic, if any, with its stack.
func call(fn reflect.Value, args []reflect.Value) (p any, stack string) {
	defer func() {
		if r := recover(); r != nil {
			p, stack = r, string(debug.Stack())
		}
	}()
	fn.Call(args)
	return nil, ""
}

// TestNoPanicOnZeroInput calls every exported function and method of the
// client packages with zero arguments — a nil context, nil pointers, nil
// readers and writers, zero structs — on zero, nil and working receivers,
// and every generated operation with a nil context, and checks that none
// panics and that no request leaves with a nil context. A new exported
// function fails the test until it is listed here.
func TestNoPanicOnZeroInput(t *testing.T) {
	var requests atomic.Int64
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer api.Close()
	sb := sandbox.StartTest(t, sandbox.WithKeyMode(sandbox.TransitionMode))
	cfg := sb.Merchant().Config()
	cfg.BaseURL = api.URL
	cfg.MaxAttempts = 1
	client, err := wxpay.NewClient(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	parser, err := client.CallbackParser()
	if err != nil {
		t.Fatal(err)
	}
	key, err := auth.ParsePrivateKey(cfg.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := auth.NewRequestSigner(cfg.MchID, cfg.CertificateSerial, auth.RSASigner{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	handler := callback.NewHandler(parser, func(context.Context, *callback.Event) error { return nil })

	funcs := map[string]any{
		"wxpay.ParseBill": wxpay.ParseBill, "wxpay.NewClient": wxpay.NewClient, "wxpay.IsCode": wxpay.IsCode, "wxpay.Events": wxpay.Events,
		"wxpay.WithHeader": wxpay.WithHeader, "wxpay.WithMaxAttempts": wxpay.WithMaxAttempts,
		"wxpay.CaptureResponse": wxpay.CaptureResponse, "wxpay.TimeOf": wxpay.TimeOf, "wxpay.NewDate": wxpay.NewDate,
		"wxpay.DateOf": wxpay.DateOf, "wxpay.Operations": wxpay.Operations,

		"auth.ParseAuthorization": auth.ParseAuthorization, "auth.ParseMerchantCertificate": auth.ParseMerchantCertificate,
		"auth.LoadMerchantCertificate": auth.LoadMerchantCertificate, "auth.MerchantSerial": auth.MerchantSerial,
		"auth.ParsePlatformPublicKey": auth.ParsePlatformPublicKey, "auth.LoadPlatformPublicKey": auth.LoadPlatformPublicKey,
		"auth.CheckPlatformPublicKey": auth.CheckPlatformPublicKey, "auth.CheckPublicKeyID": auth.CheckPublicKeyID,
		"auth.RequestMessage": auth.RequestMessage, "auth.AppendRequestMessage": auth.AppendRequestMessage,
		"auth.ResponseMessage": auth.ResponseMessage, "auth.AppendResponseMessage": auth.AppendResponseMessage,
		"auth.SignBase64": auth.SignBase64, "auth.VerifyRSA": auth.VerifyRSA, "auth.CheckAPIv3Key": auth.CheckAPIv3Key,
		"auth.DecryptAESGCM": auth.DecryptAESGCM, "auth.EncryptAESGCM": auth.EncryptAESGCM,
		"auth.EncryptOAEP": auth.EncryptOAEP, "auth.DecryptOAEP": auth.DecryptOAEP,
		"auth.ParsePrivateKey": auth.ParsePrivateKey, "auth.LoadPrivateKey": auth.LoadPrivateKey,
		"auth.ParseCertificate": auth.ParseCertificate, "auth.ParsePublicKey": auth.ParsePublicKey,
		"auth.SerialNumber": auth.SerialNumber, "auth.IsPublicKeyID": auth.IsPublicKeyID, "auth.SameKey": auth.SameKey,
		"auth.JSAPIPayMessage": auth.JSAPIPayMessage, "auth.APPPayMessage": auth.APPPayMessage,
		"auth.NewPlatformKeys": auth.NewPlatformKeys, "auth.NewNonce": auth.NewNonce,
		"auth.NewRequestSigner": auth.NewRequestSigner, "auth.MultipartMeta": auth.MultipartMeta,
		"auth.UnsignedPath": auth.UnsignedPath, "auth.SignedFromHeader": auth.SignedFromHeader,
		"auth.CheckSigned": auth.CheckSigned, "auth.VerifyBase64": auth.VerifyBase64,
		"auth.KeyAlgorithm": auth.KeyAlgorithm, "auth.OpenAEAD": auth.OpenAEAD, "auth.SealAEAD": auth.SealAEAD,
		"auth.ParseSuiteCertificate": auth.ParseSuiteCertificate, "auth.SuiteMerchantSerial": auth.SuiteMerchantSerial,
		"auth.VerifySuiteBase64": auth.VerifySuiteBase64,

		"callback.Response": callback.Response, "callback.WithStore": callback.WithStore,
		"callback.WithMaxBodySize": callback.WithMaxBodySize, "callback.WithTimeout": callback.WithTimeout,
		"callback.WithLease": callback.WithLease, "callback.WithLogger": callback.WithLogger,
		"callback.NewHandler": callback.NewHandler, "callback.NewAESGCMOpener": callback.NewAESGCMOpener,
		"callback.NewParser": callback.NewParser, "callback.NewMemoryStore": callback.NewMemoryStore,

		"core.NewConn": core.NewConn, "core.IsCode": core.IsCode, "core.Ptr": core.Ptr[int], "wxpay.Ptr": wxpay.Ptr[int],

		"core.WithHeader": core.WithHeader, "core.WithMaxAttempts": core.WithMaxAttempts,
		"core.CaptureResponse": core.CaptureResponse, "core.TimeOf": core.TimeOf, "core.DateOf": core.DateOf,
		"core.NewDate": core.NewDate,

		"merchant.Connect": merchant.Connect,
	}
	// Receivers: working ones, and zero and nil values of the types that
	// are data or documented as usable when zero. The receiver of a type
	// made by its constructor (Client, Conn, PlatformKeys, Handler,
	// RequestSigner, Transport) is not input: only working ones are used.
	receivers := map[string][]any{
		"wxpay.Bill":              {&wxpay.Bill{}, (*wxpay.Bill)(nil)},
		"wxpay.Client":            {client},
		"auth.APPPayParams":       {&auth.APPPayParams{}, (*auth.APPPayParams)(nil)},
		"auth.JSAPIPayParams":     {&auth.JSAPIPayParams{}, (*auth.JSAPIPayParams)(nil)},
		"auth.Authorization":      {auth.Authorization{}},
		"auth.KeyMode":            {auth.KeyMode(0)},
		"auth.PaySigner":          {auth.PaySigner{}},
		"auth.PlatformKeys":       {client.Conn().Keys()},
		"auth.PlatformKeysConfig": {auth.PlatformKeysConfig{}},
		"callback.Config":         {callback.Config{}},
		"merchant.Config":         {merchant.Config{}},
		"auth.RSASigner":          {auth.RSASigner{}},
		"auth.SuiteSigner":        {auth.SuiteSigner{}},
		"auth.RequestSigner":      {signer},
		"auth.Transport":          {client.Conn().HTTPClient().Transport},
		"auth.VerificationError":  {&auth.VerificationError{}},
		"auth.VerifierFunc":       {auth.VerifierFunc(func(context.Context, string, []byte, string) error { return nil })},
		"callback.Error":          {&callback.Error{}},
		"callback.Event":          {&callback.Event{}, (*callback.Event)(nil)},
		"callback.Handler":        {handler},
		"callback.HeaderFunc":     {callback.HeaderFunc(func(string) string { return "" })},
		"callback.MemoryStore":    {&callback.MemoryStore{}, (*callback.MemoryStore)(nil)},
		"callback.OpenerFunc":     {callback.OpenerFunc(func(dst, nonce, ciphertext, ad []byte) ([]byte, error) { return nil, nil })},
		"callback.Parser":         {parser, &callback.Parser{}, (*callback.Parser)(nil)},
		"callback.Status":         {callback.Status(0)},
		"core.APIError":           {&core.APIError{}},
		"core.Conn":               {client.Conn().Core()},
		"core.Date":               {core.Date{}, &core.Date{}},
		"core.DecodeError":        {&core.DecodeError{}},
		"core.Mode":               {&core.Mode{}},
		"core.ModeError":          {&core.ModeError{}},
		"core.Modes":              {core.Modes(0)},
		"core.OpError":            {&core.OpError{}},
		"core.Time":               {core.Time{}, &core.Time{}},
		"core.UsageError":         {&core.UsageError{}},
		"merchant.ConfigError":    {&merchant.ConfigError{}},
		"merchant.Conn":           {client.Conn()},
		"merchant.DigestError":    {&merchant.DigestError{}},
	}

	declared, methods := exportedAPI(t)
	panics := 0
	check := func(name string, fn reflect.Value, skip int) {
		base := strings.Fields(name)[0]
		if strings.HasSuffix(base, ".Format") {
			base = "*.Format"
		}
		if reason, ok := noPanicExempt[base]; ok {
			t.Logf("%s: exempt (%s)", name, reason)
			return
		}
		for _, filled := range []bool{false, true} {
			if p, stack := call(fn, argsFor(fn.Type(), skip, filled)); p != nil {
				panics++
				t.Errorf("%s with zero arguments (filled pointers: %v) panics: %v\n%s", name, filled, p, stack)
				return
			}
		}
	}
	for _, name := range declared {
		fn, ok := funcs[name]
		if !ok {
			t.Errorf("%s is not in this test's list of functions: add it", name)
			continue
		}
		check(name, reflect.ValueOf(fn), 0)
	}
	for _, name := range methods {
		i := strings.LastIndexByte(name, '.')
		typ, meth := name[:i], name[i+1:]
		recvs, ok := receivers[typ]
		if !ok {
			t.Errorf("%s: type %s is not in this test's list of receivers: add it", name, typ)
			continue
		}
		found := false
		for _, r := range recvs {
			m := reflect.ValueOf(r).MethodByName(meth)
			if !m.IsValid() {
				continue
			}
			found = true
			if meth == "Close" && r == any(client) {
				continue
			}
			check(fmt.Sprintf("%s (receiver %T)", name, r), m, 0)
		}
		if !found {
			t.Errorf("%s: no receiver in the list has it", name)
		}
	}
	// Every operation of every area with a nil context sends nothing.
	sv := reflect.ValueOf(client.Services)
	ops := 0
	for i := range sv.NumField() {
		area := sv.Field(i)
		for j := range area.NumMethod() {
			m := area.Method(j)
			if m.Type().NumIn() == 0 || m.Type().In(0) != reflect.TypeFor[context.Context]() {
				continue
			}
			ops++
			check(sv.Type().Field(i).Name+"."+area.Type().Method(j).Name, m, 0)
		}
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("%d requests were sent by calls with a nil context", n)
	}
	t.Logf("%d functions, %d methods and %d generated operations called with zero arguments; %d panicked", len(declared), len(methods), ops, panics)
}

// TestNilContext: a nil context is refused with an error that says so,
// before anything is sent.
func TestNilContext(t *testing.T) {
	var requests atomic.Int64
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { requests.Add(1) }))
	defer api.Close()
	sb := sandbox.StartTest(t, sandbox.WithKeyMode(sandbox.PublicKeyMode))
	cfg := sb.Merchant().Config()
	cfg.BaseURL = api.URL
	cfg.NotifyURL = "https://example.com/notify"
	var nilCtx context.Context
	if _, err := wxpay.NewClient(nilCtx, cfg); err == nil || !strings.Contains(err.Error(), "context is nil") {
		t.Fatalf("NewClient(nil): %v", err)
	}
	client, err := wxpay.NewClient(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	_, err = client.Payments.NativePrepay(nilCtx, &payments.NativePrepayInput{Description: "x", OutTradeNo: "NIL-1", Amount: payments.Amount{Total: 1}})
	var ue *wxpay.UsageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "context is nil") {
		t.Fatalf("NativePrepay(nil): %v", err)
	}
	if _, err := client.DownloadBill(context.Background(), nil, io.Discard); !errors.As(err, &ue) {
		t.Fatalf("DownloadBill(nil bill): %v", err)
	}
	if _, err := client.DownloadBill(context.Background(), &bills.Bill{DownloadURL: api.URL + "/v3/billdownload/file", HashType: "SHA1", HashValue: strings.Repeat("0", 40)}, nil); err == nil {
		t.Fatal("DownloadBill(nil writer): no error")
	}
	if _, err := wxpay.ParseBill(nil); !errors.Is(err, wxpay.ErrBillFormat) {
		t.Fatalf("ParseBill(nil): %v", err)
	}
	if _, err := auth.EncryptOAEP(nil, "x"); err == nil {
		t.Fatal("EncryptOAEP(nil): no error")
	}
	if _, err := auth.DecryptOAEP(nil, "eA=="); err == nil {
		t.Fatal("DecryptOAEP(nil): no error")
	}
	if n := requests.Load(); n != 0 {
		t.Fatalf("%d requests sent", n)
	}
}
