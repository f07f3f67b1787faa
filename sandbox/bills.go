package sandbox

import (
	"bytes"
	"compress/gzip"
	"crypto/rsa"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/gowxpay/wxpay/auth"
)

// BillTokenLifetime is how long a download_url works: five minutes.
const BillTokenLifetime = 5 * time.Minute

// billFile is a bill waiting to be downloaded.
type billFile struct {
	mchid       string // who may download it
	data        []byte // as served: CSV, gzip, or encrypted
	contentType string
	expires     time.Time
}

const bom = "\uFEFF"

// csvLines writes WeChat's bill format: a header line, rows whose fields
// each start with a backtick, a totals header and the totals; UTF-8 with a
// BOM and CRLF line ends.
func csvLines(header []string, rows [][]string, totalsHeader, totals []string) []byte {
	var b bytes.Buffer
	b.WriteString(bom)
	b.WriteString(strings.Join(header, ","))
	b.WriteString("\r\n")
	for _, r := range rows {
		b.WriteString(tickJoin(r))
		b.WriteString("\r\n")
	}
	b.WriteString(strings.Join(totalsHeader, ","))
	b.WriteString("\r\n")
	b.WriteString(tickJoin(totals))
	b.WriteString("\r\n")
	return b.Bytes()
}

func tickJoin(fields []string) string {
	var b strings.Builder
	for i, f := range fields {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('`')
		// Commas and line breaks would break the row: WeChat's files never
		// carry them inside fields.
		b.WriteString(strings.NewReplacer(",", "，", "\r", " ", "\n", " ").Replace(f))
	}
	return b.String()
}

// yuan formats an amount in 分 as yuan with two decimals.
func yuan(fen int64) string {
	sign := ""
	if fen < 0 {
		sign, fen = "-", -fen
	}
	return fmt.Sprintf("%s%d.%02d", sign, fen/100, fen%100)
}

// fee returns the 0.6% fee of an amount in 1/100000 yuan, formatted with
// five decimals (手续费).
func feeUnits(fen int64) int64 { return fen * 6 }

func fee5(units int64) string {
	sign := ""
	if units < 0 {
		sign, units = "-", -units
	}
	return fmt.Sprintf("%s%d.%05d", sign, units/100000, units%100000)
}

func billTime(t time.Time) string { return t.In(beijing).Format("2006-01-02 15:04:05") }

func sameDay(t time.Time, day string) bool {
	return !t.IsZero() && t.In(beijing).Format(dateLayout) == day
}

var (
	tradeBillHeader = []string{"交易时间", "公众账号ID", "商户号", "特约商户号", "设备号", "微信订单号", "商户订单号", "用户标识", "交易类型", "交易状态", "付款银行", "货币种类", "应结订单金额", "代金券金额", "微信退款单号", "商户退款单号", "退款金额", "充值券退款金额", "退款类型", "退款状态", "商品名称", "商户数据包", "手续费", "费率", "订单金额", "申请退款金额", "费率备注"}
	tradeTotals     = []string{"总交易单数", "应结订单总金额", "退款总金额", "充值券退款总金额", "手续费总金额", "订单总金额", "申请退款总金额"}
	refundOnlyCols  = map[string]bool{"微信退款单号": true, "商户退款单号": true, "退款金额": true, "充值券退款金额": true, "退款类型": true, "退款状态": true, "申请退款金额": true}
	fundBillHeader  = []string{"记账时间", "微信支付业务单号", "资金流水单号", "业务名称", "业务类型", "收支类型", "收支金额(元)", "账户结余(元)", "资金变更提交申请人", "备注", "业务凭证号"}
	fundTotals      = []string{"资金流水总笔数", "收入笔数", "收入金额", "支出笔数", "支出金额"}
)

// billScope selects the orders a bill covers: the caller's, or one
// sub-merchant's. Callers hold s.mu.
func (c *call) billScope() func(o *order) bool {
	m := c.merchant
	sub := c.r.URL.Query().Get("sub_mchid")
	switch {
	case sub != "":
		return func(o *order) bool { return o.owner == sub }
	case m.partner:
		return func(o *order) bool { _, ok := m.subs[o.owner]; return ok }
	}
	return func(o *order) bool { return o.owner == m.MchID }
}

func payerOf(o *order) string {
	switch {
	case o.openid != "":
		return o.openid
	case o.subOpenID != "":
		return o.subOpenID
	}
	return o.spOpenID
}

