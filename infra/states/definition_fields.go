package states

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"strconv"
	"strings"

	"github.com/pushline/pushline/infra/states/jsonpath"
)

// The checks of a definition's fields: paths, references, templates,
// Choice rules, retriers and catchers.

func num(v any) (float64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	f, err := n.Float64()
	return f, err == nil
}

func (c *checker) str(obj map[string]any, key, loc string, required bool) string {
	v, ok := obj[key]
	if !ok {
		if required {
			c.schema(loc, "These fields are required: [%s]", key)
		}
		return ""
	}
	s, ok := v.(string)
	if !ok {
		c.schema(loc+"/"+key, "The value for the field '%s' must be a STRING", key)
	}
	if ok && s == "" && required {
		c.schema(loc+"/"+key, "The value for the field '%s' must not be empty", key)
	}
	return s
}

func (c *checker) intField(obj map[string]any, key, loc string, lo, hi int) (int, bool) {
	v, ok := obj[key]
	if !ok {
		return 0, false
	}
	f, isNum := num(v)
	if !isNum || f != math.Trunc(f) || f < float64(lo) || f > float64(hi) {
		c.schema(loc+"/"+key, "The value for the field '%s' must be an integer between %d and %d", key, lo, hi)
		return 0, false
	}
	return int(f), true
}

func (c *checker) path(obj map[string]any, key, loc string, reference bool) path {
	v, ok := obj[key]
	if !ok {
		return path{}
	}
	if v == nil {
		return path{null: true}
	}
	s, ok := v.(string)
	if !ok {
		c.schema(loc+"/"+key, "The value for the field '%s' must be a STRING or null", key)
		return path{}
	}
	text, ctx := s, false
	if !reference && strings.HasPrefix(s, "$$") {
		// InputPath, OutputPath and ItemsPath may read the context object
		text, ctx = s[1:], true
	}
	p, err := jsonpath.Parse(text)
	if err != nil {
		c.add("INVALID_JSON_PATH", loc+"/"+key, "The value for the field '%s' must be a valid JSONPath: %s", key, s)
		return path{}
	}
	if reference && !p.Reference() {
		c.add("INVALID_JSON_PATH", loc+"/"+key, "The value for the field '%s' must be a valid Reference Path: %s", key, s)
		return path{}
	}
	return path{p: p, ctx: ctx, src: s}
}

func (c *checker) refField(obj map[string]any, key, loc string, allowIntrinsic bool) *ref {
	v, ok := obj[key]
	if !ok {
		return nil
	}
	s, ok := v.(string)
	if !ok {
		c.schema(loc+"/"+key, "The value for the field '%s' must be a STRING", key)
		return nil
	}
	r, err := compileRef(s, allowIntrinsic)
	if err != nil {
		c.add("INVALID_JSON_PATH", loc+"/"+key, "The value for the field '%s' must be a valid JSONPath%s: %s", key, map[bool]string{true: " or intrinsic function"}[allowIntrinsic], s)
		return nil
	}
	return r
}

func (c *checker) tmpl(v any, loc string) *tmpl {
	switch t := v.(type) {
	case map[string]any:
		out := &tmpl{kind: 'o'}
		dynamic := false
		for _, k := range sortedKeys(t) {
			x := t[k]
			if name, ok := strings.CutSuffix(k, ".$"); ok {
				s, isStr := x.(string)
				if !isStr {
					c.schema(loc+"/"+k, "The value for the field '%s' must be a STRING that contains a JSONPath or an intrinsic function", k)
					continue
				}
				r, err := compileRef(s, true)
				if err != nil {
					c.schema(loc+"/"+k, "The value for the field '%s' must be a valid JSONPath or a valid intrinsic function call", k)
					continue
				}
				out.fields = append(out.fields, tmplField{key: name, ref: r})
				out.usesCtx = out.usesCtx || strings.Contains(s, "$$")
				dynamic = true
				continue
			}
			sub := c.tmpl(x, loc+"/"+k)
			if sub.kind != 'l' {
				dynamic = true
			}
			out.usesCtx = out.usesCtx || sub.usesCtx
			out.fields = append(out.fields, tmplField{key: k, sub: sub})
		}
		if !dynamic {
			return &tmpl{kind: 'l', lit: v}
		}
		return out
	case []any:
		out := &tmpl{kind: 'a'}
		dynamic := false
		for i, x := range t {
			sub := c.tmpl(x, loc+"/"+strconv.Itoa(i))
			if sub.kind != 'l' {
				dynamic = true
			}
			out.usesCtx = out.usesCtx || sub.usesCtx
			out.items = append(out.items, sub)
		}
		if !dynamic {
			return &tmpl{kind: 'l', lit: v}
		}
		return out
	}
	return &tmpl{kind: 'l', lit: v}
}

