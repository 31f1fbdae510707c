package mail

import (
	"fmt"
	"strings"
	"testing"

	"github.com/pushline/pushline/shared/event"
)

func TestFailureWithRunPageAndLog(t *testing.T) {
	d := event.Detail{Pipeline: "app", Execution: "arn:x:main-1", State: event.Failed, Repository: "acme/app", Ref: "refs/heads/main", Commit: "abc", Stage: "Test", BuildID: "app-Test:1"}
	var lines []string
	for i := 1; i <= 80; i++ {
		lines = append(lines, fmt.Sprintf("log line %d <b>", i))
	}
	for _, tc := range []struct {
		name     string
		x        FailureExtra
		want     []string
		not      []string
		htmlWant []string
	}{
		{"page and tail", FailureExtra{RunURL: "https://ci.example.com/runs/main-1?e=1&s=x", LogTail: lines},
			[]string{"Run page: https://ci.example.com/runs/main-1?e=1&s=x", "Last 50 lines of the build's log:", "log line 31 <b>\n", "log line 80 <b>\n"},
			[]string{"log line 30 <b>"},
			[]string{`<a href="https://ci.example.com/runs/main-1?e=1&amp;s=x">`, "log line 80 &lt;b&gt;"}},
		{"no extra", FailureExtra{}, nil, []string{"Run page", "Last"}, nil},
		{"not a web link", FailureExtra{RunURL: "javascript:alert(1)"}, nil, []string{"javascript:"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := FailureWith("ci@example.com", []string{"team@example.com"}, d, tc.x)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range tc.want {
				if !strings.Contains(m.Text, s) {
					t.Errorf("text lacks %q:\n%s", s, m.Text)
				}
			}
			for _, s := range tc.not {
				if strings.Contains(m.Text, s) || strings.Contains(m.HTML, s) {
					t.Errorf("mail shows %q", s)
				}
			}
			for _, s := range tc.htmlWant {
				if !strings.Contains(m.HTML, s) {
					t.Errorf("html lacks %q", s)
				}
			}
		})
	}
}

func TestFailureFailures(t *testing.T) {
	d := event.Detail{Pipeline: "app", Execution: "arn:x:main-1", State: event.Failed, Repository: "acme/app", Ref: "refs/heads/main", Commit: "abc", Stage: "Test", BuildID: "app-Test:1"}
	many := make([]string, MaxFailures+3)
	for i := range many {
		many[i] = fmt.Sprintf("failure %d", i+1)
	}
	long := strings.Repeat("é", maxFailure) // 2 bytes each: cut in half
	for _, tc := range []struct {
		name     string
		failures []string
		want     []string // in the text
		not      []string // in neither text nor HTML
		htmlWant []string
	}{
		{"none", nil, nil, []string{"Why the build failed"}, nil},
		{"only empty", []string{"", "  \n"}, nil, []string{"Why the build failed"}, nil},
		{"test failures", []string{"report app-Test-unit: 1 of 2 tests failed: greet.TestBye: <expected> bye", "Error while executing command: make test. Reason: exit status 2"},
			[]string{"Why the build failed:\n- report app-Test-unit: 1 of 2 tests failed: greet.TestBye: <expected> bye\n- Error while executing command: make test. Reason: exit status 2\n"},
			nil,
			[]string{"<li style=\"white-space:pre-wrap\">report app-Test-unit: 1 of 2 tests failed: greet.TestBye: &lt;expected&gt; bye</li>"}},
		{"too many", many,
			[]string{"- failure 10\n- … and 3 more\n"},
			[]string{"failure 11", "failure 13"}, nil},
		{"too long", []string{long},
			[]string{"- " + long[:maxFailure] + "…\n"},
			[]string{long[:maxFailure+2]}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := d
			d.Failures = tc.failures
			m, err := Failure("ci@example.com", []string{"team@example.com"}, d)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range tc.want {
				if !strings.Contains(m.Text, s) {
					t.Errorf("text lacks %q:\n%s", s, m.Text)
				}
			}
			for _, s := range tc.not {
				if strings.Contains(m.Text, s) || strings.Contains(m.HTML, s) {
					t.Errorf("mail shows %q", s)
				}
			}
			for _, s := range tc.htmlWant {
				if !strings.Contains(m.HTML, s) {
					t.Errorf("html lacks %q:\n%s", s, m.HTML)
				}
			}
			if _, err := Build(m); err != nil {
				t.Error(err)
			}
		})
	}
}
