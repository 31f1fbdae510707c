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
