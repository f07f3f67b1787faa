package sandbox

import (
	"bytes"
	"encoding/json"
	"sort"
)

// resourceOrder lists, per original_type, the keys of a notification
// resource (and of its amount) in the order WeChat Pay writes them; other
// keys follow alphabetically.
var resourceOrder = map[string][]string{
	"transaction": {"sp_mchid", "sp_appid", "sub_mchid", "sub_appid", "mchid", "appid", "out_trade_no", "transaction_id", "trade_type",
		"trade_state", "trade_state_desc", "bank_type", "attach", "success_time", "payer", "amount", "scene_info", "promotion_detail"},
	"transaction.amount": {"total", "payer_total", "currency", "payer_currency"},
	"transaction.payer":  {"openid", "sp_openid", "sub_openid"},
	"refund": {"sp_mchid", "sub_mchid", "mchid", "transaction_id", "out_trade_no", "refund_id", "out_refund_no", "refund_status",
		"success_time", "user_received_account", "amount"},
	"refund.amount": {"total", "refund", "payer_total", "payer_refund"},
}

// marshalResource encodes a notification resource with its keys in WeChat
// Pay's order.
func marshalResource(v any, originalType string) ([]byte, error) {
	var b bytes.Buffer
	if err := writeOrdered(&b, v, originalType); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func writeOrdered(b *bytes.Buffer, v any, path string) error {
	m, ok := v.(map[string]any)
	if !ok {
		enc, err := json.Marshal(v)
		b.Write(enc)
		return err
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	rank := map[string]int{}
	for i, k := range resourceOrder[path] {
		rank[k] = i + 1
	}
	sort.Slice(keys, func(i, j int) bool {
		ri, rj := rank[keys[i]], rank[keys[j]]
		switch {
		case ri != 0 && rj != 0:
			return ri < rj
		case ri != 0 || rj != 0:
			return ri != 0
		}
		return keys[i] < keys[j]
	})
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		if err := writeOrdered(b, m[k], path+"."+k); err != nil {
			return err
		}
	}
	b.WriteByte('}')
	return nil
}
