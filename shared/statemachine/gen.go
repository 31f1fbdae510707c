package statemachine

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/pushline/pushline/shared/config"
	"github.com/pushline/pushline/shared/event"
)

// Integration resources (Standard-workflow optimized integrations).
const (
	resLambda     = "arn:aws:states:::lambda:invoke"
	resLambdaWait = "arn:aws:states:::lambda:invoke.waitForTaskToken"
	resBuild      = "arn:aws:states:::codebuild:startBuild.sync"
	resEvents     = "arn:aws:states:::events:putEvents"
)

// Names of the states that are not per stage. Stage names cannot contain
// spaces or ':' and "Source" is reserved, so none collides with a stage's
// states (add checks it anyway).
const (
	stStarted      = "Pipeline started"
	stQueue        = "Queue: check"
	stQueueChoice  = "Queue: wait?"
	stQueueBackoff = "Queue: back off"
	stQueueWait    = "Queue: wait"
	stSource       = "Source"
	stSucceeded    = "Pipeline succeeded"

	stFailCause      = "Failure: cause?"
	stFailNoCause    = "Failure: no cause"
	stFailWhich      = "Failure: which?"
	stFailReadBuild  = "Failure: read build"
	stFailBuildInfo  = "Failure: build details?"
	stFailEvBuild    = "Failure: events (build failed)"
	stFailEvTimeout  = "Failure: events (approval timed out)"
	stFailEvStage    = "Failure: events (stage failed)"
	stFailEvPipeline = "Failure: events (pipeline failed)"
	stFailReason     = "Failure: reason?"
	stFailReadReject = "Failure: read rejection"
	stFailRejectInfo = "Failure: rejection details?"
	stFailComment    = "Failure: comment?"
	stFailReadError  = "Failure: read error"
	stFailErrorInfo  = "Failure: error message?"
	stReasonRejected = "Failure: reason (rejected)"
	stReasonComment  = "Failure: reason (rejected with a comment)"
	stReasonMessage  = "Failure: reason (error message)"
	stReasonCause    = "Failure: reason (cause)"
	stReasonNone     = "Failure: reason (no cause)"
	stBuildFailed    = "Build failed"
	stApprovalTimed  = "Approval timed out"
	stFailed         = "Pipeline failed"
)

// The queue gate is "Queue" in failure events; its failed state has a
// space so that a stage called Queue does not collide.
const (
	queueStep   = "Queue"
	queueFailed = "Queue gate: failed"
)

// Failure kinds recorded in $.failed.type.
const (
	kindBuild    = "build"
	kindApproval = "approval"
	kindStep     = "step" // the start event, the queue gate, the source step
)

// Errors the machine's own Fail states end with.
const (
	ErrorBuildFailed      = "Pushline.BuildFailed"
	ErrorApprovalTimedOut = "Pushline.ApprovalTimedOut"
)

// Errors of tasks the machine treats specially (the approval package owns
// them; repeated here so that the generator does not import it).
const (
	// ErrorMail is the Lambda errorType of the notify function's
	// *approval.MailError (no approver could be mailed): retried.
	ErrorMail = "MailError"
	// errorRejected is approval.ErrorRejected: its cause is the JSON of
	// approval.Rejection.
	errorRejected = "Pushline.Rejected"
)

