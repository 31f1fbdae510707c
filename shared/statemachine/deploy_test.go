package statemachine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// codeDeploySucceeded answers createDeployment and getDeployment for
// fakeAWS: a deployment that has succeeded.
var codeDeploySucceeded = map[string]any{"DeploymentId": "d-ABCDEFGHI", "DeploymentInfo": map[string]any{"DeploymentId": "d-ABCDEFGHI", "Status": "Succeeded"}}

// fakeCodeDeploy answers the deploy stage's CodeDeploy calls: the
// deployment is InProgress for inProgress polls, then ends as final.
type fakeCodeDeploy struct {
	*fakeAWS
	inProgress int
	final      map[string]any // the DeploymentInfo fields of the end
	polls      int
	created    map[string]any
	stopped    bool
}

func (f *fakeCodeDeploy) task(state, resource string, params any) (any, *taskError) {
	p, _ := params.(map[string]any)
	switch resource {
	case resCreateDeployment:
		if e, ok := f.failAt[state]; ok {
			return nil, e
		}
		f.created = p
		return map[string]any{"DeploymentId": "d-ABCDEFGHI"}, nil
	case resGetDeployment:
		if p["DeploymentId"] != "d-ABCDEFGHI" {
			f.t.Errorf("getDeployment %v", p)
		}
		f.polls++
		info := map[string]any{"DeploymentId": "d-ABCDEFGHI", "ApplicationName": "shop", "DeploymentGroupName": "prod", "Status": "InProgress"}
		if f.polls > f.inProgress {
			for k, v := range f.final {
				info[k] = v
			}
		}
		return map[string]any{"DeploymentInfo": info}, nil
	case resStopDeployment:
		f.stopped = true
		return map[string]any{"Status": "Pending"}, nil
	}
	return f.fakeAWS.task(state, resource, params)
}

