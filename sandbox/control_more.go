package sandbox

import (
	"errors"
	"net/http"
	"time"
)

// controlMore adds the control endpoints beyond control.go's: certificate
// switching and the rotation schedule.
func (s *Server) controlMore(mux *http.ServeMux) {
	mux.HandleFunc("POST /sandbox/certificates/switch", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"serial_no": s.SwitchCertificate()})
	})
	mux.HandleFunc("GET /sandbox/certificates", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.certificateStatus())
	})
	mux.HandleFunc("POST /sandbox/profitsharing/notify-url", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			MchID string `json:"mchid"`
			URL   string `json:"url"`
		}
		if !readJSON(w, r, &in) {
			return
		}
		if err := s.SetProfitSharingNotifyURL(in.MchID, in.URL); err != nil {
			ctlError(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /sandbox/profitsharing/settle", func(w http.ResponseWriter, r *http.Request) {
		s.SettleProfitSharing()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /sandbox/ecommerce/settle", func(w http.ResponseWriter, r *http.Request) {
		s.SettleEcommerce()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /sandbox/ecommerce/balance", func(w http.ResponseWriter, r *http.Request) {
		sub := r.URL.Query().Get("sub_mchid")
		if sub == "" {
			ctlError(w, errors.New("sandbox: the sub_mchid query parameter is required"))
			return
		}
		available, pending := s.EcommerceBalance(sub)
		writeJSON(w, http.StatusOK, map[string]int64{"available_amount": available, "pending_amount": pending})
	})
	mux.HandleFunc("POST /sandbox/transfers/confirm", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			MchID      string `json:"mchid"`
			OutBillNo  string `json:"out_bill_no"`
			FailReason string `json:"fail_reason"`
		}
		if !readJSON(w, r, &in) {
			return
		}
		if err := s.ConfirmTransfer(in.MchID, in.OutBillNo, in.FailReason); err != nil {
			ctlError(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /sandbox/complaints", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			MchID      string `json:"mchid"`
			OutTradeNo string `json:"out_trade_no"`
			Detail     string `json:"detail"`
		}
		if !readJSON(w, r, &in) {
			return
		}
		id, err := s.FileComplaint(in.MchID, in.OutTradeNo, in.Detail)
		if err != nil {
			ctlError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"complaint_id": id})
	})
	mux.HandleFunc("POST /sandbox/payscore/confirm", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			MchID      string `json:"mchid"`
			OutOrderNo string `json:"out_order_no"`
		}
		if !readJSON(w, r, &in) {
			return
		}
		if err := s.ConfirmPayscore(in.MchID, in.OutOrderNo); err != nil {
			ctlError(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /sandbox/refunds", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			MchID      string `json:"mchid"`
			OutTradeNo string `json:"out_trade_no"`
			Amount     int64  `json:"amount"`
		}
		if !readJSON(w, r, &in) {
			return
		}
		orn, err := s.RefundFromPlatform(in.MchID, in.OutTradeNo, in.Amount)
		if err != nil {
			ctlError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"out_refund_no": orn})
	})
}

// certificateInfo describes one platform certificate for the control API
// and the dashboard.
type certificateInfo struct {
	Serial    string    `json:"serial_no"`
	NotBefore time.Time `json:"not_before"`
	NotAfter  time.Time `json:"not_after"`
	Listed    bool      `json:"listed"`
	Signing   bool      `json:"signing"`
	SignsFrom time.Time `json:"signs_from,omitzero"`
}

func (s *Server) certificateStatus() []certificateInfo {
	now := s.now()
	s.ring.mu.RLock()
	defer s.ring.mu.RUnlock()
	cur := s.ring.current(now)
	out := make([]certificateInfo, 0, len(s.ring.certs))
	for _, c := range s.ring.certs {
		ci := certificateInfo{Serial: c.serial, NotBefore: c.cert.NotBefore, NotAfter: c.cert.NotAfter,
			Listed: now.Before(c.cert.NotAfter), Signing: c == cur && s.ring.mode != PublicKeyMode}
		if c.signFrom.After(now) {
			ci.SignsFrom = c.signFrom
		}
		out = append(out, ci)
	}
	return out
}
