package sandbox

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/gowxpay/wxpay/auth"
)

// RetrySchedule returns WeChat Pay's notification schedule: after a failed
// first attempt, retries follow these intervals (15s/15s/30s/3m/10m/20m/
// 30m/30m/30m/60m/3h/3h/3h/6h/6h, 24h4m in all), then it gives up: 16
// attempts at most. WithTimeScale shrinks them.
func RetrySchedule() []time.Duration { return append([]time.Duration(nil), retrySchedule[:]...) }

var retrySchedule = [...]time.Duration{
	15 * time.Second, 15 * time.Second, 30 * time.Second, 3 * time.Minute, 10 * time.Minute,
	20 * time.Minute, 30 * time.Minute, 30 * time.Minute, 30 * time.Minute, 60 * time.Minute,
	3 * time.Hour, 3 * time.Hour, 3 * time.Hour, 6 * time.Hour, 6 * time.Hour,
}

// DeliveryStatus is where a notification delivery stands.
type DeliveryStatus string

// Delivery statuses.
const (
	// DeliveryPending: not acknowledged yet, more attempts scheduled.
	DeliveryPending DeliveryStatus = "PENDING"
	// DeliveryDelivered: the merchant answered 2xx.
	DeliveryDelivered DeliveryStatus = "DELIVERED"
	// DeliveryFailed: every attempt of the schedule failed.
	DeliveryFailed DeliveryStatus = "FAILED"
)

// Delivery is one notification and its delivery attempts.
type Delivery struct {
	// ID is the notification id (a UUID), the envelope's id.
	ID string `json:"id"`
	// EventType is TRANSACTION.SUCCESS, REFUND.SUCCESS, REFUND.ABNORMAL or
	// REFUND.CLOSED.
	EventType string `json:"event_type"`
	// URL is the notify_url.
	URL string `json:"url"`
	// MchID is the merchant whose APIv3 key encrypts the resource.
	MchID string `json:"mchid"`
	// OutTradeNo and OutRefundNo name the order and refund it is about.
	OutTradeNo  string `json:"out_trade_no,omitempty"`
	OutRefundNo string `json:"out_refund_no,omitempty"`
	// Body is the envelope as sent: {id, create_time, event_type,
	// resource_type, summary, resource{…}}.
	Body json.RawMessage `json:"body"`
	// Resource is the decrypted resource.
	Resource json.RawMessage `json:"resource"`
	// Status is where the delivery stands.
	Status DeliveryStatus `json:"status"`
	// Attempts lists every attempt, first to last.
	Attempts []Attempt `json:"attempts"`
}

// Attempt is one POST of a notification.
type Attempt struct {
	// Time is when it was sent (server clock).
	Time time.Time `json:"time"`
	// StatusCode is the merchant's HTTP status, 0 when there was none.
	StatusCode int `json:"status_code"`
	// Error describes a failure to get an answer (timeout, refused).
	Error string `json:"error,omitempty"`
}

// delivery is a Delivery as the server keeps it (guarded by Server.mu).
type delivery struct {
	Delivery
	merchant        *merchantState
	preferPublicKey bool
}

