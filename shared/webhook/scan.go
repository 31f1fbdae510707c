package webhook

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// scanner is a minimal pull JSON reader for the hot path: it decodes the
// few members a push needs and skips the rest without building anything,
// instead of running encoding/json's byte-at-a-time state machine over
// the whole body. Skipping is not trusting: every byte is checked against
// the JSON grammar as encoding/json's scanner checks it (string contents
// and escapes, number syntax, literals, bracket pairing, nesting depth),
// so a body decodeHub accepts is one json.Valid accepts. Keys match
// case-insensitively, as with encoding/json.
type scanner struct {
	b     []byte
	i     int
	depth int // containers open around s.i (encoding/json allows maxDepth)

	// Decoded strings are appended to arena and sliced out of it, so
	// they share a few allocations instead of one each. (A Builder never
	// changes bytes it has handed out in a String: it grows by copying.)
	arena   strings.Builder
	scratch []byte // for unescaping
}

// keep returns raw, the contents of a string, decoded, as a string
// backed by the arena.
func (s *scanner) keep(raw []byte, escaped bool) string {
	if escaped {
		s.scratch = unescape(s.scratch[:0], raw)
		raw = s.scratch
	}
	if len(raw) == 0 {
		return ""
	}
	if s.arena.Cap() == 0 {
		// a guess that fits a typical push's strings and new paths in
		// one or two allocations; the Builder doubles beyond it
		s.arena.Grow(max(512, len(s.b)/16, len(raw)))
	}
	start := s.arena.Len()
	s.arena.Write(raw)
	return s.arena.String()[start:]
}

// maxDepth is encoding/json's nesting limit (maxNestingDepth).
const maxDepth = 10000

var errSyntax = errors.New("invalid JSON")

func (s *scanner) fail(what string) error {
	return fmt.Errorf("%w at offset %d: %s", errSyntax, s.i, what)
}

// skipWS returns the index of the first non-space byte at or after i.
func skipWS(b []byte, i int) int {
	for i < len(b) {
		switch c := b[i]; {
		case c > ' ': // the usual case: compact JSON
			return i
		case c == ' ', c == '\t', c == '\r', c == '\n':
			i++
		default:
			return i
		}
	}
	return i
}

