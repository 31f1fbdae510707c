package states

import (
	"context"
	"math"
	"strings"
	"time"

	"github.com/pushline/pushline/infra/states/jsonvalue"
)

// taskRun is one attempt of a Task state: its parameters, its deadlines
// and the history events it records.
type taskRun struct {
	x  *execution
	fr *frame
	s  *state
	cp *checkpoint

	lambda             bool // a plain Lambda function ARN: Lambda* events
	params             any
	paramText          string
	token              string // waitForTaskToken only
	timeout, heartbeat int    // seconds, 0 = none

	deadline, hbDeadline time.Time
	// started: the attempt's Started event is recorded.
	started bool
	// resumed: a restart found the token request delivered; wait for the
	// token only.
	resumed bool
}

// task runs one attempt of a Task state and applies ResultSelector,
// ResultPath and OutputPath.
func (x *execution) task(ctx context.Context, fr *frame, s *state, cp *checkpoint) (any, *TaskError) {
	eff, terr := x.inputPath(fr, s, cp, cp.Input)
	if terr != nil {
		return nil, terr
	}
	t := &taskRun{x: x, fr: fr, s: s, cp: cp, lambda: strings.HasPrefix(s.Resource, "arn:aws:lambda:"), timeout: s.Timeout, heartbeat: s.Heartbeat}
	if s.pattern == "waitForTaskToken" {
		t.token = cp.Token
		if t.token == "" {
			t.token = x.e.newToken(x.id)
		}
	}
	cobj := x.ctxObject(fr, s, cp, t.token)
	t.params = eff
	if s.Parameters != nil {
		v, terr := x.evalTmpl(s, cp, s.Parameters, eff, cobj)
		if terr != nil {
			return nil, terr
		}
		t.params = v
	}
	if terr := t.timeouts(eff, cobj); terr != nil {
		return nil, terr
	}
	t.paramText = marshal(t.params)

	result, terr := t.resume(ctx)
	if terr == errCancelled {
		return nil, terr
	}
	if terr != nil {
		return nil, terr
	}
	if s.Selector != nil {
		v, e := x.evalTmpl(s, cp, s.Selector, result, cobj)
		if e != nil {
			return nil, e
		}
		result = v
	}
	out, rerr := applyResultPath(s.ResultPath, cp.Input, result)
	if rerr != nil {
		return nil, rerr
	}
	return x.outputPath(fr, s, cp, out)
}

// timeouts resolves TimeoutSecondsPath and HeartbeatSecondsPath.
func (t *taskRun) timeouts(eff, cobj any) *TaskError {
	for _, p := range []struct {
		r   *ref
		dst *int
	}{{t.s.TimeoutPath, &t.timeout}, {t.s.HeartbeatPath, &t.heartbeat}} {
		if p.r == nil {
			continue
		}
		v, err := p.r.eval(eff, cobj)
		f, ok := num(v)
		if err != nil || !ok || f < 1 || f != math.Trunc(f) {
			return runtimeErr(t.s, t.cp, "The value of '%s' must be a positive integer", p.r.src)
		}
		*p.dst = int(f)
	}
	return nil
}

// resume continues the attempt from its checkpoint's phase and returns the
// task's result.
func (t *taskRun) resume(ctx context.Context) (any, *TaskError) {
	ph := t.cp.Phase
	t.cp.Phase = phaseNew
	switch ph {
	case phaseResult:
		return t.cp.Result, t.cp.Err
	case phaseTask, phaseToken:
		if ph == phaseToken && t.cp.Delivered {
			t.resumed = true
			t.deadline, t.hbDeadline = t.cp.Until, t.cp.HBUntil
			break
		}
		// the engine stopped while the task ran (or delivered its request)
		if !t.rerunnable() {
			return nil, t.failed(&TaskError{Name: ErrNameTaskFailed, Cause: RestartCause})
		}
		// its Scheduled and Started events are recorded: run it again
		// (with the same task token, if any) without repeating them
		t.x.e.log.Info("running again a task in flight when the engine stopped", "execution", t.x.arn, "state", t.s.Name)
		t.started = true
	case phaseParked:
		// the Scheduled (and maybe Started) events of this attempt are
		// recorded: invoke again without repeating them
		t.started = t.cp.Started
	default:
		t.scheduled()
	}
	result, terr := t.invoke(ctx)
	if terr == errCancelled {
		return nil, terr
	}
	// the result is known: a restart must not invoke again
	c := *t.cp
	c.Phase, c.Result, c.Err, c.Token = phaseResult, result, terr, ""
	t.x.save(t.fr, &c, nil)
	return result, terr
}

