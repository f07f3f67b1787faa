package sandbox

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// FaultKind is what a Fault does.
type FaultKind string

// Fault kinds.
const (
	// FaultLatency delays the answer (or the notification) by Latency.
	FaultLatency FaultKind = "latency"
	// FaultError answers Status with {code: Code, message: Message} after
	// authentication: 500 SYSTEM_ERROR by default; 429 defaults to
	// FREQUENCY_LIMITED.
	FaultError FaultKind = "error"
	// FaultReset closes the connection without an answer (hijacked and
	// reset). In-process, where the connection cannot be hijacked, it
	// answers 502 with an empty body instead.
	FaultReset FaultKind = "reset"
	// FaultBadSignature sends a well-formed Wechatpay-Signature that does
	// not verify.
	FaultBadSignature FaultKind = "bad_signature"
	// FaultNoSignature leaves out the Wechatpay-Signature header.
	FaultNoSignature FaultKind = "no_signature"
	// FaultSignTest sends a signature probe: a Wechatpay-Signature starting
	// with WECHATPAY/SIGNTEST/.
	FaultSignTest FaultKind = "signtest"
	// FaultClockOffset shifts Wechatpay-Timestamp, and the Date header of
	// API answers, by ClockOffset: the server's clock seems that far off.
	FaultClockOffset FaultKind = "clock_offset"
)

// NotifyTarget as a Fault's Target applies it to notification deliveries
// (latency, signature and clock faults) instead of API answers.
const NotifyTarget = "notify"

// Fault is a failure the sandbox injects into its answers or notifications.
type Fault struct {
	// ID identifies an injected fault; Inject assigns it.
	ID string `json:"id,omitempty"`
	// Target selects what the fault applies to: an operationId, a path
	// template or a request path (starting with /), NotifyTarget, or empty
	// for every API call.
	Target string `json:"target,omitempty"`
	// Kind is what the fault does.
	Kind FaultKind `json:"kind"`
	// Latency is the delay of FaultLatency.
	Latency time.Duration `json:"-"`
	// Status, Code and Message are the answer of FaultError.
	Status  int    `json:"status,omitempty"`
	Code    string `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
	// ClockOffset is the shift of FaultClockOffset.
	ClockOffset time.Duration `json:"-"`
	// Count limits the fault to the next Count matching calls; 0 means
	// every call until it is cleared.
	Count int `json:"count,omitempty"`
}

type faultSet struct {
	mu     sync.Mutex
	next   int
	faults []*Fault
}

// Inject adds a fault and returns its id.
func (s *Server) Inject(f Fault) (string, error) {
	switch f.Kind {
	case FaultLatency, FaultReset, FaultBadSignature, FaultNoSignature, FaultSignTest, FaultClockOffset:
	case FaultError:
		if f.Status == 0 {
			f.Status = http.StatusInternalServerError
		}
		if f.Status < 400 || f.Status > 599 {
			return "", fmt.Errorf("sandbox: an error fault needs a 4xx or 5xx status, not %d", f.Status)
		}
		if f.Code == "" {
			f.Code, f.Message = "SYSTEM_ERROR", "系统错误"
			if f.Status == http.StatusTooManyRequests {
				f.Code, f.Message = "FREQUENCY_LIMITED", "频率超限"
			}
		}
		if f.Message == "" {
			f.Message = f.Code
		}
	default:
		return "", fmt.Errorf("sandbox: unknown fault kind %q", f.Kind)
	}
	if f.Count < 0 {
		return "", errors.New("sandbox: a fault count must not be negative")
	}
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.next++
	f.ID = "fault-" + strconv.Itoa(s.faults.next)
	s.faults.faults = append(s.faults.faults, &f)
	return f.ID, nil
}

// ClearFault removes one fault; it reports whether it existed.
func (s *Server) ClearFault(id string) bool {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	for i, f := range s.faults.faults {
		if f.ID == id {
			s.faults.faults = append(s.faults.faults[:i], s.faults.faults[i+1:]...)
			return true
		}
	}
	return false
}

// ClearFaults removes every fault.
func (s *Server) ClearFaults() {
	s.faults.mu.Lock()
	s.faults.faults = nil
	s.faults.mu.Unlock()
}

// Faults lists the active faults (with their remaining counts).
func (s *Server) Faults() []Fault {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	out := make([]Fault, len(s.faults.faults))
	for i, f := range s.faults.faults {
		out[i] = *f
	}
	return out
}

// take returns the faults that apply to a call of op (nil op: a
// notification) and uses up one of their counts.
func (fs *faultSet) take(op *Operation, path string) []Fault {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if len(fs.faults) == 0 {
		return nil
	}
	var out []Fault
	kept := fs.faults[:0]
	for _, f := range fs.faults {
		match := false
		switch {
		case op == nil:
			match = f.Target == NotifyTarget
		case f.Target == "":
			match = true
		default:
			match = f.Target == op.ID || f.Target == op.Path || f.Target == path
		}
		if match {
			out = append(out, *f)
			if f.Count > 0 {
				f.Count--
				if f.Count == 0 {
					continue
				}
			}
		}
		kept = append(kept, f)
	}
	fs.faults = kept
	return out
}

// applyPreFaults applies latency and connection resets; it reports whether
// the call goes on.
func (s *Server) applyPreFaults(c *call) bool {
	for _, f := range c.faults {
		if f.Kind == FaultLatency && !s.sleepCtx(c.r, f.Latency) {
			return false
		}
	}
	for _, f := range c.faults {
		if f.Kind == FaultReset {
			resetConnection(c.w)
			return false
		}
	}
	return true
}

// resetConnection drops the connection without an answer.
func resetConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0) // RST instead of FIN
	}
	_ = conn.Close()
}

// faultAnswer returns the answer of an error fault, if one applies.
func (c *call) faultAnswer() *answer {
	for _, f := range c.faults {
		if f.Kind == FaultError {
			return c.fail(f.Status, f.Code, f.Message)
		}
	}
	return nil
}
