package statemachine

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/pushline/pushline/shared/approval"
	"github.com/pushline/pushline/shared/config"
	"github.com/pushline/pushline/shared/event"
	"github.com/pushline/pushline/shared/push"
)

// hugeInput is the execution input of a push as large as a provider can
// send: a 1 MiB commit message (Trimmed to 4 KiB), 10,000 files (dropped by
// Trimmed), long names.
func hugeInput(pipeline string) push.Input {
	long := strings.Repeat("x", 200)
	files := make([]string, 10000)
	for i := range files {
		files[i] = fmt.Sprintf("src/%s/file%d.go", long, i)
	}
	p := push.Push{
		Provider:   push.GitLab,
		Repository: "group/" + long + "/app",
		CloneURL:   "https://gitlab.example.com/group/" + long + "/app.git",
		WebURL:     "https://gitlab.example.com/group/" + long + "/app",
		Ref:        "refs/heads/feature/" + long,
		Branch:     "feature/" + long,
		Before:     "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
		After:      "9fceb02d0ae598e95dc970b74767f19372d61af8",
		Pusher:     long,
		HeadCommit: push.Commit{
			ID:        "9fceb02d0ae598e95dc970b74767f19372d61af8",
			Message:   strings.Repeat("é", 512*1024),
			Author:    long + " <" + long + "@example.com>",
			URL:       "https://gitlab.example.com/group/" + long + "/app/-/commit/9fceb02d0ae598e95dc970b74767f19372d61af8",
			Timestamp: time.Date(2026, 11, 27, 8, 40, 0, 0, time.UTC),
		},
		Files:         files,
		FilesComplete: true,
		DeliveryID:    "d3c0a7c4-0000-4000-8000-000000000000",
	}
	return push.Input{Pipeline: pipeline, Push: p.Trimmed()}
}

func smallInput(pipeline string) push.Input {
	return push.Input{Pipeline: pipeline, Push: push.Push{
		Provider: push.GitHub, Repository: "acme/app", CloneURL: "https://github.com/acme/app.git",
		WebURL: "https://github.com/acme/app", Ref: "refs/heads/main", Branch: "main",
		Before: "6113728f27ae82c7b1a177c8d03f9e96e0adf246", After: "9fceb02d0ae598e95dc970b74767f19372d61af8",
		HeadCommit: push.Commit{ID: "9fceb02d0ae598e95dc970b74767f19372d61af8", Message: "Fix"},
	}}
}

// fakeAWS answers tasks like AWS does, with optional failures.
type fakeAWS struct {
	t          *testing.T
	exports    int                   // exported variables per build
	exportLen  int                   // bytes of each exported value (default 256)
	noArtifact map[string]bool       // builds whose buildspec declares no artifacts
	failAt     map[string]*taskError // state name -> error
	queueWait  int                   // queue answers wait this many times
	comment    string                // approval comment
	builds     map[string]map[string]any
	queueSeen  int
	// hold: builds that run until the execution stops them (recorded in
	// stopped); failAt builds wait for them to start first.
	hold    map[string]bool
	held    chan struct{}
	stopped []string
	mu      sync.Mutex
}

// holdBuild blocks a build of f.hold until ctx ends; other builds wait
// until a held one runs, so that a failure happens while it does.
func (f *fakeAWS) holdBuild(ctx context.Context, state string) bool {
	if len(f.hold) == 0 {
		return false
	}
	f.mu.Lock()
	if f.held == nil {
		f.held = make(chan struct{})
	}
	held, hold := f.held, f.hold[state]
	_, failing := f.failAt[state]
	f.mu.Unlock()
	if !hold && !failing {
		return false
	}
	if !hold {
		select {
		case <-held:
		case <-time.After(10 * time.Second):
			f.t.Errorf("%s: no held build started", state)
		}
		return false
	}
	f.mu.Lock()
	select {
	case <-held:
	default:
		close(held)
	}
	f.mu.Unlock()
	select {
	case <-ctx.Done():
		f.mu.Lock()
		f.stopped = append(f.stopped, state)
		f.mu.Unlock()
	case <-time.After(10 * time.Second):
		f.t.Errorf("%s: not stopped within 10 s", state)
	}
	return true
}

