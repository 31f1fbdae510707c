package states

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/pushline/pushline/infra/states/jsonvalue"
)

// notStartedDelay is how long a task whose Invoke returned ErrNotStarted
// waits before it is invoked again while the engine runs.
var notStartedDelay = time.Second

// closeGrace is how long Close waits for an Invoke in flight to return
// after cancelling its context; one still running then is left in flight
// (a restart runs it again or fails it with RestartCause).
var closeGrace = 5 * time.Second

type invokeResult struct {
	out json.RawMessage
	err error
	// cancelled: the Invoke's context was cancelled when it returned (an
	// error may then be the cancellation's, not the task's)
	cancelled bool
}

// fresh starts the attempt's timeout and heartbeat clocks.
func (t *taskRun) fresh() {
	now := time.Now()
	t.deadline, t.hbDeadline = time.Time{}, time.Time{}
	if t.timeout > 0 {
		t.deadline = now.Add(time.Duration(t.timeout) * time.Second)
	}
	if t.heartbeat > 0 {
		t.hbDeadline = now.Add(time.Duration(t.heartbeat) * time.Second)
	}
}

// inFlight makes the in-flight state durable before the side effect.
func (t *taskRun) inFlight() error {
	c := *t.cp
	c.Phase, c.Token, c.Until, c.HBUntil, c.Delivered = phaseTask, "", t.deadline, t.hbDeadline, false
	if t.token != "" {
		c.Phase, c.Token, c.Delivered = phaseToken, t.token, t.resumed
	}
	return t.x.checkpointNow(t.fr, &c, true)
}

// park records that the task did not start: a restart invokes it again.
func (t *taskRun) park() {
	c := *t.cp
	c.Phase, c.Token, c.Until, c.HBUntil, c.Delivered, c.Result, c.Err, c.Started = phaseParked, "", time.Time{}, time.Time{}, false, nil, nil, t.started
	// committed before the engine's store closes even if Close is under
	// way (checkpointNow then returns early)
	t.x.checkpointNow(t.fr, &c, true)
}

// notInvoked: the in-flight checkpoint could not be awaited (the engine is
// closing); the integration was not called.
func (t *taskRun) notInvoked() (any, *TaskError) {
	if !t.resumed {
		t.park()
	}
	return nil, errCancelled
}

// waitToken registers the attempt's task token (a resumed wait finds the
// one Resume registered) and returns the function that forgets it,
// answering the messages left.
func (t *taskRun) waitToken() (*tokenWait, func()) {
	e := t.x.e
	e.mu.Lock()
	tw := e.tokens[t.token]
	if tw == nil {
		tw = &tokenWait{x: t.x, ch: make(chan tokenMsg, 8)}
		e.tokens[t.token] = tw
	}
	e.mu.Unlock()
	return tw, func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		delete(e.tokens, t.token)
		for {
			select {
			case m := <-tw.ch:
				if m.heartbeat {
					m.done <- nil
				} else {
					m.done <- apiErr("TaskTimedOut", "Task Timed Out: 'Provided task does not exist anymore'")
				}
			default:
				return
			}
		}
	}
}

// task is the Task an integration receives; hbCh and subCh receive its
// heartbeats and submitted responses (nil: dropped).
func (t *taskRun) task(hbCh chan struct{}, subCh chan json.RawMessage) Task {
	return Task{Resource: t.s.baseResource, Pattern: t.s.pattern, Parameters: json.RawMessage(t.paramText), ExecutionArn: t.x.arn, StateMachineArn: t.x.smArn,
		StateName: t.s.Name, Token: t.token, Heartbeat: func() {
			select {
			case hbCh <- struct{}{}:
			default:
			}
		}, Submitted: func(r json.RawMessage) {
			select {
			case subCh <- r:
			default:
			}
		}}
}

// call starts the integration's Invoke in a goroutine; its result arrives
// on the returned channel.
func (t *taskRun) call(ctx context.Context, in Integration, hbCh chan struct{}, subCh chan json.RawMessage) chan invokeResult {
	res := make(chan invokeResult, 1)
	task := t.task(hbCh, subCh)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				res <- invokeResult{err: fmt.Errorf("integration panicked: %v", p)}
			}
		}()
		out, err := in.Invoke(ctx, task)
		res <- invokeResult{out, err, ctx.Err() != nil}
	}()
	return res
}

// timer returns a channel that fires at t (never if t is zero) and its stop.
func timer(t time.Time) (<-chan time.Time, func()) {
	if t.IsZero() {
		return nil, func() {}
	}
	tm := time.NewTimer(max(time.Until(t), 0))
	return tm.C, func() { tm.Stop() }
}

