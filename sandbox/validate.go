package sandbox

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/gowxpay/wxpay/internal/sm3"
)

// validationOptions: never write defaults into the request (the signature
// covers the bytes as sent), no security schemes to check, the first error
// only, and schema errors without kin-openapi's schema dump.
func validationOptions(excludeBody bool) *openapi3filter.Options {
	o := &openapi3filter.Options{
		SkipSettingDefaults: true,
		AuthenticationFunc:  openapi3filter.NoopAuthenticationFunc,
		ExcludeRequestBody:  excludeBody,
	}
	o.WithCustomSchemaErrorFunc(func(err *openapi3.SchemaError) string { return err.Reason })
	return o
}

// validate checks the request against the spec (after authentication, over
// a copy of the bytes that were verified) and answers 400 PARAM_ERROR with
// a WeChat-style detail when it does not conform.
func (s *Server) validate(c *call) *answer {
	if !c.op.Multipart {
		if i := fourByteUTF8(c.raw); i >= 0 {
			return c.failDetail(http.StatusBadRequest, "PARAM_ERROR", "请求体含有4字节的UTF-8字符（如emoji），微信支付仅支持1至3字节的UTF-8字符",
				errorDetail{Location: "body", Issue: fmt.Sprintf("4-byte UTF-8 character at byte %d", i)})
		}
		body, err := decodeBody(c.raw)
		if err != nil {
			return c.failDetail(http.StatusBadRequest, "PARAM_ERROR", "请求体不是合法的JSON",
				errorDetail{Location: "body", Issue: err.Error()})
		}
		c.body = body
	}
	req := c.r.Clone(c.r.Context())
	req.Body = io.NopCloser(bytes.NewReader(c.raw))
	req.ContentLength = int64(len(c.raw))
	in := &openapi3filter.RequestValidationInput{
		Request:    req,
		PathParams: c.pathParams,
		Route:      c.route,
		Options:    validationOptions(c.op.Multipart),
	}
	if err := openapi3filter.ValidateRequest(c.r.Context(), in); err != nil {
		return c.paramError(err)
	}
	if c.op.Multipart {
		return c.checkUpload()
	}
	return nil
}

// paramError maps a kin-openapi validation error to WeChat's PARAM_ERROR.
func (c *call) paramError(err error) *answer {
	d := errorDetail{Location: "body", Issue: err.Error()}
	var re *openapi3filter.RequestError
	if errors.As(err, &re) {
		d.Issue = re.Reason
		if p := re.Parameter; p != nil {
			d.Field = p.Name
			d.Location = p.In
			if p.In == openapi3.ParameterInPath {
				d.Location = "url"
				d.Value = c.pathParams[p.Name]
			} else if p.In == openapi3.ParameterInQuery {
				if vs, ok := c.r.URL.Query()[p.Name]; ok {
					d.Value = strings.Join(vs, ",")
				}
			}
		}
	}
	var se *openapi3.SchemaError
	if errors.As(err, &se) {
		ptr := se.JSONPointer()
		if re == nil || re.Parameter == nil {
			d.Field = "/" + strings.Join(escapePointer(ptr), "/")
			if len(ptr) == 0 {
				d.Field = ""
			}
		}
		d.Issue = se.Reason
		if se.SchemaField != "required" && d.Value == nil {
			d.Value = se.Value
		}
		if se.SchemaField == "required" {
			d.Value = nil
			return c.failDetail(http.StatusBadRequest, "PARAM_ERROR",
				fmt.Sprintf("输入源“/%s%s”映射到值字段“%s”必填性规则校验失败，此字段为必填项", d.Location, d.Field, lastName(ptr)), d)
		}
	} else if d.Issue == "" || re == nil {
		d.Issue = err.Error()
	} else if re.Err != nil && d.Issue != re.Err.Error() {
		d.Issue = strings.TrimPrefix(d.Issue+": "+re.Err.Error(), ": ")
	}
	field := d.Field
	if d.Location == "body" || strings.HasPrefix(field, "/") {
		field = "/body" + field
	} else {
		field = "/" + d.Location + "/" + field
	}
	return c.failDetail(http.StatusBadRequest, "PARAM_ERROR", fmt.Sprintf("输入源“%s”校验失败：%s", field, d.Issue), d)
}

func escapePointer(p []string) []string {
	out := make([]string, len(p))
	for i, s := range p {
		out[i] = strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
	}
	return out
}

func lastName(p []string) string {
	if len(p) == 0 {
		return ""
	}
	return p[len(p)-1]
}

// fourByteUTF8 returns the offset of the first 4-byte UTF-8 sequence, or -1.
func fourByteUTF8(b []byte) int {
	for i, c := range b {
		if c >= 0xF0 {
			return i
		}
	}
	return -1
}

