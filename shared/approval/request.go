package approval

import (
	"log/slog"

	"github.com/pushline/pushline/shared/push"
)

// Request is the input of the notify function, the Payload the state
// machine passes to lambda:invoke.waitForTaskToken (see
// events/approval/notify-input.json).
type Request struct {
	Pipeline  string   `json:"pipeline"`
	Execution string   `json:"execution"` // the execution ARN
	Stage     string   `json:"stage"`
	Approvers []string `json:"approvers"`
	// TimeoutSeconds is the stage's approval timeout (the Task state's
	// TimeoutSeconds); links expire with it. 0 means DefaultTimeout.
	TimeoutSeconds int64     `json:"timeoutSeconds"`
	Push           push.Push `json:"push"`
	// Builds are the build stages run so far, in order.
	Builds    []Build `json:"builds"`
	TaskToken string  `json:"taskToken"`
}

// Build is one build stage run before the approval.
type Build struct {
	Stage   string `json:"stage"`
	BuildID string `json:"buildId"`
	Status  string `json:"status"` // CodeBuild's build status, e.g. "SUCCEEDED"
	LogsURL string `json:"logsUrl,omitempty"`
}

// Output is what the approval function sends with SendTaskSuccess when
// the stage is approved: the approval task's output.
type Output struct {
	Approved  bool   `json:"approved"`
	Approver  string `json:"approver"`
	Comment   string `json:"comment"`
	DecidedAt string `json:"decidedAt"` // RFC 3339, UTC
}

// Rejection is the cause (as JSON) of the SendTaskFailure that rejects a
// stage; the error is ErrorRejected.
type Rejection struct {
	Approver  string `json:"approver"`
	Comment   string `json:"comment"`
	DecidedAt string `json:"decidedAt"` // RFC 3339, UTC
}

// ErrorRejected is the Step Functions error of a rejected approval.
const ErrorRejected = "Pushline.Rejected"

// LogValue logs a Request without its task token.
func (r Request) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("pipeline", r.Pipeline),
		slog.String("execution", r.Execution),
		slog.String("stage", r.Stage),
		slog.Int("approvers", len(r.Approvers)),
		slog.Int64("timeoutSeconds", r.TimeoutSeconds),
		slog.String("repository", r.Push.Repository),
		slog.String("ref", r.Push.Ref),
		slog.String("commit", r.Push.After),
	)
}
