package sandbox

import (
	"net/http"
	"strings"

	"github.com/gowxpay/wxpay/auth"
)

// msgNoCertificate is the real server's answer to /v3/certificates for a
// merchant that uses the platform public key.
const msgNoCertificate = "无可用的平台证书，请在商户平台-API安全申请使用微信支付公钥。可查看指引https://pay.weixin.qq.com/docs/merchant/products/platform-certificate/wxp-pub-key-guide.html"

// listCertificates answers GET /v3/certificates: each unexpired platform
// certificate, its PEM encrypted with AEAD_AES_256_GCM under the caller's
// APIv3 key (associated_data "certificate", a 12-character nonce). In
// PublicKeyMode: 404 RESOURCE_NOT_EXISTS. algorithm_type=SM2 lists the SM2
// certificates (AEAD_SM4_GCM) of a sandbox started WithSuite, none
// otherwise; ALL lists both.
func (s *Server) listCertificates(c *call) *answer {
	if s.ring.getMode() == PublicKeyMode {
		return c.fail(http.StatusNotFound, "RESOURCE_NOT_EXISTS", msgNoCertificate)
	}
	data := []any{}
	at := c.r.URL.Query().Get("algorithm_type")
	if at == "SM2" || at == "ALL" {
		smData, err := s.smCertificates(c)
		if err != nil {
			return c.fail(http.StatusInternalServerError, "SYSTEM_ERROR", "系统错误")
		}
		data = append(data, smData...)
	}
	if at != "SM2" {
		for _, pc := range s.ring.listed(s.now()) {
			nonce := randomString(alnum, 12)
			pemText := strings.TrimRight(string(certPEM(pc.cert)), "\n")
			ct, err := auth.EncryptAESGCM(c.merchant.APIv3Key, nonce, "certificate", []byte(pemText))
			if err != nil {
				return c.fail(http.StatusInternalServerError, "SYSTEM_ERROR", "系统错误")
			}
			data = append(data, map[string]any{
				"serial_no":      pc.serial,
				"effective_time": wxTime(pc.cert.NotBefore),
				"expire_time":    wxTime(pc.cert.NotAfter),
				"encrypt_certificate": map[string]any{
					"algorithm": auth.AlgorithmAESGCM, "nonce": nonce,
					"associated_data": "certificate", "ciphertext": ct,
				},
			})
		}
	}
	return c.ok(map[string]any{"data": data})
}
