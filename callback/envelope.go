package callback

import (
	"bytes"
	"encoding/json"
)

// The envelope is decoded by hand, in one pass that also validates it, and
// without copying: its fields are sub-slices of the body, and only the few
// that become Event strings are copied. encoding/json (json.Valid, then
// Unmarshal into a struct) costs about 6 µs and 16 allocations more per
// notification (see BenchmarkParse).

// maxDepth bounds the nesting of values the scanner skips.
const maxDepth = 512

// jsonString is a JSON string value found in a document: q holds it with
// its quotes, esc says whether it contains escapes.
type jsonString struct {
	q   []byte
	esc bool
}

// set reports whether the field was present with a string value.
func (s jsonString) set() bool { return len(s.q) >= 2 }

// raw returns the string's bytes without unescaping them.
func (s jsonString) raw() []byte {
	if len(s.q) < 2 {
		return nil
	}
	return s.q[1 : len(s.q)-1]
}

// bytes returns the string's value; it copies only when there are escapes.
func (s jsonString) bytes() []byte {
	if !s.esc {
		return s.raw()
	}
	var v string
	if json.Unmarshal(s.q, &v) != nil {
		return nil
	}
	return []byte(v)
}

// string returns the string's value as a new string.
func (s jsonString) string() string {
	if !s.esc {
		return string(s.raw())
	}
	var v string
	if json.Unmarshal(s.q, &v) != nil {
		return ""
	}
	return v
}

// envelope holds the fields of a notification body.
type envelope struct {
	id, createTime, resourceType, eventType, summary           jsonString
	originalType, algorithm, ciphertext, associatedData, nonce jsonString
	hasResource                                                bool
}

// envelopeError says what is wrong with a body that is no notification.
type envelopeError struct{ msg string }

func (e *envelopeError) Error() string { return e.msg }

// parseEnvelope decodes a notification body into env.
func parseEnvelope(body []byte, env *envelope) error {
	s := scanner{b: body}
	s.ws()
	if s.peek() != '{' {
		return &envelopeError{"the body is not a JSON object"}
	}
	var bad string
	ok := s.object(0, func(key []byte, esc bool) bool {
		if esc {
			key = unescapeKey(key)
		}
		var dst *jsonString
		switch string(key) {
		case "id":
			dst = &env.id
		case "create_time":
			dst = &env.createTime
		case "resource_type":
			dst = &env.resourceType
		case "event_type":
			dst = &env.eventType
		case "summary":
			dst = &env.summary
		case "resource":
			s.ws()
			switch s.peek() {
			case '{':
				env.hasResource = true
				return s.object(1, func(key []byte, esc bool) bool {
					if esc {
						key = unescapeKey(key)
					}
					var dst *jsonString
					switch string(key) {
					case "original_type":
						dst = &env.originalType
					case "algorithm":
						dst = &env.algorithm
					case "ciphertext":
						dst = &env.ciphertext
					case "associated_data":
						dst = &env.associatedData
					case "nonce":
						dst = &env.nonce
					default:
						return s.skip(2)
					}
					if !s.stringField(dst) {
						bad = "resource." + string(key)
						return false
					}
					return true
				})
			case 'n':
				return s.skip(1)
			}
			bad = "resource"
			return false
		default:
			return s.skip(1)
		}
		if !s.stringField(dst) {
			bad = string(key)
			return false
		}
		return true
	})
	if bad != "" {
		if bad == "resource" {
			return &envelopeError{"the resource field is not a JSON object"}
		}
		return &envelopeError{"the " + bad + " field is not a JSON string"}
	}
	if ok {
		s.ws()
		ok = s.i == len(s.b)
	}
	if !ok {
		return &envelopeError{"the body is not valid JSON"}
	}
	return nil
}

// hasTopLevelKey reports whether doc is a JSON object with the property
// key.
func hasTopLevelKey(doc []byte, key string) bool {
	// Most documents do not even contain the key: say so without a scan,
	// unless escapes could spell it differently.
	if !containsQuoted(doc, key) && bytes.IndexByte(doc, '\\') < 0 {
		return false
	}
	s := scanner{b: doc}
	s.ws()
	if s.peek() != '{' {
		return false
	}
	found := false
	s.object(0, func(k []byte, esc bool) bool {
		if esc {
			k = unescapeKey(k)
		}
		if string(k) == key {
			found = true
			return false
		}
		return s.skip(1)
	})
	return found
}

// containsQuoted reports whether doc contains key in quotes.
func containsQuoted(doc []byte, key string) bool {
	for i := 0; ; {
		j := bytes.Index(doc[i:], []byte(key))
		if j < 0 {
			return false
		}
		j += i
		if j > 0 && doc[j-1] == '"' && j+len(key) < len(doc) && doc[j+len(key)] == '"' {
			return true
		}
		i = j + 1
	}
}

