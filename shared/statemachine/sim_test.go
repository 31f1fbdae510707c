package statemachine

// A small interpreter of the subset of ASL the generator writes, used to
// walk the definition's paths with realistic task results: it fails the
// test on any path that would raise States.Runtime in AWS (a JSONPath that
// matches nothing is fatal and cannot be caught), and measures transitions,
// history events and the size of every state's input and output.

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// taskError is a task failure: Error and optional Cause.
type taskError struct {
	Error string
	Cause *string
}

// taskFunc answers a Task state: its result, or an error.
type taskFunc func(state, resource string, params any) (any, *taskError)

type simResult struct {
	end         string // name of the terminal state
	endType     string // Succeed or Fail
	failError   string
	failCause   string
	transitions int
	history     int // history events without retries
	tasks       int // task states entered (each may retry)
	maxIO       int // largest state input or output, bytes
	maxIOState  string
	output      any
	events      []map[string]any // putEvents entries, in order
	path        []string
	waits       map[int]float64 // index in path of a Wait state -> its seconds
}

type runtimeError struct{ msg string }

func (e runtimeError) Error() string { return "States.Runtime: " + e.msg }

type sim struct {
	t      *testing.T
	states map[string]map[string]any
	ctx    map[string]any
}

func newSim(t *testing.T, def []byte) (*sim, string) {
	var d struct {
		StartAt string
		States  map[string]map[string]any
	}
	if err := json.Unmarshal(def, &d); err != nil {
		t.Fatal(err)
	}
	return &sim{t: t, states: d.States, ctx: map[string]any{
		"Execution": map[string]any{
			"Id":   "arn:aws:states:us-east-1:000000000000:execution:pushline-app:main-9fceb02d0ae5-3c2f0e4a81b7",
			"Name": "main-9fceb02d0ae5-3c2f0e4a81b7",
		},
		"Task": map[string]any{"Token": "AQCEAAAAKgAAAAMAAAAAAAAAAeMtSnJ2m9o4AYQ3cJ0example=="},
	}}, d.StartAt
}

func (s *sim) run(start string, input any, task taskFunc) simResult {
	var r simResult
	name := start
	data := clone(input)
	for steps := 0; ; steps++ {
		if steps > 10000 {
			s.t.Fatal("no end after 10000 states")
		}
		st, ok := s.states[name]
		if !ok {
			s.t.Fatalf("state %q does not exist", name)
		}
		r.transitions++
		r.path = append(r.path, name)
		r.measure(name, data)
		typ := st["Type"].(string)
		switch typ {
		case "Pass":
			r.history += 2
			var res any
			switch {
			case st["Parameters"] != nil:
				res = s.must(name, func() (any, error) { return s.payload(st["Parameters"], data) })
			case st["Result"] != nil:
				res = clone(st["Result"])
			default:
				res = data
			}
			data = s.must(name, func() (any, error) { return setPath(data, st["ResultPath"], res) })
			name = st["Next"].(string)
		case "Choice":
			r.history += 2
			next, _ := st["Default"].(string)
			for _, c := range st["Choices"].([]any) {
				rule := c.(map[string]any)
				if s.mustBool(name, rule, data) {
					next = rule["Next"].(string)
					break
				}
			}
			if next == "" {
				s.t.Fatalf("%s: no choice matched and no Default", name)
			}
			name = next
		case "Wait":
			r.history += 2
			if p, ok := st["SecondsPath"].(string); ok {
				secs := s.must(name, func() (any, error) { return s.get(p, data) })
				if r.waits == nil {
					r.waits = map[int]float64{}
				}
				r.waits[len(r.path)-1], _ = secs.(float64)
			}
			name = st["Next"].(string)
		case "Succeed":
			r.history += 3 // entered, exited, ExecutionSucceeded
			r.end, r.endType, r.output = name, typ, data
			return r
		case "Fail":
			r.history += 2 // entered, ExecutionFailed
			r.end, r.endType, r.output = name, typ, data
			r.failError = s.failField(name, st, "Error", data)
			r.failCause = s.failField(name, st, "Cause", data)
			return r
		case "Task":
			r.tasks++
			r.history += 5 // entered, scheduled, started, succeeded|failed, exited
			resource := st["Resource"].(string)
			if strings.HasSuffix(resource, ".sync") || strings.HasSuffix(resource, ".waitForTaskToken") {
				r.history++ // submitted
			}
			params := s.must(name, func() (any, error) { return s.payload(st["Parameters"], data) })
			r.measure(name+" (parameters)", params)
			if resource == resEvents {
				for _, e := range params.(map[string]any)["Entries"].([]any) {
					r.events = append(r.events, e.(map[string]any))
				}
			}
			res, terr := task(name, resource, params)
			if terr != nil {
				next := ""
				for _, c := range asSlice(st["Catch"]) {
					cm := c.(map[string]any)
					for _, e := range asSlice(cm["ErrorEquals"]) {
						if e == "States.ALL" || e == terr.Error {
							next = cm["Next"].(string)
							errOut := map[string]any{"Error": terr.Error}
							if terr.Cause != nil {
								errOut["Cause"] = *terr.Cause
							}
							data = s.must(name, func() (any, error) { return setPath(data, cm["ResultPath"], errOut) })
							break
						}
					}
					if next != "" {
						break
					}
				}
				if next == "" {
					s.t.Fatalf("%s: error %s not caught", name, terr.Error)
				}
				name = next
				continue
			}
			if sel := st["ResultSelector"]; sel != nil {
				res = s.must(name, func() (any, error) { return s.payloadOn(sel, res) })
			}
			data = s.must(name, func() (any, error) { return setPath(data, st["ResultPath"], res) })
			name = st["Next"].(string)
		default:
			s.t.Fatalf("%s: state type %s not simulated", name, typ)
		}
	}
}