func (f *fakeAWS) task(state, resource string, params any) (any, *taskError) {
	f.mu.Lock() // the actions of a stage run at the same time
	defer f.mu.Unlock()
	if e, ok := f.failAt[state]; ok {
		return nil, e
	}
	p := params.(map[string]any)
	switch resource {
	case resEvents:
		if e, ok := f.failAt["*events*"]; ok {
			return nil, e
		}
		n := len(p["Entries"].([]any))
		if n > 10 {
			f.t.Errorf("%s: %d entries in one PutEvents (max 10)", state, n)
		}
		var entries []any
		for i := range n {
			entries = append(entries, map[string]any{"EventId": fmt.Sprintf("11710aed-b79e-4468-a20b-bb3c0c3b4860-%d", i)})
		}
		return map[string]any{"Entries": entries, "FailedEntryCount": 0}, nil
	case resLambda:
		payload := p["Payload"].(map[string]any)
		if state == stQueue {
			f.queueSeen++
			return map[string]any{"Payload": map[string]any{"wait": f.queueSeen <= f.queueWait, "ahead": 1}, "StatusCode": 200}, nil
		}
		key := payload["key"].(string)
		return map[string]any{
			"ExecutedVersion": "$LATEST",
			"Payload": map[string]any{
				"bucket": payload["bucket"], "key": key, "location": fmt.Sprint(payload["bucket"], "/", key),
				"size": 123456, "commit": "9fceb02d0ae598e95dc970b74767f19372d61af8",
			},
			"SdkHttpMetadata": map[string]any{"HttpHeaders": map[string]any{"Content-Type": "application/json"}, "HttpStatusCode": 200},
			"StatusCode":      200,
		}, nil
	case resLambdaWait:
		return map[string]any{"approved": true, "approver": "ops@example.com", "comment": f.comment, "decidedAt": "2026-11-27T09:00:00Z"}, nil
	case resBuild:
		b := f.build(state, p, "SUCCEEDED")
		if f.builds == nil {
			f.builds = map[string]map[string]any{}
		}
		f.builds[state] = p
		return map[string]any{"Build": b}, nil
	case resCreateDeployment, resGetDeployment: // deploy_test.go fakes more
		return codeDeploySucceeded, nil
	}
	f.t.Fatalf("%s: unexpected resource %s", state, resource)
	return nil, nil
}

// build is a CodeBuild Build as Step Functions returns it (PascalCase),
// with the overrides echoed as CodeBuild does.
func (f *fakeAWS) build(stage string, p map[string]any, status string) map[string]any {
	id := "pushline-app-" + stage + ":0b7a1f5e-6c1d-4f34-9a8e-2d2b8f7d6a11"
	var phases []any
	for _, ph := range []string{"SUBMITTED", "QUEUED", "PROVISIONING", "DOWNLOAD_SOURCE", "INSTALL", "PRE_BUILD", "BUILD", "POST_BUILD", "UPLOAD_ARTIFACTS", "FINALIZING", "COMPLETED"} {
		phases = append(phases, map[string]any{
			"PhaseType": ph, "PhaseStatus": "SUCCEEDED", "StartTime": 1.764e12, "EndTime": 1.764e12, "DurationInSeconds": 3,
			"Contexts": []any{map[string]any{"StatusCode": "", "Message": ""}},
		})
	}
	b := map[string]any{
		"Id": id, "Arn": "arn:aws:codebuild:us-east-1:000000000000:build/" + id, "BuildNumber": 42,
		"StartTime": 1.764e12, "EndTime": 1.764e12, "CurrentPhase": "COMPLETED", "BuildStatus": status,
		"ProjectName": "pushline-app-" + stage, "Phases": phases,
		"Source":      map[string]any{"Type": "S3", "Location": p["SourceLocationOverride"], "Buildspec": p["BuildspecOverride"], "InsecureSsl": false},
		"Artifacts":   map[string]any{"Location": "arn:aws:s3:::bucket/x/" + stage + ".zip", "Sha256sum": strings.Repeat("a", 64), "Md5sum": strings.Repeat("b", 32)},
		"Environment": map[string]any{"Type": "ARM_CONTAINER", "Image": "aws/codebuild/amazonlinux-aarch64-standard:3.0", "ComputeType": "BUILD_GENERAL1_SMALL", "EnvironmentVariables": p["EnvironmentVariablesOverride"], "PrivilegedMode": false, "ImagePullCredentialsType": "CODEBUILD"},
		"ServiceRole": "arn:aws:iam::000000000000:role/pushline-app-build",
		"Logs": map[string]any{
			"GroupName": "/aws/codebuild/pushline-app-" + stage, "StreamName": "0b7a1f5e-6c1d-4f34-9a8e-2d2b8f7d6a11",
			"DeepLink":          "https://console.aws.amazon.com/cloudwatch/home?region=us-east-1#logsV2:log-groups/log-group/$252Faws$252Fcodebuild$252Fpushline-app-" + stage + "/log-events/0b7a1f5e-6c1d-4f34-9a8e-2d2b8f7d6a11",
			"CloudWatchLogsArn": "arn:aws:logs:us-east-1:000000000000:log-group:/aws/codebuild/pushline-app-" + stage + ":log-stream:0b7a1f5e-6c1d-4f34-9a8e-2d2b8f7d6a11",
			"CloudWatchLogs":    map[string]any{"Status": "ENABLED"}, "S3Logs": map[string]any{"Status": "DISABLED", "EncryptionDisabled": false},
		},
		"TimeoutInMinutes": p["TimeoutInMinutesOverride"], "QueuedTimeoutInMinutes": 480, "BuildComplete": true,
		"Initiator": "states/pushline-app", "EncryptionKey": "arn:aws:kms:us-east-1:000000000000:alias/aws/s3",
	}
	if f.noArtifact[stage] {
		b["Artifacts"] = map[string]any{} // as the local runner reports it
	}
	if f.exports > 0 {
		var vars []any
		n := f.exportLen
		if n == 0 {
			n = 256
		}
		for i := range f.exports {
			vars = append(vars, map[string]any{"Name": fmt.Sprintf("VAR_%d", i), "Value": strings.Repeat("v", n)})
		}
		b["ExportedEnvironmentVariables"] = vars
	}
	return b
}

