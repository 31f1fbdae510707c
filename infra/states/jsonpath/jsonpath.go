package jsonpath

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// ErrNoMatch is returned by Get when a definite path selects nothing.
var ErrNoMatch = errors.New("path matches nothing")

// ErrSyntax wraps every parse error.
var ErrSyntax = errors.New("invalid JSONPath")

// ErrSet is returned by Set when the path cannot be applied to the value
// (a member of a non-object, an index out of range).
var ErrSet = errors.New("path cannot be set")

type segKind int

const (
	segName segKind = iota
	segWild
	segIndex
	segSlice
	segFilter
)

type seg struct {
	kind      segKind
	recursive bool     // ".." before this segment
	names     []string // segName: one or more (union)
	idx       []int    // segIndex
	slice     [3]*int  // segSlice: start, end, step
	filter    *filter
}

// Path is a parsed JSONPath.
type Path struct {
	src  string
	segs []seg
}

// String returns the path as written.
func (p *Path) String() string { return p.src }

// Definite reports whether the path selects at most one value (no
// wildcard, union, slice, filter or recursive descent).
func (p *Path) Definite() bool {
	for _, s := range p.segs {
		if s.recursive || s.kind == segWild || s.kind == segSlice || s.kind == segFilter {
			return false
		}
		if (s.kind == segName && len(s.names) != 1) || (s.kind == segIndex && len(s.idx) != 1) {
			return false
		}
	}
	return true
}

// Reference reports whether the path is a Reference Path as the States
// Language defines it: only single member names and single non-negative
// indexes, so it can be used as a ResultPath.
func (p *Path) Reference() bool {
	for _, s := range p.segs {
		if s.recursive || !(s.kind == segName && len(s.names) == 1 || s.kind == segIndex && len(s.idx) == 1 && s.idx[0] >= 0) {
			return false
		}
	}
	return true
}

// MustParse is Parse for paths known to be valid; it panics otherwise.
func MustParse(s string) *Path {
	p, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return p
}

// Parse parses a path that starts with "$".
func Parse(s string) (*Path, error) {
	ps := &parser{s: s}
	p, err := ps.parse()
	if err != nil {
		return nil, fmt.Errorf("%w %q: %s", ErrSyntax, s, err.Error())
	}
	return p, nil
}

type parser struct {
	s   string
	pos int
}

func (ps *parser) parse() (*Path, error) {
	p := &Path{src: ps.s}
	if !strings.HasPrefix(ps.s, "$") {
		return nil, errors.New("must start with '$'")
	}
	ps.pos = 1
	for ps.pos < len(ps.s) {
		c := ps.s[ps.pos]
		switch c {
		case '.':
			recursive := false
			ps.pos++
			if ps.pos < len(ps.s) && ps.s[ps.pos] == '.' {
				recursive = true
				ps.pos++
			}
			if ps.pos >= len(ps.s) {
				return nil, errors.New("ends with '.'")
			}
			if ps.s[ps.pos] == '[' {
				if !recursive {
					return nil, errors.New("'.[' is not allowed")
				}
				sg, err := ps.bracket()
				if err != nil {
					return nil, err
				}
				sg.recursive = true
				p.segs = append(p.segs, sg)
				continue
			}
			if ps.s[ps.pos] == '*' {
				ps.pos++
				p.segs = append(p.segs, seg{kind: segWild, recursive: recursive})
				continue
			}
			start := ps.pos
			for ps.pos < len(ps.s) && ps.s[ps.pos] != '.' && ps.s[ps.pos] != '[' {
				ps.pos++
			}
			name := ps.s[start:ps.pos]
			if strings.TrimSpace(name) == "" {
				return nil, errors.New("empty member name")
			}
			p.segs = append(p.segs, seg{kind: segName, names: []string{name}, recursive: recursive})
		case '[':
			sg, err := ps.bracket()
			if err != nil {
				return nil, err
			}
			p.segs = append(p.segs, sg)
		default:
			return nil, fmt.Errorf("unexpected %q at offset %d", c, ps.pos)
		}
	}
	return p, nil
}

func (ps *parser) skipSpace() {
	for ps.pos < len(ps.s) && ps.s[ps.pos] == ' ' {
		ps.pos++
	}
}

