package webhook

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/pushline/pushline/shared/push"
)

// What a pull request delivery's action asks of the pipeline.
type prKind int

const (
	prIgnore prKind = iota // an action that changes no code (labels, reviews, edits, …)
	prRun                  // opened, new commits, reopened: build the head commit
	prClose                // closed or merged: stop the pull request's run
)

// prActions maps each provider's action words to what they ask. Every
// action not listed is ignored, with the reason naming it.
var prActions = map[string]map[string]prKind{
	push.GitHub:    {"opened": prRun, "synchronize": prRun, "reopened": prRun, "closed": prClose},
	push.Gitea:     {"opened": prRun, "synchronized": prRun, "reopened": prRun, "closed": prClose},
	push.GitLab:    {"open": prRun, "reopen": prRun, "update": prRun, "close": prClose, "merge": prClose},
	push.Bitbucket: {"pullrequest:created": prRun, "pullrequest:updated": prRun, "pullrequest:fulfilled": prClose, "pullrequest:rejected": prClose},
}

// prHandled lists a provider's handled actions, for the ignore reason.
func prHandled(provider string) string {
	var run, stop []string
	for _, a := range []string{"opened", "synchronize", "synchronized", "reopened", "open", "reopen", "update",
		"pullrequest:created", "pullrequest:updated", "closed", "close", "merge", "pullrequest:fulfilled", "pullrequest:rejected"} {
		switch prActions[provider][a] {
		case prRun:
			run = append(run, a)
		case prClose:
			stop = append(stop, a)
		}
	}
	return "runs on " + strings.Join(run, ", ") + "; " + strings.Join(stop, ", ") + " stops the run"
}

// PullRequestRef is the ref a pull request's head is served at: GitHub
// and Gitea/Forgejo refs/pull/<n>/head, GitLab refs/merge-requests/<n>/head.
// Bitbucket Cloud serves none; pushline names it refs/pull-requests/<n>/from
// (Bitbucket Data Center's name) so that runs of one pull request share a
// ref (supersede, execution names).
func PullRequestRef(provider string, number int) string {
	n := strconv.Itoa(number)
	switch provider {
	case push.GitLab:
		return "refs/merge-requests/" + n + "/head"
	case push.Bitbucket:
		return "refs/pull-requests/" + n + "/from"
	}
	return "refs/pull/" + n + "/head"
}

// hubRepo is a repository as GitHub and Gitea put it in a pull request.
type hubRepo struct {
	FullName string `json:"full_name"`
	HTMLURL  string `json:"html_url"`
	CloneURL string `json:"clone_url"`
}

// hubPullRequest is the pull_request payload of GitHub and Gitea/Forgejo.
type hubPullRequest struct {
	Action      string `json:"action"`
	Number      int    `json:"number"`
	Before      string `json:"before"` // GitHub synchronize
	After       string `json:"after"`  // GitHub synchronize
	PullRequest *struct {
		Number  int    `json:"number"`
		Title   string `json:"title"`
		HTMLURL string `json:"html_url"`
		State   string `json:"state"`
		Draft   bool   `json:"draft"`
		Merged  bool   `json:"merged"`
		Updated stamp  `json:"updated_at"`
		User    struct {
			Login string `json:"login"`
		} `json:"user"`
		Head struct {
			Ref  string   `json:"ref"`
			SHA  string   `json:"sha"`
			Repo *hubRepo `json:"repo"` // null when the fork was deleted
		} `json:"head"`
		Base struct {
			Ref  string   `json:"ref"`
			Repo *hubRepo `json:"repo"`
		} `json:"base"`
	} `json:"pull_request"`
	Repository hubRepo `json:"repository"`
	Sender     struct {
		Login string `json:"login"`
	} `json:"sender"`
}

func parseHubPullRequest(d *Delivery, body []byte) error {
	if err := jsonObject(body); err != nil {
		return err
	}
	var in hubPullRequest
	if err := json.Unmarshal(body, &in); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	pr := in.PullRequest
	if pr == nil {
		return fmt.Errorf("%w: %s delivery without pull_request", ErrMalformed, d.Event)
	}
	kind, ok := d.prKind(in.Action)
	if !ok {
		return nil
	}
	number := pr.Number
	if number == 0 {
		number = in.Number
	}
	base := in.Repository
	if pr.Base.Repo != nil && pr.Base.Repo.FullName != "" {
		base = *pr.Base.Repo
	}
	p := push.Push{
		Repository: base.FullName,
		CloneURL:   base.CloneURL,
		WebURL:     base.HTMLURL,
		Branch:     pr.Head.Ref,
		After:      pr.Head.SHA,
		Before:     in.Before,
		Pusher:     firstOf(in.Sender.Login, pr.User.Login),
		HeadCommit: push.Commit{ID: pr.Head.SHA},
		PullRequest: &push.PullRequest{
			Number: number, Action: in.Action, Title: pr.Title, URL: pr.HTMLURL,
			BaseBranch: pr.Base.Ref, Draft: pr.Draft, Closed: kind == prClose,
		},
	}
	if in.Action != "synchronize" {
		p.Before = "" // GitHub's before/after belong to synchronize only
	}
	if h := pr.Head.Repo; h != nil {
		p.PullRequest.HeadRepository, p.PullRequest.HeadCloneURL = h.FullName, h.CloneURL
	}
	p.PullRequest.Fork = !strings.EqualFold(p.PullRequest.HeadRepository, base.FullName)
	return d.pullRequest(p, 40)
}

