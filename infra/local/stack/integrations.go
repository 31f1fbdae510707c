package stack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/pushline/pushline/infra/codebuild"
	"github.com/pushline/pushline/infra/states"
	"github.com/pushline/pushline/shared/approval"
	"github.com/pushline/pushline/shared/event"
	"github.com/pushline/pushline/shared/ingest"
	"github.com/pushline/pushline/shared/mail"
	"github.com/pushline/pushline/shared/source"
	"github.com/pushline/pushline/shared/watch"
	"github.com/pushline/pushline/shared/webhook"
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

// observe follows the engine's history: it reports how executions end,
// and emits STOPPED when one is stopped by hand (a superseded one already
// has its SUPERSEDED event from the webhook).
func (s *Stack) observe(ev states.HistoryEvent) {
	var state string
	var d *states.ErrorDetails
	switch ev.Type {
	case "ExecutionSucceeded":
		state = "SUCCEEDED"
	case "ExecutionFailed":
		state, d = "FAILED", ev.ExecutionFailedEventDetails
	case "ExecutionTimedOut":
		state, d = "TIMED_OUT", ev.ExecutionTimedOutEventDetails
	case "ExecutionAborted":
		state, d = "ABORTED", ev.ExecutionAbortedEventDetails
	default:
		return
	}
	arn := ev.ExecutionArn
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		out, err := s.engine.DescribeExecution(ctx, states.DescribeExecutionInput{ExecutionArn: arn})
		took := ""
		if err == nil && out.StopDate != nil {
			took = " in " + duration(out.StopDate.Sub(out.StartDate.Time))
		}
		msg := "execution " + state + took
		if d != nil && (d.Error != "" || d.Cause != "") {
			msg += fmt.Sprintf(" (%s: %s)", d.Error, clip(d.Cause, 200))
		}
		s.console.printf("%s %s — %s — %s", s.console.run(execName(arn)), msg, s.RunURL(arn), s.where(arn))
		if state != "ABORTED" || s.watch == nil {
			return
		}
		// As in AWS: the status change goes to the watch function, which
		// emits STOPPED unless the webhook superseded the execution.
		ex := watch.Execution{ExecutionArn: arn, StateMachineArn: s.machineARN, Name: execName(arn), Status: watch.Aborted}
		if d != nil {
			ex.Error, ex.Cause = d.Error, d.Cause
		}
		if err := s.watch.Handle(ctx, watch.Event{Source: watch.Source, DetailType: watch.DetailType, Detail: ex}); err != nil {
			s.o.Logger.Error("emit STOPPED", "execution", arn, "err", err)
		}
	}()
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

var approvalLinkRE = regexp.MustCompile(`https?://\S+/approvals/\S+`)

// announce wraps the mail sender so the console shows each approval link
// as it is mailed.
func (s *Stack) announce(next mail.Sender) mail.Sender {
	return mail.SenderFunc(func(ctx context.Context, m mail.Message) error {
		if err := next.Send(ctx, m); err != nil {
			return err
		}
		if link := approvalLinkRE.FindString(m.Text); link != "" {
			s.console.printf("approval requested from %s: %s", strings.Join(m.To, ", "), link)
		}
		return nil
	})
}

// failureMail mails notifications.failures when an execution fails.
func (s *Stack) failureMail(sender mail.Sender) func(event.Event) {
	to := s.cfg.Notifications.Failures
	from := s.cfg.Notifications.From
	return func(ev event.Event) {
		if len(to) == 0 || from == "" || ev.DetailType != event.PipelineExecution || ev.Detail.State != event.Failed {
			return
		}
		d := ev.Detail
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			m, err := mail.FailureWith(from, to, d, mail.FailureExtra{RunURL: s.RunURL(d.Execution), LogTail: s.failedLogTail(ctx, d)})
			if err != nil {
				s.o.Logger.Error("failure mail", "execution", d.Execution, "err", err)
				return
			}
			if err := sender.Send(ctx, m); err != nil {
				s.o.Logger.Error("failure mail", "execution", d.Execution, "err", err)
			}
		}()
	}
}

// accepted wraps the webhook handler to print one line per delivery.
func (s *Stack) accepted(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &recorder{ResponseWriter: w, code: http.StatusOK}
		h.ServeHTTP(rec, r)
		line := strings.TrimSpace(rec.body.String())
		s.console.printf("webhook %s %d %s", delivery(r.Header), rec.code, clip(line, 300))
	})
}

// delivery names a webhook delivery for the console: the provider's event
// and, when it sends one, its delivery id ("push 72d3162e-…").
func delivery(h http.Header) string {
	ev, id := webhook.EventName(h), webhook.DeliveryID(h)
	if ev == "" {
		ev = "(no event header)"
	}
	if id == "" {
		return clip(ev, 60)
	}
	return clip(ev, 60) + " " + clip(id, 60)
}

type recorder struct {
	http.ResponseWriter
	code int
	body bytes.Buffer
}

func (r *recorder) WriteHeader(code int) {
	r.code = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.body.Len() < 4096 {
		r.body.Write(b)
	}
	return r.ResponseWriter.Write(b)
}

// failedLogTail is the last lines of the log of the build that failed the
// run d tells of (none when no build failed).
func (s *Stack) failedLogTail(ctx context.Context, d event.Detail) []string {
	if d.BuildID == "" || s.runs == nil {
		return nil
	}
	r, err := s.runs.Get(ctx, d.Execution)
	if err != nil {
		return nil
	}
	st := r.Stage(d.Stage)
	if st == nil || st.Build == nil {
		return nil
	}
	p, err := s.runs.Log(ctx, st.Build, "", mail.MaxLogTail)
	if err != nil {
		return nil
	}
	return p.Lines
}
