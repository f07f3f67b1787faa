package sandbox

import (
	"fmt"
	"sync/atomic"
	"time"
)

// SampleRequest is a schema-valid request for one operation, synthesized
// from the spec with a caller's identities filled in: for driving clients
// other than wxpay's own against the sandbox (interoperability tests).
// Sensitive fields are in plaintext: the client encrypts them.
type SampleRequest struct {
	// OperationID, Method and Path (a template) name the operation.
	OperationID string
	Method      string
	Path        string
	// Params holds path and query parameter values by name, typed as
	// their schema says (string, float64, bool); optional ones included.
	Params map[string]any
	// Body is the JSON body, nil when the operation has none (or takes a
	// multipart upload).
	Body map[string]any
}

var sampleSeq atomic.Int64

// SampleRequest synthesizes a request for the operation with the given
// operationId, as the merchant or service provider cred would send it:
// mchid, sp_mchid, sub_mchid, appid … are cred's (a direct merchant's
// request carries no sub-merchant fields), notify_url is notifyURL, and
// out_trade_no, out_refund_no and the like are fresh. Operations with
// state (queries of orders, refunds) need their identifiers replaced by
// ones that exist.
func (s *Server) SampleRequest(operationID string, cred Credentials, notifyURL string) (SampleRequest, error) {
	op, ok := s.spec.ops[operationID]
	if !ok {
		return SampleRequest{}, fmt.Errorf("%w: no operation %s in the spec", ErrNotFound, operationID)
	}
	g := &synth{now: s.now(), all: true}
	rq := SampleRequest{OperationID: op.ID, Method: op.Method, Path: op.Path, Params: map[string]any{}}
	for _, ref := range op.params(s.spec.doc.Paths.Value(op.Path)) {
		p := ref.Value
		if p.In != "path" && p.In != "query" {
			continue
		}
		var v any = "sandbox"
		if p.Schema != nil && p.Schema.Value != nil {
			v = g.value(p.Schema.Value, p.Name, nil, 0)
		}
		if id, ok := sampleIdentity(p.Name, cred, notifyURL); ok {
			if id == "" {
				continue
			}
			v = id
		}
		rq.Params[p.Name] = v
	}
	if schema := op.requestSchema(); schema != nil && !op.Multipart {
		body, _ := g.value(schema, "", nil, 0).(map[string]any)
		sampleIdentities(body, cred, notifyURL)
		rq.Body = body
	}
	return rq, nil
}

// sampleIdentity is the value of an identity field for cred: ok false when
// the field is not one; "" to leave it out.
func sampleIdentity(name string, cred Credentials, notifyURL string) (string, bool) {
	switch name {
	case "mchid", "sp_mchid", "combine_mchid":
		return cred.MchID, true
	case "appid", "sp_appid", "combine_appid":
		return cred.AppID, true
	case "sub_mchid":
		return cred.SubMchID, true
	case "sub_appid":
		return cred.SubAppID, true
	case "notify_url":
		return notifyURL, true
	case "out_trade_no", "combine_out_trade_no", "out_refund_no", "out_order_no", "out_return_no", "out_batch_no", "out_bill_no":
		return fmt.Sprintf("SMP%d%05d", time.Now().UnixNano()%1e9, sampleSeq.Add(1)), true
	}
	return "", false
}

// sampleIdentities replaces identity fields at any depth.
func sampleIdentities(v any, cred Credentials, notifyURL string) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if _, isStr := e.(string); isStr {
				if id, ok := sampleIdentity(k, cred, notifyURL); ok {
					if id == "" {
						delete(x, k)
					} else {
						x[k] = id
					}
					continue
				}
			}
			sampleIdentities(e, cred, notifyURL)
		}
	case []any:
		for _, e := range x {
			sampleIdentities(e, cred, notifyURL)
		}
	}
}
