package config

import "time"

// Modes say what happens when a push arrives while an older execution of
// the same repository and branch is still running.
const (
	ModeSuperseded = "superseded" // the older execution is stopped (default)
	ModeParallel   = "parallel"   // both run
	ModeQueued     = "queued"     // the newer waits until the older ends
)

// Defaults applied by Parse to what the config leaves out.
const (
	DefaultMode            = ModeSuperseded
	DefaultBuildTimeout    = 60 * time.Minute // CodeBuild's own default
	DefaultApprovalTimeout = 72 * time.Hour
)

// Limits checked by Parse.
const (
	MinBuildTimeout    = 5 * time.Minute
	MaxBuildTimeout    = 36 * time.Hour
	MinApprovalTimeout = time.Minute
	MaxApprovalTimeout = 365 * 24 * time.Hour // a Standard workflow's longest run
	MaxStages          = 50
	MaxNameLen         = 32 // pipeline and stage names
)

// Config is the whole pipeline config.
type Config struct {
	Name          string        `json:"name"`
	Repositories  []Repository  `json:"repositories"`
	Mode          string        `json:"mode,omitempty"`
	Stages        []Stage       `json:"stages"`
	Notifications Notifications `json:"notifications,omitzero"`
}

// Repository is a repository whose pushes start the pipeline, with the
// triggers that filter them.
type Repository struct {
	Provider    string   `json:"provider"`
	Repository  string   `json:"repository"`
	CloneURL    string   `json:"cloneUrl,omitempty"`
	Branches    []string `json:"branches,omitempty"`
	Tags        []string `json:"tags,omitempty"`
	Paths       []string `json:"paths,omitempty"`
	IgnorePaths []string `json:"ignorePaths,omitempty"`
}

// Stage is a build stage (Buildspec set) or an approval stage (Approval set).
type Stage struct {
	Name        string            `json:"name"`
	Buildspec   string            `json:"buildspec,omitempty"`
	Timeout     Duration          `json:"timeout,omitzero"`
	Environment map[string]string `json:"environment,omitempty"`
	ComputeType string            `json:"computeType,omitempty"`
	// Input names the earlier build stage whose artifact is this stage's
	// source, or "Source" for the source snapshot. Empty: the latest
	// artifact an earlier build stage produced, else the source snapshot.
	Input    string    `json:"input,omitempty"`
	Approval *Approval `json:"approval,omitempty"`
}

// IsApproval reports whether s is an approval stage.
func (s Stage) IsApproval() bool { return s.Approval != nil }

// Approval configures a manual approval stage.
type Approval struct {
	Approvers []string `json:"approvers"`
	Timeout   Duration `json:"timeout,omitzero"`
}

// Notifications says who mail comes from and who hears of failures.
type Notifications struct {
	From     string   `json:"from,omitempty"`
	Failures []string `json:"failures,omitempty"`
}

// SourceInput is the Stage.Input value that names the
// source snapshot. No stage may be called that.
const SourceInput = "Source"