// Retry policies for transient service errors: exponential backoff with
// full jitter, capped.
var (
	retryLambda = obj{}.
			with("ErrorEquals", []string{"Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException", "Lambda.TooManyRequestsException"}).
			with("IntervalSeconds", 2).with("MaxAttempts", 6).with("BackoffRate", 2).
			with("MaxDelaySeconds", 60).with("JitterStrategy", "FULL")
	retryBuild = obj{}.
			with("ErrorEquals", []string{"CodeBuild.CodeBuildException", "CodeBuild.AccountLimitExceededException", "CodeBuild.ThrottlingException"}).
			with("IntervalSeconds", 10).with("MaxAttempts", 10).with("BackoffRate", 2).
			with("MaxDelaySeconds", 300).with("JitterStrategy", "FULL")
	// retryMail: the notify function could mail no approver (a mail
	// outage); its *approval.MailError has the Lambda errorType
	// "MailError". Waits of 30 s doubling, capped at 5 min: the stage fails
	// after about 12 minutes without mail.
	retryMail = obj{}.
			with("ErrorEquals", []string{ErrorMail}).
			with("IntervalSeconds", 30).with("MaxAttempts", 5).with("BackoffRate", 2).
			with("MaxDelaySeconds", 300).with("JitterStrategy", "FULL")
	retryEvents = obj{}.
			with("ErrorEquals", []string{"EventBridge.FailedEntry", "EventBridge.InternalException", "EventBridge.ThrottlingException"}).
			with("IntervalSeconds", 1).with("MaxAttempts", 5).with("BackoffRate", 2).
			with("MaxDelaySeconds", 30).with("JitterStrategy", "FULL")
)

// Queue gate waits: 10 s, doubled while under queueMaxDoubling seconds
// (10, 20, 40, 80, 160, 320, 320, …), so a run queued behind a long one
// does not fill its history. The seed is doubled before the first wait.
const (
	queueSeed        = 5
	queueMaxDoubling = 300
)

type gen struct {
	cfg    *config.Config
	states obj
	names  map[string]bool
	err    error // the first duplicate state name
	// recorded[i]: build stage i is followed by another stage, so its
	// result is trimmed into $.builds.<stage> for later stages.
	recorded []bool
}

func newGen(cfg *config.Config) *gen {
	g := &gen{cfg: cfg, recorded: make([]bool, len(cfg.Stages))}
	for i, s := range cfg.Stages {
		g.recorded[i] = isBuild(s) && i < len(cfg.Stages)-1
	}
	return g
}

func (g *gen) add(name string, state obj) {
	if g.names == nil {
		g.names = map[string]bool{}
	}
	if g.names[name] && g.err == nil {
		g.err = fmt.Errorf("generate definition: two states named %q", name)
	}
	g.names[name] = true
	g.states = g.states.with(name, state)
}

func (g *gen) definition() obj {
	names := []string{stSource}
	for _, s := range g.cfg.Stages {
		names = append(names, s.Name)
	}
	comment := fmt.Sprintf("pushline pipeline %q: %s. Generated from the pipeline config by pushline (statemachine.Generate); do not edit.",
		g.cfg.Name, strings.Join(names, " → "))

	queued := g.cfg.Mode == config.ModeQueued
	afterStart := stSource
	if queued {
		afterStart = stQueue
	}
	started := g.events([]obj{g.entry(event.PipelineExecution, event.Started, nil)}, afterStart, g.failedName(stStarted))
	if queued {
		// The start event's (empty) result seeds the queue's wait.
		started = insertBefore(started, "ResultPath", "ResultSelector", obj{}.with("seconds", queueSeed))
		started = replace(started, "ResultPath", "$.queueWait")
	}
	g.add(stStarted, started)
	g.failed(stStarted, "Start", kindStep)
	if queued {
		g.queue()
	}
	g.source()
	first := g.cfg.Stages[0]
	g.add(startedName(first.Name), g.events(
		[]obj{g.entry(event.StageExecution, event.Started, obj{}.with("stage", first.Name))},
		first.Name, g.failedName(first.Name)))
	for i, s := range g.cfg.Stages {
		kind := kindBuild
		switch {
		case s.IsApproval():
			g.approval(i)
			kind = kindApproval
		case s.IsDeploy():
			g.deploy(i)
			kind = kindDeploy
		default:
			g.build(i)
		}
		g.succeeded(i)
		g.failed(s.Name, s.Name, kind)
	}
	g.add(stSucceeded, obj{}.with("Type", "Succeed").with("Comment", "Every stage succeeded."))
	g.failure()

	return obj{}.
		with("Comment", comment).
		with("QueryLanguage", "JSONPath").
		with("StartAt", stStarted).
		with("States", g.states)
}

