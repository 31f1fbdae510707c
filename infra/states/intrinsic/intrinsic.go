// Package intrinsic parses and evaluates the Amazon States Language
// intrinsic functions (States.Format, States.StringToJson, States.Array…,
// States.MathAdd, States.UUID and the rest AWS lists) that may appear as
// the value of a "key.$" field, a Fail state's ErrorPath/CausePath, and
// wherever AWS accepts them.
package intrinsic

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"maps"
	"math"
	"math/big"
	mrand "math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/pushline/pushline/infra/states/jsonpath"
	"github.com/pushline/pushline/infra/states/jsonvalue"
)

// ErrSyntax wraps every parse error.
var ErrSyntax = errors.New("invalid intrinsic function")

// ErrPath is returned (wrapped) when a path argument matches nothing; the
// engine raises States.Runtime for it.
var ErrPath = errors.New("path matches nothing")

// ErrFailure wraps every evaluation error other than ErrPath; the engine
// raises States.IntrinsicFailure for it.
var ErrFailure = errors.New("intrinsic function failed")

// Is reports whether s looks like an intrinsic function call.
func Is(s string) bool { return strings.HasPrefix(s, "States.") }

// Call is a parsed intrinsic function call.
type Call struct {
	src  string
	name string
	args []arg
}

type argKind int

const (
	argLit argKind = iota
	argPath
	argCtxPath
	argCall
)

type arg struct {
	kind argKind
	lit  any    // argLit
	raw  string // argLit strings: the text between the quotes, escapes kept
	path *jsonpath.Path
	call *Call
}

// String returns the call as written.
func (c *Call) String() string { return c.src }

var arity = map[string][2]int{ // min, max (-1: any)
	"States.Format":         {1, -1},
	"States.StringToJson":   {1, 1},
	"States.JsonToString":   {1, 1},
	"States.Array":          {0, -1},
	"States.ArrayPartition": {2, 2},
	"States.ArrayContains":  {2, 2},
	"States.ArrayRange":     {3, 3},
	"States.ArrayGetItem":   {2, 2},
	"States.ArrayLength":    {1, 1},
	"States.ArrayUnique":    {1, 1},
	"States.Base64Encode":   {1, 1},
	"States.Base64Decode":   {1, 1},
	"States.Hash":           {2, 2},
	"States.JsonMerge":      {3, 3},
	"States.MathRandom":     {2, 3},
	"States.MathAdd":        {2, 2},
	"States.StringSplit":    {2, 2},
	"States.UUID":           {0, 0},
}

