package webhook

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/pushline/pushline/shared/push"
)

// githubMaxCommits is the most commits a GitHub push webhook lists; a
// push that reaches it may have more. githubMaxFiles bounds each of a
// commit's added/removed/modified lists the same way: a list that long is
// taken as capped.
const (
	githubMaxCommits = 2048
	githubMaxFiles   = 3000
)

// stamp is a lenient timestamp: an unparsable one is left zero rather
// than failing the delivery.
type stamp struct{ time.Time }

func (s *stamp) UnmarshalJSON(b []byte) error {
	var v string
	if json.Unmarshal(b, &v) == nil {
		s.set(v)
	}
	return nil
}

func (s *stamp) set(v string) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		s.Time = t
	}
}

// hubCommit is a commit as GitHub and Gitea send it.
type hubCommit struct {
	ID        string `json:"id"`
	Message   string `json:"message"`
	URL       string `json:"url"`
	Timestamp stamp  `json:"timestamp"`
	Author    struct {
		Name  string `json:"name"`
		Email string `json:"email"`
	} `json:"author"`
	Added    []string `json:"added"`
	Removed  []string `json:"removed"`
	Modified []string `json:"modified"`
}

func (c *hubCommit) commit() push.Commit {
	return push.Commit{ID: c.ID, Message: c.Message, Author: author(c.Author.Name, c.Author.Email), URL: c.URL, Timestamp: c.Timestamp.Time}
}

// hubPush is the push payload of GitHub and Gitea/Forgejo (Gitea's is
// modelled on GitHub's).
type hubPush struct {
	Ref          string      `json:"ref"`
	Before       string      `json:"before"`
	After        string      `json:"after"`
	Created      bool        `json:"created"`
	Deleted      bool        `json:"deleted"`
	Size         *int        `json:"size"`          // GitHub Events API shape only
	TotalCommits *int        `json:"total_commits"` // Gitea
	Commits      []hubCommit `json:"commits"`
	HeadCommit   *hubCommit  `json:"head_commit"`
	Repository   struct {
		FullName string `json:"full_name"`
		HTMLURL  string `json:"html_url"`
		CloneURL string `json:"clone_url"`
	} `json:"repository"`
	Pusher struct {
		Name     string `json:"name"`     // GitHub
		Login    string `json:"login"`    // Gitea
		Username string `json:"username"` // Gitea
	} `json:"pusher"`
	// Filled by decodeHub (not by encoding/json): the distinct paths of
	// the listed commits' file lists, and the longest single list.
	files       files
	longestList int
}

func parseGitHub(d *Delivery, body []byte) error {
	switch d.Event {
	case "ping":
		d.Ignored = "ping event"
		return jsonObject(body)
	case "pull_request":
		return parseHubPullRequest(d, body)
	case "push":
	default:
		d.Ignored = fmt.Sprintf("event %q is not a push", d.Event)
		return nil
	}
	return parseHub(d, body)
}

func parseGitea(d *Delivery, body []byte) error {
	switch d.Event {
	case "pull_request", "pull_request_sync":
		return parseHubPullRequest(d, body)
	}
	if d.Event != "push" {
		d.Ignored = fmt.Sprintf("event %q is not a push", d.Event)
		return nil
	}
	return parseHub(d, body)
}

