package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTwinAnswerChecks edits the mini spec's twin pair, whose answers differ
// by mode, in the ways wxgen must refuse.
func TestTwinAnswerChecks(t *testing.T) {
	src, err := os.ReadFile("testdata/mini/api/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct{ old, new, want string }{
		"union lacks a partner field": {
			"        sp_mchid: {type: string, description: 'The service provider (partner mode) (服务商户号).'}\n", "",
			"x-wxpay-twin-answer ShopOrder does not cover PartnerShopOrder: sp_mchid: missing in the union",
		},
		"union types a field differently": {
			"        mchid: {type: string, description: 'The merchant (direct mode) (商户号).'}\n",
			"        mchid: {type: integer, description: 'The merchant (direct mode) (商户号).'}\n",
			"does not cover DirectShopOrder: mchid: type integer in the union, string here",
		},
		"no union named": {
			"      x-wxpay-twin-answer: ShopOrder\n", "",
			"name the union of their answers in x-wxpay-twin-answer",
		},
		"union of a missing schema": {
			"      x-wxpay-twin-answer: ShopOrder\n", "      x-wxpay-twin-answer: NoSuchOrder\n",
			"x-wxpay-twin-answer NoSuchOrder is not a schema",
		},
	} {
		t.Run(name, func(t *testing.T) {
			if !strings.Contains(string(src), tc.old) {
				t.Fatalf("the mini spec has no %q", tc.old)
			}
			dir := t.TempDir()
			spec := filepath.Join(dir, "openapi.yaml")
			if err := os.WriteFile(spec, []byte(strings.Replace(string(src), tc.old, tc.new, 1)), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := loadSpec(spec, "testdata/mini/api/go-overlay.yaml")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
