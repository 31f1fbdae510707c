package states

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// runMachine runs states from cp until an end state, returning the output
// or the error that ended it.
func (x *execution) runMachine(ctx context.Context, fr *frame, m *machine, cp *checkpoint) (any, *TaskError) {
	for {
		if ctx.Err() != nil {
			return nil, errCancelled
		}
		x.mu.Lock()
		over := x.overLimit
		x.mu.Unlock()
		if over {
			return nil, &TaskError{Name: ErrNameRuntime, Cause: fmt.Sprintf("The execution reached the maximum number of history events (%d).", x.e.o.MaxHistoryEvents)}
		}
		s := m.States[cp.State]
		out, next, terr := x.execState(ctx, fr, s, cp)
		if terr != nil {
			if ctx.Err() != nil {
				return nil, errCancelled
			}
			return nil, terr
		}
		if next == "" {
			if fr.top {
				x.save(fr, nil, nil)
			} else {
				x.save(fr, &checkpoint{State: cp.State, Phase: phaseDone, Result: out}, nil)
			}
			return out, nil
		}
		cp = &checkpoint{State: next, Input: out, Prev: fr.prev, inputText: fr.lastOutput}
		x.save(fr, cp, nil)
	}
}

var stateEnteredType = map[string]string{"Task": "TaskStateEntered", "Pass": "PassStateEntered", "Choice": "ChoiceStateEntered", "Wait": "WaitStateEntered",
	"Succeed": "SucceedStateEntered", "Fail": "FailStateEntered", "Parallel": "ParallelStateEntered", "Map": "MapStateEntered"}

var exitedType = map[string]string{"Task": "TaskStateExited", "Pass": "PassStateExited", "Choice": "ChoiceStateExited", "Wait": "WaitStateExited",
	"Succeed": "SucceedStateExited", "Parallel": "ParallelStateExited", "Map": "MapStateExited"}

// execState runs one state from cp. It returns the state output and the
// next state ("" at the end), or the error that ends this state list.
func (x *execution) execState(ctx context.Context, fr *frame, s *state, cp *checkpoint) (any, string, *TaskError) {
	x.enter(fr, s, cp)
	var out any
	next := s.Next
	var terr *TaskError
	switch s.Type {
	case "Pass":
		out, terr = x.pass(fr, s, cp)
	case "Choice":
		out, next, terr = x.choice(fr, s, cp)
	case "Wait":
		out, terr = x.wait(ctx, fr, s, cp)
	case "Succeed":
		out, next, terr = x.succeed(fr, s, cp)
	case "Fail":
		return nil, "", x.fail(fr, s, cp)
	default: // Task, Parallel, Map
		out, next, terr = x.withRetry(ctx, fr, s, cp)
	}
	if terr != nil {
		return nil, "", terr
	}
	return x.exit(fr, s, out, next)
}

// enter records the state's Entered event, once.
func (x *execution) enter(fr *frame, s *state, cp *checkpoint) {
	if cp.Entered {
		return
	}
	cp.EnteredTime = time.Now().UTC()
	text := cp.inputText
	if text == "" {
		text = marshal(cp.Input)
	}
	cp.EnteredID = x.emit(fr, HistoryEvent{Type: stateEnteredType[s.Type], StateEnteredEventDetails: &StateEnteredDetails{Name: s.Name, Input: text, InputDetails: notTruncated}})
	cp.Entered = true
}

// exit records the state's Exited event with its output.
func (x *execution) exit(fr *frame, s *state, out any, next string) (any, string, *TaskError) {
	text := marshal(out)
	if len(text) > MaxPayload {
		return nil, "", &TaskError{Name: ErrNameDataLimitExceeded, Cause: "The state/task '" + s.Name + "' returned a result with a size exceeding the maximum number of bytes service limit."}
	}
	x.emit(fr, HistoryEvent{Type: exitedType[s.Type], StateExitedEventDetails: &StateExitedDetails{Name: s.Name, Output: text, OutputDetails: notTruncated}})
	fr.lastOutput = text
	return out, next, nil
}

