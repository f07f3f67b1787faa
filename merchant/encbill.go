package merchant

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/cipher"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/gowxpay/wxpay/auth"
	"github.com/gowxpay/wxpay/core"
)

// EncryptedBillPart is one part of an encrypted bill (the sub-merchant
// fund-flow bill): where to download it, its key encrypted to the merchant
// certificate, the nonce and the digest of its plaintext.
type EncryptedBillPart struct {
	// Sequence is bill_sequence, the position of the part from 1.
	Sequence int64
	// DownloadURL is download_url, used unchanged.
	DownloadURL string
	// EncryptKey is encrypt_key: the part's key, encrypted to the
	// merchant certificate (Base64).
	EncryptKey string
	// Nonce is the nonce the part was sealed with.
	Nonce string
	// HashType is hash_type (SHA1) and HashValue hash_value, the digest of
	// the uncompressed plaintext.
	HashType, HashValue string
}

// DownloadEncryptedBill downloads the parts of an encrypted bill in
// sequence order, decrypts each with its key (encrypt_key, itself decrypted
// with the merchant key: RSA-OAEP, or SM2 for a 国密 connection), ungzips
// it when it is gzip, checks its SHA-1 against HashValue and writes it to
// w. algorithm is the one the bill was applied for: AEAD_AES_256_GCM (the
// part key is the AES-256 key) or SM4_GCM (国密 only; the SM4 key is
// derived from the part key as from an APIv3 key, the first 16 bytes of its
// SM3 digest — an assumption WeChat Pay does not document, shared with the
// sandbox). On a *DigestError what was written is not the bill.
func (c *Conn) DownloadEncryptedBill(ctx context.Context, algorithm string, parts []EncryptedBillPart, w io.Writer, opts ...core.CallOption) (int64, error) {
	sorted := append([]EncryptedBillPart(nil), parts...)
	for i := 1; i < len(sorted); i++ {
		for j := i; j > 0 && sorted[j].Sequence < sorted[j-1].Sequence; j-- {
			sorted[j], sorted[j-1] = sorted[j-1], sorted[j]
		}
	}
	var total int64
	for _, p := range sorted {
		n, err := c.downloadPart(ctx, algorithm, p, w, opts)
		total += n
		if err != nil {
			return total, fmt.Errorf("wxpay: DownloadEncryptedBill: part %d: %w", p.Sequence, err)
		}
	}
	return total, nil
}

func (c *Conn) partAEAD(algorithm string, key []byte) (cipher.AEAD, error) {
	switch algorithm {
	case "AEAD_AES_256_GCM":
		if len(key) != auth.APIv3KeySize {
			return nil, fmt.Errorf("the part key has %d bytes, AES-256 needs 32", len(key))
		}
		return newAESGCM(key)
	case "SM4_GCM":
		if c.suite == nil {
			return nil, fmt.Errorf("an SM4_GCM bill needs the 国密 suite (Config.Suite)")
		}
		return c.suite.NewAEAD(key)
	}
	return nil, fmt.Errorf("unknown bill algorithm %q (AEAD_AES_256_GCM or SM4_GCM)", algorithm)
}

func (c *Conn) downloadPart(ctx context.Context, algorithm string, p EncryptedBillPart, w io.Writer, opts []core.CallOption) (int64, error) {
	if !strings.EqualFold(p.HashType, "SHA1") {
		return 0, fmt.Errorf("unsupported hash type %q", p.HashType)
	}
	key, err := c.DecryptField(p.EncryptKey)
	if err != nil {
		return 0, fmt.Errorf("decrypting encrypt_key: %w", err)
	}
	aead, err := c.partAEAD(algorithm, []byte(key))
	if err != nil {
		return 0, err
	}
	u, err := url.Parse(p.DownloadURL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return 0, fmt.Errorf("%q is not an absolute URL", p.DownloadURL)
	}
	if !c.ownHost(u) {
		return 0, fmt.Errorf("the download_url points at %s, not the API host; refusing to send a signed request there", u.Host)
	}
	op := &core.Operation{ID: "DownloadBill", Method: http.MethodGet, Path: u.Path, Unsigned: true}
	body, err := c.core.Download(ctx, op, u.RequestURI(), opts)
	if err != nil {
		return 0, err
	}
	defer body.Close()
	ct, err := io.ReadAll(body)
	if err != nil {
		return 0, err
	}
	if len(p.Nonce) != aead.NonceSize() || len(ct) < aead.Overhead() {
		return 0, auth.ErrDecrypt
	}
	plain, err := aead.Open(ct[:0], []byte(p.Nonce), ct, nil)
	if err != nil {
		return 0, auth.ErrDecrypt
	}
	br := bufio.NewReader(bytes.NewReader(plain))
	var r io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return 0, err
		}
		defer gz.Close()
		r = gz
	}
	h := sha1.New()
	n, err := io.Copy(io.MultiWriter(w, h), r)
	if err != nil {
		return n, err
	}
	if got, want := hex.EncodeToString(h.Sum(nil)), strings.ToLower(p.HashValue); got != want {
		return n, &DigestError{Want: want, Got: got}
	}
	return n, nil
}
