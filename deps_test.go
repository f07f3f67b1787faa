package wxpay_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// clientPackages are what an application links when it uses wxpay as a
// client. Integrations with other libraries (contrib/redis on go-redis)
// and the framework examples are modules of their own, outside this
// module's graph (TestLibraryModuleRequires). They may import the standard library, oapi-codegen/runtime and
// each other; never kin-openapi, the generator, the sandbox or the spec.
var clientPackages = []string{".", "./core", "./auth", "./callback", "./gen/..."}

type listed struct {
	ImportPath string
	Standard   bool
	Deps       []string
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
