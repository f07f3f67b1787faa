package wxpay_test

import (
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gowxpay/wxpay"
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

// TestReadmeCounts keeps the READMEs' "N operations in M areas" in step
// with the generated operations.
func TestReadmeCounts(t *testing.T) {
	areas := map[string]bool{}
	ops := wxpay.Operations()
	for _, op := range ops {
		area, _, _ := strings.Cut(op.Name, ".")
		areas[area] = true
	}
	for _, c := range []struct {
		file string
		re   *regexp.Regexp
		ops  int // submatch index of the operation count
	}{
		{"README.md", regexp.MustCompile(`(\d+) operations in (\d+) areas`), 1},
		{"README.zh-CN.md", regexp.MustCompile(`(\d+) 个业务领域共 (\d+) 个接口`), 2},
	} {
		b, err := os.ReadFile(c.file)
		if err != nil {
			t.Fatal(err)
		}
		m := c.re.FindStringSubmatch(string(b))
		if m == nil {
			t.Errorf("%s: no sentence with the operation and area counts", c.file)
			continue
		}
		gotOps, gotAreas := m[c.ops], m[3-c.ops]
		if gotOps != strconv.Itoa(len(ops)) || gotAreas != strconv.Itoa(len(areas)) {
			t.Errorf("%s says %s operations in %s areas; the spec has %d in %d", c.file, gotOps, gotAreas, len(ops), len(areas))
		}
	}
}
