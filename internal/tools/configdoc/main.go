// Command configdoc writes config.gen.go: the declaration of wxpay.Config
// (an alias of merchant.Config) with a doc comment that shows the fields of
// merchant.Config, copied from merchant/config.go, so that `go doc
// wxpay.Config` shows them while merchant/config.go stays their only
// source. Run by `go generate .` from the repository root; a test fails
// when the file is stale.
package main

import (
	"fmt"
	"os"

	"github.com/gowxpay/wxpay/internal/tools/configdoc/render"
)

func main() {
	src, err := os.ReadFile("merchant/config.go")
	if err == nil {
		var out []byte
		if out, err = render.File(src); err == nil {
			err = os.WriteFile("config.gen.go", out, 0o644)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "configdoc:", err)
		os.Exit(1)
	}
}