func buildFailure(f *fakeAWS, stage string) *taskError {
	p := map[string]any{"SourceLocationOverride": "bucket/key", "BuildspecOverride": "buildspec.yml", "EnvironmentVariablesOverride": []any{}, "TimeoutInMinutesOverride": 60}
	b := f.build(stage, p, "FAILED")
	cause, _ := json.Marshal(map[string]any{"Build": b})
	s := string(cause)
	return &taskError{Error: "States.TaskFailed", Cause: &s}
}

func str(s string) *string { return &s }

func generate(t *testing.T, name string) (*config.Config, []byte) {
	t.Helper()
	cfg := configs(t)[name]
	def, err := Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cfg, def
}

func runFlow(t *testing.T, def []byte, input push.Input, f *fakeAWS) flowResult {
	t.Helper()
	f.t = t
	return runEngine(t, def, clone(input), f.task, f.holdBuild)
}

// eventSummary is "<detail-type> <state> [stage]" of each emitted event,
// after checking each one decodes strictly into event.Detail and carries
// the required fields.
func eventSummary(t *testing.T, r flowResult) []string {
	t.Helper()
	var out []string
	for _, e := range r.events {
		if e["Source"] != event.Source || e["EventBusName"] != "${EventBusName}" {
			t.Errorf("entry source/bus: %v", e)
		}
		raw, _ := json.Marshal(e["Detail"])
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		var d event.Detail
		if err := dec.Decode(&d); err != nil {
			t.Errorf("detail %s: %v", raw, err)
		}
		if d.Pipeline == "" || d.Execution == "" || d.State == "" || d.Repository == "" || d.Ref == "" || d.Commit == "" {
			t.Errorf("detail lacks a required field: %s", raw)
		}
		dt := e["DetailType"].(string)
		if dt != event.PipelineExecution && d.Stage == "" {
			t.Errorf("%s without stage: %s", dt, raw)
		}
		if (d.State == event.Failed || d.State == event.TimedOut) && d.Error == "" {
			t.Errorf("%s %s without error: %s", dt, d.State, raw)
		}
		s := dt + " " + d.State
		if d.Stage != "" {
			s += " " + d.Stage
		}
		if d.Action != "" {
			s += " action " + d.Action
		}
		if d.BuildID != "" {
			s += " build"
		}
		out = append(out, s)
	}
	return out
}

func TestFlowSuccess(t *testing.T) {
	_, def := generate(t, "cdk")
	f := &fakeAWS{comment: "ship it"}
	r := runFlow(t, def, smallInput("app"), f)
	if r.end != stSucceeded {
		t.Fatalf("ended in %s (%s: %s)", r.end, r.failError, r.failCause)
	}
	want := []string{
		"Pipeline Execution State Change STARTED",
		"Stage Execution State Change STARTED Build",
		"Stage Execution State Change SUCCEEDED Build build",
		"Stage Execution State Change STARTED Test",
		"Stage Execution State Change SUCCEEDED Test build",
		"Stage Execution State Change STARTED Approve",
		"Stage Execution State Change SUCCEEDED Approve",
		"Stage Execution State Change STARTED Deploy",
		"Stage Execution State Change SUCCEEDED Deploy build",
		"Pipeline Execution State Change SUCCEEDED",
	}
	if d := cmp.Diff(want, eventSummary(t, r)); d != "" {
		t.Errorf("events (-want +got):\n%s", d)
	}
	// The figure docs/state-machine.md quotes.
	if r.transitions != 18 {
		t.Errorf("success path of cdk.json: %d transitions, docs/state-machine.md says 18: %v", r.transitions, r.path)
	}
	t.Logf("cdk.json success: %d transitions, %d history events, largest state I/O %d bytes (%s)", r.transitions, r.history, r.maxIO, r.maxIOState)

	// Every build's primary source is the commit's snapshot.
	loc := func(stage string) string { return f.builds[stage]["SourceLocationOverride"].(string) }
	exec := testExecution
	src := "${ArtifactBucket}/app/" + exec + "/source.zip"
	if got := []string{loc("Build"), loc("Test"), loc("Deploy")}; !cmp.Equal(got, []string{src, src, src}) {
		t.Errorf("source locations: %v", got)
	}
	art := f.builds["Deploy"]["ArtifactsOverride"].(map[string]any)
	if art["Path"] != "app/"+exec || art["Name"] != "Deploy.zip" {
		t.Errorf("artifact: %v", art)
	}
}