// bracket parses "[...]" starting at '['.
func (ps *parser) bracket() (seg, error) {
	ps.pos++ // '['
	ps.skipSpace()
	if ps.pos >= len(ps.s) {
		return seg{}, errors.New("unterminated '['")
	}
	switch c := ps.s[ps.pos]; {
	case c == '*':
		ps.pos++
		ps.skipSpace()
		if err := ps.expect(']'); err != nil {
			return seg{}, err
		}
		return seg{kind: segWild}, nil
	case c == '\'' || c == '"':
		var names []string
		for {
			ps.skipSpace()
			name, err := ps.quoted()
			if err != nil {
				return seg{}, err
			}
			names = append(names, name)
			ps.skipSpace()
			if ps.pos < len(ps.s) && ps.s[ps.pos] == ',' {
				ps.pos++
				continue
			}
			break
		}
		if err := ps.expect(']'); err != nil {
			return seg{}, err
		}
		return seg{kind: segName, names: names}, nil
	case c == '?':
		ps.pos++
		end := strings.LastIndex(ps.s[ps.pos:], ")]")
		if end < 0 || !strings.HasPrefix(ps.s[ps.pos:], "(") {
			return seg{}, errors.New("filter must be '[?(...)]'")
		}
		body := ps.s[ps.pos+1 : ps.pos+end]
		f, err := parseFilter(body)
		if err != nil {
			return seg{}, err
		}
		ps.pos += end + 2
		return seg{kind: segFilter, filter: f}, nil
	default:
		// indexes, unions of indexes, slices
		end := strings.IndexByte(ps.s[ps.pos:], ']')
		if end < 0 {
			return seg{}, errors.New("unterminated '['")
		}
		body := strings.TrimSpace(ps.s[ps.pos : ps.pos+end])
		ps.pos += end + 1
		if strings.Contains(body, ":") {
			parts := strings.Split(body, ":")
			if len(parts) > 3 {
				return seg{}, fmt.Errorf("bad slice %q", body)
			}
			var sl [3]*int
			for i, part := range parts {
				part = strings.TrimSpace(part)
				if part == "" {
					continue
				}
				n, err := strconv.Atoi(part)
				if err != nil {
					return seg{}, fmt.Errorf("bad slice %q", body)
				}
				sl[i] = &n
			}
			if sl[2] != nil && *sl[2] == 0 {
				return seg{}, errors.New("slice step 0")
			}
			return seg{kind: segSlice, slice: sl}, nil
		}
		var idx []int
		for _, part := range strings.Split(body, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(part))
			if err != nil {
				return seg{}, fmt.Errorf("bad index %q", body)
			}
			idx = append(idx, n)
		}
		return seg{kind: segIndex, idx: idx}, nil
	}
}

func (ps *parser) expect(c byte) error {
	if ps.pos >= len(ps.s) || ps.s[ps.pos] != c {
		return fmt.Errorf("expected %q at offset %d", c, ps.pos)
	}
	ps.pos++
	return nil
}

func (ps *parser) quoted() (string, error) {
	if ps.pos >= len(ps.s) || (ps.s[ps.pos] != '\'' && ps.s[ps.pos] != '"') {
		return "", fmt.Errorf("expected a quoted name at offset %d", ps.pos)
	}
	q := ps.s[ps.pos]
	ps.pos++
	var b strings.Builder
	for ps.pos < len(ps.s) {
		c := ps.s[ps.pos]
		if c == '\\' && ps.pos+1 < len(ps.s) {
			b.WriteByte(ps.s[ps.pos+1])
			ps.pos += 2
			continue
		}
		if c == q {
			ps.pos++
			return b.String(), nil
		}
		b.WriteByte(c)
		ps.pos++
	}
	return "", errors.New("unterminated quoted name")
}

// Get evaluates the path against v. A definite path returns the one value
// it selects, or ErrNoMatch. Any other path returns a []any of every match
// (possibly empty).
func (p *Path) Get(v any) (any, error) {
	if p.Definite() {
		cur := v
		for _, s := range p.segs {
			switch s.kind {
			case segName:
				m, ok := cur.(map[string]any)
				if !ok {
					return nil, ErrNoMatch
				}
				nv, ok := m[s.names[0]]
				if !ok {
					return nil, ErrNoMatch
				}
				cur = nv
			case segIndex:
				a, ok := cur.([]any)
				if !ok {
					return nil, ErrNoMatch
				}
				i := s.idx[0]
				if i < 0 {
					i += len(a)
				}
				if i < 0 || i >= len(a) {
					return nil, ErrNoMatch
				}
				cur = a[i]
			}
		}
		return cur, nil
	}
	cur := []any{v}
	for _, s := range p.segs {
		var next []any
		for _, c := range cur {
			if s.recursive {
				for _, d := range descendants(c, nil) {
					next = s.apply(d, next)
				}
			} else {
				next = s.apply(c, next)
			}
		}
		cur = next
	}
	if cur == nil {
		cur = []any{}
	}
	return cur, nil
}

