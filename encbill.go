package wxpay

import (
	"context"
	"io"

	"github.com/gowxpay/wxpay/gen/bills"
	"github.com/gowxpay/wxpay/merchant"
)

// DownloadSubMerchantBill downloads a sub-merchant's encrypted fund-flow
// bill (the answer of Bills.ApplySubMerchantFundFlow, applied for with
// algorithm) to w: each part decrypted with its encrypt_key (AEAD_AES_256_GCM,
// or SM4_GCM for a 国密 client), uncompressed, checked against its SHA-1,
// in bill_sequence order. It returns the number of bytes written; on a
// *DigestError what was written is not the bill.
func (c *Client) DownloadSubMerchantBill(ctx context.Context, algorithm bills.Algorithm, bill *bills.SubMerchantFundFlow, w io.Writer, opts ...CallOption) (int64, error) {
	if bill == nil {
		return 0, &UsageError{Op: "DownloadSubMerchantBill", Msg: "the bill is nil: pass the answer of Bills.ApplySubMerchantFundFlow"}
	}
	parts := make([]merchant.EncryptedBillPart, len(bill.DownloadBillList))
	for i, p := range bill.DownloadBillList {
		parts[i] = merchant.EncryptedBillPart{
			Sequence: p.BillSequence, DownloadURL: p.DownloadURL, EncryptKey: p.EncryptKey,
			Nonce: p.Nonce, HashType: string(p.HashType), HashValue: p.HashValue,
		}
	}
	return c.conn.DownloadEncryptedBill(ctx, string(algorithm), parts, w, opts...)
}
