package states

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

type stateMachine struct {
	arn, name, definition, roleArn, typ string
	created, updated                    time.Time
	revision                            string
	status                              string
	logging, tracing                    json.RawMessage
	m                                   *machine
	defHash                             string // definitionHash(definition)
}

// CreateStateMachine creates a state machine. Creating one that exists
// with the same definition and role is idempotent.
func (e *Engine) CreateStateMachine(ctx context.Context, in CreateStateMachineInput) (*CreateStateMachineOutput, error) {
	if err := e.begin(); err != nil {
		return nil, err
	}
	defer e.calls.Done()
	if !validName(in.Name) {
		return nil, apiErr("InvalidName", "Invalid Name: '"+in.Name+"'")
	}
	if in.Type == "" {
		in.Type = "STANDARD"
	}
	if in.Type != "STANDARD" && in.Type != "EXPRESS" {
		return nil, apiErr("ValidationException", "1 validation error detected: Value '"+in.Type+"' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD, EXPRESS]")
	}
	if in.RoleArn == "" || !strings.HasPrefix(in.RoleArn, "arn:") {
		return nil, apiErr("InvalidArn", "Invalid Arn: 'Resource type not valid in this context: "+in.RoleArn+"'")
	}
	if len(in.Definition) > 1<<20 {
		return nil, apiErr("InvalidDefinition", "Invalid State Machine Definition: 'the definition is larger than 1 MiB'")
	}
	m, diags := parseDefinition(in.Definition)
	if diags != nil {
		return nil, apiErr("InvalidDefinition", (&definitionError{diags}).Error())
	}
	arn := e.smArn(in.Name)
	now := time.Now().UTC()
	e.mu.Lock()
	if old, ok := e.machines[arn]; ok {
		e.mu.Unlock()
		if old.definition == in.Definition && old.roleArn == in.RoleArn && old.typ == in.Type && old.status == "ACTIVE" {
			return &CreateStateMachineOutput{StateMachineArn: arn, CreationDate: Timestamp{old.created}}, nil
		}
		return nil, apiErr("StateMachineAlreadyExists", "State Machine Already Exists: '"+arn+"'")
	}
	sm := &stateMachine{arn: arn, name: in.Name, definition: in.Definition, roleArn: in.RoleArn, typ: in.Type, created: now, updated: now,
		revision: uuid.NewString(), status: "ACTIVE", logging: in.LoggingConfiguration, tracing: in.TracingConfiguration, m: m, defHash: definitionHash(in.Definition)}
	e.machines[arn] = sm
	e.mu.Unlock()
	if err := e.st.do(ctx, &op{fn: saveMachine(sm)}); err != nil {
		e.mu.Lock()
		delete(e.machines, arn)
		e.mu.Unlock()
		return nil, fmt.Errorf("create state machine %s: %w", in.Name, err)
	}
	return &CreateStateMachineOutput{StateMachineArn: arn, CreationDate: Timestamp{now}}, nil
}

func (e *Engine) machine(arn string) (*stateMachine, error) {
	if !strings.HasPrefix(arn, "arn:aws:states:") || !strings.Contains(arn, ":stateMachine:") {
		return nil, apiErr("InvalidArn", "Invalid Arn: '"+arn+"'")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	sm, ok := e.machines[arn]
	if !ok {
		return nil, apiErr("StateMachineDoesNotExist", "State Machine Does Not Exist: '"+arn+"'")
	}
	return sm, nil
}

// DescribeStateMachineInput is the DescribeStateMachine request.
type DescribeStateMachineInput struct {
	StateMachineArn string `json:"stateMachineArn"`
}

// DescribeStateMachine describes a state machine.
func (e *Engine) DescribeStateMachine(ctx context.Context, in DescribeStateMachineInput) (*DescribeStateMachineOutput, error) {
	if err := e.begin(); err != nil {
		return nil, err
	}
	defer e.calls.Done()
	sm, err := e.machine(in.StateMachineArn)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return &DescribeStateMachineOutput{StateMachineArn: sm.arn, Name: sm.name, Status: sm.status, Definition: sm.definition, RoleArn: sm.roleArn,
		Type: sm.typ, CreationDate: Timestamp{sm.created}, LoggingConfiguration: orDefault(sm.logging, `{"level":"OFF","includeExecutionData":false}`),
		TracingConfiguration: orDefault(sm.tracing, `{"enabled":false}`), RevisionID: sm.revision}, nil
}

func orDefault(r json.RawMessage, def string) json.RawMessage {
	if len(r) == 0 {
		return json.RawMessage(def)
	}
	return r
}

// ListStateMachinesInput is the ListStateMachines request.
type ListStateMachinesInput struct {
	MaxResults int    `json:"maxResults,omitempty"`
	NextToken  string `json:"nextToken,omitempty"`
}

// ListStateMachines lists state machines by name.
func (e *Engine) ListStateMachines(ctx context.Context, in ListStateMachinesInput) (*ListStateMachinesOutput, error) {
	if err := e.begin(); err != nil {
		return nil, err
	}
	defer e.calls.Done()
	if err := checkMaxResults(in.MaxResults, 1000); err != nil {
		return nil, err
	}
	e.mu.Lock()
	var all []*stateMachine
	for _, sm := range e.machines {
		all = append(all, sm)
	}
	e.mu.Unlock()
	sort.Slice(all, func(i, j int) bool { return all[i].name < all[j].name })
	start, err := pageStart(in.NextToken)
	if err != nil {
		return nil, err
	}
	n := pageSize(in.MaxResults, 100, 1000)
	out := &ListStateMachinesOutput{StateMachines: []StateMachineListItem{}}
	for i := start; i < len(all) && len(out.StateMachines) < n; i++ {
		sm := all[i]
		out.StateMachines = append(out.StateMachines, StateMachineListItem{StateMachineArn: sm.arn, Name: sm.name, Type: sm.typ, CreationDate: Timestamp{sm.created}})
		if i+1 < len(all) && len(out.StateMachines) == n {
			out.NextToken = base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(i + 1)))
		}
	}
	return out, nil
}

