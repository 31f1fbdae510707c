package codebuild

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The Parameters of the codebuild:startBuild.sync task as the state machine
// sends them (after path substitution).
const sfnParameters = `{
  "ProjectName": "pushline-app-Build",
  "SourceTypeOverride": "S3",
  "SourceLocationOverride": "art/app/exec1/source.zip",
  "BuildspecOverride": "buildspec.yml",
  "ArtifactsOverride": {"Type": "S3", "Location": "art", "Path": "app/exec1", "Name": "Build.zip", "Packaging": "ZIP", "NamespaceType": "NONE"},
  "EnvironmentVariablesOverride": [{"Name": "PUSHLINE_STAGE", "Value": "Build", "Type": "PLAINTEXT"}],
  "TimeoutInMinutesOverride": 30,
  "SecondarySourcesOverride": [{"SourceIdentifier": "Unit_Tests", "Type": "S3", "Location": "art/app/exec1/Unit-Tests.zip"}]
}`

func TestStartBuildInputDecoding(t *testing.T) {
	want := StartBuildInput{
		ProjectName:                  "pushline-app-Build",
		SourceTypeOverride:           "S3",
		SourceLocationOverride:       "art/app/exec1/source.zip",
		BuildspecOverride:            "buildspec.yml",
		ArtifactsOverride:            &ArtifactsOverride{Type: "S3", Location: "art", Path: "app/exec1", Name: "Build.zip", Packaging: "ZIP", NamespaceType: "NONE"},
		EnvironmentVariablesOverride: []EnvironmentVariable{{Name: "PUSHLINE_STAGE", Value: "Build", Type: "PLAINTEXT"}},
		TimeoutInMinutesOverride:     30,
		SecondarySourcesOverride:     []Source{{SourceIdentifier: "Unit_Tests", Type: "S3", Location: "art/app/exec1/Unit-Tests.zip"}},
	}
	camel := `{"projectName":"pushline-app-Build","sourceTypeOverride":"S3","sourceLocationOverride":"art/app/exec1/source.zip",
	  "buildspecOverride":"buildspec.yml","artifactsOverride":{"type":"S3","location":"art","path":"app/exec1","name":"Build.zip","packaging":"ZIP","namespaceType":"NONE"},
	  "environmentVariablesOverride":[{"name":"PUSHLINE_STAGE","value":"Build","type":"PLAINTEXT"}],"timeoutInMinutesOverride":30,
	  "secondarySourcesOverride":[{"sourceIdentifier":"Unit_Tests","type":"S3","location":"art/app/exec1/Unit-Tests.zip"}]}`
	for name, in := range map[string]string{"pascal": sfnParameters, "camel": camel} {
		t.Run(name, func(t *testing.T) {
			var got StartBuildInput
			if err := json.Unmarshal([]byte(in), &got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func sampleBuild() *Build {
	start := time.UnixMilli(1795000000123).UTC()
	end := start.Add(3 * time.Second)
	d := int64(3)
	return &Build{
		Id: "Build:0f0e", Arn: "arn:aws:codebuild:us-east-1:000000000000:build/Build:0f0e", BuildNumber: 4,
		StartTime: newTime(start), EndTime: newTime(end), CurrentPhase: PhaseCompleted, BuildStatus: StatusFailed,
		ProjectName: "Build",
		Phases: []Phase{
			{PhaseType: PhaseBuild, PhaseStatus: StatusFailed, StartTime: newTime(start), EndTime: newTime(end), DurationInSeconds: &d,
				Contexts: []PhaseContext{{StatusCode: "COMMAND_EXECUTION_ERROR", Message: "Error while executing command: false. Reason: exit status 1"}}},
			{PhaseType: PhaseCompleted, StartTime: newTime(end)},
		},
		Source:           Source{Type: "S3", Location: "art/src.zip", Buildspec: "buildspec.yml"},
		Environment:      Environment{Type: "LINUX_CONTAINER", Image: "local", ComputeType: "BUILD_GENERAL1_SMALL", ImagePullCredentialsType: "CODEBUILD"},
		Logs:             Logs{GroupName: "/aws/codebuild/Build", StreamName: "0f0e", DeepLink: "http://127.0.0.1:8080/builds/Build:0f0e"},
		TimeoutInMinutes: 60, QueuedTimeoutInMinutes: 480, BuildComplete: true, Initiator: "pushline-local",
	}
}

func TestBuildJSON(t *testing.T) {
	b := sampleBuild()
	name, cause := b.Failure()
	if name != "States.TaskFailed" {
		t.Errorf("error name %q", name)
	}
	wantCause := `{"Build":{"Id":"Build:0f0e","Arn":"arn:aws:codebuild:us-east-1:000000000000:build/Build:0f0e","BuildNumber":4,` +
		`"StartTime":1795000000123,"EndTime":1795000003123,"CurrentPhase":"COMPLETED","BuildStatus":"FAILED","ProjectName":"Build",` +
		`"Phases":[{"PhaseType":"BUILD","PhaseStatus":"FAILED","StartTime":1795000000123,"EndTime":1795000003123,"DurationInSeconds":3,` +
		`"Contexts":[{"StatusCode":"COMMAND_EXECUTION_ERROR","Message":"Error while executing command: false. Reason: exit status 1"}]},` +
		`{"PhaseType":"COMPLETED","StartTime":1795000003123}],"Source":{"Type":"S3","Location":"art/src.zip","Buildspec":"buildspec.yml"},` +
		`"Artifacts":{},"Environment":{"Type":"LINUX_CONTAINER","Image":"local","ComputeType":"BUILD_GENERAL1_SMALL","EnvironmentVariables":null,` +
		`"PrivilegedMode":false,"ImagePullCredentialsType":"CODEBUILD"},"Logs":{"GroupName":"/aws/codebuild/Build","StreamName":"0f0e",` +
		`"DeepLink":"http://127.0.0.1:8080/builds/Build:0f0e"},"TimeoutInMinutes":60,"QueuedTimeoutInMinutes":480,"BuildComplete":true,"Initiator":"pushline-local"}}`
	if cause != wantCause {
		t.Errorf("cause\n got: %s\nwant: %s", cause, wantCause)
	}
	out, err := b.Output()
	if err != nil || string(out) != wantCause {
		t.Errorf("Output() = %s, %v", out, err)
	}
	// the cause decodes back to the same build
	var back struct{ Build *Build }
	if err := json.Unmarshal([]byte(cause), &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(b, back.Build); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}

	api, err := b.APIJSON()
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	json.Unmarshal(api, &m)
	for key, want := range map[string]any{"id": "Build:0f0e", "buildStatus": "FAILED", "startTime": 1795000000.123, "buildComplete": true} {
		if m[key] != want {
			t.Errorf("api %s = %v, want %v", key, m[key], want)
		}
	}
	ph := m["phases"].([]any)[0].(map[string]any)
	if ph["phaseType"] != "BUILD" || ph["durationInSeconds"] != 3.0 || ph["endTime"] != 1795000003.123 {
		t.Errorf("api phase %v", ph)
	}
	if m["logs"].(map[string]any)["deepLink"] != "http://127.0.0.1:8080/builds/Build:0f0e" {
		t.Errorf("api logs %v", m["logs"])
	}

	b.BuildStatus = StatusSucceeded
	if name, cause := b.Failure(); name != "" || cause != "" {
		t.Errorf("Failure() of a succeeded build = %q, %q", name, cause)
	}
}

func apiCall(t *testing.T, h http.Handler, op, body string) (int, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	req.Header.Set("X-Amz-Target", "CodeBuild_20161006."+op)
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	data, _ := io.ReadAll(rec.Body)
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("%s answer is not JSON: %s", op, data)
	}
	return rec.Code, m
}

func TestHandler(t *testing.T) {
	h := newHarness(t)
	b, _ := h.run("version: 0.2\nphases:\n  build:\n    commands: [\"echo hi\"]\n", nil, nil)
	api := h.r.Handler()

	code, m := apiCall(t, api, "BatchGetBuilds", `{"ids":["`+b.Id+`","Build:missing","`+b.Arn+`"]}`)
	if code != 200 {
		t.Fatalf("BatchGetBuilds %d %v", code, m)
	}
	builds := m["builds"].([]any)
	if len(builds) != 2 || builds[0].(map[string]any)["buildStatus"] != "SUCCEEDED" || builds[1].(map[string]any)["id"] != b.Id {
		t.Errorf("builds %v", builds)
	}
	if diff := cmp.Diff([]any{"Build:missing"}, m["buildsNotFound"]); diff != "" {
		t.Errorf("buildsNotFound (-want +got):\n%s", diff)
	}

	code, m = apiCall(t, api, "StartBuild", `{"projectName":"Other","sourceTypeOverride":"NO_SOURCE","buildspecOverride":"version: 0.2\nphases:\n  build:\n    commands: [\"true\"]\n"}`)
	if code != 200 {
		t.Fatalf("StartBuild %d %v", code, m)
	}
	other := m["build"].(map[string]any)["id"].(string)
	if _, err := h.r.Wait(context.Background(), other); err != nil {
		t.Fatal(err)
	}

	code, m = apiCall(t, api, "ListBuildsForProject", `{"projectName":"Build"}`)
	if code != 200 || cmp.Diff([]any{b.Id}, m["ids"]) != "" {
		t.Errorf("ListBuildsForProject %d %v", code, m)
	}
	code, m = apiCall(t, api, "ListBuilds", `{"sortOrder":"ASCENDING"}`)
	if code != 200 || cmp.Diff([]any{b.Id, other}, m["ids"]) != "" {
		t.Errorf("ListBuilds %d %v", code, m)
	}
	code, m = apiCall(t, api, "StopBuild", `{"id":"`+other+`"}`)
	if code != 200 || m["build"].(map[string]any)["buildStatus"] != "SUCCEEDED" {
		t.Errorf("StopBuild of an ended build %d %v", code, m)
	}

	errs := []struct {
		op, body, typ string
		code          int
	}{
		{"BatchGetBuilds", `{"ids":[]}`, "InvalidInputException", 400},
		{"BatchGetBuilds", `{"ids":`, "SerializationException", 400},
		{"ListBuildsForProject", `{}`, "InvalidInputException", 400},
		{"ListBuilds", `{"sortOrder":"SIDEWAYS"}`, "InvalidInputException", 400},
		{"ListBuilds", `{"nextToken":"x"}`, "InvalidInputException", 400},
		{"StartBuild", `{"projectName":"x y"}`, "InvalidInputException", 400},
		{"StopBuild", `{"id":"Build:nope"}`, "ResourceNotFoundException", 400},
		{"StopBuild", `{}`, "InvalidInputException", 400},
		{"DeleteProject", `{}`, "UnknownOperationException", 400},
	}
	for _, e := range errs {
		t.Run(e.op+" "+e.typ, func(t *testing.T) {
			code, m := apiCall(t, api, e.op, e.body)
			if code != e.code || m["__type"] != e.typ || m["message"] == "" {
				t.Errorf("%s %s: %d %v", e.op, e.body, code, m)
			}
		})
	}
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	rec := httptest.NewRecorder()
	api.ServeHTTP(rec, req)
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d", rec.Code)
	}
	if IsAPIRequest(httptest.NewRequest(http.MethodPost, "/", nil)) {
		t.Error("IsAPIRequest true without a target")
	}
}

func TestClose(t *testing.T) {
	h := newHarness(t)
	b := h.start("version: 0.2\nphases:\n  build:\n    commands: [\"sleep 1000\"]\n", nil, nil)
	waitFor(t, "BUILD", func() bool { return h.r.BatchGetBuilds([]string{b.Id})[0].CurrentPhase == PhaseBuild })
	if err := h.r.Close(); err != nil {
		t.Fatal(err)
	}
	got := h.r.BatchGetBuilds([]string{b.Id})[0]
	if got.BuildStatus != StatusFault || phaseSummary(got)[6] != "BUILD FAULT BUILD_INTERRUPTED" {
		t.Errorf("after Close: %s %v", got.BuildStatus, phaseSummary(got))
	}
	if _, err := h.r.StartBuild(context.Background(), StartBuildInput{ProjectName: "Build", SourceLocationOverride: "a/b"}); err != ErrClosed {
		t.Errorf("StartBuild after Close: %v", err)
	}
	// the record on disk says the same
	r2 := New(Options{Dir: h.dir})
	if got := r2.BatchGetBuilds([]string{b.Id}); len(got) != 1 || got[0].BuildStatus != StatusFault {
		t.Errorf("reloaded: %v", got)
	}
}

// BenchmarkTrivialBuild measures a whole build of `echo hi`, from StartBuild
// to SUCCEEDED (source download, shell start, phases, records, cleanup).
func BenchmarkTrivialBuild(b *testing.B) {
	objects := &memObjects{m: map[string][]byte{}}
	zip := makeZip(b, map[string]file{"buildspec.yml": {body: "version: 0.2\nphases:\n  build:\n    commands:\n      - echo hi\n"}})
	objects.m["art/src.zip"] = zip
	r := New(Options{Dir: b.TempDir(), Objects: objects})
	defer r.Close()
	in := StartBuildInput{ProjectName: "Bench", SourceLocationOverride: "art/src.zip"}
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		started, err := r.StartBuild(ctx, in)
		if err != nil {
			b.Fatal(err)
		}
		done, err := r.Wait(ctx, started.Id)
		if err != nil || done.BuildStatus != StatusSucceeded {
			b.Fatalf("build %v %v", done, err)
		}
	}
}

func TestLogHandler(t *testing.T) {
	h := newHarness(t)
	b, _ := h.run("version: 0.2\nphases:\n  build:\n    commands: [\"echo from-the-build\"]\n", nil, nil)
	srv := httptest.NewServer(http.StripPrefix("/builds", h.r.LogHandler()))
	defer srv.Close()
	res, err := http.Get(srv.URL + "/builds/" + b.Id)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(body), "\nfrom-the-build\n") || res.Header.Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Errorf("GET log: %d %q\n%s", res.StatusCode, res.Header.Get("Content-Type"), body)
	}
	res, err = http.Get(srv.URL + "/builds/Build:nope")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 404 {
		t.Errorf("unknown build: %d", res.StatusCode)
	}
	res, err = http.Post(srv.URL+"/builds/"+b.Id, "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 405 {
		t.Errorf("POST: %d", res.StatusCode)
	}
}