// scheduled records the attempt's Scheduled event.
func (t *taskRun) scheduled() {
	s := t.s
	if t.lambda {
		t.x.emit(t.fr, HistoryEvent{Type: "LambdaFunctionScheduled", LambdaFunctionScheduledDetails: &LambdaScheduledDetails{Resource: s.Resource, Input: t.paramText,
			InputDetails: notTruncated, TimeoutInSeconds: int64(t.timeout)}})
		return
	}
	t.x.emit(t.fr, HistoryEvent{Type: "TaskScheduled", TaskScheduledEventDetails: &TaskScheduledDetails{ResourceType: s.resourceService, Resource: s.resourceAction,
		Region: t.x.e.o.Region, Parameters: t.paramText, TimeoutInSeconds: int64(t.timeout), HeartbeatInSeconds: int64(t.heartbeat)}})
}

// startedEvent records the attempt's Started event, once.
func (t *taskRun) startedEvent() {
	if t.started {
		return
	}
	t.started = true
	if t.lambda {
		t.x.emit(t.fr, HistoryEvent{Type: "LambdaFunctionStarted"})
		return
	}
	t.x.emit(t.fr, HistoryEvent{Type: "TaskStarted", TaskStartedEventDetails: &TaskResourceDetails{ResourceType: t.s.resourceService, Resource: t.s.resourceAction}})
}

// failed records the attempt's Failed event and returns terr.
func (t *taskRun) failed(terr *TaskError) *TaskError {
	s := t.s
	if t.lambda {
		t.x.emit(t.fr, HistoryEvent{Type: "LambdaFunctionFailed", LambdaFunctionFailedDetails: &ErrorDetails{Error: terr.Name, Cause: terr.Cause}})
	} else {
		t.x.emit(t.fr, HistoryEvent{Type: "TaskFailed", TaskFailedEventDetails: &TaskErrorDetails{ResourceType: s.resourceService, Resource: s.resourceAction, Error: terr.Name, Cause: terr.Cause}})
	}
	return terr
}

// timedOut records the attempt's TimedOut event and returns terr.
func (t *taskRun) timedOut(terr *TaskError) *TaskError {
	s := t.s
	if t.lambda {
		t.x.emit(t.fr, HistoryEvent{Type: "LambdaFunctionTimedOut", LambdaFunctionTimedOutDetails: &ErrorDetails{Error: terr.Name, Cause: terr.Cause}})
	} else {
		t.x.emit(t.fr, HistoryEvent{Type: "TaskTimedOut", TaskTimedOutEventDetails: &TaskErrorDetails{ResourceType: s.resourceService, Resource: s.resourceAction, Error: terr.Name, Cause: terr.Cause}})
	}
	return terr
}

// succeeded records the attempt's Succeeded event with its output.
func (t *taskRun) succeeded(out string) {
	s := t.s
	if t.lambda {
		t.x.emit(t.fr, HistoryEvent{Type: "LambdaFunctionSucceeded", LambdaFunctionSucceededDetails: &OutputDetails{Output: out, OutputDetails: notTruncated}})
		return
	}
	t.x.emit(t.fr, HistoryEvent{Type: "TaskSucceeded", TaskSucceededEventDetails: &TaskOutputDetails{ResourceType: s.resourceService, Resource: s.resourceAction, Output: out, OutputDetails: notTruncated}})
}

// submitted records a TaskSubmitted event with the response that started
// the job.
func (t *taskRun) submitted(r []byte) {
	text := "null"
	if v, err := jsonvalue.Decode(string(r)); err == nil {
		text = marshal(v)
	}
	t.x.emit(t.fr, HistoryEvent{Type: "TaskSubmitted", TaskSubmittedEventDetails: &TaskOutputDetails{ResourceType: t.s.resourceService, Resource: t.s.resourceAction,
		Output: text, OutputDetails: notTruncated}})
}
