package states

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/google/go-cmp/cmp"
)

// notStartedMachines run a task that the first engine's integration does
// not start. Catch sends any failure to "Caught", so a failed task shows in
// the output; RetryCount shows a retry attempt used.
var notStartedMachines = map[string]string{
	"task": `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::test:gate",
		"Parameters":{"retry.$":"$$.State.RetryCount"},"TimeoutSeconds":30,
		"Retry":[{"ErrorEquals":["States.ALL"],"IntervalSeconds":1,"MaxAttempts":3}],
		"Catch":[{"ErrorEquals":["States.ALL"],"Next":"Caught"}],"End":true},"Caught":{"Type":"Pass","End":true}}}`,
	"lambda-arn": `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:gate",
		"Parameters":{"retry.$":"$$.State.RetryCount"},
		"Catch":[{"ErrorEquals":["States.ALL"],"Next":"Caught"}],"End":true},"Caught":{"Type":"Pass","End":true}}}`,
	"parallel": `{"StartAt":"P","States":{"P":{"Type":"Parallel","OutputPath":"$[0]","Branches":[
		{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::test:gate","Parameters":{"retry.$":"$$.State.RetryCount"},"End":true}}}],
		"Catch":[{"ErrorEquals":["States.ALL"],"Next":"Caught"}],"End":true},"Caught":{"Type":"Pass","End":true}}}`,
	"map": `{"StartAt":"X","States":{"X":{"Type":"Pass","Result":[1],"Next":"M"},"M":{"Type":"Map","OutputPath":"$[0]","ItemProcessor":
		{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::test:gate","Parameters":{"retry.$":"$$.State.RetryCount"},"End":true}}},
		"Catch":[{"ErrorEquals":["States.ALL"],"Next":"Caught"}],"End":true},"Caught":{"Type":"Pass","End":true}}}`,
}

// notStartedHistories are the histories after the restart: one attempt,
// nothing entered, scheduled or started twice.
var notStartedHistories = map[string][]string{
	"task":       {"ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSucceeded", "TaskStateExited", "ExecutionSucceeded"},
	"lambda-arn": {"ExecutionStarted", "TaskStateEntered", "LambdaFunctionScheduled", "LambdaFunctionStarted", "LambdaFunctionSucceeded", "TaskStateExited", "ExecutionSucceeded"},
	"parallel": {"ExecutionStarted", "ParallelStateEntered", "ParallelStateStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSucceeded",
		"TaskStateExited", "ParallelStateSucceeded", "ParallelStateExited", "ExecutionSucceeded"},
	"map": {"ExecutionStarted", "PassStateEntered", "PassStateExited", "MapStateEntered", "MapStateStarted", "MapIterationStarted", "TaskStateEntered",
		"TaskScheduled", "TaskStarted", "TaskSucceeded", "TaskStateExited", "MapIterationSucceeded", "MapStateSucceeded", "MapStateExited", "ExecutionSucceeded"},
}

// gate is an integration that does not start tasks until opened: it
// answers ErrNotStarted (wrapped) at once, or, with hold, once its context
// is cancelled (the engine closing). Open, it echoes {"ok":…,"retry":…}.
type gate struct {
	mu      sync.Mutex
	open    bool
	hold    bool
	calls   []time.Time
	invoked chan string // the state machine of each call
}

func (g *gate) Invoke(ctx context.Context, t Task) (json.RawMessage, error) {
	g.mu.Lock()
	open, hold := g.open, g.hold
	g.calls = append(g.calls, time.Now())
	g.mu.Unlock()
	if g.invoked != nil {
		g.invoked <- t.StateMachineArn
	}
	if open {
		var p struct{ Retry int }
		json.Unmarshal(t.Parameters, &p)
		return json.RawMessage(fmt.Sprintf(`{"ok":true,"retry":%d}`, p.Retry)), nil
	}
	if hold {
		<-ctx.Done()
	}
	return nil, fmt.Errorf("draining: %w", ErrNotStarted)
}

func (g *gate) register(e *Engine) {
	e.Register("arn:aws:states:::test:gate", g)
	e.Register("arn:aws:states:::lambda:invoke", LambdaIntegration(func(ctx context.Context, fn string, p json.RawMessage) (json.RawMessage, error) {
		return g.Invoke(ctx, Task{Parameters: p})
	}))
}

func (g *gate) times() []time.Time {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]time.Time(nil), g.calls...)
}

