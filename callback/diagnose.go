package callback

import (
	"encoding/json"
	"strings"
)

// WeChat Pay writes notification bodies compactly, with their keys in this
// order, and with no escapes but those JSON requires.
var (
	envelopeOrder = []string{"id", "create_time", "resource_type", "event_type", "summary", "resource"}
	resourceOrder = []string{"original_type", "algorithm", "ciphertext", "associated_data", "nonce"}
)

// diagnoseBody explains why a body whose signature did not verify looks
// re-encoded by a framework, or returns "" when it does not: a body that
// is a JSON object but is not written the way WeChat Pay writes one. It
// compares the body with how WeChat Pay writes bodies, not with the bytes
// that were signed (which it does not have), and says only that.
func diagnoseBody(body []byte) string {
	if !json.Valid(body) {
		return ""
	}
	s := scanner{b: body}
	s.ws()
	if s.peek() != '{' {
		return ""
	}
	var why []string
	spaced, escaped := formatting(body)
	if spaced {
		why = append(why, "it has whitespace between JSON tokens (pretty-printed, or a newline added)")
	}
	if escaped {
		why = append(why, `its strings are escaped differently (\uXXXX for printable characters, or \/)`)
	}
	if reordered(body) {
		why = append(why, "its keys are not in the order WeChat Pay writes them (id, create_time, resource_type, event_type, summary, resource; in resource: original_type, algorithm, ciphertext, associated_data, nonce)")
	}
	if len(why) == 0 {
		return ""
	}
	return strings.Join(why, "; ")
}

// formatting reports whitespace outside strings, and escapes WeChat Pay
// does not write: \/ and \u escapes of printable characters.
func formatting(b []byte) (spaced, escaped bool) {
	in := false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if !in {
			switch c {
			case '"':
				in = true
			case ' ', '\t', '\n', '\r':
				spaced = true
			}
			continue
		}
		switch c {
		case '"':
			in = false
		case '\\':
			if i+1 >= len(b) {
				return
			}
			i++
			switch b[i] {
			case '/':
				escaped = true
			case 'u':
				if i+4 < len(b) && hexValue(b[i+1:i+5]) >= 0x20 {
					escaped = true
				}
			}
		}
	}
	return
}

func hexValue(h []byte) int {
	v := 0
	for _, c := range h {
		switch {
		case '0' <= c && c <= '9':
			v = v*16 + int(c-'0')
		case 'a' <= c && c <= 'f':
			v = v*16 + int(c-'a'+10)
		case 'A' <= c && c <= 'F':
			v = v*16 + int(c-'A'+10)
		default:
			return -1
		}
	}
	return v
}

// reordered reports whether the known keys of the envelope or of its
// resource appear in another order than WeChat Pay's.
func reordered(body []byte) bool {
	s := scanner{b: body}
	s.ws()
	last, lastRes := -1, -1
	out := false
	s.object(0, func(key []byte, esc bool) bool {
		if esc {
			key = unescapeKey(key)
		}
		k := string(key)
		if i := indexOf(envelopeOrder, k); i >= 0 {
			if i < last {
				out = true
			}
			last = i
		}
		s.ws()
		if k == "resource" && s.peek() == '{' {
			return s.object(1, func(key []byte, esc bool) bool {
				if esc {
					key = unescapeKey(key)
				}
				if i := indexOf(resourceOrder, string(key)); i >= 0 {
					if i < lastRes {
						out = true
					}
					lastRes = i
				}
				return s.skip(2)
			})
		}
		return s.skip(1)
	})
	return out
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}