// withRetry runs a Task, Parallel or Map state under its retriers and
// catchers; it returns the output and the next state.
func (x *execution) withRetry(ctx context.Context, fr *frame, s *state, cp *checkpoint) (any, string, *TaskError) {
	if len(cp.Retries) != len(s.Retry) {
		cp.Retries = make([]int, len(s.Retry))
	}
	for {
		if cp.Phase == phaseRetry {
			if err := sleepUntil(ctx, cp.Until); err != nil {
				return nil, "", errCancelled
			}
			cp.Phase = phaseNew
		}
		var out any
		var terr *TaskError
		failed := false // a Parallel or Map state's branches failed
		switch s.Type {
		case "Task":
			out, terr = x.task(ctx, fr, s, cp)
		case "Parallel":
			out, terr, failed = x.parallel(ctx, fr, s, cp)
		case "Map":
			out, terr, failed = x.mapState(ctx, fr, s, cp)
		}
		if terr == nil {
			return out, s.Next, nil
		}
		if terr == errCancelled || ctx.Err() != nil {
			return nil, "", terr
		}
		if terr.Name != ErrNameRuntime && x.retry(fr, s, cp, terr) {
			continue
		}
		if failed {
			// once per failed state, not per attempt, as on AWS
			x.emit(fr, HistoryEvent{Type: s.Type + "StateFailed"})
		}
		if terr.Name == ErrNameRuntime {
			return nil, "", terr
		}
		return catch(s, cp, terr)
	}
}

// retry checkpoints the next attempt if a retrier matches terr and has
// attempts left.
func (x *execution) retry(fr *frame, s *state, cp *checkpoint, terr *TaskError) bool {
	for i, r := range s.Retry {
		if !matchesError(r.ErrorEquals, terr.Name) {
			continue
		}
		if cp.Retries[i] >= r.MaxAttempts {
			return false
		}
		delay := r.Interval * math.Pow(r.BackoffRate, float64(cp.Retries[i]))
		if r.MaxDelay > 0 {
			delay = min(delay, r.MaxDelay)
		}
		if r.JitterFull {
			delay = rand.Float64() * delay
		}
		cp.Retries = append([]int(nil), cp.Retries...)
		cp.Retries[i]++
		cp.Phase, cp.Until = phaseRetry, time.Now().Add(time.Duration(delay*float64(time.Second)))
		cp.Result, cp.Err, cp.Token = nil, nil, ""
		x.checkpointNow(fr, cp, false)
		return true
	}
	return false
}

// catch applies the first catcher that matches terr.
func catch(s *state, cp *checkpoint, terr *TaskError) (any, string, *TaskError) {
	for _, c := range s.Catch {
		if !matchesError(c.ErrorEquals, terr.Name) {
			continue
		}
		errObj := map[string]any{"Error": terr.Name, "Cause": terr.Cause}
		out, rerr := applyResultPath(c.ResultPath, cp.Input, errObj)
		if rerr != nil {
			return nil, "", rerr
		}
		return out, c.Next, nil
	}
	return nil, "", terr
}

func matchesError(names []string, name string) bool {
	for _, n := range names {
		switch {
		case n == name:
			return true
		case n == ErrNameAll && name != ErrNameRuntime && name != ErrNameDataLimitExceeded:
			return true
		case n == ErrNameTaskFailed && name != ErrNameTimeout && name != ErrNameRuntime && name != ErrNameDataLimitExceeded:
			return true
		}
	}
	return false
}

func runtimeErr(s *state, cp *checkpoint, format string, args ...any) *TaskError {
	return &TaskError{Name: ErrNameRuntime, Cause: fmt.Sprintf("An error occurred while executing the state '%s' (entered at the event id #%d). ", s.Name, cp.EnteredID) + fmt.Sprintf(format, args...)}
}
