package sandbox

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gowxpay/wxpay/auth"
)

// WeChat Pay's messages for refused requests (protocol notes §1.5). The
// unknown-merchant message is the sandbox's own: the real one is
// unconfirmed.
const (
	msgNoUserAgent     = "Http头缺少Accept或User-Agent"
	msgAuthFormat      = "Http头Authorization值格式错误，请参考《微信支付商户REST API签名规则》"
	msgAuthFormatPay   = "签名信息错误，验签失败"
	msgTimestamp       = "Http头Authorization中的timestamp与发起请求的时间不得超过5分钟"
	msgBadSignature    = "签名错误"
	msgBadSerial       = "商户证书序列号有误。请使用签名私钥匹配的证书序列号"
	msgUnknownMerchant = "商户号不存在或未开通APIv3，请检查Http头Authorization中的mchid"
	msgUnsupportedAlgo = "暂不支持该签名算法，请使用WECHATPAY2-SHA256-RSA2048"
)

// maxClockSkew is how far a request timestamp may be from the server's
// clock.
const maxClockSkew = 5 * time.Minute

// checksUserAgent reports whether the real server refuses requests without
// a User-Agent on this path before authenticating them (certificates and
// refunds, per the probe in the protocol notes).
func checksUserAgent(path string) bool {
	return path == "/v3/certificates" || strings.HasPrefix(path, "/v3/refund/")
}

// isPayPath reports the paths whose Authorization format errors get the
// shorter message and no Request-ID.
func isPayPath(path string) bool {
	return strings.HasPrefix(path, "/v3/pay/transactions/") || strings.HasPrefix(path, "/v3/pay/partner/transactions/")
}

func unauthorized(msg string) *answer {
	return errorAnswer(http.StatusUnauthorized, "SIGN_ERROR", msg, false)
}

// authenticate checks a request the way the real server does, in its
// order: User-Agent (some paths), Authorization format, timestamp within
// five minutes, known merchant and certificate serial, then the signature
// over METHOD\nURI\nTIMESTAMP\nNONCE\nBODY\n. It returns nil when the
// request is authentic.
func (s *Server) authenticate(c *call) *answer {
	path := c.r.URL.Path
	if checksUserAgent(path) && c.r.Header.Get("User-Agent") == "" {
		return errorAnswer(http.StatusBadRequest, "INVALID_REQUEST", msgNoUserAgent, false)
	}
	a, err := auth.ParseAuthorization(c.r.Header.Get("Authorization"))
	if err != nil {
		if isPayPath(path) {
			ans := unauthorized(msgAuthFormatPay)
			ans.noRequestID = true
			return ans
		}
		return unauthorized(msgAuthFormat)
	}
	isSM := a.Scheme == auth.SchemeSM2
	if a.Scheme != auth.SchemeRSA && !(isSM && s.sm != nil) {
		return unauthorized(msgUnsupportedAlgo)
	}
	// The server's clock, clock_offset faults included: a request is
	// judged against the clock the answers show, so skew fails as it does
	// in production.
	off, _ := clockOffset(c.faults)
	skew := s.now().Add(off).Sub(time.Unix(a.Timestamp, 0))
	if skew > maxClockSkew || skew < -maxClockSkew {
		return unauthorized(msgTimestamp)
	}
	m := s.merchants[a.MchID]
	if m == nil {
		return unauthorized(msgUnknownMerchant)
	}
	wantSerial := m.serial
	if isSM {
		if m.sm == nil {
			return unauthorized(msgUnsupportedAlgo)
		}
		wantSerial = m.sm.serial
	}
	if !strings.EqualFold(a.Serial, wantSerial) {
		return unauthorized(msgBadSerial)
	}
	signedBody := c.raw
	if c.op.Multipart {
		if meta, ok := multipartMetaOK(c.r.Header.Get("Content-Type"), c.raw); ok {
			signedBody = meta
		}
	}
	sig, err := base64.StdEncoding.DecodeString(a.Signature)
	if err != nil {
		return unauthorized(msgBadSignature)
	}
	msg := auth.RequestMessage(c.r.Method, requestURI(c.r), a.Timestamp, a.Nonce, signedBody)
	if isSM {
		if err := s.sm.suite.Verify(m.sm.cert.PublicKey, msg, sig); err != nil {
			return unauthorized(msgBadSignature)
		}
	} else if err := auth.VerifyRSA(&m.PrivateKey.PublicKey, msg, sig); err != nil {
		return unauthorized(msgBadSignature)
	}
	c.merchant = m
	c.sm = isSM
	c.preferPublicKey = c.r.Header.Get("Wechatpay-Serial") == s.ring.pubKeyID || (s.sm != nil && c.r.Header.Get("Wechatpay-Serial") == s.sm.pubKeyID)
	return nil
}

// requestURI is the request target as received: path and query with their
// escaping untouched.
func requestURI(r *http.Request) string {
	u := r.RequestURI
	if u == "" {
		return r.URL.RequestURI()
	}
	if strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://") {
		if p, err := url.Parse(u); err == nil {
			return p.RequestURI()
		}
	}
	return u
}

// multipartFile returns the file part of a media upload: the part named
// part ("file" for most uploads).
func multipartFile(contentType string, body []byte, part string) (name string, data []byte, ok bool) {
	_, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return "", nil, false
	}
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	for {
		p, err := mr.NextPart()
		if err != nil {
			return "", nil, false
		}
		if p.FormName() == part {
			b, err := io.ReadAll(p)
			return p.FileName(), b, err == nil
		}
	}
}

// multipartMetaOK returns the meta part of a multipart upload, which is
// what its signature covers.
func multipartMetaOK(contentType string, body []byte) ([]byte, bool) {
	meta, err := auth.MultipartMeta(contentType, body)
	return meta, err == nil
}