func (s *scanner) ws() { s.i = skipWS(s.b, s.i) }

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
	if s.ws(); s.i < len(s.b) {
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

// rawString consumes a string and returns its contents (escapes left in,
// but checked) and whether it has escapes.
func (s *scanner) rawString() ([]byte, bool, error) {
	if s.peek() != '"' {
		return nil, false, s.fail("want a string")
	}
	start := s.i + 1
	end, escaped, bad := stringEnd(s.b, start)
	if bad >= 0 {
		s.i = bad
		if bad == len(s.b) {
			return nil, false, s.fail("unterminated string")
		}
		return nil, false, s.fail("bad string")
	}
	s.i = end + 1
	return s.b[start:end], escaped, nil
}

// stop marks the bytes that end a run of plain string contents: the
// quote, the backslash and the control characters JSON forbids unescaped.
var stop = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

// stringEnd scans the contents of a string starting at start, checking
// them as encoding/json does: no control characters, only the escapes
// \" \\ \/ \b \f \n \r \t and \uXXXX. It returns the index of the
// closing quote and whether there were escapes, or the index of the
// offending byte in bad (len(b) when the string is unterminated); bad is
// -1 when the string is fine.
//
// The search for the next stop byte is a table lookup unrolled four
// times: on GitHub payloads (1,700 strings in 36 KB, most of them short
// keys) it takes about 25% fewer cycles than scanning eight bytes at a
// time in a uint64 (SWAR), whose setup and exit cost more than they save.
func stringEnd(b []byte, start int) (end int, escaped bool, bad int) {
	i := start
	for {
		for i+4 <= len(b) {
			if stop[b[i]] {
				break
			}
			if stop[b[i+1]] {
				i++
				break
			}
			if stop[b[i+2]] {
				i += 2
				break
			}
			if stop[b[i+3]] {
				i += 3
				break
			}
			i += 4
		}
		for i < len(b) && !stop[b[i]] {
			i++
		}
		if i >= len(b) {
			return 0, false, len(b)
		}
		switch b[i] {
		case '"':
			return i, escaped, -1
		case '\\':
			escaped = true
			if i+1 >= len(b) {
				return 0, false, len(b)
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if _, ok := hex4(b[i+2:]); !ok {
					return 0, false, i
				}
				i += 6
			default:
				return 0, false, i
			}
		default: // a control character
			return 0, false, i
		}
	}
}

// str decodes a string; null is "".
func (s *scanner) str() (string, error) {
	if n, err := s.null(); n || err != nil {
		return "", err
	}
	raw, esc, err := s.rawString()
	if err != nil {
		return "", err
	}
	return s.keep(raw, esc), nil
}

// unescape appends the decoded contents of a JSON string, already checked
// by stringEnd, to out, as encoding/json decodes them (lone surrogates
// become U+FFFD).
func unescape(out, raw []byte) []byte {
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		i++
		switch raw[i] {
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
			r, _ := hex4(raw[i+1:])
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
		default: // '"', '\\', '/'
			out = append(out, raw[i])
		}
	}
	return out
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

// numberEnd returns the end of the JSON number starting at i (RFC 8259:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?), whether it is an
// integer (no fraction or exponent), and ok false if it is malformed.
func numberEnd(b []byte, i int) (end int, integer, ok bool) {
	digits := func(i int) int {
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		return i
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		i = digits(i + 1)
	default:
		return i, false, false
	}
	integer = true
	if i < len(b) && b[i] == '.' {
		integer = false
		j := digits(i + 1)
		if j == i+1 {
			return j, false, false
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		integer = false
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := digits(i)
		if j == i {
			return j, false, false
		}
		i = j
	}
	return i, integer, true
}

// integer decodes an integer; ok is false for null.
func (s *scanner) integer() (n int, ok bool, err error) {
	if isNull, err := s.null(); isNull || err != nil {
		return 0, false, err
	}
	start := s.i
	end, isInt, valid := numberEnd(s.b, start)
	if !valid || !isInt {
		return 0, false, s.fail("want an integer")
	}
	s.i = end
	n, err = strconv.Atoi(string(s.b[start:end]))
	if err != nil {
		s.i = start
		return 0, false, s.fail("want an integer")
	}
	return n, true, nil
}

// open enters a container, checking encoding/json's depth limit.
func (s *scanner) open() error {
	if s.depth++; s.depth > maxDepth {
		return s.fail("nested too deep")
	}
	s.i++
	return nil
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
	if err := s.open(); err != nil {
		return err
	}
	if s.peek() == '}' {
		s.i++
		s.depth--
		return nil
	}
	for {
		key, esc, err := s.rawString()
		if err != nil {
			return err
		}
		if esc {
			key = unescape(nil, key)
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
			s.depth--
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
	if err := s.open(); err != nil {
		return err
	}
	if s.peek() == ']' {
		s.i++
		s.depth--
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
			s.depth--
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

// skip consumes one value of any kind, checking it as json.Valid would.
func (s *scanner) skip() error { return s.walk(nil) }

// walk consumes one value of any kind, checking it as json.Valid would.
// If the value is an object, member (unless nil) is offered each of its
// own members' keys, with s.i after the colon: it either consumes the
// value and returns true, or returns false to have walk skip it. (This
// is object() for objects with many members of which few are wanted:
// unwanted ones cost no call to skip.)
//
// walk is iterative: open holds the brackets of the containers it is
// inside (a small array on the stack covers any real payload; deeper
// nesting, up to maxDepth, grows it).
func (s *scanner) walk(member func(key []byte) (bool, error)) error {
	b := s.b
	var stack [32]byte
	open := stack[:0]
	fail := func(i int, what string) error {
		s.i = i
		return s.fail(what)
	}
	// offer returns member for the walked object's own keys, else nil
	offer := func(open []byte) func([]byte) (bool, error) {
		if len(open) == 1 {
			return member
		}
		return nil
	}
	i := s.i
	for {
		// i is where a value should start
		i = skipWS(b, i)
		if i >= len(b) {
			return fail(i, "unexpected end")
		}
		switch c := b[i]; c {
		case '{', '[':
			if s.depth+len(open)+1 > maxDepth {
				return fail(i, "nested too deep")
			}
			open = append(open, c)
			i = skipWS(b, i+1)
			switch {
			case i < len(b) && c == '{' && b[i] == '}', i < len(b) && c == '[' && b[i] == ']':
				open = open[:len(open)-1]
				i++
			case c == '{':
				var taken bool
				var err error
				if i, taken, err = s.key(i, offer(open)); err != nil {
					return err
				}
				if !taken {
					continue // to the member's value
				}
			default:
				continue // to the first element
			}
		case '"':
			end, _, bad := stringEnd(b, i+1)
			if bad >= 0 {
				return fail(bad, "bad string")
			}
			i = end + 1
		case 't', 'f', 'n':
			lit := "null"
			if c == 't' {
				lit = "true"
			} else if c == 'f' {
				lit = "false"
			}
			if !bytes.HasPrefix(b[i:], []byte(lit)) {
				return fail(i, "bad literal")
			}
			i += len(lit)
		default:
			end, _, ok := numberEnd(b, i)
			if !ok {
				return fail(i, "bad value")
			}
			i = end
		}
		// a value ended at i: close containers until one has more
		for {
			if len(open) == 0 {
				s.i = i
				return nil
			}
			i = skipWS(b, i)
			if i >= len(b) {
				return fail(i, "unexpected end")
			}
			top := open[len(open)-1]
			if b[i] == ',' {
				i++
				if top != '{' {
					break // to the next element
				}
				var taken bool
				var err error
				if i, taken, err = s.key(i, offer(open)); err != nil {
					return err
				}
				if taken {
					continue // member consumed the value
				}
				break // to the member's value
			}
			if top == '{' && b[i] == '}' || top == '[' && b[i] == ']' {
				open = open[:len(open)-1]
				i++
				continue
			}
			return fail(i, "want ',' or a closing bracket")
		}
	}
}

// key consumes an object key and its colon at i (spaces allowed) and
// offers it to member (if not nil), which may consume the value too.
func (s *scanner) key(i int, member func([]byte) (bool, error)) (next int, taken bool, err error) {
	b := s.b
	i = skipWS(b, i)
	if i >= len(b) || b[i] != '"' {
		s.i = i
		return 0, false, s.fail("want a key")
	}
	end, esc, bad := stringEnd(b, i+1)
	if bad >= 0 {
		s.i = bad
		return 0, false, s.fail("bad key")
	}
	k := b[i+1 : end]
	i = skipWS(b, end+1)
	if i >= len(b) || b[i] != ':' {
		s.i = i
		return 0, false, s.fail("want ':'")
	}
	i++
	if member == nil {
		return i, false, nil
	}
	if esc {
		k = unescape(nil, k)
	}
	s.i = i
	s.depth++ // inside the walked object
	taken, err = member(k)
	s.depth--
	if taken {
		i = s.i
	}
	return i, taken, err
}

// foldable reports whether key may match a lowercase ASCII name only
// case-insensitively (it has upper case or non-ASCII bytes).
func foldable(key []byte) bool {
	for _, c := range key {
		if c >= 'A' && c <= 'Z' || c >= 0x80 {
			return true
		}
	}
	return false
}

// field returns the index of key in names, matched as encoding/json
// matches keys to fields (exactly, else case-insensitively), or -1.
func field(key []byte, names []string) int {
	for i, n := range names {
		if string(key) == n {
			return i
		}
	}
	if foldable(key) {
		for i, n := range names {
			if bytes.EqualFold(key, []byte(n)) {
				return i
			}
		}
	}
	return -1
}
