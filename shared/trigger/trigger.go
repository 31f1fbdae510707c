package trigger

import (
	"fmt"
	"strings"

	"github.com/pushline/pushline/shared/config"
	"github.com/pushline/pushline/shared/glob"
	"github.com/pushline/pushline/shared/push"
)

// Matcher holds the compiled triggers of a config's repositories. It is
// safe for concurrent use.
type Matcher struct {
	repos []repo
}

type repo struct {
	cfg                         config.Repository
	branches, tags, paths, skip glob.List
	prBranches                  glob.List // pullRequests.branches: target branches
}

// New compiles the triggers of repos. A bad glob is an error naming the
// repository and the key.
func New(repos []config.Repository) (*Matcher, error) {
	m := &Matcher{repos: make([]repo, 0, len(repos))}
	for _, r := range repos {
		c := repo{cfg: r}
		for _, l := range []struct {
			key  string
			in   []string
			into *glob.List
		}{{"branches", r.Branches, &c.branches}, {"tags", r.Tags, &c.tags}, {"paths", r.Paths, &c.paths}, {"ignorePaths", r.IgnorePaths, &c.skip},
			{"pullRequests.branches", prBranches(r), &c.prBranches}} {
			g, err := glob.CompileList(l.in)
			if err != nil {
				return nil, fmt.Errorf("repository %s %s: %w", r.Repository, l.key, err)
			}
			*l.into = g
		}
		m.repos = append(m.repos, c)
	}
	return m, nil
}

// Result is the decision on one push.
type Result struct {
	// Repository is the configured repository the push starts the
	// pipeline for; nil when the push is ignored.
	Repository *config.Repository
	// Reason says why the push is ignored ("" when it matched).
	Reason string
}

// Matched reports whether the push starts the pipeline.
func (r Result) Matched() bool { return r.Repository != nil }

func prBranches(r config.Repository) []string {
	if r.PullRequests == nil {
		return nil
	}
	return r.PullRequests.Branches
}

// Match decides on p. A pull request's push (p.PullRequest set) is
// matched by MatchPullRequest. The first configured entry for p's repository whose
// triggers p satisfies wins; if none does, the reason is the first
// entry's.
func (m *Matcher) Match(p push.Push) Result {
	if p.PullRequest != nil {
		return m.MatchPullRequest(p)
	}
	if p.Deleted {
		return Result{Reason: fmt.Sprintf("%s was deleted", refName(p))}
	}
	reason := ""
	for i := range m.repos {
		r := &m.repos[i]
		if r.cfg.Provider != p.Provider || !strings.EqualFold(r.cfg.Repository, p.Repository) {
			continue
		}
		why := r.check(p)
		if why == "" {
			cfg := r.cfg
			return Result{Repository: &cfg}
		}
		if reason == "" {
			reason = why
		}
	}
	if reason == "" {
		reason = fmt.Sprintf("repository %s on %s is not configured", p.Repository, p.Provider)
	}
	return Result{Reason: reason}
}

func refName(p push.Push) string {
	switch {
	case p.Branch != "":
		return "branch " + p.Branch
	case p.Tag != "":
		return "tag " + p.Tag
	}
	return "ref " + p.Ref
}

func (r *repo) check(p push.Push) string {
	switch {
	case p.Branch != "":
		if len(r.branches) > 0 && !r.branches.Match(p.Branch) {
			return fmt.Sprintf("branch %s matches none of %s", p.Branch, r.branches)
		}
	case p.Tag != "":
		if len(r.tags) == 0 {
			return fmt.Sprintf("tag %s: no tags are configured for %s", p.Tag, r.cfg.Repository)
		}
		if !r.tags.Match(p.Tag) {
			return fmt.Sprintf("tag %s matches none of %s", p.Tag, r.tags)
		}
	default:
		return fmt.Sprintf("ref %s is neither a branch nor a tag", p.Ref)
	}
	if m := SkipCI(p.HeadCommit.Message); m != "" {
		return fmt.Sprintf("head commit %s says %s", short(p.HeadCommit.ID), m)
	}
	if len(r.paths) == 0 && len(r.skip) == 0 {
		return ""
	}
	if !p.FilesComplete {
		return "" // the file list is missing or truncated: every path counts as touched
	}
	for _, f := range p.Files {
		if (len(r.paths) == 0 || r.paths.Match(f)) && !r.skip.Match(f) {
			return ""
		}
	}
	switch {
	case len(p.Files) == 0:
		return "the push changes no files"
	case len(r.paths) == 0:
		return fmt.Sprintf("every changed file matches ignorePaths %s", r.skip)
	case len(r.skip) == 0:
		return fmt.Sprintf("no changed file matches paths %s", r.paths)
	}
	return fmt.Sprintf("no changed file matches paths %s outside ignorePaths %s", r.paths, r.skip)
}

// SkipCI returns the skip marker ("[skip ci]" or "[ci skip]", matched
// case-insensitively) found in a commit message, or "".
func SkipCI(message string) string {
	for i := 0; i+len("[skip ci]") <= len(message); i++ {
		if message[i] != '[' {
			continue
		}
		s := message[i : i+len("[skip ci]")]
		if strings.EqualFold(s, "[skip ci]") || strings.EqualFold(s, "[ci skip]") {
			return strings.ToLower(s)
		}
	}
	return ""
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
