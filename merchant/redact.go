package merchant

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// redacted stands for a secret that is set.
const redacted = "[REDACTED]"

// secretValue describes a secret without showing it: redacted when set,
// empty otherwise.
func secretValue(set bool) string {
	if set {
		return redacted
	}
	return ""
}

// fields returns the printable fields of c: identifiers, modes and
// settings as they are, secrets (the private key, the APIv3 key) as
// redacted, and the PEM fields and files by whether they are set.
func (c Config) fields() [][2]string {
	pem := func(b []byte, file string) string {
		switch {
		case len(b) > 0:
			return fmt.Sprintf("[%d bytes of PEM]", len(b))
		case file != "":
			return "file " + file
		}
		return ""
	}
	return [][2]string{
		{"MchID", c.MchID},
		{"PrivateKey", secretValue(len(c.PrivateKey) > 0 || c.PrivateKeyFile != "")},
		{"CertificateSerial", c.CertificateSerial},
		{"Certificate", pem(c.Certificate, c.CertificateFile)},
		{"APIv3Key", secretValue(c.APIv3Key != "")},
		{"PublicKeyID", c.PublicKeyID},
		{"PublicKey", pem(c.PublicKey, c.PublicKeyFile)},
		{"KeyMode", c.KeyMode.String()},
		{"CertificateCacheDir", c.CertificateCacheDir},
		{"PartnerMode", fmt.Sprint(c.PartnerMode)},
		{"AppID", c.AppID},
		{"SubMchID", c.SubMchID},
		{"SubAppID", c.SubAppID},
		{"NotifyURL", c.NotifyURL},
		{"BaseURL", c.BaseURL},
		{"Failover", fmt.Sprint(c.Failover)},
	}
}

// String describes c with its secrets redacted: the private key and the
// APIv3 key never appear, in any format.
func (c Config) String() string {
	var b strings.Builder
	b.WriteString("merchant.Config{")
	first := true
	for _, f := range c.fields() {
		if f[1] == "" || f[1] == "false" {
			continue
		}
		if !first {
			b.WriteString(", ")
		}
		first = false
		b.WriteString(f[0])
		b.WriteString(": ")
		b.WriteString(f[1])
	}
	b.WriteString("}")
	return b.String()
}

// GoString is String: %#v redacts too.
func (c Config) GoString() string { return c.String() }

// Format implements fmt.Formatter: every verb (%v, %+v, %#v, %s …) prints
// String, so that the secrets never appear.
func (c Config) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, c.String()) }

// LogValue implements slog.LogValuer: the fields that are set, secrets
// redacted.
func (c Config) LogValue() slog.Value {
	var attrs []slog.Attr
	for _, f := range c.fields() {
		if f[1] != "" && f[1] != "false" {
			attrs = append(attrs, slog.String(f[0], f[1]))
		}
	}
	return slog.GroupValue(attrs...)
}
