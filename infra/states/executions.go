package states

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/pushline/pushline/infra/states/jsonvalue"
)

// StartExecution starts an execution. AWS's idempotency rule: starting
// again with the same name and input while the execution runs returns
// it; any other reuse of a name is ExecutionAlreadyExists.
func (e *Engine) StartExecution(ctx context.Context, in StartExecutionInput) (*StartExecutionOutput, error) {
	if err := e.begin(); err != nil {
		return nil, err
	}
	defer e.calls.Done()
	sm, err := e.machine(in.StateMachineArn)
	if err != nil {
		return nil, err
	}
	if in.Name == "" {
		in.Name = uuid.NewString()
	}
	if !validName(in.Name) {
		return nil, apiErr("InvalidName", "Invalid Name: '"+in.Name+"'")
	}
	if in.Input == "" {
		in.Input = "{}"
	}
	if len(in.Input) > MaxPayload {
		return nil, apiErr("InvalidExecutionInput", "Invalid State Machine Execution Input: 'The input exceeds the maximum size of 262144 bytes'")
	}
	input, err := jsonvalue.Decode(in.Input)
	if err != nil {
		return nil, apiErr("InvalidExecutionInput", "Invalid State Machine Execution Input: '"+err.Error()+"'")
	}
	arn := e.execArn(sm.name, in.Name)
	// a running execution of that name is in e.running; a finished one is
	// found by the insert (the row's ARN is unique): no read before it,
	// and no lock held while the database works
	e.mu.Lock()
	if x, ok := e.running[arn]; ok {
		e.mu.Unlock()
		return x.startedAgain(in.Input)
	}
	now := time.Now().UTC()
	x := &execution{e: e, arn: arn, name: in.Name, smArn: sm.arn, smName: sm.name, roleArn: sm.roleArn, m: sm.m, defSrc: sm.definition, defHash: sm.defHash,
		inputRaw: in.Input, input: input, start: now, status: "RUNNING", traceHeader: in.TraceHeader}
	e.nextID++
	x.id = e.nextID
	e.addRunning(x)
	e.mu.Unlock()

	// one transaction: the row, ExecutionStarted and the first checkpoint
	started := x.record(&frame{}, HistoryEvent{Type: "ExecutionStarted", ExecutionStartedEventDetails: &ExecutionStartedDetails{
		Input: in.Input, InputDetails: notTruncated, RoleArn: sm.roleArn}})
	cp := &checkpoint{State: sm.m.StartAt, Input: input}
	evs, _ := x.takePending()
	ins := &op{fn: insertExecution(x), exec: x.id, events: evs, cp: cp, total: 1}
	if err := e.st.do(ctx, ins); err != nil {
		e.mu.Lock()
		e.removeRunning(x)
		e.mu.Unlock()
		if errors.Is(err, errExists) {
			return nil, apiErr("ExecutionAlreadyExists", "Execution Already Exists: '"+arn+"'")
		}
		return nil, fmt.Errorf("start execution %s: %w", in.Name, err)
	}
	x.observe(started) // once it is sure to exist
	e.launch(x, cp)
	return &StartExecutionOutput{ExecutionArn: arn, StartDate: Timestamp{now}}, nil
}

// startedAgain applies AWS's idempotency rule to a start of x: the same
// input while it runs returns it, anything else is ExecutionAlreadyExists.
func (x *execution) startedAgain(input string) (*StartExecutionOutput, error) {
	x.mu.Lock()
	same := x.status == "RUNNING" && x.inputRaw == input
	start := x.start
	x.mu.Unlock()
	if same {
		return &StartExecutionOutput{ExecutionArn: x.arn, StartDate: Timestamp{start}}, nil
	}
	return nil, apiErr("ExecutionAlreadyExists", "Execution Already Exists: '"+x.arn+"'")
}

