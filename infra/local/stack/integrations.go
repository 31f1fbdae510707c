package stack

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/pushline/pushline/infra/codebuild"
	"github.com/pushline/pushline/infra/states"
	"github.com/pushline/pushline/shared/approval"
	"github.com/pushline/pushline/shared/ingest"
	"github.com/pushline/pushline/shared/source"
)

// functions are the pipeline's Lambdas, run in process through the same
// handlers the Lambda bootstraps start.
type functions struct {
	source *source.Handler
	notify *approval.Notifier
	queue  *ingest.Queue
}

// invoke runs the function named (by name or ARN) with payload.
func (f functions) invoke(ctx context.Context, function string, payload json.RawMessage) (json.RawMessage, error) {
	name := function[strings.LastIndexByte(function, ':')+1:]
	switch {
	case strings.HasSuffix(name, "-source"):
		return call(ctx, payload, f.source.Handle)
	case strings.HasSuffix(name, "-notify"):
		return call(ctx, payload, func(ctx context.Context, r approval.Request) (any, error) {
			return nil, f.notify.Handle(ctx, r)
		})
	case strings.HasSuffix(name, "-queue"):
		return call(ctx, payload, f.queue.Handle)
	}
	return nil, &states.TaskError{Name: "Lambda.ResourceNotFoundException", Cause: "Function not found: " + function}
}

// rerunnable says whether a lambda:invoke task may run again after a
// restart: the source snapshot and the approval notify may (their writes
// are keyed by the execution), other functions may not.
func (f functions) rerunnable(t states.Task) bool {
	var p struct{ FunctionName string }
	if err := json.Unmarshal(t.Parameters, &p); err != nil {
		return false
	}
	name := p.FunctionName
	if strings.HasPrefix(t.Resource, "arn:aws:lambda:") {
		name = t.Resource
	}
	name = name[strings.LastIndexByte(name, ':')+1:]
	return strings.HasSuffix(name, "-source") || strings.HasSuffix(name, "-notify")
}

// call decodes payload into In as the Lambda runtime would, and encodes
// the handler's output.
func call[In, Out any](ctx context.Context, payload json.RawMessage, h func(context.Context, In) (Out, error)) (json.RawMessage, error) {
	var in In
	if err := json.Unmarshal(payload, &in); err != nil {
		return nil, &states.TaskError{Name: "Runtime.UnmarshalError", Cause: fmt.Sprintf(`{"errorMessage":%q,"errorType":"UnmarshalTypeError"}`, err.Error())}
	}
	out, err := h(ctx, in)
	if err != nil {
		return nil, err
	}
	return json.Marshal(out)
}

// build runs codebuild:startBuild(.sync) on the local runner. For .sync it
// waits for the build and fails the task as Step Functions does when the
// build does not succeed; a cancelled task (the execution stopped, or the
// stack stopping) stops the build and its whole process group.
func (s *Stack) build(ctx context.Context, t states.Task) (json.RawMessage, error) {
	var in codebuild.StartBuildInput
	if err := json.Unmarshal(t.Parameters, &in); err != nil {
		return nil, &states.TaskError{Name: "CodeBuild.InvalidInputException", Cause: err.Error()}
	}
	b, err := s.runner.StartBuild(ctx, in)
	if err != nil {
		return nil, &states.TaskError{Name: "CodeBuild.InvalidInputException", Cause: err.Error()}
	}
	if t.Pattern == "sync" {
		if t.Submitted != nil { // history shows TaskSubmitted, as on AWS
			if sub, err := json.Marshal(struct{ Build *codebuild.Build }{b}); err == nil {
				t.Submitted(sub)
			}
		}
		id := b.Id
		b, err = s.runner.Wait(ctx, id)
		if err != nil {
			stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			_, _ = s.runner.StopBuild(stopCtx, id)
			return nil, err
		}
		if name, cause := b.Failure(); name != "" {
			return nil, &states.TaskError{Name: name, Cause: cause}
		}
	}
	return json.Marshal(struct{ Build *codebuild.Build }{b})
}

// putEvents backs the state machine's events:putEvents tasks.
func (s *Stack) putEvents(_ context.Context, entries []states.EventEntry) error {
	es := make([]entry, 0, len(entries))
	for _, e := range entries {
		es = append(es, entry{Source: e.Source, DetailType: e.DetailType, Detail: e.Detail, EventBusName: e.EventBusName, Resources: e.Resources})
	}
	if _, err := s.bus.put(es); err != nil {
		return &states.TaskError{Name: "EventBridge.ValidationException", Cause: err.Error()}
	}
	return nil
}