func parseHub(d *Delivery, body []byte) error {
	if err := jsonObject(body); err != nil {
		return err
	}
	var in hubPush
	if err := decodeHub(body, &in); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	p := push.Push{
		Repository: in.Repository.FullName,
		CloneURL:   in.Repository.CloneURL,
		WebURL:     in.Repository.HTMLURL,
		Ref:        in.Ref,
		Before:     in.Before,
		After:      in.After,
		Pusher:     firstOf(in.Pusher.Name, in.Pusher.Login, in.Pusher.Username),
	}
	if in.HeadCommit != nil {
		p.HeadCommit = in.HeadCommit.commit()
		// For an annotated tag "after" is the tag object; the commit to
		// build is the head commit.
		if validCommit(p.HeadCommit.ID) {
			p.After = p.HeadCommit.ID
		}
	} else if n := len(in.Commits); n > 0 {
		p.HeadCommit = in.Commits[n-1].commit()
	}
	// decodeHub collected the listed commits' files in in.files
	complete := len(in.Commits) > 0 && !(d.Provider == push.GitHub && in.longestList >= githubMaxFiles)
	switch {
	case d.Provider == push.GitHub && len(in.Commits) >= githubMaxCommits,
		in.Size != nil && *in.Size > len(in.Commits),
		in.TotalCommits != nil && *in.TotalCommits > len(in.Commits):
		complete = false
	}
	p.Files, p.FilesComplete = in.files.list, complete
	if in.Deleted && p.After != push.ZeroCommit {
		return fmt.Errorf("%w: deleted push with after %q", ErrMalformed, p.After)
	}
	return d.single(p)
}

// gitlabPush is GitLab's push and tag push payload.
type gitlabPush struct {
	ObjectKind        string  `json:"object_kind"`
	Ref               string  `json:"ref"`
	Before            string  `json:"before"`
	After             string  `json:"after"`
	CheckoutSHA       *string `json:"checkout_sha"`
	UserName          string  `json:"user_name"`
	UserUsername      string  `json:"user_username"`
	TotalCommitsCount *int    `json:"total_commits_count"`
	Project           struct {
		PathWithNamespace string `json:"path_with_namespace"`
		WebURL            string `json:"web_url"`
		GitHTTPURL        string `json:"git_http_url"`
	} `json:"project"`
	Commits []hubCommit `json:"commits"`
}

func parseGitLab(d *Delivery, body []byte) error {
	switch d.Event {
	case "Merge Request Hook":
		return parseGitLabMergeRequest(d, body)
	case "Push Hook", "Tag Push Hook", "System Hook":
	default:
		d.Ignored = fmt.Sprintf("event %q is not a push", d.Event)
		return nil
	}
	if err := jsonObject(body); err != nil {
		return err
	}
	var in gitlabPush
	if err := json.Unmarshal(body, &in); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if in.ObjectKind != "push" && in.ObjectKind != "tag_push" {
		d.Ignored = fmt.Sprintf("object_kind %q is not a push", in.ObjectKind)
		return nil
	}
	p := push.Push{
		Repository: in.Project.PathWithNamespace,
		CloneURL:   in.Project.GitHTTPURL,
		WebURL:     in.Project.WebURL,
		Ref:        in.Ref,
		Before:     in.Before,
		After:      in.After,
		Pusher:     firstOf(in.UserUsername, in.UserName),
	}
	// For annotated tags "after" is the tag object; checkout_sha is the
	// commit.
	if in.CheckoutSHA != nil && validCommit(*in.CheckoutSHA) {
		p.After = *in.CheckoutSHA
	}
	var f files
	for i := range in.Commits {
		c := &in.Commits[i]
		f.add(c.Added, c.Removed, c.Modified)
		if c.ID == p.After {
			p.HeadCommit = c.commit()
		}
	}
	if p.HeadCommit.ID == "" && len(in.Commits) > 0 && in.ObjectKind == "push" {
		p.HeadCommit = in.Commits[len(in.Commits)-1].commit()
	}
	complete := len(in.Commits) > 0 && (in.TotalCommitsCount == nil || *in.TotalCommitsCount <= len(in.Commits))
	p.Files, p.FilesComplete = f.list, complete
	return d.single(p)
}

// bitbucketRef is the "old" or "new" state of a changed ref.
type bitbucketRef struct {
	Type   string `json:"type"` // branch, tag (named_branch, bookmark: Mercurial)
	Name   string `json:"name"`
	Target struct {
		Hash    string `json:"hash"`
		Message string `json:"message"`
		Date    stamp  `json:"date"`
		Author  struct {
			Raw  string `json:"raw"`
			User *struct {
				DisplayName string `json:"display_name"`
			} `json:"user"`
		} `json:"author"`
		Links struct {
			HTML struct {
				Href string `json:"href"`
			} `json:"html"`
		} `json:"links"`
	} `json:"target"`
}

