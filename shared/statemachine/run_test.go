package statemachine

// Flow tests run the generated definitions on the local engine
// (infra/states, through its public API) with AWS-shaped task results,
// and read what a run did from its history: the states entered (state
// transitions), the history events, the size of every state's input and
// output, the events sent and how it ended. The engine fails an
// execution with States.Runtime where AWS would (a JSONPath that matches
// nothing), so a path that would raise it fails the test.

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/pushline/pushline/infra/states"
	"github.com/pushline/pushline/shared/push"
)

// taskError is a task failure: Error and optional Cause.
type taskError struct {
	Error string
	Cause *string
}

// taskFunc answers a Task state: its result, or an error. state is the
// state's name (an action's, inside a stage of actions).
type taskFunc func(state, resource string, params any) (any, *taskError)

type flowResult struct {
	end         string // name of the last state entered (Succeed or Fail)
	status      string
	failError   string
	failCause   string
	transitions int // states entered, branches' included
	history     int // history events
	maxIO       int // largest state input or output, bytes
	maxIOState  string
	output      any
	events      []map[string]any // putEvents entries, in the order sent (or tried)
	path        []string         // states entered, in order
	inputs      []string         // the input of each state in path
	waits       map[int]float64  // index in path of a Wait state -> its $.queueWait.seconds
}

// Names the runs use, as AWS would show them.
const (
	testMachine   = "pushline-app"
	testExecution = "main-9fceb02d0ae5-3c2f0e4a81b7"
)