// loadExecution reads a stored execution and its checkpoint.
func (e *Engine) loadExecution(ctx context.Context, id int64) (*execution, *checkpoint, error) {
	se, err := e.st.execution(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	x := se.x
	x.e = e
	x.smName = x.smArn[strings.LastIndexByte(x.smArn, ':')+1:]
	m, diags := parseDefinition(x.defSrc)
	if diags != nil {
		return nil, nil, errors.New((&definitionError{diags}).Error())
	}
	x.m = m
	if x.input, err = jsonvalue.Decode(x.inputRaw); err != nil {
		return nil, nil, err
	}
	for key, text := range se.frames {
		fcp, err := decodeCheckpoint(text)
		if err != nil {
			return nil, nil, err
		}
		if x.frames == nil {
			x.frames = map[string]*checkpoint{}
		}
		x.frames[key] = fcp
	}
	if !se.checkpoint.Valid {
		return x, &checkpoint{State: m.StartAt, Input: x.input}, nil
	}
	cp, err := decodeCheckpoint(se.checkpoint.String)
	if err != nil {
		return nil, nil, err
	}
	return x, cp, nil
}

// DescribeExecutionInput is the DescribeExecution request.
type DescribeExecutionInput struct {
	ExecutionArn string `json:"executionArn"`
}

// DescribeExecution describes an execution.
func (e *Engine) DescribeExecution(ctx context.Context, in DescribeExecutionInput) (*DescribeExecutionOutput, error) {
	if err := e.begin(); err != nil {
		return nil, err
	}
	defer e.calls.Done()
	if err := checkExecArn(in.ExecutionArn); err != nil {
		return nil, err
	}
	e.mu.Lock()
	x, ok := e.running[in.ExecutionArn]
	e.mu.Unlock()
	if ok {
		return x.describe(), nil
	}
	d, err := e.st.describeExecution(ctx, in.ExecutionArn)
	if errors.Is(err, errNotFound) {
		return nil, apiErr("ExecutionDoesNotExist", "Execution Does Not Exist: '"+in.ExecutionArn+"'")
	}
	if err != nil {
		return nil, fmt.Errorf("describe execution: %w", err)
	}
	d.RedriveStatus, d.RedriveStatusReason = redriveStatus(d.Status)
	return d, nil
}

func redriveStatus(status string) (string, string) {
	switch status {
	case "RUNNING":
		return "NOT_REDRIVABLE", "Execution is RUNNING and cannot be redriven"
	case "SUCCEEDED":
		return "NOT_REDRIVABLE", "Execution is SUCCEEDED and cannot be redriven"
	}
	return "REDRIVABLE", ""
}

// ListExecutions lists a state machine's executions, newest first.
func (e *Engine) ListExecutions(ctx context.Context, in ListExecutionsInput) (*ListExecutionsOutput, error) {
	if err := e.begin(); err != nil {
		return nil, err
	}
	defer e.calls.Done()
	if err := checkMaxResults(in.MaxResults, 1000); err != nil {
		return nil, err
	}
	if !strings.HasPrefix(in.StateMachineArn, "arn:aws:states:") || !strings.Contains(in.StateMachineArn, ":stateMachine:") {
		return nil, apiErr("InvalidArn", "Invalid Arn: '"+in.StateMachineArn+"'")
	}
	if _, err := e.machine(in.StateMachineArn); err != nil {
		return nil, err
	}
	switch in.StatusFilter {
	case "", "RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE":
	default:
		return nil, apiErr("ValidationException", "1 validation error detected: Value '"+in.StatusFilter+"' at 'statusFilter' failed to satisfy constraint: Member must satisfy enum value set: [RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, PENDING_REDRIVE]")
	}
	// make recent transitions visible
	if err := e.st.barrier(ctx); err != nil {
		return nil, err
	}
	before := int64(1) << 62
	if in.NextToken != "" {
		b, err := base64.RawURLEncoding.DecodeString(in.NextToken)
		if err != nil || len(b) != 8 {
			return nil, apiErr("InvalidToken", "Invalid Token: '"+in.NextToken+"'")
		}
		before = int64(binary.BigEndian.Uint64(b))
	}
	switch in.RedriveFilter {
	case "", "REDRIVEN", "NOT_REDRIVEN":
	default:
		return nil, apiErr("ValidationException", "1 validation error detected: Value '"+in.RedriveFilter+"' at 'redriveFilter' failed to satisfy constraint: Member must satisfy enum value set: [REDRIVEN, NOT_REDRIVEN]")
	}
	n := pageSize(in.MaxResults, 100, 1000)
	if in.StatusFilter == "RUNNING" {
		// every running execution is in memory: no wait for the writer,
		// no scan of the finished ones (ingest lists them on every push)
		return e.listRunning(in, before, n), nil
	}
	rows, err := e.st.listExecutions(ctx, executionQuery{smArn: in.StateMachineArn, before: before, status: in.StatusFilter, redrive: in.RedriveFilter, limit: n + 1})
	if err != nil {
		return nil, fmt.Errorf("list executions: %w", err)
	}
	out := &ListExecutionsOutput{Executions: []ExecutionListItem{}}
	for i, r := range rows {
		if i == n {
			var b [8]byte
			binary.BigEndian.PutUint64(b[:], uint64(rows[i-1].id))
			out.NextToken = base64.RawURLEncoding.EncodeToString(b[:])
			break
		}
		out.Executions = append(out.Executions, r.item)
	}
	return out, nil
}

// listRunning is ListExecutions(RUNNING) from memory: the executions of
// in.StateMachineArn with an id below before, newest first, n at most.
func (e *Engine) listRunning(in ListExecutionsInput, before int64, n int) *ListExecutionsOutput {
	type item struct {
		x      *execution
		status string
	}
	var items []item
	// one more than a page says whether there is a next one
	xs := e.runningBefore(in.StateMachineArn, before, n+1, func(x *execution) bool {
		x.mu.Lock()
		status := x.status
		x.mu.Unlock()
		switch {
		case status != "RUNNING",
			in.RedriveFilter == "REDRIVEN" && x.redriveCount == 0,
			in.RedriveFilter == "NOT_REDRIVEN" && x.redriveCount > 0:
			return false
		}
		items = append(items, item{x, status})
		return true
	})
	out := &ListExecutionsOutput{Executions: []ExecutionListItem{}}
	for i, it := range items {
		if i == n {
			var b [8]byte
			binary.BigEndian.PutUint64(b[:], uint64(xs[i-1].id))
			out.NextToken = base64.RawURLEncoding.EncodeToString(b[:])
			break
		}
		x := it.x
		out.Executions = append(out.Executions, ExecutionListItem{ExecutionArn: x.arn, StateMachineArn: x.smArn, Name: x.name, Status: it.status,
			StartDate: Timestamp{x.start}, RedriveCount: x.redriveCount, RedriveDate: ts(x.redriveDate)})
	}
	return out
}

// GetExecutionHistory returns an execution's events, paged.
func (e *Engine) GetExecutionHistory(ctx context.Context, in GetExecutionHistoryInput) (*GetExecutionHistoryOutput, error) {
	if err := e.begin(); err != nil {
		return nil, err
	}
	defer e.calls.Done()
	if err := checkMaxResults(in.MaxResults, 1000); err != nil {
		return nil, err
	}
	if err := checkExecArn(in.ExecutionArn); err != nil {
		return nil, err
	}
	if err := e.st.barrier(ctx); err != nil {
		return nil, err
	}
	id, err := e.st.executionID(ctx, in.ExecutionArn)
	if errors.Is(err, errNotFound) {
		return nil, apiErr("ExecutionDoesNotExist", "Execution Does Not Exist: '"+in.ExecutionArn+"'")
	}
	if err != nil {
		return nil, fmt.Errorf("get execution history: %w", err)
	}
	events, err := e.st.readHistory(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("get execution history: %w", err)
	}
	if in.ReverseOrder {
		for i, j := 0, len(events)-1; i < j; i, j = i+1, j-1 {
			events[i], events[j] = events[j], events[i]
		}
	}
	start, err := pageStart(in.NextToken)
	if err != nil {
		return nil, err
	}
	n := pageSize(in.MaxResults, 100, 1000)
	out := &GetExecutionHistoryOutput{Events: []HistoryEvent{}}
	if start < len(events) {
		end := min(start+n, len(events))
		out.Events = events[start:end]
		if end < len(events) {
			out.NextToken = base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(end)))
		}
	}
	if in.IncludeExecutionData != nil && !*in.IncludeExecutionData {
		for i := range out.Events {
			stripData(&out.Events[i])
		}
	}
	return out, nil
}

