package sandbox

import "time"

// WithCertificateSwitchDelay sets how long after RotateCertificate the new
// platform certificate starts signing, on the server's clock (five days by
// default, as WeChat Pay does; 0 signs with it at once, which strands
// clients that only learn certificates from /v3/certificates).
func WithCertificateSwitchDelay(d time.Duration) Option {
	return func(o *options) { o.switchDelay = max(d, 0) }
}

// SwitchCertificate makes the newest listed platform certificate sign from
// now on, ahead of its schedule: the "switch now" of rotation tests. It
// returns the serial that signs.
func (s *Server) SwitchCertificate() string {
	serial := s.ring.switchNow(s.now())
	s.log.Info("sandbox: platform certificate switched", "serial", serial)
	return serial
}

// PendingCertificate returns the serial of a platform certificate that is
// listed but does not sign yet, and when it will; "" when there is none.
func (s *Server) PendingCertificate() (serial string, signsFrom time.Time) {
	return s.ring.pending(s.now())
}

// SigningSerial returns the serial of the platform certificate that signs
// now (in CertificateMode).
func (s *Server) SigningSerial() string {
	s.ring.mu.RLock()
	defer s.ring.mu.RUnlock()
	return s.ring.current(s.now()).serial
}