func TestFlowExportedVariables(t *testing.T) {
	_, def := generate(t, "cdk")
	f := &fakeAWS{exports: 2}
	r := runFlow(t, def, smallInput("app"), f)
	if r.end != stSucceeded {
		t.Fatalf("ended in %s", r.end)
	}
	env := map[string]string{}
	for _, v := range f.builds["Deploy"]["EnvironmentVariablesOverride"].([]any) {
		m := v.(map[string]any)
		env[m["Name"].(string)] = m["Value"].(string)
	}
	var builds map[string]struct {
		Stage, BuildID, Status, LogsURL, Artifact string
		Variables                                 []struct{ Name, Value string }
	}
	if err := json.Unmarshal([]byte(env["PUSHLINE_BUILDS"]), &builds); err != nil {
		t.Fatalf("PUSHLINE_BUILDS %q: %v", env["PUSHLINE_BUILDS"], err)
	}
	if len(builds) != 2 || len(builds["Build"].Variables) != 2 || builds["Test"].Variables[1].Name != "VAR_1" || builds["Build"].Status != "SUCCEEDED" {
		t.Errorf("PUSHLINE_BUILDS = %s", env["PUSHLINE_BUILDS"])
	}
	for k, want := range map[string]string{
		"PUSHLINE_PIPELINE": "app", "PUSHLINE_STAGE": "Deploy", "PUSHLINE_REF": "refs/heads/main",
		"PUSHLINE_COMMIT": "9fceb02d0ae598e95dc970b74767f19372d61af8", "STAGE": "prod",
		"PUSHLINE_REPOSITORY": "acme/app", "PUSHLINE_EXECUTION": "arn:aws:states:us-east-1:000000000000:execution:pushline-app:main-9fceb02d0ae5-3c2f0e4a81b7",
	} {
		if env[k] != want {
			t.Errorf("%s = %q, want %q", k, env[k], want)
		}
	}
}