// taskEvents lists the task events of a history (what a re-invocation
// could repeat or fail).
func taskEvents(t *testing.T, h *harness, arn string) []string {
	t.Helper()
	var out []string
	for _, ev := range types(h.history(arn)) {
		switch ev {
		case "TaskScheduled", "TaskStarted", "TaskSucceeded", "TaskFailed", "TaskTimedOut",
			"LambdaFunctionScheduled", "LambdaFunctionStarted", "LambdaFunctionSucceeded", "LambdaFunctionFailed", "LambdaFunctionTimedOut":
			out = append(out, ev)
		}
	}
	return out
}

func wantTaskEvents(lambda bool) []string {
	if lambda {
		return []string{"LambdaFunctionScheduled", "LambdaFunctionStarted", "LambdaFunctionSucceeded"}
	}
	return []string{"TaskScheduled", "TaskStarted", "TaskSucceeded"}
}

// TestNotStartedOnClose: an integration answers ErrNotStarted when the
// closing engine cancels it; after reopening, the task is invoked again
// (not failed, no retry attempt used) and the execution succeeds.
func TestNotStartedOnClose(t *testing.T) {
	db := filepath.Join(t.TempDir(), "states.db")
	ctx := context.Background()
	e, err := Open(ctx, Options{Path: db})
	if err != nil {
		t.Fatal(err)
	}
	g1 := &gate{hold: true, invoked: make(chan string, len(notStartedMachines))}
	g1.register(e)
	arns := map[string]string{}
	for name, def := range notStartedMachines {
		sm, err := e.PutStateMachine(ctx, CreateStateMachineInput{Name: name, Definition: def, RoleArn: role})
		if err != nil {
			t.Fatal(err)
		}
		x, err := e.StartExecution(ctx, StartExecutionInput{StateMachineArn: sm, Name: "run", Input: `{}`})
		if err != nil {
			t.Fatal(err)
		}
		arns[name] = x.ExecutionArn
	}
	for range notStartedMachines {
		<-g1.invoked // every task is in flight
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if n := len(g1.times()); n != len(notStartedMachines) {
		t.Fatalf("invoked %d times before reopening, want %d", n, len(notStartedMachines))
	}

	g2 := &gate{open: true}
	h := newHarness(t, Options{Path: db}, g2.register) // registers before first use, as documented
	for name, arn := range arns {
		t.Run(name, func(t *testing.T) {
			d := h.wait(arn)
			if d.Status != "SUCCEEDED" {
				t.Fatalf("status %s (%s: %s)", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
			}
			jsonEqual(t, `{"ok":true,"retry":0}`, aws.ToString(d.Output))
			evs := h.history(arn)
			if diff := cmp.Diff(notStartedHistories[name], types(evs)); diff != "" {
				t.Errorf("history (-want +got):\n%s", diff)
			}
			seen := map[int64]bool{0: true}
			for _, ev := range evs {
				if !seen[ev.PreviousEventId] || ev.PreviousEventId >= ev.Id {
					t.Errorf("event %d %s: previous event %d", ev.Id, ev.Type, ev.PreviousEventId)
				}
				seen[ev.Id] = true
			}
		})
	}
	if n := len(g2.times()); n != len(notStartedMachines) {
		t.Errorf("invoked %d times after reopening, want %d", n, len(notStartedMachines))
	}
}

// TestNotStartedWhileRunning: ErrNotStarted while the engine runs ⇒ the
// task is invoked again after notStartedDelay, with a fresh timeout, and
// nothing in the history says it did not start.
func TestNotStartedWhileRunning(t *testing.T) {
	g := &gate{}
	h := newHarness(t, Options{}, g.register)
	// TimeoutSeconds 1 < 2 × notStartedDelay: the timeout must count from
	// the invocation that starts the task
	sm := h.create("m", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::test:gate",
		"Parameters":{"retry.$":"$$.State.RetryCount"},"TimeoutSeconds":1,"Retry":[{"ErrorEquals":["States.ALL"],"MaxAttempts":2}],"End":true}}}`)
	arn := h.start(sm, "", `{}`)
	// two refusals, then open
	for len(g.times()) < 2 {
		time.Sleep(10 * time.Millisecond)
	}
	g.mu.Lock()
	g.open = true
	g.mu.Unlock()
	d := h.wait(arn)
	if d.Status != "SUCCEEDED" {
		t.Fatalf("status %s (%s: %s)", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
	}
	jsonEqual(t, `{"ok":true,"retry":0}`, aws.ToString(d.Output))
	calls := g.times()
	if len(calls) != 3 {
		t.Fatalf("invoked %d times, want 3", len(calls))
	}
	for i := 1; i < len(calls); i++ {
		if gap := calls[i].Sub(calls[i-1]); gap < notStartedDelay {
			t.Errorf("invocation %d came %v after the previous one, want at least %v", i+1, gap, notStartedDelay)
		}
	}
	if diff := cmp.Diff(wantTaskEvents(false), taskEvents(t, h, arn)); diff != "" {
		t.Errorf("task events (-want +got):\n%s", diff)
	}
}

// TestNotStartedStop: a parked task does not keep a stopped execution
// alive.
func TestNotStartedStop(t *testing.T) {
	g := &gate{}
	h := newHarness(t, Options{}, g.register)
	sm := h.create("m", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::test:gate","End":true}}}`)
	arn := h.start(sm, "", `{}`)
	for len(g.times()) < 1 {
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := h.sfn.StopExecution(context.Background(), &sfn.StopExecutionInput{ExecutionArn: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	if d := h.wait(arn); d.Status != "ABORTED" {
		t.Errorf("status %s", d.Status)
	}
}

// TestCloseAfterFailedOpen: Close is a no-op on what a failed Open returns.
func TestCloseAfterFailedOpen(t *testing.T) {
	e, err := Open(context.Background(), Options{Path: filepath.Join(t.TempDir(), "missing", "dir", "states.db")})
	if err == nil {
		e.Close()
		t.Fatal("Open in a missing directory succeeded")
	}
	if err := e.Close(); err != nil {
		t.Errorf("Close after a failed Open: %v", err)
	}
}

// TestCloseBeforeUse: an engine closed before anything resumed its
// executions leaves them for the next Open.
func TestCloseBeforeUse(t *testing.T) {
	db := filepath.Join(t.TempDir(), "states.db")
	ctx := context.Background()
	e, err := Open(ctx, Options{Path: db})
	if err != nil {
		t.Fatal(err)
	}
	g := &gate{hold: true, invoked: make(chan string, 1)}
	g.register(e)
	sm, err := e.PutStateMachine(ctx, CreateStateMachineInput{Name: "m", Definition: notStartedMachines["task"], RoleArn: role})
	if err != nil {
		t.Fatal(err)
	}
	x, err := e.StartExecution(ctx, StartExecutionInput{StateMachineArn: sm, Input: `{}`})
	if err != nil {
		t.Fatal(err)
	}
	<-g.invoked
	e.Close()
	// opened and closed without use: nothing runs, nothing changes
	e, err = Open(ctx, Options{Path: db})
	if err != nil {
		t.Fatal(err)
	}
	e.Close()
	e.Close()
	h := newHarness(t, Options{Path: db}, (&gate{open: true}).register)
	if d := h.wait(x.ExecutionArn); d.Status != "SUCCEEDED" {
		t.Errorf("status %s (%s: %s)", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
	}
}

// TestNotStartedToken: a waitForTaskToken request that was not delivered
// is delivered later, and the token then completes the task.
func TestNotStartedToken(t *testing.T) {
	tokens := make(chan string, 1)
	var calls int
	var mu sync.Mutex
	h := newHarness(t, Options{}, func(e *Engine) {
		e.Register("arn:aws:states:::lambda:invoke", LambdaIntegration(func(ctx context.Context, fn string, p json.RawMessage) (json.RawMessage, error) {
			mu.Lock()
			calls++
			n := calls
			mu.Unlock()
			if n == 1 {
				return nil, fmt.Errorf("mail server draining: %w", ErrNotStarted)
			}
			var v struct{ Token string }
			json.Unmarshal(p, &v)
			tokens <- v.Token
			return json.RawMessage(`{}`), nil
		}))
	})
	sm := h.create("m", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken",
		"Parameters":{"FunctionName":"notify","Payload":{"token.$":"$$.Task.Token"}},"End":true}}}`)
	arn := h.start(sm, "", `{}`)
	tok := <-tokens
	if _, err := h.sfn.SendTaskSuccess(context.Background(), &sfn.SendTaskSuccessInput{TaskToken: aws.String(tok), Output: aws.String(`{"approved":true}`)}); err != nil {
		t.Fatal(err)
	}
	d := h.wait(arn)
	if d.Status != "SUCCEEDED" {
		t.Fatalf("status %s (%s: %s)", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
	}
	jsonEqual(t, `{"approved":true}`, aws.ToString(d.Output))
	if diff := cmp.Diff(wantTaskEvents(false), taskEvents(t, h, arn)); diff != "" {
		t.Errorf("task events (-want +got):\n%s", diff)
	}
}
