package states

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/pushline/pushline/infra/states/intrinsic"
)

// execution is one running (or just finished) execution.
type execution struct {
	e                                         *Engine
	id                                        int64
	arn, name, smArn, smName, roleArn, defSrc string
	traceHeader                               string
	m                                         *machine
	inputRaw                                  string
	input                                     any
	start                                     time.Time
	redriveCount                              int
	redriveDate                               time.Time
	resumeCP                                  *checkpoint

	mu                     sync.Mutex
	status                 string
	output, errName, cause string
	hasOutput, hasErr      bool
	stop                   time.Time
	lastID                 int64
	pending                []*HistoryEvent
	overLimit              bool

	ctx      context.Context
	cancel   context.CancelCauseFunc
	finished chan struct{}

	// frames are the checkpoints of Parallel branches and Map iterations
	// loaded at a restart, by frame key, until their state takes them.
	frames map[string]*checkpoint
}

// checkpoint is where a top-level execution is: about to run (or running)
// State with Input. Phase says how far the state got:
//
//	""       not started (or restart it)
//	"task"   a task's Invoke is in flight (a restart fails it: RestartCause)
//	"parked" a task was not started (its Invoke returned ErrNotStarted, or
//	         the engine closed before invoking it): its Scheduled event is
//	         recorded (and Started if Started), nothing else; a restart
//	         invokes it again
//	"token"  waiting for a task token (a restart keeps waiting once the
//	         request was delivered, else fails the task: RestartCause)
//	"result" the task's result (or error) is known, not yet processed
//	"wait"   a Wait state waits until Until
//	"retry"  a retry waits until Until
//	"branches" a Parallel or Map state runs its branches or iterations
//	         (their own checkpoints say how far), StartedID is its Started
//	         event: a restart resumes them without new Entered/Started events
//	"done"   (branches and iterations) finished with Result
type checkpoint struct {
	State       string     `json:"state"`
	Input       any        `json:"input"`
	Entered     bool       `json:"entered,omitempty"`
	EnteredID   int64      `json:"enteredId,omitempty"`
	EnteredTime time.Time  `json:"enteredTime,omitzero"`
	Phase       string     `json:"phase,omitempty"`
	Retries     []int      `json:"retries,omitempty"`
	Token       string     `json:"token,omitempty"`
	Delivered   bool       `json:"delivered,omitempty"` // the waitForTaskToken request was delivered
	Started     bool       `json:"started,omitempty"`   // (parked) the task's Started event is recorded
	StartedID   int64      `json:"startedId,omitempty"` // (branches) the Parallel/MapStateStarted event
	Until       time.Time  `json:"until,omitzero"`
	HBUntil     time.Time  `json:"hbUntil,omitzero"`
	Result      any        `json:"result,omitempty"`
	Err         *TaskError `json:"err,omitempty"`
	Prev        int64      `json:"prev,omitempty"`

	inputText string // Input as JSON, when known (not persisted)
}

func decodeCheckpoint(s string) (*checkpoint, error) {
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var cp checkpoint
	if err := d.Decode(&cp); err != nil {
		return nil, fmt.Errorf("decode checkpoint: %w", err)
	}
	return &cp, nil
}

// frame is one running state list: the top level, a branch, an iteration.
type frame struct {
	top     bool
	key     string // "" at the top; "/State[i]…" for branches and iterations
	clear   string // frame checkpoints to delete with the next save
	prev    int64  // previous event id in this frame
	mapItem map[string]any
	// lastOutput is the JSON of the last state output in this frame
	lastOutput string
}

func (e *Engine) launch(x *execution, cp *checkpoint) {
	e.wg.Add(1)
	e.launchCounted(x, cp)
}

// launchCounted runs x from cp; e.wg already counts it.
func (e *Engine) launchCounted(x *execution, cp *checkpoint) {
	x.ctx, x.cancel = context.WithCancelCause(e.ctx)
	x.finished = make(chan struct{})
	if x.m.TimeoutSeconds > 0 {
		left := time.Until(x.start.Add(time.Duration(x.m.TimeoutSeconds) * time.Second))
		if !x.redriveDate.IsZero() {
			left = time.Until(x.redriveDate.Add(time.Duration(x.m.TimeoutSeconds) * time.Second))
		}
		t := time.AfterFunc(max(left, 0), func() { x.cancel(errExecTimeout) })
		go func() { <-x.finished; t.Stop() }()
	}
	go x.run(cp)
}

var errExecTimeout = errors.New("execution timed out")

// emit records an event (in memory, until the next flush) and returns its id.
func (x *execution) emit(fr *frame, ev HistoryEvent) int64 {
	x.mu.Lock()
	x.lastID++
	ev.ID = x.lastID
	ev.PreviousEventID = fr.prev
	ev.Timestamp = Timestamp{time.Now()}
	if max := x.e.o.MaxHistoryEvents; max > 0 && x.lastID >= int64(max) {
		x.overLimit = true
	}
	p := &ev
	x.pending = append(x.pending, p)
	x.mu.Unlock()
	fr.prev = ev.ID
	if obs := x.e.o.Observer; obs != nil {
		c := ev
		c.ExecutionArn = x.arn
		obs(c)
	}
	return ev.ID
}

// takePending returns the events emitted since the last flush or save, and
// the id of the last one emitted.
func (x *execution) takePending() ([]*HistoryEvent, int64) {
	x.mu.Lock()
	evs := x.pending
	x.pending = nil
	total := x.lastID
	x.mu.Unlock()
	return evs, total
}

// flush queues the pending events with a checkpoint (top-level frames
// only; nil leaves it unchanged). done, if set, receives the commit result.
func (x *execution) flush(cp *checkpoint, done chan error, final *finalInfo, after func()) {
	evs, total := x.takePending()
	x.e.st.submit(&op{exec: x.id, events: evs, cp: cp, total: total, final: final, done: done, after: after})
}

