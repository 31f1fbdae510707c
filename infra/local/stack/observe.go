package stack

import (
	"context"
	"fmt"
	"time"

	"github.com/pushline/pushline/infra/states"
	"github.com/pushline/pushline/shared/watch"
)

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