func startedName(stage string) string { return stage + ": started" }
func (g *gen) failedName(step string) string {
	return step + ": failed"
}

// base is the detail every event carries.
func (g *gen) base(state string) obj {
	return obj{}.
		with("pipeline", g.cfg.Name).
		with("execution.$", "$$.Execution.Id").
		with("state", state).
		with("repository.$", "$.push.repository").
		with("ref.$", "$.push.ref").
		with("commit.$", "$.push.after")
}

// entry is one PutEvents entry; extra detail fields follow the base ones.
func (g *gen) entry(detailType, state string, extra obj) obj {
	detail := g.base(state)
	detail = append(detail, extra...)
	return obj{}.
		with("Source", event.Source).
		with("DetailType", detailType).
		with("EventBusName", "${"+KeyEventBusName+"}").
		with("Detail", detail)
}

// events is a putEvents task; its Catch goes to onError (a stage's or
// step's "failed" state) with the error in $.error.
func (g *gen) events(entries []obj, next, onError string) obj {
	return obj{}.
		with("Type", "Task").
		with("Resource", resEvents).
		with("Parameters", obj{}.with("Entries", entries)).
		with("ResultPath", nil).
		with("Retry", []obj{retryEvents}).
		with("Catch", []obj{catchAll("$.error", onError)}).
		with("Next", next)
}

func catchAll(resultPath, next string) obj {
	return obj{}.with("ErrorEquals", []string{"States.ALL"}).with("ResultPath", resultPath).with("Next", next)
}

// failed is the state a step's or stage's Catch goes to: it records which
// one failed, then the shared failure states emit the events.
func (g *gen) failed(stateName, stage, kind string) {
	g.add(g.failedName(stateName), failedPass(stage, kind))
}

func failedPass(stage, kind string) obj {
	return obj{}.
		with("Type", "Pass").
		with("Comment", "Record which step failed; the error is in $.error.").
		with("Result", obj{}.with("stage", stage).with("type", kind)).
		with("ResultPath", "$.failed").
		with("Next", stFailCause)
}

func (g *gen) queue() {
	g.add(stQueue, obj{}.
		with("Type", "Task").
		with("Comment", "Queued mode: wait while an older run of the same repository and ref is running.").
		with("Resource", resLambda).
		with("Parameters", obj{}.
			with("FunctionName", "${"+KeyQueueFunctionArn+"}").
			with("Payload", obj{}.with("execution.$", "$$.Execution.Id"))).
		with("ResultSelector", obj{}.with("wait.$", "$.Payload.wait").with("ahead.$", "$.Payload.ahead")).
		with("ResultPath", "$.queue").
		with("Retry", []obj{retryLambda}).
		with("Catch", []obj{catchAll("$.error", queueFailed)}).
		with("Next", stQueueChoice))
	g.add(stQueueChoice, obj{}.
		with("Type", "Choice").
		with("Choices", []obj{
			obj{}.with("And", []obj{
				obj{}.with("Variable", "$.queue.wait").with("BooleanEquals", true),
				obj{}.with("Variable", "$.queueWait.seconds").with("NumericLessThan", queueMaxDoubling),
			}).with("Next", stQueueBackoff),
			obj{}.with("Variable", "$.queue.wait").with("BooleanEquals", true).with("Next", stQueueWait),
		}).
		with("Default", stSource))
	g.add(stQueueBackoff, obj{}.
		with("Type", "Pass").
		with("Parameters", obj{}.with("seconds.$", "States.MathAdd($.queueWait.seconds, $.queueWait.seconds)")).
		with("ResultPath", "$.queueWait").
		with("Next", stQueueWait))
	g.add(stQueueWait, obj{}.
		with("Type", "Wait").
		with("SecondsPath", "$.queueWait.seconds").
		with("Next", stQueue))
	g.add(queueFailed, failedPass(queueStep, kindStep))
}