func (x *execution) flushWait(ctx context.Context, cp *checkpoint) error {
	done := make(chan error, 1)
	x.flush(cp, done, nil, nil)
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// save queues the pending events with the frame's checkpoint (a copy of
// cp; nil leaves it unchanged); done, if set, receives the commit result.
func (x *execution) save(fr *frame, cp *checkpoint, done chan error) {
	evs, total := x.takePending()
	o := &op{exec: x.id, events: evs, total: total, done: done}
	if cp != nil {
		c := *cp
		c.Prev = fr.prev
		if fr.top {
			o.cp = &c
		} else {
			o.frame, o.fcp = fr.key, &c
		}
	}
	if fr.clear != "" {
		o.clear, fr.clear = fr.clear, ""
	}
	x.e.st.submit(o)
}

// takeFrame returns the checkpoint a restart loaded for a frame, once.
func (x *execution) takeFrame(key string) *checkpoint {
	x.mu.Lock()
	defer x.mu.Unlock()
	cp := x.frames[key]
	delete(x.frames, key)
	return cp
}

var errCancelled = &TaskError{Name: "States.Cancelled"}

func (x *execution) run(cp *checkpoint) {
	defer x.e.wg.Done()
	fr := &frame{top: true, prev: cp.Prev}
	if fr.prev == 0 {
		x.mu.Lock()
		fr.prev = x.lastID
		x.mu.Unlock()
	}
	out, terr := x.runMachine(x.ctx, fr, x.m, cp)
	cause := context.Cause(x.ctx)
	if errors.Is(cause, errShutdown) {
		// leave the checkpoint as it is: the next Open resumes
		x.flush(nil, nil, nil, func() { close(x.finished) })
		return
	}
	f := &finalInfo{}
	var ev HistoryEvent
	var sc *stopCause
	switch {
	case errors.As(cause, &sc):
		f.status, f.errName, f.cause, f.hasError = "ABORTED", sc.errName, sc.cause, sc.errName != "" || sc.cause != ""
		ev = HistoryEvent{Type: "ExecutionAborted", ExecutionAbortedEventDetails: &ErrorDetails{Error: sc.errName, Cause: sc.cause}}
	case errors.Is(cause, errExecTimeout):
		f.status, f.errName, f.cause, f.hasError = "TIMED_OUT", ErrNameTimeout, "The execution timed out (TimeoutSeconds)", true
		ev = HistoryEvent{Type: "ExecutionTimedOut", ExecutionTimedOutEventDetails: &ErrorDetails{Error: f.errName, Cause: f.cause}}
	case terr != nil:
		f.status, f.errName, f.cause, f.hasError = "FAILED", terr.Name, terr.Cause, terr.Name != "" || terr.Cause != ""
		ev = HistoryEvent{Type: "ExecutionFailed", ExecutionFailedEventDetails: &ErrorDetails{Error: terr.Name, Cause: terr.Cause}}
	default:
		b, _ := intrinsic.Marshal(out)
		if len(b) > MaxPayload {
			f.status, f.errName, f.cause, f.hasError = "FAILED", ErrNameDataLimitExceeded, "The state/task returned a result with a size exceeding the maximum number of bytes service limit.", true
			ev = HistoryEvent{Type: "ExecutionFailed", ExecutionFailedEventDetails: &ErrorDetails{Error: f.errName, Cause: f.cause}}
		} else {
			f.status, f.output, f.hasOutput = "SUCCEEDED", string(b), true
			ev = HistoryEvent{Type: "ExecutionSucceeded", ExecutionSucceededEventDetails: &OutputDetails{Output: f.output, OutputDetails: notTruncated}}
		}
	}
	now := time.Now().UTC()
	f.stop = epoch(now)
	// the status first: an Observer that describes the execution on the
	// final event sees it ended
	x.mu.Lock()
	x.status, x.output, x.hasOutput, x.errName, x.cause, x.hasErr, x.stop = f.status, f.output, f.hasOutput, f.errName, f.cause, f.hasError, now
	x.mu.Unlock()
	x.emit(fr, ev)
	x.flush(nil, nil, f, func() {
		x.e.mu.Lock()
		if x.e.running[x.arn] == x {
			delete(x.e.running, x.arn)
		}
		x.e.mu.Unlock()
		close(x.finished)
	})
}

func (x *execution) describe() *DescribeExecutionOutput {
	x.mu.Lock()
	defer x.mu.Unlock()
	in := x.inputRaw
	d := &DescribeExecutionOutput{ExecutionArn: x.arn, StateMachineArn: x.smArn, Name: x.name, Status: x.status, StartDate: Timestamp{x.start},
		Input: &in, InputDetails: &DataDetails{Included: true}, TraceHeader: x.traceHeader, RedriveCount: x.redriveCount, RedriveDate: ts(x.redriveDate)}
	if !x.stop.IsZero() {
		d.StopDate = ts(x.stop)
	}
	if x.hasOutput {
		out := x.output
		d.Output, d.OutputDetails = &out, &DataDetails{Included: true}
	}
	if x.hasErr {
		en, c := x.errName, x.cause
		d.Error, d.Cause = &en, &c
	}
	d.RedriveStatus, d.RedriveStatusReason = redriveStatus(x.status)
	return d
}

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
				x.save(fr, &checkpoint{State: cp.State, Phase: "done", Result: out}, nil)
			}
			return out, nil
		}
		cp = &checkpoint{State: next, Input: out, Prev: fr.prev, inputText: fr.lastOutput}
		x.save(fr, cp, nil)
	}
}

func (x *execution) checkpointNow(fr *frame, cp *checkpoint, wait bool) error {
	if !wait {
		x.save(fr, cp, nil)
		return nil
	}
	done := make(chan error, 1)
	x.save(fr, cp, done)
	select {
	case err := <-done:
		return err
	case <-x.e.ctx.Done():
		return x.e.ctx.Err()
	}
}

func marshal(v any) string {
	b, err := intrinsic.Marshal(v)
	if err != nil {
		return "null"
	}
	return string(b)
}

