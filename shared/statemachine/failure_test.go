package statemachine

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/pushline/pushline/shared/event"
)

// failedBuild is the failure of a build whose phases mutate sets (the
// phases as the fake reports them: every one SUCCEEDED, with an empty
// context).
func failedBuild(f *fakeAWS, stage string, mutate func(b map[string]any)) *taskError {
	p := map[string]any{"SourceLocationOverride": "bucket/key", "BuildspecOverride": "buildspec.yml", "EnvironmentVariablesOverride": []any{}, "TimeoutInMinutesOverride": 60}
	b := f.build(stage, p, "FAILED")
	mutate(b)
	cause, _ := json.Marshal(map[string]any{"Build": b})
	s := string(cause)
	return &taskError{Error: "States.TaskFailed", Cause: &s}
}

// failPhase marks phase i FAILED with the given contexts (nil: none).
func failPhase(b map[string]any, i int, contexts []any) {
	ph := b["Phases"].([]any)[i].(map[string]any)
	ph["PhaseStatus"] = "FAILED"
	if contexts == nil {
		delete(ph, "Contexts")
		return
	}
	ph["Contexts"] = contexts
}

func phaseContext(code, msg string) map[string]any {
	return map[string]any{"StatusCode": code, "Message": msg}
}

const (
	testFailures = "report pushline-app-Test-unit: 1 of 2 tests failed: greet.TestBye: expected bye, got hello"
	commandError = "Error while executing command: go test ./... Reason: exit status 1"
)

// TestFlowBuildFailureDetails checks that the FAILED events of a failed
// build carry its failed phases' messages (the local runner's
// TEST_FAILURES summary first), and that a build result without usable
// phases still takes the build-failed path, with no failures.
func TestFlowBuildFailureDetails(t *testing.T) {
	const build = 6 // index of BUILD in the fake's phases
	tests := []struct {
		name   string
		config string
		state  string // the failing task
		mutate func(b map[string]any)
		want   []string
		// noPhases: Build.Phases is not an array, so the definition sets
		// it to [] before the filter (in AWS a filter on a missing or
		// scalar field is a States.Runtime error; the local engine is
		// lenient there, so the path is checked)
		noPhases bool
	}{
		{
			name: "test failures", config: "cdk", state: "Test",
			mutate: func(b map[string]any) {
				failPhase(b, build, []any{phaseContext("TEST_FAILURES", testFailures), phaseContext("COMMAND_EXECUTION_ERROR", commandError)})
			},
			want: []string{testFailures, commandError},
		},
		{
			name: "two failed phases", config: "cdk", state: "Test",
			mutate: func(b map[string]any) {
				failPhase(b, build, []any{phaseContext("COMMAND_EXECUTION_ERROR", commandError)})
				failPhase(b, build+1, []any{phaseContext("COMMAND_EXECUTION_ERROR", "Error while executing command: ./report.sh. Reason: exit status 2")})
			},
			want: []string{commandError, "Error while executing command: ./report.sh. Reason: exit status 2"},
		},
		{
			name: "an action's build", config: "actions", state: "Unit",
			mutate: func(b map[string]any) {
				failPhase(b, build, []any{phaseContext("TEST_FAILURES", testFailures), phaseContext("COMMAND_EXECUTION_ERROR", commandError)})
			},
			want: []string{testFailures, commandError},
		},
		{
			name: "timed out, no failed phase", config: "cdk", state: "Test",
			mutate: func(b map[string]any) { b["BuildStatus"] = "TIMED_OUT" },
		},
		{
			name: "failed phase without contexts", config: "cdk", state: "Test",
			mutate: func(b map[string]any) { failPhase(b, build, nil) },
		},
		{
			name: "context without message", config: "cdk", state: "Test",
			mutate: func(b map[string]any) { failPhase(b, build, []any{map[string]any{"StatusCode": "CLIENT_ERROR"}}) },
		},
		{
			name: "no phases", config: "cdk", state: "Test",
			mutate:   func(b map[string]any) { delete(b, "Phases") },
			noPhases: true,
		},
		{
			name: "null phases", config: "cdk", state: "Test",
			mutate:   func(b map[string]any) { b["Phases"] = nil },
			noPhases: true,
		},
		{
			name: "phases a string", config: "cdk", state: "Test",
			mutate:   func(b map[string]any) { b["Phases"] = "BUILD" },
			noPhases: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, def := generate(t, tt.config)
			f := &fakeAWS{}
			f.t = t
			f.failAt = map[string]*taskError{tt.state: failedBuild(f, tt.state, tt.mutate)}
			r := runFlow(t, def, smallInput("app"), f)
			if r.end != stBuildFailed {
				t.Fatalf("ended in %s with %s (%s), want %s", r.end, r.failError, r.failCause, stBuildFailed)
			}
			if got := slices.Contains(r.path, stFailNoPhases); got != tt.noPhases {
				t.Errorf("through %q: %v, want %v (%v)", stFailNoPhases, got, tt.noPhases, r.path)
			}
			var failed int
			for _, e := range r.events {
				raw, _ := json.Marshal(e["Detail"])
				var d event.Detail
				if err := json.Unmarshal(raw, &d); err != nil {
					t.Fatalf("detail %s: %v", raw, err)
				}
				if d.State != event.Failed {
					continue
				}
				failed++
				if d.BuildID == "" {
					t.Errorf("%s FAILED without buildId: %s", e["DetailType"], raw)
				}
				if diff := cmp.Diff(tt.want, d.Failures, cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("%s failures (-want +got):\n%s", e["DetailType"], diff)
				}
			}
			if failed != 2 {
				t.Errorf("%d FAILED events, want 2 (stage, pipeline)", failed)
			}
		})
	}
}
