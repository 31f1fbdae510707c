package states

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/google/go-cmp/cmp"
)

const role = "arn:aws:iam::000000000000:role/pushline"

type harness struct {
	t   testing.TB
	e   *Engine
	sfn *sfn.Client
}

func newHarness(t *testing.T, o Options, setup func(e *Engine)) *harness {
	return newHarnessTB(t, o, setup)
}

func newHarnessTB(t testing.TB, o Options, setup func(e *Engine)) *harness {
	t.Helper()
	e, err := Open(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if setup != nil {
		setup(e)
	}
	srv := httptest.NewServer(e.Handler())
	t.Cleanup(func() {
		srv.Close()
		e.Close()
	})
	c := sfn.New(sfn.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
	})
	return &harness{t: t, e: e, sfn: c}
}

func (h *harness) create(name, def string) string {
	h.t.Helper()
	out, err := h.sfn.CreateStateMachine(context.Background(), &sfn.CreateStateMachineInput{Name: aws.String(name), Definition: aws.String(def), RoleArn: aws.String(role)})
	if err != nil {
		h.t.Fatalf("create %s: %v", name, err)
	}
	return *out.StateMachineArn
}

func (h *harness) start(sm, name, input string) string {
	h.t.Helper()
	in := &sfn.StartExecutionInput{StateMachineArn: aws.String(sm), Input: aws.String(input)}
	if name != "" {
		in.Name = aws.String(name)
	}
	out, err := h.sfn.StartExecution(context.Background(), in)
	if err != nil {
		h.t.Fatalf("start: %v", err)
	}
	return *out.ExecutionArn
}

// wait polls until the execution leaves RUNNING.
func (h *harness) wait(arn string) *sfn.DescribeExecutionOutput {
	h.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		d, err := h.sfn.DescribeExecution(context.Background(), &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
		if err != nil {
			h.t.Fatal(err)
		}
		if d.Status != sfntypes.ExecutionStatusRunning {
			return d
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("execution %s still running", arn)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (h *harness) history(arn string) []sfntypes.HistoryEvent {
	h.t.Helper()
	var all []sfntypes.HistoryEvent
	p := sfn.NewGetExecutionHistoryPaginator(h.sfn, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn), MaxResults: 7})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			h.t.Fatal(err)
		}
		all = append(all, page.Events...)
	}
	return all
}

func types(evs []sfntypes.HistoryEvent) []string {
	var out []string
	for _, e := range evs {
		out = append(out, string(e.Type))
	}
	return out
}

func jsonEqual(t *testing.T, want, got string) {
	t.Helper()
	var w, g any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("want %q: %v", want, err)
	}
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("got %q: %v", got, err)
	}
	if diff := cmp.Diff(w, g); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
}

