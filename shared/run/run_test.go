package run

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pushline/pushline/shared/config"
	"github.com/pushline/pushline/shared/push"
)

const failedName = "main-604695561b40-abf6de373ec7"

func testConfig(t *testing.T) *config.Config {
	t.Helper()
	cfg, err := config.Parse([]byte(`{"name":"app","repositories":[{"provider":"github","repository":"acme/app","branches":["main"]}],
"stages":[{"name":"Build","buildspec":"buildspec.yml"},{"name":"Test","buildspec":"buildspec-test.yml"},
{"name":"Approve","approval":{"approvers":["ops@example.com"],"timeout":"1h"}},{"name":"Deploy","buildspec":"buildspec-deploy.yml"}],
"notifications":{"from":"pushline@example.com","failures":["team@example.com"]}}`))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestGetFailedBuild(t *testing.T) {
	_, c := newRecorded(t, "failed-build")
	rs := &Runs{SFN: c, StateMachine: machine, Config: testConfig(t)}
	r, err := rs.Get(context.Background(), failedName)
	if err != nil {
		t.Fatal(err)
	}
	type row struct{ Name, Kind, State, Build string }
	var got []row
	for _, st := range r.Stages {
		b := ""
		if st.Build != nil {
			b = st.Build.Status
		}
		got = append(got, row{st.Name, st.Kind, st.State, b})
	}
	want := []row{
		{"Source", KindSource, StageSucceeded, ""},
		{"Build", KindBuild, StageSucceeded, "SUCCEEDED"},
		{"Test", KindBuild, StageFailed, "FAILED"},
		{"Approve", KindApproval, StageNotRun, ""},
		{"Deploy", KindBuild, StageNotRun, ""},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("stages (-want +got):\n%s", diff)
	}
	if r.Status != Failed || r.FailedStage != "Test" || r.Trigger != push.TriggerPush || r.Attempt != 1 {
		t.Errorf("status %s failed stage %q trigger %s attempt %d", r.Status, r.FailedStage, r.Trigger, r.Attempt)
	}
	if !strings.HasPrefix(r.Cause, "build app-Test:") || !strings.HasSuffix(r.Cause, "ended FAILED in DOWNLOAD_SOURCE: buildspec-test.yml: the buildspec file does not exist in the source") {
		t.Errorf("cause %q", r.Cause)
	}
	if r.Commit.Title() != "Add the app" || r.Commit.Branch != "main" || r.Commit.Repository != "acme/app" {
		t.Errorf("commit %+v", r.Commit)
	}
	var arts []string
	for _, a := range r.Artifacts {
		arts = append(arts, a.Stage+" "+a.Key)
	}
	if diff := cmp.Diff([]string{"Source app/" + failedName + "/source.zip", "Build app/" + failedName + "/Build.zip"}, arts); diff != "" {
		t.Errorf("artifacts (-want +got):\n%s", diff)
	}
	if st := r.Stage("test"); st == nil || st.Build == nil || st.Build.LogStream == "" || st.Build.LogGroup != "/aws/codebuild/app-Test" {
		t.Errorf("test stage build %+v", st)
	}
	if len(r.Attempts) != 1 || r.Attempts[0].Name != failedName {
		t.Errorf("attempts %+v", r.Attempts)
	}
}

func TestGetUnknown(t *testing.T) {
	_, c := newRecorded(t, "failed-build")
	rs := &Runs{SFN: c, StateMachine: machine}
	for _, id := range []string{"nope", "../etc", "arn:aws:states:us-east-1:1:execution:other:x", strings.Repeat("a", 81), ""} {
		if _, err := rs.Get(context.Background(), id); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get(%q) = %v, want ErrNotFound", id, err)
		}
	}
}

