package auth

import (
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
)

// RequestMessage builds the string a request signature covers:
//
//	METHOD\nCANONICAL_URL\nTIMESTAMP\nNONCE\nBODY\n
//
// canonicalURL is the request target exactly as sent (path and query, with
// their escaping); body is the exact bytes sent, empty for GET, or the meta
// JSON of a media upload. Every line ends with \n, the last one included,
// even when the body itself ends with \n.
func RequestMessage(method, canonicalURL string, timestamp int64, nonce string, body []byte) []byte {
	b := make([]byte, 0, len(method)+len(canonicalURL)+len(nonce)+len(body)+16)
	return AppendRequestMessage(b, method, canonicalURL, timestamp, nonce, body)
}

// AppendRequestMessage is RequestMessage appending to b.
func AppendRequestMessage(b []byte, method, canonicalURL string, timestamp int64, nonce string, body []byte) []byte {
	return appendRequestMessage(b, method, canonicalURL, timestamp, nonce, body)
}

func appendRequestMessage[N string | []byte](b []byte, method, canonicalURL string, timestamp int64, nonce N, body []byte) []byte {
	b = append(b, method...)
	b = append(b, '\n')
	b = append(b, canonicalURL...)
	b = append(b, '\n')
	b = strconv.AppendInt(b, timestamp, 10)
	b = append(b, '\n')
	b = append(b, nonce...)
	b = append(b, '\n')
	b = append(b, body...)
	return append(b, '\n')
}

// ResponseMessage builds the string a response or notification signature
// covers: TIMESTAMP\nNONCE\nBODY\n, with the timestamp exactly as received in
// Wechatpay-Timestamp and the raw body.
func ResponseMessage(timestamp, nonce string, body []byte) []byte {
	b := make([]byte, 0, len(timestamp)+len(nonce)+len(body)+3)
	return AppendResponseMessage(b, timestamp, nonce, body)
}

// AppendResponseMessage is ResponseMessage appending to b.
func AppendResponseMessage(b []byte, timestamp, nonce string, body []byte) []byte {
	b = append(b, timestamp...)
	b = append(b, '\n')
	b = append(b, nonce...)
	b = append(b, '\n')
	b = append(b, body...)
	return append(b, '\n')
}

// Signer produces SHA256withRSA (RSASSA-PKCS1-v1_5) signatures. RSASigner is
// the implementation; benchmarks substitute a stub to measure everything
// but the RSA arithmetic.
type Signer interface {
	// Sign returns the raw signature of message.
	Sign(message []byte) ([]byte, error)
}

// RSASigner signs with an RSA private key.
type RSASigner struct {
	// Key is the merchant API private key (apiclient_key.pem).
	Key *rsa.PrivateKey
}

// Sign implements Signer.
func (s RSASigner) Sign(message []byte) ([]byte, error) {
	if usablePrivate(s.Key) != nil {
		return nil, errors.New("auth: RSASigner has no key")
	}
	h := sha256.Sum256(message)
	return rsa.SignPKCS1v15(nil, s.Key, crypto.SHA256, h[:])
}

// SignBase64 signs message and returns the standard Base64 signature, as
// headers and pay parameters carry it.
func SignBase64(s Signer, message []byte) (string, error) {
	if s == nil {
		return "", errors.New("auth: no Signer")
	}
	sig, err := s.Sign(message)
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

// VerifyRSA checks a raw SHA256withRSA signature of message.
func VerifyRSA(pub *rsa.PublicKey, message, signature []byte) error {
	if err := usablePublic(pub); err != nil {
		return err
	}
	h := sha256.Sum256(message)
	return rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], signature)
}

// APIv3KeySize is the length of an APIv3 key: 32 bytes, used as they are as
// an AES-256 key.
const APIv3KeySize = 32

// CheckAPIv3Key returns an error unless key is exactly 32 bytes. The error
// never contains the key.
func CheckAPIv3Key(key []byte) error {
	if len(key) != APIv3KeySize {
		return fmt.Errorf("auth: the APIv3 key must be exactly 32 bytes (as typed in the merchant platform, API安全 → APIv3密钥), this one has %d", len(key))
	}
	return nil
}

// AEAD algorithm names used by WeChat Pay.
const (
	AlgorithmAESGCM = "AEAD_AES_256_GCM"
	AlgorithmSM4GCM = "AEAD_SM4_GCM"
)

// ErrDecrypt means that data encrypted with the APIv3 key could not be
// decrypted: the key is not the one set in the merchant platform, or the
// data was altered.
var ErrDecrypt = errors.New("auth: decryption failed: the APIv3 key does not match the one set in the merchant platform (or the data was altered)")

func newGCM(key []byte, nonceSize int) (cipher.AEAD, error) {
	if err := CheckAPIv3Key(key); err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	if nonceSize == 12 {
		return cipher.NewGCM(block)
	}
	if nonceSize < 1 {
		return nil, errors.New("auth: empty AEAD nonce")
	}
	return cipher.NewGCMWithNonceSize(block, nonceSize)
}

// DecryptAESGCM opens data encrypted with AEAD_AES_256_GCM under the APIv3
// key: ciphertext is Base64 of the ciphertext followed by the 16-byte tag;
// nonce and associatedData are used as their UTF-8 bytes.
func DecryptAESGCM(key []byte, nonce, associatedData, ciphertext string) ([]byte, error) {
	raw, err := base64.StdEncoding.DecodeString(ciphertext)
	if err != nil {
		return nil, fmt.Errorf("auth: ciphertext is not Base64: %w", err)
	}
	gcm, err := newGCM(key, len(nonce))
	if err != nil {
		return nil, err
	}
	if len(raw) < gcm.Overhead() {
		return nil, ErrDecrypt
	}
	plain, err := gcm.Open(nil, []byte(nonce), raw, []byte(associatedData))
	if err != nil {
		return nil, ErrDecrypt
	}
	return plain, nil
}

// EncryptAESGCM is the inverse of DecryptAESGCM; the sandbox uses it.
func EncryptAESGCM(key []byte, nonce, associatedData string, plaintext []byte) (string, error) {
	gcm, err := newGCM(key, len(nonce))
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(gcm.Seal(nil, []byte(nonce), plaintext, []byte(associatedData))), nil
}

// EncryptOAEP encrypts a sensitive field for WeChat Pay: RSAES-OAEP with
// SHA-1 and MGF1-SHA-1, empty label, Base64 output. RSA-2048 fits at most 214
// bytes of plaintext.
func EncryptOAEP(pub *rsa.PublicKey, plaintext string) (string, error) {
	if err := usablePublic(pub); err != nil {
		return "", err
	}
	ct, err := rsa.EncryptOAEP(sha1.New(), rand.Reader, pub, []byte(plaintext), nil)
	if err != nil {
		return "", fmt.Errorf("auth: encrypting a sensitive field: %w", err)
	}
	return base64.StdEncoding.EncodeToString(ct), nil
}

// DecryptOAEP opens a field WeChat Pay encrypted to the merchant's
// certificate key (OAEP, SHA-1).
func DecryptOAEP(priv *rsa.PrivateKey, ciphertext string) (string, error) {
	if err := usablePrivate(priv); err != nil {
		return "", err
	}
	raw, err := base64.StdEncoding.DecodeString(ciphertext)
	if err != nil {
		return "", fmt.Errorf("auth: ciphertext is not Base64: %w", err)
	}
	pt, err := rsa.DecryptOAEP(sha1.New(), nil, priv, raw, nil)
	if err != nil {
		return "", errors.New("auth: decrypting a sensitive field failed: it was not encrypted to this merchant's certificate key")
	}
	return string(pt), nil
}
