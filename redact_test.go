package wxpay_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/gowxpay/wxpay"
	"github.com/gowxpay/wxpay/auth"
	"github.com/gowxpay/wxpay/callback"
	"github.com/gowxpay/wxpay/sandbox"
)

// TestConfigAndCredentialsRedact prints the configuration and the
// credential-holding values with every fmt verb and both slog handlers,
// alone and nested, and checks that the APIv3 key and the private key never
// appear, while the merchant id does.
func TestConfigAndCredentialsRedact(t *testing.T) {
	sb := sandbox.StartTest(t, sandbox.WithKeyMode(sandbox.CertificateMode))
	cfg := sb.Merchant().Config()
	client, err := wxpay.NewClient(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	key, err := auth.ParsePrivateKey(cfg.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	pemBody := strings.Split(string(cfg.PrivateKey), "\n")[3] // a line of the key's Base64
	secrets := []string{cfg.APIv3Key, pemBody, key.D.String(), key.Primes[0].String(), fmt.Sprint([]byte(cfg.APIv3Key)), "PRIVATE KEY"}

	values := map[string]any{
		"wxpay.Config":            cfg,
		"*wxpay.Config":           &cfg,
		"auth.RSASigner":          auth.RSASigner{Key: key},
		"auth.PaySigner":          auth.PaySigner{Signer: auth.RSASigner{Key: key}},
		"auth.PlatformKeysConfig": auth.PlatformKeysConfig{APIv3Key: []byte(cfg.APIv3Key)},
		"*auth.PlatformKeys":      client.Conn().Keys(),
		"callback.Config":         callback.Config{APIv3Key: []byte(cfg.APIv3Key)},
		"nested":                  struct{ C wxpay.Config }{cfg},
	}
	for name, v := range values {
		var out []string
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
			out = append(out, verb+": "+fmt.Sprintf(verb, v))
		}
		var text, js bytes.Buffer
		slog.New(slog.NewTextHandler(&text, nil)).Info("cfg", "value", v)
		slog.New(slog.NewJSONHandler(&js, nil)).Info("cfg", "value", v)
		out = append(out, "slog text: "+text.String(), "slog json: "+js.String())
		if name == "auth.RSASigner" || name == "auth.PaySigner" {
			b, _ := json.Marshal(v)
			out = append(out, "json: "+string(b))
		}
		for _, o := range out {
			for _, s := range secrets {
				if strings.Contains(o, s) {
					t.Errorf("%s: %.200s… contains a secret (%.20s…)", name, o, s)
				}
			}
		}
		if strings.HasPrefix(name, "wxpay.Config") && !strings.Contains(out[0], cfg.MchID) {
			t.Errorf("%s: %s lacks the merchant id", name, out[0])
		}
	}
	if s := fmt.Sprint(cfg); !strings.Contains(s, "APIv3Key: [REDACTED]") || !strings.Contains(s, "PrivateKey: [REDACTED]") {
		t.Errorf("the redaction is not marked: %s", s)
	}
}