// invoke runs the integration and waits for the result, a token, a
// timeout or cancellation.
//
// An Invoke that returns ErrNotStarted parks the task: the checkpoint says
// so (a restart invokes it again) and, while the engine runs, it is invoked
// again after notStartedDelay, with fresh timeouts and no new events.
func (t *taskRun) invoke(ctx context.Context) (any, *TaskError) {
	x, s := t.x, t.s
	if !t.resumed {
		t.fresh()
	}
	var tokCh chan tokenMsg
	if t.token != "" {
		tw, forget := t.waitToken()
		defer forget()
		tokCh = tw.ch
	}
	if err := t.inFlight(); err != nil {
		return t.notInvoked()
	}
	icancel := func() {}
	defer func() { icancel() }()
	hbCh := make(chan struct{}, 1)
	subCh := make(chan json.RawMessage, 1)
	var resCh chan invokeResult
	in := x.e.integration(s.baseResource)
	start := func() {
		var ictx context.Context
		ictx, icancel = context.WithCancel(ctx)
		resCh = t.call(ictx, in, hbCh, subCh)
	}
	if !t.resumed {
		t.startedEvent()
		if in == nil {
			return nil, t.failed(&TaskError{Name: ErrNameTaskFailed, Cause: fmt.Sprintf("No integration serves the resource '%s' in the local Step Functions engine.", s.baseResource)})
		}
		start()
	}
	toC, toStop := timer(t.deadline)
	hbC, hbStop := timer(t.hbDeadline)
	var parkC <-chan time.Time
	parkStop := func() {}
	parkedBefore := false
	defer func() { toStop(); hbStop(); parkStop() }()
	beat := func() {
		if t.heartbeat > 0 {
			hbStop()
			hbC, hbStop = timer(time.Now().Add(time.Duration(t.heartbeat) * time.Second))
		}
	}
	for {
		select {
		case r := <-resCh:
			resCh = nil
			out, terr, again := t.settle(ctx, r, subCh)
			if !again {
				return out, terr
			}
			if errors.Is(r.err, ErrNotStarted) {
				if !parkedBefore {
					x.e.log.Info("task not started; invoking it again every second", "execution", x.arn, "state", s.Name, "error", r.err)
					parkedBefore = true
				}
				icancel()
				toStop()
				hbStop()
				toC, hbC = nil, nil
				parkC, parkStop = timer(time.Now().Add(notStartedDelay))
			}
			continue // parked, or the token decides
		case <-parkC:
			// invoke the parked task again, as if it had just been scheduled
			parkC = nil
			t.fresh()
			if err := t.inFlight(); err != nil {
				return t.notInvoked()
			}
			start()
			toC, toStop = timer(t.deadline)
			hbC, hbStop = timer(t.hbDeadline)
		case m := <-tokCh:
			if m.heartbeat {
				beat()
				m.done <- nil
				continue
			}
			tokCh = nil
			icancel()
			return t.answer(m)
		case r := <-subCh:
			t.submitted(r)
		case <-hbCh:
			beat()
		case <-toC:
			icancel()
			return nil, t.timedOut(&TaskError{Name: ErrNameTimeout, Cause: "Task timed out."})
		case <-hbC:
			icancel()
			return nil, t.timedOut(&TaskError{Name: ErrNameHeartbeatTimeout, Cause: "Task heartbeat timed out."})
		case <-ctx.Done():
			if resCh != nil && x.e.ctx.Err() != nil {
				// the engine is closing: give the integration, which sees its
				// context cancelled, a moment to return. Its result may
				// already be there (a step the local stack's drain let
				// finish just before Close) or come now (ErrNotStarted):
				// either is recorded, or a restart would count the task as
				// in flight and fail it with RestartCause.
				grace := time.NewTimer(closeGrace)
				defer grace.Stop()
				select {
				case r := <-resCh:
					if out, terr, again := t.settle(ctx, r, subCh); !again {
						return out, terr
					}
				case <-grace.C:
				}
			}
			return nil, errCancelled
		}
	}
}

// settle records what an Invoke returned. again: the task is not over (a
// token decides, or, parked, it is invoked again while ctx runs).
func (t *taskRun) settle(ctx context.Context, r invokeResult, subCh chan json.RawMessage) (out any, terr *TaskError, again bool) {
	select {
	case sub := <-subCh: // keep TaskSubmitted before the outcome
		t.submitted(sub)
	default:
	}
	switch {
	case errors.Is(r.err, ErrNotStarted):
		t.park()
		if ctx.Err() != nil {
			return nil, errCancelled, false
		}
		return nil, nil, true
	case r.err != nil:
		if ctx.Err() != nil && r.cancelled {
			// maybe the cancellation's error: the attempt stays in flight
			return nil, errCancelled, false
		}
		var te *TaskError
		if !errors.As(r.err, &te) {
			te = &TaskError{Name: ErrNameTaskFailed, Cause: r.err.Error()}
		}
		return nil, t.failed(te), false
	case t.token != "":
		c := *t.cp
		c.Phase, c.Token, c.Until, c.HBUntil, c.Delivered = phaseToken, t.token, t.deadline, t.hbDeadline, true
		t.x.save(t.fr, &c, nil)
		return nil, nil, true
	}
	out, terr = t.output(r.out)
	return out, terr, false
}

// output checks and decodes an integration's result.
func (t *taskRun) output(raw json.RawMessage) (any, *TaskError) {
	if len(raw) > MaxPayload {
		return nil, t.failed(&TaskError{Name: ErrNameDataLimitExceeded, Cause: "The state/task '" + t.s.Name + "' returned a result with a size exceeding the maximum number of bytes service limit."})
	}
	v, err := jsonvalue.Decode(string(raw))
	if err != nil {
		return nil, t.failed(&TaskError{Name: ErrNameTaskFailed, Cause: "The integration returned invalid JSON: " + err.Error()})
	}
	t.succeeded(marshal(v))
	return v, nil
}

// answer records a task token's answer durably; the sender is acknowledged
// after the commit.
func (t *taskRun) answer(m tokenMsg) (any, *TaskError) {
	e := t.x.e
	e.mu.Lock()
	delete(e.tokens, t.token)
	e.mu.Unlock()
	var result any
	var terr *TaskError
	if m.err != nil {
		terr = t.failed(m.err)
	} else {
		result = m.output
		t.succeeded(marshal(result))
	}
	c := *t.cp
	c.Phase, c.Result, c.Err, c.Token = phaseResult, result, terr, ""
	t.x.save(t.fr, &c, m.done)
	return result, terr
}
