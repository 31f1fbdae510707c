package stack

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/smithy-go"

	"github.com/pushline/pushline/infra/states"
	"github.com/pushline/pushline/shared/config"
)

func sfnClient(url string) *sfn.Client {
	return sfn.NewFromConfig(aws.Config{
		Region: Region, Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(url), RetryMaxAttempts: 1,
	})
}

// An execution waits for an approval's task token: from the network its
// token can be neither read in the history nor answered; the stack's own
// clients do both.
func TestGuardTokens(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	e, err := states.Open(ctx, states.Options{Path: filepath.Join(t.TempDir(), "states.db"), Region: Region, Account: Account})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	tokens := make(chan string, 1)
	e.Register("arn:aws:states:::lambda:invoke", states.LambdaIntegration(func(_ context.Context, _ string, p json.RawMessage) (json.RawMessage, error) {
		var v struct{ TaskToken string }
		json.Unmarshal(p, &v)
		tokens <- v.TaskToken
		return nil, nil
	}))
	machine, err := e.PutStateMachine(ctx, states.CreateStateMachineInput{Name: "approve", RoleArn: "arn:aws:iam::000000000000:role/r",
		Definition: `{"StartAt":"Approve","States":{"Approve":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken",
		  "Parameters":{"FunctionName":"notify","Payload":{"taskToken.$":"$$.Task.Token","approvers":["ops@example.com"]}},"End":true}}}`})
	if err != nil {
		t.Fatal(err)
	}
	e.Resume()
	started, err := e.StartExecution(ctx, states.StartExecutionInput{StateMachineArn: machine, Input: `{}`})
	if err != nil {
		t.Fatal(err)
	}
	token := <-tokens

	network := httptest.NewServer(guardTokens(e.Handler()))
	defer network.Close()
	inProcess := httptest.NewServer(e.Handler())
	defer inProcess.Close()
	untrusted, trusted := sfnClient(network.URL), sfnClient(inProcess.URL)

	for name, call := range map[string]func() error{
		"SendTaskSuccess": func() error {
			_, err := untrusted.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: &token, Output: aws.String(`{"approved":true}`)})
			return err
		},
		"SendTaskFailure": func() error {
			_, err := untrusted.SendTaskFailure(ctx, &sfn.SendTaskFailureInput{TaskToken: &token, Error: aws.String("Rejected")})
			return err
		},
		"SendTaskHeartbeat": func() error {
			_, err := untrusted.SendTaskHeartbeat(ctx, &sfn.SendTaskHeartbeatInput{TaskToken: &token})
			return err
		},
	} {
		t.Run(name, func(t *testing.T) {
			var ae smithy.APIError
			if err := call(); !errors.As(err, &ae) || ae.ErrorCode() != "AccessDeniedException" || !strings.Contains(ae.ErrorMessage(), "approval pages") {
				t.Errorf("%s from the network: %v, want AccessDeniedException", name, err)
			}
		})
	}

	history := func(c *sfn.Client) string {
		t.Helper()
		out, err := c.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: &started.ExecutionArn})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(out.Events)
		return string(b)
	}
	if h := history(untrusted); strings.Contains(h, token) || !strings.Contains(h, `\"taskToken\":\"(redacted)\"`) || !strings.Contains(h, "ops@example.com") {
		t.Errorf("history from the network holds the token or lost the parameters:\n%s", h)
	}
	if h := history(trusted); !strings.Contains(h, token) {
		t.Errorf("history in process lacks the token:\n%s", h)
	}

	if _, err := trusted.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: &token, Output: aws.String(`{"approved":true}`)}); err != nil {
		t.Fatalf("SendTaskSuccess in process: %v", err)
	}
	for {
		d, err := trusted.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: &started.ExecutionArn})
		if err != nil {
			t.Fatal(err)
		}
		if d.Status == sfntypes.ExecutionStatusSucceeded {
			break
		}
		if d.Status != sfntypes.ExecutionStatusRunning || ctx.Err() != nil {
			t.Fatalf("execution %s after the approval, want SUCCEEDED", d.Status)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestRedactTokens(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"none", `{"events":[{"id":1}]}`, `{"events":[{"id":1}]}`},
		{"field", `{"taskToken":"abc","n":1.50}`, `{"n":1.50,"taskToken":"(redacted)"}`},
		{"in a JSON string", `{"p":"{\"Payload\":{\"taskToken\":\"abc\",\"x\":\"<b>\"}}"}`, `{"p":"{\"Payload\":{\"taskToken\":\"(redacted)\",\"x\":\"<b>\"}}"}`},
		{"text naming it", `{"cause":"no taskToken given"}`, `{"cause":"no taskToken given"}`},
		{"not JSON", `{"taskToken":`, `{"taskToken":`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(redactTokens([]byte(tc.in))); got != tc.want {
				t.Errorf("redactTokens(%s) = %s, want %s", tc.in, got, tc.want)
			}
		})
	}
}

// The stack's own clients reach the engine in process; the TCP endpoint
// refuses task tokens.
func TestStackTokensInProcessOnly(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg, err := config.Parse([]byte(`{"name":"app","repositories":[{"provider":"github","repository":"o/r"}],
	  "stages":[{"name":"Build","buildspec":"b.yml"},{"name":"Approve","approval":{"approvers":["ops@example.com"]}}],
	  "notifications":{"from":"pushline@example.com"}}`))
	if err != nil {
		t.Fatal(err)
	}
	s, err := Start(ctx, Options{DataDir: t.TempDir(), HTTPAddr: "127.0.0.1:0", AWSAddr: "127.0.0.1:0", Config: cfg, Out: io.Discard, WebhookSecret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx)
	var ae smithy.APIError
	_, err = sfnClient(s.awsURL).SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String("forged"), Output: aws.String(`{}`)})
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDeniedException" {
		t.Errorf("SendTaskSuccess over TCP: %v, want AccessDeniedException", err)
	}
	_, err = s.SFN().SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String("forged"), Output: aws.String(`{}`)})
	if !errors.As(err, &ae) || ae.ErrorCode() == "AccessDeniedException" {
		t.Errorf("SendTaskSuccess in process: %v, want the engine's answer to an unknown token", err)
	}
	// the rest of the API still answers over TCP (the CLI, the aws CLI)
	if _, err := sfnClient(s.awsURL).ListStateMachines(ctx, &sfn.ListStateMachinesInput{}); err != nil {
		t.Errorf("ListStateMachines over TCP: %v", err)
	}
}