func runtimeErr(s *state, cp *checkpoint, format string, args ...any) *TaskError {
	return &TaskError{Name: ErrNameRuntime, Cause: fmt.Sprintf("An error occurred while executing the state '%s' (entered at the event id #%d). ", s.Name, cp.EnteredID) + fmt.Sprintf(format, args...)}
}

func (x *execution) ctxObject(fr *frame, s *state, cp *checkpoint, retry int, token string) map[string]any {
	c := map[string]any{
		"Execution": map[string]any{
			"Id": x.arn, "Input": x.input, "Name": x.name, "RoleArn": x.roleArn,
			"StartTime": x.start.UTC().Format("2006-01-02T15:04:05.000Z"), "RedriveCount": json.Number(fmt.Sprint(x.redriveCount)),
		},
		"State": map[string]any{
			"EnteredTime": cp.EnteredTime.UTC().Format("2006-01-02T15:04:05.000Z"), "Name": s.Name, "RetryCount": json.Number(fmt.Sprint(retry)),
		},
		"StateMachine": map[string]any{"Id": x.smArn, "Name": x.smName},
	}
	if token != "" {
		c["Task"] = map[string]any{"Token": token}
	}
	if fr.mapItem != nil {
		c["Map"] = map[string]any{"Item": fr.mapItem}
	}
	return c
}

// applyPath applies InputPath or OutputPath.
func applyPath(p path, v any) (any, error) {
	if p.null {
		return map[string]any{}, nil
	}
	if p.p == nil {
		return v, nil
	}
	return p.p.Get(v)
}

func applyResultPath(p path, raw, result any) (any, *TaskError) {
	if p.null {
		return raw, nil
	}
	if p.p == nil {
		return result, nil
	}
	out, err := p.p.Set(raw, result)
	if err != nil {
		return nil, &TaskError{Name: ErrNameResultPathMatch, Cause: fmt.Sprintf("Unable to apply ResultPath \"%s\" to input \"%s\"", p.p, marshal(raw))}
	}
	return out, nil
}

