package wxpay_test

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestArchitectureTable keeps the package table of docs/architecture.md in
// step with the import graph: for every row, the imports it lists are
// exactly the package's imports from this module and from outside the
// standard library (gen/* standing for any generated packages).
func TestArchitectureTable(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	b, err := os.ReadFile("docs/architecture.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `([^`]+)`[^|]*\\|[^|]*\\|([^|]*)\\|$")
	tick := regexp.MustCompile("`([^`]+)`")
	rows := row.FindAllStringSubmatch(string(b), -1)
	if len(rows) < 10 {
		t.Fatalf("found %d rows in the package table", len(rows))
	}
	std := map[string]bool{}
	for _, p := range goList(t, "std") {
		std[p.ImportPath] = true
	}
	const mod = "github.com/gowxpay/wxpay"
	for _, r := range rows {
		pkg := r[1]
		if pkg == "gen/<tag>" {
			pkg = "gen/payments"
		}
		path := "./" + pkg
		if pkg == "wxpay" {
			path = "."
		}
		var want []string
		for _, m := range tick.FindAllStringSubmatch(r[2], -1) {
			want = append(want, m[1])
		}
		got := map[string]bool{}
		for _, imp := range goListImports(t, path) {
			switch {
			case std[imp]:
			case imp == mod:
				got["wxpay"] = true
			case strings.HasPrefix(imp, mod+"/gen/"):
				got["gen/*"] = true
			case strings.HasPrefix(imp, mod+"/"):
				got[strings.TrimPrefix(imp, mod+"/")] = true
			case strings.HasPrefix(imp, "github.com/getkin/kin-openapi"):
				got["kin-openapi"] = true
			case strings.HasPrefix(imp, "github.com/emmansun/gmsm"):
				got["gmsm"] = true
			default:
				got[imp] = true
			}
		}
		if pkg == "gen/payments" && slices.Contains(want, "gen/*") {
			got["gen/*"] = true // payments is the first area; later ones import it
		}
		var have []string
		for k := range got {
			have = append(have, k)
		}
		slices.Sort(have)
		slices.Sort(want)
		if !slices.Equal(have, want) {
			t.Errorf("docs/architecture.md says %s imports %v; it imports %v", r[1], want, have)
		}
	}
}