// Parse parses one call, e.g. "States.Format('Hello, {}', $.name)".
func Parse(s string) (*Call, error) {
	p := &parser{s: s}
	c, err := p.call()
	if err == nil {
		p.space()
		if p.pos != len(p.s) {
			err = fmt.Errorf("unexpected %q after the call", p.s[p.pos:])
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%w %q: %s", ErrSyntax, s, err.Error())
	}
	return c, nil
}

type parser struct {
	s   string
	pos int
}

func (p *parser) space() {
	for p.pos < len(p.s) && (p.s[p.pos] == ' ' || p.s[p.pos] == '\t' || p.s[p.pos] == '\n') {
		p.pos++
	}
}

func (p *parser) call() (*Call, error) {
	start := p.pos
	open := strings.IndexByte(p.s[p.pos:], '(')
	if open < 0 {
		return nil, errors.New("missing '('")
	}
	name := strings.TrimSpace(p.s[p.pos : p.pos+open])
	ar, ok := arity[name]
	if !ok {
		return nil, fmt.Errorf("unknown function %q", name)
	}
	p.pos += open + 1
	c := &Call{name: name}
	p.space()
	if p.pos < len(p.s) && p.s[p.pos] == ')' {
		p.pos++
	} else {
		for {
			p.space()
			a, err := p.arg()
			if err != nil {
				return nil, err
			}
			c.args = append(c.args, a)
			p.space()
			if p.pos >= len(p.s) {
				return nil, errors.New("missing ')'")
			}
			if p.s[p.pos] == ',' {
				p.pos++
				continue
			}
			if p.s[p.pos] == ')' {
				p.pos++
				break
			}
			return nil, fmt.Errorf("unexpected %q at offset %d", p.s[p.pos], p.pos)
		}
	}
	if len(c.args) < ar[0] || (ar[1] >= 0 && len(c.args) > ar[1]) {
		return nil, fmt.Errorf("%s takes %s arguments, got %d", name, arityText(ar), len(c.args))
	}
	c.src = p.s[start:p.pos]
	return c, nil
}

func arityText(ar [2]int) string {
	switch {
	case ar[1] < 0:
		return fmt.Sprintf("at least %d", ar[0])
	case ar[0] == ar[1]:
		return strconv.Itoa(ar[0])
	}
	return fmt.Sprintf("%d to %d", ar[0], ar[1])
}

func (p *parser) arg() (arg, error) {
	if p.pos >= len(p.s) {
		return arg{}, errors.New("missing argument")
	}
	rest := p.s[p.pos:]
	switch {
	case rest[0] == '\'':
		p.pos++
		var val, raw strings.Builder
		for p.pos < len(p.s) {
			c := p.s[p.pos]
			if c == '\\' && p.pos+1 < len(p.s) {
				n := p.s[p.pos+1]
				val.WriteByte(n)
				raw.WriteByte('\\')
				raw.WriteByte(n)
				p.pos += 2
				continue
			}
			if c == '\'' {
				p.pos++
				return arg{kind: argLit, lit: val.String(), raw: raw.String()}, nil
			}
			val.WriteByte(c)
			raw.WriteByte(c)
			p.pos++
		}
		return arg{}, errors.New("unterminated string")
	case rest[0] == '$':
		end := p.pathEnd()
		text := strings.TrimSpace(p.s[p.pos:end])
		p.pos = end
		kind := argPath
		if strings.HasPrefix(text, "$$") {
			kind = argCtxPath
			text = text[1:]
		}
		path, err := jsonpath.Parse(text)
		if err != nil {
			return arg{}, err
		}
		return arg{kind: kind, path: path}, nil
	case strings.HasPrefix(rest, "States."):
		c, err := p.call()
		if err != nil {
			return arg{}, err
		}
		return arg{kind: argCall, call: c}, nil
	default:
		end := p.pathEnd()
		text := strings.TrimSpace(p.s[p.pos:end])
		p.pos = end
		switch text {
		case "true":
			return arg{kind: argLit, lit: true}, nil
		case "false":
			return arg{kind: argLit, lit: false}, nil
		case "null":
			return arg{kind: argLit, lit: nil}, nil
		}
		if _, err := strconv.ParseFloat(text, 64); err != nil || text == "" || strings.ContainsAny(text, "xXpP_") {
			return arg{}, fmt.Errorf("bad argument %q", text)
		}
		return arg{kind: argLit, lit: json.Number(text)}, nil
	}
}

// pathEnd finds the end of an unquoted argument: the next ',' or ')'
// outside brackets and quotes.
func (p *parser) pathEnd() int {
	depth := 0
	quote := byte(0)
	for i := p.pos; i < len(p.s); i++ {
		c := p.s[i]
		switch {
		case quote != 0:
			if c == '\\' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '[' || c == '(':
			depth++
		case c == ']':
			depth--
		case c == ')':
			if depth == 0 {
				return i
			}
			depth--
		case c == ',' && depth == 0:
			return i
		}
	}
	return len(p.s)
}

// Eval evaluates the call with input for "$" paths and ctx for "$$" paths.
func (c *Call) Eval(input, ctx any) (any, error) {
	vals := make([]any, len(c.args))
	for i, a := range c.args {
		switch a.kind {
		case argLit:
			vals[i] = a.lit
		case argPath, argCtxPath:
			root := input
			prefix := ""
			if a.kind == argCtxPath {
				root, prefix = ctx, "$"
			}
			v, err := a.path.Get(root)
			if err != nil {
				return nil, fmt.Errorf("%w: %s%s in %s", ErrPath, prefix, a.path, c.name)
			}
			vals[i] = v
		case argCall:
			v, err := a.call.Eval(input, ctx)
			if err != nil {
				return nil, err
			}
			vals[i] = v
		}
	}
	v, err := c.apply(vals)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %s", ErrFailure, c.name, err.Error())
	}
	return v, nil
}

