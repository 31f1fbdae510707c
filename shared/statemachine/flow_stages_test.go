package statemachine

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pushline/pushline/shared/push"
)

// env returns a build's environment variables by name.
func env(f *fakeAWS, build string) map[string]string {
	out := map[string]string{}
	for _, v := range f.builds[build]["EnvironmentVariablesOverride"].([]any) {
		m := v.(map[string]any)
		out[m["Name"].(string)] = m["Value"].(string)
	}
	return out
}

// TestFlowSources: every build's primary source is the commit's
// snapshot and its buildspec is read from it; inputs are secondary
// sources named after the input, located at its artifact.
func TestFlowSources(t *testing.T) {
	loc := func(pipeline, file string) string {
		return "${ArtifactBucket}/" + pipeline + "/" + testExecution + "/" + file
	}
	secondary := func(pipeline string, inputs ...string) []any {
		var out []any
		for _, in := range inputs {
			out = append(out, map[string]any{"SourceIdentifier": strings.ReplaceAll(in, "-", "_"), "Type": "S3", "Location": loc(pipeline, in+".zip")})
		}
		return out
	}
	tests := []struct {
		config string
		want   map[string][]any // build -> SecondarySourcesOverride
	}{
		{"cdk", map[string][]any{"Build": nil, "Test": nil, "Deploy": nil}},
		{"inputs", map[string][]any{"compile": nil, "lint-code": nil, "package_zip": secondary("inputs", "compile"), "Deploy": secondary("inputs", "compile", "package_zip")}},
		{"actions", map[string][]any{"Build": nil, "Unit": secondary("actions", "Build"), "Lint": nil, "e2e-tests": secondary("actions", "Build"), "Deploy": secondary("actions", "Build", "e2e-tests")}},
	}
	for _, tt := range tests {
		t.Run(tt.config, func(t *testing.T) {
			cfg, def := generate(t, tt.config)
			f := &fakeAWS{}
			r := runFlow(t, def, smallInput(cfg.Name), f)
			if r.end != stSucceeded {
				t.Fatalf("ended in %s (%s: %s)", r.end, r.failError, r.failCause)
			}
			for build, want := range tt.want {
				p := f.builds[build]
				if p == nil {
					t.Fatalf("%s did not run", build)
				}
				if p["SourceTypeOverride"] != "S3" || p["SourceLocationOverride"] != loc(cfg.Name, "source.zip") {
					t.Errorf("%s: primary source %v %v, want the commit's snapshot", build, p["SourceTypeOverride"], p["SourceLocationOverride"])
				}
				if got, _ := p["SecondarySourcesOverride"].([]any); !cmp.Equal(want, got) {
					t.Errorf("%s: secondary sources (-want +got):\n%s", build, cmp.Diff(want, got))
				}
				for _, b := range cfg.Builds() {
					if b.Name == build && p["BuildspecOverride"] != b.Buildspec {
						t.Errorf("%s: buildspec %v, want %s", build, p["BuildspecOverride"], b.Buildspec)
					}
				}
			}
		})
	}
}

// TestFlowInputMissing: an input whose build uploaded no artifact (or was
// skipped) fails the stage before its build starts, saying why.
func TestFlowInputMissing(t *testing.T) {
	for _, tt := range []struct {
		name, config, noArtifact, build, cause string
		events                                 []string
	}{
		{"build stage", "inputs", "compile", "package_zip",
			"package_zip failed with Pushline.InputMissing: compile produced no artifact, and package_zip takes it as an input (give compile's buildspec an artifacts section, or run it)",
			[]string{"Stage Execution State Change FAILED package_zip", "Pipeline Execution State Change FAILED package_zip"}},
		// Unit and e2e-tests both take Build: the first to check fails
		// the stage (and stops the other).
		{"action", "actions", "Build", "Unit",
			"Checks (action Unit) failed with Pushline.InputMissing: Build produced no artifact, and Unit takes it as an input (give Build's buildspec an artifacts section, or run it)",
			[]string{"Stage Execution State Change FAILED Checks action Unit", "Pipeline Execution State Change FAILED Checks action Unit"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg, def := generate(t, tt.config)
			f := &fakeAWS{noArtifact: map[string]bool{tt.noArtifact: true}}
			r := runFlow(t, def, smallInput(cfg.Name), f)
			cause, events := tt.cause, tt.events
			if other := "e2e-tests"; tt.name == "action" && strings.Contains(r.failCause, "action "+other) {
				cause = strings.ReplaceAll(cause, "Unit", other)
				events = []string{strings.ReplaceAll(events[0], "Unit", other), strings.ReplaceAll(events[1], "Unit", other)}
			}
			if r.end != stFailed || r.failError != ErrorInputMissing || r.failCause != cause {
				t.Fatalf("ended in %s with %s: %s", r.end, r.failError, r.failCause)
			}
			if f.builds[tt.build] != nil {
				t.Errorf("%s started", tt.build)
			}
			tt.events = events
			got := eventSummary(t, r)
			if d := cmp.Diff(tt.events, got[len(got)-len(tt.events):]); d != "" {
				t.Errorf("last events (-want +got):\n%s", d)
			}
		})
	}
}

