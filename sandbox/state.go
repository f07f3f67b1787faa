package sandbox

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// state is everything the sandbox remembers; Server.mu guards it.
type state struct {
	seq        int64
	orders     map[string]*order // ownerKey(owner, out_trade_no)
	byTxID     map[string]*order
	combines   map[string]*combineOrder // ownerKey(combine_mchid, combine_out_trade_no)
	refunds    map[string]*refund       // ownerKey(owner, out_refund_no)
	refundByID map[string]*refund
	outcomes   map[string]RefundStatus // planned outcomes by out_refund_no
	bills      map[string]*billFile    // by token
	deliveries []*delivery
	byDelivery map[string]*delivery
	ps         psState // profit sharing (profitsharing.go)
	tb         tbState // merchant transfer bills (transfers.go)
	cp         cpState // consumer complaints (complaints.go)
	sc         scState // payscore service orders (payscore.go)
	ec         ecState // 电商收付通 (ecommerce.go)
}

func newState() *state {
	return &state{
		orders:     map[string]*order{},
		byTxID:     map[string]*order{},
		combines:   map[string]*combineOrder{},
		refunds:    map[string]*refund{},
		refundByID: map[string]*refund{},
		outcomes:   map[string]RefundStatus{},
		bills:      map[string]*billFile{},
		byDelivery: map[string]*delivery{},
	}
}

func ownerKey(owner, no string) string { return owner + "\x00" + no }

// fingerprint identifies the content of a request body, whatever the order
// of its keys: the same out_trade_no with the same content is a retry.
func fingerprint(body map[string]any) string {
	b, _ := json.Marshal(body) // map keys are sorted
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// nextSeq returns a per-server sequence number; callers hold Server.mu.
func (st *state) nextSeq() int64 {
	st.seq++
	return st.seq
}

// newTransactionID returns a 28-digit WeChat Pay transaction id, like
// 4200000263201902167700134212.
func (st *state) newTransactionID(now time.Time) string {
	return fmt.Sprintf("42%08d%s%s", st.nextSeq()%1e8, now.In(beijing).Format("20060102"), randomString(digits, 10))
}

// newRefundID returns a 29-digit refund id, like 50000000382019052709732678859.
func (st *state) newRefundID(now time.Time) string {
	return fmt.Sprintf("50%08d%s%s", st.nextSeq()%1e8, now.In(beijing).Format("20060102"), randomString(digits, 11))
}

// newPrepayID returns a prepay id, like wx201410272009395522657a690389285100.
func newPrepayID(now time.Time) string {
	return "wx" + now.In(beijing).Format("20060102150405") + randomString("0123456789abcdef", 20)
}

// openID returns the sandbox payer's openid under an app id: stable, so a
// test sees the same payer every time.
func openID(appid string) string {
	sum := sha256.Sum256([]byte("wxpay-sandbox-payer:" + appid))
	const set = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_-"
	b := []byte("o")
	for i := 0; len(b) < 28; i++ {
		b = append(b, set[int(sum[i%len(sum)])%len(set)])
	}
	return string(b)
}
