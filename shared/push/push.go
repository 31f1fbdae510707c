// Package push defines the normalized git push that every provider's
// webhook is parsed into, and that flows through a pipeline execution.
package push

import (
	"time"
	"unicode/utf8"
)

// Provider names, as they appear in the pipeline config.
const (
	GitHub    = "github"
	GitLab    = "gitlab"
	Bitbucket = "bitbucket"
	Gitea     = "gitea" // Forgejo too
)

// ZeroCommit is the all-zeros object id a provider sends as "after" when a
// ref is deleted (and as "before" when it is created).
const ZeroCommit = "0000000000000000000000000000000000000000"

// Push is one ref update on one repository, whatever provider sent it.
// A provider delivery that updates several refs (Bitbucket) becomes several
// Pushes.
type Push struct {
	Provider   string `json:"provider"`
	Repository string `json:"repository"` // full name, e.g. "acme/app" (GitLab: path_with_namespace)
	CloneURL   string `json:"cloneUrl"`   // where the source step fetches from (the config's cloneUrl wins)
	WebURL     string `json:"webUrl"`     // the repository's page
	Ref        string `json:"ref"`        // "refs/heads/main", "refs/tags/v1.2.0"
	Branch     string `json:"branch,omitempty"`
	Tag        string `json:"tag,omitempty"`
	Before     string `json:"before"`
	After      string `json:"after"` // the commit to build
	Pusher     string `json:"pusher,omitempty"`
	HeadCommit Commit `json:"headCommit"`
	Deleted    bool   `json:"deleted,omitempty"` // the ref was deleted (After is ZeroCommit)
	// Files lists the paths the pushed commits added, modified or removed.
	// FilesComplete is false when the provider did not send the list or
	// truncated it; triggers then treat the push as touching every path.
	Files         []string `json:"files,omitempty"`
	FilesComplete bool     `json:"filesComplete,omitempty"`
	DeliveryID    string   `json:"deliveryId,omitempty"`
}

// Commit is the head commit of a push.
type Commit struct {
	ID        string    `json:"id"`
	Message   string    `json:"message"`
	Author    string    `json:"author,omitempty"` // "Name <email>" or the provider's display name
	URL       string    `json:"url,omitempty"`
	Timestamp time.Time `json:"timestamp,omitzero"`
}

// Trimmed returns a copy small enough to travel in a Step Functions
// execution input whatever the size of the push: no file list, the head
// commit message cut to 4 KiB and every other free-text field (names,
// URLs) to 1 KiB, on UTF-8 boundaries.
func (p Push) Trimmed() Push {
	const maxMessage, maxField = 4096, 1024
	p.Files = nil
	p.FilesComplete = false
	p.HeadCommit.Message = clip(p.HeadCommit.Message, maxMessage)
	for _, f := range []*string{&p.CloneURL, &p.WebURL, &p.Pusher, &p.HeadCommit.Author, &p.HeadCommit.URL, &p.DeliveryID} {
		*f = clip(*f, maxField)
	}
	return p
}

// clip cuts s to at most n bytes on a UTF-8 boundary, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	m := s[:n]
	for !utf8.ValidString(m) {
		m = m[:len(m)-1]
	}
	return m + "…"
}

// Input is the input of a pipeline execution: what the webhook passes to
// StartExecution and what the state machine's steps read (as $.pipeline,
// $.push).
type Input struct {
	Pipeline string `json:"pipeline"`
	Push     Push   `json:"push"` // always Trimmed
	// Request is unique to each webhook request that starts an execution.
	// Step Functions treats a StartExecution with an existing name and the
	// same input as the same call (an SDK retry) and one with another input
	// as ExecutionAlreadyExists: Request makes a second delivery of a push
	// the latter, so it is told apart as a duplicate without guessing.
	Request string `json:"request,omitempty"`
}
