package statemachine

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/pushline/pushline/infra/states"
	"github.com/pushline/pushline/shared/approval"
)

// fetchError stands for source.FetchError: a Lambda function's error
// whose errorType is its type name.
type fetchError struct{ msg string }

func (e *fetchError) Error() string { return e.msg }

// TestLocalEngineFailureCauses runs the cdk.json definition on the local
// engine (infra/states) and checks the execution's own error and cause
// on the paths the test interpreter checks in TestFlowFailures: a source
// error, a rejection with and without a comment, a plain-text error.
func TestLocalEngineFailureCauses(t *testing.T) {
	ctx := context.Background()
	e, err := states.Open(ctx, states.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	// The execution's name picks what the tasks do.
	caseOf := func(execution string) string { return execution[strings.LastIndexByte(execution, ':')+1:] }
	var notify func(payload json.RawMessage) (json.RawMessage, error)
	e.Register(resLambda, states.LambdaIntegration(func(ctx context.Context, fn string, payload json.RawMessage) (json.RawMessage, error) {
		if fn == "notifyfunctionarn" {
			return notify(payload)
		}
		var p struct{ Execution, Bucket, Key string }
		_ = json.Unmarshal(payload, &p)
		if caseOf(p.Execution) == "source" {
			return nil, &fetchError{"fetch github acme/app at 9fceb02: http 404: repository or commit not found"}
		}
		return json.Marshal(map[string]string{"bucket": p.Bucket, "key": p.Key, "location": p.Bucket + "/" + p.Key})
	}))
	notify = func(payload json.RawMessage) (json.RawMessage, error) {
		var p approval.Request
		_ = json.Unmarshal(payload, &p)
		comment := "not today"
		if caseOf(p.Execution) == "silent" {
			comment = ""
		}
		cause, _ := json.Marshal(approval.Rejection{Approver: "ops@example.com", Comment: comment, DecidedAt: "2026-11-27T09:00:00Z"})
		go func() { // once the engine waits for the token
			for range 200 {
				if _, err := e.SendTaskFailure(context.Background(), states.SendTaskFailureInput{TaskToken: p.TaskToken, Error: approval.ErrorRejected, Cause: string(cause)}); err == nil {
					return
				}
				time.Sleep(10 * time.Millisecond)
			}
		}()
		return json.RawMessage(`{}`), nil
	}
	e.Register("arn:aws:states:::codebuild:startBuild", states.IntegrationFunc(func(ctx context.Context, tk states.Task) (json.RawMessage, error) {
		if caseOf(tk.ExecutionArn) == "project" {
			return nil, &states.TaskError{Name: "CodeBuild.ResourceNotFoundException", Cause: "Project cannot be found"}
		}
		if tk.Submitted != nil {
			tk.Submitted(json.RawMessage(`{"Build":{"Id":"p:1","BuildStatus":"IN_PROGRESS"}}`))
		}
		return json.RawMessage(`{"Build":{"Id":"p:1","BuildStatus":"SUCCEEDED","Logs":{"DeepLink":"https://logs"}}}`), nil
	}))
	e.Register(resEvents, states.EventsIntegration(func(context.Context, []states.EventEntry) error { return nil }))

	_, def := generate(t, "cdk")
	values := map[string]string{}
	for _, k := range Keys(configs(t)["cdk"]) {
		values[k] = strings.ToLower(k)
	}
	def, err = Substitute(def, values)
	if err != nil {
		t.Fatal(err)
	}
	sm, err := e.CreateStateMachine(ctx, states.CreateStateMachineInput{Name: "pushline-app", Definition: string(def), RoleArn: "arn:aws:iam::000000000000:role/pushline"})
	if err != nil {
		t.Fatal(err)
	}
	input, _ := json.Marshal(smallInput("app"))
	for _, tt := range []struct{ name, error, cause string }{
		{"source", "fetchError", "Source failed with fetchError: fetch github acme/app at 9fceb02: http 404: repository or commit not found"},
		{"rejected", approval.ErrorRejected, "Approve failed with Pushline.Rejected: rejected by ops@example.com: not today"},
		{"silent", approval.ErrorRejected, "Approve failed with Pushline.Rejected: rejected by ops@example.com"},
		{"project", "CodeBuild.ResourceNotFoundException", "Build failed with CodeBuild.ResourceNotFoundException: Project cannot be found"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out, err := e.StartExecution(ctx, states.StartExecutionInput{StateMachineArn: sm.StateMachineArn, Name: tt.name, Input: string(input)})
			if err != nil {
				t.Fatal(err)
			}
			var d *states.DescribeExecutionOutput
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
				if d, err = e.DescribeExecution(ctx, states.DescribeExecutionInput{ExecutionArn: out.ExecutionArn}); err != nil {
					t.Fatal(err)
				}
				if d.Status != "RUNNING" {
					break
				}
				if time.Now().After(deadline) {
					h, _ := e.GetExecutionHistory(ctx, states.GetExecutionHistoryInput{ExecutionArn: out.ExecutionArn})
					b, _ := json.Marshal(h)
					t.Fatalf("still running after 10 s: %.3000s", b[max(0, len(b)-3000):])
				}
			}
			got := fmt.Sprintf("%s %s: %s", d.Status, deref(d.Error), deref(d.Cause))
			if want := "FAILED " + tt.error + ": " + tt.cause; got != want {
				t.Errorf("got  %s\nwant %s", got, want)
			}
		})
	}
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}