// notification is what a state change hands to enqueue.
type notification struct {
	merchant        *merchantState
	url             string
	eventType       string
	summary         string
	originalType    string
	resource        any
	outTradeNo      string
	outRefundNo     string
	preferPublicKey bool
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// enqueue builds the encrypted envelope and starts its delivery. Callers
// hold s.mu.
func (s *Server) enqueue(n notification) {
	resource := normalize(n.resource)
	if m, ok := resource.(map[string]any); ok {
		if schema := s.spec.eventSchema(n.eventType, m); schema != nil {
			resource = (&synth{now: s.now()}).fit(schema, "", m, 0)
		}
	}
	plain, err := marshalResource(resource, n.originalType)
	if err != nil {
		s.log.Error("sandbox: encoding a notification", "err", err)
		return
	}
	nonce := randomString(alnum, 12)
	algorithm := auth.AlgorithmAESGCM
	var ct string
	if s.sm != nil && n.merchant.sm != nil {
		// A 国密 merchant's notifications: AEAD_SM4_GCM, signed with SM2.
		algorithm = s.sm.suite.AEADAlgorithm()
		aead, aerr := s.smAEAD(n.merchant)
		if aerr == nil {
			ct, err = auth.SealAEAD(aead, nonce, n.originalType, plain)
		} else {
			err = aerr
		}
	} else {
		ct, err = auth.EncryptAESGCM(n.merchant.APIv3Key, nonce, n.originalType, plain)
	}
	if err != nil {
		s.log.Error("sandbox: encrypting a notification", "err", err)
		return
	}
	id := newUUID()
	// Written as WeChat Pay writes it: keys in its order, compact, no
	// HTML escapes, so that callback's re-encoding diagnosis holds here.
	type resourceJSON struct {
		OriginalType   string `json:"original_type"`
		Algorithm      string `json:"algorithm"`
		Ciphertext     string `json:"ciphertext"`
		AssociatedData string `json:"associated_data"`
		Nonce          string `json:"nonce"`
	}
	env := struct {
		ID           string       `json:"id"`
		CreateTime   string       `json:"create_time"`
		ResourceType string       `json:"resource_type"`
		EventType    string       `json:"event_type"`
		Summary      string       `json:"summary"`
		Resource     resourceJSON `json:"resource"`
	}{id, wxTime(s.now()), "encrypt-resource", n.eventType, n.summary,
		resourceJSON{n.originalType, algorithm, ct, n.originalType, nonce}}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(env); err != nil {
		return
	}
	body := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	d := &delivery{
		Delivery: Delivery{
			ID: id, EventType: n.eventType, URL: n.url, MchID: n.merchant.MchID,
			OutTradeNo: n.outTradeNo, OutRefundNo: n.outRefundNo,
			Body: body, Resource: plain, Status: DeliveryPending,
		},
		merchant: n.merchant, preferPublicKey: n.preferPublicKey,
	}
	s.st.deliveries = append(s.st.deliveries, d)
	s.st.byDelivery[id] = d
	s.changedLocked()
	s.spawn(func() { s.deliver(d) })
}

// changedLocked wakes WaitDelivery callers. Callers hold s.mu.
func (s *Server) changedLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// deliver runs the attempts of a delivery on WeChat's schedule until one is
// acknowledged, the schedule ends or the server closes.
func (s *Server) deliver(d *delivery) {
	for i := 0; ; i++ {
		s.mu.Lock()
		done := d.Status != DeliveryPending
		s.mu.Unlock()
		if done {
			return
		}
		ok := s.attempt(d)
		s.mu.Lock()
		if d.Status != DeliveryPending {
			s.mu.Unlock()
			return
		}
		if ok {
			d.Status = DeliveryDelivered
			s.changedLocked()
			s.mu.Unlock()
			return
		}
		if i >= len(retrySchedule) {
			d.Status = DeliveryFailed
			s.changedLocked()
			s.mu.Unlock()
			s.log.Info("sandbox: notification given up", "id", d.ID, "attempts", len(d.Attempts))
			return
		}
		s.mu.Unlock()
		t := time.NewTimer(s.scaled(retrySchedule[i]))
		select {
		case <-t.C:
		case <-s.ctx.Done():
			t.Stop()
			return
		}
	}
}

// attempt POSTs a notification once, freshly signed, and records the
// outcome; it reports whether the merchant acknowledged it (2xx).
func (s *Server) attempt(d *delivery) bool {
	faults := s.faults.take(nil, "")
	for _, f := range faults {
		if f.Kind == FaultLatency {
			t := time.NewTimer(f.Latency)
			select {
			case <-t.C:
			case <-s.ctx.Done():
				t.Stop()
				return false
			}
		}
	}
	s.mu.Lock()
	body, url, pref := d.Body, d.URL, d.preferPublicKey
	sm := s.sm != nil && d.merchant.sm != nil
	s.mu.Unlock()
	at := Attempt{Time: s.now()}
	code, err := s.post(url, body, pref, sm, faults)
	at.StatusCode = code
	if err != nil {
		at.Error = err.Error()
	}
	s.mu.Lock()
	d.Attempts = append(d.Attempts, at)
	s.changedLocked()
	s.mu.Unlock()
	s.log.Debug("sandbox: notification attempt", "id", d.ID, "status", code, "err", err)
	return err == nil && code >= 200 && code < 300
}

// post sends one notification request.
func (s *Server) post(url string, body []byte, preferPublicKey, sm bool, faults []Fault) (int, error) {
	ctx, cancel := context.WithTimeout(s.ctx, s.opts.notifyTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	h, err := s.signHeaders(body, preferPublicKey, sm, faults)
	if err != nil {
		return 0, err
	}
	for k, v := range h {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Mozilla/4.0")
	req.Header.Set("Request-ID", requestID(""))
	resp, err := s.opts.notifyClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, nil
}

// Deliveries returns every notification so far, oldest first.
func (s *Server) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Delivery, len(s.st.deliveries))
	for i, d := range s.st.deliveries {
		out[i] = d.snapshot()
	}
	return out
}

func (d *delivery) snapshot() Delivery {
	c := d.Delivery
	c.Attempts = append([]Attempt(nil), d.Attempts...)
	return c
}

// Redeliver sends a notification once more, now, whatever its status, and
// returns the attempt. A 2xx answer marks it delivered and ends its
// schedule.
func (s *Server) Redeliver(id string) (Attempt, error) {
	s.mu.Lock()
	d := s.st.byDelivery[id]
	s.mu.Unlock()
	if d == nil {
		return Attempt{}, fmt.Errorf("%w: no notification %s", ErrNotFound, id)
	}
	if s.ctx.Err() != nil {
		return Attempt{}, fmt.Errorf("sandbox: server closed")
	}
	ok := s.attempt(d)
	s.mu.Lock()
	defer s.mu.Unlock()
	if ok && d.Status != DeliveryDelivered {
		d.Status = DeliveryDelivered
		s.changedLocked()
	}
	return d.Attempts[len(d.Attempts)-1], nil
}

// WaitDelivery waits until a notification for which match returns true
// (nil matches any) has finished — delivered or given up — and returns it.
func (s *Server) WaitDelivery(ctx context.Context, match func(Delivery) bool) (Delivery, error) {
	for {
		s.mu.Lock()
		for _, d := range s.st.deliveries {
			snap := d.snapshot()
			if d.Status != DeliveryPending && (match == nil || match(snap)) {
				s.mu.Unlock()
				return snap, nil
			}
		}
		ch := s.changed
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return Delivery{}, ctx.Err()
		case <-s.ctx.Done():
			return Delivery{}, fmt.Errorf("sandbox: server closed")
		}
	}
}
