package trigger

import (
	"fmt"
	"strings"

	"github.com/pushline/pushline/shared/push"
)

// MatchPullRequest decides on a pull request's push: the repository must
// be configured with pullRequests, the target branch match its branches
// (none: every branch), a fork's pull request needs pullRequests.forks,
// and the head commit message (when the provider sent it) must not say
// [skip ci]. A closing delivery (PullRequest.Closed) only needs the
// repository configured for pull requests: it stops, never starts.
func (m *Matcher) MatchPullRequest(p push.Push) Result {
	pr := p.PullRequest
	if pr == nil {
		return Result{Reason: "not a pull request"}
	}
	reason := ""
	for i := range m.repos {
		r := &m.repos[i]
		if r.cfg.Provider != p.Provider || !strings.EqualFold(r.cfg.Repository, p.Repository) {
			continue
		}
		why := r.checkPullRequest(p)
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

func (r *repo) checkPullRequest(p push.Push) string {
	pr := p.PullRequest
	switch {
	case r.cfg.PullRequests == nil:
		return fmt.Sprintf("pull requests of %s are not configured (no pullRequests)", r.cfg.Repository)
	case pr.Closed:
		return ""
	case len(r.prBranches) > 0 && !r.prBranches.Match(pr.BaseBranch):
		return fmt.Sprintf("pull request #%d: target branch %s matches none of %s", pr.Number, pr.BaseBranch, r.prBranches)
	case pr.Fork && !r.cfg.PullRequests.Forks:
		from := pr.HeadRepository
		if from == "" {
			from = "a deleted fork"
		}
		return fmt.Sprintf("pull request #%d comes from fork %s: forks are not allowed (pullRequests.forks is false)", pr.Number, from)
	}
	if m := SkipCI(p.HeadCommit.Message); m != "" {
		return fmt.Sprintf("pull request #%d: head commit %s says %s", pr.Number, short(p.HeadCommit.ID), m)
	}
	return ""
}
