package states

import "errors"

// APIError is an error of the Step Functions API: Type is the AWS error
// code (e.g. "ExecutionAlreadyExists"), which the HTTP handler sends as
// "__type" so SDKs map it to their typed errors. errors.Is matches on Type,
// so callers can test against the Err… sentinels below.
type APIError struct {
	Type    string
	Message string
}

func (e *APIError) Error() string {
	if e.Message == "" {
		return e.Type
	}
	return e.Type + ": " + e.Message
}

// Is matches APIErrors of the same Type.
func (e *APIError) Is(target error) bool {
	var t *APIError
	return errors.As(target, &t) && t.Type == e.Type
}

func apiErr(typ, msg string) *APIError { return &APIError{Type: typ, Message: msg} }

// Sentinels for errors.Is.
var (
	ErrExecutionAlreadyExists    = &APIError{Type: "ExecutionAlreadyExists"}
	ErrExecutionDoesNotExist     = &APIError{Type: "ExecutionDoesNotExist"}
	ErrExecutionNotRedrivable    = &APIError{Type: "ExecutionNotRedrivable"}
	ErrInvalidArn                = &APIError{Type: "InvalidArn"}
	ErrInvalidDefinition         = &APIError{Type: "InvalidDefinition"}
	ErrInvalidExecutionInput     = &APIError{Type: "InvalidExecutionInput"}
	ErrInvalidName               = &APIError{Type: "InvalidName"}
	ErrInvalidOutput             = &APIError{Type: "InvalidOutput"}
	ErrInvalidToken              = &APIError{Type: "InvalidToken"}
	ErrStateMachineAlreadyExists = &APIError{Type: "StateMachineAlreadyExists"}
	ErrStateMachineDoesNotExist  = &APIError{Type: "StateMachineDoesNotExist"}
	ErrStateMachineDeleting      = &APIError{Type: "StateMachineDeleting"}
	ErrTaskDoesNotExist          = &APIError{Type: "TaskDoesNotExist"}
	ErrTaskTimedOut              = &APIError{Type: "TaskTimedOut"}
	ErrValidation                = &APIError{Type: "ValidationException"}
	ErrUnknownOperation          = &APIError{Type: "UnknownOperationException"}
	ErrServiceUnavailable        = &APIError{Type: "ServiceUnavailable"}
)

// TaskError fails a task (or a state) with an error name and cause, as
// Retry and Catch see them. Integrations return it to choose the name; any
// other error fails the task with States.TaskFailed and the error text as
// cause.
type TaskError struct {
	Name  string
	Cause string
}

func (e *TaskError) Error() string {
	if e.Cause == "" {
		return e.Name
	}
	return e.Name + ": " + e.Cause
}

// Predefined error names.
const (
	ErrNameAll                 = "States.ALL"
	ErrNameRuntime             = "States.Runtime"
	ErrNameTimeout             = "States.Timeout"
	ErrNameHeartbeatTimeout    = "States.HeartbeatTimeout"
	ErrNameTaskFailed          = "States.TaskFailed"
	ErrNameDataLimitExceeded   = "States.DataLimitExceeded"
	ErrNameResultPathMatch     = "States.ResultPathMatchFailure"
	ErrNameParameterPath       = "States.ParameterPathFailure"
	ErrNameNoChoiceMatched     = "States.NoChoiceMatched"
	ErrNameIntrinsicFailure    = "States.IntrinsicFailure"
	ErrNameBranchFailed        = "States.BranchFailed"
	ErrNamePermissions         = "States.Permissions"
	ErrNameExceedToleratedFail = "States.ExceedToleratedFailureThreshold"
)

// RestartCause is the cause of the States.TaskFailed error a task gets
// when the engine restarted while the task's Invoke was in flight and its
// integration is not Rerunnable: the engine cannot know whether the side
// effect happened, so Retry and Catch decide.
const RestartCause = "The local Step Functions engine restarted while this task was running; its result is unknown."

// ErrNotStarted is what an Integration's Invoke returns (wrapped or not)
// when it did not start the task and had no side effect, e.g. because its
// service is draining before a stop. The engine then records nothing that
// fails the task (no Task*Failed event, no retry attempt used): the task is
// parked, and it is invoked again, with fresh timeouts and without new
// Scheduled/Started events, after a second while the engine runs, or when
// the executions resume after the next Open if the engine is closing.
var ErrNotStarted = errors.New("task not started")
