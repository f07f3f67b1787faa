package sm_test

import (
	"os"
	"testing"

	"github.com/gowxpay/wxpay/auth"
	"github.com/gowxpay/wxpay/sm"
)

// BenchmarkAuthorize compares the cost of signing one request, the whole
// Authorization header, with the merchant's RSA-2048 key and with its SM2
// key, in one run:
//
//	go test -run - -bench Authorize -benchmem ./sm/
func BenchmarkAuthorize(b *testing.B) {
	rsaPEM, err := os.ReadFile("../internal/wxtest/testdata/merchant_key.pem")
	if err != nil {
		b.Fatal(err)
	}
	rsaKey, err := auth.ParsePrivateKey(rsaPEM)
	if err != nil {
		b.Fatal(err)
	}
	s := sm.Suite{}
	smKey, err := s.ParsePrivateKey(readPEM(b, "java_merchant_private_key.pem"))
	if err != nil {
		b.Fatal(err)
	}
	body := []byte(`{"appid":"wxd678efh567hg6787","mchid":"1230000109","description":"Image形象店-深圳腾大-QQ公仔","out_trade_no":"1217752501201407033233368018","notify_url":"https://www.weixin.qq.com/wxpay/pay.php","amount":{"total":100,"currency":"CNY"}}`)
	for _, tc := range []struct {
		name   string
		signer auth.Signer
		scheme string
	}{
		{"RSA-2048", auth.RSASigner{Key: rsaKey}, ""},
		{"SM2", auth.SuiteSigner{Suite: s, Key: smKey}, auth.SchemeSM2},
	} {
		rs, err := auth.NewRequestSigner("1230000109", "54E7F59ED8DF4570CFB14780EA8152D45A675EE6", tc.signer)
		if err != nil {
			b.Fatal(err)
		}
		rs.Scheme = tc.scheme
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := rs.Authorize("POST", "/v3/pay/transactions/native", body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerify compares verifying one answer signature with RSA-2048
// and with SM2.
func BenchmarkVerify(b *testing.B) {
	s := sm.Suite{}
	cert, err := auth.ParseSuiteCertificate(s, readPEM(b, "java_merchant_certificate.pem"))
	if err != nil {
		b.Fatal(err)
	}
	msg := []byte("message")
	b.Run("SM2", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := auth.VerifySuiteBase64(s, cert.PublicKey, msg, javaSignature); err != nil {
				b.Fatal(err)
			}
		}
	})
	rsaPEM, err := os.ReadFile("../internal/wxtest/testdata/merchant_key.pem")
	if err != nil {
		b.Fatal(err)
	}
	rsaKey, err := auth.ParsePrivateKey(rsaPEM)
	if err != nil {
		b.Fatal(err)
	}
	sig, err := auth.SignBase64(auth.RSASigner{Key: rsaKey}, msg)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("RSA-2048", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := auth.VerifyBase64(&rsaKey.PublicKey, msg, sig); err != nil {
				b.Fatal(err)
			}
		}
	})
}
