package callback

import (
	"fmt"
	"io"
	"log/slog"
)

// String describes cfg with the APIv3 key redacted.
func (cfg Config) String() string {
	key := ""
	if len(cfg.APIv3Key) > 0 {
		key = "[REDACTED]"
	}
	openers := make([]string, 0, len(cfg.Openers))
	for name := range cfg.Openers {
		openers = append(openers, name)
	}
	return fmt.Sprintf("callback.Config{APIv3Key: %s, MaxSkew: %s, Openers: %v, Verifier set: %t}", key, cfg.MaxSkew, openers, cfg.Verifier != nil)
}

// GoString is String: %#v redacts too.
func (cfg Config) GoString() string { return cfg.String() }

// Format implements fmt.Formatter: every verb prints String.
func (cfg Config) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, cfg.String()) }

// LogValue implements slog.LogValuer, with the APIv3 key redacted.
func (cfg Config) LogValue() slog.Value { return slog.StringValue(cfg.String()) }
