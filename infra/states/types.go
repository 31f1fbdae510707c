package states

import (
	"encoding/json"
	"math"
	"strconv"
	"time"
)

// Timestamp is a time that travels as epoch seconds with a fraction, as the
// Step Functions JSON protocol sends dates.
type Timestamp struct{ time.Time }

// MarshalJSON encodes epoch seconds with millisecond precision.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	ms := t.UnixMilli()
	return []byte(strconv.FormatFloat(float64(ms)/1000, 'f', 3, 64)), nil
}

// UnmarshalJSON accepts epoch seconds (a number).
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*t = Timestamp{}
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return err
	}
	sec, frac := math.Modf(f)
	t.Time = time.Unix(int64(sec), int64(math.Round(frac*1000))*int64(time.Millisecond)).UTC()
	return nil
}

func ts(t time.Time) *Timestamp {
	if t.IsZero() {
		return nil
	}
	return &Timestamp{t}
}

// Tag is a resource tag.
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// CreateStateMachineInput is the CreateStateMachine request.
type CreateStateMachineInput struct {
	Name                 string          `json:"name"`
	Definition           string          `json:"definition"`
	RoleArn              string          `json:"roleArn"`
	Type                 string          `json:"type,omitempty"`
	LoggingConfiguration json.RawMessage `json:"loggingConfiguration,omitempty"`
	TracingConfiguration json.RawMessage `json:"tracingConfiguration,omitempty"`
	Tags                 []Tag           `json:"tags,omitempty"`
	Publish              bool            `json:"publish,omitempty"`
	VersionDescription   string          `json:"versionDescription,omitempty"`
}

// CreateStateMachineOutput is the CreateStateMachine response.
type CreateStateMachineOutput struct {
	StateMachineArn string    `json:"stateMachineArn"`
	CreationDate    Timestamp `json:"creationDate"`
}

// DescribeStateMachineOutput is the DescribeStateMachine response.
type DescribeStateMachineOutput struct {
	StateMachineArn      string          `json:"stateMachineArn"`
	Name                 string          `json:"name"`
	Status               string          `json:"status"`
	Definition           string          `json:"definition"`
	RoleArn              string          `json:"roleArn"`
	Type                 string          `json:"type"`
	CreationDate         Timestamp       `json:"creationDate"`
	LoggingConfiguration json.RawMessage `json:"loggingConfiguration,omitempty"`
	TracingConfiguration json.RawMessage `json:"tracingConfiguration,omitempty"`
	RevisionID           string          `json:"revisionId,omitempty"`
}

// StateMachineListItem is one entry of ListStateMachines.
type StateMachineListItem struct {
	StateMachineArn string    `json:"stateMachineArn"`
	Name            string    `json:"name"`
	Type            string    `json:"type"`
	CreationDate    Timestamp `json:"creationDate"`
}

// ListStateMachinesOutput is the ListStateMachines response.
type ListStateMachinesOutput struct {
	StateMachines []StateMachineListItem `json:"stateMachines"`
	NextToken     string                 `json:"nextToken,omitempty"`
}

// UpdateStateMachineInput is the UpdateStateMachine request.
type UpdateStateMachineInput struct {
	StateMachineArn      string          `json:"stateMachineArn"`
	Definition           string          `json:"definition,omitempty"`
	RoleArn              string          `json:"roleArn,omitempty"`
	LoggingConfiguration json.RawMessage `json:"loggingConfiguration,omitempty"`
	TracingConfiguration json.RawMessage `json:"tracingConfiguration,omitempty"`
	Publish              bool            `json:"publish,omitempty"`
	VersionDescription   string          `json:"versionDescription,omitempty"`
}

// UpdateStateMachineOutput is the UpdateStateMachine response.
type UpdateStateMachineOutput struct {
	UpdateDate Timestamp `json:"updateDate"`
	RevisionID string    `json:"revisionId,omitempty"`
}

// ValidateOutput is the ValidateStateMachineDefinition response.
type ValidateOutput struct {
	Result      string       `json:"result"` // OK | FAIL
	Diagnostics []Diagnostic `json:"diagnostics"`
	Truncated   bool         `json:"truncated"`
}

// StartExecutionInput is the StartExecution request.
type StartExecutionInput struct {
	StateMachineArn string `json:"stateMachineArn"`
	Name            string `json:"name,omitempty"`
	Input           string `json:"input,omitempty"`
	TraceHeader     string `json:"traceHeader,omitempty"`
}

// StartExecutionOutput is the StartExecution response.
type StartExecutionOutput struct {
	ExecutionArn string    `json:"executionArn"`
	StartDate    Timestamp `json:"startDate"`
}

// DataDetails tells whether input or output is included.
type DataDetails struct {
	Included bool `json:"included"`
}

// HistoryDataDetails tells whether a history event's data was truncated.
type HistoryDataDetails struct {
	Truncated bool `json:"truncated"`
}

