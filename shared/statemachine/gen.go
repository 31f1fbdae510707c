package statemachine

import (
	"fmt"
	"strings"

	"github.com/pushline/pushline/shared/config"
	"github.com/pushline/pushline/shared/event"
	"github.com/pushline/pushline/shared/push"
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
	stRunDefaults  = "Run: defaults"
	stRun          = "Run?"
	stRunGiven     = "Run: given"
	stRunGivenPR   = "Run: given (pull request)"
	stRunPR        = "Run: pull request"
	stRunRetry     = "Run: retry"
	stRunRetryPR   = "Run: retry (pull request)"
	stStarted      = "Pipeline started"
	stStartedRetry = "Pipeline started (retry)"
	stResume       = "Retry: stage?"
	stResumeNone   = "Retry: no such stage"
	stSucceededEv  = "Pipeline: events (succeeded)"
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
	stFailPhases     = "Failure: build phases?"
	stFailNoPhases   = "Failure: no phases"
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

// Errors the machine raises itself (besides its Fail states').
const (
	// ErrorInputMissing: a build's input produced no artifact.
	ErrorInputMissing = "Pushline.InputMissing"
	// ErrorResume: the execution input's resume.stage names no stage.
	ErrorResume = "Pushline.ResumeUnknownStage"
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
	states obj // the states being written: the machine's, or a branch's
	names  map[string]bool
	err    error // the first duplicate state name
	// recorded[i]: build stage i is followed by another stage, so its
	// result is trimmed into $.builds.<stage> for later stages (the
	// actions of a stage of actions always are).
	recorded []bool
	// skips: some repository runs pull requests, so each stage is
	// preceded by a "<stage>: skip?" choice on $.skip.<stage>.
	skips bool
	// builds locates each build stage and action by name.
	builds map[string]buildRef
}

// buildRef is where a build stage or action is: its stage's index, and
// the action (nil for a build stage).
type buildRef struct {
	stage  int
	action *config.Action
}

func newGen(cfg *config.Config) *gen {
	g := &gen{cfg: cfg, recorded: make([]bool, len(cfg.Stages)), skips: cfg.HasPullRequests(), builds: map[string]buildRef{}}
	for i, s := range cfg.Stages {
		g.recorded[i] = isBuild(s) && i < len(cfg.Stages)-1
		if s.IsParallel() {
			for j := range s.Actions {
				g.builds[s.Actions[j].Name] = buildRef{stage: i, action: &s.Actions[j]}
			}
		} else if isBuild(s) {
			g.builds[s.Name] = buildRef{stage: i}
		}
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

	g.run()
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
	g.add(stStartedRetry, g.events([]obj{g.entry(event.PipelineExecution, event.Started, nil)}, stResume, g.failedName(stStarted)))
	g.failed(stStarted, "Start", kindStep)
	g.resume()
	if queued {
		g.queue()
	}
	g.source()
	for i, s := range g.cfg.Stages {
		g.enter(i)
		switch {
		case s.IsApproval():
			g.approval(i)
		case s.IsParallel():
			g.parallel(i)
		case s.IsDeploy():
			g.deploy(i)
		default:
			g.build(i)
		}
		g.succeeded(i)
		switch {
		case s.IsParallel():
			g.parallelFailed(i)
		case s.IsApproval():
			g.failed(s.Name, s.Name, kindApproval)
		case s.IsDeploy():
			g.failed(s.Name, s.Name, kindDeploy)
		default:
			g.failed(s.Name, s.Name, kindBuild)
		}
	}
	if g.skips {
		g.add(stSucceededEv, g.events([]obj{g.entry(event.PipelineExecution, event.Succeeded, nil)}, stSucceeded, g.failedName(stStarted)))
	}
	g.add(stSucceeded, obj{}.with("Type", "Succeed").with("Comment", "Every stage succeeded."))
	g.failure()

	return obj{}.
		with("Comment", comment).
		with("QueryLanguage", "JSONPath").
		with("StartAt", stRunDefaults).
		with("States", g.states)
}

// run adds the states that say how the execution came about, in
// $.about: {"run": {"trigger", "attempt", "retryOf"[, "by"]},
// "pullRequest"}, from the optional $.run and $.push.pullRequest.number
// (0 and "" when absent), for every event to carry; and they send a
// retry ($.resume.stage present) to its stage.
func (g *gen) run() {
	defaults := func(trigger string) obj {
		return obj{}.with("trigger", trigger).with("attempt", 1).with("retryOf", "")
	}
	g.add(stRunDefaults, obj{}.
		with("Type", "Pass").
		with("Comment", "How the run came about, for the events: a push's first run unless $.run says otherwise.").
		with("Result", obj{}.with("run", defaults(push.TriggerPush)).with("pullRequest", 0)).
		with("ResultPath", "$.about").
		with("Next", stRun))
	present := func(p string) obj { return obj{}.with("Variable", p).with("IsPresent", true) }
	and := func(rules ...obj) obj { return obj{}.with("And", rules) }
	run, pr, resume := present("$.run"), present("$.push.pullRequest.number"), present("$.resume.stage")
	g.add(stRun, obj{}.
		with("Type", "Choice").
		with("Choices", []obj{
			and(resume, run, pr).with("Next", stRunRetryPR),
			and(resume, run).with("Next", stRunRetry),
			and(run, pr).with("Next", stRunGivenPR),
			run.with("Next", stRunGiven),
			pr.with("Next", stRunPR),
		}).
		with("Default", stStarted))
	merged := "States.JsonMerge($.about.run, $.run, false)"
	set := func(name string, about obj, next string) {
		g.add(name, obj{}.
			with("Type", "Pass").
			with("Parameters", about).
			with("ResultPath", "$.about").
			with("Next", next))
	}
	set(stRunRetryPR, obj{}.with("run.$", merged).with("pullRequest.$", "$.push.pullRequest.number"), stStartedRetry)
	set(stRunRetry, obj{}.with("run.$", merged).with("pullRequest", 0), stStartedRetry)
	set(stRunGivenPR, obj{}.with("run.$", merged).with("pullRequest.$", "$.push.pullRequest.number"), stStarted)
	set(stRunGiven, obj{}.with("run.$", merged).with("pullRequest", 0), stStarted)
	set(stRunPR, obj{}.with("run", defaults(push.TriggerPullRequest)).with("pullRequest.$", "$.push.pullRequest.number"), stStarted)
}

// resume adds the choice that sends a retry to the stage named by
// $.resume.stage (its entry: STARTED event, or skip check).
func (g *gen) resume() {
	var choices []obj
	for i, s := range g.cfg.Stages {
		choices = append(choices, obj{}.
			with("Variable", "$.resume.stage").with("StringEquals", s.Name).
			with("Next", g.entryName(i)))
	}
	g.add(stResume, obj{}.
		with("Type", "Choice").
		with("Comment", "A retry: the execution input is the data the failed run carried into the stage $.resume.stage names.").
		with("Choices", choices).
		with("Default", stResumeNone))
	g.add(stResumeNone, obj{}.
		with("Type", "Pass").
		with("Parameters", obj{}.
			with("Error", ErrorResume).
			with("Cause.$", "States.Format('resume.stage {} is not a stage of this pipeline', $.resume.stage)")).
		with("ResultPath", "$.error").
		with("Next", g.failedName(stStarted)))
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
		with("commit.$", "$.push.after").
		with("trigger.$", "$.about.run.trigger").
		with("attempt.$", "$.about.run.attempt").
		with("retryOf.$", "$.about.run.retryOf").
		with("pullRequest.$", "$.about.pullRequest")
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

// failedPass records in $.failed which stage (or step) failed, the kind
// of failure, the action ("" unless a stage's action failed) and the name
// causes use ("Checks (action Unit)" for an action).
func failedPass(stage, kind string) obj {
	return obj{}.
		with("Type", "Pass").
		with("Comment", "Record which step failed; the error is in $.error.").
		with("Result", obj{}.with("stage", stage).with("type", kind).with("action", "").with("name", stage)).
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
		with("Next", g.entryName(0)))
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
