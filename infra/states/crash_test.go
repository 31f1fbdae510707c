package states

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/google/go-cmp/cmp"
)

// TestCrashInFlight leaves one task of each kind in flight when the engine
// stops (an Invoke that ignores its cancelled context outlives Close, as a
// step does when the process is killed) and opens the engine again: a
// task of a Rerunnable integration runs again (a waitForTaskToken request
// with the same token), any other fails with RestartCause.
func TestCrashInFlight(t *testing.T) {
	defer func(g time.Duration) { closeGrace = g }(closeGrace)
	closeGrace = 50 * time.Millisecond
	for _, tc := range []struct {
		name     string
		resource string
		def      string
		rerun    bool
		want     sfntypes.ExecutionStatus
		wantErr  string
	}{
		{name: "source lambda", resource: "arn:aws:states:::lambda:invoke", rerun: true, want: sfntypes.ExecutionStatusSucceeded,
			def: `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"source","Payload":{"k":"v"}},"End":true}}}`},
		{name: "putEvents", resource: "arn:aws:states:::events:putEvents", rerun: true, want: sfntypes.ExecutionStatusSucceeded,
			def: `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::events:putEvents","Parameters":{"Entries":[{"Source":"pushline","DetailType":"x","Detail":{}}]},"End":true}}}`},
		{name: "approval notify", resource: "arn:aws:states:::lambda:invoke", rerun: true, want: sfntypes.ExecutionStatusSucceeded,
			def: `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken","Parameters":{"FunctionName":"notify","Payload":{"token.$":"$$.Task.Token"}},"End":true}}}`},
		{name: "build", resource: "arn:aws:states:::codebuild:startBuild", rerun: false, want: sfntypes.ExecutionStatusFailed, wantErr: ErrNameTaskFailed,
			def: `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::codebuild:startBuild.sync","Parameters":{"ProjectName":"p"},"End":true}}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "states.db")
			var mu sync.Mutex
			var tokens []string
			calls := 0
			started := make(chan struct{}, 1)
			release := make(chan struct{})
			defer close(release)
			// first run: the task hangs, ignoring cancellation, so Close
			// leaves it in flight
			hang := IntegrationFunc(func(ctx context.Context, t Task) (json.RawMessage, error) {
				mu.Lock()
				calls++
				tokens = append(tokens, t.Token)
				mu.Unlock()
				started <- struct{}{}
				<-release
				return nil, ctx.Err()
			})
			e1, err := Open(context.Background(), Options{Path: db})
			if err != nil {
				t.Fatal(err)
			}
			e1.Register(tc.resource, hang)
			ctx := context.Background()
			sm, err := e1.CreateStateMachine(ctx, CreateStateMachineInput{Name: "crash", Definition: tc.def, RoleArn: role})
			if err != nil {
				t.Fatal(err)
			}
			out, err := e1.StartExecution(ctx, StartExecutionInput{StateMachineArn: sm.StateMachineArn, Name: "run", Input: `{}`})
			if err != nil {
				t.Fatal(err)
			}
			<-started
			e1.Close()

			// restart
			var second Integration = IntegrationFunc(func(ctx context.Context, t Task) (json.RawMessage, error) {
				mu.Lock()
				calls++
				tokens = append(tokens, t.Token)
				mu.Unlock()
				return json.RawMessage(`{"ok":true}`), nil
			})
			if tc.rerun {
				second = RerunWhen(second, nil)
			}
			h := newHarness(t, Options{Path: db}, func(e *Engine) { e.Register(tc.resource, second) })
			if strings.Contains(tc.def, "waitForTaskToken") {
				deadline := time.Now().Add(10 * time.Second)
				for {
					mu.Lock()
					n := calls
					mu.Unlock()
					if n == 2 || time.Now().After(deadline) {
						break
					}
					time.Sleep(5 * time.Millisecond)
				}
				mu.Lock()
				tok := tokens[len(tokens)-1]
				mu.Unlock()
				if _, err := h.e.SendTaskSuccess(ctx, SendTaskSuccessInput{TaskToken: tok, Output: `{"approved":true}`}); err != nil {
					t.Fatalf("SendTaskSuccess with the token of the rerun: %v", err)
				}
			}
			d := h.wait(out.ExecutionArn)
			if d.Status != tc.want || aws.ToString(d.Error) != tc.wantErr {
				t.Fatalf("status %s error %q cause %q, want %s %q", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause), tc.want, tc.wantErr)
			}
			if tc.wantErr != "" && aws.ToString(d.Cause) != RestartCause {
				t.Errorf("cause %q, want %q", aws.ToString(d.Cause), RestartCause)
			}
			mu.Lock()
			defer mu.Unlock()
			wantCalls := 1
			if tc.rerun {
				wantCalls = 2
			}
			if calls != wantCalls {
				t.Errorf("%d invocations, want %d", calls, wantCalls)
			}
			if tc.rerun && tokens[0] != tokens[1] {
				t.Errorf("the rerun got token %q, want the first run's %q", tokens[1], tokens[0])
			}
			// the rerun repeats neither the Scheduled nor the Started event
			var got []string
			for _, ev := range h.history(out.ExecutionArn) {
				if s := string(ev.Type); strings.HasSuffix(s, "Scheduled") || strings.HasSuffix(s, "Started") && s != "ExecutionStarted" {
					got = append(got, s)
				}
			}
			if diff := cmp.Diff([]string{"TaskScheduled", "TaskStarted"}, got); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		})
	}
}