// runEngine runs def (placeholders left as they are: they are plain
// strings to the engine) on a fresh in-memory engine with input, tasks
// answered by task, and returns what the run did.
//
// hold, if set, is called before each build starts; it may block until
// ctx is done (a build the execution stops) and then return true.
func runEngine(t *testing.T, def []byte, input any, task taskFunc, hold func(ctx context.Context, state string) bool) flowResult {
	t.Helper()
	ctx := context.Background()
	e, err := states.Open(ctx, states.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	var (
		mu     sync.Mutex
		events []map[string]any
	)
	answer := func(tk states.Task, resource string) (json.RawMessage, error) {
		var params any
		if err := json.Unmarshal(tk.Parameters, &params); err != nil {
			t.Errorf("%s: parameters: %v", tk.StateName, err)
		}
		res, terr := task(tk.StateName, resource, params)
		if terr != nil {
			te := &states.TaskError{Name: terr.Error}
			if terr.Cause != nil {
				te.Cause = *terr.Cause
			}
			return nil, te
		}
		return json.Marshal(res)
	}
	e.Register(resLambda, states.IntegrationFunc(func(ctx context.Context, tk states.Task) (json.RawMessage, error) {
		if tk.Pattern != "waitForTaskToken" {
			return answer(tk, resLambda)
		}
		out, err := answer(tk, resLambdaWait)
		if err != nil {
			return nil, err
		}
		go func() { // once the engine waits for the token
			for range 500 {
				if _, err := e.SendTaskSuccess(context.Background(), states.SendTaskSuccessInput{TaskToken: tk.Token, Output: string(out)}); err == nil {
					return
				}
				time.Sleep(5 * time.Millisecond)
			}
		}()
		return json.RawMessage(`{}`), nil
	}))
	e.Register("arn:aws:states:::codebuild:startBuild", states.IntegrationFunc(func(ctx context.Context, tk states.Task) (json.RawMessage, error) {
		if hold != nil && hold(ctx, tk.StateName) {
			return nil, ctx.Err()
		}
		return answer(tk, resBuild)
	}))
	for _, res := range []string{resCreateDeployment, resGetDeployment, resStopDeployment} { // deploy stages
		e.Register(res, states.IntegrationFunc(func(ctx context.Context, tk states.Task) (json.RawMessage, error) {
			return answer(tk, res)
		}))
	}
	e.Register(resEvents, states.IntegrationFunc(func(ctx context.Context, tk states.Task) (json.RawMessage, error) {
		var p struct{ Entries []map[string]any }
		_ = json.Unmarshal(tk.Parameters, &p)
		mu.Lock()
		events = append(events, p.Entries...) // sent, or tried
		mu.Unlock()
		return answer(tk, resEvents)
	}))

	sm, err := e.CreateStateMachine(ctx, states.CreateStateMachineInput{Name: testMachine, Definition: string(def), RoleArn: "arn:aws:iam::000000000000:role/pushline"})
	if err != nil {
		t.Fatalf("create state machine: %v", err)
	}
	in, _ := json.Marshal(input)
	started, err := e.StartExecution(ctx, states.StartExecutionInput{StateMachineArn: sm.StateMachineArn, Name: testExecution, Input: string(in)})
	if err != nil {
		t.Fatal(err)
	}
	var d *states.DescribeExecutionOutput
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(2 * time.Millisecond) {
		if d, err = e.DescribeExecution(ctx, states.DescribeExecutionInput{ExecutionArn: started.ExecutionArn}); err != nil {
			t.Fatal(err)
		}
		if d.Status != "RUNNING" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("still running after 30 s")
		}
	}
	var r flowResult
	r.status = d.Status
	if d.Error != nil {
		r.failError = *d.Error
	}
	if d.Cause != nil {
		r.failCause = *d.Cause
	}
	for tok := ""; ; {
		h, err := e.GetExecutionHistory(ctx, states.GetExecutionHistoryInput{ExecutionArn: started.ExecutionArn, MaxResults: 1000, NextToken: tok})
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range h.Events {
			r.history++
			if ev.Type == "ExecutionFailed" && ev.ExecutionFailedEventDetails != nil && ev.ExecutionFailedEventDetails.Error == "States.Runtime" {
				t.Errorf("States.Runtime: %s", ev.ExecutionFailedEventDetails.Cause)
			}
			if s := ev.StateEnteredEventDetails; s != nil {
				r.path = append(r.path, s.Name)
				r.inputs = append(r.inputs, s.Input)
				r.measure(s.Name, s.Input)
				if s.Name == stQueueWait {
					var in struct{ QueueWait struct{ Seconds float64 } }
					_ = json.Unmarshal([]byte(s.Input), &in)
					if r.waits == nil {
						r.waits = map[int]float64{}
					}
					r.waits[len(r.path)-1] = in.QueueWait.Seconds
				}
			}
			if s := ev.StateExitedEventDetails; s != nil {
				r.measure(s.Name, s.Output)
			}
			if s := ev.ExecutionSucceededEventDetails; s != nil {
				_ = json.Unmarshal([]byte(s.Output), &r.output)
			}
		}
		if tok = h.NextToken; tok == "" {
			break
		}
	}
	r.transitions = len(r.path)
	if len(r.path) > 0 {
		r.end = r.path[len(r.path)-1]
	}
	mu.Lock()
	r.events = events
	mu.Unlock()
	return r
}

func (r *flowResult) measure(name, data string) {
	if len(data) > r.maxIO {
		r.maxIO, r.maxIOState = len(data), name
	}
}

// definitionStates returns every state of def by name, the states of
// Parallel branches included.
func definitionStates(t *testing.T, def []byte) map[string]map[string]any {
	t.Helper()
	var d struct{ States map[string]map[string]any }
	if err := json.Unmarshal(def, &d); err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]any{}
	var walk func(sts map[string]map[string]any)
	walk = func(sts map[string]map[string]any) {
		for name, st := range sts {
			out[name] = st
			for _, b := range asSlice(st["Branches"]) {
				raw, _ := json.Marshal(b.(map[string]any)["States"])
				var sub map[string]map[string]any
				_ = json.Unmarshal(raw, &sub)
				walk(sub)
			}
		}
	}
	walk(d.States)
	return out
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

// clone deep-copies an input through JSON.
func clone(in push.Input) push.Input {
	b, _ := json.Marshal(in)
	var out push.Input
	_ = json.Unmarshal(b, &out)
	return out
}
