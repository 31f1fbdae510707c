package config

import (
	"slices"
	"strings"
	"time"
)

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
	MaxActions         = 8  // per stage: a stage's STARTED event, its actions' and the previous stage's SUCCEEDED fit one PutEvents call (10 entries)
	MaxInputs          = 12 // CodeBuild's secondary sources per build
	MaxNameLen         = 32 // pipeline and stage names
)

// Config is the whole pipeline config.
type Config struct {
	Name          string        `json:"name"`
	Repositories  []Repository  `json:"repositories"`
	Mode          string        `json:"mode,omitempty"`
	Stages        []Stage       `json:"stages"`
	Notifications Notifications `json:"notifications,omitzero"`
	// Warnings are what Parse accepted but will not for long (deprecated
	// keys), each saying what to write instead. Whoever loads the config
	// prints them.
	Warnings []string `json:"-"`
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
	// PullRequests, when set, makes the repository's pull requests start
	// runs. Nil: pull requests are ignored.
	PullRequests *PullRequests `json:"pullRequests,omitempty"`
	// Statuses, when false, turns commit statuses off for the repository
	// (nil: on whenever a token for it is configured).
	Statuses *bool `json:"statuses,omitempty"`
	// APIURL is where the host's API lives (commit statuses); default per
	// provider (github: https://api.github.com, bitbucket:
	// https://api.bitbucket.org/2.0, gitlab and gitea: the repository's
	// web host + /api/v4 or /api/v1).
	APIURL string `json:"apiUrl,omitempty"`
}

// PullRequests says which pull requests of a repository run, and what.
type PullRequests struct {
	// Branches are globs of the target (base) branch; empty: every branch.
	Branches []string `json:"branches,omitempty"`
	// Forks lets pull requests from forks run (never with secrets).
	Forks bool `json:"forks,omitempty"`
	// Stages names the stages a pull request runs; empty: every stage
	// before the first approval.
	Stages []string `json:"stages,omitempty"`
}

// Stage is a build stage (Buildspec set), an approval stage (Approval
// set), a stage of parallel actions (Actions set) or a deploy stage
// (Deploy set).
type Stage struct {
	Name string `json:"name"`
	Build
	Approval *Approval `json:"approval,omitempty"`
	// Actions are builds that run at the same time; the stage succeeds when
	// all do. Action names are unique across the pipeline (stages too).
	Actions []Action `json:"actions,omitempty"`
	Deploy  *Deploy  `json:"deploy,omitempty"`
}

// Build is what a build stage or a parallel action runs.
type Build struct {
	Buildspec   string            `json:"buildspec,omitempty"` // a path in the commit
	Timeout     Duration          `json:"timeout,omitzero"`
	Environment map[string]string `json:"environment,omitempty"`
	ComputeType string            `json:"computeType,omitempty"`
	// Inputs name earlier build stages or actions whose artifacts the
	// build also gets as secondary sources ($CODEBUILD_SRC_DIR_<Name>).
	// The primary source is always the commit's snapshot.
	Inputs []string `json:"inputs,omitempty"`
	// Input is the deprecated single input (one release): parsed into
	// Inputs with a warning.
	Input string `json:"input,omitempty"`
	// Secrets lists the Secrets Manager secret names or ARNs and SSM
	// parameter names the buildspec may read.
	Secrets []string `json:"secrets,omitempty"`
	// Privileged asks for CodeBuild privileged mode (docker build); Image
	// for a build image other than the default.
	Privileged bool   `json:"privileged,omitempty"`
	Image      string `json:"image,omitempty"`
}

// Action is one of a stage's parallel builds.
type Action struct {
	Name string `json:"name"`
	Build
}

// Deploy is a deploy stage.
type Deploy struct {
	CodeDeploy *CodeDeploy `json:"codedeploy,omitempty"`
}

// CodeDeploy deploys a build's artifact (a zip holding appspec.yml) with
// CodeDeploy (locally: the local deploy agent).
type CodeDeploy struct {
	Application     string `json:"application"`
	DeploymentGroup string `json:"deploymentGroup"`
	Input           string `json:"input"` // the build stage or action whose artifact is deployed
}

// IsApproval reports whether s is an approval stage.
func (s Stage) IsApproval() bool { return s.Approval != nil }

// IsParallel reports whether s is a stage of parallel actions.
func (s Stage) IsParallel() bool { return len(s.Actions) > 0 }

// IsDeploy reports whether s is a deploy stage.
func (s Stage) IsDeploy() bool { return s.Deploy != nil }

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

// SourceInput is the Stage.Input value that named the source snapshot
// (deprecated: every build's primary source is the snapshot). No stage or
// action may be called that.
const SourceInput = "Source"

// SourceIdentifier is the CodeBuild secondary source identifier of a
// build stage's or action's artifact given as an input: the name with '-'
// replaced by '_' (identifiers are letters, digits and '_'). CodeBuild
// unpacks it at $CODEBUILD_SRC_DIR_<identifier>.
func SourceIdentifier(name string) string { return strings.ReplaceAll(name, "-", "_") }

// Builds lists every build of the pipeline in order: build stages, and
// the actions of stages of actions (Stage is the stage's name, Name the
// action's; Name == Stage for a build stage).
func (c *Config) Builds() []NamedBuild {
	var out []NamedBuild
	for _, s := range c.Stages {
		switch {
		case s.IsParallel():
			for _, a := range s.Actions {
				out = append(out, NamedBuild{Stage: s.Name, Name: a.Name, Build: a.Build})
			}
		case s.IsApproval(), s.IsDeploy():
		default:
			out = append(out, NamedBuild{Stage: s.Name, Name: s.Name, Build: s.Build})
		}
	}
	return out
}

// NamedBuild is a build stage or an action, with its name and stage.
type NamedBuild struct {
	Stage string
	Name  string
	Build
}

// HasPullRequests reports whether some repository runs pull requests.
func (c *Config) HasPullRequests() bool {
	for _, r := range c.Repositories {
		if r.PullRequests != nil {
			return true
		}
	}
	return false
}

// PullRequestSkip returns the stages a pull request run of r leaves out
// (push.Input.Skip): those not in r.PullRequests.Stages, or when that is
// empty (or r has no pullRequests), every stage from the first approval
// on. Nil when a pull request runs every stage.
func (c *Config) PullRequestSkip(r Repository) map[string]bool {
	var run []string
	if r.PullRequests != nil {
		run = r.PullRequests.Stages
	}
	var skip map[string]bool
	approved := false
	for _, s := range c.Stages {
		approved = approved || s.IsApproval()
		if len(run) > 0 && !slices.Contains(run, s.Name) || len(run) == 0 && approved {
			if skip == nil {
				skip = map[string]bool{}
			}
			skip[s.Name] = true
		}
	}
	return skip
}
