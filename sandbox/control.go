package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// ControlPrefix starts the paths of the control API. No WeChat Pay path
// starts with it. The control API needs no signature and hands out secrets
// (GET /sandbox/credentials): expose a sandbox on loopback only.
//
//	GET    /sandbox/credentials                     merchants, partners, platform keys (PEM, APIv3 keys)
//	POST   /sandbox/pay                             {"mchid":"…","out_trade_no":"…"} → {"transaction_id":"…"}
//	POST   /sandbox/refunds                         {"out_trade_no":"…","amount":1} a refund from the merchant platform → {"out_refund_no":"…"}
//	POST   /sandbox/refunds/outcome                 {"out_refund_no":"…","status":"SUCCESS|ABNORMAL|CLOSED"}
//	POST   /sandbox/profitsharing/notify-url        {"mchid":"…","url":"…"} where PROFITSHARING notifications go
//	POST   /sandbox/profitsharing/settle            finish every PROCESSING profit-sharing order and return now
//	POST   /sandbox/ecommerce/settle                audit every CHECKING e-commerce application, complete every withdrawal now
//	GET    /sandbox/ecommerce/balance?sub_mchid=…   → {"available_amount":…,"pending_amount":…} of a second-level merchant
//	POST   /sandbox/transfers/confirm               {"out_bill_no":"…","fail_reason":""} the payee confirms a transfer bill
//	POST   /sandbox/complaints                      {"out_trade_no":"…","detail":"…"} a payer complains → {"complaint_id":"…"}
//	POST   /sandbox/payscore/confirm                {"out_order_no":"…"} the user confirms a payscore order
//	GET    /sandbox/faults                          active faults
//	POST   /sandbox/faults                          {"target":"NativePrepay","kind":"error","status":500,"latency":"200ms","clock_offset":"-10m","count":1} → {"id":"…"}
//	DELETE /sandbox/faults                          clear all faults
//	DELETE /sandbox/faults/{id}                     clear one fault
//	POST   /sandbox/certificates/rotate             → {"serial_no":"…","signs_from":"…"} listed now, signing later
//	POST   /sandbox/certificates/switch             the newest listed certificate signs now → {"serial_no":"…"}
//	POST   /sandbox/certificates/{serial}/expire    drop a platform certificate now
//	GET    /sandbox/mode, POST /sandbox/mode        {"mode":"certificate|public_key|transition"}
//	GET    /sandbox/notifications                   deliveries and their attempts
//	POST   /sandbox/notifications/{id}/redeliver    one more attempt, now → the attempt
const ControlPrefix = "/sandbox/"

func (s *Server) controlMux() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /sandbox/{$}", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"service": "wxpay sandbox", "spec_operations": len(s.spec.ops), "key_mode": s.KeyMode().String()})
	})
	mux.HandleFunc("GET /sandbox/credentials", s.ctlCredentials)
	mux.HandleFunc("POST /sandbox/pay", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			MchID      string `json:"mchid"`
			OutTradeNo string `json:"out_trade_no"`
		}
		if !readJSON(w, r, &in) {
			return
		}
		id, err := s.Pay(in.MchID, in.OutTradeNo)
		if err != nil {
			ctlError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"transaction_id": id})
	})
	mux.HandleFunc("POST /sandbox/refunds/outcome", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			OutRefundNo string       `json:"out_refund_no"`
			Status      RefundStatus `json:"status"`
		}
		if !readJSON(w, r, &in) {
			return
		}
		if err := s.SetRefundOutcome(in.OutRefundNo, in.Status); err != nil {
			ctlError(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /sandbox/faults", func(w http.ResponseWriter, r *http.Request) {
		fs := s.Faults()
		out := make([]faultWire, len(fs))
		for i, f := range fs {
			out[i] = toWire(f)
		}
		writeJSON(w, http.StatusOK, out)
	})
	mux.HandleFunc("POST /sandbox/faults", func(w http.ResponseWriter, r *http.Request) {
		var in faultWire
		if !readJSON(w, r, &in) {
			return
		}
		f, err := in.fault()
		if err != nil {
			ctlError(w, err)
			return
		}
		id, err := s.Inject(f)
		if err != nil {
			ctlError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"id": id})
	})
	mux.HandleFunc("DELETE /sandbox/faults", func(w http.ResponseWriter, r *http.Request) {
		s.ClearFaults()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("DELETE /sandbox/faults/{id}", func(w http.ResponseWriter, r *http.Request) {
		if !s.ClearFault(r.PathValue("id")) {
			ctlError(w, fmt.Errorf("%w: no fault %s", ErrNotFound, r.PathValue("id")))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /sandbox/certificates/rotate", func(w http.ResponseWriter, r *http.Request) {
		serial, err := s.RotateCertificate()
		if err != nil {
			ctlError(w, err)
			return
		}
		_, from := s.PendingCertificate()
		writeJSON(w, http.StatusOK, map[string]any{"serial_no": serial, "signs_from": from})
	})
	mux.HandleFunc("POST /sandbox/certificates/{serial}/expire", func(w http.ResponseWriter, r *http.Request) {
		if err := s.ExpireCertificate(r.PathValue("serial")); err != nil {
			ctlError(w, fmt.Errorf("%w: %v", ErrNotFound, err))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /sandbox/mode", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"mode": s.KeyMode().String()})
	})
	mux.HandleFunc("POST /sandbox/mode", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Mode string `json:"mode"`
		}
		if !readJSON(w, r, &in) {
			return
		}
		m, err := ParseKeyMode(in.Mode)
		if err == nil {
			err = s.SetKeyMode(m)
		}
		if err != nil {
			ctlError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"mode": m.String()})
	})
	mux.HandleFunc("GET /sandbox/notifications", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Deliveries())
	})
	mux.HandleFunc("POST /sandbox/notifications/{id}/redeliver", func(w http.ResponseWriter, r *http.Request) {
		at, err := s.Redeliver(r.PathValue("id"))
		if err != nil {
			ctlError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, at)
	})
	s.controlMore(mux)
	return mux
}