// UpdateStateMachine changes the definition and/or role. Running
// executions keep the definition they started with.
func (e *Engine) UpdateStateMachine(ctx context.Context, in UpdateStateMachineInput) (*UpdateStateMachineOutput, error) {
	if err := e.begin(); err != nil {
		return nil, err
	}
	defer e.calls.Done()
	sm, err := e.machine(in.StateMachineArn)
	if err != nil {
		return nil, err
	}
	if in.Definition == "" && in.RoleArn == "" && in.LoggingConfiguration == nil && in.TracingConfiguration == nil {
		return nil, apiErr("MissingRequiredParameter", "Either the definition, the roleArn, the loggingConfiguration or the tracingConfiguration must be specified")
	}
	var m *machine
	if in.Definition != "" {
		var diags []Diagnostic
		if m, diags = parseDefinition(in.Definition); diags != nil {
			return nil, apiErr("InvalidDefinition", (&definitionError{diags}).Error())
		}
	}
	if in.RoleArn != "" && !strings.HasPrefix(in.RoleArn, "arn:") {
		return nil, apiErr("InvalidArn", "Invalid Arn: '"+in.RoleArn+"'")
	}
	e.mu.Lock()
	if sm.status != "ACTIVE" {
		e.mu.Unlock()
		return nil, apiErr("StateMachineDeleting", "State Machine is being deleted: '"+sm.arn+"'")
	}
	n := *sm
	if m != nil {
		n.definition, n.m, n.defHash = in.Definition, m, definitionHash(in.Definition)
	}
	if in.RoleArn != "" {
		n.roleArn = in.RoleArn
	}
	if in.LoggingConfiguration != nil {
		n.logging = in.LoggingConfiguration
	}
	if in.TracingConfiguration != nil {
		n.tracing = in.TracingConfiguration
	}
	n.updated = time.Now().UTC()
	n.revision = uuid.NewString()
	e.machines[sm.arn] = &n
	e.mu.Unlock()
	if err := e.st.do(ctx, &op{fn: saveMachine(&n)}); err != nil {
		return nil, fmt.Errorf("update state machine %s: %w", sm.name, err)
	}
	return &UpdateStateMachineOutput{UpdateDate: Timestamp{n.updated}, RevisionID: n.revision}, nil
}

// DeleteStateMachineInput is the DeleteStateMachine request.
type DeleteStateMachineInput struct {
	StateMachineArn string `json:"stateMachineArn"`
}

// DeleteStateMachine deletes a state machine; running executions finish
// (AWS stops them eventually; the local engine lets them run).
func (e *Engine) DeleteStateMachine(ctx context.Context, in DeleteStateMachineInput) (*struct{}, error) {
	if err := e.begin(); err != nil {
		return nil, err
	}
	defer e.calls.Done()
	if !strings.HasPrefix(in.StateMachineArn, "arn:aws:states:") {
		return nil, apiErr("InvalidArn", "Invalid Arn: '"+in.StateMachineArn+"'")
	}
	e.mu.Lock()
	delete(e.machines, in.StateMachineArn)
	e.mu.Unlock()
	err := e.st.do(ctx, &op{fn: deleteMachine(in.StateMachineArn)})
	if err != nil {
		return nil, fmt.Errorf("delete state machine: %w", err)
	}
	return &struct{}{}, nil
}

// ValidateInput is the ValidateStateMachineDefinition request.
type ValidateInput struct {
	Definition string `json:"definition"`
	Type       string `json:"type,omitempty"`
	Severity   string `json:"severity,omitempty"`
	MaxResults int    `json:"maxResults,omitempty"`
}

// ValidateStateMachineDefinition checks a definition without creating it.
func (e *Engine) ValidateStateMachineDefinition(ctx context.Context, in ValidateInput) (*ValidateOutput, error) {
	if err := e.begin(); err != nil {
		return nil, err
	}
	defer e.calls.Done()
	if err := checkMaxResults(in.MaxResults, 100); err != nil {
		return nil, err
	}
	_, diags := parseDefinition(in.Definition)
	out := &ValidateOutput{Result: "OK", Diagnostics: []Diagnostic{}}
	if diags != nil {
		out.Result = "FAIL"
		n := pageSize(in.MaxResults, 100, 100)
		if len(diags) > n {
			diags, out.Truncated = diags[:n], true
		}
		out.Diagnostics = diags
	}
	return out, nil
}

// PutStateMachine creates the state machine, or updates the definition
// and role of the existing one of that name (running executions keep the
// definition they started with), and returns its ARN. It is for
// in-process setup, e.g. the local stack applying the current config.
func (e *Engine) PutStateMachine(ctx context.Context, in CreateStateMachineInput) (string, error) {
	out, err := e.CreateStateMachine(ctx, in)
	if err == nil {
		return out.StateMachineArn, nil
	}
	if !errors.Is(err, ErrStateMachineAlreadyExists) {
		return "", err
	}
	arn := e.smArn(in.Name)
	if _, err := e.UpdateStateMachine(ctx, UpdateStateMachineInput{StateMachineArn: arn, Definition: in.Definition, RoleArn: in.RoleArn,
		LoggingConfiguration: in.LoggingConfiguration, TracingConfiguration: in.TracingConfiguration}); err != nil {
		return "", err
	}
	return arn, nil
}