func TestLambdaPipelineShapes(t *testing.T) {
	var mu sync.Mutex
	var tokens []string
	var events []EventEntry
	h := newHarness(t, Options{}, func(e *Engine) {
		e.Register("arn:aws:states:::lambda:invoke", LambdaIntegration(func(ctx context.Context, fn string, payload json.RawMessage) (json.RawMessage, error) {
			switch fn {
			case "source":
				return json.RawMessage(`{"bucket":"b","key":"k"}`), nil
			case "notify":
				var p struct{ TaskToken string }
				json.Unmarshal(payload, &p)
				mu.Lock()
				tokens = append(tokens, p.TaskToken)
				mu.Unlock()
				return json.RawMessage(`null`), nil
			case "boom":
				return nil, errors.New("kaput")
			}
			return nil, &TaskError{Name: "Lambda.ResourceNotFoundException", Cause: "no function " + fn}
		}))
		e.Register("arn:aws:states:::events:putEvents", EventsIntegration(func(ctx context.Context, entries []EventEntry) error {
			mu.Lock()
			events = append(events, entries...)
			mu.Unlock()
			return nil
		}))
	})
	def := `{
  "StartAt": "Source",
  "States": {
    "Source": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
      "Parameters": {"FunctionName": "source", "Payload": {"execution.$": "$$.Execution.Id", "name.$": "$$.Execution.Name"}},
      "ResultSelector": {"artifact.$": "$.Payload"}, "ResultPath": "$.source", "Next": "Event"},
    "Event": {"Type": "Task", "Resource": "arn:aws:states:::events:putEvents",
      "Parameters": {"Entries": [{"Source": "pushline", "DetailType": "Stage", "Detail": {"state": "STARTED", "key.$": "$.source.artifact.key"}}]},
      "ResultPath": null, "Next": "Approve"},
    "Approve": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken", "TimeoutSeconds": 3600,
      "Parameters": {"FunctionName": "notify", "Payload": {"TaskToken.$": "$$.Task.Token", "state.$": "$$.State.Name"}},
      "ResultPath": "$.approval",
      "Catch": [{"ErrorEquals": ["Pushline.Rejected"], "ResultPath": "$.error", "Next": "Rejected"}],
      "Next": "Check"},
    "Check": {"Type": "Choice", "Choices": [{"Variable": "$.approval.approved", "BooleanEquals": true, "Next": "Done"}], "Default": "Rejected"},
    "Rejected": {"Type": "Fail", "Error": "Pushline.Rejected", "Cause": "rejected"},
    "Done": {"Type": "Succeed"}
  }
}`
	sm := h.create("pipeline", def)
	arn := h.start(sm, "run-1", `{"pipeline":"app"}`)
	// wait for the approval token
	var tok string
	for deadline := time.Now().Add(10 * time.Second); tok == "" && time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		mu.Lock()
		if len(tokens) > 0 {
			tok = tokens[0]
		}
		mu.Unlock()
	}
	if tok == "" {
		t.Fatal("no task token delivered")
	}
	if _, err := h.sfn.SendTaskSuccess(context.Background(), &sfn.SendTaskSuccessInput{TaskToken: aws.String(tok), Output: aws.String(`{"approved":true,"approver":"a@b"}`)}); err != nil {
		t.Fatal(err)
	}
	d := h.wait(arn)
	if d.Status != sfntypes.ExecutionStatusSucceeded {
		t.Fatalf("status %s %v %v", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
	}
	jsonEqual(t, `{"pipeline":"app","source":{"artifact":{"bucket":"b","key":"k"}},"approval":{"approved":true,"approver":"a@b"}}`, *d.Output)
	mu.Lock()
	if len(events) != 1 || events[0].Detail != `{"key":"k","state":"STARTED"}` {
		t.Errorf("events = %+v", events)
	}
	mu.Unlock()
	// the token is spent
	_, err := h.sfn.SendTaskSuccess(context.Background(), &sfn.SendTaskSuccessInput{TaskToken: aws.String(tok), Output: aws.String(`{}`)})
	var tto *sfntypes.TaskTimedOut
	if !errors.As(err, &tto) {
		t.Errorf("second SendTaskSuccess err = %v, want TaskTimedOut", err)
	}
	_, err = h.sfn.SendTaskSuccess(context.Background(), &sfn.SendTaskSuccessInput{TaskToken: aws.String("garbage"), Output: aws.String(`{}`)})
	var it *sfntypes.InvalidToken
	if !errors.As(err, &it) {
		t.Errorf("garbage token err = %v, want InvalidToken", err)
	}
	want := []string{"ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSucceeded", "TaskStateExited",
		"TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSucceeded", "TaskStateExited",
		"TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSucceeded", "TaskStateExited",
		"ChoiceStateEntered", "ChoiceStateExited", "SucceedStateEntered", "SucceedStateExited", "ExecutionSucceeded"}
	evs := h.history(arn)
	if diff := cmp.Diff(want, types(evs)); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}
	for i, ev := range evs {
		if ev.Id != int64(i+1) || (i > 0 && ev.PreviousEventId != int64(i)) {
			t.Errorf("event %d: id %d previous %d", i, ev.Id, ev.PreviousEventId)
		}
	}
	if d := evs[2].TaskScheduledEventDetails; d == nil || *d.ResourceType != "lambda" || *d.Resource != "invoke" {
		t.Errorf("TaskScheduled details = %+v", d)
	}
	var res map[string]any
	json.Unmarshal([]byte(*evs[4].TaskSucceededEventDetails.Output), &res)
	if res["StatusCode"] != float64(200) || res["ExecutedVersion"] != "$LATEST" {
		t.Errorf("lambda:invoke result = %v", res)
	}

	// rejection path, and a function error
	arn2 := h.start(sm, "run-2", `{}`)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		mu.Lock()
		n := len(tokens)
		mu.Unlock()
		if n == 2 {
			break
		}
	}
	mu.Lock()
	tok2 := tokens[1]
	mu.Unlock()
	if _, err := h.sfn.SendTaskFailure(context.Background(), &sfn.SendTaskFailureInput{TaskToken: aws.String(tok2), Error: aws.String("Pushline.Rejected"), Cause: aws.String(`{"approver":"x"}`)}); err != nil {
		t.Fatal(err)
	}
	d = h.wait(arn2)
	if d.Status != sfntypes.ExecutionStatusFailed || *d.Error != "Pushline.Rejected" {
		t.Errorf("rejected run: %s %v", d.Status, aws.ToString(d.Error))
	}
}

