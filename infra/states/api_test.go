package states

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
)

func TestStateMachineCRUD(t *testing.T) {
	h := newHarness(t, Options{}, nil)
	ctx := context.Background()
	def := `{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}`
	arn := h.create("crud", def)
	if again := h.create("crud", def); again != arn {
		t.Errorf("idempotent create returned %s", again)
	}
	_, err := h.sfn.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("crud"), Definition: aws.String(`{"StartAt":"B","States":{"B":{"Type":"Succeed"}}}`), RoleArn: aws.String(role)})
	var exists *sfntypes.StateMachineAlreadyExists
	if !errors.As(err, &exists) {
		t.Errorf("create with another definition: %v", err)
	}
	d, err := h.sfn.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(arn)})
	if err != nil || *d.Definition != def || d.Status != sfntypes.StateMachineStatusActive || d.Type != sfntypes.StateMachineTypeStandard {
		t.Fatalf("describe = %+v, %v", d, err)
	}
	def2 := `{"StartAt":"B","States":{"B":{"Type":"Pass","Result":2,"End":true}}}`
	if _, err := h.sfn.UpdateStateMachine(ctx, &sfn.UpdateStateMachineInput{StateMachineArn: aws.String(arn), Definition: aws.String(def2)}); err != nil {
		t.Fatal(err)
	}
	x := h.wait(h.start(arn, "after-update", `{}`))
	if aws.ToString(x.Output) != "2" {
		t.Errorf("output after update = %s", aws.ToString(x.Output))
	}
	f, err := h.sfn.DescribeStateMachineForExecution(ctx, &sfn.DescribeStateMachineForExecutionInput{ExecutionArn: x.ExecutionArn})
	if err != nil || *f.Definition != def2 {
		t.Errorf("describe for execution = %+v, %v", f, err)
	}
	h.create("crud2", def)
	l, err := h.sfn.ListStateMachines(ctx, &sfn.ListStateMachinesInput{MaxResults: 1})
	if err != nil || len(l.StateMachines) != 1 || l.NextToken == nil {
		t.Fatalf("list page 1 = %+v, %v", l, err)
	}
	l2, err := h.sfn.ListStateMachines(ctx, &sfn.ListStateMachinesInput{NextToken: l.NextToken})
	if err != nil || len(l2.StateMachines) != 1 || *l2.StateMachines[0].Name != "crud2" {
		t.Fatalf("list page 2 = %+v, %v", l2, err)
	}
	if _, err := h.sfn.DeleteStateMachine(ctx, &sfn.DeleteStateMachineInput{StateMachineArn: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	_, err = h.sfn.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(arn)})
	var nx *sfntypes.StateMachineDoesNotExist
	if !errors.As(err, &nx) {
		t.Errorf("describe deleted: %v", err)
	}
	_, err = h.sfn.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String("nope")})
	var ia *sfntypes.InvalidArn
	if !errors.As(err, &ia) {
		t.Errorf("bad arn: %v", err)
	}
	_, err = h.sfn.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String("arn:aws:states:us-east-1:000000000000:execution:crud:nope")})
	var ed *sfntypes.ExecutionDoesNotExist
	if !errors.As(err, &ed) {
		t.Errorf("missing execution: %v", err)
	}
}