// TestFlowActions: a stage of actions runs them all, each with its own
// project, events, record and artifact; the stage's events say the
// stage; later builds read the actions' records.
func TestFlowActions(t *testing.T) {
	_, def := generate(t, "actions")
	f := &fakeAWS{exports: 1}
	r := runFlow(t, def, smallInput("actions"), f)
	if r.end != stSucceeded {
		t.Fatalf("ended in %s (%s: %s)", r.end, r.failError, r.failCause)
	}
	got := eventSummary(t, r)
	want := []string{
		"Pipeline Execution State Change STARTED",
		"Stage Execution State Change STARTED Build",
		"Stage Execution State Change SUCCEEDED Build build",
		"Stage Execution State Change STARTED Checks",
		"Stage Execution State Change STARTED Checks action Unit",
		"Stage Execution State Change STARTED Checks action Lint",
		"Stage Execution State Change STARTED Checks action e2e-tests",
		"Stage Execution State Change SUCCEEDED Checks action Lint build",
		"Stage Execution State Change SUCCEEDED Checks action Unit build",
		"Stage Execution State Change SUCCEEDED Checks action e2e-tests build",
		"Stage Execution State Change SUCCEEDED Checks",
		"Stage Execution State Change STARTED Deploy",
		"Stage Execution State Change SUCCEEDED Deploy build",
		"Pipeline Execution State Change SUCCEEDED",
	}
	// The actions' SUCCEEDED events come in the order they finish.
	if len(got) == len(want) {
		slices.Sort(got[7:10])
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("events (-want +got):\n%s", d)
	}
	for action, project := range map[string]string{"Unit": "${ProjectUnit}", "Lint": "${ProjectLint}", "e2e-tests": "${ProjectE2eTests}"} {
		p := f.builds[action]
		if p["ProjectName"] != project || p["ArtifactsOverride"].(map[string]any)["Name"] != action+".zip" {
			t.Errorf("%s: project %v, artifact %v", action, p["ProjectName"], p["ArtifactsOverride"])
		}
		if e := env(f, action); e["PUSHLINE_STAGE"] != "Checks" || e["PUSHLINE_ACTION"] != action {
			t.Errorf("%s: PUSHLINE_STAGE %q, PUSHLINE_ACTION %q", action, e["PUSHLINE_STAGE"], e["PUSHLINE_ACTION"])
		}
	}
	if f.builds["e2e-tests"]["ComputeTypeOverride"] != "BUILD_GENERAL1_MEDIUM" || env(f, "e2e-tests")["BROWSER"] != "chromium" {
		t.Errorf("e2e-tests: %v", f.builds["e2e-tests"])
	}
	var builds map[string]json.RawMessage
	if err := json.Unmarshal([]byte(env(f, "Deploy")["PUSHLINE_BUILDS"]), &builds); err != nil {
		t.Fatal(err)
	}
	var checks map[string]struct {
		Stage, Action, BuildID, Status, Artifact string
		Variables                                []struct{ Name, Value string }
	}
	if err := json.Unmarshal(builds["Checks"], &checks); err != nil {
		t.Fatalf("PUSHLINE_BUILDS.Checks %s: %v", builds["Checks"], err)
	}
	u := checks["Unit"]
	if len(checks) != 3 || u.Stage != "Checks" || u.Action != "Unit" || u.Status != "SUCCEEDED" || !strings.HasSuffix(u.Artifact, "/Unit.zip") || len(u.Variables) != 1 {
		t.Errorf("PUSHLINE_BUILDS.Checks = %s", builds["Checks"])
	}
	// Branch states are transitions too: 4 per action (build, outputs?,
	// record, SUCCEEDED event) + 1 for the Parallel state.
	t.Logf("actions success: %d transitions, %d history events, largest state I/O %d bytes (%s)", r.transitions, r.history, r.maxIO, r.maxIOState)
}

