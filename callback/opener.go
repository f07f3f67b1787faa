package callback

import (
	"crypto/aes"
	"crypto/cipher"
	"errors"

	"github.com/gowxpay/wxpay/auth"
)

// Opener decrypts the resource of a notification for one AEAD algorithm
// (the resource's algorithm field), with the key it was made with. Config.Openers
// registers openers by algorithm name; AEAD_AES_256_GCM under the APIv3 key
// is built in, and an AEAD_SM4_GCM implementation joins the same way.
//
// The method is cipher.AEAD's Open, so a cipher.AEAD is an Opener as it
// is: the Parser checks the nonce length against its NonceSize before
// calling it.
type Opener interface {
	// Open decrypts and authenticates ciphertext (the Base64-decoded
	// ciphertext field: the encrypted data followed by the tag), with nonce
	// and additionalData (the resource's nonce and associated_data, as their
	// UTF-8 bytes), appends the plaintext to dst and returns the result. dst
	// may be ciphertext[:0]. It must return an error, never panic, when the
	// data does not authenticate; Parse wraps it.
	Open(dst, nonce, ciphertext, additionalData []byte) ([]byte, error)
}

// OpenerFunc adapts a function to Opener.
type OpenerFunc func(dst, nonce, ciphertext, additionalData []byte) ([]byte, error)

// Open calls f.
func (f OpenerFunc) Open(dst, nonce, ciphertext, additionalData []byte) ([]byte, error) {
	return f(dst, nonce, ciphertext, additionalData)
}

// NewAESGCMOpener returns the AEAD_AES_256_GCM Opener for an APIv3 key: the
// key used as is as the AES-256 key, a 16-byte tag, and the nonce as given
// (12 bytes in every notification; other lengths are accepted, like
// auth.DecryptAESGCM does). It fails unless key is 32 bytes; the error
// never contains the key. Authentication failures are auth.ErrDecrypt.
func NewAESGCMOpener(key []byte) (Opener, error) {
	if err := auth.CheckAPIv3Key(key); err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &aesGCMOpener{block: block, gcm: gcm}, nil
}

type aesGCMOpener struct {
	block cipher.Block
	gcm   cipher.AEAD // 12-byte nonces
}

func (o *aesGCMOpener) Open(dst, nonce, ciphertext, additionalData []byte) ([]byte, error) {
	gcm := o.gcm
	if len(nonce) != gcm.NonceSize() {
		if len(nonce) == 0 {
			return nil, errors.New("the resource's nonce is empty")
		}
		g, err := cipher.NewGCMWithNonceSize(o.block, len(nonce))
		if err != nil {
			return nil, err
		}
		gcm = g
	}
	if len(ciphertext) < gcm.Overhead() {
		return nil, auth.ErrDecrypt
	}
	plain, err := gcm.Open(dst, nonce, ciphertext, additionalData)
	if err != nil {
		return nil, auth.ErrDecrypt
	}
	return plain, nil
}

// aeadShape is what a cipher.AEAD tells about its inputs; openers that have
// it are checked before Open so that they cannot panic on a wrong nonce.
type aeadShape interface {
	NonceSize() int
	Overhead() int
}
