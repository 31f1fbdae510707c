package glob

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// ErrBadPattern is wrapped by every Compile error.
var ErrBadPattern = errors.New("bad glob pattern")

type kind uint8

const (
	lit  kind = iota // literal text
	one              // ?: one rune, not '/'
	star             // *: any run without '/'
	any              // **: any run
	dirs             // **/ as whole segments: zero or more "segment/" runs
)

type token struct {
	kind kind
	text string // lit only
}

// Pattern is a compiled glob. The zero Pattern matches only the empty
// string.
type Pattern struct {
	src     string
	tokens  []token
	literal bool // no wildcards: Match is string equality with src unescaped
	lit     string
}

// String returns the pattern as written.
func (p Pattern) String() string { return p.src }

// Compile parses pattern. Empty patterns, a trailing `\` and runs of more
// than two `*` are errors.
func Compile(pattern string) (Pattern, error) {
	if pattern == "" {
		return Pattern{}, fmt.Errorf("%w: empty pattern", ErrBadPattern)
	}
	if !utf8.ValidString(pattern) {
		return Pattern{}, fmt.Errorf("%w %q: not valid UTF-8", ErrBadPattern, pattern)
	}
	p := Pattern{src: pattern}
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			p.tokens = append(p.tokens, token{kind: lit, text: b.String()})
			b.Reset()
		}
	}
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		switch c {
		case '\\':
			if i+1 == len(pattern) {
				return Pattern{}, fmt.Errorf("%w %q: trailing backslash", ErrBadPattern, pattern)
			}
			i++
			b.WriteByte(pattern[i])
		case '?':
			flush()
			p.tokens = append(p.tokens, token{kind: one})
		case '*':
			n := 1
			for i+1 < len(pattern) && pattern[i+1] == '*' {
				n++
				i++
			}
			if n > 2 {
				return Pattern{}, fmt.Errorf("%w %q: more than two '*' in a row", ErrBadPattern, pattern)
			}
			if n == 1 {
				flush()
				p.tokens = append(p.tokens, token{kind: star})
				continue
			}
			// "**" as a whole segment followed by '/' matches zero or
			// more whole segments; elsewhere it matches anything.
			start := i - 1
			wholeStart := start == 0 || pattern[start-1] == '/'
			if wholeStart && i+1 < len(pattern) && pattern[i+1] == '/' {
				flush()
				p.tokens = append(p.tokens, token{kind: dirs})
				i++ // the '/' belongs to the token
				continue
			}
			flush()
			p.tokens = append(p.tokens, token{kind: any})
		default:
			b.WriteByte(c)
		}
	}
	flush()
	if len(p.tokens) == 0 {
		// only escapes of nothing cannot happen; a pattern of literals
		// always yields a token.
		p.literal = true
		return p, nil
	}
	if len(p.tokens) == 1 && p.tokens[0].kind == lit {
		p.literal = true
		p.lit = p.tokens[0].text
	}
	return p, nil
}

// MustCompile is Compile for patterns known to be valid; it panics on
// error. Use it only with constants.
func MustCompile(pattern string) Pattern {
	p, err := Compile(pattern)
	if err != nil {
		panic(err)
	}
	return p
}

// Match reports whether s matches the whole pattern.
func (p Pattern) Match(s string) bool {
	if p.literal || len(p.tokens) == 0 {
		return s == p.lit
	}
	t := p.tokens
	ti, si := 0, 0
	// Backtrack points: the latest '*' (segment-bound) and the latest
	// '**' or '**/' (unbounded). A '*' can never need to extend past a
	// '/', so once it cannot, only the latest '**' can help.
	starT, starS := -1, 0
	anyT, anyS := -1, 0
	var anyKind kind
	for {
		if ti < len(t) {
			switch tk := t[ti]; tk.kind {
			case lit:
				if strings.HasPrefix(s[si:], tk.text) {
					ti++
					si += len(tk.text)
					continue
				}
			case one:
				if si < len(s) && s[si] != '/' {
					_, n := utf8.DecodeRuneInString(s[si:])
					ti++
					si += n
					continue
				}
			case star:
				starT, starS = ti, si
				ti++
				continue
			case any, dirs:
				anyT, anyS, anyKind = ti, si, tk.kind
				starT = -1
				ti++
				continue
			}
		} else if si == len(s) {
			return true
		}
		// Mismatch: extend the latest star by one rune if it may.
		if starT >= 0 && starS < len(s) && s[starS] != '/' {
			_, n := utf8.DecodeRuneInString(s[starS:])
			starS += n
			ti, si = starT+1, starS
			continue
		}
		starT = -1
		if anyT >= 0 && anyS < len(s) {
			if anyKind == any {
				_, n := utf8.DecodeRuneInString(s[anyS:])
				anyS += n
			} else {
				j := strings.IndexByte(s[anyS:], '/')
				if j < 0 {
					return false
				}
				anyS += j + 1
			}
			ti, si = anyT+1, anyS
			continue
		}
		return false
	}
}

// List is a list of compiled patterns.
type List []Pattern

// CompileList compiles every pattern; the error names the first bad one.
func CompileList(patterns []string) (List, error) {
	l := make(List, 0, len(patterns))
	for _, s := range patterns {
		p, err := Compile(s)
		if err != nil {
			return nil, err
		}
		l = append(l, p)
	}
	return l, nil
}

// Match reports whether s matches any pattern of l.
func (l List) Match(s string) bool {
	for _, p := range l {
		if p.Match(s) {
			return true
		}
	}
	return false
}

// String joins the patterns with ", ", as reasons quote them.
func (l List) String() string {
	var b strings.Builder
	for i, p := range l {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(p.src)
	}
	return b.String()
}