func (g *gen) source() {
	first := g.cfg.Stages[0].Name
	g.add(stSource, obj{}.
		with("Type", "Task").
		with("Comment", "Snapshot the pushed commit into source.zip in the artifact bucket.").
		with("Resource", resLambda).
		with("Parameters", obj{}.
			with("FunctionName", "${"+KeySourceFunctionArn+"}").
			with("Payload", obj{}.
				with("pipeline", g.cfg.Name).
				with("execution.$", "$$.Execution.Id").
				with("push.$", "$.push").
				with("bucket", "${"+KeyArtifactBucket+"}").
				with("key.$", g.keyExpr("source.zip")))).
		with("ResultSelector", obj{}.
			with("bucket.$", "$.Payload.bucket").
			with("key.$", "$.Payload.key").
			with("location.$", "$.Payload.location")).
		with("ResultPath", "$.source").
		with("Retry", []obj{retryLambda}).
		with("Catch", []obj{catchAll("$.error", g.failedName(stSource))}).
		with("Next", startedName(first)))
	g.failed(stSource, stSource, kindStep)
}

// keyExpr is the intrinsic giving the S3 key of an execution's file:
// <pipeline>/<execution name>/<file>. Pipeline and stage names need no
// escaping in an intrinsic string (config rules).
func (g *gen) keyExpr(file string) string {
	return fmt.Sprintf("States.Format('%s/{}/%s', $$.Execution.Name)", g.cfg.Name, file)
}

// locationExpr is the intrinsic giving "bucket/key" of an execution's file.
func (g *gen) locationExpr(file string) string {
	return fmt.Sprintf("States.Format('{}/%s/{}/%s', $.source.bucket, $$.Execution.Name)", g.cfg.Name, file)
}

func artifactName(stage string) string { return stage + ".zip" }

func buildTimeout(s config.Stage) time.Duration {
	if s.Timeout.Duration == 0 {
		return config.DefaultBuildTimeout
	}
	return s.Timeout.Duration
}

func approvalTimeout(s config.Stage) time.Duration {
	if s.Approval.Timeout.Duration == 0 {
		return config.DefaultApprovalTimeout
	}
	return s.Approval.Timeout.Duration
}

func envVar(name string, value any, path bool) obj {
	o := obj{}.with("Name", name)
	if path {
		o = o.with("Value.$", value)
	} else {
		o = o.with("Value", value)
	}
	return o.with("Type", "PLAINTEXT")
}