func TestStartExecutionIdempotency(t *testing.T) {
	h := newHarness(t, Options{}, nil)
	sm := h.create("waiter", `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":30,"End":true}}}`)
	a := h.start(sm, "same", `{"a":1}`)
	b := h.start(sm, "same", `{"a":1}`)
	if a != b {
		t.Errorf("arns differ: %s %s", a, b)
	}
	_, err := h.sfn.StartExecution(context.Background(), &sfn.StartExecutionInput{StateMachineArn: aws.String(sm), Name: aws.String("same"), Input: aws.String(`{"a":2}`)})
	var ae *sfntypes.ExecutionAlreadyExists
	if !errors.As(err, &ae) {
		t.Fatalf("err = %v, want ExecutionAlreadyExists", err)
	}
	if _, err := h.sfn.StopExecution(context.Background(), &sfn.StopExecutionInput{ExecutionArn: aws.String(a), Error: aws.String("E"), Cause: aws.String("C")}); err != nil {
		t.Fatal(err)
	}
	d := h.wait(a)
	if d.Status != sfntypes.ExecutionStatusAborted {
		t.Errorf("status = %s", d.Status)
	}
	_, err = h.sfn.StartExecution(context.Background(), &sfn.StartExecutionInput{StateMachineArn: aws.String(sm), Name: aws.String("same"), Input: aws.String(`{"a":1}`)})
	if !errors.As(err, &ae) {
		t.Fatalf("closed execution: err = %v, want ExecutionAlreadyExists", err)
	}
	_, err = h.sfn.StartExecution(context.Background(), &sfn.StartExecutionInput{StateMachineArn: aws.String(sm), Name: aws.String("bad name"), Input: aws.String(`{}`)})
	var in *sfntypes.InvalidName
	if !errors.As(err, &in) {
		t.Errorf("bad name: err = %v", err)
	}
	_, err = h.sfn.StartExecution(context.Background(), &sfn.StartExecutionInput{StateMachineArn: aws.String(sm), Input: aws.String(`{`)})
	var ii *sfntypes.InvalidExecutionInput
	if !errors.As(err, &ii) {
		t.Errorf("bad input: err = %v", err)
	}
	_, err = h.sfn.StartExecution(context.Background(), &sfn.StartExecutionInput{StateMachineArn: aws.String(sm + "x"), Input: aws.String(`{}`)})
	var nx *sfntypes.StateMachineDoesNotExist
	if !errors.As(err, &nx) {
		t.Errorf("missing machine: err = %v", err)
	}
	// list with paging and filter
	for i := 0; i < 3; i++ {
		h.start(sm, "", `{}`)
	}
	var n int
	p := sfn.NewListExecutionsPaginator(h.sfn, &sfn.ListExecutionsInput{StateMachineArn: aws.String(sm), StatusFilter: sfntypes.ExecutionStatusRunning, MaxResults: 2})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		n += len(page.Executions)
	}
	if n != 3 {
		t.Errorf("running executions = %d, want 3", n)
	}
}

func TestInvalidDefinition(t *testing.T) {
	h := newHarness(t, Options{}, nil)
	tests := []struct{ def, want string }{
		{`{`, "INVALID_JSON_DESCRIPTION"},
		{`{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"}}}`, "MISSING_TRANSITION_TARGET: Missing 'Next' target: B at /States/A/Next"},
		{`{"StartAt":"A","States":{"A":{"Type":"Pass","End":true},"B":{"Type":"Pass","End":true}}}`, `MISSING_TRANSITION_TARGET: State "B" is not reachable. at /States/B`},
		{`{"StartAt":"A","States":{"A":{"Type":"Parallel","Branches":[{"StartAt":"A","States":{"A":{"Type":"Succeed"}}}],"End":true}}}`, "DUPLICATE_STATE_NAME"},
		{`{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"lambda","End":true}}}`, "INVALID_RESOURCE"},
		{`{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"A"}}}`, "MISSING_END_STATE"},
		{`{"StartAt":"A","States":{"A":{"Type":"Nope","End":true}}}`, "SCHEMA_VALIDATION_FAILED: The value for the field 'Type' must be one of"},
		{`{"StartAt":"A","States":{"A":{"Type":"Pass","End":true,"Foo":1}}}`, "Field 'Foo' is not supported at /States/A"},
		{`{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:states:::x:y","End":true,"Retry":[{"ErrorEquals":["States.ALL"]},{"ErrorEquals":["X"]}]}}}`, "must be the last one"},
		{`{"StartAt":"A","States":{"A":{"Type":"Pass","End":true,"Parameters":{"x.$":"nope"}}}}`, "'x.$' must be a valid JSONPath"},
		{`{"StartAt":"A","States":{"A":{"Type":"Pass","End":true,"ResultPath":"$.a[*]"}}}`, "valid Reference Path"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			_, err := h.sfn.CreateStateMachine(context.Background(), &sfn.CreateStateMachineInput{Name: aws.String("bad"), Definition: aws.String(tt.def), RoleArn: aws.String(role)})
			var id *sfntypes.InvalidDefinition
			if !errors.As(err, &id) || !strings.Contains(id.ErrorMessage(), tt.want) {
				t.Errorf("err = %v, want InvalidDefinition containing %q", err, tt.want)
			}
			v, err := h.sfn.ValidateStateMachineDefinition(context.Background(), &sfn.ValidateStateMachineDefinitionInput{Definition: aws.String(tt.def)})
			if err != nil || v.Result != sfntypes.ValidateStateMachineDefinitionResultCodeFail || len(v.Diagnostics) == 0 {
				t.Errorf("validate = %+v, %v", v, err)
			}
		})
	}
}
