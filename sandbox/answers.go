package sandbox

import (
	"crypto/rsa"
	"slices"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/gowxpay/wxpay/auth"
)

// addCallerIdentities fills the identity fields of echo that the request
// did not carry with the caller's own (mchid, sp_mchid, sub_mchid, appid …),
// so that a generic answer names the merchant that asked rather than a
// fixed one.
func (c *call) addCallerIdentities(echo map[string]any) {
	m := c.merchant
	if m == nil {
		return
	}
	set := func(k, v string) {
		if _, ok := echo[k]; !ok && v != "" {
			echo[k] = v
		}
	}
	sub := str(c.body, "sub_mchid")
	if sub == "" {
		sub = c.r.URL.Query().Get("sub_mchid")
	}
	if m.partner {
		set("sp_mchid", m.MchID)
		set("sp_appid", m.AppID)
		if sm, ok := m.subs[sub]; ok {
			set("sub_appid", sm.AppID)
		} else if len(m.SubMerchants) > 0 {
			set("sub_mchid", m.SubMerchants[0].MchID)
			set("sub_appid", m.SubMerchants[0].AppID)
		}
	}
	for _, k := range []string{"mchid", "combine_mchid", "belong_merchant", "merchant_id", "brand_mchid", "creator_merchant"} {
		set(k, m.MchID)
	}
	for _, k := range []string{"appid", "combine_appid"} {
		set(k, m.AppID)
	}
}

// callerIdentityKeys are the fields addCallerIdentities fills.
var callerIdentityKeys = map[string]bool{
	"mchid": true, "combine_mchid": true, "belong_merchant": true, "merchant_id": true, "brand_mchid": true,
	"creator_merchant": true, "appid": true, "combine_appid": true, "sp_mchid": true, "sp_appid": true,
	"sub_mchid": true, "sub_appid": true,
}

// replaceIdentities sets, at any depth of v, the string identity fields
// named in ids to the caller's: an answer built from the spec's example
// carries the example's merchant otherwise.
func replaceIdentities(v any, ids map[string]any, depth int) {
	if depth > maxSynthDepth {
		return
	}
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if _, isStr := e.(string); isStr && callerIdentityKeys[k] {
				if id, ok := ids[k].(string); ok && id != "" {
					x[k] = id
				}
				continue
			}
			replaceIdentities(e, ids, depth+1)
		}
	case []any:
		for _, e := range x {
			replaceIdentities(e, ids, depth+1)
		}
	}
}

// dropSubMerchant removes the optional sub_mchid and sub_appid of a
// direct merchant's answer (synthesized, they would name a stranger).
func (c *call) dropSubMerchant(sc *openapi3.Schema, v any, echo map[string]any) {
	m, ok := v.(map[string]any)
	if !ok || c.merchant == nil || c.merchant.partner || sc == nil {
		return
	}
	if len(sc.AllOf) > 0 {
		sc = flattenAllOf(sc)
	}
	for _, k := range []string{"sub_mchid", "sub_appid"} {
		if _, asked := echo[k]; !asked && !slices.Contains(sc.Required, k) {
			delete(m, k)
		}
	}
}

// encryptSensitiveAnswer encrypts, in place, the string values of v that
// the response schema marks x-wxpay-sensitive, to the calling merchant's
// certificate key with RSA-OAEP, as WeChat Pay does: a real client decrypts
// them with its private key. A value the request carried encrypted to a
// platform key is decrypted first, so the merchant reads back what it sent.
func (c *call) encryptSensitiveAnswer(s *openapi3.Schema, v any) {
	if c.merchant == nil || c.merchant.Certificate == nil {
		return
	}
	pub, ok := c.merchant.Certificate.PublicKey.(*rsa.PublicKey)
	if !ok {
		return
	}
	c.s.encryptSensitive(s, v, pub, 0)
}

func (s *Server) encryptSensitive(sc *openapi3.Schema, v any, pub *rsa.PublicKey, depth int) {
	if sc == nil || depth > maxSynthDepth {
		return
	}
	if len(sc.AllOf) > 0 {
		sc = flattenAllOf(sc)
	}
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			ref := sc.Properties[k]
			if ref == nil || ref.Value == nil {
				continue
			}
			if sens, _ := ref.Value.Extensions["x-wxpay-sensitive"].(bool); sens {
				if plain, ok := e.(string); ok && plain != "" {
					if ct, err := auth.EncryptOAEP(pub, s.plainSensitive(plain)); err == nil {
						x[k] = ct
					}
				}
				continue
			}
			s.encryptSensitive(ref.Value, e, pub, depth+1)
		}
	case []any:
		if sc.Items == nil {
			return
		}
		for _, e := range x {
			s.encryptSensitive(sc.Items.Value, e, pub, depth+1)
		}
	}
}

// plainSensitive returns the plaintext of a value that may be encrypted to
// one of the platform keys, else the value itself.
func (s *Server) plainSensitive(v string) string {
	if len(v) < 300 { // an RSA-2048 ciphertext is 344 Base64 characters
		return v
	}
	s.ring.mu.RLock()
	keys := []*rsa.PrivateKey{s.ring.pubKey}
	for _, c := range s.ring.certs {
		keys = append(keys, c.key)
	}
	s.ring.mu.RUnlock()
	for _, k := range keys {
		if p, err := auth.DecryptOAEP(k, v); err == nil {
			return p
		}
	}
	return v
}
