package sandbox

import (
	"bytes"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"sort"
	"time"

	"rsc.io/qr"
)

//go:embed dashboard.html
var dashboardHTML string

var dashboardTmpl = template.Must(template.New("dashboard").Funcs(template.FuncMap{
	"json": func(v any) string { b, _ := json.Marshal(v); return string(b) },
	"time": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(beijing).Format("2006-01-02 15:04:05")
	},
	"yuan": formatYuan,
	"dict": func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			if k, ok := kv[i].(string); ok && k != "" {
				m[k] = kv[i+1]
			}
		}
		return m
	},
	"list": func(v ...string) []string { return v },
}).Parse(dashboardHTML))

func formatYuan(fen int64) string {
	sign := ""
	if fen < 0 {
		sign, fen = "-", -fen
	}
	return fmt.Sprintf("%s¥%d.%02d", sign, fen/100, fen%100)
}

// dashMerchant is a merchant on the dashboard: identities and public
// material only, never a private key or the APIv3 key.
type dashMerchant struct {
	MchID, AppID, Serial string
	Partner              bool
	Subs                 []SubMerchant
}

type dashOrder struct {
	OutTradeNo, MchID, SubMchID, TradeType, State, Description, TransactionID string
	Total                                                                     int64
	CodeURL                                                                   string
	QR                                                                        template.URL
	Created                                                                   time.Time
	Payable, Refundable                                                       bool
}

type dashRefund struct {
	OutRefundNo, OutTradeNo, RefundID string
	Status                            RefundStatus
	Amount                            int64
	Created                           time.Time
}

type dashTransfer struct {
	OutBillNo, Owner, State, FailReason string
	Amount                              int64
	Created                             time.Time
}

type dashShare struct {
	OutOrderNo, OutTradeNo, State string
	Amount                        int64
	Receivers                     int
}

type dashData struct {
	Transfers    []dashTransfer
	Shares       []dashShare
	Now          time.Time
	ClockOffsets []time.Duration
	Mode         string
	PublicKeyID  string
	Certificates []certificateInfo
	Merchants    []dashMerchant
	Orders       []dashOrder
	Refunds      []dashRefund
	Deliveries   []Delivery
	Faults       []faultWire
	Operations   int
	Stateful     int
}

// maxDashRows bounds the orders, refunds and notifications listed.
const maxDashRows = 50

func (s *Server) dashData() dashData {
	d := dashData{Now: s.now(), Mode: s.KeyMode().String(), Certificates: s.certificateStatus(), Operations: len(s.spec.ops), Stateful: len(s.handlers)}
	d.PublicKeyID, _ = s.PublicKey()
	for _, f := range s.Faults() {
		d.Faults = append(d.Faults, toWire(f))
		if f.Kind == FaultClockOffset && f.Target == "" {
			d.ClockOffsets = append(d.ClockOffsets, f.ClockOffset)
		}
	}
	for _, list := range [][]*merchantState{s.direct, s.partners} {
		for _, m := range list {
			d.Merchants = append(d.Merchants, dashMerchant{MchID: m.MchID, AppID: m.AppID, Serial: m.serial, Partner: m.partner, Subs: m.SubMerchants})
		}
	}
	s.mu.Lock()
	for _, o := range s.st.orders {
		do := dashOrder{OutTradeNo: o.outTradeNo, MchID: o.mchid, SubMchID: o.subMchID, TradeType: o.tradeType, State: o.state,
			Description: o.description, TransactionID: o.transactionID, Total: o.total, Created: o.createTime,
			Payable: o.state == StateNotPay || o.state == StateUserPaying}
		do.Refundable = o.paid() && o.refunded < o.total
		if u, ok := o.answer["code_url"].(string); ok {
			do.CodeURL = u
		}
		d.Orders = append(d.Orders, do)
	}
	for _, b := range s.st.tb.bills {
		d.Transfers = append(d.Transfers, dashTransfer{OutBillNo: b.outBillNo, Owner: b.owner, State: b.state, FailReason: b.failReason, Amount: b.amount, Created: b.created})
	}
	for _, p := range s.st.ps.orders {
		ds := dashShare{OutOrderNo: p.outOrderNo, OutTradeNo: p.order.outTradeNo, State: p.state, Receivers: len(p.receivers)}
		for _, r := range p.receivers {
			ds.Amount += r.amount
		}
		d.Shares = append(d.Shares, ds)
	}
	for _, r := range s.st.refunds {
		dr := dashRefund{OutRefundNo: r.outRefundNo, RefundID: r.refundID, Status: r.status, Amount: r.amount, Created: r.createTime}
		if r.order != nil {
			dr.OutTradeNo = r.order.outTradeNo
		}
		d.Refunds = append(d.Refunds, dr)
	}
	s.mu.Unlock()
	sort.Slice(d.Orders, func(i, j int) bool { return d.Orders[i].Created.After(d.Orders[j].Created) })
	sort.Slice(d.Refunds, func(i, j int) bool { return d.Refunds[i].Created.After(d.Refunds[j].Created) })
	sort.Slice(d.Transfers, func(i, j int) bool { return d.Transfers[i].Created.After(d.Transfers[j].Created) })
	sort.Slice(d.Shares, func(i, j int) bool { return d.Shares[i].OutOrderNo > d.Shares[j].OutOrderNo })
	d.Transfers = d.Transfers[:min(len(d.Transfers), maxDashRows)]
	d.Shares = d.Shares[:min(len(d.Shares), maxDashRows)]
	d.Orders = d.Orders[:min(len(d.Orders), maxDashRows)]
	d.Refunds = d.Refunds[:min(len(d.Refunds), maxDashRows)]
	for i := range d.Orders {
		if d.Orders[i].CodeURL != "" && d.Orders[i].Payable {
			d.Orders[i].QR = qrDataURL(d.Orders[i].CodeURL)
		}
	}
	dl := s.Deliveries()
	for i, j := 0, len(dl)-1; i < j; i, j = i+1, j-1 {
		dl[i], dl[j] = dl[j], dl[i] // newest first
	}
	d.Deliveries = dl[:min(len(dl), maxDashRows)]
	return d
}

// qrDataURL renders text as a QR code PNG data URL.
func qrDataURL(text string) template.URL {
	c, err := qr.Encode(text, qr.M)
	if err != nil {
		return ""
	}
	c.Scale = 3
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(c.PNG()))
}

// serveDashboard serves the dashboard page at /, or with ?live=1 only its
// changing part (which the page's script fetches every second).
func (s *Server) serveDashboard(w http.ResponseWriter, r *http.Request) {
	name := "page"
	if r.URL.Query().Get("live") != "" {
		name = "live"
	}
	var b bytes.Buffer
	if err := dashboardTmpl.ExecuteTemplate(&b, name, s.dashData()); err != nil {
		s.log.Error("sandbox: rendering the dashboard", "err", err)
		http.Error(w, "dashboard error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(b.Bytes())
}
