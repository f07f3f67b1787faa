package wxpay_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/gowxpay/wxpay"
)

func TestParseBill(t *testing.T) {
	t.Parallel()
	f, err := os.Open("testdata/tradebill.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := wxpay.ParseBill(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Columns) != 27 || b.Columns[0] != "交易时间" {
		t.Fatalf("columns: %d %q (the byte-order mark must not stick to the first name)", len(b.Columns), b.Columns[0])
	}
	if len(b.Records) != 2 {
		t.Fatalf("records: %d", len(b.Records))
	}
	for name, want := range map[string]string{
		"商户订单号":  "ORDER-1",
		"交易状态":   "SUCCESS",
		"商品名称":   "T-shirt, red", // a comma inside a value
		"商户数据包":  "",             // an empty value
		"费率":     "0.60%",
		"应结订单金额": "1.00",
	} {
		if got := b.Value(0, name); got != want {
			t.Errorf("record 0 %s = %q, want %q", name, got, want)
		}
	}
	if got := b.Value(1, "退款金额"); got != "0.40" {
		t.Errorf("refund amount %q", got)
	}
	if got := b.Value(5, "商户订单号"); got != "" {
		t.Errorf("out-of-range record gave %q", got)
	}
	if got := b.Value(0, "no such column"); got != "" {
		t.Errorf("unknown column gave %q", got)
	}
	if b.Total("总交易单数") != "2" || b.Total("手续费总金额") != "0.00360" {
		t.Errorf("totals %v %v", b.TotalColumns, b.Totals)
	}
}

func TestParseBillFundFlowParentheses(t *testing.T) {
	t.Parallel()
	bill := "\ufeff记账时间,微信支付业务单号,资金流水单号,业务名称,业务类型,收支类型,收支金额（元）,账户结余（元）,资金变更提交申请人,备注,业务凭证号\n" +
		"`2026-11-23 10:01:46,`4200000263202611230000000001,`1,`交易,`交易,`收入,`1.00,`101.00,`system,`,`ORDER-1\n" +
		"资金流水总笔数,收入笔数,收入金额,支出笔数,支出金额\n`1,`1,`1.00,`0,`0.00\n"
	b, err := wxpay.ParseBill(strings.NewReader(bill))
	if err != nil {
		t.Fatal(err)
	}
	// Asked with ASCII parentheses, found with full-width ones (LF line ends).
	if got := b.Value(0, "收支金额(元)"); got != "1.00" {
		t.Errorf("收支金额(元) = %q", got)
	}
	if got := b.Total("收入金额"); got != "1.00" {
		t.Errorf("收入金额 = %q", got)
	}
}

func TestParseBillRejectsMalformed(t *testing.T) {
	t.Parallel()
	for name, in := range map[string]string{
		"empty":           "",
		"header only":     "a,b\n",
		"no totals":       "a,b\n`1,`2\n`3,`4\n",
		"short record":    "a,b\n`1\nx,y\n`1,`2\n",
		"no backtick":     "a,b\n1,2\nx,y\n`1,`2\n",
		"totals mismatch": "a,b\n`1,`2\nx,y\n`1\n",
	} {
		if _, err := wxpay.ParseBill(strings.NewReader(in)); !errors.Is(err, wxpay.ErrBillFormat) {
			t.Errorf("%s: err = %v, want ErrBillFormat", name, err)
		}
	}
}

func FuzzParseBill(f *testing.F) {
	if b, err := os.ReadFile("testdata/tradebill.csv"); err == nil {
		f.Add(string(b))
	}
	f.Add("a,b\n`1,`2\nx\n`1\n")
	f.Fuzz(func(t *testing.T, s string) {
		b, err := wxpay.ParseBill(strings.NewReader(s))
		if err != nil {
			return
		}
		for _, r := range b.Records {
			if len(r) != len(b.Columns) {
				t.Fatalf("record with %d values for %d columns", len(r), len(b.Columns))
			}
		}
		if len(b.Totals) != len(b.TotalColumns) {
			t.Fatal("totals mismatch accepted")
		}
	})
}
