package states

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// RedriveExecutionInput is the RedriveExecution request.
type RedriveExecutionInput struct {
	ExecutionArn string `json:"executionArn"`
	ClientToken  string `json:"clientToken,omitempty"`
}

// RedriveExecution restarts a FAILED, TIMED_OUT or ABORTED execution from
// the state that did not succeed (a Parallel or Map state reruns whole).
func (e *Engine) RedriveExecution(ctx context.Context, in RedriveExecutionInput) (*RedriveExecutionOutput, error) {
	if err := e.begin(); err != nil {
		return nil, err
	}
	defer e.calls.Done()
	if err := checkExecArn(in.ExecutionArn); err != nil {
		return nil, err
	}
	e.mu.Lock()
	if x, ok := e.running[in.ExecutionArn]; ok {
		e.mu.Unlock()
		x.mu.Lock()
		status := x.status
		x.mu.Unlock()
		if status == "RUNNING" {
			return nil, apiErr("ExecutionNotRedrivable", "Execution is RUNNING and cannot be redriven: '"+in.ExecutionArn+"'")
		}
		// it has just ended: wait until that is recorded
		select {
		case <-x.finished:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		e.mu.Lock()
	}
	id, status, stop, err := e.st.executionStatus(ctx, in.ExecutionArn)
	if err != nil {
		e.mu.Unlock()
		if errors.Is(err, errNotFound) {
			return nil, apiErr("ExecutionDoesNotExist", "Execution Does Not Exist: '"+in.ExecutionArn+"'")
		}
		return nil, fmt.Errorf("redrive execution: %w", err)
	}
	if r, why := redriveStatus(status); r != "REDRIVABLE" {
		e.mu.Unlock()
		return nil, apiErr("ExecutionNotRedrivable", why)
	}
	if stop != 0 && time.Since(fromEpoch(stop)) > 14*24*time.Hour {
		e.mu.Unlock()
		return nil, apiErr("ExecutionNotRedrivable", "Execution ended more than 14 days ago and cannot be redriven")
	}
	x, cp, err := e.loadExecution(ctx, id)
	if err != nil {
		e.mu.Unlock()
		return nil, fmt.Errorf("redrive execution: %w", err)
	}
	now := time.Now().UTC()
	x.frames = nil // branches and iterations start over
	x.status = "RUNNING"
	x.redriveCount++
	x.redriveDate = now
	e.addRunning(x)
	e.mu.Unlock()
	count := x.redriveCount
	upd := &op{fn: redriveExecution(id, count, epoch(now))}
	if err := e.st.do(ctx, upd); err != nil {
		e.mu.Lock()
		e.removeRunning(x)
		e.mu.Unlock()
		return nil, fmt.Errorf("redrive execution: %w", err)
	}
	x.emit(&frame{}, HistoryEvent{Type: "ExecutionRedriven", ExecutionRedrivenEventDetails: &RedrivenDetails{RedriveCount: count}})
	ncp := &checkpoint{State: cp.State, Input: cp.Input}
	if err := x.flushWait(ctx, ncp); err != nil {
		return nil, fmt.Errorf("redrive execution: %w", err)
	}
	e.launch(x, ncp)
	return &RedriveExecutionOutput{RedriveDate: Timestamp{now}}, nil
}