func TestFlowDeploy(t *testing.T) {
	_, def := generate(t, "deploy")
	// The polls' waits grow from 5 s: the test does not wait them out but
	// reads each wait's seconds from the input of "Deploy: wait", whose
	// SecondsPath is replaced by no wait at all.
	waitPath := []byte(`"SecondsPath": "$.deploys.Deploy.wait"`)
	if !bytes.Contains(def, waitPath) {
		t.Fatalf("no %s in the definition", waitPath)
	}
	def = bytes.Replace(def, waitPath, []byte(`"Seconds": 0`), 1)
	rollback := map[string]any{"RollbackDeploymentId": "d-ROLLBACK0", "RollbackMessage": "Automatically rolled back to d-PREVIOUS0's revision (deployment d-ROLLBACK0 succeeded)."}
	for _, tc := range []struct {
		name       string
		inProgress int
		final      map[string]any
		failAt     map[string]*taskError
		end        string
		failError  string
		failCause  string
		events     []string
		waits      []float64
		stopped    bool
	}{
		{
			name: "succeeds", inProgress: 5, final: map[string]any{"Status": "Succeeded"}, end: stSucceeded,
			events: []string{"Pipeline Execution State Change STARTED", "Stage Execution State Change STARTED Build",
				"Stage Execution State Change SUCCEEDED Build build", "Stage Execution State Change STARTED Deploy",
				"Stage Execution State Change SUCCEEDED Deploy d-ABCDEFGHI ${DeployConsoleUrl}d-ABCDEFGHI", "Stage Execution State Change STARTED Smoke",
				"Stage Execution State Change SUCCEEDED Smoke build", "Pipeline Execution State Change SUCCEEDED"},
			waits: []float64{5, 10, 20, 40, 40, 40},
		},
		{
			name: "fails and rolls back", inProgress: 1,
			final: map[string]any{"Status": "Failed", "ErrorInformation": map[string]any{"Code": "HEALTH_CONSTRAINTS", "Message": "lifecycle event ValidateService failed"}, "RollbackInfo": rollback},
			end:   stFailed, failError: "CodeDeploy.HEALTH_CONSTRAINTS",
			failCause: "Deploy failed with CodeDeploy.HEALTH_CONSTRAINTS: deployment d-ABCDEFGHI Failed: lifecycle event ValidateService failed (Automatically rolled back to d-PREVIOUS0's revision (deployment d-ROLLBACK0 succeeded).)",
			events: []string{"Pipeline Execution State Change STARTED", "Stage Execution State Change STARTED Build",
				"Stage Execution State Change SUCCEEDED Build build", "Stage Execution State Change STARTED Deploy",
				"Stage Execution State Change FAILED Deploy d-ABCDEFGHI ${DeployConsoleUrl}d-ABCDEFGHI", "Pipeline Execution State Change FAILED Deploy d-ABCDEFGHI ${DeployConsoleUrl}d-ABCDEFGHI"},
			waits: []float64{5, 10},
		},
		{
			name: "fails without rollback", final: map[string]any{"Status": "Failed", "ErrorInformation": map[string]any{"Code": "HEALTH_CONSTRAINTS", "Message": "too many instances failed"}},
			end: stFailed, failError: "CodeDeploy.HEALTH_CONSTRAINTS",
			failCause: "Deploy failed with CodeDeploy.HEALTH_CONSTRAINTS: deployment d-ABCDEFGHI Failed: too many instances failed",
			waits:     []float64{5},
		},
		{
			name: "stopped without error information", final: map[string]any{"Status": "Stopped"},
			end: stFailed, failError: "CodeDeploy.DeploymentFailed", failCause: "Deploy failed with CodeDeploy.DeploymentFailed: deployment d-ABCDEFGHI Stopped",
			waits: []float64{5},
		},
		{
			name: "never ends", inProgress: deployMaxPolls + 10, final: map[string]any{"Status": "Succeeded"},
			end: stFailed, failError: ErrorDeployTimedOut, stopped: true,
			failCause: fmt.Sprintf("Deploy failed with %s: deployment d-ABCDEFGHI still InProgress after %d polls: stopped", ErrorDeployTimedOut, deployMaxPolls),
		},
		{
			name: "unknown group", failAt: map[string]*taskError{"Deploy": {Error: "CodeDeploy.DeploymentGroupDoesNotExistException", Cause: str("No Deployment Group found for name: prod")}},
			end: stFailed, failError: "CodeDeploy.DeploymentGroupDoesNotExistException",
			failCause: "Deploy failed with CodeDeploy.DeploymentGroupDoesNotExistException: No Deployment Group found for name: prod",
			events: []string{"Pipeline Execution State Change STARTED", "Stage Execution State Change STARTED Build",
				"Stage Execution State Change SUCCEEDED Build build", "Stage Execution State Change STARTED Deploy",
				"Stage Execution State Change FAILED Deploy", "Pipeline Execution State Change FAILED Deploy"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeCodeDeploy{fakeAWS: &fakeAWS{failAt: tc.failAt}, inProgress: tc.inProgress, final: tc.final}
			f.fakeAWS.t = t
			r := runEngine(t, def, clone(smallInput("shop")), f.task, nil)
			if r.end != tc.end || r.failError != tc.failError || r.failCause != tc.failCause {
				t.Fatalf("ended %s %s: %s\nwant  %s %s: %s", r.end, r.failError, r.failCause, tc.end, tc.failError, tc.failCause)
			}
			if tc.events != nil {
				if d := cmp.Diff(tc.events, deployEventSummary(t, r)); d != "" {
					t.Errorf("events (-want +got):\n%s", d)
				}
			}
			if tc.waits != nil {
				var waits []float64
				for i, name := range r.path {
					if name != deployWait("Deploy") {
						continue
					}
					var in struct {
						Deploys struct{ Deploy struct{ Wait float64 } }
					}
					if err := json.Unmarshal([]byte(r.inputs[i]), &in); err != nil {
						t.Fatal(err)
					}
					waits = append(waits, in.Deploys.Deploy.Wait)
				}
				if d := cmp.Diff(tc.waits, waits); d != "" {
					t.Errorf("waits (-want +got):\n%s", d)
				}
			}
			if f.stopped != tc.stopped {
				t.Errorf("stopped = %v", f.stopped)
			}
			if tc.failAt == nil {
				rev := f.created["Revision"].(map[string]any)["S3Location"].(map[string]any)
				if rev["Key"] != "shop/main-9fceb02d0ae5-3c2f0e4a81b7/Build.zip" || rev["Bucket"] != "${ArtifactBucket}" || f.created["DeploymentGroupName"] != "prod" {
					t.Errorf("createDeployment %v", f.created)
				}
			}
			if r.history > 25000 {
				t.Errorf("%d history events", r.history)
			}
			t.Logf("%d polls, %d history events, largest state I/O %d bytes (%s)", f.polls, r.history, r.maxIO, r.maxIOState)
		})
	}
}

// deployEventSummary is eventSummary with a deploy stage's id and link.
func deployEventSummary(t *testing.T, r flowResult) []string {
	out := eventSummary(t, r)
	for i, e := range r.events {
		d := e["Detail"].(map[string]any)
		if id, ok := d["deploymentId"]; ok {
			out[i] += fmt.Sprintf(" %v %v", id, d["logsUrl"])
		}
	}
	return out
}