// bitbucketPush is Bitbucket Cloud's repo:push payload.
type bitbucketPush struct {
	Actor struct {
		DisplayName string `json:"display_name"`
		Nickname    string `json:"nickname"`
	} `json:"actor"`
	Repository struct {
		FullName string `json:"full_name"`
		Links    struct {
			HTML struct {
				Href string `json:"href"`
			} `json:"html"`
		} `json:"links"`
	} `json:"repository"`
	Push *struct {
		Changes []struct {
			Old *bitbucketRef `json:"old"`
			New *bitbucketRef `json:"new"`
		} `json:"changes"`
	} `json:"push"`
}

func parseBitbucket(d *Delivery, body []byte) error {
	switch d.Event {
	case "repo:push":
	case "diagnostics:ping":
		d.Ignored = "ping event"
		return nil
	default:
		if strings.HasPrefix(d.Event, "pullrequest:") {
			return parseBitbucketPullRequest(d, body)
		}
		d.Ignored = fmt.Sprintf("event %q is not a push", d.Event)
		return nil
	}
	if err := jsonObject(body); err != nil {
		return err
	}
	var in bitbucketPush
	if err := json.Unmarshal(body, &in); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if in.Push == nil {
		return fmt.Errorf("%w: repo:push without push", ErrMalformed)
	}
	web := in.Repository.Links.HTML.Href
	clone := ""
	if web != "" {
		clone = web + ".git"
	}
	var skipped []string
	for _, ch := range in.Push.Changes {
		ref := ch.New
		if ref == nil {
			ref = ch.Old
		}
		if ref == nil {
			return fmt.Errorf("%w: change with neither old nor new", ErrMalformed)
		}
		var full string
		switch ref.Type {
		case "branch":
			full = "refs/heads/" + ref.Name
		case "tag":
			full = "refs/tags/" + ref.Name
		default:
			skipped = append(skipped, fmt.Sprintf("%s %s", ref.Type, ref.Name))
			continue
		}
		p := push.Push{
			Repository: in.Repository.FullName,
			CloneURL:   clone,
			WebURL:     web,
			Ref:        full,
			Before:     push.ZeroCommit,
			After:      push.ZeroCommit,
			Pusher:     firstOf(in.Actor.Nickname, in.Actor.DisplayName),
		}
		if ch.Old != nil {
			p.Before = ch.Old.Target.Hash
		}
		if ch.New != nil {
			t := &ch.New.Target
			p.After = t.Hash
			a := t.Author.Raw
			if a == "" && t.Author.User != nil {
				a = t.Author.User.DisplayName
			}
			p.HeadCommit = push.Commit{ID: t.Hash, Message: t.Message, Author: a, URL: t.Links.HTML.Href, Timestamp: t.Date.Time}
		}
		// Bitbucket sends no file lists: every push touches every path.
		ignored, err := finish(&p)
		if err != nil {
			return err
		}
		if ignored != "" {
			skipped = append(skipped, ignored)
			continue
		}
		d.Pushes = append(d.Pushes, p)
	}
	if len(d.Pushes) == 0 {
		if len(skipped) > 0 {
			d.Ignored = fmt.Sprintf("no branch or tag changes (%s)", skipped[0])
		} else {
			d.Ignored = "push without changes"
		}
	}
	return nil
}

// single finishes p, a delivery's only push, and records it on d, or
// the reason it is ignored.
func (d *Delivery) single(p push.Push) error {
	ignored, err := finish(&p)
	if err != nil {
		return err
	}
	if ignored != "" {
		d.Ignored = ignored
		return nil
	}
	d.Pushes = []push.Push{p}
	return nil
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
