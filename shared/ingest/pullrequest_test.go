package ingest

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/google/go-cmp/cmp"

	"github.com/pushline/pushline/shared/config"
	"github.com/pushline/pushline/shared/push"
)

// prConfig is testConfig with pull requests on for the GitHub and Gitea
// repositories, and a pipeline with an approval.
func prConfig(edit func(c *config.Config)) *config.Config {
	c := testConfig(config.ModeParallel)
	c.Repositories[0].PullRequests = &config.PullRequests{Branches: []string{"master"}}
	c.Repositories[4].PullRequests = &config.PullRequests{Forks: true}
	c.Stages = []config.Stage{
		{Name: "Build", Build: config.Build{Buildspec: "buildspec.yml"}},
		{Name: "Test", Build: config.Build{Buildspec: "buildspec-test.yml"}},
		{Name: "Approve", Approval: &config.Approval{Approvers: []string{"ops@example.com"}}},
		{Name: "Deploy", Build: config.Build{Buildspec: "buildspec-deploy.yml", Secrets: []string{"prod/db"}}},
	}
	if edit != nil {
		edit(c)
	}
	return c
}

func newPREnv(t *testing.T, cfg *config.Config, forksRefused string) *env {
	t.Helper()
	f := newFakeSFN(machine)
	ev := newEvents(t)
	h, err := New(Options{
		Config: cfg, Secret: []byte(testSecret), StateMachineARN: machine, SFN: f, Events: ev, EventBus: "pushline-app",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), ForksRefused: forksRefused,
		Now: f.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, sfn: f, events: ev, h: h}
}

// withHead returns a pull request delivery moved to head commit sha.
func withHead(t *testing.T, name, sha string) (http.Header, []byte) {
	t.Helper()
	h, b := delivery(t, name)
	var old string
	switch {
	case strings.HasPrefix(name, "github/"):
		old = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"
	case strings.HasPrefix(name, "gitea/"):
		old = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"
	}
	b = bytes.ReplaceAll(b, []byte(old), []byte(sha))
	sign(h, b)
	return h, b
}

func TestPullRequestDeliveries(t *testing.T) {
	secretsInTest := func(c *config.Config) { c.Stages[1].Secrets = []string{"/app/token"} }
	tests := []struct {
		name, fixture string
		cfg           func(c *config.Config)
		forksRefused  string
		code          int
		status        string
		reason        string // the whole reason, for ignored answers
		prefix        string // the execution name's start, for started ones
	}{
		{name: "opened", fixture: "github/pull-request-opened", code: 202, status: "started", prefix: "pr2-ec26c3e57ca3-"},
		{name: "reopened", fixture: "github/pull-request-reopened", code: 202, status: "started", prefix: "pr2-ec26c3e57ca3-"},
		{name: "synchronize", fixture: "github/pull-request-synchronize", code: 202, status: "started", prefix: "pr2-ec26c3e57ca3-"},
		{name: "draft", fixture: "github/pull-request-draft", code: 202, status: "started", prefix: "pr2-"},
		{name: "gitea", fixture: "gitea/pull-request-opened", code: 202, status: "started", prefix: "pr1-a1b2c3d4e5f6-"},
		{name: "forgejo", fixture: "gitea/pull-request-forgejo", code: 202, status: "started", prefix: "pr3-"},
		{name: "gitea fork allowed", fixture: "gitea/pull-request-fork", code: 202, status: "started", prefix: "pr2-c3d4e5f60718-"},
		{name: "not configured", fixture: "gitlab/merge-request", code: 200, status: "ignored",
			reason: "pull requests of mike/diaspora are not configured (no pullRequests)"},
		{name: "target branch", fixture: "github/pull-request-opened", cfg: func(c *config.Config) { c.Repositories[0].PullRequests.Branches = []string{"main"} },
			code: 200, status: "ignored", reason: "pull request #2: target branch master matches none of main"},
		{name: "fork not allowed", fixture: "github/pull-request-fork", code: 200, status: "ignored",
			reason: "pull request #3 comes from fork octo-fork/Hello-World: forks are not allowed (pullRequests.forks is false)"},
		{name: "fork without sandbox", fixture: "gitea/pull-request-fork", forksRefused: "builds run without the build sandbox here", code: 200, status: "ignored",
			reason: "pull request #2 comes from a fork: builds run without the build sandbox here"},
		{name: "fork reading secrets", fixture: "gitea/pull-request-fork", cfg: secretsInTest, code: 200, status: "ignored",
			reason: "pull request #2 comes from a fork and would run Test, which read secrets: fork builds never get secrets (leave those stages out with pullRequests.stages)"},
		{name: "fork secrets in skipped stages only", fixture: "gitea/pull-request-fork", code: 202, status: "started", prefix: "pr2-"},
		{name: "action not handled", fixture: "github/pull-request-labeled", code: 200, status: "ignored",
			reason: `pull request action "labeled" is not handled (runs on opened, synchronize, reopened; closed stops the run)`},
		{name: "update without commits", fixture: "gitlab/merge-request-update-title", code: 200, status: "ignored",
			reason: "merge request !1 update without new commits (no oldrev)"},
		{name: "closed, nothing running", fixture: "github/pull-request-closed", code: 200, status: "ignored",
			reason: "pull request #2 was closed: stopped 0 running execution(s)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newPREnv(t, prConfig(tt.cfg), tt.forksRefused)
			code, resp := e.post(delivery(t, tt.fixture))
			if code != tt.code || resp.Status != tt.status || resp.Reason != tt.reason {
				t.Fatalf("answer %d %+v, want %d %q %q", code, resp, tt.code, tt.status, tt.reason)
			}
			if tt.status != StatusStarted {
				if e.sfn.Starts() != 0 {
					t.Errorf("%d started", e.sfn.Starts())
				}
				return
			}
			name := nameOf(resp.Execution)
			if !strings.HasPrefix(name, tt.prefix) || len(name) > 80 {
				t.Errorf("execution name %q, want it to start %q", name, tt.prefix)
			}
			var in push.Input
			if err := json.Unmarshal([]byte(e.sfn.Get(name).Input), &in); err != nil {
				t.Fatal(err)
			}
			want := push.Input{Run: &push.Run{Trigger: push.TriggerPullRequest, Attempt: 1}, Skip: map[string]bool{"Approve": true, "Deploy": true}}
			if diff := cmp.Diff(want, push.Input{Run: in.Run, Skip: in.Skip}); diff != "" {
				t.Errorf("input run/skip (-want +got):\n%s", diff)
			}
			if in.Push.PullRequest == nil || in.Push.PullRequest.Closed || !strings.HasPrefix(in.Push.Ref, "refs/pull/") {
				t.Errorf("input push %+v", in.Push)
			}
		})
	}
}

