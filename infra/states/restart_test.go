package states

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

const restartEnv = "STATES_RESTART_CHILD_DB"

var restartMachines = map[string]string{
	"waiter": `{"StartAt":"P","States":{"P":{"Type":"Pass","Result":{"v":1},"Next":"W"},"W":{"Type":"Wait","Seconds":3,"Next":"D"},"D":{"Type":"Succeed"}}}`,
	"token": `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken","TimeoutSeconds":600,
		"Parameters":{"FunctionName":"notify","Payload":{"token.$":"$$.Task.Token"}},"ResultPath":"$.approval","End":true}}}`,
	"inflight": `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::test:sleep",
		"Catch":[{"ErrorEquals":["States.TaskFailed"],"Next":"Caught"}],"End":true},"Caught":{"Type":"Pass","End":true}}}`,
	"done-task": `{"StartAt":"E","States":{"E":{"Type":"Task","Resource":"arn:aws:states:::test:echo","Parameters":{"echo":"once"},"Next":"W"},
		"W":{"Type":"Wait","Seconds":3,"End":true}}}`,
	"nested": `{"StartAt":"P","States":{"P":{"Type":"Parallel","Branches":[{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::test:sleep","End":true}}}],
		"Catch":[{"ErrorEquals":["States.TaskFailed"],"Next":"Caught"}],"End":true},"Caught":{"Type":"Pass","End":true}}}`,
	"map-token": `{"StartAt":"P","States":{"P":{"Type":"Parallel","End":true,"Branches":[
		{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken","Parameters":{"FunctionName":"notify2","Payload":{"token.$":"$$.Task.Token"}},"End":true}}},
		{"StartAt":"E","States":{"E":{"Type":"Task","Resource":"arn:aws:states:::test:echo","Parameters":{"v":"echoed"},"OutputPath":"$.v","Next":"W"},"W":{"Type":"Wait","Seconds":3,"End":true}}}]}}}`,
}

// TestRestartChild is the child process of TestRestart: it starts one
// execution of each restartMachines entry, says READY once each is at its
// blocking point, and waits to be killed.
func TestRestartChild(t *testing.T) {
	db := os.Getenv(restartEnv)
	if db == "" {
		t.Skip("child process of TestRestart")
	}
	var ready atomic.Int32
	say := func(s string) { fmt.Println(s) }
	e, err := Open(context.Background(), Options{Path: db})
	if err != nil {
		t.Fatal(err)
	}
	e.Register("arn:aws:states:::lambda:invoke", LambdaIntegration(func(ctx context.Context, fn string, p json.RawMessage) (json.RawMessage, error) {
		var v struct{ Token string }
		json.Unmarshal(p, &v)
		say("TOKEN " + fn + " " + v.Token)
		ready.Add(1)
		return json.RawMessage(`{}`), nil
	}))
	e.Register("arn:aws:states:::test:sleep", IntegrationFunc(func(ctx context.Context, t Task) (json.RawMessage, error) {
		ready.Add(1)
		<-ctx.Done()
		return nil, ctx.Err()
	}))
	e.Register("arn:aws:states:::test:echo", IntegrationFunc(func(ctx context.Context, t Task) (json.RawMessage, error) {
		return t.Parameters, nil
	}))
	ctx := context.Background()
	for _, name := range []string{"waiter", "token", "inflight", "done-task", "nested", "map-token"} {
		sm, err := e.CreateStateMachine(ctx, CreateStateMachineInput{Name: name, Definition: restartMachines[name], RoleArn: role})
		if err != nil {
			t.Fatal(err)
		}
		out, err := e.StartExecution(ctx, StartExecutionInput{StateMachineArn: sm.StateMachineArn, Name: "run", Input: `{"in":true}`})
		if err != nil {
			t.Fatal(err)
		}
		say("STARTED " + out.ExecutionArn)
	}
	for ready.Load() < 4 {
		time.Sleep(time.Millisecond)
	}
	// the Wait states have been entered and the echo result recorded once
	// the writer has caught up
	time.Sleep(200 * time.Millisecond)
	e.st.barrier(ctx)
	say("READY")
	select {}
}

func TestRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a process")
	}
	db := filepath.Join(t.TempDir(), "states.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestRestartChild$", "-test.v")
	cmd.Env = append(os.Environ(), restartEnv+"="+db)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tokens := map[string]string{}
	arns := map[string]string{}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "TOKEN "); ok {
			fn, tok, _ := strings.Cut(v, " ")
			tokens[fn] = tok
		}
		if v, ok := strings.CutPrefix(line, "STARTED "); ok {
			parts := strings.Split(v, ":")
			arns[parts[len(parts)-2]] = v
		}
		if line == "READY" {
			break
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if len(tokens) != 2 || len(arns) != 6 {
		t.Fatalf("child did not get ready: tokens %q, executions %v", tokens, arns)
	}

	// reopen
	var echoCalls, sleepCalls atomic.Int32
	e, err := Open(context.Background(), Options{Path: db})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	e.Register("arn:aws:states:::test:echo", IntegrationFunc(func(ctx context.Context, t Task) (json.RawMessage, error) {
		echoCalls.Add(1)
		return t.Parameters, nil
	}))
	e.Register("arn:aws:states:::test:sleep", IntegrationFunc(func(ctx context.Context, t Task) (json.RawMessage, error) {
		sleepCalls.Add(1)
		return nil, nil
	}))
	srv := httptest.NewServer(e.Handler())
	defer srv.Close()
	c := sfn.New(sfn.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), Credentials: credentials.NewStaticCredentialsProvider("a", "b", "")})
	h := &harness{t: t, e: e, sfn: c}
	for fn, token := range tokens {
		if _, err := c.SendTaskSuccess(context.Background(), &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(`{"approved":true}`)}); err != nil {
			t.Fatalf("token of %s after restart: %v", fn, err)
		}
	}
	want := map[string]struct{ status, output, errName string }{
		"waiter":    {"SUCCEEDED", `{"v":1}`, ""},
		"token":     {"SUCCEEDED", `{"in":true,"approval":{"approved":true}}`, ""},
		"inflight":  {"SUCCEEDED", `{"Error":"States.TaskFailed","Cause":` + mustJSON(RestartCause) + `}`, ""},
		"done-task": {"SUCCEEDED", `{"echo":"once"}`, ""},
		"nested":    {"SUCCEEDED", `{"Error":"States.TaskFailed","Cause":` + mustJSON(RestartCause) + `}`, ""},
		"map-token": {"SUCCEEDED", `[{"approved":true},"echoed"]`, ""},
	}
	for name, w := range want {
		d := h.wait(arns[name])
		if string(d.Status) != w.status {
			t.Errorf("%s: status %s (%s: %s)", name, d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
			continue
		}
		jsonEqual(t, w.output, aws.ToString(d.Output))
	}
	if n := echoCalls.Load(); n != 0 {
		t.Errorf("a recorded task result was invoked again %d times", n)
	}
	if n := sleepCalls.Load(); n != 0 {
		t.Errorf("an in-flight task was invoked again %d times", n)
	}
	// the Wait was not restarted: one WaitStateEntered
	evs := h.history(arns["waiter"])
	n := 0
	for _, ev := range evs {
		if ev.Type == sfntypes.HistoryEventTypeWaitStateEntered {
			n++
		}
	}
	if n != 1 {
		t.Errorf("WaitStateEntered %d times: %v", n, types(evs))
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
