// Package config reads and validates the pipeline config: one JSON object,
// by default the "pushline" key of cdk.json's context, or the file named by
// PUSHLINE_CONFIG. Both the CDK app and the local stack read it.
package config

import "time"

// Modes say what happens when a push arrives while an older execution of
// the same repository and branch is still running.
const (
	ModeSuperseded = "superseded" // the older execution is stopped (default)
	ModeParallel   = "parallel"   // both run
	ModeQueued     = "queued"     // the newer waits until the older ends
)

// Config is the whole pipeline config.
type Config struct {
	Name          string         `json:"name"`
	Repositories  []Repository   `json:"repositories"`
	Mode          string         `json:"mode,omitempty"`
	Stages        []Stage        `json:"stages"`
	Notifications Notifications  `json:"notifications,omitzero"`
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
	Input       string            `json:"input,omitempty"`
	Approval    *Approval         `json:"approval,omitempty"`
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

// Duration is a time.Duration written in JSON as a Go duration string
// ("30m", "72h").
type Duration struct{ time.Duration }