// DescribeExecutionOutput is the DescribeExecution response.
type DescribeExecutionOutput struct {
	ExecutionArn        string       `json:"executionArn"`
	StateMachineArn     string       `json:"stateMachineArn"`
	Name                string       `json:"name"`
	Status              string       `json:"status"`
	StartDate           Timestamp    `json:"startDate"`
	StopDate            *Timestamp   `json:"stopDate,omitempty"`
	Input               *string      `json:"input,omitempty"`
	InputDetails        *DataDetails `json:"inputDetails,omitempty"`
	Output              *string      `json:"output,omitempty"`
	OutputDetails       *DataDetails `json:"outputDetails,omitempty"`
	Error               *string      `json:"error,omitempty"`
	Cause               *string      `json:"cause,omitempty"`
	TraceHeader         string       `json:"traceHeader,omitempty"`
	RedriveCount        int          `json:"redriveCount"`
	RedriveDate         *Timestamp   `json:"redriveDate,omitempty"`
	RedriveStatus       string       `json:"redriveStatus,omitempty"`
	RedriveStatusReason string       `json:"redriveStatusReason,omitempty"`
}

// ListExecutionsInput is the ListExecutions request.
type ListExecutionsInput struct {
	StateMachineArn string `json:"stateMachineArn"`
	StatusFilter    string `json:"statusFilter,omitempty"`
	MaxResults      int    `json:"maxResults,omitempty"`
	NextToken       string `json:"nextToken,omitempty"`
	RedriveFilter   string `json:"redriveFilter,omitempty"`
}

// ExecutionListItem is one entry of ListExecutions.
type ExecutionListItem struct {
	ExecutionArn    string     `json:"executionArn"`
	StateMachineArn string     `json:"stateMachineArn"`
	Name            string     `json:"name"`
	Status          string     `json:"status"`
	StartDate       Timestamp  `json:"startDate"`
	StopDate        *Timestamp `json:"stopDate,omitempty"`
	RedriveCount    int        `json:"redriveCount,omitempty"`
	RedriveDate     *Timestamp `json:"redriveDate,omitempty"`
}

// ListExecutionsOutput is the ListExecutions response.
type ListExecutionsOutput struct {
	Executions []ExecutionListItem `json:"executions"`
	NextToken  string              `json:"nextToken,omitempty"`
}

// GetExecutionHistoryInput is the GetExecutionHistory request.
type GetExecutionHistoryInput struct {
	ExecutionArn         string `json:"executionArn"`
	MaxResults           int    `json:"maxResults,omitempty"`
	NextToken            string `json:"nextToken,omitempty"`
	ReverseOrder         bool   `json:"reverseOrder,omitempty"`
	IncludeExecutionData *bool  `json:"includeExecutionData,omitempty"`
}

// GetExecutionHistoryOutput is the GetExecutionHistory response.
type GetExecutionHistoryOutput struct {
	Events    []HistoryEvent `json:"events"`
	NextToken string         `json:"nextToken,omitempty"`
}

// StopExecutionInput is the StopExecution request.
type StopExecutionInput struct {
	ExecutionArn string `json:"executionArn"`
	Error        string `json:"error,omitempty"`
	Cause        string `json:"cause,omitempty"`
}

// StopExecutionOutput is the StopExecution response.
type StopExecutionOutput struct {
	StopDate Timestamp `json:"stopDate"`
}

// RedriveExecutionOutput is the RedriveExecution response.
type RedriveExecutionOutput struct {
	RedriveDate Timestamp `json:"redriveDate"`
}

// HistoryEvent is one event of an execution's history, with the fields and
// detail objects GetExecutionHistory returns.
type HistoryEvent struct {
	Timestamp       Timestamp `json:"timestamp"`
	Type            string    `json:"type"`
	ID              int64     `json:"id"`
	PreviousEventID int64     `json:"previousEventId"`
	// ExecutionArn is not part of the AWS event; it is set for Observers
	// and omitted from the API.
	ExecutionArn string `json:"-"`

	ExecutionStartedEventDetails    *ExecutionStartedDetails `json:"executionStartedEventDetails,omitempty"`
	ExecutionSucceededEventDetails  *OutputDetails           `json:"executionSucceededEventDetails,omitempty"`
	ExecutionFailedEventDetails     *ErrorDetails            `json:"executionFailedEventDetails,omitempty"`
	ExecutionAbortedEventDetails    *ErrorDetails            `json:"executionAbortedEventDetails,omitempty"`
	ExecutionTimedOutEventDetails   *ErrorDetails            `json:"executionTimedOutEventDetails,omitempty"`
	ExecutionRedrivenEventDetails   *RedrivenDetails         `json:"executionRedrivenEventDetails,omitempty"`
	StateEnteredEventDetails        *StateEnteredDetails     `json:"stateEnteredEventDetails,omitempty"`
	StateExitedEventDetails         *StateExitedDetails      `json:"stateExitedEventDetails,omitempty"`
	TaskScheduledEventDetails       *TaskScheduledDetails    `json:"taskScheduledEventDetails,omitempty"`
	TaskStartedEventDetails         *TaskResourceDetails     `json:"taskStartedEventDetails,omitempty"`
	TaskSubmittedEventDetails       *TaskOutputDetails       `json:"taskSubmittedEventDetails,omitempty"`
	TaskSucceededEventDetails       *TaskOutputDetails       `json:"taskSucceededEventDetails,omitempty"`
	TaskFailedEventDetails          *TaskErrorDetails        `json:"taskFailedEventDetails,omitempty"`
	TaskTimedOutEventDetails        *TaskErrorDetails        `json:"taskTimedOutEventDetails,omitempty"`
	TaskStartFailedEventDetails     *TaskErrorDetails        `json:"taskStartFailedEventDetails,omitempty"`
	LambdaFunctionScheduledDetails  *LambdaScheduledDetails  `json:"lambdaFunctionScheduledEventDetails,omitempty"`
	LambdaFunctionSucceededDetails  *OutputDetails           `json:"lambdaFunctionSucceededEventDetails,omitempty"`
	LambdaFunctionFailedDetails     *ErrorDetails            `json:"lambdaFunctionFailedEventDetails,omitempty"`
	LambdaFunctionTimedOutDetails   *ErrorDetails            `json:"lambdaFunctionTimedOutEventDetails,omitempty"`
	MapStateStartedEventDetails     *MapStartedDetails       `json:"mapStateStartedEventDetails,omitempty"`
	MapIterationStartedEventDetails *MapIterationDetails     `json:"mapIterationStartedEventDetails,omitempty"`
	MapIterationSucceededDetails    *MapIterationDetails     `json:"mapIterationSucceededEventDetails,omitempty"`
	MapIterationFailedEventDetails  *MapIterationDetails     `json:"mapIterationFailedEventDetails,omitempty"`
	MapIterationAbortedEventDetails *MapIterationDetails     `json:"mapIterationAbortedEventDetails,omitempty"`
}

