package codedeploy

import (
	"fmt"
	"time"
)

// Deployment statuses, as CodeDeploy reports them.
const (
	StatusCreated    = "Created"
	StatusQueued     = "Queued"
	StatusInProgress = "InProgress"
	StatusSucceeded  = "Succeeded"
	StatusFailed     = "Failed"
	StatusStopped    = "Stopped"
)

// Lifecycle event statuses.
const (
	EventPending    = "Pending"
	EventInProgress = "InProgress"
	EventSucceeded  = "Succeeded"
	EventFailed     = "Failed"
	EventSkipped    = "Skipped"
)

// Lifecycle events the agent runs itself (not scriptable).
const (
	DownloadBundle = "DownloadBundle"
	Install        = "Install"
)

// Epoch is a time as CodeDeploy's JSON protocol writes it: seconds since
// the epoch, with a fraction.
type Epoch struct{ time.Time }

// MarshalJSON writes seconds since the epoch.
func (e Epoch) MarshalJSON() ([]byte, error) {
	return fmt.Appendf(nil, "%.3f", float64(e.UnixMilli())/1000), nil
}

// UnmarshalJSON reads seconds since the epoch.
func (e *Epoch) UnmarshalJSON(b []byte) error {
	var f float64
	if _, err := fmt.Sscanf(string(b), "%g", &f); err != nil {
		return fmt.Errorf("epoch time %s: %w", b, err)
	}
	e.Time = time.UnixMilli(int64(f * 1000)).UTC()
	return nil
}

// Revision is where a revision is: an S3 bundle.
type Revision struct {
	RevisionType string      `json:"revisionType"` // "S3"
	S3Location   *S3Location `json:"s3Location,omitempty"`
}

// S3Location is a revision bundle in S3.
type S3Location struct {
	Bucket     string `json:"bucket"`
	Key        string `json:"key"`
	BundleType string `json:"bundleType,omitempty"` // "zip"
	Version    string `json:"version,omitempty"`
	ETag       string `json:"eTag,omitempty"`
}

// ErrorInformation is why a deployment failed.
type ErrorInformation struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// RollbackInfo links a failed deployment and its rollback.
type RollbackInfo struct {
	RollbackDeploymentID string `json:"rollbackDeploymentId,omitempty"`
	RollbackTriggeringID string `json:"rollbackTriggeringDeploymentId,omitempty"`
	RollbackMessage      string `json:"rollbackMessage,omitempty"`
}

// AutoRollback is a deployment's (or group's) automatic rollback setting.
type AutoRollback struct {
	Enabled bool     `json:"enabled"`
	Events  []string `json:"events,omitempty"` // DEPLOYMENT_FAILURE, DEPLOYMENT_STOP_ON_REQUEST, …
}

// rollsBackOnFailure reports whether a rolls back a failed deployment.
func (a *AutoRollback) rollsBackOnFailure() bool {
	if a == nil || !a.Enabled {
		return false
	}
	for _, e := range a.Events {
		if e == "DEPLOYMENT_FAILURE" {
			return true
		}
	}
	return len(a.Events) == 0
}

// Overview counts a deployment's instances by state (one, locally).
type Overview struct {
	Pending    int `json:"Pending"`
	InProgress int `json:"InProgress"`
	Succeeded  int `json:"Succeeded"`
	Failed     int `json:"Failed"`
	Skipped    int `json:"Skipped"`
	Ready      int `json:"Ready"`
}

// DeploymentInfo is a deployment as GetDeployment returns it.
type DeploymentInfo struct {
	ApplicationName     string            `json:"applicationName"`
	DeploymentGroupName string            `json:"deploymentGroupName"`
	DeploymentID        string            `json:"deploymentId"`
	Status              string            `json:"status"`
	ErrorInformation    *ErrorInformation `json:"errorInformation,omitempty"`
	CreateTime          Epoch             `json:"createTime"`
	StartTime           *Epoch            `json:"startTime,omitempty"`
	CompleteTime        *Epoch            `json:"completeTime,omitempty"`
	Description         string            `json:"description,omitempty"`
	Creator             string            `json:"creator"` // user, autoscaling, codeDeployRollback
	Revision            Revision          `json:"revision"`
	Overview            Overview          `json:"deploymentOverview"`
	AutoRollback        *AutoRollback     `json:"autoRollbackConfiguration,omitempty"`
	RollbackInfo        *RollbackInfo     `json:"rollbackInfo,omitempty"`
	FileExistsBehavior  string            `json:"fileExistsBehavior,omitempty"`
	ComputePlatform     string            `json:"computePlatform"` // "Server"
	DeploymentStyle     map[string]string `json:"deploymentStyle,omitempty"`
	// LifecycleEvents are the local instance's events (in AWS, a deployment
	// target's; see GetDeploymentTarget).
	LifecycleEvents []LifecycleEvent `json:"-"`
}

// LifecycleEvent is one lifecycle event on the instance.
type LifecycleEvent struct {
	LifecycleEventName string       `json:"lifecycleEventName"`
	Status             string       `json:"status"`
	StartTime          *Epoch       `json:"startTime,omitempty"`
	EndTime            *Epoch       `json:"endTime,omitempty"`
	Diagnostics        *Diagnostics `json:"diagnostics,omitempty"`
}

// Diagnostics is how a lifecycle event's scripts went.
type Diagnostics struct {
	ErrorCode  string `json:"errorCode"`
	ScriptName string `json:"scriptName"`
	Message    string `json:"message"`
	LogTail    string `json:"logTail"`
}