func (r *simResult) measure(name string, v any) {
	b, _ := json.Marshal(v)
	if len(b) > r.maxIO {
		r.maxIO, r.maxIOState = len(b), name
	}
}

func (s *sim) must(state string, f func() (any, error)) any {
	s.t.Helper()
	v, err := f()
	if err != nil {
		s.t.Fatalf("state %q: %v", state, err)
	}
	return v
}

func (s *sim) mustBool(state string, rule map[string]any, data any) bool {
	s.t.Helper()
	b, err := s.choice(rule, data)
	if err != nil {
		s.t.Fatalf("state %q: %v", state, err)
	}
	return b
}

func (s *sim) failField(state string, st map[string]any, f string, data any) string {
	if v, ok := st[f].(string); ok {
		return v
	}
	p, ok := st[f+"Path"].(string)
	if !ok {
		return ""
	}
	v := s.must(state, func() (any, error) { return s.value(p, data) })
	str, ok := v.(string)
	if !ok {
		s.t.Fatalf("%s: %sPath is not a string", state, f)
	}
	return str
}

func (s *sim) choice(rule map[string]any, data any) (bool, error) {
	if and, ok := rule["And"]; ok {
		for _, r := range and.([]any) {
			b, err := s.choice(r.(map[string]any), data)
			if err != nil || !b {
				return false, err
			}
		}
		return true, nil
	}
	if not, ok := rule["Not"]; ok {
		b, err := s.choice(not.(map[string]any), data)
		return !b, err
	}
	path := rule["Variable"].(string)
	if want, ok := rule["IsPresent"]; ok {
		_, err := s.get(path, data)
		return (err == nil) == want.(bool), nil
	}
	v, err := s.get(path, data)
	if err != nil {
		return false, err
	}
	switch {
	case rule["BooleanEquals"] != nil:
		return v == rule["BooleanEquals"], nil
	case rule["StringEquals"] != nil:
		return v == rule["StringEquals"], nil
	case rule["StringMatches"] != nil:
		str, _ := v.(string)
		return matches(rule["StringMatches"].(string), str), nil
	case rule["NumericLessThan"] != nil:
		return v.(float64) < rule["NumericLessThan"].(float64), nil
	}
	return false, fmt.Errorf("choice rule %v not simulated", rule)
}

// matches is StringMatches for patterns whose only wildcard is '*'.
func matches(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for i, p := range parts[1:] {
		if i == len(parts)-2 {
			return len(s) >= len(p) && strings.HasSuffix(s, p)
		}
		j := strings.Index(s, p)
		if j < 0 {
			return false
		}
		s = s[j+len(p):]
	}
	return s == ""
}

func (s *sim) payload(tmpl, data any) (any, error) { return s.template(tmpl, data) }
func (s *sim) payloadOn(tmpl, result any) (any, error) {
	return s.template(tmpl, result)
}

func (s *sim) template(tmpl, data any) (any, error) {
	switch t := tmpl.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, v := range t {
			if name, ok := strings.CutSuffix(k, ".$"); ok {
				val, err := s.value(v.(string), data)
				if err != nil {
					return nil, fmt.Errorf("field %s: %w", k, err)
				}
				out[name] = val
				continue
			}
			val, err := s.template(v, data)
			if err != nil {
				return nil, err
			}
			out[k] = val
		}
		return out, nil
	case []any:
		out := make([]any, len(t))
		for i, v := range t {
			val, err := s.template(v, data)
			if err != nil {
				return nil, err
			}
			out[i] = val
		}
		return out, nil
	}
	return tmpl, nil
}

