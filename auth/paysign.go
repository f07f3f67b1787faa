package auth

import (
	"crypto/rsa"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// PaySigner signs the parameters a web page, mini program or app needs to
// start a payment for a prepay_id (调起支付). It uses the merchant API
// private key, the same as request signing.
//
// In partner mode (服务商) the app id is the one whose openid placed the
// order: sp_appid when the order was placed with sp_openid, sub_appid with
// sub_openid. The APP partnerid is the merchant id of the caller: the
// service provider's sp_mchid in partner mode. WeChat Pay does not check
// partnerid against the signature (it is not signed).
type PaySigner struct {
	// Signer signs with the merchant API private key (apiclient_key.pem).
	Signer Signer
	// Now is the clock for the timestamp; time.Now when nil.
	Now func() time.Time
	// Nonce returns the nonce; 32 random characters from [0-9A-Za-z] when
	// nil.
	Nonce func() string
}

// JSAPIPayParams are the parameters of WeixinJSBridge.invoke
// ('getBrandWCPayRequest', …) in a WeChat web page (JSAPI), and, without
// appId, of wx.requestPayment in a mini program. Marshalled to JSON they have
// the names the JavaScript APIs expect.
type JSAPIPayParams struct {
	// AppID is the official account or mini program the payer's openid
	// belongs to.
	AppID string `json:"appId"`
	// TimeStamp is Unix seconds, as a string.
	TimeStamp string `json:"timeStamp"`
	// NonceStr is a random string of at most 32 characters.
	NonceStr string `json:"nonceStr"`
	// Package is "prepay_id=" followed by the prepay_id.
	Package string `json:"package"`
	// SignType is "RSA".
	SignType string `json:"signType"`
	// PaySign is the Base64 SHA256withRSA signature of JSAPIPayMessage.
	PaySign string `json:"paySign"`
}

// APPPayParams are the parameters of the OpenSDK PayReq an app starts a
// payment with. Marshalled to JSON they have the names the SDKs expect.
type APPPayParams struct {
	// AppID is the mobile app's id (open platform).
	AppID string `json:"appid"`
	// PartnerID is the merchant id (sp_mchid in partner mode).
	PartnerID string `json:"partnerid"`
	// PrepayID is the bare prepay_id.
	PrepayID string `json:"prepayid"`
	// Package is "Sign=WXPay".
	Package string `json:"package"`
	// NonceStr is a random string of at most 32 characters.
	NonceStr string `json:"noncestr"`
	// Timestamp is Unix seconds, as a string.
	Timestamp string `json:"timestamp"`
	// Sign is the Base64 SHA256withRSA signature of APPPayMessage.
	Sign string `json:"sign"`
}

// JSAPIPayMessage is the string a JSAPI or mini-program pay signature
// covers: appId\ntimeStamp\nnonceStr\nprepay_id=…\n (pkg is the whole
// package value, "prepay_id=…").
func JSAPIPayMessage(appID, timeStamp, nonceStr, pkg string) []byte {
	return []byte(appID + "\n" + timeStamp + "\n" + nonceStr + "\n" + pkg + "\n")
}

// APPPayMessage is the string an APP pay signature covers:
// appid\ntimestamp\nnoncestr\nprepayid\n, with the bare prepay_id.
func APPPayMessage(appID, timestamp, nonceStr, prepayID string) []byte {
	return []byte(appID + "\n" + timestamp + "\n" + nonceStr + "\n" + prepayID + "\n")
}

const prepayPrefix = "prepay_id="

// JSAPI returns the signed parameters for a JSAPI or mini-program payment
// of prepayID (the prepay_id of the order; a "prepay_id=" prefix is
// accepted). appID is the app whose openid placed the order.
func (p PaySigner) JSAPI(appID, prepayID string) (*JSAPIPayParams, error) {
	ts, nonce, err := p.prepare(appID, prepayID)
	if err != nil {
		return nil, err
	}
	r := &JSAPIPayParams{
		AppID:     appID,
		TimeStamp: ts,
		NonceStr:  nonce,
		Package:   prepayPrefix + strings.TrimPrefix(prepayID, prepayPrefix),
		SignType:  "RSA",
	}
	if r.PaySign, err = SignBase64(p.Signer, JSAPIPayMessage(r.AppID, r.TimeStamp, r.NonceStr, r.Package)); err != nil {
		return nil, fmt.Errorf("auth: signing the JSAPI pay parameters: %w", err)
	}
	return r, nil
}

// APP returns the signed parameters for an APP payment of prepayID by the
// merchant mchID (sp_mchid in partner mode); appID is the mobile app's id.
func (p PaySigner) APP(appID, mchID, prepayID string) (*APPPayParams, error) {
	if err := checkToken("merchant id (partnerid)", mchID); err != nil {
		return nil, err
	}
	ts, nonce, err := p.prepare(appID, prepayID)
	if err != nil {
		return nil, err
	}
	r := &APPPayParams{
		AppID:     appID,
		PartnerID: mchID,
		PrepayID:  strings.TrimPrefix(prepayID, prepayPrefix),
		Package:   "Sign=WXPay",
		NonceStr:  nonce,
		Timestamp: ts,
	}
	if r.Sign, err = SignBase64(p.Signer, APPPayMessage(r.AppID, r.Timestamp, r.NonceStr, r.PrepayID)); err != nil {
		return nil, fmt.Errorf("auth: signing the APP pay parameters: %w", err)
	}
	return r, nil
}

func (p PaySigner) prepare(appID, prepayID string) (ts, nonce string, err error) {
	if p.Signer == nil {
		return "", "", errors.New("auth: PaySigner.Signer is nil: the merchant API private key is missing")
	}
	if err := checkToken("app id", appID); err != nil {
		return "", "", err
	}
	if err := checkToken("prepay_id", strings.TrimPrefix(prepayID, prepayPrefix)); err != nil {
		return "", "", err
	}
	now := time.Now
	if p.Now != nil {
		now = p.Now
	}
	ts = strconv.FormatInt(now().Unix(), 10)
	if p.Nonce != nil {
		nonce = p.Nonce()
		if len(nonce) > 32 {
			return "", "", errors.New("auth: the pay nonce is longer than 32 characters")
		}
		if err := checkToken("nonce", nonce); err != nil {
			return "", "", err
		}
	} else if nonce, err = NewNonce(); err != nil {
		return "", "", err
	}
	return ts, nonce, nil
}

// Verify checks PaySign with the merchant's public key (from
// apiclient_cert.pem), as WeChat does.
func (r *JSAPIPayParams) Verify(pub *rsa.PublicKey) error {
	if r == nil {
		return errors.New("auth: no pay parameters to verify")
	}
	return VerifyBase64(pub, JSAPIPayMessage(r.AppID, r.TimeStamp, r.NonceStr, r.Package), r.PaySign)
}

// Verify checks Sign with the merchant's public key (from
// apiclient_cert.pem), as WeChat does.
func (r *APPPayParams) Verify(pub *rsa.PublicKey) error {
	if r == nil {
		return errors.New("auth: no pay parameters to verify")
	}
	return VerifyBase64(pub, APPPayMessage(r.AppID, r.Timestamp, r.NonceStr, r.PrepayID), r.Sign)
}