func TestFlowFailures(t *testing.T) {
	rejection := `{"approver":"ops@example.com","comment":"not today","decidedAt":"2026-11-27T09:00:00Z"}`
	tests := []struct {
		name      string
		config    string
		fail      func(f *fakeAWS) map[string]*taskError
		end       string
		error     string
		cause     string
		events    []string
		lastEvent string
	}{
		{
			name: "build failed", config: "cdk",
			fail: func(f *fakeAWS) map[string]*taskError { return map[string]*taskError{"Test": buildFailure(f, "Test")} },
			end:  stBuildFailed, error: ErrorBuildFailed,
			cause: "stage Test: build pushline-app-Test:0b7a1f5e-6c1d-4f34-9a8e-2d2b8f7d6a11 ended FAILED; logs: https://console.aws.amazon.com/cloudwatch/home?region=us-east-1#logsV2:log-groups/log-group/$252Faws$252Fcodebuild$252Fpushline-app-Test/log-events/0b7a1f5e-6c1d-4f34-9a8e-2d2b8f7d6a11",
			events: []string{
				"Stage Execution State Change FAILED Test build",
				"Pipeline Execution State Change FAILED Test build",
			},
		},
		{
			name: "last build failed", config: "cdk",
			fail: func(f *fakeAWS) map[string]*taskError {
				return map[string]*taskError{"Deploy": buildFailure(f, "Deploy")}
			},
			end: stBuildFailed, error: ErrorBuildFailed,
			events: []string{"Stage Execution State Change FAILED Deploy build", "Pipeline Execution State Change FAILED Deploy build"},
		},
		{
			name: "build not started", config: "cdk",
			fail: func(f *fakeAWS) map[string]*taskError {
				return map[string]*taskError{"Build": {Error: "CodeBuild.ResourceNotFoundException", Cause: str("Project cannot be found")}}
			},
			end: stFailed, error: "CodeBuild.ResourceNotFoundException", cause: "Build failed with CodeBuild.ResourceNotFoundException: Project cannot be found",
			events: []string{"Stage Execution State Change FAILED Build", "Pipeline Execution State Change FAILED Build"},
		},
		{
			name: "build cause not JSON", config: "cdk",
			fail: func(f *fakeAWS) map[string]*taskError {
				return map[string]*taskError{"Build": {Error: "States.TaskFailed", Cause: str("{truncated")}}
			},
			end: stFailed, error: "States.TaskFailed", cause: "Build failed with States.TaskFailed",
			events: []string{"Stage Execution State Change FAILED Build", "Pipeline Execution State Change FAILED Build"},
		},
		{
			name: "build cause JSON without build", config: "cdk",
			fail: func(f *fakeAWS) map[string]*taskError {
				return map[string]*taskError{"Build": {Error: "States.TaskFailed", Cause: str(`{"errorMessage":"x"}`)}}
			},
			end: stFailed, error: "States.TaskFailed", cause: "Build failed with States.TaskFailed: x",
			events: []string{"Stage Execution State Change FAILED Build", "Pipeline Execution State Change FAILED Build"},
		},
		{
			name: "approval rejected", config: "cdk",
			fail: func(f *fakeAWS) map[string]*taskError {
				return map[string]*taskError{"Approve": {Error: "Pushline.Rejected", Cause: &rejection}}
			},
			end: stFailed, error: "Pushline.Rejected", cause: "Approve failed with Pushline.Rejected: rejected by ops@example.com: not today",
			events: []string{"Stage Execution State Change FAILED Approve", "Pipeline Execution State Change FAILED Approve"},
		},
		{
			name: "approval rejected without a comment", config: "cdk",
			fail: func(f *fakeAWS) map[string]*taskError {
				return map[string]*taskError{"Approve": {Error: "Pushline.Rejected", Cause: str(`{"approver":"ops@example.com","comment":"","decidedAt":"2026-11-27T09:00:00Z"}`)}}
			},
			end: stFailed, error: "Pushline.Rejected", cause: "Approve failed with Pushline.Rejected: rejected by ops@example.com",
			events: []string{"Stage Execution State Change FAILED Approve", "Pipeline Execution State Change FAILED Approve"},
		},
		{
			name: "rejection without approver", config: "cdk",
			fail: func(f *fakeAWS) map[string]*taskError {
				return map[string]*taskError{"Approve": {Error: "Pushline.Rejected", Cause: str(`{"comment":"no"}`)}}
			},
			end: stFailed, error: "Pushline.Rejected", cause: "Approve failed with Pushline.Rejected",
			events: []string{"Stage Execution State Change FAILED Approve", "Pipeline Execution State Change FAILED Approve"},
		},
		{
			name: "rejection with a plain-text cause", config: "cdk",
			fail: func(f *fakeAWS) map[string]*taskError {
				return map[string]*taskError{"Approve": {Error: "Pushline.Rejected", Cause: str("rejected from the CLI")}}
			},
			end: stFailed, error: "Pushline.Rejected", cause: "Approve failed with Pushline.Rejected: rejected from the CLI",
			events: []string{"Stage Execution State Change FAILED Approve", "Pipeline Execution State Change FAILED Approve"},
		},
		{
			name: "rejection without a cause", config: "cdk",
			fail: func(f *fakeAWS) map[string]*taskError {
				return map[string]*taskError{"Approve": {Error: "Pushline.Rejected"}}
			},
			end: stFailed, error: "Pushline.Rejected", cause: "Approve failed with Pushline.Rejected",
			events: []string{"Stage Execution State Change FAILED Approve", "Pipeline Execution State Change FAILED Approve"},
		},
		{
			// (MailError is retried for minutes first: TestApprovalRetriesMail.)
			name: "notify function error", config: "cdk",
			fail: func(f *fakeAWS) map[string]*taskError {
				return map[string]*taskError{"Approve": {Error: "NotifyError", Cause: str(`{"errorMessage":"approval Approve: no approver to mail","errorType":"NotifyError"}`)}}
			},
			end: stFailed, error: "NotifyError", cause: "Approve failed with NotifyError: approval Approve: no approver to mail",
			events: []string{"Stage Execution State Change FAILED Approve", "Pipeline Execution State Change FAILED Approve"},
		},
		{
			name: "approval timed out", config: "cdk",
			fail: func(f *fakeAWS) map[string]*taskError {
				return map[string]*taskError{"Approve": {Error: "States.Timeout"}}
			},
			end: stApprovalTimed, error: ErrorApprovalTimedOut, cause: "stage Approve: no decision before the approval timed out",
			events: []string{
				"Approval State Change TIMED_OUT Approve",
				"Stage Execution State Change FAILED Approve",
				"Pipeline Execution State Change FAILED Approve",
			},
		},
		{
			name: "source failed", config: "cdk",
			fail: func(f *fakeAWS) map[string]*taskError {
				return map[string]*taskError{"Source": {Error: "Pushline.SourceNotFound", Cause: str(`{"errorMessage":"commit not found","errorType":"Pushline.SourceNotFound"}`)}}
			},
			end: stFailed, error: "Pushline.SourceNotFound", cause: "Source failed with Pushline.SourceNotFound: commit not found",
			events: []string{"Pipeline Execution State Change FAILED Source"},
		},
		{
			name: "source fetch failed", config: "cdk",
			fail: func(f *fakeAWS) map[string]*taskError {
				return map[string]*taskError{"Source": {Error: "FetchError", Cause: str(`{"errorMessage":"fetch github acme/app at 9fceb02 from https://codeload.github.com/acme/app/tar.gz/9fceb02d0ae598e95dc970b74767f19372d61af8: http 404: repository or commit not found","errorType":"FetchError","stackTrace":[]}`)}}
			},
			end: stFailed, error: "FetchError",
			cause:  "Source failed with FetchError: fetch github acme/app at 9fceb02 from https://codeload.github.com/acme/app/tar.gz/9fceb02d0ae598e95dc970b74767f19372d61af8: http 404: repository or commit not found",
			events: []string{"Pipeline Execution State Change FAILED Source"},
		},
		{
			name: "source error without errorMessage", config: "cdk",
			fail: func(f *fakeAWS) map[string]*taskError {
				return map[string]*taskError{"Source": {Error: "Runtime.ExitError", Cause: str(`{"errorType":"Runtime.ExitError"}`)}}
			},
			end: stFailed, error: "Runtime.ExitError", cause: "Source failed with Runtime.ExitError",
			events: []string{"Pipeline Execution State Change FAILED Source"},
		},
		{
			name: "source error cause truncated", config: "cdk",
			fail: func(f *fakeAWS) map[string]*taskError {
				return map[string]*taskError{"Source": {Error: "FetchError", Cause: str(`{"errorMessage":"` + strings.Repeat("x", 32768-17))}}
			},
			end: stFailed, error: "FetchError", cause: "Source failed with FetchError",
			events: []string{"Pipeline Execution State Change FAILED Source"},
		},
		{
			name: "queue gate failed", config: "queued",
			fail: func(f *fakeAWS) map[string]*taskError {
				return map[string]*taskError{stQueue: {Error: "Lambda.Unknown"}}
			},
			end: stFailed, error: "Lambda.Unknown", cause: "Queue failed with Lambda.Unknown",
			events: []string{"Pipeline Execution State Change FAILED Queue"},
		},
		{
			name: "queue gate failed with an empty cause", config: "queued",
			fail: func(f *fakeAWS) map[string]*taskError {
				return map[string]*taskError{stQueue: {Error: "Lambda.Unknown", Cause: str("")}}
			},
			end: stFailed, error: "Lambda.Unknown", cause: "Queue failed with Lambda.Unknown",
			events: []string{"Pipeline Execution State Change FAILED Queue"},
		},
		{
			name: "event bus down", config: "cdk",
			fail: func(f *fakeAWS) map[string]*taskError {
				return map[string]*taskError{"*events*": {Error: "EventBridge.ResourceNotFoundException", Cause: str("Event bus pushline-app does not exist.")}}
			},
			end: stFailed, error: "EventBridge.ResourceNotFoundException", cause: "Start failed with EventBridge.ResourceNotFoundException: Event bus pushline-app does not exist.",
			events: []string{"Pipeline Execution State Change FAILED Start"},
		},
		{
			name: "success event failed", config: "cdk",
			fail: func(f *fakeAWS) map[string]*taskError {
				return map[string]*taskError{"Test: succeeded": {Error: "EventBridge.ResourceNotFoundException", Cause: str("Event bus pushline-app does not exist.")}}
			},
			end: stFailed, error: "EventBridge.ResourceNotFoundException", cause: "Test failed with EventBridge.ResourceNotFoundException: Event bus pushline-app does not exist.",
			events: []string{"Stage Execution State Change FAILED Test", "Pipeline Execution State Change FAILED Test"},
		},
		{
			name: "first stage is an approval", config: "inputs",
			fail: func(f *fakeAWS) map[string]*taskError {
				return map[string]*taskError{"Gate": {Error: "States.Timeout"}}
			},
			end: stApprovalTimed, error: ErrorApprovalTimedOut,
			events: []string{
				"Approval State Change TIMED_OUT Gate",
				"Stage Execution State Change FAILED Gate",
				"Pipeline Execution State Change FAILED Gate",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, def := generate(t, tt.config)
			f := &fakeAWS{}
			f.t = t
			f.failAt = tt.fail(f)
			r := runFlow(t, def, smallInput("app"), f)
			if r.end != tt.end || r.failError != tt.error {
				t.Fatalf("ended in %s with %s (%s), want %s with %s", r.end, r.failError, r.failCause, tt.end, tt.error)
			}
			if tt.cause != "" && r.failCause != tt.cause {
				t.Errorf("cause %q, want %q", r.failCause, tt.cause)
			}
			got := eventSummary(t, r)
			if len(got) < len(tt.events) {
				t.Fatalf("events %v", got)
			}
			if d := cmp.Diff(tt.events, got[len(got)-len(tt.events):]); d != "" {
				t.Errorf("last events (-want +got):\n%s", d)
			}
		})
	}
}

