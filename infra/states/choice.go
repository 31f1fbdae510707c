package states

import (
	"encoding/json"
	"regexp"
	"strings"
	"sync"
)

// choiceEnv is what a Choice state's rules read: its input and, made when
// a path starting with $$ needs it, the context object.
type choiceEnv struct {
	x     *execution
	fr    *frame
	s     *state
	cp    *checkpoint
	input any
	cobj  any
}

// eval evaluates a path of a rule.
func (env *choiceEnv) eval(r *ref) (any, error) {
	if !r.ctx {
		return r.eval(env.input, nil)
	}
	if env.cobj == nil {
		env.cobj = env.x.ctxObject(env.fr, env.s, env.cp, "")
	}
	return r.eval(env.input, env.cobj)
}

// evalRule evaluates a Choice rule.
func evalRule(env *choiceEnv, r *rule) (bool, *TaskError) {
	s, cp := env.s, env.cp
	switch {
	case r.And != nil:
		for _, sub := range r.And {
			ok, err := evalRule(env, sub)
			if err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	case r.Or != nil:
		for _, sub := range r.Or {
			ok, err := evalRule(env, sub)
			if err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	case r.Not != nil:
		ok, err := evalRule(env, r.Not)
		return !ok, err
	}
	v, err := env.eval(r.Variable)
	if r.Op == "IsPresent" {
		return (err == nil) == (r.Value == true), nil
	}
	if err != nil {
		return false, runtimeErr(s, cp, "Invalid path '%s': The choice state's condition path references an invalid value.", r.Variable.src)
	}
	want := r.Value
	if r.ValueRef != nil {
		w, err := env.eval(r.ValueRef)
		if err != nil {
			return false, runtimeErr(s, cp, "Invalid path '%s': The choice state's condition path references an invalid value.", r.ValueRef.src)
		}
		want = w
	}
	switch r.Op {
	case "IsNull":
		return (v == nil) == (want == true), nil
	case "IsNumeric":
		_, ok := v.(json.Number)
		return ok == (want == true), nil
	case "IsString":
		_, ok := v.(string)
		return ok == (want == true), nil
	case "IsBoolean":
		_, ok := v.(bool)
		return ok == (want == true), nil
	case "IsTimestamp":
		str, ok := v.(string)
		if ok {
			_, ok = parseTimestamp(str)
		}
		return ok == (want == true), nil
	case "BooleanEquals":
		a, ok1 := v.(bool)
		b, ok2 := want.(bool)
		return ok1 && ok2 && a == b, nil
	case "StringMatches":
		a, ok1 := v.(string)
		pat, ok2 := want.(string)
		return ok1 && ok2 && stringMatches(pat, a), nil
	}
	kind := comparisons[r.Op]
	var c int
	switch kind {
	case "s":
		a, ok1 := v.(string)
		b, ok2 := want.(string)
		if !ok1 || !ok2 {
			return false, nil
		}
		c = strings.Compare(a, b)
	case "n":
		a, ok1 := num(v)
		b, ok2 := num(want)
		if !ok1 || !ok2 {
			return false, nil
		}
		c = cmpFloat(a, b)
	case "t":
		as, _ := v.(string)
		bs, _ := want.(string)
		a, ok1 := parseTimestamp(as)
		b, ok2 := parseTimestamp(bs)
		if !ok1 || !ok2 {
			return false, nil
		}
		c = a.Compare(b)
	}
	op := strings.TrimPrefix(strings.TrimPrefix(strings.TrimPrefix(r.Op, "String"), "Numeric"), "Timestamp")
	switch op {
	case "Equals":
		return c == 0, nil
	case "LessThan":
		return c < 0, nil
	case "GreaterThan":
		return c > 0, nil
	case "LessThanEquals":
		return c <= 0, nil
	case "GreaterThanEquals":
		return c >= 0, nil
	}
	return false, nil
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

var matchCache sync.Map // pattern → *regexp.Regexp

// stringMatches implements StringMatches: '*' matches any run of
// characters; '\*' and '\\' are a literal '*' and '\'.
func stringMatches(pat, s string) bool {
	if re, ok := matchCache.Load(pat); ok {
		return re.(*regexp.Regexp).MatchString(s)
	}
	var b strings.Builder
	b.WriteString("^(?s:")
	for i := 0; i < len(pat); i++ {
		c := pat[i]
		switch {
		case c == '\\' && i+1 < len(pat):
			b.WriteString(regexp.QuoteMeta(string(pat[i+1])))
			i++
		case c == '*':
			b.WriteString(".*")
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString(")$")
	re := regexp.MustCompile(b.String())
	matchCache.Store(pat, re)
	return re.MatchString(s)
}

// choice runs a Choice state: its output and the next state.
func (x *execution) choice(fr *frame, s *state, cp *checkpoint) (any, string, *TaskError) {
	eff, terr := x.inputPath(fr, s, cp, cp.Input)
	if terr != nil {
		return nil, "", terr
	}
	env := choiceEnv{x: x, fr: fr, s: s, cp: cp, input: eff}
	next := ""
	for _, r := range s.Choices {
		ok, terr := evalRule(&env, r)
		if terr != nil {
			return nil, "", terr
		}
		if ok {
			next = r.Next
			break
		}
	}
	if next == "" {
		next = s.Default
	}
	if next == "" {
		return nil, "", &TaskError{Name: ErrNameNoChoiceMatched, Cause: "No Choice Rules matched and no Default specified"}
	}
	out, terr := x.outputPath(fr, s, cp, eff)
	return out, next, terr
}