func TestProtocolErrors(t *testing.T) {
	e, err := Open(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	srv := httptest.NewServer(e.Handler())
	defer srv.Close()
	tests := []struct {
		target, body string
		status       int
		typ          string
	}{
		{"AWSStepFunctions.Nope", `{}`, 400, "UnknownOperationException"},
		{"AWSStepFunctions.StartExecution", `{not json`, 400, "SerializationException"},
		{"AWSStepFunctions.StartExecution", `{"stateMachineArn":"x"}`, 400, "InvalidArn"},
		{"AWSStepFunctions.SendTaskSuccess", `{"taskToken":"AQBxyz","output":"{}"}`, 400, "InvalidToken"},
		{"AWSStepFunctions.SendTaskSuccess", `{"taskToken":"AQBAAAAAAAAAAQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","output":"{"}`, 400, "InvalidOutput"},
	}
	for _, tt := range tests {
		t.Run(tt.target+tt.body, func(t *testing.T) {
			req, _ := http.NewRequest("POST", srv.URL+"/", strings.NewReader(tt.body))
			req.Header.Set("X-Amz-Target", tt.target)
			req.Header.Set("Content-Type", "application/x-amz-json-1.0")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body struct {
				Type    string `json:"__type"`
				Message string `json:"message"`
			}
			json.NewDecoder(resp.Body).Decode(&body)
			if resp.StatusCode != tt.status || !strings.HasSuffix(body.Type, "#"+tt.typ) || body.Message == "" {
				t.Errorf("got %d %+v, want %d %s", resp.StatusCode, body, tt.status, tt.typ)
			}
		})
	}
}

func TestHistoryPagingAndRedrive(t *testing.T) {
	var fail atomic.Bool
	fail.Store(true)
	h := newHarness(t, Options{}, func(e *Engine) {
		e.Register("arn:aws:states:::test:maybe", IntegrationFunc(func(ctx context.Context, tk Task) (json.RawMessage, error) {
			if fail.Load() {
				return nil, &TaskError{Name: "Flaky", Cause: "down"}
			}
			return json.RawMessage(`"fine"`), nil
		}))
	})
	ctx := context.Background()
	sm := h.create("redrive", `{"StartAt":"P","States":{"P":{"Type":"Pass","Result":1,"ResultPath":"$.p","Next":"T"},
		"T":{"Type":"Task","Resource":"arn:aws:states:::test:maybe","ResultPath":"$.t","End":true}}}`)
	arn := h.start(sm, "r", `{"in":1}`)
	d := h.wait(arn)
	if d.Status != sfntypes.ExecutionStatusFailed || *d.Error != "Flaky" || d.RedriveStatus != sfntypes.ExecutionRedriveStatusRedrivable {
		t.Fatalf("first run: %+v", d)
	}
	fail.Store(false)
	if _, err := h.sfn.RedriveExecution(ctx, &sfn.RedriveExecutionInput{ExecutionArn: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	d = h.wait(arn)
	if d.Status != sfntypes.ExecutionStatusSucceeded || d.RedriveCount == nil || *d.RedriveCount != 1 {
		t.Fatalf("redriven: %+v", d)
	}
	jsonEqual(t, `{"in":1,"p":1,"t":"fine"}`, *d.Output)
	_, err := h.sfn.RedriveExecution(ctx, &sfn.RedriveExecutionInput{ExecutionArn: aws.String(arn)})
	var nr *sfntypes.ExecutionNotRedrivable
	if !errors.As(err, &nr) {
		t.Errorf("redrive a succeeded execution: %v", err)
	}
	evs := h.history(arn)
	want := []string{"ExecutionStarted", "PassStateEntered", "PassStateExited", "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskFailed", "ExecutionFailed",
		"ExecutionRedriven", "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSucceeded", "TaskStateExited", "ExecutionSucceeded"}
	if diff := cmp.Diff(want, types(evs)); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}
	rev, err := h.sfn.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn), ReverseOrder: true, MaxResults: 2, IncludeExecutionData: aws.Bool(false)})
	if err != nil || len(rev.Events) != 2 || rev.Events[0].Type != sfntypes.HistoryEventTypeExecutionSucceeded || rev.NextToken == nil {
		t.Fatalf("reverse page = %+v, %v", rev, err)
	}
	if out := rev.Events[0].ExecutionSucceededEventDetails; out == nil || aws.ToString(out.Output) != "" {
		t.Errorf("includeExecutionData=false still has output: %+v", out)
	}
}

