package states

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/pushline/pushline/infra/states/jsonvalue"
)

// execution is one running (or just finished) execution.
type execution struct {
	e                                         *Engine
	id                                        int64
	arn, name, smArn, smName, roleArn, defSrc string
	defHash                                   string // definitionHash(defSrc), set when it starts
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

// phase says how far the state of a checkpoint got. It is stored as its
// string, so the values never change.
type phase string

const (
	// phaseNew: not started (or restart it).
	phaseNew phase = ""
	// phaseTask: a task's Invoke is in flight. A restart invokes it again
	// if its integration is idempotent (RegisterIdempotent), else fails
	// it with RestartCause.
	phaseTask phase = "task"
	// phaseParked: a task was not started (its Invoke returned
	// ErrNotStarted, or the engine closed before invoking it): its
	// Scheduled event is recorded (and Started if Started), nothing else;
	// a restart invokes it again.
	phaseParked phase = "parked"
	// phaseToken: waiting for a task token. A restart keeps waiting once
	// the request was delivered, else treats it as phaseTask.
	phaseToken phase = "token"
	// phaseResult: the task's result (or error) is known, not yet processed.
	phaseResult phase = "result"
	// phaseWait: a Wait state waits until Until.
	phaseWait phase = "wait"
	// phaseRetry: a retry waits until Until.
	phaseRetry phase = "retry"
	// phaseBranches: a Parallel or Map state runs its branches or
	// iterations (their own checkpoints say how far); StartedID is its
	// Started event: a restart resumes them without new Entered/Started
	// events.
	phaseBranches phase = "branches"
	// phaseDone: a branch or iteration finished with Result.
	phaseDone phase = "done"
)

// checkpoint is where a top-level execution (or a branch or iteration) is:
// about to run (or running) State with Input; Phase says how far the state
// got.
type checkpoint struct {
	State       string     `json:"state"`
	Input       any        `json:"input"`
	Entered     bool       `json:"entered,omitempty"`
	EnteredID   int64      `json:"enteredId,omitempty"`
	EnteredTime time.Time  `json:"enteredTime,omitzero"`
	Phase       phase      `json:"phase,omitempty"`
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

// emit records an event (in memory, until the next flush), shows it to
// the Observer and returns its id.
func (x *execution) emit(fr *frame, ev HistoryEvent) int64 {
	p := x.record(fr, ev)
	x.observe(p)
	return p.ID
}

// record records an event without showing it to the Observer.
func (x *execution) record(fr *frame, ev HistoryEvent) *HistoryEvent {
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
	return p
}

// observe shows a recorded event to the Observer.
func (x *execution) observe(ev *HistoryEvent) {
	if obs := x.e.o.Observer; obs != nil {
		c := *ev
		c.ExecutionArn = x.arn
		obs(c)
	}
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
	if errors.Is(cause, errShutdown) && terr != nil {
		// leave the checkpoint as it is: the next Open resumes (an
		// execution whose last state ended as the engine began closing has
		// its output: it ends now, or a restart would exit that state again)
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
		b, _ := jsonvalue.Marshal(out)
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
		x.e.removeRunning(x)
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
	b, err := jsonvalue.Marshal(v)
	if err != nil {
		return "null"
	}
	return string(b)
}