// checkUpload checks a multipart upload: a meta part whose JSON satisfies
// the meta schema of the operation ({filename, sha256} for media uploads,
// others for invoice files or user packages), a file part, and, when the
// meta carries a sha256, that it is the file's.
func (c *call) checkUpload() *answer {
	ct := c.r.Header.Get("Content-Type")
	meta, ok := multipartMetaOK(ct, c.raw)
	if !ok {
		return c.failDetail(http.StatusBadRequest, "PARAM_ERROR", "缺少meta", errorDetail{Field: "meta", Location: "body", Issue: "the multipart body has no meta part"})
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(meta))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil || m == nil {
		return c.failDetail(http.StatusBadRequest, "PARAM_ERROR", "meta格式错误", errorDetail{Field: "meta", Location: "body", Issue: "meta must be a JSON object"})
	}
	if schema := c.op.uploadMetaSchema(); schema != nil {
		if err := schema.VisitJSON(normalize(m)); err != nil {
			d := errorDetail{Field: "meta", Location: "body", Issue: err.Error()}
			var se *openapi3.SchemaError
			if errors.As(err, &se) {
				d.Issue = se.Reason
				if ptr := se.JSONPointer(); len(ptr) > 0 {
					d.Field = "meta/" + strings.Join(escapePointer(ptr), "/")
				}
			}
			return c.failDetail(http.StatusBadRequest, "PARAM_ERROR", "meta格式错误", d)
		}
	}
	part := c.op.filePart()
	_, data, ok := multipartFile(ct, c.raw, part)
	if !ok {
		return c.failDetail(http.StatusBadRequest, "PARAM_ERROR", "缺少"+part, errorDetail{Field: part, Location: "body", Issue: "the multipart body has no " + part + " part"})
	}
	if want, ok := m["sha256"].(string); ok {
		sum := sha256.Sum256(data)
		if !strings.EqualFold(hex.EncodeToString(sum[:]), want) {
			return c.failDetail(http.StatusBadRequest, "PARAM_ERROR", "文件摘要与meta中的sha256不一致", errorDetail{Field: "meta.sha256", Value: want, Location: "body", Issue: "does not match the SHA-256 of the file"})
		}
	}
	if want, ok := m["digest"].(string); ok && m["digest_alogrithm"] == "SM3" {
		if !strings.EqualFold(sm3.Hex(data), want) {
			return c.failDetail(http.StatusBadRequest, "PARAM_ERROR", "文件摘要与meta中的digest不一致", errorDetail{Field: "meta.digest", Value: want, Location: "body", Issue: "does not match the SM3 digest of the file"})
		}
	}
	c.body = m
	return nil
}

// checkIdentity checks the identity fields of the body and the query
// against the authenticated merchant, as the real server does: mchid,
// sp_mchid and combine_mchid must be the caller's; sub_mchid one of its
// sub-merchants (configured, or onboarded through 电商收付通); appid,
// sp_appid and combine_appid its app id.
func (s *Server) checkIdentity(c *call) *answer {
	m := c.merchant
	q := c.r.URL.Query()
	get := func(name string) (string, string) {
		if v := str(c.body, name); v != "" {
			return v, "body"
		}
		return q.Get(name), "query"
	}
	for _, f := range []string{"mchid", "sp_mchid", "combine_mchid"} {
		if v, loc := get(f); v != "" && v != m.MchID {
			return c.failDetail(http.StatusBadRequest, "INVALID_REQUEST",
				fmt.Sprintf("请求参数中的%s与Http头Authorization中的mchid不一致", f),
				errorDetail{Field: f, Value: v, Location: loc, Issue: "not the merchant that signed the request"})
		}
	}
	if v, loc := get("sub_mchid"); v != "" {
		if !m.partner {
			return c.failDetail(http.StatusBadRequest, "INVALID_REQUEST", "直连商户不能指定sub_mchid",
				errorDetail{Field: "sub_mchid", Value: v, Location: loc, Issue: "sub_mchid is for service providers"})
		}
		if !s.isSubMerchant(m, v) {
			return c.failDetail(http.StatusBadRequest, "INVALID_REQUEST", "特约商户与服务商不存在受理关系",
				errorDetail{Field: "sub_mchid", Value: v, Location: loc, Issue: "not a sub-merchant of this service provider"})
		}
	}
	for _, f := range []string{"appid", "sp_appid", "combine_appid"} {
		if v := str(c.body, f); v != "" && v != m.AppID {
			return c.failDetail(http.StatusBadRequest, "APPID_MCHID_NOT_MATCH", "appid和mch_id不匹配",
				errorDetail{Field: f, Value: v, Location: "body", Issue: "the app id is not bound to this merchant"})
		}
	}
	return nil
}

// isSubMerchant reports whether sub is a sub-merchant of the service
// provider m: configured, or onboarded through 电商收付通.
func (s *Server) isSubMerchant(m *merchantState, sub string) bool {
	if _, ok := m.subs[sub]; ok {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.ec.subs[sub] == m.MchID
}
