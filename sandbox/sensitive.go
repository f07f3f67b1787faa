package sandbox

import (
	"crypto"
	"crypto/rsa"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/gowxpay/wxpay/auth"
)

// msgBadSerialHeader is the real server's complaint about a
// Wechatpay-Serial request header it does not know.
const msgBadSerialHeader = "平台证书序列号Wechatpay-Serial错误"

// platformKeyFor returns the platform private key a Wechatpay-Serial names:
// one of the platform certificates, or the platform public key.
func (k *keyring) platformKeyFor(serial string) *rsa.PrivateKey {
	k.mu.RLock()
	defer k.mu.RUnlock()
	if serial == k.pubKeyID {
		return k.pubKey
	}
	for _, c := range k.certs {
		if strings.EqualFold(c.serial, serial) {
			return c.key
		}
	}
	return nil
}

// checkSensitive checks the request's Wechatpay-Serial header and the
// fields the spec marks x-wxpay-sensitive: when the body carries any, the
// header must name a platform certificate or the public key, and each
// field must decrypt (RSA-OAEP) with that key, as the real server requires.
func (s *Server) checkSensitive(c *call) *answer {
	serial := c.r.Header.Get("Wechatpay-Serial")
	var key *rsa.PrivateKey
	var smKey crypto.Signer // an SM2 platform key: the fields are SM2-encrypted
	if serial != "" && s.sm != nil {
		smKey = s.sm.keyFor(serial)
	}
	if serial != "" && smKey == nil {
		if key = s.ring.platformKeyFor(serial); key == nil {
			return c.failDetail(http.StatusBadRequest, "INVALID_REQUEST", msgBadSerialHeader,
				errorDetail{Field: "Wechatpay-Serial", Value: serial, Location: "header", Issue: "names no platform certificate or public key of this server"})
		}
	}
	var fields []sensitiveField
	for _, p := range c.op.op.Parameters {
		if p.Value != nil && p.Value.In == "query" && p.Value.Extensions["x-wxpay-sensitive"] == true {
			if v := c.r.URL.Query().Get(p.Value.Name); v != "" {
				fields = append(fields, sensitiveField{pointer: "?" + p.Value.Name, value: v})
			}
		}
	}
	schema := c.op.requestSchema()
	if schema == nil && c.op.Multipart {
		schema = c.op.uploadMetaSchema() // an upload's meta carries them
	}
	if schema != nil && c.body != nil {
		collectSensitive(schema, c.body, "", &fields, 0)
	}
	if len(fields) == 0 {
		return nil
	}
	if key == nil && smKey == nil {
		return c.failDetail(http.StatusBadRequest, "PARAM_ERROR", "请求含有加密的敏感信息，需在Http头Wechatpay-Serial中指明加密所用的平台证书序列号或微信支付公钥ID",
			errorDetail{Field: "Wechatpay-Serial", Location: "header", Issue: "required when the body carries encrypted fields (" + fields[0].pointer + ")"})
	}
	for _, f := range fields {
		var err error
		if smKey != nil {
			err = s.smDecryptField(smKey, f.value)
		} else {
			_, err = auth.DecryptOAEP(key, f.value)
		}
		if err != nil {
			if name, ok := strings.CutPrefix(f.pointer, "?"); ok {
				return c.failDetail(http.StatusBadRequest, "PARAM_ERROR", fmt.Sprintf("输入源“/query/%s”敏感信息解密失败", name),
					errorDetail{Field: name, Location: "query", Issue: "not encrypted (RSA-OAEP or SM2) with the platform key named by Wechatpay-Serial"})
			}
			return c.failDetail(http.StatusBadRequest, "PARAM_ERROR", fmt.Sprintf("输入源“/body%s”敏感信息解密失败", f.pointer),
				errorDetail{Field: f.pointer, Location: "body", Issue: "not encrypted (RSA-OAEP or SM2) with the platform key named by Wechatpay-Serial"})
		}
	}
	return nil
}

type sensitiveField struct{ pointer, value string }

// collectSensitive finds the non-empty string values of v that s marks
// x-wxpay-sensitive.
func collectSensitive(s *openapi3.Schema, v any, ptr string, out *[]sensitiveField, depth int) {
	if s == nil || depth > maxSynthDepth {
		return
	}
	if len(s.AllOf) > 0 {
		s = flattenAllOf(s)
	}
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			ref := s.Properties[k]
			if ref == nil || ref.Value == nil {
				continue
			}
			p := ptr + "/" + k
			if sens, _ := ref.Value.Extensions["x-wxpay-sensitive"].(bool); sens {
				if str, ok := e.(string); ok && str != "" {
					*out = append(*out, sensitiveField{p, str})
				}
				continue
			}
			collectSensitive(ref.Value, e, p, out, depth+1)
		}
	case []any:
		if s.Items == nil {
			return
		}
		for i, e := range x {
			collectSensitive(s.Items.Value, e, ptr+"/"+strconv.Itoa(i), out, depth+1)
		}
	}
}
