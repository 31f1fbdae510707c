package statemachine

import (
	"strings"
	"testing"
)

// TestDocFigures pins the figures docs/state-machine.md quotes: state
// transitions (what Standard workflows bill) and history events per run,
// without retries.
func TestDocFigures(t *testing.T) {
	rejection := `{"approver":"ops@example.com","comment":"no","decidedAt":"2026-11-27T09:00:00Z"}`
	tests := []struct {
		name        string
		config      string
		fail        func(f *fakeAWS) map[string]*taskError
		transitions int
		history     int
	}{
		{"cdk.json: success", "cdk", nil, 16, 70},
		{"cdk.json: Test build fails", "cdk", func(f *fakeAWS) map[string]*taskError {
			return map[string]*taskError{"Test": buildFailure(f, "Test")}
		}, 15, 53},
		{"cdk.json: approval rejected", "cdk", func(f *fakeAWS) map[string]*taskError {
			return map[string]*taskError{"Approve": {Error: "Pushline.Rejected", Cause: &rejection}}
		}, 22, 74},
		{"cdk.json: approval timed out", "cdk", func(f *fakeAWS) map[string]*taskError {
			return map[string]*taskError{"Approve": {Error: "States.Timeout"}}
		}, 18, 66},
		{"minimal: success", "minimal", nil, 6, 29},
		{"many (21 builds, 2 approvals): success", "many", nil, 90, 351},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, def := generate(t, tt.config)
			f := &fakeAWS{}
			f.t = t
			if tt.fail != nil {
				f.failAt = tt.fail(f)
			}
			r := runFlow(t, def, smallInput("app"), f)
			t.Logf("%s: %d transitions, %d history events: %s", tt.name, r.transitions, r.history, strings.Join(r.path, " → "))
			if r.transitions != tt.transitions || r.history != tt.history {
				t.Errorf("%d transitions, %d history events; docs/state-machine.md says %d, %d", r.transitions, r.history, tt.transitions, tt.history)
			}
		})
	}
}