func TestRetry(t *testing.T) {
	rec, c := newRecorded(t, "failed-build")
	rs := &Runs{SFN: c, StateMachine: machine, Config: testConfig(t)}
	got, err := rs.Retry(context.Background(), failedName, "dee")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&Started{ARN: strings.Replace(machine, ":stateMachine:", ":execution:", 1) + ":" + failedName + "-r2", Name: failedName + "-r2", Attempt: 2, Stage: "Test"}, got); diff != "" {
		t.Errorf("started (-want +got):\n%s", diff)
	}
	if len(rec.started) != 1 {
		t.Fatalf("%d StartExecution calls", len(rec.started))
	}
	var in map[string]json.RawMessage
	if err := json.Unmarshal([]byte(rec.started[0]["input"].(string)), &in); err != nil {
		t.Fatal(err)
	}
	var run push.Run
	var resume push.Resume
	json.Unmarshal(in["run"], &run)
	json.Unmarshal(in["resume"], &resume)
	want := push.Run{Trigger: push.TriggerRetry, By: "dee", Attempt: 2, RetryOf: strings.Replace(machine, ":stateMachine:", ":execution:", 1) + ":" + failedName}
	if diff := cmp.Diff(want, run); diff != "" {
		t.Errorf("run (-want +got):\n%s", diff)
	}
	if resume.Stage != "Test" {
		t.Errorf("resume %+v", resume)
	}
	for _, k := range []string{"request"} {
		if _, ok := in[k]; ok {
			t.Errorf("input keeps %s", k)
		}
	}
	for _, k := range []string{"pipeline", "push", "source", "builds"} {
		if _, ok := in[k]; !ok {
			t.Errorf("input lacks %s (the data the run carried into Test)", k)
		}
	}
	if !strings.Contains(string(in["builds"]), `"Build"`) {
		t.Errorf("builds %s lacks the Build stage's record", in["builds"])
	}
}

func TestRerun(t *testing.T) {
	rec, c := newRecorded(t, "failed-build")
	rs := &Runs{SFN: c, StateMachine: machine, Config: testConfig(t)}
	got, err := rs.Rerun(context.Background(), failedName, "dee")
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != failedName+"-r2" || got.Stage != "" {
		t.Errorf("started %+v", got)
	}
	var in map[string]json.RawMessage
	json.Unmarshal([]byte(rec.started[0]["input"].(string)), &in)
	if _, ok := in["resume"]; ok {
		t.Error("a rerun resumes")
	}
	if _, ok := in["builds"]; ok {
		t.Error("a rerun carries builds")
	}
	if !strings.Contains(string(in["run"]), `"trigger":"rerun"`) {
		t.Errorf("run %s", in["run"])
	}
}

func TestRefused(t *testing.T) {
	for _, tc := range []struct {
		status string
		op     string
		want   error
	}{
		{Running, "retry", ErrRunning},
		{Running, "rerun", ErrRunning},
		{Succeeded, "retry", ErrSucceeded},
	} {
		t.Run(tc.op+" "+tc.status, func(t *testing.T) {
			rec, c := newRecorded(t, "failed-build")
			rec.status = tc.status
			rs := &Runs{SFN: c, StateMachine: machine, Config: testConfig(t)}
			f := rs.Retry
			if tc.op == "rerun" {
				f = rs.Rerun
			}
			if _, err := f(context.Background(), failedName, "dee"); !errors.Is(err, tc.want) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
			if len(rec.started) != 0 {
				t.Error("started an execution")
			}
		})
	}
}

func TestBaseAndAttemptName(t *testing.T) {
	for _, tc := range []struct {
		name, base string
		n          int
	}{
		{"main-abc-def", "main-abc-def", 1},
		{"main-abc-def-r2", "main-abc-def", 2},
		{"main-abc-def-r12", "main-abc-def", 12},
		{"x-r1", "x-r1", 1},
		{"x-r0", "x-r0", 1},
	} {
		b, n := Base(tc.name)
		if b != tc.base || n != tc.n {
			t.Errorf("Base(%q) = %q, %d", tc.name, b, n)
		}
	}
	long := strings.Repeat("a", 80)
	if got := AttemptName(long, 3); len(got) != 80 || !strings.HasSuffix(got, "-r3") {
		t.Errorf("AttemptName = %q", got)
	}
}

func TestCauseInWords(t *testing.T) {
	for in, want := range map[string]string{
		"Approve failed with Pushline.Rejected: rejected by ops@example.com: not today": "rejected by ops@example.com: not today",
		"stage Test: build app-Test:1 ended FAILED; logs: http://x/builds/1":            "build app-Test:1 ended FAILED",
		"stage Approve: no decision before the approval timed out":                      "no decision before the approval timed out",
		`{"errorMessage":"x"}`: "",
		"plain words":          "plain words",
	} {
		if got := causeInWords(in); got != want {
			t.Errorf("causeInWords(%q) = %q, want %q", in, got, want)
		}
	}
}
