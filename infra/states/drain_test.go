package states

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// drainMachine runs one task whose integration is not Rerunnable (like the
// local stack's builds): a restart that finds it in flight fails it with
// RestartCause, which the Catch turns into the output.
const drainMachine = `{"StartAt":"Build","States":{"Build":{"Type":"Task","Resource":"arn:aws:states:::test:build",
	"Catch":[{"ErrorEquals":["States.ALL"],"Next":"Caught"}],"End":true},"Caught":{"Type":"Pass","End":true}}}`

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// drainIntegration is a build as a graceful stop sees it: invoked says the
// Invoke is under way; what it returns depends on the case.
type drainIntegration struct {
	invoked chan struct{}
	calls   atomic.Int32
	invoke  func(ctx context.Context) (json.RawMessage, error)
}

func (d *drainIntegration) Invoke(ctx context.Context, _ Task) (json.RawMessage, error) {
	d.calls.Add(1)
	if d.invoked != nil {
		d.invoked <- struct{}{}
	}
	return d.invoke(ctx)
}

// TestCloseDuringDrain: a step that the local stack's drain let finish, or
// that it parked (ErrNotStarted), while Close is under way never counts as
// in flight after the restart: the finished one keeps its result, the
// parked one runs; neither fails with RestartCause. The "racing" cases
// return as Close begins, many times over, so that every interleaving of
// the result and the engine's cancellation is met.
func TestCloseDuringDrain(t *testing.T) {
	built := func(context.Context) (json.RawMessage, error) { return json.RawMessage(`{"built":true}`), nil }
	tests := []struct {
		name   string
		runs   int
		invoke func(ctx context.Context) (json.RawMessage, error)
		// calls: Invokes after the restart
		calls int32
	}{
		{name: "finished as Close cancels", runs: 3, invoke: func(ctx context.Context) (json.RawMessage, error) {
			<-ctx.Done() // Close is under way: the build's result comes now
			return built(ctx)
		}},
		{name: "finished racing Close", runs: 40, invoke: built},
		{name: "not started racing Close", runs: 40, calls: 1, invoke: func(context.Context) (json.RawMessage, error) {
			return nil, fmt.Errorf("the local stack is stopping: %w", ErrNotStarted)
		}},
		{name: "not started as Close cancels", runs: 3, calls: 1, invoke: func(ctx context.Context) (json.RawMessage, error) {
			<-ctx.Done()
			return nil, fmt.Errorf("the local stack is stopping: %w", ErrNotStarted)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for i := range tc.runs {
				db := filepath.Join(t.TempDir(), "states.db")
				ctx := context.Background()
				e, err := Open(ctx, Options{Path: db, Logger: quiet})
				if err != nil {
					t.Fatal(err)
				}
				e.Register("arn:aws:states:::test:build", &drainIntegration{invoked: make(chan struct{}, 1), invoke: tc.invoke})
				sm, err := e.PutStateMachine(ctx, CreateStateMachineInput{Name: "m", Definition: drainMachine, RoleArn: role})
				if err != nil {
					t.Fatal(err)
				}
				x, err := e.StartExecution(ctx, StartExecutionInput{StateMachineArn: sm, Name: "run", Input: `{}`})
				if err != nil {
					t.Fatal(err)
				}
				in := e.integration("arn:aws:states:::test:build").(*drainIntegration)
				<-in.invoked
				if err := e.Close(); err != nil {
					t.Fatal(err)
				}

				after := &drainIntegration{invoke: built}
				e, err = Open(ctx, Options{Path: db, Logger: quiet})
				if err != nil {
					t.Fatal(err)
				}
				e.Register("arn:aws:states:::test:build", after)
				d := waitDone(t, e, x.ExecutionArn)
				hist, err := e.GetExecutionHistory(ctx, GetExecutionHistoryInput{ExecutionArn: x.ExecutionArn})
				e.Close()
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, ev := range hist.Events {
					if strings.HasPrefix(ev.Type, "Task") || ev.Type == "PassStateEntered" {
						got = append(got, ev.Type)
					}
				}
				want := []string{"TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSucceeded", "TaskStateExited"}
				if d.Status != "SUCCEEDED" || d.Output == nil || *d.Output != `{"built":true}` {
					t.Fatalf("run %d: %s, output %v, task events %v", i, d.Status, derefOr(d.Output), got)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Fatalf("run %d: task events (-want +got):\n%s", i, diff)
				}
				if n := after.calls.Load(); n != tc.calls {
					t.Fatalf("run %d: invoked %d times after the restart, want %d", i, n, tc.calls)
				}
			}
		})
	}
}

// waitDone polls the engine until the execution leaves RUNNING.
func waitDone(t *testing.T, e *Engine, arn string) *DescribeExecutionOutput {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		d, err := e.DescribeExecution(context.Background(), DescribeExecutionInput{ExecutionArn: arn})
		if err != nil {
			t.Fatal(err)
		}
		if d.Status != "RUNNING" {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("execution %s still running", arn)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func derefOr(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}
