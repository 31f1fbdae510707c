package statemachine

import (
	"strings"

	"github.com/pushline/pushline/shared/event"
)

// failuresPath selects the messages of a failed build's failed phases
// (the local runner's TEST_FAILURES summary first, then CodeBuild's own):
// the one path of the definition that is not a reference path. Filters
// and wildcards are allowed in Parameters (Step Functions evaluates them
// with Jayway JsonPath, as the local engine does); an indefinite path
// yields an array, empty when nothing matches, and skips a phase without
// Contexts or a context without Message. Only Build.Phases itself must
// be there (an array), which "Failure: build phases?" makes sure of.
const failuresPath = "$.failure.cause.Build.Phases[?(@.PhaseStatus == 'FAILED')].Contexts[*].Message"

// failure adds the shared failure states: normalize the error, pick the
// events to emit, emit them, end in a Fail state.
func (g *gen) failure() {
	g.add(stFailCause, obj{}.
		with("Type", "Choice").
		with("Comment", "A failure's Cause is optional; make it present.").
		with("Choices", []obj{obj{}.
			with("Not", obj{}.with("Variable", "$.error.Cause").with("IsPresent", true)).
			with("Next", stFailNoCause)}).
		with("Default", stFailWhich))
	g.add(stFailNoCause, obj{}.
		with("Type", "Pass").
		with("Result", "").
		with("ResultPath", "$.error.Cause").
		with("Next", stFailWhich))
	g.add(stFailWhich, obj{}.
		with("Type", "Choice").
		with("Choices", []obj{
			obj{}.with("And", []obj{
				obj{}.with("Variable", "$.failed.type").with("StringEquals", kindApproval),
				obj{}.with("Variable", "$.error.Error").with("StringEquals", "States.Timeout"),
			}).with("Next", stFailEvTimeout),
			obj{}.with("And", []obj{
				obj{}.with("Variable", "$.failed.type").with("StringEquals", kindBuild),
				obj{}.with("Variable", "$.error.Error").with("StringEquals", "States.TaskFailed"),
				obj{}.with("Variable", "$.error.Cause").with("StringMatches", "{*}"),
			}).with("Next", stFailReadBuild),
			obj{}.with("Variable", "$.failed.type").with("StringEquals", kindStep).with("Next", stFailEvPipeline),
		}).
		with("Default", stFailEvStage))
	g.add(stFailReadBuild, obj{}.
		with("Type", "Pass").
		with("Comment", "A build that did not succeed fails the task with States.TaskFailed and the JSON of {\"Build\": …} as its cause.").
		with("Parameters", obj{}.with("cause.$", "States.StringToJson($.error.Cause)")).
		with("ResultPath", "$.failure").
		with("Next", stFailBuildInfo))
	g.add(stFailBuildInfo, obj{}.
		with("Type", "Choice").
		with("Choices", []obj{obj{}.
			with("And", []obj{
				obj{}.with("Variable", "$.failure.cause.Build.Id").with("IsPresent", true),
				obj{}.with("Variable", "$.failure.cause.Build.BuildStatus").with("IsPresent", true),
				obj{}.with("Variable", "$.failure.cause.Build.Logs.DeepLink").with("IsPresent", true),
			}).
			with("Next", stFailPhases)}).
		with("Default", stFailEvStage))
	phases := "$.failure.cause.Build.Phases"
	g.add(stFailPhases, obj{}.
		with("Type", "Choice").
		with("Comment", "The failures filter below needs Build.Phases to be an array (or an object): a filter on a missing field or a scalar is a States.Runtime error in AWS.").
		with("Choices", []obj{
			obj{}.with("Not", obj{}.with("Variable", phases).with("IsPresent", true)).with("Next", stFailNoPhases),
			obj{}.with("Or", []obj{
				obj{}.with("Variable", phases).with("IsNull", true),
				obj{}.with("Variable", phases).with("IsString", true),
				obj{}.with("Variable", phases).with("IsNumeric", true),
				obj{}.with("Variable", phases).with("IsBoolean", true),
			}).with("Next", stFailNoPhases),
		}).
		with("Default", stFailEvBuild))
	g.add(stFailNoPhases, obj{}.
		with("Type", "Pass").
		with("Result", []any{}).
		with("ResultPath", phases).
		with("Next", stFailEvBuild))

	failDetail := obj{}.
		with("stage.$", "$.failed.stage").
		with("action.$", "$.failed.action").
		with("error.$", "$.error.Error").
		with("cause.$", "$.error.Cause")
	buildDetail := obj{}.
		with("stage.$", "$.failed.stage").
		with("action.$", "$.failed.action").
		with("buildId.$", "$.failure.cause.Build.Id").
		with("logsUrl.$", "$.failure.cause.Build.Logs.DeepLink").
		with("error.$", "$.error.Error").
		with("cause.$", "States.Format('build {} ended {}', $.failure.cause.Build.Id, $.failure.cause.Build.BuildStatus)").
		with("failures.$", failuresPath)
	failEvents := func(name string, entries []obj, next string) {
		g.add(name, obj{}.
			with("Type", "Task").
			with("Resource", resEvents).
			with("Parameters", obj{}.with("Entries", entries)).
			with("ResultPath", nil).
			with("Retry", []obj{retryEvents}).
			with("Catch", []obj{catchAll("$.eventsError", next)}).
			with("Next", next))
	}
	failEvents(stFailEvBuild, []obj{
		g.entry(event.StageExecution, event.Failed, buildDetail),
		g.entry(event.PipelineExecution, event.Failed, buildDetail),
	}, stBuildFailed)
	timeoutDetail := obj{}.
		with("stage.$", "$.failed.stage").
		with("error.$", "$.error.Error").
		with("cause", "no decision before the approval timed out")
	failEvents(stFailEvTimeout, []obj{
		g.entry(event.Approval, event.TimedOut, timeoutDetail),
		g.entry(event.StageExecution, event.Failed, timeoutDetail),
		g.entry(event.PipelineExecution, event.Failed, timeoutDetail),
	}, stApprovalTimed)
	failEvents(stFailEvStage, []obj{
		g.entry(event.StageExecution, event.Failed, failDetail),
		g.entry(event.PipelineExecution, event.Failed, failDetail),
	}, stFailReason)
	failEvents(stFailEvPipeline, []obj{
		g.entry(event.PipelineExecution, event.Failed, failDetail),
	}, stFailReason)
	g.reason()

	g.add(stBuildFailed, obj{}.
		with("Type", "Fail").
		with("Error", ErrorBuildFailed).
		with("CausePath", "States.Format('stage {}: build {} ended {}; logs: {}', $.failed.name, $.failure.cause.Build.Id, $.failure.cause.Build.BuildStatus, $.failure.cause.Build.Logs.DeepLink)"))
	g.add(stApprovalTimed, obj{}.
		with("Type", "Fail").
		with("Error", ErrorApprovalTimedOut).
		with("CausePath", "States.Format('stage {}: no decision before the approval timed out', $.failed.stage)"))
	g.add(stFailed, obj{}.
		with("Type", "Fail").
		with("ErrorPath", "$.error.Error").
		with("CausePath", "$.failure.reason"))
}