func TestHistoryLimit(t *testing.T) {
	h := newHarness(t, Options{MaxHistoryEvents: 50}, nil)
	sm := h.create("loop", loopDef)
	d := h.wait(h.start(sm, "", `{"i":0,"n":1000}`))
	if d.Status != sfntypes.ExecutionStatusFailed || *d.Error != ErrNameRuntime || !strings.Contains(*d.Cause, "maximum number of history events") {
		t.Fatalf("status %s %v %v", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
	}
}

func TestHeartbeatTimeout(t *testing.T) {
	tokens := make(chan string, 1)
	h := newHarness(t, Options{}, func(e *Engine) {
		e.Register("arn:aws:states:::test:token", IntegrationFunc(func(ctx context.Context, tk Task) (json.RawMessage, error) {
			tokens <- tk.Token
			return nil, nil
		}))
	})
	sm := h.create("hb", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::test:token.waitForTaskToken","HeartbeatSeconds":1,"TimeoutSeconds":60,
		"Catch":[{"ErrorEquals":["States.HeartbeatTimeout"],"Next":"HB"}],"End":true},"HB":{"Type":"Pass","Result":"heartbeat timed out","End":true}}}`)
	arn := h.start(sm, "", `{}`)
	tok := <-tokens
	if _, err := h.sfn.SendTaskHeartbeat(context.Background(), &sfn.SendTaskHeartbeatInput{TaskToken: aws.String(tok)}); err != nil {
		t.Fatal(err)
	}
	d := h.wait(arn)
	if aws.ToString(d.Output) != `"heartbeat timed out"` {
		t.Fatalf("output %s (%s)", aws.ToString(d.Output), d.Status)
	}
	_, err := h.sfn.SendTaskHeartbeat(context.Background(), &sfn.SendTaskHeartbeatInput{TaskToken: aws.String(tok)})
	var tto *sfntypes.TaskTimedOut
	if !errors.As(err, &tto) {
		t.Errorf("heartbeat after timeout: %v", err)
	}
}

func TestCloseAndReopen(t *testing.T) {
	db := filepath.Join(t.TempDir(), "s.db")
	ctx := context.Background()
	e, err := Open(ctx, Options{Path: db})
	if err != nil {
		t.Fatal(err)
	}
	invoked := make(chan struct{})
	e.Register("arn:aws:states:::test:block", IntegrationFunc(func(ctx context.Context, tk Task) (json.RawMessage, error) {
		close(invoked)
		<-ctx.Done()
		return nil, ctx.Err()
	}))
	sm, err := e.CreateStateMachine(ctx, CreateStateMachineInput{Name: "m", Definition: `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":1,"Next":"T"},
		"T":{"Type":"Task","Resource":"arn:aws:states:::test:block","Retry":[{"ErrorEquals":["States.TaskFailed"],"IntervalSeconds":1,"MaxAttempts":1}],"End":true}}}`, RoleArn: role})
	if err != nil {
		t.Fatal(err)
	}
	x, err := e.StartExecution(ctx, StartExecutionInput{StateMachineArn: sm.StateMachineArn, Name: "n", Input: `{"k":"v"}`})
	if err != nil {
		t.Fatal(err)
	}
	<-invoked
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := e.DescribeExecution(ctx, DescribeExecutionInput{ExecutionArn: x.ExecutionArn}); !errors.Is(err, ErrServiceUnavailable) {
		t.Errorf("call after Close: %v", err)
	}
	e2, err := Open(ctx, Options{Path: db})
	if err != nil {
		t.Fatal(err)
	}
	defer e2.Close()
	e2.Register("arn:aws:states:::test:block", IntegrationFunc(func(ctx context.Context, tk Task) (json.RawMessage, error) {
		return json.RawMessage(`"second attempt"`), nil
	}))
	deadline := time.Now().Add(10 * time.Second)
	for {
		d, err := e2.DescribeExecution(ctx, DescribeExecutionInput{ExecutionArn: x.ExecutionArn})
		if err != nil {
			t.Fatal(err)
		}
		if d.Status != "RUNNING" {
			if d.Status != "SUCCEEDED" || *d.Output != `"second attempt"` {
				t.Fatalf("after reopen: %s %v %v", d.Status, d.Error, d.Cause)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("still running")
		}
		time.Sleep(10 * time.Millisecond)
	}
	hist, err := e2.GetExecutionHistory(ctx, GetExecutionHistoryInput{ExecutionArn: x.ExecutionArn, MaxResults: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	for _, ev := range hist.Events {
		buf.WriteString(ev.Type + " ")
		if ev.TaskFailedEventDetails != nil && ev.TaskFailedEventDetails.Cause != RestartCause {
			t.Errorf("TaskFailed cause %q", ev.TaskFailedEventDetails.Cause)
		}
	}
	if !strings.Contains(buf.String(), "TaskFailed TaskScheduled TaskStarted TaskSucceeded") {
		t.Errorf("history: %s", buf.String())
	}
}

func TestMapParallelHistory(t *testing.T) {
	h := newHarness(t, Options{}, nil)
	sm := h.create("mp", `{"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.xs","MaxConcurrency":1,"ItemProcessor":{"StartAt":"I","States":{"I":{"Type":"Pass","End":true}}},"Next":"P"},
		"P":{"Type":"Parallel","Branches":[{"StartAt":"B","States":{"B":{"Type":"Pass","End":true}}}],"End":true}}}`)
	arn := h.start(sm, "", `{"xs":[1]}`)
	d := h.wait(arn)
	jsonEqual(t, `[[1]]`, aws.ToString(d.Output))
	want := []string{"ExecutionStarted", "MapStateEntered", "MapStateStarted", "MapIterationStarted", "PassStateEntered", "PassStateExited", "MapIterationSucceeded",
		"MapStateSucceeded", "MapStateExited", "ParallelStateEntered", "ParallelStateStarted", "PassStateEntered", "PassStateExited", "ParallelStateSucceeded",
		"ParallelStateExited", "ExecutionSucceeded"}
	if diff := cmp.Diff(want, types(h.history(arn))); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}
}

func TestExecutionTimeout(t *testing.T) {
	h := newHarness(t, Options{}, nil)
	sm := h.create("slow", `{"TimeoutSeconds":1,"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":30,"End":true}}}`)
	arn := h.start(sm, "", `{}`)
	d := h.wait(arn)
	if d.Status != sfntypes.ExecutionStatusTimedOut || aws.ToString(d.Error) != ErrNameTimeout {
		t.Fatalf("status %s error %s", d.Status, aws.ToString(d.Error))
	}
	evs := types(h.history(arn))
	if evs[len(evs)-1] != "ExecutionTimedOut" {
		t.Errorf("history %v", evs)
	}
}

// FuzzHandler feeds arbitrary bodies to every operation: the answer is
// never a 5xx and never a panic.
func FuzzHandler(f *testing.F) {
	e, err := Open(context.Background(), Options{})
	if err != nil {
		f.Fatal(err)
	}
	defer e.Close()
	ctx := context.Background()
	sm, err := e.CreateStateMachine(ctx, CreateStateMachineInput{Name: "f", Definition: `{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}`, RoleArn: role})
	if err != nil {
		f.Fatal(err)
	}
	h := e.Handler()
	ops := []string{"CreateStateMachine", "DescribeStateMachine", "ListStateMachines", "UpdateStateMachine", "ValidateStateMachineDefinition", "StartExecution",
		"DescribeExecution", "ListExecutions", "GetExecutionHistory", "StopExecution", "RedriveExecution", "SendTaskSuccess", "SendTaskFailure", "SendTaskHeartbeat"}
	f.Add(uint8(5), `{"stateMachineArn":"`+sm.StateMachineArn+`","input":"{\"a\":1}"}`)
	f.Add(uint8(0), `{"name":"x","roleArn":"arn:aws:iam::1:role/r","definition":"{\"StartAt\":\"A\",\"States\":{\"A\":{\"Type\":\"Succeed\"}}}"}`)
	f.Add(uint8(11), `{"taskToken":"AQBAAAAAAAAAAQ","output":"{}"}`)
	f.Add(uint8(8), `{"executionArn":"arn:aws:states:us-east-1:000000000000:execution:f:x","nextToken":"!!"}`)
	f.Add(uint8(7), `{"stateMachineArn":"`+sm.StateMachineArn+`","maxResults":-5,"nextToken":"AAAAAAAAAAA"}`)
	f.Fuzz(func(t *testing.T, op uint8, body string) {
		req := httptest.NewRequest("POST", "/", strings.NewReader(body))
		req.Header.Set("X-Amz-Target", "AWSStepFunctions."+ops[int(op)%len(ops)])
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s: %d %s", ops[int(op)%len(ops)], body, rec.Code, rec.Body.String())
		}
	})
}

// TestNoLeaks checks that finished executions leave nothing behind in
// memory: no goroutine, no entry in the running set, no token.
func TestNoLeaks(t *testing.T) {
	h := newHarness(t, Options{}, func(e *Engine) {
		e.Register("arn:aws:states:::test:echo", IntegrationFunc(func(ctx context.Context, tk Task) (json.RawMessage, error) {
			return tk.Parameters, nil
		}))
	})
	sm := h.create("leak", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::test:echo","TimeoutSeconds":60,"HeartbeatSeconds":30,"Next":"W"},
		"W":{"Type":"Wait","Seconds":0,"Next":"M"},"M":{"Type":"Map","ItemsPath":"$.xs","ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}`)
	run := func() {
		h.wait(h.start(sm, "", `{"xs":[1,2,3]}`))
	}
	run()
	time.Sleep(50 * time.Millisecond)
	before := engineGoroutines()
	for range 50 {
		run()
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		h.e.mu.Lock()
		running, tokens := len(h.e.running), len(h.e.tokens)
		h.e.mu.Unlock()
		after := engineGoroutines()
		if running == 0 && tokens == 0 && after <= before {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("running %d, tokens %d, goroutines %d → %d", running, tokens, before, after)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// engineGoroutines counts the goroutines running the engine's code, leaving
// out those of net/http (idle keep-alive connections come and go with the
// machine's load) and of the test itself.
func engineGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	for _, g := range bytes.Split(buf, []byte("\n\n")) {
		if bytes.Contains(g, []byte("pushline/infra/states.")) && !bytes.Contains(g, []byte("infra/states.Test")) {
			count++
		}
	}
	return count
}

func TestPutStateMachine(t *testing.T) {
	h := newHarness(t, Options{}, nil)
	ctx := context.Background()
	in := CreateStateMachineInput{Name: "put", Definition: `{"StartAt":"A","States":{"A":{"Type":"Pass","Result":1,"End":true}}}`, RoleArn: role}
	a1, err := h.e.PutStateMachine(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	in.Definition = `{"StartAt":"A","States":{"A":{"Type":"Pass","Result":2,"End":true}}}`
	a2, err := h.e.PutStateMachine(ctx, in)
	if err != nil || a1 != a2 {
		t.Fatalf("put again: %s %s %v", a1, a2, err)
	}
	if d := h.wait(h.start(a2, "", `{}`)); aws.ToString(d.Output) != "2" {
		t.Errorf("output %s", aws.ToString(d.Output))
	}
	in.Definition = `{`
	if _, err := h.e.PutStateMachine(ctx, in); !errors.Is(err, ErrInvalidDefinition) {
		t.Errorf("bad definition: %v", err)
	}
}

// TestMaxResults checks AWS's maxResults ranges through the SDK: 0 to
// 1000 for the list calls (0 = the default page), ValidationException
// with AWS's message above.
func TestMaxResults(t *testing.T) {
	h := newHarness(t, Options{}, nil)
	ctx := context.Background()
	sm := h.create("m", `{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`)
	arn := h.start(sm, "x", `{}`)
	h.wait(arn)
	calls := map[string]func(n int32) error{
		"ListExecutions": func(n int32) error {
			_, err := h.sfn.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(sm), MaxResults: n})
			return err
		},
		"ListStateMachines": func(n int32) error {
			_, err := h.sfn.ListStateMachines(ctx, &sfn.ListStateMachinesInput{MaxResults: n})
			return err
		},
		"GetExecutionHistory": func(n int32) error {
			_, err := h.sfn.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn), MaxResults: n})
			return err
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			for _, n := range []int32{0, 1, 1000} {
				if err := call(n); err != nil {
					t.Errorf("maxResults %d: %v", n, err)
				}
			}
			for _, n := range []int32{1001, 5000} {
				err := call(n)
				var ve smithy.APIError
				if !errors.As(err, &ve) || ve.ErrorCode() != "ValidationException" {
					t.Fatalf("maxResults %d: %v, want ValidationException", n, err)
				}
				want := fmt.Sprintf("1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000", n)
				if diff := cmp.Diff(want, ve.ErrorMessage()); diff != "" {
					t.Errorf("message (-want +got):\n%s", diff)
				}
			}
		})
	}
	// negative values and ValidateStateMachineDefinition (0 to 100), in process
	if _, err := h.e.ListExecutions(ctx, ListExecutionsInput{StateMachineArn: sm, MaxResults: -1}); !errors.Is(err, ErrValidation) ||
		!strings.Contains(err.Error(), "Member must have value greater than or equal to 0") {
		t.Errorf("maxResults -1: %v", err)
	}
	if _, err := h.e.ValidateStateMachineDefinition(ctx, ValidateInput{Definition: `{}`, MaxResults: 101}); !errors.Is(err, ErrValidation) {
		t.Errorf("validate maxResults 101: %v", err)
	}
}

// TestDatabaseMode checks that the database and its WAL files are private
// (they hold task tokens), also when an older engine left them readable.
func TestDatabaseMode(t *testing.T) {
	db := filepath.Join(t.TempDir(), "states.db")
	ctx := context.Background()
	check := func() {
		t.Helper()
		for _, p := range []string{db, db + "-wal", db + "-shm"} {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("%s: mode %v, want 0600", filepath.Base(p), fi.Mode().Perm())
			}
		}
	}
	e, err := Open(ctx, Options{Path: db})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.PutStateMachine(ctx, CreateStateMachineInput{Name: "m", Definition: `{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`, RoleArn: role}); err != nil {
		t.Fatal(err)
	}
	check()
	e.Close()
	if err := os.Chmod(db, 0o644); err != nil {
		t.Fatal(err)
	}
	e, err = Open(ctx, Options{Path: db})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if _, err := e.ListStateMachines(ctx, ListStateMachinesInput{}); err != nil {
		t.Fatal(err)
	}
	check()
}