// descendants returns v and every value nested in it, in document order.
func descendants(v any, out []any) []any {
	out = append(out, v)
	switch t := v.(type) {
	case map[string]any:
		for _, k := range sortedKeys(t) {
			out = descendants(t[k], out)
		}
	case []any:
		for _, e := range t {
			out = descendants(e, out)
		}
	}
	return out
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (s seg) apply(v any, out []any) []any {
	switch s.kind {
	case segName:
		if m, ok := v.(map[string]any); ok {
			for _, n := range s.names {
				if x, ok := m[n]; ok {
					out = append(out, x)
				}
			}
		}
	case segWild:
		switch t := v.(type) {
		case map[string]any:
			for _, k := range sortedKeys(t) {
				out = append(out, t[k])
			}
		case []any:
			out = append(out, t...)
		}
	case segIndex:
		if a, ok := v.([]any); ok {
			for _, i := range s.idx {
				if i < 0 {
					i += len(a)
				}
				if i >= 0 && i < len(a) {
					out = append(out, a[i])
				}
			}
		}
	case segSlice:
		a, ok := v.([]any)
		if !ok {
			return out
		}
		n := len(a)
		step := 1
		if s.slice[2] != nil {
			step = *s.slice[2]
		}
		norm := func(p *int, def int) int {
			if p == nil {
				return def
			}
			i := *p
			if i < 0 {
				i += n
			}
			return min(max(i, 0), n)
		}
		if step > 0 {
			for i := norm(s.slice[0], 0); i < norm(s.slice[1], n); i += step {
				out = append(out, a[i])
			}
		} else {
			start := n - 1
			if s.slice[0] != nil {
				start = min(norm(s.slice[0], 0), n-1)
			}
			end := -1
			if s.slice[1] != nil {
				end = norm(s.slice[1], 0)
			}
			for i := start; i > end && i >= 0; i += step {
				out = append(out, a[i])
			}
		}
	case segFilter:
		switch t := v.(type) {
		case []any:
			for _, e := range t {
				if s.filter.match(e) {
					out = append(out, e)
				}
			}
		case map[string]any:
			for _, k := range sortedKeys(t) {
				if s.filter.match(t[k]) {
					out = append(out, t[k])
				}
			}
		}
	}
	return out
}

// Set returns a copy of root with the value at the path replaced by val
// (ResultPath semantics): missing objects on the way are created; a
// member of a non-object, or an index outside an array, is ErrSet. Only
// reference paths can be set.
func (p *Path) Set(root, val any) (any, error) {
	if !p.Reference() {
		return nil, fmt.Errorf("%w: %s is not a reference path", ErrSet, p.src)
	}
	return set(root, p.segs, val, true)
}

func set(cur any, segs []seg, val any, exists bool) (any, error) {
	if len(segs) == 0 {
		return val, nil
	}
	s := segs[0]
	switch s.kind {
	case segName:
		var m map[string]any
		switch t := cur.(type) {
		case map[string]any:
			m = make(map[string]any, len(t)+1)
			for k, v := range t {
				m[k] = v
			}
		default:
			if exists {
				return nil, fmt.Errorf("%w: %q is not an object", ErrSet, s.names[0])
			}
			m = map[string]any{}
		}
		old, ok := m[s.names[0]]
		nv, err := set(old, segs[1:], val, ok)
		if err != nil {
			return nil, err
		}
		m[s.names[0]] = nv
		return m, nil
	case segIndex:
		a, ok := cur.([]any)
		i := s.idx[0]
		if !ok || i >= len(a) {
			return nil, fmt.Errorf("%w: index %d out of range", ErrSet, i)
		}
		na := append([]any(nil), a...)
		nv, err := set(a[i], segs[1:], val, true)
		if err != nil {
			return nil, err
		}
		na[i] = nv
		return na, nil
	}
	return nil, ErrSet
}

// filter is "@.path op literal", "@.path" (existence), joined by && / ||.
type filter struct {
	or  []*filter // any of
	and []*filter // all of
	// leaf
	path *Path
	op   string
	lit  any
}

func parseFilter(s string) (*filter, error) {
	if parts := splitTop(s, "||"); len(parts) > 1 {
		f := &filter{}
		for _, p := range parts {
			sub, err := parseFilter(p)
			if err != nil {
				return nil, err
			}
			f.or = append(f.or, sub)
		}
		return f, nil
	}
	if parts := splitTop(s, "&&"); len(parts) > 1 {
		f := &filter{}
		for _, p := range parts {
			sub, err := parseFilter(p)
			if err != nil {
				return nil, err
			}
			f.and = append(f.and, sub)
		}
		return f, nil
	}
	s = strings.TrimSpace(s)
	for _, op := range []string{"==", "!=", "<=", ">=", "<", ">"} {
		if i := strings.Index(s, op); i > 0 {
			lhs := strings.TrimSpace(s[:i])
			rhs := strings.TrimSpace(s[i+len(op):])
			path, err := atPath(lhs)
			if err != nil {
				return nil, err
			}
			var lit any
			if strings.HasPrefix(rhs, "'") && strings.HasSuffix(rhs, "'") && len(rhs) >= 2 {
				lit = rhs[1 : len(rhs)-1]
			} else {
				d := json.NewDecoder(strings.NewReader(rhs))
				d.UseNumber()
				if err := d.Decode(&lit); err != nil {
					return nil, fmt.Errorf("bad filter literal %q", rhs)
				}
			}
			return &filter{path: path, op: op, lit: lit}, nil
		}
	}
	path, err := atPath(s)
	if err != nil {
		return nil, err
	}
	return &filter{path: path}, nil
}

func splitTop(s, sep string) []string {
	var parts []string
	quote := byte(0)
	last := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if quote != 0 {
			if c == quote {
				quote = 0
			}
			continue
		}
		if c == '\'' || c == '"' {
			quote = c
			continue
		}
		if strings.HasPrefix(s[i:], sep) {
			parts = append(parts, s[last:i])
			i += len(sep) - 1
			last = i + 1
		}
	}
	return append(parts, s[last:])
}