// faultWire is a Fault in the control API, with durations as strings
// ("250ms", "-10m").
type faultWire struct {
	ID          string    `json:"id,omitempty"`
	Target      string    `json:"target,omitempty"`
	Kind        FaultKind `json:"kind"`
	Latency     string    `json:"latency,omitempty"`
	Status      int       `json:"status,omitempty"`
	Code        string    `json:"code,omitempty"`
	Message     string    `json:"message,omitempty"`
	ClockOffset string    `json:"clock_offset,omitempty"`
	Count       int       `json:"count,omitempty"`
}

func (w faultWire) fault() (Fault, error) {
	f := Fault{Target: w.Target, Kind: w.Kind, Status: w.Status, Code: w.Code, Message: w.Message, Count: w.Count}
	var err error
	if w.Latency != "" {
		if f.Latency, err = time.ParseDuration(w.Latency); err != nil {
			return f, fmt.Errorf("sandbox: latency: %w", err)
		}
	}
	if w.ClockOffset != "" {
		if f.ClockOffset, err = time.ParseDuration(w.ClockOffset); err != nil {
			return f, fmt.Errorf("sandbox: clock_offset: %w", err)
		}
	}
	return f, nil
}

func toWire(f Fault) faultWire {
	w := faultWire{ID: f.ID, Target: f.Target, Kind: f.Kind, Status: f.Status, Code: f.Code, Message: f.Message, Count: f.Count}
	if f.Latency != 0 {
		w.Latency = f.Latency.String()
	}
	if f.ClockOffset != 0 {
		w.ClockOffset = f.ClockOffset.String()
	}
	return w
}

func (s *Server) ctlCredentials(w http.ResponseWriter, r *http.Request) {
	var out struct {
		Merchants []credentialsFile `json:"merchants"`
		Partners  []credentialsFile `json:"partners"`
		Platform  struct {
			Mode         string   `json:"mode"`
			PublicKeyID  string   `json:"public_key_id"`
			PublicKeyPEM string   `json:"public_key_pem"`
			Certificates []string `json:"certificates_pem"`
		} `json:"platform"`
	}
	for _, list := range []struct {
		ms  []*merchantState
		dst *[]credentialsFile
	}{{s.direct, &out.Merchants}, {s.partners, &out.Partners}} {
		for _, m := range list.ms {
			f, err := s.credentials(m).file(true)
			if err != nil {
				ctlError(w, err)
				return
			}
			*list.dst = append(*list.dst, f)
		}
	}
	out.Platform.Mode = s.KeyMode().String()
	id, pub := s.PublicKey()
	out.Platform.PublicKeyID = id
	if p, err := publicKeyPEM(pub); err == nil {
		out.Platform.PublicKeyPEM = string(p)
	}
	for _, c := range s.ring.listed(s.now()) {
		out.Platform.Certificates = append(out.Platform.Certificates, string(certPEM(c.cert)))
	}
	writeJSON(w, http.StatusOK, out)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err == nil {
		err = json.Unmarshal(b, v)
	}
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"code": "PARAM_ERROR", "message": "the body is not the expected JSON: " + err.Error()})
		return false
	}
	return true
}

func ctlError(w http.ResponseWriter, err error) {
	status, code := http.StatusBadRequest, "INVALID_REQUEST"
	if errors.Is(err, ErrNotFound) {
		status, code = http.StatusNotFound, "RESOURCE_NOT_EXISTS"
	}
	writeJSON(w, status, map[string]string{"code": code, "message": err.Error()})
}
