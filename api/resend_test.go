package api_test

import (
	"regexp"
	"strings"
	"testing"
)

// businessKey matches the request fields by which WeChat Pay recognises a
// repeated request and answers it with the first outcome instead of acting
// twice: the merchant's own numbers (out_trade_no, out_refund_no,
// out_request_no, business_code …).
var businessKey = regexp.MustCompile(`^(combine_)?out_\w+_no$|_request_no$|^business_code$|^fapiao_apply_id$|^idempotent_id$`)

// closing matches operations that move one object, named by a business key
// in the path, into a final state: doing it twice lands in the same state.
var closing = regexp.MustCompile(`^(Partner)?(Close|Cancel|Reverse)`)

// TestResendDecisions enforces the retry rule: every POST and PATCH says
// whether it may be sent again after WeChat Pay may have received it
// (x-wxpay-resend: safe or unsafe), and says safe exactly when the request
// carries a business key in its JSON body, a required Idempotency-Key
// header, or is a closing operation on an object a path business key
// names. Other methods carry no mark: GET, PUT and DELETE are repeatable.
func TestResendDecisions(t *testing.T) {
	doc := rawSpec(t)
	comps := m(doc["components"])
	safe, total := 0, 0
	forEachOp(doc, func(method, path string, op obj) {
		id := str(op["operationId"])
		mark, has := op["x-wxpay-resend"]
		if method != "POST" && method != "PATCH" {
			if has {
				t.Errorf("%s (%s): x-wxpay-resend is for POST and PATCH only", id, method)
			}
			return
		}
		total++
		if mark != "safe" && mark != "unsafe" {
			t.Errorf("%s: x-wxpay-resend is %v; want safe or unsafe (every POST and PATCH decides)", id, mark)
			return
		}
		var why []string
		for _, p := range list(op["parameters"]) {
			p := resolveParam(comps, m(p))
			if strings.EqualFold(str(p["name"]), "Idempotency-Key") && str(p["in"]) == "header" && p["required"] == true {
				why = append(why, "Idempotency-Key")
			}
		}
		if c := m(m(m(op["requestBody"])["content"])["application/json"]); c != nil {
			for _, f := range requiredFields(comps, m(c["schema"]), 0) {
				if businessKey.MatchString(f) {
					why = append(why, f)
				}
			}
		}
		if closing.MatchString(id) {
			for _, seg := range regexp.MustCompile(`\{(\w+)\}`).FindAllStringSubmatch(path, -1) {
				if businessKey.MatchString(seg[1]) {
					why = append(why, "path "+seg[1])
				}
			}
		}
		want := "unsafe"
		if len(why) > 0 {
			want = "safe"
			safe++
		}
		if mark != want {
			t.Errorf("%s: x-wxpay-resend is %s, the rule says %s (keys: %v)", id, mark, want, why)
		}
	})
	t.Logf("%d of %d POST/PATCH operations are safe to resend", safe, total)
	if safe == 0 || safe == total {
		t.Errorf("%d of %d safe: the rule decides nothing", safe, total)
	}
}

func resolveParam(comps, p obj) obj {
	if ref := str(p["$ref"]); ref != "" {
		return m(m(comps["parameters"])[ref[strings.LastIndex(ref, "/")+1:]])
	}
	return p
}

// requiredFields lists the required top-level properties of a schema,
// through $ref and allOf.
func requiredFields(comps, s obj, depth int) []string {
	if depth > 8 || s == nil {
		return nil
	}
	if ref := str(s["$ref"]); ref != "" {
		return requiredFields(comps, m(m(comps["schemas"])[ref[strings.LastIndex(ref, "/")+1:]]), depth+1)
	}
	var out []string
	for _, r := range list(s["required"]) {
		out = append(out, str(r))
	}
	for _, a := range list(s["allOf"]) {
		out = append(out, requiredFields(comps, m(a), depth+1)...)
	}
	return out
}
