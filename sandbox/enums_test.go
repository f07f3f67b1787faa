package sandbox

import (
	"encoding/json"
	"io"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/gowxpay/wxpay/internal/crosscheck"
)

// TestOfficialEnumsAccepted sends, for every operation the official Go
// and Java SDKs' models cover, one request per enum value those models allow (in
// the request body or the query), built on the request TestEveryOperation
// sends, and expects the sandbox's validation to accept it: the sandbox
// validates against the spec, and a value WeChat accepts must not be
// refused. The facts come from api/testdata/crosscheck.json (see
// internal/tools/crosscheck).
func TestOfficialEnumsAccepted(t *testing.T) {
	const fixture = "../api/testdata/crosscheck.json"
	fx, err := crosscheck.Load(fixture)
	if os.IsNotExist(err) {
		t.Skipf("%s not found: skipping", fixture)
	}
	if err != nil {
		t.Fatal(err)
	}
	rv := newReceiver(t)
	s := newServer(t, WithRefundDelay(-1))
	ours := map[string][]*Operation{}
	for _, op := range s.spec.Operations() {
		k := crosscheck.Key(op.Method, op.Path)
		ours[k] = append(ours[k], op)
	}
	ops, sent, skipped := 0, 0, 0
	seen := map[string]bool{}
	for _, sdk := range fx.Ops {
		if sdk.Source != "wechatpay-go" && sdk.Source != "wechatpay-java" {
			continue
		}
		for _, op := range ours[crosscheck.Key(sdk.Method, sdk.Path)] {
			if op.Multipart {
				continue
			}
			ops++
			t.Run(sdk.Source+"/"+op.ID, func(t *testing.T) {
				try := func(what string, edit func(rq *opRequest) bool) {
					t.Helper()
					rq := buildRequest(t, s, op, rv.URL+"/notify")
					if f := fixups[op.ID]; f != nil {
						f(s, rq)
					}
					if !edit(rq) {
						skipped++
						return
					}
					sent++
					rec := httptest.NewRecorder()
					s.Handler().ServeHTTP(rec, rq.httpRequest(t))
					res := rec.Result()
					body, _ := io.ReadAll(res.Body)
					var e struct{ Code, Message string }
					_ = json.Unmarshal(body, &e)
					refused := e.Code == "PARAM_ERROR" && strings.Contains(e.Message, "输入源")
					key := sdk.Source + " " + op.ID + " " + what
					if _, ok := refusedOnPurpose[key]; ok {
						seen[key] = true
						if !refused {
							t.Errorf("%s: accepted, but refusedOnPurpose says the spec refuses it", what)
						}
						return
					}
					if refused {
						t.Errorf("%s: the sandbox refuses a value the official SDK allows: %s", what, body)
					}
				}
				for _, q := range sdk.Query {
					for _, v := range q.Enum {
						try("query "+q.Path+"="+v, func(rq *opRequest) bool {
							rq.query.Set(q.Path, v)
							return true
						})
					}
				}
				for _, f := range sdk.Request {
					for _, v := range f.Enum {
						try("body "+f.Path+"="+v, func(rq *opRequest) bool {
							return setPath(rq.body, f.Path, v)
						})
					}
				}
			})
		}
	}
	for k := range refusedOnPurpose {
		if !seen[k] {
			t.Errorf("refusedOnPurpose lists %q, which no request tried: remove it", k)
		}
	}
	t.Logf("%d operations, %d requests with an official enum value; %d values skipped (their field is not in this spec's request)", ops, sent, skipped)
}

// refusedOnPurpose lists the official values the spec refuses on purpose,
// each listed with its reason in api/crosscheck-differences.yaml too.
var refusedOnPurpose = map[string]string{
	"wechatpay-java ApplyFundFlowBill query account_type=ALL": "the Java SDK shares one AccountType enum between the " +
		"merchant's and the sub-merchant's fund-flow bills; ALL belongs to the sub-merchant's (fundFlowAll)",
	"wechatpay-java ApplyEcommerceFundFlowBill query account_type=BASIC":     ecBillAll,
	"wechatpay-java ApplyEcommerceFundFlowBill query account_type=OPERATION": ecBillAll,
	"wechatpay-java ApplyEcommerceFundFlowBill query account_type=FEES":      ecBillAll,
}

// ecBillAll is why the e-commerce fund-flow bill refuses the Java SDK's
// single-account values (ecf_billAll).
const ecBillAll = "the Java SDK shares one AccountType enum between the bills; the second-level merchants' " +
	"bill of 电商收付通 takes ALL only"

// setPath sets the field at a crosscheck path (a.b, a[], a[].b) of a
// synthesized body to v; for a[] it makes a the one-element list [v]. It
// reports false when the path's parent is not in the body.
func setPath(body map[string]any, path string, v string) bool {
	if body == nil {
		return false
	}
	if arr, ok := strings.CutSuffix(path, "[]"); ok && !strings.Contains(arr, "[]") && !strings.Contains(arr, ".") {
		if _, has := body[arr]; !has {
			return false
		}
		body[arr] = []any{v}
		return true
	}
	head, rest, nested := strings.Cut(path, ".")
	if !nested {
		if strings.HasSuffix(head, "[]") {
			return false
		}
		if _, has := body[head]; !has {
			return false
		}
		body[head] = v
		return true
	}
	if name, ok := strings.CutSuffix(head, "[]"); ok {
		list, _ := body[name].([]any)
		done := false
		for _, el := range list {
			if m, ok := el.(map[string]any); ok && setPath(m, rest, v) {
				done = true
			}
		}
		return done
	}
	m, _ := body[head].(map[string]any)
	return setPath(m, rest, v)
}
