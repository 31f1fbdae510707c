package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// scanner is a minimal pull JSON reader for the hot path: it decodes the
// few members a push needs and skips the rest at memchr speed instead of
// running encoding/json's byte-at-a-time state machine over the whole
// body. It checks structure (nesting, string and literal boundaries), so
// truncated or unbalanced bodies fail; the contents of skipped numbers are
// not validated. Strings with escapes are decoded by encoding/json, keys
// match case-insensitively as with encoding/json.
type scanner struct {
	b []byte
	i int
}

var errSyntax = errors.New("invalid JSON")

func (s *scanner) fail(what string) error {
	return fmt.Errorf("%w at offset %d: %s", errSyntax, s.i, what)
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\r', '\n':
			s.i++
		default:
			return
		}
	}
}

// peek returns the next non-space byte, 0 at the end.
func (s *scanner) peek() byte {
	s.ws()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// end checks that only whitespace remains.
func (s *scanner) end() error {
	if s.peek() != 0 {
		return s.fail("data after the top-level value")
	}
	return nil
}

// null consumes a null if one is next.
func (s *scanner) null() (bool, error) {
	if s.peek() != 'n' {
		return false, nil
	}
	return true, s.literal("null")
}

func (s *scanner) literal(lit string) error {
	if !bytes.HasPrefix(s.b[s.i:], []byte(lit)) {
		return s.fail("bad literal")
	}
	s.i += len(lit)
	return nil
}

// rawString consumes a string and returns its contents (escapes left in)
// and whether it has escapes.
func (s *scanner) rawString() ([]byte, bool, error) {
	if s.peek() != '"' {
		return nil, false, s.fail("want a string")
	}
	start := s.i + 1
	end, escaped, ok := stringEnd(s.b, start)
	if !ok {
		s.i = len(s.b)
		return nil, false, s.fail("unterminated string")
	}
	s.i = end + 1
	return s.b[start:end], escaped, nil
}

// stringEnd returns the index of the quote that closes the string whose
// contents start at start, and whether the contents have escapes. Short
// strings (most keys) are scanned with a plain loop; longer ones with
// bytes.IndexByte (vectorized), skipping escaped quotes.
func stringEnd(b []byte, start int) (end int, escaped, ok bool) {
	lim := min(len(b), start+16)
	i := start
	for ; i < lim; i++ {
		if c := b[i]; c == '"' {
			return i, false, true
		} else if c == '\\' {
			break
		}
	}
	for {
		q := bytes.IndexByte(b[i:], '"')
		if q < 0 {
			return 0, false, false
		}
		q += i
		k := q
		for k > start && b[k-1] == '\\' {
			k--
		}
		if (q-k)%2 == 0 {
			return q, bytes.IndexByte(b[start:q], '\\') >= 0, true
		}
		i = q + 1
	}
}

// str decodes a string; null is "".
func (s *scanner) str() (string, error) {
	if n, err := s.null(); n || err != nil {
		return "", err
	}
	start := s.i
	raw, esc, err := s.rawString()
	if err != nil {
		return "", err
	}
	if !esc {
		return string(raw), nil
	}
	v, ok := unescape(raw)
	if !ok {
		s.i = start
		return "", s.fail("bad string escape")
	}
	return v, nil
}

// unescape decodes the escapes of a JSON string's contents as
// encoding/json does (lone surrogates become U+FFFD).
func unescape(raw []byte) (string, bool) {
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		i++
		if i == len(raw) {
			return "", false
		}
		switch raw[i] {
		case '"', '\\', '/':
			out = append(out, raw[i])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := hex4(raw[i+1:])
			if !ok {
				return "", false
			}
			i += 4
			if utf16.IsSurrogate(r) {
				r2, ok := rune(-1), false
				if i+6 < len(raw) && raw[i+1] == '\\' && raw[i+2] == 'u' {
					r2, ok = hex4(raw[i+3:])
				}
				if dec := utf16.DecodeRune(r, r2); ok && dec != utf8.RuneError {
					r = dec
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			out = utf8.AppendRune(out, r)
		default:
			return "", false
		}
	}
	return string(out), true
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// boolean decodes true, false or null (false).
func (s *scanner) boolean() (bool, error) {
	switch s.peek() {
	case 't':
		return true, s.literal("true")
	case 'f':
		return false, s.literal("false")
	case 'n':
		return false, s.literal("null")
	}
	return false, s.fail("want a boolean")
}

// integer decodes an integer; ok is false for null.
func (s *scanner) integer() (n int, ok bool, err error) {
	if isNull, err := s.null(); isNull || err != nil {
		return 0, false, err
	}
	start := s.i
	for s.i < len(s.b) && (s.b[s.i] == '-' || s.b[s.i] >= '0' && s.b[s.i] <= '9') {
		s.i++
	}
	n, err = strconv.Atoi(string(s.b[start:s.i]))
	if err != nil {
		return 0, false, s.fail("want an integer")
	}
	return n, true, nil
}

// object calls member for each member of an object (null: none); member
// must consume the value. Keys are compared with keyIs.
func (s *scanner) object(member func(key []byte) error) error {
	if n, err := s.null(); n || err != nil {
		return err
	}
	if s.peek() != '{' {
		return s.fail("want an object")
	}
	s.i++
	if s.peek() == '}' {
		s.i++
		return nil
	}
	for {
		start := s.i
		raw, esc, err := s.rawString()
		if err != nil {
			return err
		}
		key := raw
		if esc {
			var k string
			if json.Unmarshal(s.b[start:s.i], &k) != nil {
				return s.fail("bad key")
			}
			key = []byte(k)
		}
		if s.peek() != ':' {
			return s.fail("want ':'")
		}
		s.i++
		if err := member(key); err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			return nil
		default:
			return s.fail("want ',' or '}'")
		}
	}
}

// array calls elem for each element of an array (null: none); elem must
// consume the value.
func (s *scanner) array(elem func() error) error {
	if n, err := s.null(); n || err != nil {
		return err
	}
	if s.peek() != '[' {
		return s.fail("want an array")
	}
	s.i++
	if s.peek() == ']' {
		s.i++
		return nil
	}
	for {
		if err := elem(); err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.i++
		case ']':
			s.i++
			return nil
		default:
			return s.fail("want ',' or ']'")
		}
	}
}

// strs decodes an array of strings (null: nil).
func (s *scanner) strs() ([]string, error) {
	var out []string
	err := s.array(func() error {
		v, err := s.str()
		out = append(out, v)
		return err
	})
	return out, err
}

// skip consumes one value of any kind.
func (s *scanner) skip() error {
	switch c := s.peek(); c {
	case '"':
		_, _, err := s.rawString()
		return err
	case '{', '[':
		return s.skipContainer()
	case 't':
		return s.literal("true")
	case 'f':
		return s.literal("false")
	case 'n':
		return s.literal("null")
	case 0:
		return s.fail("unexpected end")
	default:
		if c != '-' && (c < '0' || c > '9') {
			return s.fail("unexpected character")
		}
		start := s.i
		for s.i < len(s.b) {
			c := s.b[s.i]
			if c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' {
				s.i++
				continue
			}
			break
		}
		if s.i == start+1 && c == '-' {
			return s.fail("bad number")
		}
		return nil
	}
}

// skipContainer skips a whole object or array by bracket depth, jumping
// over strings. (Bracket kinds are not matched: a mismatch inside a skipped
// value is tolerated, an unbalanced one is not.)
func (s *scanner) skipContainer() error {
	depth := 0
	b := s.b
	for i := s.i; i < len(b); i++ {
		switch b[i] {
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				s.i = i + 1
				return nil
			}
		case '"':
			end, _, ok := stringEnd(b, i+1)
			if !ok {
				s.i = len(b)
				return s.fail("unterminated string")
			}
			i = end
		}
	}
	s.i = len(b)
	return s.fail("unterminated container")
}

// field returns the index of key in names, matched as encoding/json
// matches keys to fields (exactly, else case-insensitively), or -1.
func field(key []byte, names []string) int {
	for i, n := range names {
		if string(key) == n {
			return i
		}
	}
	for _, c := range key {
		if c >= 'A' && c <= 'Z' || c >= 0x80 {
			for i, n := range names {
				if bytes.EqualFold(key, []byte(n)) {
					return i
				}
			}
			break
		}
	}
	return -1
}