func (x *execution) evalTmpl(s *state, cp *checkpoint, t *tmpl, input, ctx any) (any, *TaskError) {
	switch t.kind {
	case 'l':
		return t.lit, nil
	case 'a':
		out := make([]any, len(t.items))
		for i, it := range t.items {
			v, err := x.evalTmpl(s, cp, it, input, ctx)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	}
	out := make(map[string]any, len(t.fields))
	for _, f := range t.fields {
		if f.sub != nil {
			v, err := x.evalTmpl(s, cp, f.sub, input, ctx)
			if err != nil {
				return nil, err
			}
			out[f.key] = v
			continue
		}
		v, err := f.ref.eval(input, ctx)
		if err != nil {
			return nil, refError(s, cp, f.ref, f.key+".$", input, err)
		}
		out[f.key] = v
	}
	return out, nil
}

func refError(s *state, cp *checkpoint, r *ref, field string, input any, err error) *TaskError {
	switch {
	case errors.Is(err, intrinsic.ErrFailure):
		te := runtimeErr(s, cp, "The evaluation of the intrinsic function for the field '%s' failed: %s", field, err.Error())
		te.Name = ErrNameIntrinsicFailure
		return te
	case errors.Is(err, intrinsic.ErrPath):
		return runtimeErr(s, cp, "The evaluation of the intrinsic function for the field '%s' failed: %s", field, err.Error())
	}
	return runtimeErr(s, cp, "The JSONPath '%s' specified for the field '%s' could not be found in the input '%s'", r.src, field, marshal(input))
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

var exitedType = map[string]string{"Task": "TaskStateExited", "Pass": "PassStateExited", "Choice": "ChoiceStateExited", "Wait": "WaitStateExited",
	"Succeed": "SucceedStateExited", "Parallel": "ParallelStateExited", "Map": "MapStateExited"}

var stateEnteredType = map[string]string{"Task": "TaskStateEntered", "Pass": "PassStateEntered", "Choice": "ChoiceStateEntered", "Wait": "WaitStateEntered",
	"Succeed": "SucceedStateEntered", "Fail": "FailStateEntered", "Parallel": "ParallelStateEntered", "Map": "MapStateEntered"}

// execState runs one state from cp. It returns the state output and the
// next state ("" at the end), or the error that ends this state list.
func (x *execution) execState(ctx context.Context, fr *frame, s *state, cp *checkpoint) (any, string, *TaskError) {
	if !cp.Entered {
		cp.EnteredTime = time.Now().UTC()
		text := cp.inputText
		if text == "" {
			text = marshal(cp.Input)
		}
		cp.EnteredID = x.emit(fr, HistoryEvent{Type: stateEnteredType[s.Type], StateEnteredEventDetails: &StateEnteredDetails{Name: s.Name, Input: text, InputDetails: notTruncated}})
		cp.Entered = true
	}
	raw := cp.Input
	exit := func(out any, next string) (any, string, *TaskError) {
		text := marshal(out)
		if len(text) > MaxPayload {
			return nil, "", &TaskError{Name: ErrNameDataLimitExceeded, Cause: "The state/task '" + s.Name + "' returned a result with a size exceeding the maximum number of bytes service limit."}
		}
		x.emit(fr, HistoryEvent{Type: exitedType[s.Type], StateExitedEventDetails: &StateExitedDetails{Name: s.Name, Output: text, OutputDetails: notTruncated}})
		fr.lastOutput = text
		return out, next, nil
	}
	switch s.Type {
	case "Pass":
		eff, terr := inputPath(s, cp, raw)
		if terr != nil {
			return nil, "", terr
		}
		result := eff
		if s.Parameters != nil {
			var cobj any
			if s.Parameters.usesCtx {
				cobj = x.ctxObject(fr, s, cp, 0, "")
			}
			v, terr := x.evalTmpl(s, cp, s.Parameters, eff, cobj)
			if terr != nil {
				return nil, "", terr
			}
			result = v
		}
		if s.hasResult {
			result = s.Result
		}
		out, terr := applyResultPath(s.ResultPath, raw, result)
		if terr != nil {
			return nil, "", terr
		}
		if out, terr = outputPath(s, cp, out); terr != nil {
			return nil, "", terr
		}
		return exit(out, s.Next)
	case "Choice":
		eff, terr := inputPath(s, cp, raw)
		if terr != nil {
			return nil, "", terr
		}
		next := ""
		for _, r := range s.Choices {
			ok, terr := evalRule(s, cp, r, eff)
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
		out, terr := outputPath(s, cp, eff)
		if terr != nil {
			return nil, "", terr
		}
		return exit(out, next)
	case "Wait":
		eff, terr := inputPath(s, cp, raw)
		if terr != nil {
			return nil, "", terr
		}
		until := cp.Until
		if cp.Phase != "wait" {
			u, terr := waitUntil(s, cp, eff)
			if terr != nil {
				return nil, "", terr
			}
			until = u
			c := *cp
			c.Phase, c.Until = "wait", until
			x.checkpointNow(fr, &c, false)
		}
		if err := sleepUntil(ctx, until); err != nil {
			return nil, "", errCancelled
		}
		out, terr := outputPath(s, cp, eff)
		if terr != nil {
			return nil, "", terr
		}
		return exit(out, s.Next)
	case "Succeed":
		eff, terr := inputPath(s, cp, raw)
		if terr != nil {
			return nil, "", terr
		}
		out, terr := outputPath(s, cp, eff)
		if terr != nil {
			return nil, "", terr
		}
		return exit(out, "")
	case "Fail":
		te := &TaskError{Name: s.Error, Cause: s.Cause}
		for _, p := range []struct {
			r   *ref
			dst *string
		}{{s.ErrorPath, &te.Name}, {s.CausePath, &te.Cause}} {
			if p.r == nil {
				continue
			}
			v, err := p.r.eval(raw, x.ctxObject(fr, s, cp, 0, ""))
			if err != nil {
				return nil, "", refError(s, cp, p.r, "ErrorPath/CausePath", raw, err)
			}
			str, ok := v.(string)
			if !ok {
				return nil, "", runtimeErr(s, cp, "The value of '%s' must be a string", p.r.src)
			}
			*p.dst = str
		}
		return nil, "", te
	}
	// Task, Parallel, Map: retriers and catchers
	if len(cp.Retries) != len(s.Retry) {
		cp.Retries = make([]int, len(s.Retry))
	}
	for {
		if cp.Phase == "retry" {
			if err := sleepUntil(ctx, cp.Until); err != nil {
				return nil, "", errCancelled
			}
			cp.Phase = ""
		}
		retry := 0
		for _, n := range cp.Retries {
			retry += n
		}
		var out any
		var terr *TaskError
		switch {
		case s.Type == "Task":
			out, terr = x.task(ctx, fr, s, cp, retry)
		case s.Type == "Parallel":
			out, terr = x.parallel(ctx, fr, s, cp, retry)
		case s.Type == "Map":
			out, terr = x.mapState(ctx, fr, s, cp, retry)
		}
		if terr == nil {
			return exit(out, s.Next)
		}
		if terr == errCancelled || ctx.Err() != nil || terr.Name == ErrNameRuntime {
			return nil, "", terr
		}
		retried := false
		for i, r := range s.Retry {
			if !matchesError(r.ErrorEquals, terr.Name) {
				continue
			}
			if cp.Retries[i] >= r.MaxAttempts {
				break
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
			cp.Phase, cp.Until = "retry", time.Now().Add(time.Duration(delay*float64(time.Second)))
			cp.Result, cp.Err, cp.Token = nil, nil, ""
			x.checkpointNow(fr, cp, false)
			retried = true
			break
		}
		if retried {
			continue
		}
		for _, c := range s.Catch {
			if !matchesError(c.ErrorEquals, terr.Name) {
				continue
			}
			errObj := map[string]any{"Error": terr.Name, "Cause": terr.Cause}
			out, rerr := applyResultPath(c.ResultPath, raw, errObj)
			if rerr != nil {
				return nil, "", rerr
			}
			return exit(out, c.Next)
		}
		return nil, "", terr
	}
}

func sleepUntil(ctx context.Context, until time.Time) error {
	d := time.Until(until)
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func parseTimestamp(s string) (time.Time, bool) {
	if !strings.Contains(s, "T") {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil
}

func waitUntil(s *state, cp *checkpoint, eff any) (time.Time, *TaskError) {
	now := time.Now()
	switch {
	case s.Seconds != nil:
		return now.Add(time.Duration(*s.Seconds * float64(time.Second))), nil
	case s.SecondsPath != nil:
		v, err := s.SecondsPath.eval(eff, nil)
		if err != nil {
			return now, noResults(s, cp, s.SecondsPath.src)
		}
		f, ok := num(v)
		if !ok || f < 0 || f != math.Trunc(f) {
			return now, runtimeErr(s, cp, "The SecondsPath parameter does not reference a valid non-negative integer: %s", marshal(v))
		}
		return now.Add(time.Duration(f) * time.Second), nil
	case s.Timestamp != "":
		t, _ := parseTimestamp(s.Timestamp)
		return t, nil
	default:
		v, err := s.TimestampPath.eval(eff, nil)
		if err != nil {
			return now, noResults(s, cp, s.TimestampPath.src)
		}
		str, _ := v.(string)
		t, ok := parseTimestamp(str)
		if !ok {
			return now, runtimeErr(s, cp, "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: %s", marshal(v))
		}
		return t, nil
	}
}

// ---- Choice ----

func evalRule(s *state, cp *checkpoint, r *rule, input any) (bool, *TaskError) {
	switch {
	case r.And != nil:
		for _, sub := range r.And {
			ok, err := evalRule(s, cp, sub, input)
			if err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	case r.Or != nil:
		for _, sub := range r.Or {
			ok, err := evalRule(s, cp, sub, input)
			if err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	case r.Not != nil:
		ok, err := evalRule(s, cp, r.Not, input)
		return !ok, err
	}
	v, err := r.Variable.eval(input, nil)
	if r.Op == "IsPresent" {
		return (err == nil) == (r.Value == true), nil
	}
	if err != nil {
		return false, runtimeErr(s, cp, "Invalid path '%s': The choice state's condition path references an invalid value.", r.Variable.src)
	}
	want := r.Value
	if r.ValueRef != nil {
		w, err := r.ValueRef.eval(input, nil)
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

// ---- Task ----

func (x *execution) task(ctx context.Context, fr *frame, s *state, cp *checkpoint, retry int) (any, *TaskError) {
	raw := cp.Input
	eff, terr := inputPath(s, cp, raw)
	if terr != nil {
		return nil, terr
	}
	token := ""
	if s.pattern == "waitForTaskToken" {
		token = cp.Token
		if token == "" {
			token = x.e.newToken(x.id)
		}
	}
	cobj := x.ctxObject(fr, s, cp, retry, token)
	params := eff
	if s.Parameters != nil {
		v, terr := x.evalTmpl(s, cp, s.Parameters, eff, cobj)
		if terr != nil {
			return nil, terr
		}
		params = v
	}
	timeout, heartbeat := s.Timeout, s.Heartbeat
	for _, p := range []struct {
		r   *ref
		dst *int
	}{{s.TimeoutPath, &timeout}, {s.HeartbeatPath, &heartbeat}} {
		if p.r == nil {
			continue
		}
		v, err := p.r.eval(eff, cobj)
		f, ok := num(v)
		if err != nil || !ok || f < 1 || f != math.Trunc(f) {
			return nil, runtimeErr(s, cp, "The value of '%s' must be a positive integer", p.r.src)
		}
		*p.dst = int(f)
	}
	lambdaARN := strings.HasPrefix(s.Resource, "arn:aws:lambda:")
	rType, rName := s.resourceService, s.resourceAction
	paramText := marshal(params)

	var result any
	phase := cp.Phase
	cp.Phase = ""
	switch phase {
	case "result":
		result, terr = cp.Result, cp.Err
	case "task":
		terr = &TaskError{Name: ErrNameTaskFailed, Cause: RestartCause}
		x.emitTaskFailed(fr, lambdaARN, rType, rName, terr)
	case "token":
		if !cp.Delivered {
			// the engine stopped while delivering the request
			terr = &TaskError{Name: ErrNameTaskFailed, Cause: RestartCause}
			x.emitTaskFailed(fr, lambdaARN, rType, rName, terr)
			break
		}
		fallthrough
	default:
		// "parked": the Scheduled (and maybe Started) events of this
		// attempt are recorded; invoke again without repeating them
		if phase != "token" && phase != "parked" {
			if lambdaARN {
				x.emit(fr, HistoryEvent{Type: "LambdaFunctionScheduled", LambdaFunctionScheduledDetails: &LambdaScheduledDetails{Resource: s.Resource, Input: paramText, InputDetails: notTruncated, TimeoutInSeconds: int64(timeout)}})
			} else {
				x.emit(fr, HistoryEvent{Type: "TaskScheduled", TaskScheduledEventDetails: &TaskScheduledDetails{ResourceType: rType, Resource: rName, Region: x.e.o.Region,
					Parameters: paramText, TimeoutInSeconds: int64(timeout), HeartbeatInSeconds: int64(heartbeat)}})
			}
		}
		result, terr = x.invoke(ctx, fr, s, cp, params, paramText, token, timeout, heartbeat, phase == "token", phase == "parked" && cp.Started, lambdaARN)
		if terr == errCancelled {
			return nil, terr
		}
		// the result is known: a restart must not invoke again
		c := *cp
		c.Phase, c.Result, c.Err, c.Token = "result", result, terr, ""
		x.save(fr, &c, nil)
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
	out, rerr := applyResultPath(s.ResultPath, raw, result)
	if rerr != nil {
		return nil, rerr
	}
	return outputPath(s, cp, out)
}

func (x *execution) emitTaskFailed(fr *frame, lambdaARN bool, rType, rName string, terr *TaskError) {
	if lambdaARN {
		x.emit(fr, HistoryEvent{Type: "LambdaFunctionFailed", LambdaFunctionFailedDetails: &ErrorDetails{Error: terr.Name, Cause: terr.Cause}})
		return
	}
	x.emit(fr, HistoryEvent{Type: "TaskFailed", TaskFailedEventDetails: &TaskErrorDetails{ResourceType: rType, Resource: rName, Error: terr.Name, Cause: terr.Cause}})
}

type invokeResult struct {
	out json.RawMessage
	err error
}

// invoke runs the integration and waits for the result, a token, a
// timeout or cancellation. resumeToken: a restart found the request
// delivered, wait for the token only. started: the task's Started event is
// already recorded (a parked task invoked again after a restart).
//
// An Invoke that returns ErrNotStarted parks the task: the checkpoint says
// so (a restart invokes it again) and, while the engine runs, it is invoked
// again after notStartedDelay, with fresh timeouts and no new events.
func (x *execution) invoke(ctx context.Context, fr *frame, s *state, cp *checkpoint, params any, paramText, token string, timeout, heartbeat int, resumeToken, started, lambdaARN bool) (any, *TaskError) {
	rType, rName := s.resourceService, s.resourceAction
	deadline, hbDeadline := cp.Until, cp.HBUntil
	fresh := func() {
		now := time.Now()
		deadline, hbDeadline = time.Time{}, time.Time{}
		if timeout > 0 {
			deadline = now.Add(time.Duration(timeout) * time.Second)
		}
		if heartbeat > 0 {
			hbDeadline = now.Add(time.Duration(heartbeat) * time.Second)
		}
	}
	if !resumeToken {
		fresh()
	}
	var tw *tokenWait
	if token != "" {
		x.e.mu.Lock()
		tw = x.e.tokens[token] // registered by Resume for a resumed wait
		if tw == nil {
			tw = &tokenWait{x: x, ch: make(chan tokenMsg, 8)}
			x.e.tokens[token] = tw
		}
		x.e.mu.Unlock()
		defer func() {
			x.e.mu.Lock()
			delete(x.e.tokens, token)
			for {
				select {
				case m := <-tw.ch:
					if m.heartbeat {
						m.done <- nil
					} else {
						m.done <- apiErr("TaskTimedOut", "Task Timed Out: 'Provided task does not exist anymore'")
					}
					continue
				default:
				}
				break
			}
			x.e.mu.Unlock()
		}()
	}
	// inFlight makes the in-flight state durable before the side effect
	inFlight := func() error {
		c := *cp
		c.Phase, c.Token, c.Until, c.HBUntil, c.Delivered = "task", "", deadline, hbDeadline, false
		if token != "" {
			c.Phase, c.Token, c.Delivered = "token", token, resumeToken
		}
		return x.checkpointNow(fr, &c, true)
	}
	// park records that the task did not start: a restart invokes it again
	park := func() {
		c := *cp
		c.Phase, c.Token, c.Until, c.HBUntil, c.Delivered, c.Result, c.Err, c.Started = "parked", "", time.Time{}, time.Time{}, false, nil, nil, started
		// committed before the engine's store closes even if Close is
		// under way (checkpointNow then returns early)
		x.checkpointNow(fr, &c, true)
	}
	// notInvoked: the in-flight checkpoint could not be awaited (the
	// engine is closing); the integration was not called
	notInvoked := func() (any, *TaskError) {
		if !resumeToken {
			park()
		}
		return nil, errCancelled
	}
	if err := inFlight(); err != nil {
		return notInvoked()
	}
	icancel := func() {}
	defer func() { icancel() }()
	hbCh := make(chan struct{}, 1)
	subCh := make(chan json.RawMessage, 1)
	var resCh chan invokeResult
	in := x.e.integration(s.baseResource)
	fail := func(terr *TaskError) (any, *TaskError) {
		x.emitTaskFailed(fr, lambdaARN, rType, rName, terr)
		return nil, terr
	}
	// call starts the integration's Invoke
	call := func() {
		var ictx context.Context
		ictx, icancel = context.WithCancel(ctx)
		resCh = make(chan invokeResult, 1)
		res := resCh
		t := Task{Resource: s.baseResource, Pattern: s.pattern, Parameters: json.RawMessage(paramText), ExecutionArn: x.arn, StateMachineArn: x.smArn,
			StateName: s.Name, Token: token, Heartbeat: func() {
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
		go func() {
			defer func() {
				if p := recover(); p != nil {
					res <- invokeResult{err: fmt.Errorf("integration panicked: %v", p)}
				}
			}()
			out, err := in.Invoke(ictx, t)
			res <- invokeResult{out, err}
		}()
	}
	if !resumeToken {
		if !started {
			if lambdaARN {
				x.emit(fr, HistoryEvent{Type: "LambdaFunctionStarted"})
			} else {
				x.emit(fr, HistoryEvent{Type: "TaskStarted", TaskStartedEventDetails: &TaskResourceDetails{ResourceType: rType, Resource: rName}})
			}
			started = true
		}
		if in == nil {
			return fail(&TaskError{Name: ErrNameTaskFailed, Cause: fmt.Sprintf("No integration serves the resource '%s' in the local Step Functions engine.", s.baseResource)})
		}
		call()
	}
	var tokCh chan tokenMsg
	if tw != nil {
		tokCh = tw.ch
	}
	timer := func(t time.Time) (<-chan time.Time, func()) {
		if t.IsZero() {
			return nil, func() {}
		}
		tm := time.NewTimer(max(time.Until(t), 0))
		return tm.C, func() { tm.Stop() }
	}
	toC, toStop := timer(deadline)
	hbC, hbStop := timer(hbDeadline)
	var parkC <-chan time.Time
	parkStop := func() {}
	parkedBefore := false
	defer func() { toStop(); hbStop(); parkStop() }()
	submitted := func(r json.RawMessage) {
		text := "null"
		if v, err := decodeJSON(string(r)); err == nil {
			text = marshal(v)
		}
		x.emit(fr, HistoryEvent{Type: "TaskSubmitted", TaskSubmittedEventDetails: &TaskOutputDetails{ResourceType: rType, Resource: rName, Output: text, OutputDetails: notTruncated}})
	}
	for {
		select {
		case r := <-resCh:
			resCh = nil
			select {
			case sub := <-subCh: // keep TaskSubmitted before the outcome
				submitted(sub)
			default:
			}
			if r.err != nil && errors.Is(r.err, ErrNotStarted) {
				park()
				if ctx.Err() != nil {
					return nil, errCancelled
				}
				if !parkedBefore {
					x.e.log.Info("task not started; invoking it again every second", "execution", x.arn, "state", s.Name, "error", r.err)
					parkedBefore = true
				}
				icancel()
				toStop()
				hbStop()
				toC, hbC = nil, nil
				parkC, parkStop = timer(time.Now().Add(notStartedDelay))
				continue
			}
			if r.err != nil {
				if ctx.Err() != nil {
					return nil, errCancelled
				}
				var te *TaskError
				if !errors.As(r.err, &te) {
					te = &TaskError{Name: ErrNameTaskFailed, Cause: r.err.Error()}
				}
				return fail(te)
			}
			if token != "" {
				c := *cp
				c.Phase, c.Token, c.Until, c.HBUntil, c.Delivered = "token", token, deadline, hbDeadline, true
				x.save(fr, &c, nil)
				continue // the token decides
			}
			if len(r.out) > MaxPayload {
				return fail(&TaskError{Name: ErrNameDataLimitExceeded, Cause: "The state/task '" + s.Name + "' returned a result with a size exceeding the maximum number of bytes service limit."})
			}
			v, err := decodeJSON(string(r.out))
			if err != nil {
				return fail(&TaskError{Name: ErrNameTaskFailed, Cause: "The integration returned invalid JSON: " + err.Error()})
			}
			x.emitTaskSucceeded(fr, lambdaARN, rType, rName, marshal(v))
			return v, nil
		case <-parkC:
			// invoke the parked task again, as if it had just been scheduled
			parkC = nil
			fresh()
			if err := inFlight(); err != nil {
				return notInvoked()
			}
			call()
			toC, toStop = timer(deadline)
			hbC, hbStop = timer(hbDeadline)
		case m := <-tokCh:
			if m.heartbeat {
				if heartbeat > 0 {
					hbStop()
					hbC, hbStop = timer(time.Now().Add(time.Duration(heartbeat) * time.Second))
				}
				m.done <- nil
				continue
			}
			// the answer: record it durably, acknowledge after commit
			tokCh = nil
			x.e.mu.Lock()
			delete(x.e.tokens, token)
			x.e.mu.Unlock()
			var result any
			var terr *TaskError
			if m.err != nil {
				terr = m.err
				x.emitTaskFailed(fr, lambdaARN, rType, rName, terr)
			} else {
				result = m.output
				x.emitTaskSucceeded(fr, lambdaARN, rType, rName, marshal(result))
			}
			c := *cp
			c.Phase, c.Result, c.Err, c.Token = "result", result, terr, ""
			x.save(fr, &c, m.done)
			icancel()
			return result, terr
		case r := <-subCh:
			submitted(r)
		case <-hbCh:
			if heartbeat > 0 {
				hbStop()
				hbC, hbStop = timer(time.Now().Add(time.Duration(heartbeat) * time.Second))
			}
		case <-toC:
			icancel()
			return x.timedOut(fr, lambdaARN, rType, rName, &TaskError{Name: ErrNameTimeout, Cause: "Task timed out."})
		case <-hbC:
			icancel()
			return x.timedOut(fr, lambdaARN, rType, rName, &TaskError{Name: ErrNameHeartbeatTimeout, Cause: "Task heartbeat timed out."})
		case <-ctx.Done():
			if resCh != nil && x.e.ctx.Err() != nil {
				// the engine is closing: give the integration, which sees its
				// context cancelled, a moment to say it did not start
				grace := time.NewTimer(closeGrace)
				select {
				case r := <-resCh:
					if r.err != nil && errors.Is(r.err, ErrNotStarted) {
						park()
					}
				case <-grace.C:
				}
				grace.Stop()
			}
			return nil, errCancelled
		}
	}
}

// notStartedDelay is how long a task whose Invoke returned ErrNotStarted
// waits before it is invoked again while the engine runs.
var notStartedDelay = time.Second

// closeGrace is how long Close waits for an Invoke in flight to return
// after cancelling its context; one still running then is left in flight
// (a restart fails it with RestartCause).
var closeGrace = 5 * time.Second

func (x *execution) timedOut(fr *frame, lambdaARN bool, rType, rName string, terr *TaskError) (any, *TaskError) {
	if lambdaARN {
		x.emit(fr, HistoryEvent{Type: "LambdaFunctionTimedOut", LambdaFunctionTimedOutDetails: &ErrorDetails{Error: terr.Name, Cause: terr.Cause}})
	} else {
		x.emit(fr, HistoryEvent{Type: "TaskTimedOut", TaskTimedOutEventDetails: &TaskErrorDetails{ResourceType: rType, Resource: rName, Error: terr.Name, Cause: terr.Cause}})
	}
	return nil, terr
}

func (x *execution) emitTaskSucceeded(fr *frame, lambdaARN bool, rType, rName, out string) {
	if lambdaARN {
		x.emit(fr, HistoryEvent{Type: "LambdaFunctionSucceeded", LambdaFunctionSucceededDetails: &OutputDetails{Output: out, OutputDetails: notTruncated}})
		return
	}
	x.emit(fr, HistoryEvent{Type: "TaskSucceeded", TaskSucceededEventDetails: &TaskOutputDetails{ResourceType: rType, Resource: rName, Output: out, OutputDetails: notTruncated}})
}

// ---- Parallel and Map ----

// inputPath applies the state's InputPath to v.
func inputPath(s *state, cp *checkpoint, v any) (any, *TaskError) {
	eff, err := applyPath(s.InputPath, v)
	if err != nil {
		return nil, noResults(s, cp, s.InputPath.p)
	}
	return eff, nil
}

// outputPath applies the state's OutputPath to v.
func outputPath(s *state, cp *checkpoint, v any) (any, *TaskError) {
	out, err := applyPath(s.OutputPath, v)
	if err != nil {
		return nil, noResults(s, cp, s.OutputPath.p)
	}
	return out, nil
}

// noResults is the error of a path (p, printed with %s) that selects nothing.
func noResults(s *state, cp *checkpoint, p any) *TaskError {
	return runtimeErr(s, cp, "Invalid path '%s' : No results for path: %s", p, p)
}

func (x *execution) finish(fr *frame, s *state, cp *checkpoint, retry int, result any) (any, *TaskError) {
	if s.Selector != nil {
		v, terr := x.evalTmpl(s, cp, s.Selector, result, x.ctxObject(fr, s, cp, retry, ""))
		if terr != nil {
			return nil, terr
		}
		result = v
	}
	out, terr := applyResultPath(s.ResultPath, cp.Input, result)
	if terr != nil {
		return nil, terr
	}
	return outputPath(s, cp, out)
}

// branchesStarted records a Parallel or Map state's Started event and a
// checkpoint saying its branches run, so that a restart resumes them
// without entering the state again; after a restart it returns the
// recorded event's id.
func (x *execution) branchesStarted(fr *frame, cp *checkpoint, ev HistoryEvent) int64 {
	phase := cp.Phase
	cp.Phase = ""
	if phase == "branches" && cp.StartedID != 0 {
		return cp.StartedID
	}
	id := x.emit(fr, ev)
	c := *cp
	c.Phase, c.StartedID, c.Result, c.Err, c.Token = "branches", id, nil, nil, ""
	x.save(fr, &c, nil)
	return id
}

func (x *execution) parallel(ctx context.Context, fr *frame, s *state, cp *checkpoint, retry int) (any, *TaskError) {
	eff, terr := inputPath(s, cp, cp.Input)
	if terr != nil {
		return nil, terr
	}
	input := eff
	if s.Parameters != nil {
		if input, terr = x.evalTmpl(s, cp, s.Parameters, eff, x.ctxObject(fr, s, cp, retry, "")); terr != nil {
			return nil, terr
		}
	}
	started := x.branchesStarted(fr, cp, HistoryEvent{Type: "ParallelStateStarted"})
	bctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make([]any, len(s.Branches))
	errs := make([]*TaskError, len(s.Branches))
	var wg sync.WaitGroup
	prefix := fr.key + "/" + s.Name + "["
	for i, b := range s.Branches {
		wg.Add(1)
		go func() {
			defer wg.Done()
			bf := &frame{prev: started, key: fmt.Sprintf("%s%d]", prefix, i)}
			bcp := x.takeFrame(bf.key)
			if bcp != nil && bcp.Phase == "done" {
				results[i] = bcp.Result
				return
			}
			if bcp == nil {
				bcp = &checkpoint{State: b.StartAt, Input: input}
			} else {
				bf.prev = bcp.Prev
			}
			out, terr := x.runMachine(bctx, bf, b, bcp)
			results[i], errs[i] = out, terr
			if terr != nil {
				cancel()
			}
		}()
	}
	wg.Wait()
	if ctx.Err() == nil {
		fr.clear = prefix // the next checkpoint of this frame forgets the branches
	}
	if ctx.Err() != nil {
		return nil, errCancelled
	}
	for _, e := range errs {
		if e != nil && e != errCancelled {
			x.emit(fr, HistoryEvent{Type: "ParallelStateFailed"})
			return nil, e
		}
	}
	x.emit(fr, HistoryEvent{Type: "ParallelStateSucceeded"})
	return x.finish(fr, s, cp, retry, results)
}

func (x *execution) mapState(ctx context.Context, fr *frame, s *state, cp *checkpoint, retry int) (any, *TaskError) {
	eff, terr := inputPath(s, cp, cp.Input)
	if terr != nil {
		return nil, terr
	}
	itemsV, err := applyPath(s.ItemsPath, eff)
	items, ok := itemsV.([]any)
	if err != nil || !ok {
		p := "$"
		if s.ItemsPath.p != nil {
			p = s.ItemsPath.p.String()
		}
		return nil, runtimeErr(s, cp, "Invalid path '%s': The ItemsPath must reference a JSON array", p)
	}
	conc := s.MaxConcurrency
	if s.MaxConcPath != nil {
		v, err := s.MaxConcPath.eval(eff, nil)
		f, ok := num(v)
		if err != nil || !ok || f < 0 {
			return nil, runtimeErr(s, cp, "The MaxConcurrencyPath must reference a non-negative integer")
		}
		conc = int(f)
	}
	if conc <= 0 || conc > len(items) {
		conc = max(len(items), 1)
	}
	started := x.branchesStarted(fr, cp, HistoryEvent{Type: "MapStateStarted", MapStateStartedEventDetails: &MapStartedDetails{Length: len(items)}})
	inputs := make([]any, len(items))
	for i, it := range items {
		inputs[i] = it
		if s.Parameters != nil {
			ifr := &frame{mapItem: map[string]any{"Index": json.Number(fmt.Sprint(i)), "Value": it}}
			v, terr := x.evalTmpl(s, cp, s.Parameters, eff, x.ctxObject(ifr, s, cp, retry, ""))
			if terr != nil {
				return nil, terr
			}
			inputs[i] = v
		}
	}
	mctx, cancel := context.WithCancel(ctx)
	defer cancel()
	prefix := fr.key + "/" + s.Name + "["
	results := make([]any, len(items))
	var firstErr *TaskError
	var mu sync.Mutex
	sem := make(chan struct{}, conc)
	var wg sync.WaitGroup
	for i := range items {
		select {
		case sem <- struct{}{}:
		case <-mctx.Done():
		}
		if mctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			ifr := &frame{prev: started, key: fmt.Sprintf("%s%d]", prefix, i)}
			icp := x.takeFrame(ifr.key)
			if icp != nil && icp.Phase == "done" {
				results[i] = icp.Result
				return
			}
			if icp == nil {
				icp = &checkpoint{State: s.Processor.StartAt, Input: inputs[i]}
				x.emit(ifr, HistoryEvent{Type: "MapIterationStarted", MapIterationStartedEventDetails: &MapIterationDetails{Name: s.Name, Index: i}})
			} else {
				ifr.prev = icp.Prev
			}
			out, terr := x.runMachine(mctx, ifr, s.Processor, icp)
			switch {
			case terr == errCancelled && x.e.ctx.Err() != nil:
				// the engine is closing: the iteration resumes after a restart
			case terr == errCancelled:
				x.emit(ifr, HistoryEvent{Type: "MapIterationAborted", MapIterationAbortedEventDetails: &MapIterationDetails{Name: s.Name, Index: i}})
			case terr != nil:
				x.emit(ifr, HistoryEvent{Type: "MapIterationFailed", MapIterationFailedEventDetails: &MapIterationDetails{Name: s.Name, Index: i}})
				mu.Lock()
				if firstErr == nil {
					firstErr = terr
				}
				mu.Unlock()
				cancel()
			default:
				x.emit(ifr, HistoryEvent{Type: "MapIterationSucceeded", MapIterationSucceededDetails: &MapIterationDetails{Name: s.Name, Index: i}})
				results[i] = out
			}
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return nil, errCancelled
	}
	fr.clear = prefix // the next checkpoint of this frame forgets the iterations
	if firstErr != nil {
		x.emit(fr, HistoryEvent{Type: "MapStateFailed"})
		return nil, firstErr
	}
	x.emit(fr, HistoryEvent{Type: "MapStateSucceeded"})
	return x.finish(fr, s, cp, retry, results)
}