var comparisons = map[string]string{ // operator → value kind: s string, n number, b bool, t timestamp, p path, x type test
	"StringEquals": "s", "StringLessThan": "s", "StringGreaterThan": "s", "StringLessThanEquals": "s", "StringGreaterThanEquals": "s", "StringMatches": "s",
	"NumericEquals": "n", "NumericLessThan": "n", "NumericGreaterThan": "n", "NumericLessThanEquals": "n", "NumericGreaterThanEquals": "n",
	"BooleanEquals":   "b",
	"TimestampEquals": "t", "TimestampLessThan": "t", "TimestampGreaterThan": "t", "TimestampLessThanEquals": "t", "TimestampGreaterThanEquals": "t",
	"IsNull": "x", "IsPresent": "x", "IsNumeric": "x", "IsString": "x", "IsBoolean": "x", "IsTimestamp": "x",
}

// ruleFields are the fields of a choice rule: the operators (and their
// …Path forms) and the combinators; choiceRuleFields add Next, for the
// rules of Choices.
var ruleFields, choiceRuleFields = func() (map[string]bool, map[string]bool) {
	m := set("Comment", "Variable", "And", "Or", "Not")
	for op, kind := range comparisons {
		m[op] = true
		if kind != "x" {
			m[op+"Path"] = true
		}
	}
	top := maps.Clone(m)
	top["Next"] = true
	return m, top
}()

func (c *checker) rule(v any, loc string, top bool) *rule {
	obj, ok := v.(map[string]any)
	if !ok {
		c.schema(loc, "A choice rule must be a JSON object")
		return &rule{}
	}
	r := &rule{}
	allowed := ruleFields
	if top {
		allowed = choiceRuleFields
		r.Next = c.str(obj, "Next", loc, true)
	}
	c.unknown(obj, allowed, loc)
	ops := 0
	for _, k := range sortedKeys(obj) {
		x := obj[k]
		switch k {
		case "And", "Or":
			arr, ok := x.([]any)
			if !ok || len(arr) == 0 {
				c.schema(loc+"/"+k, "The value for the field '%s' must be a non-empty array", k)
				continue
			}
			for i, e := range arr {
				sub := c.rule(e, fmt.Sprintf("%s/%s/%d", loc, k, i), false)
				if k == "And" {
					r.And = append(r.And, sub)
				} else {
					r.Or = append(r.Or, sub)
				}
			}
			ops++
		case "Not":
			r.Not = c.rule(x, loc+"/Not", false)
			ops++
		case "Variable":
			s, _ := x.(string)
			ref, err := compileRef(s, false)
			if err != nil {
				c.add("INVALID_JSON_PATH", loc+"/Variable", "The value for the field 'Variable' must be a valid JSONPath")
				continue
			}
			r.Variable = ref
		case "Comment", "Next":
		default:
			op := strings.TrimSuffix(k, "Path")
			kind, ok := comparisons[k]
			if !ok {
				s, _ := x.(string)
				ref, err := compileRef(s, false)
				if err != nil {
					c.add("INVALID_JSON_PATH", loc+"/"+k, "The value for the field '%s' must be a valid JSONPath", k)
				}
				r.Op, r.ValueRef = op, ref
				ops++
				continue
			}
			r.Op, r.Value = k, x
			ops++
			valid := true
			switch kind {
			case "s":
				_, valid = x.(string)
			case "n":
				_, valid = num(x)
			case "b", "x":
				_, valid = x.(bool)
			case "t":
				s, _ := x.(string)
				_, valid = parseTimestamp(s)
			}
			if !valid {
				c.schema(loc+"/"+k, "The value for the field '%s' has the wrong type", k)
			}
		}
	}
	if ops != 1 {
		c.schema(loc, "A choice rule must have exactly one comparison operator, And, Or or Not")
	}
	if r.Op != "" && r.Variable == nil {
		c.schema(loc, "These fields are required: [Variable]")
	}
	return r
}

var errorNames = set("States.ALL", "States.DataLimitExceeded", "States.Runtime", "States.Timeout", "States.TaskFailed", "States.Permissions",
	"States.ResultPathMatchFailure", "States.ParameterPathFailure", "States.BranchFailed", "States.NoChoiceMatched", "States.IntrinsicFailure",
	"States.HeartbeatTimeout", "States.ExceedToleratedFailureThreshold", "States.ItemReaderFailed", "States.ResultWriterFailed", "States.QueryEvaluationError")

