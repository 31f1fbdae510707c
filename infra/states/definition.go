package states

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/pushline/pushline/infra/states/intrinsic"
	"github.com/pushline/pushline/infra/states/jsonpath"
)

// Diagnostic is one definition problem, as ValidateStateMachineDefinition
// reports it.
type Diagnostic struct {
	Severity string `json:"severity"` // ERROR | WARNING
	Code     string `json:"code"`
	Message  string `json:"message"`
	Location string `json:"location,omitempty"`
}

// machine is a parsed state list: the top level, a Parallel branch or a
// Map item processor.
type machine struct {
	StartAt        string
	States         map[string]*state
	TimeoutSeconds int // top level only; 0 = none
}

// path is an optional path field: absent means "$" (set=false), JSON null
// means discard (null=true).
type path struct {
	p    *jsonpath.Path
	null bool
	ctx  bool   // the path reads the context object ($$)
	src  string // as written
}

type retrier struct {
	ErrorEquals    []string
	Interval       float64
	MaxAttempts    int
	BackoffRate    float64
	MaxDelay       float64 // 0 = none
	JitterFull     bool
	maxAttemptsSet bool
}

type catcher struct {
	ErrorEquals []string
	Next        string
	ResultPath  path
}

type state struct {
	Name       string
	Type       string
	Next       string
	End        bool
	InputPath  path
	OutputPath path
	ResultPath path
	Parameters *tmpl // also Map's ItemSelector
	Selector   *tmpl // ResultSelector
	Result     any   // Pass
	hasResult  bool

	Resource        string
	Timeout         int // seconds; 0 = none
	TimeoutPath     *ref
	Heartbeat       int
	HeartbeatPath   *ref
	Retry           []retrier
	Catch           []catcher
	Choices         []*rule
	Default         string
	Seconds         *float64
	SecondsPath     *ref
	Timestamp       string
	TimestampPath   *ref
	Error, Cause    string
	ErrorPath       *ref
	CausePath       *ref
	Branches        []*machine
	Processor       *machine
	ItemsPath       path
	MaxConcurrency  int
	MaxConcPath     *ref
	resourceService string // "lambda" for "arn:aws:states:::lambda:invoke"
	resourceAction  string
	pattern         string // "", "sync", "waitForTaskToken"
	baseResource    string
}

// ref is a path (on the input, or the context with $$) or an intrinsic call.
type ref struct {
	src  string
	p    *jsonpath.Path
	ctx  bool
	call *intrinsic.Call
}

func (r *ref) eval(input, ctx any) (any, error) {
	if r.call != nil {
		return r.call.Eval(input, ctx)
	}
	root := input
	if r.ctx {
		root = ctx
	}
	return r.p.Get(root)
}

// noResults is the error of a reference path that selects nothing.
func (r *ref) noResults() *TaskError {
	if r.p == nil {
		return &TaskError{Name: ErrNameRuntime, Cause: fmt.Sprintf("Invalid path '%s' : No results for path: %s", r.src, r.src)}
	}
	return noResults(r.src, r.p)
}

func compileRef(s string, allowIntrinsic bool) (*ref, error) {
	if allowIntrinsic && intrinsic.Is(s) {
		c, err := intrinsic.Parse(s)
		if err != nil {
			return nil, err
		}
		return &ref{src: s, call: c}, nil
	}
	r := &ref{src: s}
	text := s
	if strings.HasPrefix(s, "$$") {
		r.ctx = true
		text = s[1:]
	}
	p, err := jsonpath.Parse(text)
	if err != nil {
		return nil, err
	}
	r.p = p
	return r, nil
}

// tmpl is a compiled payload template (Parameters, ResultSelector,
// ItemSelector).
type tmpl struct {
	usesCtx bool // some value below reads the context object ($$)
	lit     any  // a value without any ".$" key below it
	fields  []tmplField
	items   []*tmpl
	kind    byte // 'l' literal, 'o' object, 'a' array
}

type tmplField struct {
	key string
	ref *ref
	sub *tmpl
}

type rule struct {
	And, Or  []*rule
	Not      *rule
	Variable *ref
	Op       string
	Value    any
	ValueRef *ref
	Next     string
}

type definitionError struct{ diags []Diagnostic }

