package approval

import (
	"net/http"
	"strings"
	"testing"
)

// TestFollowTheRun: after a decision the page links the run page, when
// the handler knows it (never a non-web URL).
func TestFollowTheRun(t *testing.T) {
	for _, tc := range []struct {
		name, url, want string
	}{
		{"link", "https://ci.example.com/runs/main-1?e=1&s=x", `<a href="https://ci.example.com/runs/main-1?e=1&amp;s=x">Follow the run</a>`},
		{"not web", "javascript:alert(1)", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			var asked string
			e.handler.RunURL = func(execution string) string { asked = execution; return tc.url }
			w := e.post("lead@example.com", "approve", "")
			if w.Code != http.StatusOK {
				t.Fatalf("POST = %d", w.Code)
			}
			body := w.Body.String()
			if asked != e.req.Execution {
				t.Errorf("RunURL asked for %q, want %q", asked, e.req.Execution)
			}
			if tc.want != "" && !strings.Contains(body, tc.want) {
				t.Errorf("page lacks %s", tc.want)
			}
			if tc.want == "" && strings.Contains(body, "Follow the run") {
				t.Error("page links a non-web run URL")
			}
		})
	}
}