// tradeBill builds the trade bill (交易账单) of a day. Callers hold s.mu.
func (s *Server) tradeBill(in func(*order) bool, day, billType string) []byte {
	type row struct {
		t    time.Time
		cols map[string]string
	}
	var rows []row
	var settle, refunds, feeSum, orderSum, refundApplied int64
	withSuccess := !strings.HasPrefix(billType, "REF")
	withRefunds := billType == "" || strings.HasPrefix(billType, "ALL") || strings.HasPrefix(billType, "REF") || billType == "RECHARGE_REFUND"
	base := func(o *order, t time.Time) map[string]string {
		sub := "0"
		if o.partner || o.subMchID != "" {
			sub = o.subMchID
		}
		return map[string]string{
			"交易时间": billTime(t), "公众账号ID": o.appid, "商户号": o.mchid, "特约商户号": sub, "设备号": o.deviceID,
			"微信订单号": o.transactionID, "商户订单号": o.outTradeNo, "用户标识": payerOf(o), "交易类型": o.tradeType,
			"付款银行": "OTHERS", "货币种类": o.currency, "代金券金额": "0.00", "充值券退款金额": "0.00",
			"商品名称": o.description, "商户数据包": o.attach, "费率": "0.60%", "费率备注": "",
		}
	}
	if withSuccess {
		for _, o := range s.st.orders {
			if !in(o) || !sameDay(o.successTime, day) {
				continue
			}
			r := base(o, o.successTime)
			r["交易状态"], r["应结订单金额"], r["订单金额"] = "SUCCESS", yuan(o.total), yuan(o.total)
			r["微信退款单号"], r["商户退款单号"], r["退款金额"], r["申请退款金额"] = "0", "0", "0.00", "0.00"
			r["手续费"] = fee5(feeUnits(o.total))
			settle += o.total
			orderSum += o.total
			feeSum += feeUnits(o.total)
			rows = append(rows, row{o.successTime, r})
		}
	}
	if withRefunds {
		for _, rf := range s.st.refunds {
			if rf.status != RefundSuccess || !in(rf.order) || !sameDay(rf.successTime, day) {
				continue
			}
			r := base(rf.order, rf.successTime)
			r["交易状态"], r["应结订单金额"], r["订单金额"] = "REFUND", "0.00", "0.00"
			r["微信退款单号"], r["商户退款单号"], r["退款金额"], r["申请退款金额"] = rf.refundID, rf.outRefundNo, yuan(rf.amount), yuan(rf.amount)
			r["退款类型"], r["退款状态"] = "ORIGINAL", "SUCCESS"
			r["手续费"] = fee5(-feeUnits(rf.amount))
			r["退款申请时间"], r["退款成功时间"] = billTime(rf.createTime), billTime(rf.successTime)
			refunds += rf.amount
			refundApplied += rf.amount
			feeSum -= feeUnits(rf.amount)
			rows = append(rows, row{rf.successTime, r})
		}
	}
	sort.Slice(rows, func(i, j int) bool {
		if !rows[i].t.Equal(rows[j].t) {
			return rows[i].t.Before(rows[j].t)
		}
		return rows[i].cols["微信订单号"]+rows[i].cols["微信退款单号"] < rows[j].cols["微信订单号"]+rows[j].cols["微信退款单号"]
	})
	header := tradeBillHeader
	switch {
	case strings.HasPrefix(billType, "SUC"):
		header = nil
		for _, h := range tradeBillHeader {
			if !refundOnlyCols[h] {
				header = append(header, h)
			}
		}
	case strings.HasPrefix(billType, "REF") || billType == "RECHARGE_REFUND":
		header = append(append([]string(nil), tradeBillHeader...), "退款申请时间", "退款成功时间")
	}
	out := make([][]string, len(rows))
	for i, r := range rows {
		for _, h := range header {
			out[i] = append(out[i], r.cols[h])
		}
	}
	feeTotal := (feeSum + 500) / 1000 // to 分, rounded
	if feeSum < 0 {
		feeTotal = (feeSum - 500) / 1000
	}
	totals := []string{fmt.Sprint(len(rows)), yuan(settle), yuan(refunds), "0.00", yuan(feeTotal), yuan(orderSum), yuan(refundApplied)}
	return csvLines(header, out, tradeTotals, totals)
}