func (g *gen) build(i int) {
	s := g.cfg.Stages[i]
	env := []obj{
		envVar("PUSHLINE_PIPELINE", g.cfg.Name, false),
		envVar("PUSHLINE_EXECUTION", "$$.Execution.Id", true),
		envVar("PUSHLINE_REPOSITORY", "$.push.repository", true),
		envVar("PUSHLINE_REF", "$.push.ref", true),
		envVar("PUSHLINE_COMMIT", "$.push.after", true),
		envVar("PUSHLINE_STAGE", s.Name, false),
	}
	if g.latestBefore(i) != "$.source.location" { // an earlier build stage
		env = append(env, envVar("PUSHLINE_BUILDS", "States.JsonToString($.builds)", true))
	} else {
		env = append(env, envVar("PUSHLINE_BUILDS", "{}", false))
	}
	for _, k := range slices.Sorted(maps.Keys(s.Environment)) {
		env = append(env, envVar(k, s.Environment[k], false))
	}
	params := obj{}.
		with("ProjectName", "${"+ProjectKey(s.Name)+"}").
		with("SourceTypeOverride", "S3").
		with("SourceLocationOverride.$", g.inputExpr(i)).
		with("BuildspecOverride", s.Buildspec).
		with("ArtifactsOverride", obj{}.
			with("Type", "S3").
			with("Location", "${"+KeyArtifactBucket+"}").
			with("Path.$", fmt.Sprintf("States.Format('%s/{}', $$.Execution.Name)", g.cfg.Name)).
			with("Name", artifactName(s.Name)).
			with("Packaging", "ZIP").
			with("NamespaceType", "NONE")).
		with("EnvironmentVariablesOverride", env).
		with("TimeoutInMinutesOverride", int(buildTimeout(s)/time.Minute))
	if s.ComputeType != "" {
		params = params.with("ComputeTypeOverride", s.ComputeType)
	}
	next := succeededName(s.Name)
	if g.recorded[i] {
		next = outputsName(s.Name)
	}
	g.add(s.Name, obj{}.
		with("Type", "Task").
		with("Comment", fmt.Sprintf("Build stage %s: %s on %s.", s.Name, s.Buildspec, g.inputDesc(i))).
		with("Resource", resBuild).
		with("Parameters", params).
		with("ResultPath", "$.builds."+dataKey(s.Name)).
		with("Retry", []obj{retryBuild}).
		with("Catch", []obj{catchAll("$.error", g.failedName(s.Name))}).
		with("Next", next))
	if !g.recorded[i] {
		return
	}
	raw := "$.builds." + dataKey(s.Name) + ".Build"
	sha := func() obj { return obj{}.with("Variable", raw+".Artifacts.Sha256sum").with("IsPresent", true) }
	vars := func() obj { return obj{}.with("Variable", raw+".ExportedEnvironmentVariables").with("IsPresent", true) }
	g.add(outputsName(s.Name), obj{}.
		with("Type", "Choice").
		with("Comment", "CodeBuild reports Artifacts.Sha256sum only when it uploaded an artifact, ExportedEnvironmentVariables only when the buildspec exports some.").
		with("Choices", []obj{
			obj{}.with("And", []obj{sha(), vars()}).with("Next", recordName(s.Name, true, true)),
			sha().with("Next", recordName(s.Name, true, false)),
			vars().with("Next", recordName(s.Name, false, true)),
		}).
		with("Default", recordName(s.Name, false, false)))
	for _, v := range []struct{ artifact, vars bool }{{true, false}, {true, true}, {false, false}, {false, true}} {
		rec := obj{}.
			with("stage", s.Name).
			with("buildId.$", raw+".Id").
			with("status.$", raw+".BuildStatus").
			with("logsUrl.$", raw+".Logs.DeepLink")
		if v.artifact {
			own := g.locationExpr(artifactName(s.Name))
			rec = rec.with("artifact.$", own).with("latestArtifact.$", own)
		} else {
			rec = rec.with("artifact", "").with("latestArtifact.$", g.latestBefore(i))
		}
		if v.vars {
			rec = rec.with("variables.$", raw+".ExportedEnvironmentVariables")
		} else {
			rec = rec.with("variables", []any{})
		}
		g.add(recordName(s.Name, v.artifact, v.vars), obj{}.
			with("Type", "Pass").
			with("Comment", "Keep only what later stages need of the build result.").
			with("Parameters", rec).
			with("ResultPath", "$.builds."+dataKey(s.Name)).
			with("Next", succeededName(s.Name)))
	}
}

// inputExpr is the path or intrinsic giving "bucket/key" of the source of
// build stage i: its input's artifact, by default the latest artifact an
// earlier build stage produced, else the source snapshot.
func (g *gen) inputExpr(i int) string {
	switch in := g.cfg.Stages[i].Input; in {
	case "":
		return g.latestBefore(i)
	case config.SourceInput:
		return "$.source.location"
	default:
		return g.locationExpr(artifactName(in))
	}
}

// latestBefore is the path of the latest artifact produced before stage i:
// the previous build stage's record carries it (its own artifact, or the
// one before), the first build stage takes the source snapshot.
func (g *gen) latestBefore(i int) string {
	for j := i - 1; j >= 0; j-- {
		if isBuild(g.cfg.Stages[j]) {
			return "$.builds." + dataKey(g.cfg.Stages[j].Name) + ".latestArtifact"
		}
	}
	return "$.source.location"
}

func (g *gen) inputDesc(i int) string {
	switch in := g.cfg.Stages[i].Input; {
	case in == "" && g.latestBefore(i) != "$.source.location":
		return "the latest artifact an earlier build stage produced, else the source snapshot"
	case in == "" || in == config.SourceInput:
		return "the source snapshot"
	default:
		return "the artifact of " + in
	}
}

