package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/pushline/pushline/shared/event"
	"github.com/pushline/pushline/shared/push"
)

// Superseded is the error an execution is stopped with when a newer push
// supersedes it; the cause is "superseded by <execution name>".
const Superseded = "Pushline.Superseded"

// Lister lists a state machine's executions; *sfn.Client satisfies it.
type Lister interface {
	ListExecutions(ctx context.Context, in *sfn.ListExecutionsInput, optFns ...func(*sfn.Options)) (*sfn.ListExecutionsOutput, error)
}

// runningSameRef lists the RUNNING executions of stateMachine whose name
// ends in -<refKey>.
func runningSameRef(ctx context.Context, c Lister, stateMachine, refKey string) ([]sfntypes.ExecutionListItem, error) {
	var out []sfntypes.ExecutionListItem
	in := &sfn.ListExecutionsInput{
		StateMachineArn: aws.String(stateMachine),
		StatusFilter:    sfntypes.ExecutionStatusRunning,
		MaxResults:      1000,
	}
	for {
		page, err := c.ListExecutions(ctx, in)
		if err != nil {
			return nil, sfnError("list running executions", err)
		}
		for _, e := range page.Executions {
			if SameRef(aws.ToString(e.Name), refKey) {
				out = append(out, e)
			}
		}
		if aws.ToString(page.NextToken) == "" {
			return out, nil
		}
		in.NextToken = page.NextToken
	}
}

// earlier reports whether execution a started before b (by start date,
// then name, so that two executions never each count the other earlier).
func earlier(a, b sfntypes.ExecutionListItem) bool {
	ta, tb := aws.ToTime(a.StartDate), aws.ToTime(b.StartDate)
	if !ta.Equal(tb) {
		return ta.Before(tb)
	}
	return aws.ToString(a.Name) < aws.ToString(b.Name)
}

// supersede stops the running executions of p's repository and ref that
// started before name, and emits a SUPERSEDED event for each.
// started is when ours started if this request started it (nil for a
// duplicate): ListExecutions is eventually consistent and may not list it
// yet.
func (h *Handler) supersede(ctx context.Context, log *slog.Logger, p push.Push, name, arn string, started *time.Time) error {
	key := RefKey(h.o.Config.Name, p.Repository, p.Ref)
	running, err := runningSameRef(ctx, h.o.SFN, h.o.StateMachineARN, key)
	if err != nil {
		return err
	}
	var mine *sfntypes.ExecutionListItem
	for i := range running {
		if aws.ToString(running[i].Name) == name {
			mine = &running[i]
		}
	}
	if mine == nil && started != nil {
		mine = &sfntypes.ExecutionListItem{Name: aws.String(name), StartDate: started}
	}
	if mine == nil {
		return nil // ours has already ended: it supersedes nothing
	}
	for _, e := range running {
		if e.Name == nil || aws.ToString(e.Name) == name || !earlier(e, *mine) {
			continue
		}
		old := aws.ToString(e.ExecutionArn)
		commit := h.commitOf(ctx, old)
		cause := "superseded by " + name
		_, err := h.o.SFN.StopExecution(ctx, &sfn.StopExecutionInput{
			ExecutionArn: aws.String(old),
			Error:        aws.String(Superseded),
			Cause:        aws.String(cause),
		})
		var gone *sfntypes.ExecutionDoesNotExist
		switch {
		case errors.As(err, &gone):
			continue
		case err != nil:
			return sfnError("stop superseded execution "+aws.ToString(e.Name), err)
		}
		log.Info("execution superseded", "superseded", old, "by", arn)
		h.emit(ctx, log, event.Detail{
			Pipeline:     h.o.Config.Name,
			Execution:    old,
			State:        event.Superseded,
			Repository:   p.Repository,
			Ref:          p.Ref,
			Commit:       commit,
			Cause:        cause,
			SupersededBy: arn,
		})
	}
	return nil
}

// commitOf returns the commit an execution builds: from its input, else
// the short commit in its name.
func (h *Handler) commitOf(ctx context.Context, executionARN string) string {
	out, err := h.o.SFN.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(executionARN)})
	if err == nil {
		var in push.Input
		if json.Unmarshal([]byte(aws.ToString(out.Input)), &in) == nil && in.Push.After != "" {
			return in.Push.After
		}
	}
	return commitOf(nameOf(executionARN))
}

// emit sends one pushline event; failures are logged, not returned: the
// execution has been stopped either way.
func (h *Handler) emit(ctx context.Context, log *slog.Logger, d event.Detail) {
	detail, err := json.Marshal(d)
	if err != nil {
		log.Error("encode event", "err", err)
		return
	}
	if h.o.Events == nil {
		log.Info("event", "detail-type", event.PipelineExecution, "detail", string(detail))
		return
	}
	out, err := h.o.Events.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{{
		Source:       aws.String(event.Source),
		DetailType:   aws.String(event.PipelineExecution),
		Detail:       aws.String(string(detail)),
		EventBusName: aws.String(h.o.EventBus),
		Resources:    []string{d.Execution},
		Time:         aws.Time(h.o.Now()),
	}}})
	if err == nil && out.FailedEntryCount > 0 {
		err = fmt.Errorf("%d entries failed", out.FailedEntryCount)
	}
	if err != nil {
		log.Error("put SUPERSEDED event", "execution", d.Execution, "err", err)
	}
}

// QueueRequest is the queued-mode gate's input: {"execution.$": "$$.Execution.Id"}.
type QueueRequest struct {
	Execution string `json:"execution"`
}

// QueueResponse tells the gate whether to wait, and behind how many
// older running executions of the same repository and ref.
type QueueResponse struct {
	Wait  bool `json:"wait"`
	Ahead int  `json:"ahead"`
}

// Queue is the queued-mode gate (functions/queue): an execution waits
// while an older RUNNING execution with the same -<refkey> suffix exists.
type Queue struct {
	SFN Lister
	// StateMachineARN is the pipeline's state machine; "" derives it from
	// the execution ARN.
	StateMachineARN string
	Logger          *slog.Logger
}

// Handle answers the gate for one execution.
func (q *Queue) Handle(ctx context.Context, req QueueRequest) (QueueResponse, error) {
	log := q.Logger
	if log == nil {
		log = slog.Default()
	}
	machine := q.StateMachineARN
	if machine == "" {
		machine = StateMachineARN(req.Execution)
	}
	name := nameOf(req.Execution)
	if machine == "" || len(name) <= suffixLength {
		return QueueResponse{}, fmt.Errorf("queue: %q is not an execution ARN", req.Execution)
	}
	running, err := runningSameRef(ctx, q.SFN, machine, name[len(name)-refKeyLen:])
	if err != nil {
		return QueueResponse{}, fmt.Errorf("queue %s: %w", name, err)
	}
	// Our own start date; if we are not listed (eventual consistency),
	// every other running execution of the ref counts as ahead.
	me := sfntypes.ExecutionListItem{Name: aws.String(name), StartDate: aws.Time(time.Now().Add(time.Hour))}
	for _, e := range running {
		if aws.ToString(e.Name) == name {
			me = e
		}
	}
	ahead := 0
	for _, e := range running {
		if aws.ToString(e.Name) != name && earlier(e, me) {
			ahead++
		}
	}
	log.Info("queue gate", "execution", req.Execution, "ahead", ahead)
	return QueueResponse{Wait: ahead > 0, Ahead: ahead}, nil
}
