package ingest

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

// Which of two pushes of one ref is newer is decided, in order, by:
//  1. the ref's history: a push whose before is the other's after came
//     after it (unless each is the other's parent — a rollback and its
//     undo, which history cannot order);
//  2. the head commits' timestamps, when neither is the other's parent
//     and both are known and differ;
//  3. arrival: the execution that started later (then the name, so two
//     executions never each count the other as earlier).
//
// So a provider redelivering an old push late (after a 503, or by hand)
// never stops the run of a newer commit: the old push is not started (200
// ignored, "superseded by newer execution …"), and if it raced past that
// check it stops itself, superseded by the newer run.

// order compares pushes a and b of one ref by history, then timestamps:
// 1 if a is newer, -1 if b is, 0 if neither decides.
func order(a, b push.Push) int {
	fa, fb := follows(a, b), follows(b, a)
	switch {
	case fa && !fb:
		return 1
	case fb && !fa:
		return -1
	case fa && fb:
		return 0
	}
	ta, tb := a.HeadCommit.Timestamp, b.HeadCommit.Timestamp
	switch {
	case ta.IsZero() || tb.IsZero() || ta.Equal(tb):
		return 0
	case ta.After(tb):
		return 1
	}
	return -1
}

// follows reports whether a's ref update starts where b's ended.
func follows(a, b push.Push) bool {
	return a.Before != "" && a.Before != push.ZeroCommit && strings.EqualFold(a.Before, b.After)
}

// run is a running execution of the ref and, when its input could be
// read, its push.
type run struct {
	item sfntypes.ExecutionListItem
	push *push.Push
}

// runs lists the running executions of p's ref, reading the input of
// each but name's (ours); known caches pushes already read.
func (h *Handler) runs(ctx context.Context, p push.Push, name string, known map[string]*push.Push) ([]run, error) {
	key := RefKey(h.o.Config.Name, p.Repository, p.Ref)
	items, err := runningSameRef(ctx, h.o.SFN, h.o.StateMachineARN, key)
	if err != nil {
		return nil, err
	}
	out := make([]run, 0, len(items))
	for _, it := range items {
		r := run{item: it}
		n := aws.ToString(it.Name)
		switch pp, ok := known[n]; {
		case n == name:
			r.push = &p
		case ok:
			r.push = pp
		default:
			r.push = h.pushOf(ctx, aws.ToString(it.ExecutionArn))
			if known != nil {
				known[n] = r.push
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// pushOf reads the push an execution builds from its input; nil if it
// cannot be read.
func (h *Handler) pushOf(ctx context.Context, executionARN string) *push.Push {
	out, err := h.o.SFN.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(executionARN)})
	if err != nil {
		return nil
	}
	var in push.Input
	if json.Unmarshal([]byte(aws.ToString(out.Input)), &in) != nil || in.Push.After == "" {
		return nil
	}
	return &in.Push
}

// newerRunning returns the running execution of p's ref that is newer
// than p by history or timestamps (p has not started: by arrival it is
// the newest), if any. known receives the pushes read.
func (h *Handler) newerRunning(ctx context.Context, p push.Push, name string, known map[string]*push.Push) (*run, error) {
	runs, err := h.runs(ctx, p, name, known)
	if err != nil {
		return nil, err
	}
	for i, r := range runs {
		if aws.ToString(r.item.Name) != name && r.push != nil && order(p, *r.push) < 0 {
			return &runs[i], nil
		}
	}
	return nil, nil
}

// supersede settles the running executions of p's ref once ours (name)
// runs: if one is newer than ours, ours is stopped, superseded by it, and
// its ARN returned; else every older one is stopped. A SUPERSEDED event
// goes out for each execution stopped. started is when ours started if
// this request started it (nil for a duplicate): ListExecutions is
// eventually consistent and may not list it yet.
func (h *Handler) supersede(ctx context.Context, log *slog.Logger, p push.Push, name, arn string, started *time.Time, known map[string]*push.Push) (string, error) {
	runs, err := h.runs(ctx, p, name, known)
	if err != nil {
		return "", err
	}
	var mine *run
	for i := range runs {
		if aws.ToString(runs[i].item.Name) == name {
			mine = &runs[i]
		}
	}
	if mine == nil && started != nil {
		mine = &run{item: sfntypes.ExecutionListItem{Name: aws.String(name), ExecutionArn: aws.String(arn), StartDate: started}, push: &p}
	}
	if mine == nil {
		return "", nil // ours has already ended: it supersedes nothing
	}
	var older []run
	for _, r := range runs {
		if r.item.Name == nil || aws.ToString(r.item.Name) == name {
			continue
		}
		o := 0
		if r.push != nil {
			o = order(p, *r.push)
		}
		if o == 0 {
			o = 1
			if earlier(mine.item, r.item) {
				o = -1
			}
		}
		if o < 0 {
			newer := aws.ToString(r.item.ExecutionArn)
			if err := h.stop(ctx, log, p, arn, p.After, newer); err != nil {
				return "", err
			}
			return newer, nil
		}
		older = append(older, r)
	}
	for _, r := range older {
		old := aws.ToString(r.item.ExecutionArn)
		commit := commitOf(nameOf(old))
		if r.push != nil {
			commit = r.push.After
		}
		if err := h.stop(ctx, log, p, old, commit, arn); err != nil {
			return "", err
		}
	}
	return "", nil
}

// stop stops execution old of p's ref, superseded by execution by, and
// emits SUPERSEDED; an execution already gone is no error.
func (h *Handler) stop(ctx context.Context, log *slog.Logger, p push.Push, old, commit, by string) error {
	cause := "superseded by " + nameOf(by)
	_, err := h.o.SFN.StopExecution(ctx, &sfn.StopExecutionInput{
		ExecutionArn: aws.String(old),
		Error:        aws.String(Superseded),
		Cause:        aws.String(cause),
	})
	var gone *sfntypes.ExecutionDoesNotExist
	switch {
	case errors.As(err, &gone):
		return nil
	case err != nil:
		return sfnError("stop superseded execution "+nameOf(old), err)
	}
	log.Info("execution superseded", "superseded", old, "by", by)
	d := event.Detail{
		Pipeline:     h.o.Config.Name,
		Execution:    old,
		State:        event.Superseded,
		Repository:   p.Repository,
		Ref:          p.Ref,
		Commit:       commit,
		Cause:        cause,
		SupersededBy: by,
	}
	if p.PullRequest != nil {
		d.Trigger, d.PullRequest = push.TriggerPullRequest, p.PullRequest.Number
	}
	h.emit(ctx, log, d)
	return nil
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