// dataKey is the key of a stage in the state data ($.builds, $.approvals,
// PUSHLINE_BUILDS): its name with '-' replaced by '_', because JSONPath's
// dot notation allows no '-' (config rules keep the keys unique).
func dataKey(stage string) string { return strings.ReplaceAll(stage, "-", "_") }

func outputsName(stage string) string { return stage + ": outputs?" }
func recordName(stage string, artifact, vars bool) string {
	n := stage + ": record"
	if vars {
		n += " with variables"
	}
	if !artifact {
		n += ", no artifact"
	}
	return n
}
func succeededName(stage string) string { return stage + ": succeeded" }

func (g *gen) approval(i int) {
	s := g.cfg.Stages[i]
	var builds []string
	for _, e := range g.cfg.Stages[:i] {
		if isBuild(e) {
			builds = append(builds, "$.builds."+dataKey(e.Name))
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

// succeeded is the putEvents after stage i: its SUCCEEDED event and the
// next stage's STARTED event (or the pipeline's SUCCEEDED event) in one
// call.
func (g *gen) succeeded(i int) {
	s := g.cfg.Stages[i]
	extra := obj{}.with("stage", s.Name)
	switch {
	case s.IsApproval():
		extra = extra.
			with("approver.$", "$.approvals."+dataKey(s.Name)+".approver").
			with("comment.$", "$.approvals."+dataKey(s.Name)+".comment")
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
	next := stSucceeded
	if i+1 < len(g.cfg.Stages) {
		n := g.cfg.Stages[i+1].Name
		entries = append(entries, g.entry(event.StageExecution, event.Started, obj{}.with("stage", n)))
		next = n
	} else {
		entries = append(entries, g.entry(event.PipelineExecution, event.Succeeded, nil))
	}
	g.add(succeededName(s.Name), g.events(entries, next, g.failedName(s.Name)))
}

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
			with("Next", stFailEvBuild)}).
		with("Default", stFailEvStage))

	failDetail := obj{}.
		with("stage.$", "$.failed.stage").
		with("error.$", "$.error.Error").
		with("cause.$", "$.error.Cause")
	buildDetail := obj{}.
		with("stage.$", "$.failed.stage").
		with("buildId.$", "$.failure.cause.Build.Id").
		with("logsUrl.$", "$.failure.cause.Build.Logs.DeepLink").
		with("error.$", "$.error.Error").
		with("cause.$", "States.Format('build {} ended {}', $.failure.cause.Build.Id, $.failure.cause.Build.BuildStatus)")
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
		with("CausePath", "States.Format('stage {}: build {} ended {}; logs: {}', $.failed.stage, $.failure.cause.Build.Id, $.failure.cause.Build.BuildStatus, $.failure.cause.Build.Logs.DeepLink)"))
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
			with("Parameters", obj{}.with("reason.$", "States.Format('"+format+"', "+strings.Join(append([]string{"$.failed.stage", errName}, args...), ", ")+")")).
			with("ResultPath", "$.failure").
			with("Next", stFailed))
	}
	set(stReasonRejected, "{} failed with {}: rejected by {}", detail+".approver")
	set(stReasonComment, "{} failed with {}: rejected by {}: {}", detail+".approver", detail+".comment")
	set(stReasonMessage, "{} failed with {}: {}", detail+".errorMessage")
	set(stReasonCause, "{} failed with {}: {}", cause)
	set(stReasonNone, "{} failed with {}")
}

// insertBefore returns o with k: v inserted before the key before.
func insertBefore(o obj, before, k string, v any) obj {
	out := make(obj, 0, len(o)+1)
	for _, e := range o {
		if e.k == before {
			out = append(out, kv{k, v})
		}
		out = append(out, e)
	}
	return out
}

// replace returns o with the value of k replaced.
func replace(o obj, k string, v any) obj {
	out := make(obj, len(o))
	copy(out, o)
	for i := range out {
		if out[i].k == k {
			out[i].v = v
		}
	}
	return out
}