// gitlabProject is a project as GitLab puts it in a merge request.
type gitlabProject struct {
	ID                int    `json:"id"`
	PathWithNamespace string `json:"path_with_namespace"`
	WebURL            string `json:"web_url"`
	GitHTTPURL        string `json:"git_http_url"`
}

// gitlabMergeRequest is GitLab's Merge Request Hook payload.
type gitlabMergeRequest struct {
	ObjectKind string `json:"object_kind"`
	User       struct {
		Username string `json:"username"`
		Name     string `json:"name"`
	} `json:"user"`
	Project gitlabProject `json:"project"`
	Attrs   *struct {
		IID             int            `json:"iid"`
		Title           string         `json:"title"`
		URL             string         `json:"url"`
		Action          string         `json:"action"`
		State           string         `json:"state"`
		TargetBranch    string         `json:"target_branch"`
		SourceBranch    string         `json:"source_branch"`
		SourceProjectID *int           `json:"source_project_id"`
		TargetProjectID int            `json:"target_project_id"`
		Draft           bool           `json:"draft"`
		WorkInProgress  bool           `json:"work_in_progress"`
		OldRev          string         `json:"oldrev"`
		Source          *gitlabProject `json:"source"` // null when the source project was deleted
		Target          *gitlabProject `json:"target"`
		LastCommit      *hubCommit     `json:"last_commit"`
	} `json:"object_attributes"`
}

func parseGitLabMergeRequest(d *Delivery, body []byte) error {
	if err := jsonObject(body); err != nil {
		return err
	}
	var in gitlabMergeRequest
	if err := json.Unmarshal(body, &in); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	a := in.Attrs
	if in.ObjectKind != "merge_request" || a == nil {
		return fmt.Errorf("%w: %s without merge_request object_attributes", ErrMalformed, d.Event)
	}
	kind, ok := d.prKind(a.Action)
	if !ok {
		return nil
	}
	// "update" is sent for every edit; only one with oldrev brings new commits.
	if a.Action == "update" && a.OldRev == "" {
		d.Ignored = fmt.Sprintf("merge request !%d update without new commits (no oldrev)", a.IID)
		return nil
	}
	target := in.Project
	if a.Target != nil && a.Target.PathWithNamespace != "" {
		target = *a.Target
	}
	p := push.Push{
		Repository: target.PathWithNamespace,
		CloneURL:   target.GitHTTPURL,
		WebURL:     target.WebURL,
		Branch:     a.SourceBranch,
		Before:     a.OldRev,
		Pusher:     firstOf(in.User.Username, in.User.Name),
		PullRequest: &push.PullRequest{
			Number: a.IID, Action: a.Action, Title: a.Title, URL: a.URL, BaseBranch: a.TargetBranch,
			Draft: a.Draft || a.WorkInProgress, Closed: kind == prClose,
		},
	}
	if c := a.LastCommit; c != nil {
		p.After, p.HeadCommit = c.ID, c.commit()
	}
	if s := a.Source; s != nil {
		p.PullRequest.HeadRepository, p.PullRequest.HeadCloneURL = s.PathWithNamespace, s.GitHTTPURL
	}
	switch {
	case a.SourceProjectID != nil && a.TargetProjectID != 0:
		p.PullRequest.Fork = *a.SourceProjectID != a.TargetProjectID
	default:
		p.PullRequest.Fork = !strings.EqualFold(p.PullRequest.HeadRepository, target.PathWithNamespace)
	}
	return d.pullRequest(p, 40)
}

// bitbucketEnd is the source or destination of a Bitbucket pull request.
type bitbucketEnd struct {
	Branch struct {
		Name string `json:"name"`
	} `json:"branch"`
	Commit *struct {
		Hash string `json:"hash"`
	} `json:"commit"`
	Repository *struct {
		FullName string `json:"full_name"`
		Links    struct {
			HTML struct {
				Href string `json:"href"`
			} `json:"html"`
		} `json:"links"`
	} `json:"repository"`
}