func (e *definitionError) Error() string {
	var parts []string
	for _, d := range e.diags {
		parts = append(parts, d.Code+": "+d.Message+" at "+d.Location)
	}
	return "Invalid State Machine Definition: '" + strings.Join(parts, ", ") + "'"
}

type checker struct {
	diags []Diagnostic
	names map[string]string // state name → where it was first defined
}

func (c *checker) add(code, loc, format string, args ...any) {
	if len(c.diags) < 20 {
		c.diags = append(c.diags, Diagnostic{Severity: "ERROR", Code: code, Message: fmt.Sprintf(format, args...), Location: loc})
	}
}

func (c *checker) schema(loc, format string, args ...any) {
	c.add("SCHEMA_VALIDATION_FAILED", loc, format, args...)
}

// parseDefinition parses and validates a definition; the error, if any, is
// a *definitionError.
func parseDefinition(src string) (*machine, []Diagnostic) {
	var raw any
	d := json.NewDecoder(strings.NewReader(src))
	d.UseNumber()
	if err := d.Decode(&raw); err != nil {
		return nil, []Diagnostic{{Severity: "ERROR", Code: "INVALID_JSON_DESCRIPTION", Message: err.Error(), Location: "/"}}
	}
	if d.More() {
		return nil, []Diagnostic{{Severity: "ERROR", Code: "INVALID_JSON_DESCRIPTION", Message: "Unexpected content after the definition", Location: "/"}}
	}
	obj, ok := raw.(map[string]any)
	if !ok {
		return nil, []Diagnostic{{Severity: "ERROR", Code: "SCHEMA_VALIDATION_FAILED", Message: "The definition must be a JSON object", Location: "/"}}
	}
	c := &checker{}
	if ql, ok := obj["QueryLanguage"]; ok && ql != "JSONPath" {
		c.schema("/QueryLanguage", "Only the JSONPath query language is supported by the local engine, got %v", ql)
	}
	m := c.machine(obj, "", true)
	if len(c.diags) > 0 {
		return nil, c.diags
	}
	return m, nil
}

var topFields = set("Comment", "StartAt", "States", "TimeoutSeconds", "Version", "QueryLanguage")
var subFields = set("Comment", "StartAt", "States", "ProcessorConfig", "QueryLanguage")

func set(s ...string) map[string]bool {
	m := map[string]bool{}
	for _, x := range s {
		m[x] = true
	}
	return m
}

