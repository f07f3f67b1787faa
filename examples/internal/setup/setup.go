// Package setup builds the notification Parser of the example programs
// from the environment.
package setup

import (
	"errors"
	"io"
	"os"

	"github.com/gowxpay/wxpay/auth"
	"github.com/gowxpay/wxpay/callback"
	"github.com/gowxpay/wxpay/gen/payments"
)

// FromEnv returns the Parser of the merchant the environment describes,
// in WeChat Pay public key mode (微信支付公钥), and the key store to close:
//
//	WXPAY_APIV3_KEY        the APIv3 key (商户平台 → API安全 → APIv3密钥)
//	WXPAY_PUBLIC_KEY_ID    the public key id, PUB_KEY_ID_…
//	WXPAY_PUBLIC_KEY_FILE  the public key, pub_key.pem
//
// A program that also calls the API builds its Parser from the client
// instead, which shares the client's platform keys.
func FromEnv() (*callback.Parser, io.Closer, error) {
	key := os.Getenv("WXPAY_APIV3_KEY")
	id := os.Getenv("WXPAY_PUBLIC_KEY_ID")
	file := os.Getenv("WXPAY_PUBLIC_KEY_FILE")
	if key == "" || id == "" || file == "" {
		return nil, nil, errors.New("set WXPAY_APIV3_KEY, WXPAY_PUBLIC_KEY_ID and WXPAY_PUBLIC_KEY_FILE")
	}
	pub, err := auth.LoadPlatformPublicKey(file)
	if err != nil {
		return nil, nil, err
	}
	keys, err := auth.NewPlatformKeys(auth.PlatformKeysConfig{PublicKeyID: id, PublicKey: pub})
	if err != nil {
		return nil, nil, err
	}
	p, err := callback.NewParser(callback.Config{Verifier: keys, APIv3Key: []byte(key), Events: payments.Events()})
	if err != nil {
		keys.Close()
		return nil, nil, err
	}
	return p, keys, nil
}

// Addr is the address to listen on: $WXPAY_LISTEN, or :8080.
func Addr() string {
	if a := os.Getenv("WXPAY_LISTEN"); a != "" {
		return a
	}
	return ":8080"
}
