package wxpay_test

import (
	"os"
	"strings"
	"testing"
)

// TestTestOnlyModulesStayOut: the libraries that only tests need live in
// modules of their own (interop: the official Go SDK; browsertest:
// chromedp), so the library's go.mod never requires them.
func TestTestOnlyModulesStayOut(t *testing.T) {
	b, err := os.ReadFile("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	for _, mod := range []string{"github.com/wechatpay-apiv3/wechatpay-go", "github.com/chromedp/"} {
		if strings.Contains(string(b), mod) {
			t.Errorf("the library's go.mod requires %s, which belongs in its own module", mod)
		}
	}
	for _, dir := range []string{"interop", "browsertest"} {
		if _, err := os.Stat(dir + "/go.mod"); err != nil {
			t.Errorf("%s has no go.mod of its own: %v", dir, err)
		}
	}
}