func atPath(s string) (*Path, error) {
	if !strings.HasPrefix(s, "@") {
		return nil, fmt.Errorf("filter operand %q must start with '@'", s)
	}
	p, err := (&parser{s: "$" + s[1:]}).parse()
	if err != nil {
		return nil, err
	}
	return p, nil
}

func (f *filter) match(v any) bool {
	if f.or != nil {
		for _, s := range f.or {
			if s.match(v) {
				return true
			}
		}
		return false
	}
	if f.and != nil {
		for _, s := range f.and {
			if !s.match(v) {
				return false
			}
		}
		return true
	}
	got, err := f.path.Get(v)
	if err != nil {
		return false
	}
	if f.op == "" {
		return true
	}
	if a, ok := toFloat(got); ok {
		b, ok := toFloat(f.lit)
		if !ok {
			return f.op == "!="
		}
		return cmpOp(f.op, compare(a, b))
	}
	if a, ok := got.(string); ok {
		b, ok := f.lit.(string)
		if !ok {
			return f.op == "!="
		}
		return cmpOp(f.op, strings.Compare(a, b))
	}
	switch f.op {
	case "==":
		return fmt.Sprint(got) == fmt.Sprint(f.lit)
	case "!=":
		return fmt.Sprint(got) != fmt.Sprint(f.lit)
	}
	return false
}

func compare(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpOp(op string, c int) bool {
	switch op {
	case "==":
		return c == 0
	case "!=":
		return c != 0
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	case ">=":
		return c >= 0
	}
	return false
}

func toFloat(v any) (float64, bool) {
	switch t := v.(type) {
	case json.Number:
		f, err := t.Float64()
		return f, err == nil
	case float64:
		return t, true
	case int:
		return float64(t), true
	case int64:
		return float64(t), true
	}
	return 0, false
}

// Normalized returns the path as Jayway's JsonPath prints it in its "No
// results for path" errors (and Step Functions with it): "$['a']['b'][0]".
// Paths with wildcards, slices, filters or descent are returned as written.
func (p *Path) Normalized() string {
	var b strings.Builder
	b.WriteByte('$')
	for _, s := range p.segs {
		switch {
		case s.recursive:
			return p.src
		case s.kind == segName && len(s.names) == 1:
			b.WriteString("['")
			b.WriteString(s.names[0])
			b.WriteString("']")
		case s.kind == segIndex && len(s.idx) == 1:
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(s.idx[0]))
			b.WriteByte(']')
		default:
			return p.src
		}
	}
	return b.String()
}
