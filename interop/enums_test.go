package interop

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/gowxpay/wxpay/sandbox"
)

// knownEnumMismatches are the official SDK's enum values the spec refuses
// on purpose ("pkg Service.Method field=value" → reason); none today. The
// test fails when one of them starts passing, so that the list shrinks.
var knownEnumMismatches = map[string]string{}

// TestOfficialSDKEnumValues sends, for every request field the official
// SDK types with a string enum, each of the SDK's values through the SDK
// to the sandbox: the spec must accept what the official SDK sends.
func TestOfficialSDKEnumValues(t *testing.T) {
	e := newEnv(t, sandbox.CertificateMode)
	ctx := context.Background()
	tried := 0
	var refused []string
	for _, oo := range officialOps {
		op := specOp(e.sb, oo.HTTP, oo.Path)
		enums := officialEnums[oo.Pkg]
		if op == nil || len(enums) == 0 {
			continue
		}
		o := e.direct
		if strings.HasPrefix(oo.Pkg, "partner") || !op.HasMode("direct") {
			o = e.partner
		}
		probe, err := e.sb.SampleRequest(op.ID, o.cred, e.notifyFor(o))
		if err != nil {
			t.Fatal(err)
		}
		fields := map[string]bool{}
		collectKeys(probe.Body, fields)
		for k := range probe.Params {
			fields[k] = true
		}
		names := make([]string, 0, len(fields))
		for k := range fields {
			if enums[k] != nil {
				names = append(names, k)
			}
		}
		sort.Strings(names)
		for _, field := range names {
			for _, v := range enums[field] {
				rq, _ := e.sb.SampleRequest(op.ID, o.cred, e.notifyFor(o))
				if f := fixups[op.ID]; f != nil {
					f(t, e, o, &rq)
				}
				setKey(rq.Body, field, v)
				if _, ok := rq.Params[field]; ok {
					rq.Params[field] = v
				}
				tried++
				key := fmt.Sprintf("%s %s %s=%s", oo.Pkg, oo.Name, field, v)
				_, res, err := oo.call(ctx, o.client, request(rq))
				err = callErr(res, err)
				_, known := knownEnumMismatches[key]
				switch {
				case err != nil && !known:
					refused = append(refused, key+": "+err.Error())
				case err == nil && known:
					t.Errorf("%s now passes: remove it from knownEnumMismatches", key)
				}
			}
		}
	}
	for _, r := range refused {
		t.Error(r)
	}
	fmt.Printf("interop summary: %d official enum values sent, %d refused, %d known mismatches\n", tried, len(refused), len(knownEnumMismatches))
}

// collectKeys gathers the object keys of v at any depth.
func collectKeys(v any, into map[string]bool) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			into[k] = true
			collectKeys(e, into)
		}
	case []any:
		for _, e := range x {
			collectKeys(e, into)
		}
	}
}

// setKey sets every key named k at any depth of v to val (an array stays
// an array, of val).
func setKey(v any, k string, val string) {
	switch x := v.(type) {
	case map[string]any:
		for kk, e := range x {
			if kk == k {
				if _, isArr := e.([]any); isArr {
					x[kk] = []any{val}
				} else {
					x[kk] = val
				}
				continue
			}
			setKey(e, k, val)
		}
	case []any:
		for _, e := range x {
			setKey(e, k, val)
		}
	}
}