// value evaluates a path or an intrinsic function.
func (s *sim) value(expr string, data any) (any, error) {
	if strings.HasPrefix(expr, "States.") {
		return s.intrinsic(expr, data)
	}
	return s.get(expr, data)
}

func (s *sim) get(path string, data any) (any, error) {
	root := data
	rest := ""
	switch {
	case strings.HasPrefix(path, "$$"):
		root, rest = s.ctx, path[2:]
	case strings.HasPrefix(path, "$"):
		rest = path[1:]
	default:
		return nil, fmt.Errorf("bad path %q", path)
	}
	cur := root
	for _, f := range strings.Split(strings.TrimPrefix(rest, "."), ".") {
		if f == "" {
			continue
		}
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, runtimeError{"no results for path " + path}
		}
		if cur, ok = m[f]; !ok {
			return nil, runtimeError{"no results for path " + path}
		}
	}
	return cur, nil
}

func (s *sim) intrinsic(expr string, data any) (any, error) {
	open := strings.IndexByte(expr, '(')
	fn, argText := expr[:open], expr[open+1:len(expr)-1]
	var args []any
	for _, a := range splitArgs(argText) {
		switch {
		case strings.HasPrefix(a, "'"):
			args = append(args, strings.Trim(a, "'"))
		case strings.HasPrefix(a, "$"), strings.HasPrefix(a, "States."):
			v, err := s.value(a, data)
			if err != nil {
				return nil, err
			}
			args = append(args, v)
		default:
			n, err := strconv.ParseFloat(a, 64)
			if err != nil {
				return nil, fmt.Errorf("bad argument %q", a)
			}
			args = append(args, n)
		}
	}
	switch fn {
	case "States.Format":
		f := args[0].(string)
		if strings.Count(f, "{}") != len(args)-1 {
			return nil, fmt.Errorf("%s: %d placeholders, %d arguments", expr, strings.Count(f, "{}"), len(args)-1)
		}
		for _, a := range args[1:] {
			switch a.(type) {
			case string, float64, bool, nil:
			default:
				return nil, fmt.Errorf("%s: argument is not a scalar", expr)
			}
			f = strings.Replace(f, "{}", fmt.Sprint(a), 1)
		}
		return f, nil
	case "States.JsonToString":
		b, err := json.Marshal(args[0])
		return string(b), err
	case "States.StringToJson":
		var v any
		if err := json.Unmarshal([]byte(args[0].(string)), &v); err != nil {
			return nil, runtimeError{"StringToJson: " + err.Error()}
		}
		return v, nil
	case "States.Array":
		return args, nil
	case "States.MathAdd":
		return args[0].(float64) + args[1].(float64), nil
	}
	return nil, fmt.Errorf("intrinsic %s not simulated", fn)
}

func splitArgs(s string) []string {
	var out []string
	depth, quoted, start := 0, false, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			i++
		case c == '\'':
			quoted = !quoted
		case quoted:
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == ',' && depth == 0:
			out = append(out, strings.TrimSpace(s[start:i]))
			start = i + 1
		}
	}
	if strings.TrimSpace(s) != "" {
		out = append(out, strings.TrimSpace(s[start:]))
	}
	return out
}

// setPath applies a ResultPath: nil (JSON null) keeps the input, "$"
// replaces it, "$.a.b" sets the field, creating objects on the way.
func setPath(data any, rp any, v any) (any, error) {
	if rp == nil {
		return data, nil
	}
	p := rp.(string)
	if p == "$" {
		return v, nil
	}
	out := clone(data)
	m, ok := out.(map[string]any)
	if !ok {
		return nil, runtimeError{"ResultPath on a non-object"}
	}
	fields := strings.Split(strings.TrimPrefix(p, "$."), ".")
	for _, f := range fields[:len(fields)-1] {
		next, ok := m[f].(map[string]any)
		if !ok {
			if _, exists := m[f]; exists {
				return nil, runtimeError{"ResultPath " + p + " crosses a non-object"}
			}
			next = map[string]any{}
			m[f] = next
		}
		m = next
	}
	m[fields[len(fields)-1]] = v
	return out, nil
}

func clone(v any) any {
	b, _ := json.Marshal(v)
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}
