package sm3

import (
	"encoding/hex"
	"strings"
	"testing"

	gmsm3 "github.com/emmansun/gmsm/sm3"
)

// The examples of GB/T 32905-2016 (SM3), appendix A, and padding edges.
func TestSM3KnownAnswers(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"abc", "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"},
		{strings.Repeat("abcd", 16), "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"},
		{"", "1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b"},
	} {
		if got := Hex([]byte(tc.in)); got != tc.want {
			t.Errorf("SM3(%.20q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// TestSM3MatchesGMSM checks every length around the block and padding
// boundaries against gmsm's SM3.
func TestSM3MatchesGMSM(t *testing.T) {
	data := make([]byte, 300)
	for i := range data {
		data[i] = byte(i*7 + 3)
	}
	for n := 0; n <= len(data); n++ {
		want := gmsm3.Sum(data[:n])
		if got := Hex(data[:n]); got != hex.EncodeToString(want[:]) {
			t.Fatalf("length %d: %s, gmsm %x", n, got, want)
		}
	}
}