func TestFlowQueued(t *testing.T) {
	_, def := generate(t, "queued")
	// The gate's waits double from 10 s to 320 s: the test does not wait
	// them out (26 minutes) but reads each wait's seconds from the input
	// of "Queue: wait", whose SecondsPath is replaced by no wait at all.
	def = bytes.Replace(def, []byte(`"SecondsPath": "$.queueWait.seconds"`), []byte(`"Seconds": 0`), 1)
	f := &fakeAWS{queueWait: 8}
	r := runFlow(t, def, smallInput("queue"), f)
	if r.end != stSucceeded {
		t.Fatalf("ended in %s", r.end)
	}
	n := 0
	for _, p := range r.path {
		if p == stQueueWait {
			n++
		}
	}
	if n != 8 || f.queueSeen != 9 {
		t.Errorf("waited %d times, asked the queue %d times", n, f.queueSeen)
	}
	var waits []float64
	for i, p := range r.path {
		if p == stQueueWait {
			waits = append(waits, r.waits[i])
		}
	}
	if d := cmp.Diff([]float64{10, 20, 40, 80, 160, 320, 320, 320}, waits); d != "" {
		t.Errorf("waits (-want +got):\n%s", d)
	}
	if got := r.output.(map[string]any)["queueWait"].(map[string]any)["seconds"]; got != float64(320) {
		t.Errorf("last wait %v s, want 320 (10 s doubled up to 320 s)", got)
	}
}

