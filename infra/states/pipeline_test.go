package states

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// TestPipelineDefinitions runs the pipeline definitions shared/statemachine
// generates (its golden files) with fake integrations: every build
// succeeds, every approval is approved. It checks that the engine accepts
// and completes what the pipeline really uses.
func TestPipelineDefinitions(t *testing.T) {
	files, err := filepath.Glob("../../shared/statemachine/testdata/*.asl.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no generated definitions: %v", err)
	}
	var mu sync.Mutex
	var events []EventEntry
	var h *harness
	failBuild := map[string]bool{}
	h = newHarness(t, Options{}, func(e *Engine) {
		e.Register("arn:aws:states:::lambda:invoke", LambdaIntegration(func(ctx context.Context, fn string, payload json.RawMessage) (json.RawMessage, error) {
			switch fn {
			case "source":
				return json.RawMessage(`{"bucket":"b","key":"k/source.zip","location":"b/k/source.zip","size":1,"commit":"abc"}`), nil
			case "queue":
				return json.RawMessage(`{"wait":false,"ahead":0}`), nil
			case "notify":
				var p struct {
					TaskToken string `json:"taskToken"`
				}
				json.Unmarshal(payload, &p)
				go e.SendTaskSuccess(context.Background(), SendTaskSuccessInput{TaskToken: p.TaskToken, Output: `{"approved":true,"approver":"a@example.com","comment":"ok","decidedAt":"2026-01-01T00:00:00Z"}`})
				return json.RawMessage(`{}`), nil
			}
			return nil, &TaskError{Name: "Lambda.ResourceNotFoundException", Cause: fn}
		}))
		e.Register("arn:aws:states:::codebuild:startBuild", IntegrationFunc(func(ctx context.Context, tk Task) (json.RawMessage, error) {
			if tk.Pattern != "sync" {
				t.Errorf("codebuild pattern %q", tk.Pattern)
			}
			tk.Submitted(json.RawMessage(`{"Build":{"Id":"p:1","BuildStatus":"IN_PROGRESS"}}`))
			// an uploaded artifact has a Sha256sum, as CodeBuild reports it
			build := `{"Build":{"Id":"p:1","Arn":"arn:aws:codebuild:us-east-1:000000000000:build/p:1","BuildStatus":"SUCCEEDED","Logs":{"DeepLink":"https://logs"},"Artifacts":{"Location":"arn:aws:s3:::b/k/x.zip","Sha256sum":"aa"}}}`
			mu.Lock()
			fail := failBuild[tk.ExecutionArn]
			mu.Unlock()
			if fail {
				return nil, &TaskError{Name: ErrNameTaskFailed, Cause: strings.Replace(build, "SUCCEEDED", "FAILED", 1)}
			}
			return json.RawMessage(build), nil
		}))
		// deploy stages: a deployment that succeeds at the first poll
		e.Register("arn:aws:states:::aws-sdk:codedeploy:createDeployment", IntegrationFunc(func(ctx context.Context, tk Task) (json.RawMessage, error) {
			return json.RawMessage(`{"DeploymentId":"d-ABCDEFGHI"}`), nil
		}))
		e.Register("arn:aws:states:::aws-sdk:codedeploy:getDeployment", IntegrationFunc(func(ctx context.Context, tk Task) (json.RawMessage, error) {
			return json.RawMessage(`{"DeploymentInfo":{"DeploymentId":"d-ABCDEFGHI","Status":"Succeeded"}}`), nil
		}))
		e.Register("arn:aws:states:::events:putEvents", EventsIntegration(func(ctx context.Context, entries []EventEntry) error {
			mu.Lock()
			events = append(events, entries...)
			mu.Unlock()
			return nil
		}))
	})
	subst := regexp.MustCompile(`\$\{([A-Za-z0-9]+)\}`)
	input := `{"pipeline":"p","push":{"provider":"github","repository":"acme/app","cloneUrl":"file:///x","webUrl":"https://x","ref":"refs/heads/main","branch":"main","before":"000","after":"abcdef0123456789","headCommit":{"id":"abcdef0123456789","message":"m"}}}`
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".asl.json")
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			def := subst.ReplaceAllStringFunc(string(b), func(m string) string {
				switch m {
				case "${SourceFunctionArn}":
					return "source"
				case "${NotifyFunctionArn}":
					return "notify"
				case "${QueueFunctionArn}":
					return "queue"
				}
				return strings.Trim(m, "${}")
			})
			hh := &harness{t: t, e: h.e, sfn: h.sfn}
			sm := hh.create("pipeline-"+name, def)
			okArn := hh.start(sm, "ok", input)
			d := hh.wait(okArn)
			if d.Status != sfntypes.ExecutionStatusSucceeded {
				t.Fatalf("status %s: %s: %s", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
			}
			seq := strings.Join(types(hh.history(okArn)), " ")
			if !strings.Contains(seq, "TaskStarted TaskSubmitted TaskSucceeded") {
				t.Errorf("no TaskSubmitted before TaskSucceeded for the build: %s", seq)
			}
			arn := h.e.execArn("pipeline-"+name, "failing")
			mu.Lock()
			failBuild[arn] = true
			mu.Unlock()
			d = hh.wait(hh.start(sm, "failing", input))
			if d.Status != sfntypes.ExecutionStatusFailed {
				t.Fatalf("failing build: status %s", d.Status)
			}
			mu.Lock()
			defer mu.Unlock()
			// events holds every subtest's entries: match this one's execution
			failed := false
			for _, ev := range events {
				if strings.Contains(ev.Detail, `"FAILED"`) && strings.Contains(ev.Detail, `"`+arn+`"`) {
					failed = true
				}
			}
			if !failed {
				t.Errorf("no FAILED event for the failing execution")
			}
		})
	}
}
