package statemachine

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/pushline/pushline/shared/config"
	"github.com/pushline/pushline/shared/push"
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
		input       func(cfg *config.Config) push.Input // default smallInput
		transitions int
		history     int
		doc         string // the run column of the docs' table row
	}{
		{"cdk.json: success", "cdk", nil, nil, 18, 71, "`cdk.json` config (Build, Test, Approve, Deploy), success"},
		{"cdk.json: Test build fails", "cdk", func(f *fakeAWS) map[string]*taskError {
			return map[string]*taskError{"Test": buildFailure(f, "Test")}
		}, nil, 18, 58, "same, the Test build fails"},
		{"cdk.json: approval rejected", "cdk", func(f *fakeAWS) map[string]*taskError {
			return map[string]*taskError{"Approve": {Error: "Pushline.Rejected", Cause: &rejection}}
		}, nil, 24, 76, "same, approval rejected"},
		{"cdk.json: approval timed out", "cdk", func(f *fakeAWS) map[string]*taskError {
			return map[string]*taskError{"Approve": {Error: "States.Timeout"}}
		}, nil, 19, 66, "same, approval timed out"},
		{"minimal: success", "minimal", nil, nil, 8, 33, "minimal (one build stage), success"},
		{"many (21 builds, 2 approvals): success", "many", nil, nil, 92, 333, "`many` (21 build stages, 2 approvals), success"},
		{"actions: success", "actions", nil, nil, 29, 104, "`actions` (Build, Checks: 3 actions, Deploy), success"},
		{"pullrequests: push", "pullrequests", nil, nil, 33, 121, "`pullrequests` (Build, Checks: 2 actions, Approve, deploy-prod), a push"},
		{"pullrequests: pull request", "pullrequests", nil, func(cfg *config.Config) push.Input {
			in := smallInput(cfg.Name)
			in.Push.PullRequest = &push.PullRequest{Number: 7, Action: "opened", BaseBranch: "main"}
			in.Skip = cfg.PullRequestSkip(cfg.Repositories[0])
			return in
		}, 30, 100, "same, a pull request (Approve and deploy-prod skipped)"},
		{"wide: success", "wide", nil, nil, 504, 1776, "`wide` (20 stages of 5 actions), success"},
	}
	docRows := docTable(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, def := generate(t, tt.config)
			f := &fakeAWS{}
			f.t = t
			if tt.fail != nil {
				f.failAt = tt.fail(f)
			}
			in := smallInput("app")
			if tt.input != nil {
				in = tt.input(cfg)
			}
			r := runFlow(t, def, in, f)
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
