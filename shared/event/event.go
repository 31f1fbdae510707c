// Package event defines the EventBridge events pushline emits: their
// source, detail types, states and detail schema (README.md,
// "Events"). The state machine emits most of them through the
// events:putEvents integration; the webhook and approval functions emit the
// rest with PutEvents.
package event

import "time"

// Source is the EventBridge source of every pushline event.
const Source = "pushline"

// Detail types.
const (
	PipelineExecution = "Pipeline Execution State Change"
	StageExecution    = "Stage Execution State Change"
	Approval          = "Approval State Change"
)

// States.
const (
	Started    = "STARTED"
	Succeeded  = "SUCCEEDED"
	Failed     = "FAILED"
	Superseded = "SUPERSEDED"
	Stopped    = "STOPPED"
	Requested  = "REQUESTED"
	Approved   = "APPROVED"
	Rejected   = "REJECTED"
	TimedOut   = "TIMED_OUT"
)

// Detail is the detail of every pushline event. Fields that do not apply
// to an event are omitted.
type Detail struct {
	Pipeline   string `json:"pipeline"`
	Execution  string `json:"execution"` // the execution ARN
	State      string `json:"state"`
	Repository string `json:"repository"`
	Ref        string `json:"ref"`
	Commit     string `json:"commit"`
	Stage      string `json:"stage,omitempty"`
	Action     string `json:"action,omitempty"` // a parallel action of Stage
	BuildID    string `json:"buildId,omitempty"`
	LogsURL    string `json:"logsUrl,omitempty"`
	Error      string `json:"error,omitempty"`
	Cause      string `json:"cause,omitempty"`
	Approver   string `json:"approver,omitempty"`
	Comment    string `json:"comment,omitempty"`
	// SupersededBy is the execution ARN that superseded this one.
	SupersededBy string `json:"supersededBy,omitempty"`
	// Trigger, Attempt and RetryOf say how the run came about (push.Run);
	// PullRequest is the pull request number of a pull request run.
	Trigger     string `json:"trigger,omitempty"`
	Attempt     int    `json:"attempt,omitempty"`
	RetryOf     string `json:"retryOf,omitempty"`
	PullRequest int    `json:"pullRequest,omitempty"`
	// DeploymentID is a CodeDeploy deployment's id (deploy stages).
	DeploymentID string `json:"deploymentId,omitempty"`
	// Failures are the messages of a failed build's failed phases
	// (Build.Phases[].Contexts[].Message): on the local stack a
	// TEST_FAILURES summary naming the failing tests comes first; in AWS
	// they are CodeBuild's own ("Error while executing command: …").
	Failures []string `json:"failures,omitempty"`
}

// Event is an event as EventBridge delivers it to targets (and as the local
// stack appends it to events.jsonl).
type Event struct {
	Version    string    `json:"version"` // "0"
	ID         string    `json:"id"`
	DetailType string    `json:"detail-type"`
	Source     string    `json:"source"`
	Account    string    `json:"account"`
	Time       time.Time `json:"time"`
	Region     string    `json:"region"`
	Resources  []string  `json:"resources"`
	Detail     Detail    `json:"detail"`
}
