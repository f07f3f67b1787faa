package wxpay_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// clientPackages are what an application links when it uses wxpay as a
// client. Today they import the standard library and each other only
// (internal/wire is the generated code's plumbing, internal/sm3 the SM3 hash
// the 电子发票 upload digest needs, both standard library only);
// oapi-codegen/runtime would be allowed if generated code used it, and it
// does not. Never kin-openapi, the generator, the sandbox or the spec, and
// never the opt-in 国密 suite (package sm) or its dependency gmsm: a program
// that does not import wxpay/sm compiles no SM2 or SM4 code. Integrations
// with other libraries (contrib/redis on go-redis) and the framework
// examples are modules of their own, outside this module's graph
// (TestLibraryModuleRequires).
var clientPackages = []string{".", "./core", "./auth", "./callback", "./merchant", "./gen/..."}

// smPackage is the opt-in 国密 suite; only programs that import it compile
// gmsm.
const smPackage = "github.com/gowxpay/wxpay/sm"

// isSMDependency reports a package of the 国密 suite or of gmsm and the
// golang.org/x modules it brings.
func isSMDependency(d string) bool {
	return d == smPackage || strings.HasPrefix(d, "github.com/emmansun/") || strings.HasPrefix(d, "golang.org/x/")
}

type listed struct {
	ImportPath string
	Standard   bool
	Deps       []string
	Imports    []string
}

// goListImports returns the direct imports of one package.
func goListImports(t *testing.T, path string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-json=ImportPath,Imports", path).Output()
	if err != nil {
		t.Fatalf("go list %s: %v", path, err)
	}
	var p listed
	if err := json.Unmarshal(out, &p); err != nil {
		t.Fatal(err)
	}
	return p.Imports
}

func goList(t *testing.T, args ...string) []listed {
	t.Helper()
	out, err := exec.Command("go", append([]string{"list", "-json=ImportPath,Standard,Deps"}, args...)...).Output()
	if err != nil {
		t.Fatalf("go list %v: %v", args, err)
	}
	var pkgs []listed
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p listed
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

func TestClientImportGraph(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs go list")
	}
	std := map[string]bool{}
	for _, p := range goList(t, "std") {
		std[p.ImportPath] = true
	}
	for _, p := range goList(t, clientPackages...) {
		for _, d := range p.Deps {
			switch {
			case std[d] || strings.HasPrefix(d, "vendor/"):
			case strings.HasPrefix(d, "github.com/oapi-codegen/runtime"):
			case isSMDependency(d):
				t.Errorf("%s compiles %s: the 国密 suite must stay opt-in (imported only by programs that enable it)", p.ImportPath, d)
			case d == "github.com/gowxpay/wxpay/internal/sm3":
			case d == "github.com/gowxpay/wxpay/internal/wire":
				// generated code's plumbing: standard library only
			case d == "github.com/gowxpay/wxpay/api" || strings.HasPrefix(d, "github.com/gowxpay/wxpay/sandbox") || strings.HasPrefix(d, "github.com/gowxpay/wxpay/internal/"):
				t.Errorf("%s imports %s, which is not for client programs", p.ImportPath, d)
			case strings.HasPrefix(d, "github.com/gowxpay/wxpay"):
			default:
				t.Errorf("%s depends on %s: client packages need only the standard library and oapi-codegen/runtime", p.ImportPath, d)
			}
		}
	}
}

// TestDomainIsolation checks that a program importing one domain does not
// compile the others: the generated packages import only the packages that
// own schemas they use.
func TestDomainIsolation(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs go list")
	}
	for _, p := range goList(t, "./gen/payments") {
		for _, d := range p.Deps {
			if strings.HasPrefix(d, "github.com/gowxpay/wxpay/gen/") {
				t.Errorf("gen/payments compiles %s", d)
			}
		}
	}
}

// TestCallbackIsolation checks that a program handling payment
// notifications (callback and gen/payments) compiles no other area: each
// area lists its own event types, and callback imports none of them.
func TestCallbackIsolation(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	for _, p := range goList(t, "-deps", "./callback", "./gen/payments") {
		if strings.HasPrefix(p.ImportPath, "github.com/gowxpay/wxpay/gen/") && p.ImportPath != "github.com/gowxpay/wxpay/gen/payments" {
			t.Errorf("callback + gen/payments compiles %s", p.ImportPath)
		}
	}
}

// TestLibraryModuleRequires checks that go.mod requires no client of an
// outside service: the Redis store lives in contrib/redis, its own module.
func TestLibraryModuleRequires(t *testing.T) {
	mod, err := os.ReadFile("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	for _, dep := range []string{"github.com/redis/", "github.com/go-redis/", "github.com/gin-gonic/", "github.com/labstack/", "github.com/gofiber/"} {
		if strings.Contains(string(mod), dep) {
			t.Errorf("go.mod requires %s…: that belongs in a module of its own (contrib/, examples/)", dep)
		}
	}
	sub, err := os.ReadFile("contrib/redis/go.mod")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(sub), "module github.com/gowxpay/wxpay/contrib/redis") || !strings.Contains(string(sub), "replace github.com/gowxpay/wxpay => ../..") {
		t.Errorf("contrib/redis/go.mod is not the Redis module replacing the library with ../..:\n%s", sub)
	}
}

// TestSMIsOptIn checks both sides of the opt-in: the sandbox (which speaks
// 国密 when given the suite) compiles no SM code of its own, while package
// sm does compile gmsm, so the check above would notice a leak.
func TestSMIsOptIn(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	for _, p := range goList(t, "./sandbox") {
		for _, d := range p.Deps {
			if isSMDependency(d) {
				t.Errorf("%s compiles %s: the sandbox takes the 国密 suite as an option instead", p.ImportPath, d)
			}
		}
	}
	found := false
	for _, p := range goList(t, "./sm") {
		for _, d := range p.Deps {
			if strings.HasPrefix(d, "github.com/emmansun/gmsm/") {
				found = true
			}
		}
	}
	if !found {
		t.Error("package sm does not compile gmsm: isSMDependency no longer recognises the 国密 dependency")
	}
}
