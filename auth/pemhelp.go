package auth

import (
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
)

// What a PEM input is expected to hold, for the conversion advice of
// notPEM and encryptedPEM.
const (
	wantPrivateKey  = "private key"
	wantCertificate = "certificate"
	wantPublicKey   = "public key"
)

// notPEM explains input that holds no PEM block: it says what the bytes
// look like (a PKCS#12 bundle such as apiclient_cert.p12, DER, or
// something else) and gives the openssl command that converts them. It
// never quotes the input.
func notPEM(want, expected string, b []byte) error {
	base := fmt.Sprintf("auth: the %s is not PEM (expected %s)", want, expected)
	switch kind := derKind(b); kind {
	case "pkcs12":
		switch want {
		case wantPrivateKey:
			return fmt.Errorf("%s: this is a PKCS#12 bundle (.p12, such as apiclient_cert.p12); extract the key with: openssl pkcs12 -in apiclient_cert.p12 -nocerts -nodes -out apiclient_key.pem (the password WeChat Pay sets is the merchant id; OpenSSL 3 may need -legacy)", base)
		case wantCertificate:
			return fmt.Errorf("%s: this is a PKCS#12 bundle (.p12, such as apiclient_cert.p12); extract the certificate with: openssl pkcs12 -in apiclient_cert.p12 -clcerts -nokeys -out apiclient_cert.pem (the password WeChat Pay sets is the merchant id; OpenSSL 3 may need -legacy)", base)
		}
		return fmt.Errorf("%s: this is a PKCS#12 bundle (.p12), which holds the merchant's own key and certificate, not the WeChat Pay public key: download pub_key.pem from 商户平台 → 账户中心 → API安全 → 微信支付公钥", base)
	case "der":
		switch want {
		case wantPrivateKey:
			return fmt.Errorf("%s: it looks like DER (binary ASN.1); convert it with: openssl pkcs8 -topk8 -nocrypt -inform DER -in KEY.der -out apiclient_key.pem", base)
		case wantCertificate:
			return fmt.Errorf("%s: it looks like DER (binary ASN.1); convert it with: openssl x509 -inform DER -in CERT.der -out apiclient_cert.pem", base)
		}
		return fmt.Errorf("%s: it looks like DER (binary ASN.1); convert it with: openssl pkey -pubin -inform DER -in KEY.der -out pub_key.pem", base)
	}
	return fmt.Errorf("%s: no -----BEGIN line was found; give the file's content (or its path in the ...File setting) as it was downloaded", base)
}

// encryptedPEM explains a password-protected private key and gives the
// openssl command that removes the password.
func encryptedPEM(block *pem.Block) error {
	if block.Type == "ENCRYPTED PRIVATE KEY" {
		return errors.New("auth: the private key is encrypted with a password (BEGIN ENCRYPTED PRIVATE KEY); store it unencrypted, as apiclient_key.pem ships, with: openssl pkcs8 -topk8 -nocrypt -in KEY.pem -out apiclient_key.pem (it asks for the password)")
	}
	return errors.New("auth: the private key is encrypted with a password (Proc-Type: 4,ENCRYPTED); store it unencrypted, as apiclient_key.pem ships, with: openssl pkcs8 -topk8 -nocrypt -in KEY.pem -out apiclient_key.pem (it asks for the password)")
}

// isEncryptedPEM reports a password-protected private key block.
func isEncryptedPEM(block *pem.Block) bool {
	return block.Type == "ENCRYPTED PRIVATE KEY" || block.Headers["Proc-Type"] == "4,ENCRYPTED"
}

// derKind tells what binary input is: "pkcs12" for a PKCS#12 bundle
// (a SEQUENCE starting with INTEGER 3), "der" for another DER key or
// certificate that parses, "" for anything else.
func derKind(b []byte) string {
	if len(b) < 2 || b[0] != 0x30 {
		return ""
	}
	var pfx struct {
		Version int
		Rest    asn1.RawValue `asn1:"optional"`
		More    asn1.RawValue `asn1:"optional"`
	}
	if _, err := asn1.Unmarshal(b, &pfx); err == nil && pfx.Version == 3 {
		return "pkcs12"
	}
	if _, err := x509.ParsePKCS8PrivateKey(b); err == nil {
		return "der"
	}
	if _, err := x509.ParsePKCS1PrivateKey(b); err == nil {
		return "der"
	}
	if _, err := x509.ParseCertificate(b); err == nil {
		return "der"
	}
	if _, err := x509.ParsePKIXPublicKey(b); err == nil {
		return "der"
	}
	if _, err := x509.ParsePKCS1PublicKey(b); err == nil {
		return "der"
	}
	if _, err := asn1.Unmarshal(b, &asn1.RawValue{}); err == nil {
		return "der"
	}
	return ""
}