func (c *checker) unknown(obj map[string]any, allowed map[string]bool, loc string) {
	for _, k := range sortedKeys(obj) {
		if !allowed[k] {
			c.schema(loc, "Field '%s' is not supported", k)
		}
	}
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (c *checker) machine(obj map[string]any, loc string, top bool) *machine {
	if top {
		c.unknown(obj, topFields, loc+"/")
	} else {
		c.unknown(obj, subFields, loc)
	}
	m := &machine{States: map[string]*state{}}
	m.StartAt = c.str(obj, "StartAt", loc, true)
	if top {
		if n, ok := c.intField(obj, "TimeoutSeconds", loc, 0, 99999999); ok {
			m.TimeoutSeconds = n
		}
	}
	statesRaw, ok := obj["States"].(map[string]any)
	if !ok {
		if _, present := obj["States"]; present {
			c.schema(loc+"/States", "The value for the field 'States' must be an OBJECT")
		} else {
			c.schema(loc+"/", "These fields are required: [States]")
		}
		return m
	}
	if len(statesRaw) == 0 {
		c.schema(loc+"/States", "The field 'States' must not be empty")
	}
	for _, name := range sortedKeys(statesRaw) {
		sloc := loc + "/States/" + name
		if len([]rune(name)) > 80 || name == "" {
			c.add("INVALID_STATE_NAME", sloc, "State names must be 1 to 80 characters long")
		}
		if c.names == nil {
			c.names = map[string]string{}
		}
		if first, dup := c.names[name]; dup {
			c.add("DUPLICATE_STATE_NAME", sloc, "Duplicate State name: %s (first defined at %s)", name, first)
		} else {
			c.names[name] = sloc
		}
		so, ok := statesRaw[name].(map[string]any)
		if !ok {
			c.schema(sloc, "A state must be a JSON object")
			continue
		}
		m.States[name] = c.state(name, so, sloc)
	}
	if m.StartAt != "" {
		if _, ok := m.States[m.StartAt]; !ok && len(statesRaw) > 0 {
			c.add("MISSING_TRANSITION_TARGET", loc+"/StartAt", "Missing 'Next' target: %s", m.StartAt)
		}
	}
	// transitions and reachability
	reach := map[string]bool{}
	var visit func(string)
	visit = func(n string) {
		if reach[n] {
			return
		}
		s, ok := m.States[n]
		if !ok {
			return
		}
		reach[n] = true
		for _, t := range s.targets() {
			visit(t)
		}
	}
	terminal := false
	for _, name := range sortedKeys(statesRaw) {
		s := m.States[name]
		if s == nil {
			continue
		}
		for _, t := range s.targetsWithLoc() {
			if _, ok := m.States[t[0]]; !ok {
				c.add("MISSING_TRANSITION_TARGET", loc+"/States/"+name+t[1], "Missing 'Next' target: %s", t[0])
			}
		}
		if s.End || s.Type == "Succeed" || s.Type == "Fail" {
			terminal = true
		}
	}
	if len(c.diags) == 0 {
		if !terminal {
			c.add("MISSING_END_STATE", loc+"/States", "Workflow has no terminal state")
		}
		visit(m.StartAt)
		for _, name := range sortedKeys(statesRaw) {
			if !reach[name] {
				c.add("MISSING_TRANSITION_TARGET", loc+"/States/"+name, "State \"%s\" is not reachable.", name)
			}
		}
	}
	return m
}

func (s *state) targets() []string {
	var out []string
	for _, t := range s.targetsWithLoc() {
		out = append(out, t[0])
	}
	return out
}

func (s *state) targetsWithLoc() [][2]string {
	var out [][2]string
	if s.Next != "" {
		out = append(out, [2]string{s.Next, "/Next"})
	}
	if s.Default != "" {
		out = append(out, [2]string{s.Default, "/Default"})
	}
	for i, ch := range s.Choices {
		out = append(out, [2]string{ch.Next, fmt.Sprintf("/Choices/%d/Next", i)})
	}
	for i, ca := range s.Catch {
		out = append(out, [2]string{ca.Next, fmt.Sprintf("/Catch/%d/Next", i)})
	}
	return out
}

var fieldsByType = map[string]map[string]bool{
	"Task": set("Type", "Comment", "Next", "End", "InputPath", "OutputPath", "Parameters", "ResultSelector", "ResultPath", "Retry", "Catch",
		"Resource", "TimeoutSeconds", "TimeoutSecondsPath", "HeartbeatSeconds", "HeartbeatSecondsPath", "Credentials", "Assign"),
	"Pass":    set("Type", "Comment", "Next", "End", "InputPath", "OutputPath", "Parameters", "ResultPath", "Result", "Assign"),
	"Choice":  set("Type", "Comment", "InputPath", "OutputPath", "Choices", "Default", "Assign"),
	"Wait":    set("Type", "Comment", "Next", "End", "InputPath", "OutputPath", "Seconds", "SecondsPath", "Timestamp", "TimestampPath", "Assign"),
	"Succeed": set("Type", "Comment", "InputPath", "OutputPath"),
	"Fail":    set("Type", "Comment", "Error", "ErrorPath", "Cause", "CausePath"),
	"Parallel": set("Type", "Comment", "Next", "End", "InputPath", "OutputPath", "Parameters", "ResultSelector", "ResultPath", "Retry", "Catch",
		"Branches", "Assign"),
	"Map": set("Type", "Comment", "Next", "End", "InputPath", "OutputPath", "Parameters", "ItemSelector", "ResultSelector", "ResultPath", "Retry", "Catch",
		"Iterator", "ItemProcessor", "ItemsPath", "MaxConcurrency", "MaxConcurrencyPath", "ToleratedFailureCount", "ToleratedFailurePercentage", "Label", "Assign"),
}

func (c *checker) state(name string, obj map[string]any, loc string) *state {
	s := &state{Name: name}
	s.Type = c.str(obj, "Type", loc, true)
	allowed, ok := fieldsByType[s.Type]
	if !ok {
		if s.Type != "" {
			c.schema(loc+"/Type", "The value for the field 'Type' must be one of: [Task, Pass, Choice, Wait, Succeed, Fail, Parallel, Map]")
		}
		return s
	}
	c.unknown(obj, allowed, loc)
	if _, ok := obj["Assign"]; ok {
		c.schema(loc+"/Assign", "Variables (Assign) are not supported by the local engine")
	}
	s.Next = c.str(obj, "Next", loc, false)
	if v, ok := obj["End"]; ok {
		b, isBool := v.(bool)
		if !isBool {
			c.schema(loc+"/End", "The value for the field 'End' must be a BOOLEAN")
		}
		s.End = b
	}
	switch s.Type {
	case "Task", "Pass", "Wait", "Parallel", "Map":
		switch {
		case s.Next != "" && s.End:
			c.schema(loc, "Only one of 'Next' or 'End' may be set")
		case s.Next == "" && !s.End:
			c.schema(loc, "These fields are required: [Next | End]")
		}
	}
	s.InputPath = c.path(obj, "InputPath", loc, false)
	s.OutputPath = c.path(obj, "OutputPath", loc, false)
	s.ResultPath = c.path(obj, "ResultPath", loc, true)
	if v, ok := obj["Parameters"]; ok {
		s.Parameters = c.tmpl(v, loc+"/Parameters")
	}
	if v, ok := obj["ItemSelector"]; ok {
		if s.Parameters != nil {
			c.schema(loc, "Only one of 'Parameters' or 'ItemSelector' may be set")
		}
		s.Parameters = c.tmpl(v, loc+"/ItemSelector")
	}
	if v, ok := obj["ResultSelector"]; ok {
		if _, isObj := v.(map[string]any); !isObj {
			c.schema(loc+"/ResultSelector", "The value for the field 'ResultSelector' must be an OBJECT")
		}
		s.Selector = c.tmpl(v, loc+"/ResultSelector")
	}
	if v, ok := obj["Result"]; ok {
		s.Result, s.hasResult = v, true
	}
	c.retry(s, obj, loc)
	c.catch(s, obj, loc)
	switch s.Type {
	case "Task":
		s.Resource = c.str(obj, "Resource", loc, true)
		if s.Resource != "" && (!strings.HasPrefix(s.Resource, "arn:") || len(strings.Split(s.Resource, ":")) < 6) {
			c.add("INVALID_RESOURCE", loc+"/Resource", "Invalid resource: %s", s.Resource)
		}
		s.splitResource()
		if s.pattern == "waitForTaskToken" || s.pattern == "sync" {
			s.Timeout = 0
		}
		s.Timeout, _ = c.intField(obj, "TimeoutSeconds", loc, 1, 99999999)
		s.Heartbeat, _ = c.intField(obj, "HeartbeatSeconds", loc, 1, 99999999)
		s.TimeoutPath = c.refField(obj, "TimeoutSecondsPath", loc, false)
		s.HeartbeatPath = c.refField(obj, "HeartbeatSecondsPath", loc, false)
		if s.Timeout > 0 && s.TimeoutPath != nil {
			c.schema(loc, "Only one of 'TimeoutSeconds' or 'TimeoutSecondsPath' may be set")
		}
		if s.Heartbeat > 0 && s.HeartbeatPath != nil {
			c.schema(loc, "Only one of 'HeartbeatSeconds' or 'HeartbeatSecondsPath' may be set")
		}
		if s.Heartbeat > 0 && s.Timeout > 0 && s.Heartbeat >= s.Timeout {
			c.schema(loc+"/HeartbeatSeconds", "HeartbeatSeconds must be smaller than TimeoutSeconds")
		}
	case "Choice":
		arr, ok := obj["Choices"].([]any)
		if !ok || len(arr) == 0 {
			c.schema(loc, "These fields are required: [Choices] (a non-empty array)")
		}
		for i, r := range arr {
			s.Choices = append(s.Choices, c.rule(r, fmt.Sprintf("%s/Choices/%d", loc, i), true))
		}
		s.Default = c.str(obj, "Default", loc, false)
	case "Wait":
		n := 0
		if v, ok := obj["Seconds"]; ok {
			f, isNum := num(v)
			if !isNum || f < 0 || f > 99999999 || f != math.Trunc(f) {
				c.schema(loc+"/Seconds", "The value for the field 'Seconds' must be a non-negative integer")
			}
			s.Seconds = &f
			n++
		}
		if _, ok := obj["SecondsPath"]; ok {
			s.SecondsPath = c.refField(obj, "SecondsPath", loc, false)
			n++
		}
		if _, ok := obj["Timestamp"]; ok {
			s.Timestamp = c.str(obj, "Timestamp", loc, true)
			if _, ok := parseTimestamp(s.Timestamp); !ok {
				c.schema(loc+"/Timestamp", "The value for the field 'Timestamp' must be an RFC3339 timestamp")
			}
			n++
		}
		if _, ok := obj["TimestampPath"]; ok {
			s.TimestampPath = c.refField(obj, "TimestampPath", loc, false)
			n++
		}
		if n != 1 {
			c.schema(loc, "Exactly one of 'Seconds', 'SecondsPath', 'Timestamp' or 'TimestampPath' must be set")
		}
	case "Fail":
		s.Error = c.str(obj, "Error", loc, false)
		s.Cause = c.str(obj, "Cause", loc, false)
		s.ErrorPath = c.refField(obj, "ErrorPath", loc, true)
		s.CausePath = c.refField(obj, "CausePath", loc, true)
		if s.Error != "" && s.ErrorPath != nil {
			c.schema(loc, "Only one of 'Error' or 'ErrorPath' may be set")
		}
		if s.Cause != "" && s.CausePath != nil {
			c.schema(loc, "Only one of 'Cause' or 'CausePath' may be set")
		}
	case "Parallel":
		arr, ok := obj["Branches"].([]any)
		if !ok || len(arr) == 0 {
			c.schema(loc, "These fields are required: [Branches] (a non-empty array)")
		}
		for i, b := range arr {
			bo, ok := b.(map[string]any)
			bloc := fmt.Sprintf("%s/Branches/%d", loc, i)
			if !ok {
				c.schema(bloc, "A branch must be a JSON object")
				continue
			}
			s.Branches = append(s.Branches, c.machine(bo, bloc, false))
		}
	case "Map":
		key := "ItemProcessor"
		p, ok := obj[key].(map[string]any)
		if !ok {
			key = "Iterator"
			p, ok = obj[key].(map[string]any)
		}
		if !ok {
			c.schema(loc, "These fields are required: [ItemProcessor | Iterator]")
		} else {
			if pc, ok := p["ProcessorConfig"].(map[string]any); ok {
				if mode, _ := pc["Mode"].(string); mode == "DISTRIBUTED" {
					c.schema(loc+"/"+key+"/ProcessorConfig/Mode", "Distributed Map is not supported by the local engine")
				}
			}
			s.Processor = c.machine(p, loc+"/"+key, false)
		}
		s.ItemsPath = c.path(obj, "ItemsPath", loc, false)
		if v, ok := obj["MaxConcurrency"]; ok {
			f, isNum := num(v)
			if !isNum || f < 0 || f != math.Trunc(f) {
				c.schema(loc+"/MaxConcurrency", "The value for the field 'MaxConcurrency' must be a non-negative integer")
			}
			s.MaxConcurrency = int(f)
		}
		s.MaxConcPath = c.refField(obj, "MaxConcurrencyPath", loc, false)
	}
	return s
}

func (s *state) splitResource() {
	r := s.Resource
	s.baseResource = r
	for _, suf := range []string{".sync:2", ".sync", ".waitForTaskToken"} {
		if strings.HasSuffix(r, suf) {
			s.pattern = strings.TrimPrefix(strings.TrimSuffix(suf, ":2"), ".")
			s.baseResource = strings.TrimSuffix(r, suf)
			break
		}
	}
	// resourceType / resource as history events show them
	if rest, ok := strings.CutPrefix(r, "arn:aws:states:::"); ok {
		svc, action, _ := strings.Cut(rest, ":")
		s.resourceService, s.resourceAction = svc, action
		return
	}
	parts := strings.Split(r, ":")
	if len(parts) > 2 {
		s.resourceService = parts[2]
	}
	s.resourceAction = r
}