func stripData(ev *HistoryEvent) {
	if d := ev.ExecutionStartedEventDetails; d != nil {
		d.Input, d.InputDetails = "", nil
	}
	if d := ev.ExecutionSucceededEventDetails; d != nil {
		d.Output, d.OutputDetails = "", nil
	}
	if d := ev.StateEnteredEventDetails; d != nil {
		d.Input, d.InputDetails = "", nil
	}
	if d := ev.StateExitedEventDetails; d != nil {
		d.Output, d.OutputDetails = "", nil
	}
	if d := ev.TaskSucceededEventDetails; d != nil {
		d.Output, d.OutputDetails = "", nil
	}
	if d := ev.TaskScheduledEventDetails; d != nil {
		d.Parameters = ""
	}
}

// StopExecution stops a running execution (ExecutionAborted) and waits
// until that is recorded.
func (e *Engine) StopExecution(ctx context.Context, in StopExecutionInput) (*StopExecutionOutput, error) {
	if err := e.begin(); err != nil {
		return nil, err
	}
	defer e.calls.Done()
	if err := checkExecArn(in.ExecutionArn); err != nil {
		return nil, err
	}
	e.mu.Lock()
	x, ok := e.running[in.ExecutionArn]
	e.mu.Unlock()
	if !ok {
		d, err := e.DescribeExecution(ctx, DescribeExecutionInput{ExecutionArn: in.ExecutionArn})
		if err != nil {
			return nil, err
		}
		stop := d.StartDate
		if d.StopDate != nil {
			stop = *d.StopDate
		}
		return &StopExecutionOutput{StopDate: stop}, nil
	}
	x.cancel(&stopCause{errName: in.Error, cause: in.Cause})
	select {
	case <-x.finished:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	return &StopExecutionOutput{StopDate: Timestamp{x.stop}}, nil
}

type stopCause struct{ errName, cause string }

func (s *stopCause) Error() string { return "execution stopped" }

// DescribeStateMachineForExecutionOutput is the
// DescribeStateMachineForExecution response.
type DescribeStateMachineForExecutionOutput struct {
	StateMachineArn string    `json:"stateMachineArn"`
	Name            string    `json:"name"`
	Definition      string    `json:"definition"`
	RoleArn         string    `json:"roleArn"`
	UpdateDate      Timestamp `json:"updateDate"`
}

// DescribeStateMachineForExecution returns the definition an execution
// runs.
func (e *Engine) DescribeStateMachineForExecution(ctx context.Context, in DescribeExecutionInput) (*DescribeStateMachineForExecutionOutput, error) {
	if err := e.begin(); err != nil {
		return nil, err
	}
	defer e.calls.Done()
	if err := checkExecArn(in.ExecutionArn); err != nil {
		return nil, err
	}
	out, err := e.st.executionMachine(ctx, in.ExecutionArn)
	if errors.Is(err, errNotFound) {
		return nil, apiErr("ExecutionDoesNotExist", "Execution Does Not Exist: '"+in.ExecutionArn+"'")
	}
	if err != nil {
		return nil, fmt.Errorf("describe state machine for execution: %w", err)
	}
	out.Name = out.StateMachineArn[strings.LastIndexByte(out.StateMachineArn, ':')+1:]
	return out, nil
}