// TestLimits measures, for every example config, the worst-case history
// of a run (every task retried to its limit, then a failure at the last
// stage) against Step Functions' 25,000 events, and the largest state
// input/output with a huge push, big builds and long comments against
// 256 KiB.
func TestLimits(t *testing.T) {
	for name, cfg := range configs(t) {
		t.Run(name, func(t *testing.T) {
			def, _ := Generate(cfg)
			if len(def) > 1<<20 {
				t.Errorf("definition %d bytes, over Step Functions' 1 MiB", len(def))
			}
			// Every build exports 5 variables of 128 bytes (a version, an
			// image digest, a URL...); exported variables are the one input
			// that grows the state with the number of stages (see
			// TestExportedVariablesGrowth). A pipeline of more than 40
			// builds (wide: 20 stages of 5 actions) spends the documented
			// budget differently: one variable of 128 bytes each.
			exports := 5
			if len(cfg.Builds()) > 40 {
				exports = 1
			}
			f := &fakeAWS{exports: exports, exportLen: 128, comment: strings.Repeat("c", 4096)}
			r := runFlow(t, def, hugeInput(cfg.Name), f)
			if r.end != stSucceeded {
				t.Fatalf("ended in %s", r.end)
			}
			// Worst case: each task entered fails transiently up to every
			// retrier's MaxAttempts (retriers count separately; 3 events a
			// retry), and the last stage fails instead of succeeding.
			sts := definitionStates(t, def)
			retries := 0
			for _, st := range r.path {
				for _, rt := range asSlice(sts[st]["Retry"]) {
					retries += int(rt.(map[string]any)["MaxAttempts"].(float64)) * 3
				}
			}
			builds := cfg.Builds()
			last := builds[len(builds)-1].Name
			ff := &fakeAWS{exports: exports, exportLen: 128, comment: strings.Repeat("c", 4096)}
			ff.failAt = map[string]*taskError{last: buildFailure(ff, last)}
			fr := runFlow(t, def, hugeInput(cfg.Name), ff)
			worst := max(r.history, fr.history) + retries
			if fr.end != stBuildFailed {
				t.Errorf("failing %s: ended in %s", last, fr.end)
			}
			// The margins: a tenth of the history limit and a third of the
			// state limit, except for wide (a third and a half).
			historyMargin, ioMargin := 10, 3
			if len(builds) > 40 {
				historyMargin, ioMargin = 3, 2
			}
			const historyLimit = 25000
			if worst > historyLimit/historyMargin {
				t.Errorf("worst-case history %d events, want far below %d", worst, historyLimit)
			}
			const ioLimit = 256 << 10
			biggest := max(r.maxIO, fr.maxIO)
			if biggest > ioLimit/ioMargin {
				t.Errorf("largest state I/O %d bytes (%s), want far below %d", biggest, r.maxIOState, ioLimit)
			}
			t.Logf("%s: %d stages; success path %d transitions, %d history events; worst-case history %d events; largest state I/O %d bytes (%s); definition %d bytes",
				name, len(cfg.Stages), r.transitions, r.history, worst, biggest, r.maxIOState, len(def))
		})
	}
}

