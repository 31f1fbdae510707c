package ingest

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

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