func (c *checker) errorEquals(obj map[string]any, loc string) []string {
	arr, ok := obj["ErrorEquals"].([]any)
	if !ok || len(arr) == 0 {
		c.schema(loc, "These fields are required: [ErrorEquals] (a non-empty array)")
		return nil
	}
	var out []string
	for i, e := range arr {
		s, ok := e.(string)
		if !ok || s == "" {
			c.schema(fmt.Sprintf("%s/ErrorEquals/%d", loc, i), "An error name must be a non-empty STRING")
			continue
		}
		if strings.HasPrefix(s, "States.") && !errorNames[s] {
			c.schema(fmt.Sprintf("%s/ErrorEquals/%d", loc, i), "'%s' is not a predefined error name", s)
		}
		if s == "States.ALL" && len(arr) > 1 {
			c.schema(loc+"/ErrorEquals", "'States.ALL' must appear alone in ErrorEquals")
		}
		out = append(out, s)
	}
	return out
}

var (
	retrierFields = set("ErrorEquals", "IntervalSeconds", "MaxAttempts", "BackoffRate", "MaxDelaySeconds", "JitterStrategy", "Comment")
	catcherFields = set("ErrorEquals", "Next", "ResultPath", "Comment", "Assign")
)

func (c *checker) retry(s *state, obj map[string]any, loc string) {
	v, ok := obj["Retry"]
	if !ok {
		return
	}
	arr, ok := v.([]any)
	if !ok {
		c.schema(loc+"/Retry", "The value for the field 'Retry' must be an ARRAY")
		return
	}
	for i, e := range arr {
		rloc := fmt.Sprintf("%s/Retry/%d", loc, i)
		o, ok := e.(map[string]any)
		if !ok {
			c.schema(rloc, "A retrier must be a JSON object")
			continue
		}
		c.unknown(o, retrierFields, rloc)
		r := retrier{ErrorEquals: c.errorEquals(o, rloc), Interval: 1, MaxAttempts: 3, BackoffRate: 2}
		if n, ok := c.intField(o, "IntervalSeconds", rloc, 1, 99999999); ok {
			r.Interval = float64(n)
		}
		if n, ok := c.intField(o, "MaxAttempts", rloc, 0, 99999999); ok {
			r.MaxAttempts, r.maxAttemptsSet = n, true
		}
		if n, ok := c.intField(o, "MaxDelaySeconds", rloc, 1, 31622400); ok {
			r.MaxDelay = float64(n)
		}
		if x, ok := o["BackoffRate"]; ok {
			f, isNum := num(x)
			if !isNum || f < 1 {
				c.schema(rloc+"/BackoffRate", "The value for the field 'BackoffRate' must be a number >= 1.0")
			}
			r.BackoffRate = f
		}
		if x, ok := o["JitterStrategy"]; ok {
			switch x {
			case "FULL":
				r.JitterFull = true
			case "NONE":
			default:
				c.schema(rloc+"/JitterStrategy", "The value for the field 'JitterStrategy' must be one of: [FULL, NONE]")
			}
		}
		for _, name := range r.ErrorEquals {
			if name == "States.ALL" && i != len(arr)-1 {
				c.schema(rloc, "A retrier with 'States.ALL' must be the last one")
			}
		}
		s.Retry = append(s.Retry, r)
	}
}

func (c *checker) catch(s *state, obj map[string]any, loc string) {
	v, ok := obj["Catch"]
	if !ok {
		return
	}
	arr, ok := v.([]any)
	if !ok {
		c.schema(loc+"/Catch", "The value for the field 'Catch' must be an ARRAY")
		return
	}
	for i, e := range arr {
		cloc := fmt.Sprintf("%s/Catch/%d", loc, i)
		o, ok := e.(map[string]any)
		if !ok {
			c.schema(cloc, "A catcher must be a JSON object")
			continue
		}
		c.unknown(o, catcherFields, cloc)
		ca := catcher{ErrorEquals: c.errorEquals(o, cloc), Next: c.str(o, "Next", cloc, true), ResultPath: c.path(o, "ResultPath", cloc, true)}
		for _, name := range ca.ErrorEquals {
			if name == "States.ALL" && i != len(arr)-1 {
				c.schema(cloc, "A catcher with 'States.ALL' must be the last one")
			}
		}
		s.Catch = append(s.Catch, ca)
	}
}