// fundFlowBill builds the fund-flow bill (资金账单) of a day: payments in,
// refunds out, for the BASIC account (the others are empty in the sandbox).
// Callers hold s.mu.
func (s *Server) fundFlowBill(in func(*order) bool, day, account string) []byte {
	type entry struct {
		t                  time.Time
		id, kind, ref, who string
		amount             int64 // negative: expense
	}
	var es []entry
	if account == "" || account == "BASIC" {
		for _, o := range s.st.orders {
			if in(o) && sameDay(o.successTime, day) {
				es = append(es, entry{o.successTime, o.transactionID, "交易", o.outTradeNo, "system", o.total})
			}
		}
		for _, rf := range s.st.refunds {
			if rf.status == RefundSuccess && in(rf.order) && sameDay(rf.successTime, day) {
				es = append(es, entry{rf.successTime, rf.refundID, "退款", rf.outRefundNo, rf.order.mchid, -rf.amount})
			}
		}
	}
	sort.Slice(es, func(i, j int) bool {
		if !es[i].t.Equal(es[j].t) {
			return es[i].t.Before(es[j].t)
		}
		return es[i].id < es[j].id
	})
	var balance, income, expense int64
	var nIn, nOut int
	rows := make([][]string, 0, len(es))
	for _, e := range es {
		balance += e.amount
		dir, amt := "收入", e.amount
		if e.amount < 0 {
			dir, amt = "支出", -e.amount
			expense += amt
			nOut++
		} else {
			income += amt
			nIn++
		}
		rows = append(rows, []string{billTime(e.t), e.id, flowID(e.id), e.kind, e.kind, dir, yuan(amt), yuan(balance), e.who, "", e.ref})
	}
	totals := []string{fmt.Sprint(len(rows)), fmt.Sprint(nIn), yuan(income), fmt.Sprint(nOut), yuan(expense)}
	return csvLines(fundBillHeader, rows, fundTotals, totals)
}

// checkBillDate parses bill_date: not in the future, not older than three
// months.
func (c *call) checkBillDate() (string, *answer) {
	day := c.r.URL.Query().Get("bill_date")
	d, err := time.ParseInLocation(dateLayout, day, beijing)
	if err != nil {
		return "", c.failDetail(http.StatusBadRequest, "PARAM_ERROR", "bill_date格式错误，应为YYYY-MM-DD",
			errorDetail{Field: "bill_date", Value: day, Location: "query", Issue: "not a date"})
	}
	today := c.s.now().In(beijing)
	todayDate := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, beijing)
	if d.After(todayDate) {
		return "", c.fail(http.StatusBadRequest, "INVALID_REQUEST", "账单日期不能晚于今天")
	}
	if d.Before(todayDate.AddDate(0, -3, 0)) {
		return "", c.fail(http.StatusBadRequest, "INVALID_REQUEST", "只能申请三个月以内的账单")
	}
	return day, nil
}

// storeBill keeps a bill for download and returns its download_url.
// Callers hold s.mu.
func (s *Server) storeBill(c *call, data []byte, contentType string, gz bool) string {
	token := randomString(alnum, 40)
	s.st.bills[token] = &billFile{mchid: c.merchant.MchID, data: data, contentType: contentType, expires: s.now().Add(BillTokenLifetime)}
	u := c.baseURL() + "/v3/billdownload/file?token=" + url.QueryEscape(token)
	if gz {
		u += "&tartype=gzip"
	}
	// Forget expired bills now and then.
	for t, b := range s.st.bills {
		if s.now().After(b.expires.Add(time.Hour)) {
			delete(s.st.bills, t)
		}
	}
	return u
}

func gzipped(data []byte) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	_, _ = zw.Write(data)
	_ = zw.Close()
	return b.Bytes()
}

func sha1Hex(b []byte) string {
	sum := sha1.Sum(b)
	return hex.EncodeToString(sum[:])
}

// applyBill answers ApplyTradeBill and ApplyFundFlowBill: the SHA-1 of the
// uncompressed bill and a download_url to this server, valid five minutes.
func (s *Server) applyBill(c *call) *answer {
	day, fail := c.checkBillDate()
	if fail != nil {
		return fail
	}
	q := c.r.URL.Query()
	gz := q.Get("tar_type") == "GZIP"
	s.mu.Lock()
	defer s.mu.Unlock()
	var csv []byte
	if c.op.ID == "ApplyTradeBill" {
		csv = s.tradeBill(c.billScope(), day, q.Get("bill_type"))
	} else {
		csv = s.fundFlowBill(c.billScope(), day, q.Get("account_type"))
	}
	data, ct := csv, "text/plain"
	if gz {
		data, ct = gzipped(csv), "application/x-gzip"
	}
	return c.ok(map[string]any{"hash_type": "SHA1", "hash_value": sha1Hex(csv), "download_url": s.storeBill(c, data, ct, gz)})
}

