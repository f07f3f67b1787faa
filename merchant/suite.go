package merchant

import (
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/gowxpay/wxpay/auth"
)

// decryptSuiteField opens a field WeChat Pay encrypted to the merchant's
// key of an opt-in suite (SM2 for 国密).
func decryptSuiteField(s auth.Suite, key crypto.Signer, ciphertext string) (string, error) {
	raw, err := base64.StdEncoding.DecodeString(ciphertext)
	if err != nil {
		return "", fmt.Errorf("wxpay: DecryptField: the ciphertext is not Base64: %w", err)
	}
	pt, err := s.Decrypt(key, raw)
	if err != nil {
		return "", fmt.Errorf("wxpay: DecryptField: the field was not encrypted to this merchant's %s certificate key (or was altered)", s.Name())
	}
	return string(pt), nil
}

// errNoSuitePaySign explains why a 国密 connection signs no pay parameters:
// WeChat Pay defines them for RSA only (signType "RSA").
func errNoSuitePaySign(s auth.Suite) error {
	return errors.New("wxpay: WeChat Pay defines the JSAPI, mini-program and APP pay signatures (paySign, signType \"RSA\") for RSA keys only, not for " + s.Name() + ": sign them with the merchant's RSA key (a client configured without Suite)")
}

func newAESGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