func (c *Call) apply(v []any) (any, error) {
	switch c.name {
	case "States.Format":
		tmpl, ok := v[0].(string)
		if !ok {
			return nil, errors.New("the template must be a string")
		}
		raw := tmpl
		if c.args[0].kind == argLit {
			raw = c.args[0].raw
		}
		var b strings.Builder
		n := 1
		for i := 0; i < len(raw); i++ {
			ch := raw[i]
			if ch == '\\' && i+1 < len(raw) && c.args[0].kind == argLit {
				b.WriteByte(raw[i+1])
				i++
				continue
			}
			if ch == '{' && i+1 < len(raw) && raw[i+1] == '}' {
				if n >= len(v) {
					return nil, errors.New("more placeholders than arguments")
				}
				s, err := formatArg(v[n])
				if err != nil {
					return nil, err
				}
				b.WriteString(s)
				n++
				i++
				continue
			}
			b.WriteByte(ch)
		}
		if n != len(v) {
			return nil, errors.New("more arguments than placeholders")
		}
		return b.String(), nil
	case "States.StringToJson":
		s, ok := v[0].(string)
		if !ok {
			return nil, errors.New("the argument must be a string")
		}
		if strings.TrimSpace(s) == "" {
			return nil, nil // AWS: null for an empty or blank string
		}
		d := json.NewDecoder(strings.NewReader(s))
		d.UseNumber()
		var out any
		if err := d.Decode(&out); err != nil {
			return nil, fmt.Errorf("the argument is not JSON: %s", err.Error())
		}
		if d.More() {
			return nil, errors.New("the argument holds more than one JSON value")
		}
		return out, nil
	case "States.JsonToString":
		b, err := jsonvalue.Marshal(v[0])
		if err != nil {
			return nil, err
		}
		return string(b), nil
	case "States.Array":
		return append([]any{}, v...), nil
	case "States.ArrayPartition":
		a, err := array(v[0])
		if err != nil {
			return nil, err
		}
		n, err := integer(v[1])
		if err != nil || n <= 0 {
			return nil, errors.New("the chunk size must be a positive integer")
		}
		out := []any{}
		for i := 0; i < len(a); i += int(n) {
			out = append(out, append([]any{}, a[i:min(i+int(n), len(a))]...))
		}
		return out, nil
	case "States.ArrayContains":
		a, err := array(v[0])
		if err != nil {
			return nil, err
		}
		for _, e := range a {
			if jsonvalue.Equal(e, v[1]) {
				return true, nil
			}
		}
		return false, nil
	case "States.ArrayRange":
		var n [3]int64
		for i := range n {
			x, err := integer(v[i])
			if err != nil {
				return nil, err
			}
			n[i] = x
		}
		if n[2] == 0 {
			return nil, errors.New("the step must not be 0")
		}
		out := []any{}
		for x := n[0]; (n[2] > 0 && x <= n[1]) || (n[2] < 0 && x >= n[1]); x += n[2] {
			if len(out) == 1000 {
				return nil, errors.New("the range holds more than 1000 items")
			}
			out = append(out, json.Number(strconv.FormatInt(x, 10)))
		}
		return out, nil
	case "States.ArrayGetItem":
		a, err := array(v[0])
		if err != nil {
			return nil, err
		}
		i, err := integer(v[1])
		if err != nil {
			return nil, err
		}
		if i < 0 || i >= int64(len(a)) {
			return nil, fmt.Errorf("index %d out of range", i)
		}
		return a[i], nil
	case "States.ArrayLength":
		a, err := array(v[0])
		if err != nil {
			return nil, err
		}
		return json.Number(strconv.Itoa(len(a))), nil
	case "States.ArrayUnique":
		a, err := array(v[0])
		if err != nil {
			return nil, err
		}
		out := []any{}
	next:
		for _, e := range a {
			for _, o := range out {
				if jsonvalue.Equal(e, o) {
					continue next
				}
			}
			out = append(out, e)
		}
		return out, nil
	case "States.Base64Encode":
		s, ok := v[0].(string)
		if !ok {
			return nil, errors.New("the argument must be a string")
		}
		if len(s) > 10000 {
			return nil, errors.New("the input is longer than 10000 characters")
		}
		return base64.StdEncoding.EncodeToString([]byte(s)), nil
	case "States.Base64Decode":
		s, ok := v[0].(string)
		if !ok {
			return nil, errors.New("the argument must be a string")
		}
		if len(s) > 10000 {
			return nil, errors.New("the input is longer than 10000 characters")
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, errors.New("the argument is not base64")
		}
		return string(b), nil
	case "States.Hash":
		data, ok := v[0].(string)
		if !ok {
			b, err := jsonvalue.Marshal(v[0])
			if err != nil {
				return nil, err
			}
			data = string(b)
		}
		if len(data) > 10000 {
			return nil, errors.New("the input is longer than 10000 characters")
		}
		alg, _ := v[1].(string)
		var h hash.Hash
		switch alg {
		case "MD5":
			h = md5.New()
		case "SHA-1":
			h = sha1.New()
		case "SHA-256":
			h = sha256.New()
		case "SHA-384":
			h = sha512.New384()
		case "SHA-512":
			h = sha512.New()
		default:
			return nil, fmt.Errorf("unsupported algorithm %q (MD5, SHA-1, SHA-256, SHA-384, SHA-512)", alg)
		}
		h.Write([]byte(data))
		return hex.EncodeToString(h.Sum(nil)), nil
	case "States.JsonMerge":
		a, ok1 := v[0].(map[string]any)
		b, ok2 := v[1].(map[string]any)
		if !ok1 || !ok2 {
			return nil, errors.New("both arguments must be JSON objects")
		}
		if deep, ok := v[2].(bool); !ok || deep {
			return nil, errors.New("only the shallow mode (false) is supported")
		}
		out := make(map[string]any, len(a)+len(b))
		for k, x := range a {
			out[k] = x
		}
		for k, x := range b {
			out[k] = x
		}
		return out, nil
	case "States.MathRandom":
		lo, err := rounded(v[0])
		if err != nil {
			return nil, err
		}
		hi, err := rounded(v[1])
		if err != nil {
			return nil, err
		}
		if hi <= lo {
			return nil, errors.New("the end must be greater than the start")
		}
		var r *mrand.Rand
		if len(v) == 3 {
			seed, err := rounded(v[2])
			if err != nil {
				return nil, err
			}
			r = mrand.New(mrand.NewPCG(uint64(seed), 0))
		} else {
			var b [8]byte
			rand.Read(b[:])
			r = mrand.New(mrand.NewPCG(new(big.Int).SetBytes(b[:]).Uint64(), 1))
		}
		return json.Number(strconv.FormatInt(lo+r.Int64N(hi-lo), 10)), nil
	case "States.MathAdd":
		a, err := rounded(v[0])
		if err != nil {
			return nil, err
		}
		b, err := rounded(v[1])
		if err != nil {
			return nil, err
		}
		return json.Number(strconv.FormatInt(a+b, 10)), nil
	case "States.StringSplit":
		s, ok1 := v[0].(string)
		d, ok2 := v[1].(string)
		if !ok1 || !ok2 {
			return nil, errors.New("both arguments must be strings")
		}
		parts := strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(d, r) })
		out := make([]any, len(parts))
		for i, p := range parts {
			out[i] = p
		}
		return out, nil
	case "States.UUID":
		return uuid.NewString(), nil
	}
	return nil, fmt.Errorf("unknown function %s", c.name)
}

