package watch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/pushline/pushline/shared/event"
	"github.com/pushline/pushline/shared/push"
)

// What Step Functions sends to the default event bus.
const (
	Source     = "aws.states"
	DetailType = "Step Functions Execution Status Change"
	// Aborted is the status of an execution stopped with StopExecution.
	Aborted = "ABORTED"
)

// How the webhook stops a superseded execution (shared/ingest,
// supersede.go): error Pushline.Superseded, cause "superseded by <name>".
const (
	supersededError  = "Pushline.Superseded"
	supersededPrefix = "superseded"
)

// Event is the EventBridge event "Step Functions Execution Status Change"
// as delivered to a target.
type Event struct {
	Version    string    `json:"version"`
	ID         string    `json:"id"`
	DetailType string    `json:"detail-type"`
	Source     string    `json:"source"`
	Account    string    `json:"account"`
	Time       time.Time `json:"time"`
	Region     string    `json:"region"`
	Resources  []string  `json:"resources"` // the execution ARN
	Detail     Execution `json:"detail"`
}

// Execution is the event's detail: what DescribeExecution tells of the
// execution when the event was sent. Dates are milliseconds since the
// Unix epoch; Input is left out (InputDetails.Included false) when input
// and output together exceed EventBridge's event size.
type Execution struct {
	ExecutionArn    string       `json:"executionArn"`
	StateMachineArn string       `json:"stateMachineArn"`
	Name            string       `json:"name"`
	Status          string       `json:"status"` // RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED
	StartDate       int64        `json:"startDate"`
	StopDate        int64        `json:"stopDate,omitempty"`
	Input           string       `json:"input,omitempty"`
	InputDetails    *DataDetails `json:"inputDetails,omitempty"`
	Output          string       `json:"output,omitempty"`
	OutputDetails   *DataDetails `json:"outputDetails,omitempty"`
	Error           string       `json:"error,omitempty"`
	Cause           string       `json:"cause,omitempty"`
}

// DataDetails says whether the input or output is in the event.
type DataDetails struct {
	Included bool `json:"included"`
}

// SFN is the Step Functions call the handler makes; *sfn.Client
// satisfies it.
type SFN interface {
	DescribeExecution(ctx context.Context, in *sfn.DescribeExecutionInput, opts ...func(*sfn.Options)) (*sfn.DescribeExecutionOutput, error)
}

// Events is the EventBridge call the handler makes; *eventbridge.Client
// satisfies it.
type Events interface {
	PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, opts ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

// Handler emits STOPPED for executions stopped by hand.
type Handler struct {
	SFN      SFN
	Events   Events
	EventBus string // the pipeline's bus (PUSHLINE_EVENT_BUS)
	// StateMachine, when set, limits the handler to that machine's
	// executions (the rule already does in AWS).
	StateMachine string
	Log          *slog.Logger // default slog.Default()
}

// ErrEmit is wrapped by the error Handle returns when the STOPPED event
// could not be put.
var ErrEmit = errors.New("emit STOPPED event")

// Handle handles one "Step Functions Execution Status Change" event. It
// returns an error only when a retry may succeed (DescribeExecution or
// PutEvents failed); events it does not act on return nil.
func (h *Handler) Handle(ctx context.Context, ev Event) error {
	log := h.Log
	if log == nil {
		log = slog.Default()
	}
	d := ev.Detail
	arn := d.ExecutionArn
	if arn == "" && len(ev.Resources) > 0 {
		arn = ev.Resources[0]
	}
	log = log.With("execution", arn, "status", d.Status)
	switch {
	case ev.Source != "" && ev.Source != Source, ev.DetailType != "" && ev.DetailType != DetailType:
		log.Info("not a Step Functions status event: ignored", "source", ev.Source, "detail-type", ev.DetailType)
		return nil
	case d.Status != Aborted:
		log.Debug("not aborted: ignored")
		return nil
	case arn == "":
		log.Error("aborted event without an execution ARN: ignored", "id", ev.ID)
		return nil
	case h.StateMachine != "" && d.StateMachineArn != "" && d.StateMachineArn != h.StateMachine:
		log.Info("another state machine's execution: ignored", "stateMachine", d.StateMachineArn)
		return nil
	}

	out, err := h.SFN.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
	if err != nil {
		return fmt.Errorf("describe execution %s: %w", arn, err)
	}
	errName, cause := aws.ToString(out.Error), aws.ToString(out.Cause)
	if errName == "" && cause == "" {
		errName, cause = d.Error, d.Cause
	}
	if errName == supersededError || strings.HasPrefix(cause, supersededPrefix) {
		log.Info("superseded: the webhook emitted SUPERSEDED", "cause", cause)
		return nil
	}

	input := aws.ToString(out.Input)
	if input == "" {
		input = d.Input
	}
	var in push.Input
	if err := json.Unmarshal([]byte(input), &in); err != nil {
		// Not a pushline input (started by hand?): still report the stop.
		log.Warn("execution input is not a pushline input", "err", err)
	}
	detail := event.Detail{
		Pipeline:   in.Pipeline,
		Execution:  arn,
		State:      event.Stopped,
		Repository: in.Push.Repository,
		Ref:        in.Push.Ref,
		Commit:     in.Push.After,
		Error:      errName,
		Cause:      cause,
	}
	b, err := json.Marshal(detail)
	if err != nil {
		return fmt.Errorf("%w: encode: %v", ErrEmit, err)
	}
	entry := ebtypes.PutEventsRequestEntry{
		Source:       aws.String(event.Source),
		DetailType:   aws.String(event.PipelineExecution),
		Detail:       aws.String(string(b)),
		EventBusName: aws.String(h.EventBus),
		Resources:    []string{arn},
	}
	// The stop date, so that a redelivery emits the same event.
	switch {
	case out.StopDate != nil:
		entry.Time = aws.Time(*out.StopDate)
	case d.StopDate > 0:
		entry.Time = aws.Time(time.UnixMilli(d.StopDate).UTC())
	}
	res, err := h.Events.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{entry}})
	if err == nil && res.FailedEntryCount > 0 {
		code, msg := "", ""
		if len(res.Entries) > 0 {
			code, msg = aws.ToString(res.Entries[0].ErrorCode), aws.ToString(res.Entries[0].ErrorMessage)
		}
		err = fmt.Errorf("entry failed: %s %s", code, msg)
	}
	if err != nil {
		return fmt.Errorf("%w for %s: %w", ErrEmit, arn, err)
	}
	log.Info("emitted STOPPED", "pipeline", in.Pipeline, "error", errName)
	return nil
}
