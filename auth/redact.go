package auth

import (
	"fmt"
	"io"
	"log/slog"
)

// redacted stands for a secret that is set.
const redacted = "[REDACTED]"

// String describes cfg with the APIv3 key redacted.
func (cfg PlatformKeysConfig) String() string {
	key := ""
	if len(cfg.APIv3Key) > 0 {
		key = redacted
	}
	return fmt.Sprintf("auth.PlatformKeysConfig{APIv3Key: %s, PublicKeyID: %s, CacheDir: %s, CacheKey: %s, RefreshInterval: %s}",
		key, cfg.PublicKeyID, cfg.CacheDir, cfg.CacheKey, cfg.RefreshInterval)
}

// GoString is String: %#v redacts too.
func (cfg PlatformKeysConfig) GoString() string { return cfg.String() }

// Format implements fmt.Formatter: every verb prints String.
func (cfg PlatformKeysConfig) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, cfg.String()) }

// LogValue implements slog.LogValuer, with the APIv3 key redacted.
func (cfg PlatformKeysConfig) LogValue() slog.Value {
	return slog.StringValue(cfg.String())
}

// String names the signer without its key.
func (s RSASigner) String() string {
	if s.Key == nil {
		return "auth.RSASigner{Key: <nil>}"
	}
	return "auth.RSASigner{Key: " + redacted + "}"
}

// GoString is String: %#v redacts too.
func (s RSASigner) GoString() string { return s.String() }

// Format implements fmt.Formatter: every verb prints String.
func (s RSASigner) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, s.String()) }

// LogValue implements slog.LogValuer without the key.
func (s RSASigner) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalJSON encodes the signer without its key, so that a signer inside
// a logged or encoded structure does not spill the private key (whose
// fields crypto/rsa exports).
func (s RSASigner) MarshalJSON() ([]byte, error) {
	return []byte(`"` + s.String() + `"`), nil
}

// String describes the store: its mode and the keys it holds, never the
// APIv3 key.
func (p *PlatformKeys) String() string {
	if p == nil {
		return "auth.PlatformKeys(nil)"
	}
	st := p.Status()
	return fmt.Sprintf("auth.PlatformKeys{Mode: %s, Keys: %d, Source: %s}", p.mode, len(st.Keys), st.Source)
}

// GoString is String: %#v redacts too.
func (p *PlatformKeys) GoString() string { return p.String() }

// Format implements fmt.Formatter: every verb prints String.
func (p *PlatformKeys) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, p.String()) }

// LogValue implements slog.LogValuer without the APIv3 key.
func (p *PlatformKeys) LogValue() slog.Value { return slog.StringValue(p.String()) }
