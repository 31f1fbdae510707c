package statemachine

import (
	"os"
	"strconv"
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
		doc         string // the run column of the docs' table row
	}{
		{"cdk.json: success", "cdk", nil, 16, 70, "`cdk.json` config (Build, Test, Approve, Deploy), success"},
		{"cdk.json: Test build fails", "cdk", func(f *fakeAWS) map[string]*taskError {
			return map[string]*taskError{"Test": buildFailure(f, "Test")}
		}, 15, 53, "same, the Test build fails"},
		{"cdk.json: approval rejected", "cdk", func(f *fakeAWS) map[string]*taskError {
			return map[string]*taskError{"Approve": {Error: "Pushline.Rejected", Cause: &rejection}}
		}, 22, 74, "same, approval rejected"},
		{"cdk.json: approval timed out", "cdk", func(f *fakeAWS) map[string]*taskError {
			return map[string]*taskError{"Approve": {Error: "States.Timeout"}}
		}, 18, 66, "same, approval timed out"},
		{"minimal: success", "minimal", nil, 6, 29, "minimal (one build stage), success"},
		{"many (21 builds, 2 approvals): success", "many", nil, 90, 351, "largest example `many` (21 builds, 2 approvals), success"},
	}
	docRows := docTable(t)
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
			if got, ok := docRows[tt.doc]; !ok || got != [2]int{tt.transitions, tt.history} {
				t.Errorf("docs/state-machine.md row %q: %v (found %v), want %d, %d", tt.doc, got, ok, tt.transitions, tt.history)
			}
		})
	}
}

// docTable reads the rows "| run | transitions | history events |" of
// docs/state-machine.md's cost table, by run, bold marks removed.
func docTable(t *testing.T) map[string][2]int {
	t.Helper()
	data, err := os.ReadFile("../../docs/state-machine.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string][2]int{}
	for _, line := range strings.Split(string(data), "\n") {
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		if !strings.HasPrefix(line, "| ") || len(cells) != 3 {
			continue
		}
		tr, err1 := strconv.Atoi(strings.Trim(cells[1], "*"))
		hi, err2 := strconv.Atoi(strings.Trim(cells[2], "*"))
		if err1 == nil && err2 == nil {
			rows[cells[0]] = [2]int{tr, hi}
		}
	}
	return rows
}