// TestFlowActionFails: the first action to fail stops the others, and
// the stage fails naming it.
func TestFlowActionFails(t *testing.T) {
	_, def := generate(t, "actions")
	f := &fakeAWS{hold: map[string]bool{"Lint": true, "e2e-tests": true}}
	f.t = t
	f.failAt = map[string]*taskError{"Unit": buildFailure(f, "Unit")}
	r := runFlow(t, def, smallInput("actions"), f)
	if r.end != stBuildFailed || r.failError != ErrorBuildFailed {
		t.Fatalf("ended in %s with %s: %s", r.end, r.failError, r.failCause)
	}
	if want := "stage Checks (action Unit): build pushline-app-Unit:0b7a1f5e-6c1d-4f34-9a8e-2d2b8f7d6a11 ended FAILED; logs: "; !strings.HasPrefix(r.failCause, want) {
		t.Errorf("cause %q, want it to start %q", r.failCause, want)
	}
	// Unit fails once a held action runs; the other held one may not
	// have started by then (then it never does). Neither finishes.
	if len(f.stopped) == 0 || f.builds["Lint"] != nil || f.builds["e2e-tests"] != nil {
		t.Errorf("stopped %v; finished Lint %v, e2e-tests %v", f.stopped, f.builds["Lint"] != nil, f.builds["e2e-tests"] != nil)
	}
	if f.builds["Deploy"] != nil {
		t.Error("Deploy ran")
	}
	got := eventSummary(t, r)
	want := []string{"Stage Execution State Change FAILED Checks action Unit build", "Pipeline Execution State Change FAILED Checks action Unit build"}
	if d := cmp.Diff(want, got[len(got)-2:]); d != "" {
		t.Errorf("last events (-want +got):\n%s", d)
	}
	for _, s := range got {
		if strings.Contains(s, "SUCCEEDED Checks") {
			t.Errorf("event %s", s)
		}
	}
}

// TestFlowActionEventFails: an action whose SUCCEEDED event cannot be
// sent fails the stage with that error, naming the action.
func TestFlowActionEventFails(t *testing.T) {
	_, def := generate(t, "actions")
	f := &fakeAWS{}
	f.failAt = map[string]*taskError{"Lint: succeeded": {Error: "EventBridge.ResourceNotFoundException", Cause: str("Event bus pushline-app does not exist.")}}
	r := runFlow(t, def, smallInput("actions"), f)
	if want := "Checks (action Lint) failed with EventBridge.ResourceNotFoundException: Event bus pushline-app does not exist."; r.end != stFailed || r.failCause != want {
		t.Fatalf("ended in %s with %s: %s", r.end, r.failError, r.failCause)
	}
}

// TestFlowSkip: a pull request run leaves out the stages in $.skip: no
// events for them, skipped records for their builds, and the run
// succeeds.
func TestFlowSkip(t *testing.T) {
	cfg, def := generate(t, "pullrequests")
	in := smallInput(cfg.Name)
	in.Push.PullRequest = &push.PullRequest{Number: 42, Action: "opened", BaseBranch: "main"}
	in.Run = &push.Run{Trigger: push.TriggerPullRequest}
	in.Skip = cfg.PullRequestSkip(cfg.Repositories[0])
	if d := cmp.Diff(map[string]bool{"Approve": true, "deploy-prod": true}, in.Skip); d != "" {
		t.Fatalf("PullRequestSkip (-want +got):\n%s", d)
	}
	f := &fakeAWS{}
	r := runFlow(t, def, in, f)
	if r.end != stSucceeded {
		t.Fatalf("ended in %s (%s: %s)", r.end, r.failError, r.failCause)
	}
	got := eventSummary(t, r)
	if len(got) == 10 {
		slices.Sort(got[6:8])
	}
	want := []string{
		"Pipeline Execution State Change STARTED",
		"Stage Execution State Change STARTED Build",
		"Stage Execution State Change SUCCEEDED Build build",
		"Stage Execution State Change STARTED Checks",
		"Stage Execution State Change STARTED Checks action Unit",
		"Stage Execution State Change STARTED Checks action Lint",
		"Stage Execution State Change SUCCEEDED Checks action Lint build",
		"Stage Execution State Change SUCCEEDED Checks action Unit build",
		"Stage Execution State Change SUCCEEDED Checks",
		"Pipeline Execution State Change SUCCEEDED",
	}
	slices.Sort(want[6:8])
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("events (-want +got):\n%s", d)
	}
	if f.builds["deploy-prod"] != nil || !slices.Contains(r.path, "deploy-prod: skipped") || !slices.Contains(r.path, "Approve: skipped") {
		t.Errorf("path %v", r.path)
	}
	for _, e := range r.events {
		d := e["Detail"].(map[string]any)
		if d["pullRequest"] != float64(42) || d["trigger"] != push.TriggerPullRequest || d["attempt"] != float64(1) {
			t.Errorf("detail %v", d)
		}
	}
	prTransitions := r.transitions
	// A run without skips runs every stage (and asks for approval).
	r = runFlow(t, def, smallInput(cfg.Name), &fakeAWS{})
	if r.end != stSucceeded || !slices.Contains(r.path, "deploy-prod") {
		t.Errorf("ended in %s: %v", r.end, r.path)
	}
	t.Logf("pull request run: %d transitions; push run: %d", prTransitions, r.transitions)
}