// applySubMerchantBill answers ApplySubMerchantFundFlowBill: the fund-flow
// bill of one sub-merchant, encrypted with a one-off AES-256-GCM key that
// is itself encrypted (RSA-OAEP) to the service provider's certificate.
func (s *Server) applySubMerchantBill(c *call) *answer {
	day, fail := c.checkBillDate()
	if fail != nil {
		return fail
	}
	q := c.r.URL.Query()
	alg := q.Get("algorithm")
	smBill := alg == "SM4_GCM" && s.sm != nil && c.merchant.sm != nil
	if alg != "" && alg != auth.AlgorithmAESGCM && !smBill {
		return c.failDetail(http.StatusBadRequest, "INVALID_REQUEST", "沙箱仅支持AEAD_AES_256_GCM（国密沙箱另支持SM4_GCM）",
			errorDetail{Field: "algorithm", Value: alg, Location: "query", Issue: "the sandbox encrypts bills with AEAD_AES_256_GCM, and SM4_GCM when started WithSuite"})
	}
	gz := q.Get("tar_type") == "GZIP"
	s.mu.Lock()
	defer s.mu.Unlock()
	csv := s.fundFlowBill(c.billScope(), day, q.Get("account_type"))
	plain := csv
	if gz {
		plain = gzipped(csv)
	}
	if smBill {
		raw, encKey, nonce, err := s.smEncryptBill(c.merchant, plain)
		if err != nil {
			return c.fail(http.StatusInternalServerError, "SYSTEM_ERROR", "系统错误")
		}
		u := s.storeBill(c, raw, "application/octet-stream", false)
		return c.ok(map[string]any{
			"download_bill_count": 1,
			"download_bill_list": []any{map[string]any{
				"bill_sequence": 1, "hash_type": "SHA1", "hash_value": sha1Hex(csv),
				"download_url": u, "encrypt_key": encKey, "nonce": nonce,
			}},
		})
	}
	key, nonce := randomString(alnum, 32), randomString(alnum, 12)
	ct, err := auth.EncryptAESGCM([]byte(key), nonce, "", plain)
	if err != nil {
		return c.fail(http.StatusInternalServerError, "SYSTEM_ERROR", "系统错误")
	}
	raw, _ := base64.StdEncoding.DecodeString(ct)
	encKey, err := auth.EncryptOAEP(c.merchant.Certificate.PublicKey.(*rsa.PublicKey), key)
	if err != nil {
		return c.fail(http.StatusInternalServerError, "SYSTEM_ERROR", "系统错误")
	}
	u := s.storeBill(c, raw, "application/octet-stream", false)
	return c.ok(map[string]any{
		"download_bill_count": 1,
		"download_bill_list": []any{map[string]any{
			"bill_sequence": 1, "hash_type": "SHA1", "hash_value": sha1Hex(csv),
			"download_url": u, "encrypt_key": encKey, "nonce": nonce,
		}},
	})
}

// downloadBill answers DownloadBill: the stored bill, unsigned.
func (s *Server) downloadBill(c *call) *answer {
	token := c.r.URL.Query().Get("token")
	s.mu.Lock()
	b := s.st.bills[token]
	s.mu.Unlock()
	switch {
	case b == nil || b.mchid != c.merchant.MchID:
		return c.failDetail(http.StatusBadRequest, "INVALID_REQUEST", "下载链接无效，请重新申请账单",
			errorDetail{Field: "token", Value: token, Location: "query", Issue: "unknown token"})
	case !s.now().Before(b.expires):
		return c.failDetail(http.StatusBadRequest, "INVALID_REQUEST", "下载链接已过期，请重新申请账单",
			errorDetail{Field: "token", Value: token, Location: "query", Issue: "the download_url expired (valid five minutes)"})
	}
	return &answer{status: http.StatusOK, body: b.data, contentType: b.contentType, signed: !c.op.Unsigned}
}

// flowID derives a stable 20-digit fund-flow id from a business id, so the
// same day's bill is the same file every time.
func flowID(id string) string {
	sum := sha1.Sum([]byte("flow:" + id))
	b := make([]byte, 20)
	for i := range b {
		b[i] = digits[int(sum[i])%10]
	}
	return string(b)
}
