package statemachine

import (
	"fmt"
	"strings"
	"time"

	"github.com/pushline/pushline/shared/config"
	"github.com/pushline/pushline/shared/event"
)

func skipName(stage string) string    { return stage + ": skip?" }
func skippedName(stage string) string { return stage + ": skipped" }
func succeededName(stage string) string {
	return stage + ": succeeded"
}

// entryName is the state that enters stage i from a stage that did not
// emit its STARTED event (the source step, a skipped stage, a retry): its
// skip check when stages can be skipped, else its STARTED event.
func (g *gen) entryName(i int) string {
	if g.skips {
		return skipName(g.cfg.Stages[i].Name)
	}
	return startedName(g.cfg.Stages[i].Name)
}

// afterName is where the flow goes once stage i is done (or skipped)
// when stages can be skipped: the next stage's skip check, or the
// pipeline's SUCCEEDED event.
func (g *gen) afterName(i int) string {
	if i+1 < len(g.cfg.Stages) {
		return skipName(g.cfg.Stages[i+1].Name)
	}
	return stSucceededEv
}

// startedEntries are the STARTED events of stage i: the stage's, and
// each action's of a stage of actions.
func (g *gen) startedEntries(i int) []obj {
	s := g.cfg.Stages[i]
	entries := []obj{g.entry(event.StageExecution, event.Started, obj{}.with("stage", s.Name))}
	for _, a := range s.Actions {
		entries = append(entries, g.entry(event.StageExecution, event.Started, obj{}.with("stage", s.Name).with("action", a.Name)))
	}
	return entries
}

// enter adds the states in front of stage i: its STARTED event (reached
// from the source step, a retry, or a skipped stage; otherwise the
// previous stage's SUCCEEDED call carries it), and, when stages can be
// skipped, its skip check and its skipped record.
func (g *gen) enter(i int) {
	s := g.cfg.Stages[i]
	g.add(startedName(s.Name), g.events(g.startedEntries(i), g.firstState(i), g.failedName(s.Name)))
	if !g.skips {
		return
	}
	g.add(skipName(s.Name), obj{}.
		with("Type", "Choice").
		with("Comment", "A run that leaves this stage out (a pull request's) names it in $.skip.").
		with("Choices", []obj{obj{}.with("Variable", skipPath(s.Name)).with("IsPresent", true).with("Next", skippedName(s.Name))}).
		with("Default", startedName(s.Name)))
	skipped := obj{}.
		with("Type", "Pass").
		with("Comment", "Record the skipped builds (no artifact, no variables) so that later states find them.")
	switch {
	case s.IsParallel():
		rec := obj{}
		for _, a := range s.Actions {
			rec = rec.with(dataKey(a.Name), skippedRecord(s.Name, a.Name))
		}
		skipped = skipped.with("Result", rec).with("ResultPath", "$.builds."+dataKey(s.Name))
	case isBuild(s):
		skipped = skipped.with("Result", skippedRecord(s.Name, "")).with("ResultPath", "$.builds."+dataKey(s.Name))
	default:
		skipped = skipped.with("ResultPath", nil)
	}
	g.add(skippedName(s.Name), skipped.with("Next", g.afterName(i)))
}

// skipPath is the path of stage's flag in $.skip: bracket notation when
// the name has a '-', which dot notation does not allow.
func skipPath(stage string) string {
	if strings.Contains(stage, "-") {
		return "$.skip['" + stage + "']"
	}
	return "$.skip." + stage
}

func skippedRecord(stage, action string) obj {
	rec := obj{}.with("stage", stage)
	if action != "" {
		rec = rec.with("action", action)
	}
	return rec.with("buildId", "").with("status", "SKIPPED").with("logsUrl", "").with("artifact", "").with("variables", []any{})
}

// firstState is the first state of stage i: its inputs check when it
// has inputs, else the stage's own state.
func (g *gen) firstState(i int) string {
	s := g.cfg.Stages[i]
	if isBuild(s) && !s.IsParallel() && len(s.Inputs) > 0 {
		return inputsName(s.Name)
	}
	return s.Name
}

func approvalTimeout(s config.Stage) time.Duration {
	if s.Approval.Timeout.Duration == 0 {
		return config.DefaultApprovalTimeout
	}
	return s.Approval.Timeout.Duration
}

func (g *gen) approval(i int) {
	s := g.cfg.Stages[i]
	var builds []string
	for _, e := range g.cfg.Stages[:i] {
		switch {
		case e.IsParallel():
			for _, a := range e.Actions {
				builds = append(builds, g.recordPath(a.Name))
			}
		case isBuild(e):
			builds = append(builds, g.recordPath(e.Name))
		}
	}
	timeout := int64(approvalTimeout(s) / time.Second)
	payload := obj{}.
		with("pipeline", g.cfg.Name).
		with("execution.$", "$$.Execution.Id").
		with("stage", s.Name).
		with("approvers", s.Approval.Approvers).
		with("timeoutSeconds", timeout).
		with("push.$", "$.push")
	if len(builds) > 0 {
		payload = payload.with("builds.$", "States.Array("+strings.Join(builds, ", ")+")")
	} else {
		payload = payload.with("builds", []any{})
	}
	payload = payload.with("taskToken.$", "$$.Task.Token")
	g.add(s.Name, obj{}.
		with("Type", "Task").
		with("Comment", fmt.Sprintf("Approval stage %s: mail each approver a link; wait up to %s for a decision.", s.Name, config.Duration{Duration: approvalTimeout(s)})).
		with("Resource", resLambdaWait).
		with("Parameters", obj{}.
			with("FunctionName", "${"+KeyNotifyFunctionArn+"}").
			with("Payload", payload)).
		with("TimeoutSeconds", timeout).
		with("ResultPath", "$.approvals."+dataKey(s.Name)).
		with("Retry", []obj{retryLambda, retryMail}).
		with("Catch", []obj{catchAll("$.error", g.failedName(s.Name))}).
		with("Next", succeededName(s.Name)))
}

// succeeded is the putEvents after stage i: its SUCCEEDED event and,
// unless stages can be skipped, the next stage's STARTED events (or the
// pipeline's SUCCEEDED event) in the same call: a stage costs one events
// transition, not two.
func (g *gen) succeeded(i int) {
	s := g.cfg.Stages[i]
	extra := obj{}.with("stage", s.Name)
	switch {
	case s.IsApproval():
		extra = extra.
			with("approver.$", "$.approvals."+dataKey(s.Name)+".approver").
			with("comment.$", "$.approvals."+dataKey(s.Name)+".comment")
	case s.IsParallel():
	case s.IsDeploy():
		extra = deploySucceeded(s)
	case g.recorded[i]:
		extra = extra.
			with("buildId.$", "$.builds."+dataKey(s.Name)+".buildId").
			with("logsUrl.$", "$.builds."+dataKey(s.Name)+".logsUrl")
	default:
		extra = extra.
			with("buildId.$", "$.builds."+dataKey(s.Name)+".Build.Id").
			with("logsUrl.$", "$.builds."+dataKey(s.Name)+".Build.Logs.DeepLink")
	}
	entries := []obj{g.entry(event.StageExecution, event.Succeeded, extra)}
	last := i+1 == len(g.cfg.Stages)
	var next string
	switch {
	case last:
		entries = append(entries, g.entry(event.PipelineExecution, event.Succeeded, nil))
		next = stSucceeded
	case g.skips:
		next = g.afterName(i)
	default:
		entries = append(entries, g.startedEntries(i+1)...)
		next = g.firstState(i + 1)
	}
	g.add(succeededName(s.Name), g.events(entries, next, g.failedName(s.Name)))
}
