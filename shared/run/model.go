package run

import "time"

// Run states: Step Functions' execution statuses.
const (
	Running   = "RUNNING"
	Succeeded = "SUCCEEDED"
	Failed    = "FAILED"
	TimedOut  = "TIMED_OUT"
	Aborted   = "ABORTED"
)

// Stage (and action) states.
const (
	StagePending   = "PENDING"
	StageRunning   = "RUNNING"
	StageWaiting   = "WAITING" // an approval waiting for a decision
	StageSucceeded = "SUCCEEDED"
	StageFailed    = "FAILED"
	StageStopped   = "STOPPED" // the run was stopped while the stage ran
	StageReused    = "REUSED"  // a retry started later: an earlier attempt ran it
	StageSkipped   = "SKIPPED" // the run does not run it (input skip)
	StageNotRun    = "NOT_RUN" // the run ended before it
)

// Stage kinds.
const (
	KindSource   = "source"
	KindBuild    = "build"
	KindApproval = "approval"
	KindParallel = "parallel"
)

// Run is one execution of a pipeline, as a person follows it.
type Run struct {
	ARN      string    `json:"arn"`
	Name     string    `json:"name"`
	Pipeline string    `json:"pipeline"`
	Status   string    `json:"status"`
	Started  time.Time `json:"started"`
	Stopped  time.Time `json:"stopped,omitzero"`

	Commit Commit `json:"commit"`

	Trigger string `json:"trigger"`           // push, pull_request, manual, rerun, retry
	By      string `json:"by,omitempty"`      // who asked (manual, rerun, retry)
	Attempt int    `json:"attempt"`           // 1 for a push's first run
	RetryOf string `json:"retryOf,omitempty"` // the execution this one repeats
	Resumed string `json:"resumed,omitempty"` // a retry's first stage

	Stages    []Stage    `json:"stages"`
	Artifacts []Artifact `json:"artifacts,omitempty"`

	// FailedStage is the stage (or action) that failed, Error its error and
	// Cause why, in words ("rejected by ops@example.com: not today").
	FailedStage string `json:"failedStage,omitempty"`
	Error       string `json:"error,omitempty"`
	Cause       string `json:"cause,omitempty"`

	// Attempts are the runs of the same push, oldest first (this one too).
	Attempts []Attempt `json:"attempts,omitempty"`

	projects projects // build stage → CodeBuild project
}

// Commit is what the run builds.
type Commit struct {
	Repository string `json:"repository"`
	RepoURL    string `json:"repoUrl,omitempty"`
	Ref        string `json:"ref"`
	Branch     string `json:"branch,omitempty"`
	Tag        string `json:"tag,omitempty"`
	SHA        string `json:"sha"`
	Message    string `json:"message,omitempty"`
	Author     string `json:"author,omitempty"`
	URL        string `json:"url,omitempty"`
	Pusher     string `json:"pusher,omitempty"`
}

// RefName is the branch or tag, else the ref.
func (c Commit) RefName() string {
	switch {
	case c.Branch != "":
		return c.Branch
	case c.Tag != "":
		return c.Tag
	}
	return c.Ref
}

// Short is the commit's first 7 characters.
func (c Commit) Short() string { return short(c.SHA, 7) }

// Title is the first line of the commit message.
func (c Commit) Title() string {
	for i := 0; i < len(c.Message); i++ {
		if c.Message[i] == '\n' {
			return c.Message[:i]
		}
	}
	return c.Message
}

// Stage is a stage of the pipeline (or a parallel action of one).
type Stage struct {
	Name     string    `json:"name"`
	Kind     string    `json:"kind"`
	State    string    `json:"state"`
	Started  time.Time `json:"started,omitzero"`
	Ended    time.Time `json:"ended,omitzero"`
	Build    *Build    `json:"build,omitempty"`
	Approval *Approval `json:"approval,omitempty"`
	Actions  []Stage   `json:"actions,omitempty"`
	Error    string    `json:"error,omitempty"`
	Cause    string    `json:"cause,omitempty"`
}

// Duration is how long the stage ran (so far, at now, if it runs).
func (s Stage) Duration(now time.Time) time.Duration {
	switch {
	case s.Started.IsZero():
		return 0
	case s.Ended.IsZero():
		return now.Sub(s.Started)
	}
	return s.Ended.Sub(s.Started)
}

// Build is a stage's CodeBuild build.
type Build struct {
	ID        string `json:"id"`
	Status    string `json:"status,omitempty"` // CodeBuild's BuildStatus
	Phase     string `json:"phase,omitempty"`  // the current (or last) phase
	LogsURL   string `json:"logsUrl,omitempty"`
	LogGroup  string `json:"logGroup,omitempty"`
	LogStream string `json:"logStream,omitempty"`
}

// Approval is an approval stage's request and decision.
type Approval struct {
	Approvers []string  `json:"approvers"`
	Asked     time.Time `json:"asked,omitzero"`
	Decision  string    `json:"decision,omitempty"` // APPROVED, REJECTED, TIMED_OUT; "" while waiting
	Approver  string    `json:"approver,omitempty"`
	Comment   string    `json:"comment,omitempty"`
	DecidedAt time.Time `json:"decidedAt,omitzero"`
}

// Artifact is an object a stage left in the artifact bucket.
type Artifact struct {
	Stage  string `json:"stage"`
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
	// From is the execution that produced it when not this one (a retry
	// reuses its earlier stages' artifacts).
	From string `json:"from,omitempty"`
	URL  string `json:"url,omitempty"` // a download link, when a Presigner is set
}

// Attempt is one run of a push.
type Attempt struct {
	Name    string    `json:"name"`
	ARN     string    `json:"arn"`
	Attempt int       `json:"attempt"`
	Status  string    `json:"status"`
	Started time.Time `json:"started"`
}

// Summary is a run as the run list shows it.
type Summary struct {
	Name    string    `json:"name"`
	ARN     string    `json:"arn"`
	Status  string    `json:"status"`
	Started time.Time `json:"started"`
	Stopped time.Time `json:"stopped,omitzero"`
	Attempt int       `json:"attempt"`
	// From the execution's input (when read): the commit and trigger.
	Commit  Commit `json:"commit"`
	Trigger string `json:"trigger,omitempty"`
}

func short(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