// formatArg prints a States.Format argument as AWS does: strings as they
// are, objects and arrays as Java prints its maps and lists
// ({Arg1=1, Arg2=[a, b]}), the rest as JSON.
func formatArg(v any) (string, error) {
	var b strings.Builder
	if err := appendJava(&b, v); err != nil {
		return "", err
	}
	return b.String(), nil
}

func appendJava(b *strings.Builder, v any) error {
	switch t := v.(type) {
	case string:
		b.WriteString(t)
	case nil:
		b.WriteString("null")
	case map[string]any:
		b.WriteByte('{')
		for i, k := range slices.Sorted(maps.Keys(t)) {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(k)
			b.WriteByte('=')
			if err := appendJava(b, t[k]); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		for i, e := range t {
			if i > 0 {
				b.WriteString(", ")
			}
			if err := appendJava(b, e); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	default:
		j, err := jsonvalue.Marshal(v)
		if err != nil {
			return err
		}
		b.Write(j)
	}
	return nil
}

func array(v any) ([]any, error) {
	a, ok := v.([]any)
	if !ok {
		return nil, errors.New("the argument must be an array")
	}
	return a, nil
}

func integer(v any) (int64, error) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, fmt.Errorf("%v is not a number", v)
	}
	if i, err := n.Int64(); err == nil {
		return i, nil
	}
	f, err := n.Float64()
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, fmt.Errorf("%s is not an integer", n)
	}
	return int64(f), nil
}

// rounded is a numeric argument of States.MathAdd and States.MathRandom:
// AWS rounds a non-integer half up (1.5 → 2, -1.5 → -1) instead of failing.
func rounded(v any) (int64, error) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, fmt.Errorf("%v is not a number", v)
	}
	if i, err := n.Int64(); err == nil {
		return i, nil
	}
	f, err := n.Float64()
	if err != nil || math.Abs(f) > 1<<53 {
		return 0, fmt.Errorf("%s is not an integer", n)
	}
	return int64(math.Floor(f + 0.5)), nil
}
