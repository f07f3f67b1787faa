package wxpay_test

import (
	"bytes"
	"os"
	"testing"

	"github.com/gowxpay/wxpay/internal/tools/configdoc/render"
)

// TestConfigDocFresh: the doc comment of wxpay.Config (config.gen.go) shows
// the fields of merchant.Config as merchant/config.go defines them today,
// so `go doc wxpay.Config` cannot go stale.
func TestConfigDocFresh(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("merchant/config.go")
	if err != nil {
		t.Fatal(err)
	}
	want, err := render.File(src)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("config.gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("config.gen.go is stale: run go generate . (or go run ./internal/tools/configdoc)")
	}
	for _, field := range []string{"MchID string", "SubMchID, SubAppID string", "APIv3Key string", "NotifyURL string"} {
		if !bytes.Contains(got, []byte(field)) {
			t.Errorf("the doc of wxpay.Config lacks %q", field)
		}
	}
}