// ExecutionStartedDetails is executionStartedEventDetails.
type ExecutionStartedDetails struct {
	Input        string              `json:"input"`
	InputDetails *HistoryDataDetails `json:"inputDetails,omitempty"`
	RoleArn      string              `json:"roleArn,omitempty"`
}

// OutputDetails is executionSucceededEventDetails and the like.
type OutputDetails struct {
	Output        string              `json:"output"`
	OutputDetails *HistoryDataDetails `json:"outputDetails,omitempty"`
}

// ErrorDetails is executionFailedEventDetails and the like.
type ErrorDetails struct {
	Error string `json:"error,omitempty"`
	Cause string `json:"cause,omitempty"`
}

// RedrivenDetails is executionRedrivenEventDetails.
type RedrivenDetails struct {
	RedriveCount int `json:"redriveCount"`
}

// StateEnteredDetails is stateEnteredEventDetails.
type StateEnteredDetails struct {
	Name         string              `json:"name"`
	Input        string              `json:"input"`
	InputDetails *HistoryDataDetails `json:"inputDetails,omitempty"`
}

// StateExitedDetails is stateExitedEventDetails.
type StateExitedDetails struct {
	Name          string              `json:"name"`
	Output        string              `json:"output"`
	OutputDetails *HistoryDataDetails `json:"outputDetails,omitempty"`
}

// TaskScheduledDetails is taskScheduledEventDetails.
type TaskScheduledDetails struct {
	ResourceType       string `json:"resourceType"`
	Resource           string `json:"resource"`
	Region             string `json:"region"`
	Parameters         string `json:"parameters"`
	TimeoutInSeconds   int64  `json:"timeoutInSeconds,omitempty"`
	HeartbeatInSeconds int64  `json:"heartbeatInSeconds,omitempty"`
}

// TaskResourceDetails is taskStartedEventDetails.
type TaskResourceDetails struct {
	ResourceType string `json:"resourceType"`
	Resource     string `json:"resource"`
}

// TaskOutputDetails is taskSucceededEventDetails / taskSubmittedEventDetails.
type TaskOutputDetails struct {
	ResourceType  string              `json:"resourceType"`
	Resource      string              `json:"resource"`
	Output        string              `json:"output"`
	OutputDetails *HistoryDataDetails `json:"outputDetails,omitempty"`
}

// TaskErrorDetails is taskFailedEventDetails and the like.
type TaskErrorDetails struct {
	ResourceType string `json:"resourceType"`
	Resource     string `json:"resource"`
	Error        string `json:"error,omitempty"`
	Cause        string `json:"cause,omitempty"`
}

// LambdaScheduledDetails is lambdaFunctionScheduledEventDetails.
type LambdaScheduledDetails struct {
	Resource         string              `json:"resource"`
	Input            string              `json:"input"`
	InputDetails     *HistoryDataDetails `json:"inputDetails,omitempty"`
	TimeoutInSeconds int64               `json:"timeoutInSeconds,omitempty"`
}

// MapStartedDetails is mapStateStartedEventDetails.
type MapStartedDetails struct {
	Length int `json:"length"`
}

// MapIterationDetails is mapIteration*EventDetails.
type MapIterationDetails struct {
	Name  string `json:"name"`
	Index int    `json:"index"`
}

// notTruncated is shared by every event (details are never truncated
// locally); it must not be modified.
var notTruncated = &HistoryDataDetails{}