// reason adds the states that write $.failure.reason, the cause of the
// execution's failure (other than a failed build or an approval timeout):
// "<stage> failed with <error>", then ": " and why when the error says it
// (the errorMessage of a Lambda function's error, the approver and comment
// of a rejection, a plain-text cause). A cause that looks like JSON but is
// not one of those (a build result without its details, a cause Step
// Functions truncated) is left to the execution history and the FAILED
// event: it may be 32 KiB of JSON.
//
// JSONPath intrinsics cannot cut a string, so the size comes from what
// feeds it: error messages of pushline's functions are one sentence,
// rejections carry an approver's address and a comment of at most 2,000
// characters (approval.MaxComment), plain-text causes come from AWS
// services (CodeBuild, Lambda, EventBridge API errors).
//
// States.StringToJson runs only on a cause that matches {*} (a truncated
// cause loses its closing brace), and every field read from the parsed
// cause is checked with IsPresent first.
func (g *gen) reason() {
	cause, errName := "$.error.Cause", "$.error.Error"
	detail := "$.failure.detail"
	g.add(stFailReason, obj{}.
		with("Type", "Choice").
		with("Comment", "Say why the execution failed, in its own cause.").
		with("Choices", []obj{
			obj{}.with("And", []obj{
				obj{}.with("Variable", errName).with("StringEquals", errorRejected),
				obj{}.with("Variable", cause).with("StringMatches", "{*}"),
			}).with("Next", stFailReadReject),
			obj{}.with("Variable", cause).with("StringMatches", `{"error*}`).with("Next", stFailReadError),
			obj{}.with("Variable", cause).with("StringEquals", "").with("Next", stReasonNone),
			obj{}.with("Variable", cause).with("StringMatches", "{*").with("Next", stReasonNone),
		}).
		with("Default", stReasonCause))
	read := func(name, comment, next string) {
		g.add(name, obj{}.
			with("Type", "Pass").
			with("Comment", comment).
			with("Parameters", obj{}.with("detail.$", "States.StringToJson("+cause+")")).
			with("ResultPath", "$.failure").
			with("Next", next))
	}
	read(stFailReadReject, "The cause of a rejection is the JSON of approval.Rejection: approver, comment, decidedAt.", stFailRejectInfo)
	g.add(stFailRejectInfo, obj{}.
		with("Type", "Choice").
		with("Choices", []obj{obj{}.
			with("And", []obj{
				obj{}.with("Variable", detail+".approver").with("IsPresent", true),
				obj{}.with("Variable", detail+".comment").with("IsPresent", true),
			}).
			with("Next", stFailComment)}).
		with("Default", stReasonNone))
	g.add(stFailComment, obj{}.
		with("Type", "Choice").
		with("Choices", []obj{obj{}.
			with("Variable", detail+".comment").with("StringEquals", "").
			with("Next", stReasonRejected)}).
		with("Default", stReasonComment))
	read(stFailReadError, "A Lambda function's error: the JSON of {errorMessage, errorType[, stackTrace]}.", stFailErrorInfo)
	g.add(stFailErrorInfo, obj{}.
		with("Type", "Choice").
		with("Choices", []obj{obj{}.
			with("Variable", detail+".errorMessage").with("IsPresent", true).
			with("Next", stReasonMessage)}).
		with("Default", stReasonNone))
	set := func(name, format string, args ...string) {
		g.add(name, obj{}.
			with("Type", "Pass").
			with("Parameters", obj{}.with("reason.$", "States.Format('"+format+"', "+strings.Join(append([]string{"$.failed.name", errName}, args...), ", ")+")")).
			with("ResultPath", "$.failure").
			with("Next", stFailed))
	}
	set(stReasonRejected, "{} failed with {}: rejected by {}", detail+".approver")
	set(stReasonComment, "{} failed with {}: rejected by {}: {}", detail+".approver", detail+".comment")
	set(stReasonMessage, "{} failed with {}: {}", detail+".errorMessage")
	set(stReasonCause, "{} failed with {}: {}", cause)
	set(stReasonNone, "{} failed with {}")
}