// unescapeKey returns the value of the escaped JSON string body k, or k
// when it does not decode.
func unescapeKey(k []byte) []byte {
	q := make([]byte, 0, len(k)+2)
	q = append(q, '"')
	q = append(q, k...)
	q = append(q, '"')
	var v string
	if json.Unmarshal(q, &v) != nil {
		return k
	}
	return []byte(v)
}

// scanner walks a JSON document. It never reads out of bounds: every
// method reports malformed input by returning false.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) peek() byte {
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// str reads the string at the cursor and returns it with its quotes. It
// checks escapes and rejects control characters, as JSON requires.
func (s *scanner) str() (q []byte, esc bool, ok bool) {
	if s.peek() != '"' {
		return nil, false, false
	}
	for j := s.i + 1; j < len(s.b); j++ {
		switch c := s.b[j]; {
		case c == '"':
			q = s.b[s.i : j+1]
			s.i = j + 1
			return q, esc, true
		case c == '\\':
			esc = true
			j++
			if j >= len(s.b) {
				return nil, false, false
			}
			switch s.b[j] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if j+4 >= len(s.b) || hexValue(s.b[j+1:j+5]) < 0 {
					return nil, false, false
				}
				j += 4
			default:
				return nil, false, false
			}
		case c < 0x20:
			return nil, false, false
		}
	}
	return nil, false, false
}

// stringField reads a string or null value into dst; null leaves dst
// unset. It returns false for any other value.
func (s *scanner) stringField(dst *jsonString) bool {
	s.ws()
	switch s.peek() {
	case '"':
		q, esc, ok := s.str()
		if !ok {
			return false
		}
		*dst = jsonString{q: q, esc: esc}
		return true
	case 'n':
		if len(s.b)-s.i >= 4 && string(s.b[s.i:s.i+4]) == "null" {
			s.i += 4
			*dst = jsonString{}
			return true
		}
	}
	return false
}

// object reads the object at the cursor, calling field with each key (its
// bytes without quotes) and the cursor before the value; field must consume
// the value and return true, or return false to stop.
func (s *scanner) object(depth int, field func(key []byte, esc bool) bool) bool {
	if depth > maxDepth || s.peek() != '{' {
		return false
	}
	s.i++
	s.ws()
	if s.peek() == '}' {
		s.i++
		return true
	}
	for {
		s.ws()
		q, esc, ok := s.str()
		if !ok {
			return false
		}
		s.ws()
		if s.peek() != ':' {
			return false
		}
		s.i++
		s.ws()
		if !field(q[1:len(q)-1], esc) {
			return false
		}
		s.ws()
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			return true
		default:
			return false
		}
	}
}

// skip consumes one value of any kind.
func (s *scanner) skip(depth int) bool {
	if depth > maxDepth {
		return false
	}
	s.ws()
	switch s.peek() {
	case '"':
		_, _, ok := s.str()
		return ok
	case '{':
		return s.object(depth, func([]byte, bool) bool { return s.skip(depth + 1) })
	case '[':
		s.i++
		s.ws()
		if s.peek() == ']' {
			s.i++
			return true
		}
		for {
			if !s.skip(depth + 1) {
				return false
			}
			s.ws()
			switch s.peek() {
			case ',':
				s.i++
			case ']':
				s.i++
				return true
			default:
				return false
			}
		}
	case 't':
		return s.literal("true")
	case 'f':
		return s.literal("false")
	case 'n':
		return s.literal("null")
	}
	return s.number()
}

func (s *scanner) literal(lit string) bool {
	if len(s.b)-s.i < len(lit) || string(s.b[s.i:s.i+len(lit)]) != lit {
		return false
	}
	s.i += len(lit)
	return true
}

// number consumes a number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scanner) number() bool {
	if s.peek() == '-' {
		s.i++
	}
	switch c := s.peek(); {
	case c == '0':
		s.i++
	case '1' <= c && c <= '9':
		s.digits()
	default:
		return false
	}
	if s.peek() == '.' {
		s.i++
		if !s.digits() {
			return false
		}
	}
	if c := s.peek(); c == 'e' || c == 'E' {
		s.i++
		if c := s.peek(); c == '+' || c == '-' {
			s.i++
		}
		if !s.digits() {
			return false
		}
	}
	return true
}

// digits consumes one or more digits.
func (s *scanner) digits() bool {
	start := s.i
	for s.i < len(s.b) && '0' <= s.b[s.i] && s.b[s.i] <= '9' {
		s.i++
	}
	return s.i > start
}