// TestFlowSkipProducer: a build whose input's build was skipped fails
// with the input-missing cause, not States.Runtime.
func TestFlowSkipProducer(t *testing.T) {
	cfg, def := generate(t, "pullrequests")
	in := smallInput(cfg.Name)
	in.Skip = map[string]bool{"Build": true}
	r := runFlow(t, def, in, &fakeAWS{})
	if r.failError != ErrorInputMissing || !strings.HasPrefix(r.failCause, "Checks (action Unit) failed with Pushline.InputMissing: Build produced no artifact") {
		t.Errorf("ended in %s with %s: %s", r.end, r.failError, r.failCause)
	}
}

// TestFlowResume: a retry starts at the stage resume.stage names, with
// the data the failed run carried into it, and its events say so.
func TestFlowResume(t *testing.T) {
	cfg, def := generate(t, "actions")
	// A first run, for the data it carried into Checks.
	first := runFlow(t, def, smallInput(cfg.Name), &fakeAWS{})
	if first.end != stSucceeded {
		t.Fatalf("first run ended in %s", first.end)
	}
	in := map[string]any{}
	raw, _ := json.Marshal(smallInput(cfg.Name))
	_ = json.Unmarshal(raw, &in)
	out := first.output.(map[string]any)
	in["source"] = out["source"]
	in["builds"] = map[string]any{"Build": out["builds"].(map[string]any)["Build"]}
	in["about"] = out["about"] // the failed run's: replaced
	in["resume"] = map[string]any{"stage": "Checks"}
	in["run"] = map[string]any{"trigger": push.TriggerRetry, "attempt": 2, "retryOf": "arn:aws:states:us-east-1:000000000000:execution:pushline-app:first", "by": "dev@example.com"}
	f := &fakeAWS{}
	r := runEngine(t, def, in, func(state, resource string, params any) (any, *taskError) {
		f.t = t
		return f.task(state, resource, params)
	}, nil)
	if r.end != stSucceeded {
		t.Fatalf("ended in %s (%s: %s)", r.end, r.failError, r.failCause)
	}
	if f.builds["Build"] != nil || f.builds["Unit"] == nil || f.builds["Deploy"] == nil {
		t.Errorf("builds run: %v", slices.Sorted(maps.Keys(f.builds)))
	}
	wantPath := []string{stRunDefaults, stRun, stRunRetry, stStartedRetry, stResume, "Checks: started", "Checks"}
	if d := cmp.Diff(wantPath, r.path[:len(wantPath)]); d != "" {
		t.Errorf("path (-want +got):\n%s", d)
	}
	for _, e := range r.events {
		d := e["Detail"].(map[string]any)
		if d["trigger"] != push.TriggerRetry || d["attempt"] != float64(2) || d["retryOf"] != "arn:aws:states:us-east-1:000000000000:execution:pushline-app:first" || d["pullRequest"] != float64(0) {
			t.Errorf("detail %v", d)
		}
	}
	// The Deploy build reads Build's artifact from the failed run.
	if got := f.builds["Deploy"]["SecondarySourcesOverride"].([]any)[0].(map[string]any)["Location"]; got != out["builds"].(map[string]any)["Build"].(map[string]any)["artifact"] {
		t.Errorf("Deploy reads Build's artifact at %v", got)
	}

	in["resume"] = map[string]any{"stage": "Nope"}
	r = runEngine(t, def, in, (&fakeAWS{t: t}).task, nil)
	if r.failError != ErrorResume || r.failCause != "Start failed with Pushline.ResumeUnknownStage: resume.stage Nope is not a stage of this pipeline" {
		t.Errorf("unknown stage: ended in %s with %s: %s", r.end, r.failError, r.failCause)
	}
	if got := eventSummary(t, r); !cmp.Equal(got, []string{"Pipeline Execution State Change STARTED", "Pipeline Execution State Change FAILED Start"}) {
		t.Errorf("events %v", got)
	}
}
