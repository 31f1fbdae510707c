// Package push defines the normalized git push that every provider's
// webhook is parsed into, and that flows through a pipeline execution.
package push

import (
	"time"
	"unicode/utf8"
)

// Provider names, as they appear in the pipeline config.
const (
	GitHub     = "github"
	GitLab     = "gitlab"
	Bitbucket  = "bitbucket"
	Gitea      = "gitea" // Forgejo too
	CodeCommit = "codecommit"
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
	// PullRequest is set when the run builds a pull request's head commit
	// (After); Ref is then the pull request's head ref as the host serves
	// it (GitHub "refs/pull/<n>/head", GitLab "refs/merge-requests/<n>/head",
	// …) and Branch its source branch.
	PullRequest *PullRequest `json:"pullRequest,omitempty"`
}

// PullRequest says which pull request (merge request) a push stands for.
type PullRequest struct {
	Number int    `json:"number"`
	Action string `json:"action"` // the provider's action word: opened, synchronize, open, update, created, …
	Title  string `json:"title,omitempty"`
	URL    string `json:"url,omitempty"` // the pull request's page
	// BaseBranch is the branch the pull request merges into (what
	// pullRequests.branches matches).
	BaseBranch string `json:"baseBranch"`
	// HeadRepository is the full name of the repository holding the head
	// commit; HeadCloneURL where to fetch it. Fork is true when that is not
	// the base repository.
	HeadRepository string `json:"headRepository,omitempty"`
	HeadCloneURL   string `json:"headCloneUrl,omitempty"`
	Fork           bool   `json:"fork,omitempty"`
	Draft          bool   `json:"draft,omitempty"`
	// Closed is true for a delivery that closes or merges the pull request:
	// it starts nothing and stops the pull request's running execution.
	Closed bool `json:"closed,omitempty"`
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
	// Run says how this execution came about; absent means a push's first
	// run (Trigger "push", Attempt 1).
	Run *Run `json:"run,omitempty"`
	// Skip names stages this execution does not run (true for each), e.g.
	// the stages a pull request run leaves out. The state machine tests
	// $.skip.<stage> with IsPresent.
	Skip map[string]bool `json:"skip,omitempty"`
	// Resume makes the execution start at a stage instead of the Source
	// step (a retry); see docs/state-machine.md.
	Resume *Resume `json:"resume,omitempty"`
}

// Triggers: what started a run (Run.Trigger).
const (
	TriggerPush        = "push"
	TriggerPullRequest = "pull_request"
	TriggerManual      = "manual" // `pushline run BRANCH`
	TriggerRerun       = "rerun"  // the whole pipeline again, same commit
	TriggerRetry       = "retry"  // from the failed stage
)

// Run says how an execution came about.
type Run struct {
	Trigger string `json:"trigger"`
	By      string `json:"by,omitempty"` // who asked (manual, rerun, retry): an IAM ARN, a user name
	// Attempt counts the runs of the same push: 1 for the first, 2 for its
	// first rerun or retry, and so on.
	Attempt int `json:"attempt,omitempty"`
	// RetryOf is the execution ARN of the run this one repeats (rerun, retry).
	RetryOf string `json:"retryOf,omitempty"`
}

// Resume is where a retry starts: Stage is a stage name (for a stage of
// parallel actions, the stage), and the rest of the execution input is the
// data the failed run carried when it entered that stage.
type Resume struct {
	Stage string `json:"stage"`
}