// TestExportedVariablesGrowth measures how the largest state grows with
// the bytes of exported variables: the budget docs/state-machine.md gives.
func TestExportedVariablesGrowth(t *testing.T) {
	_, def := generate(t, "many")
	size := func(exports int) (int, int) {
		f := &fakeAWS{exports: exports, exportLen: 100, comment: strings.Repeat("c", 4096)}
		r := runFlow(t, def, hugeInput("many-stages-pipeline"), f)
		return r.maxIO, 21 * exports * 100 // 21 build stages
	}
	base, _ := size(0)
	grown, exported := size(10)
	slope := float64(grown-base) / float64(exported)
	t.Logf("many: largest state %d bytes without exported variables; +%.2f bytes per exported byte (%d bytes exported → %d)", base, slope, exported, grown)
	if slope > 3 {
		t.Errorf("state grows %.2f bytes per exported byte", slope)
	}
}

// TestFailureCauseSize: the execution's cause stays small for the largest
// rejection the approval page accepts (the longest address, a comment of
// approval.MaxComment characters), far below Step Functions' 32,768.
func TestFailureCauseSize(t *testing.T) {
	if errorRejected != approval.ErrorRejected {
		t.Fatalf("errorRejected %q, approval.ErrorRejected %q", errorRejected, approval.ErrorRejected)
	}
	approver := strings.Repeat("a", 64) + "@" + strings.Repeat("b", 185) + ".com" // 254 characters
	cause, _ := json.Marshal(approval.Rejection{Approver: approver, Comment: strings.Repeat("é", approval.MaxComment), DecidedAt: "2026-11-27T09:00:00Z"})
	_, def := generate(t, "cdk")
	f := &fakeAWS{}
	f.failAt = map[string]*taskError{"Approve": {Error: approval.ErrorRejected, Cause: str(string(cause))}}
	r := runFlow(t, def, hugeInput("app"), f)
	if r.end != stFailed || !strings.HasPrefix(r.failCause, "Approve failed with Pushline.Rejected: rejected by "+approver+": éé") {
		t.Fatalf("ended in %s: %s", r.end, r.failCause)
	}
	n := utf8.RuneCountInString(r.failCause)
	t.Logf("largest rejection: cause of %d characters (%d bytes)", n, len(r.failCause))
	if n > 4096 {
		t.Errorf("cause of %d characters, want at most 4096", n)
	}
}

// TestApprovalRetriesMail: an approval whose mail could not be sent is
// retried with backoff before its Catch; a rejection or a timeout is not.
func TestApprovalRetriesMail(t *testing.T) {
	_, def := generate(t, "cdk")
	var d struct {
		States map[string]struct {
			Retry []struct {
				ErrorEquals                                   []string
				IntervalSeconds, MaxAttempts, MaxDelaySeconds int
				BackoffRate                                   float64
				JitterStrategy                                string
			}
		}
	}
	if err := json.Unmarshal(def, &d); err != nil {
		t.Fatal(err)
	}
	retry := d.States["Approve"].Retry
	var mail []string
	for _, r := range retry {
		for _, e := range r.ErrorEquals {
			if e == "States.ALL" || e == "States.Timeout" || e == approval.ErrorRejected || e == "States.TaskFailed" {
				t.Errorf("Approve retries %s", e)
			}
			if e == ErrorMail {
				mail = append(mail, fmt.Sprintf("%d s x%g, %d attempts, max %d s, %s", r.IntervalSeconds, r.BackoffRate, r.MaxAttempts, r.MaxDelaySeconds, r.JitterStrategy))
			}
		}
	}
	if d := cmp.Diff([]string{"30 s x2, 5 attempts, max 300 s, FULL"}, mail); d != "" {
		t.Errorf("MailError retry (-want +got):\n%s", d)
	}
}