// TestPullRequestStages: pullRequests.stages names the stages a pull
// request runs; the rest are skipped.
func TestPullRequestStages(t *testing.T) {
	e := newPREnv(t, prConfig(func(c *config.Config) { c.Repositories[0].PullRequests.Stages = []string{"Build", "Deploy"} }), "")
	code, resp := e.post(delivery(t, "github/pull-request-opened"))
	if code != 202 {
		t.Fatalf("%d %+v", code, resp)
	}
	var in push.Input
	if err := json.Unmarshal([]byte(e.sfn.Get(nameOf(resp.Execution)).Input), &in); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]bool{"Test": true, "Approve": true}, in.Skip); diff != "" {
		t.Errorf("skip (-want +got):\n%s", diff)
	}
}

// TestPullRequestSupersede: a newer commit on a pull request stops the
// older run (whatever the mode), the same commit again is a duplicate,
// and closing the pull request stops its run; another pull request's
// runs are left alone.
func TestPullRequestSupersede(t *testing.T) {
	e := newPREnv(t, prConfig(func(c *config.Config) { c.Repositories[0].PullRequests.Forks = true }), "")
	const c1, c2 = "1111111111111111111111111111111111111111", "2222222222222222222222222222222222222222"
	code, first := e.post(withHead(t, "github/pull-request-opened", c1))
	if code != 202 {
		t.Fatalf("first: %d %+v", code, first)
	}
	code, again := e.post(withHead(t, "github/pull-request-reopened", c1))
	if code != 200 || again.Status != StatusDuplicate || again.Execution != first.Execution {
		t.Fatalf("same commit again: %d %+v, want duplicate", code, again)
	}
	// pull request #3 (the fork sample, forks allowed here) runs beside it
	code, other := e.post(delivery(t, "github/pull-request-fork"))
	if code != 202 {
		t.Fatalf("other pull request: %d %+v", code, other)
	}
	code, second := e.post(withHead(t, "github/pull-request-synchronize", c2))
	if code != 202 {
		t.Fatalf("second: %d %+v", code, second)
	}
	f := e.sfn.Get(nameOf(first.Execution))
	if f.Status != sfntypes.ExecutionStatusAborted || f.Error != Superseded {
		t.Errorf("first run: %s %s, want stopped as superseded", f.Status, f.Error)
	}
	if len(e.events.Puts()) != 1 {
		t.Fatalf("%d events, want one SUPERSEDED", len(e.events.Puts()))
	}
	var d struct {
		State, Trigger string
		PullRequest    int
	}
	if err := json.Unmarshal([]byte(*e.events.Puts()[0].Entries[0].Detail), &d); err != nil || d.State != "SUPERSEDED" || d.Trigger != "pull_request" || d.PullRequest != 2 {
		t.Errorf("event %+v %v", d, err)
	}
	code, closed := e.post(withHead(t, "github/pull-request-closed", c2))
	if code != 200 || closed.Reason != "pull request #2 was closed: stopped 1 running execution(s)" {
		t.Fatalf("closed: %d %+v", code, closed)
	}
	s := e.sfn.Get(nameOf(second.Execution))
	if s.Status != sfntypes.ExecutionStatusAborted || s.Error != Closed || s.Cause != "pull request #2 was closed" {
		t.Errorf("second run: %s %s %q, want stopped as closed", s.Status, s.Error, s.Cause)
	}
	if o := e.sfn.Get(nameOf(other.Execution)); o.Status != sfntypes.ExecutionStatusRunning {
		t.Errorf("pull request #3's run: %s, want running", o.Status)
	}
}

// TestPullRequestInvalidBranch: a pull request whose branches git could
// not have is a 400, as a push's ref is.
func TestPullRequestInvalidBranch(t *testing.T) {
	e := newPREnv(t, prConfig(nil), "")
	h, b := delivery(t, "github/pull-request-opened")
	b = bytes.Replace(b, []byte(`"ref": "changes"`), []byte(`"ref": "a..b"`), 1)
	sign(h, b)
	code, resp := e.post(h, b)
	if code != 400 || !strings.Contains(resp.Error, "invalid ref") || e.sfn.Starts() != 0 {
		t.Errorf("%d %+v, want 400 invalid ref", code, resp)
	}
}
