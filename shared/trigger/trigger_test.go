package trigger

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pushline/pushline/shared/config"
	"github.com/pushline/pushline/shared/glob"
	"github.com/pushline/pushline/shared/push"
)

var repos = []config.Repository{
	{Provider: "github", Repository: "acme/app", Branches: []string{"main", "release/*"}, Tags: []string{"v*"},
		Paths: []string{"src/**", "go.mod"}, IgnorePaths: []string{"src/**/*.md"}},
	{Provider: "gitlab", Repository: "Group/Sub/Proj"},
	{Provider: "gitea", Repository: "ops/docs", IgnorePaths: []string{"docs/**"}},
}

func base() push.Push {
	return push.Push{Provider: "github", Repository: "Acme/App", Ref: "refs/heads/main", Branch: "main",
		After: "25d6d9e64a7bc5d1c1a2e0c4f8fbbd6a2b5c7e11", HeadCommit: push.Commit{ID: "25d6d9e64a7bc5d1c1a2e0c4f8fbbd6a2b5c7e11", Message: "Fix"},
		Files: []string{"src/a.go"}, FilesComplete: true}
}

func TestMatch(t *testing.T) {
	m, err := New(repos)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		edit   func(p *push.Push)
		repo   string // matched repository, "" if ignored
		reason string
	}{
		{"branch main", func(p *push.Push) {}, "acme/app", ""},
		{"release glob", func(p *push.Push) { p.Ref, p.Branch = "refs/heads/release/1.2", "release/1.2" }, "acme/app", ""},
		{"branch mismatch", func(p *push.Push) { p.Ref, p.Branch = "refs/heads/feature/x", "feature/x" }, "",
			"branch feature/x matches none of main, release/*"},
		{"tag", func(p *push.Push) { p.Ref, p.Branch, p.Tag = "refs/tags/v1.2.0", "", "v1.2.0" }, "acme/app", ""},
		{"tag mismatch", func(p *push.Push) { p.Ref, p.Branch, p.Tag = "refs/tags/nightly", "", "nightly" }, "",
			"tag nightly matches none of v*"},
		{"tag without tags configured", func(p *push.Push) {
			p.Provider, p.Repository, p.Ref, p.Branch, p.Tag = "gitlab", "group/sub/proj", "refs/tags/v1", "", "v1"
		}, "", "tag v1: no tags are configured for Group/Sub/Proj"},
		{"no branches = every branch", func(p *push.Push) {
			p.Provider, p.Repository, p.Ref, p.Branch = "gitlab", "group/sub/proj", "refs/heads/anything/at/all", "anything/at/all"
		}, "Group/Sub/Proj", ""},
		{"unknown repository", func(p *push.Push) { p.Repository = "acme/other" }, "",
			"repository acme/other on github is not configured"},
		{"other provider", func(p *push.Push) { p.Provider = "bitbucket" }, "",
			"repository Acme/App on bitbucket is not configured"},
		{"deleted", func(p *push.Push) { p.Deleted, p.After = true, push.ZeroCommit }, "", "branch main was deleted"},
		{"skip ci", func(p *push.Push) { p.HeadCommit.Message = "Docs\n\n[Skip CI]" }, "",
			"head commit 25d6d9e64a7b says [skip ci]"},
		{"ci skip", func(p *push.Push) { p.HeadCommit.Message = "[ci skip] docs" }, "", "head commit 25d6d9e64a7b says [ci skip]"},
		{"paths miss", func(p *push.Push) { p.Files = []string{"docs/a.md", "README.md"} }, "",
			"no changed file matches paths src/**, go.mod outside ignorePaths src/**/*.md"},
		{"paths ignored", func(p *push.Push) { p.Files = []string{"src/x/README.md"} }, "",
			"no changed file matches paths src/**, go.mod outside ignorePaths src/**/*.md"},
		{"paths one of many", func(p *push.Push) { p.Files = []string{"docs/a.md", "go.mod"} }, "acme/app", ""},
		{"incomplete files touch everything", func(p *push.Push) { p.Files, p.FilesComplete = []string{"docs/a.md"}, false }, "acme/app", ""},
		{"no files", func(p *push.Push) { p.Files = nil }, "", "the push changes no files"},
		{"ignorePaths only", func(p *push.Push) {
			p.Provider, p.Repository, p.Files = "gitea", "ops/docs", []string{"docs/a.md"}
		}, "", "every changed file matches ignorePaths docs/**"},
		{"ignorePaths only, other file", func(p *push.Push) {
			p.Provider, p.Repository, p.Files = "gitea", "ops/docs", []string{"docs/a.md", "Makefile"}
		}, "ops/docs", ""},
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

func TestNewBadGlob(t *testing.T) {
	_, err := New([]config.Repository{{Provider: "github", Repository: "a/b", Branches: []string{"a***"}}})
	if !errors.Is(err, glob.ErrBadPattern) {
		t.Fatalf("New error = %v, want ErrBadPattern", err)
	}
}

// FuzzSkipCI: the marker scan never panics and agrees with a plain
// lower-case search.
func FuzzSkipCI(f *testing.F) {
	f.Add("fix [skip ci]")
	f.Add("[CI SKIP]")
	f.Add("[skip c")
	f.Fuzz(func(t *testing.T, msg string) {
		got := SkipCI(msg)
		if got != "" && got != "[skip ci]" && got != "[ci skip]" {
			t.Fatalf("SkipCI(%q) = %q", msg, got)
		}
	})
}

func BenchmarkMatch(b *testing.B) {
	m, err := New(repos)
	if err != nil {
		b.Fatal(err)
	}
	p := base()
	p.Files = []string{"docs/a.md", "docs/b.md", "README.md", "src/x/y/z.go"}
	b.ReportAllocs()
	for b.Loop() {
		if !m.Match(p).Matched() {
			b.Fatal("no match")
		}
	}
}
