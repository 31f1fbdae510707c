package trigger

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pushline/pushline/shared/config"
	"github.com/pushline/pushline/shared/push"
)

func TestMatchPullRequest(t *testing.T) {
	m, err := New([]config.Repository{
		{Provider: "github", Repository: "acme/app", Branches: []string{"main"},
			PullRequests: &config.PullRequests{Branches: []string{"main", "release/*"}}},
		{Provider: "github", Repository: "acme/open", PullRequests: &config.PullRequests{Forks: true}},
		{Provider: "gitlab", Repository: "acme/nopr"},
	})
	if err != nil {
		t.Fatal(err)
	}
	base := func() push.Push {
		return push.Push{Provider: "github", Repository: "Acme/App", Ref: "refs/pull/7/head", Branch: "feature/x",
			After: "25d6d9e64a7bc5d1c1a2e0c4f8fbbd6a2b5c7e11", HeadCommit: push.Commit{ID: "25d6d9e64a7bc5d1c1a2e0c4f8fbbd6a2b5c7e11"},
			PullRequest: &push.PullRequest{Number: 7, Action: "opened", BaseBranch: "main", HeadRepository: "acme/app"}}
	}
	tests := []struct {
		name   string
		edit   func(p *push.Push)
		repo   string
		reason string
	}{
		{"target main", func(p *push.Push) {}, "acme/app", ""},
		{"target glob", func(p *push.Push) { p.PullRequest.BaseBranch = "release/2" }, "acme/app", ""},
		{"source branch is not what branches match", func(p *push.Push) { p.Branch = "anything" }, "acme/app", ""},
		{"target not matched", func(p *push.Push) { p.PullRequest.BaseBranch = "dev" }, "",
			"pull request #7: target branch dev matches none of main, release/*"},
		{"fork refused", func(p *push.Push) { p.PullRequest.Fork, p.PullRequest.HeadRepository = true, "eve/app" }, "",
			"pull request #7 comes from fork eve/app: forks are not allowed (pullRequests.forks is false)"},
		{"deleted fork refused", func(p *push.Push) { p.PullRequest.Fork, p.PullRequest.HeadRepository = true, "" }, "",
			"pull request #7 comes from fork a deleted fork: forks are not allowed (pullRequests.forks is false)"},
		{"fork allowed, every target", func(p *push.Push) {
			p.Repository, p.PullRequest.Fork, p.PullRequest.BaseBranch = "acme/open", true, "whatever"
		}, "acme/open", ""},
		{"draft runs", func(p *push.Push) { p.PullRequest.Draft = true }, "acme/app", ""},
		{"closed needs only the repository", func(p *push.Push) { p.PullRequest.Closed, p.PullRequest.BaseBranch = true, "dev" }, "acme/app", ""},
		{"skip ci", func(p *push.Push) { p.HeadCommit.Message = "wip [skip ci]" }, "", "pull request #7: head commit 25d6d9e64a7b says [skip ci]"},
		{"not configured for pull requests", func(p *push.Push) { p.Provider, p.Repository = "gitlab", "acme/nopr" }, "",
			"pull requests of acme/nopr are not configured (no pullRequests)"},
		{"unknown repository", func(p *push.Push) { p.Repository = "acme/other" }, "", "repository acme/other on github is not configured"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := base()
			tt.edit(&p)
			r := m.Match(p)
			got := ""
			if r.Matched() {
				got = r.Repository.Repository
			}
			if diff := cmp.Diff(struct{ Repo, Reason string }{tt.repo, tt.reason}, struct{ Repo, Reason string }{got, r.Reason}); diff != "" {
				t.Errorf("Match mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