// bitbucketPullRequest is Bitbucket Cloud's pullrequest:* payload.
type bitbucketPullRequest struct {
	Actor struct {
		DisplayName string `json:"display_name"`
		Nickname    string `json:"nickname"`
	} `json:"actor"`
	PullRequest *struct {
		ID          int          `json:"id"`
		Title       string       `json:"title"`
		State       string       `json:"state"`
		Draft       bool         `json:"draft"`
		Source      bitbucketEnd `json:"source"`
		Destination bitbucketEnd `json:"destination"`
		Links       struct {
			HTML struct {
				Href string `json:"href"`
			} `json:"html"`
		} `json:"links"`
	} `json:"pullrequest"`
}

// bitbucketMinHash is the shortest commit hash accepted from Bitbucket,
// which puts 12-digit abbreviations in pull request payloads.
const bitbucketMinHash = 12

func parseBitbucketPullRequest(d *Delivery, body []byte) error {
	kind, ok := d.prKind(d.Event)
	if !ok {
		return nil
	}
	if err := jsonObject(body); err != nil {
		return err
	}
	var in bitbucketPullRequest
	if err := json.Unmarshal(body, &in); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	pr := in.PullRequest
	if pr == nil || pr.Destination.Repository == nil {
		return fmt.Errorf("%w: %s without pullrequest.destination.repository", ErrMalformed, d.Event)
	}
	base := pr.Destination.Repository
	web := base.Links.HTML.Href
	p := push.Push{
		Repository: base.FullName,
		WebURL:     web,
		Branch:     pr.Source.Branch.Name,
		Pusher:     firstOf(in.Actor.Nickname, in.Actor.DisplayName),
		PullRequest: &push.PullRequest{
			Number: pr.ID, Action: d.Event, Title: pr.Title, URL: pr.Links.HTML.Href,
			BaseBranch: pr.Destination.Branch.Name, Draft: pr.Draft, Closed: kind == prClose,
		},
	}
	if web != "" {
		p.CloneURL = web + ".git"
	}
	if c := pr.Source.Commit; c != nil {
		p.After = c.Hash
		p.HeadCommit.ID = c.Hash
	}
	if r := pr.Source.Repository; r != nil {
		p.PullRequest.HeadRepository = r.FullName
		if r.Links.HTML.Href != "" {
			p.PullRequest.HeadCloneURL = r.Links.HTML.Href + ".git"
		}
	}
	p.PullRequest.Fork = !strings.EqualFold(p.PullRequest.HeadRepository, base.FullName)
	return d.pullRequest(p, bitbucketMinHash)
}

// prKind classifies a delivery's action; ok is false (and d.Ignored set)
// for an action that asks nothing.
func (d *Delivery) prKind(action string) (prKind, bool) {
	k := prActions[d.Provider][action]
	if k == prIgnore {
		d.Ignored = fmt.Sprintf("pull request action %q is not handled (%s)", clipText(action, 64), prHandled(d.Provider))
		return k, false
	}
	return k, true
}

// pullRequest checks and completes a pull request's push and records it
// as the delivery's only push. minHash is the shortest commit id the
// provider sends (40, or 12 for Bitbucket's abbreviations).
func (d *Delivery) pullRequest(p push.Push, minHash int) error {
	pr := p.PullRequest
	switch {
	case p.Repository == "":
		return fmt.Errorf("%w: pull request without a base repository full name", ErrMalformed)
	case pr.Number <= 0:
		return fmt.Errorf("%w: pull request number %d", ErrMalformed, pr.Number)
	case pr.BaseBranch == "":
		return fmt.Errorf("%w: pull request #%d without a target branch", ErrMalformed, pr.Number)
	case !validHash(p.After, minHash):
		return fmt.Errorf("%w: pull request #%d head %q is not a commit id", ErrMalformed, pr.Number, clipText(p.After, 80))
	case p.Before != "" && !validCommit(p.Before):
		return fmt.Errorf("%w: pull request #%d before %q is not a commit id", ErrMalformed, pr.Number, clipText(p.Before, 80))
	}
	p.Ref = PullRequestRef(d.Provider, pr.Number)
	pr.Title = clipText(pr.Title, 256)
	for _, f := range []*string{&pr.URL, &pr.HeadRepository, &pr.HeadCloneURL, &pr.Action} {
		*f = clipText(*f, 1024)
	}
	if p.Before == "" {
		p.Before = push.ZeroCommit
	}
	if p.HeadCommit.ID == "" {
		p.HeadCommit.ID = p.After
	}
	d.Pushes = []push.Push{p}
	return nil
}

// validHash reports whether s is a lowercase hex commit id of min to 64
// digits.
func validHash(s string, min int) bool {
	if len(s) == 40 || len(s) == 64 {
		return validCommit(s)
	}
	if len(s) < min || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// clipText shortens an outside value for a message.
func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}
