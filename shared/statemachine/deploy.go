package statemachine

import (
	"fmt"
	"strings"

	"github.com/pushline/pushline/shared/config"
	"github.com/pushline/pushline/shared/event"
)

// KeyDeployConsoleURL is the placeholder of the URL a deployment id is
// appended to for its console link (only with deploy stages): in AWS
// https://<region>.console.aws.amazon.com/codesuite/codedeploy/deployments/,
// on the local stack its /deployments/ page.
const KeyDeployConsoleURL = "DeployConsoleUrl"

// CodeDeploy through Step Functions' AWS SDK integration (there is no
// .sync for CodeDeploy: the stage polls).
const (
	resCreateDeployment = "arn:aws:states:::aws-sdk:codedeploy:createDeployment"
	resGetDeployment    = "arn:aws:states:::aws-sdk:codedeploy:getDeployment"
	resStopDeployment   = "arn:aws:states:::aws-sdk:codedeploy:stopDeployment"
)

// Deploy stage polling: waits of deploySeed seconds, doubled while under
// deployMaxDoubling (5, 10, 20, 40, 40, …), at most deployMaxPolls polls
// (about 6 hours: CodeDeploy allows an hour per lifecycle event). A poll
// costs 11 history events (Wait, Task, Choice, Pass), so the longest
// deployment adds about 6,000 of the 25,000 a Standard execution may have.
const (
	deploySeed        = 5
	deployMaxDoubling = 30
	deployMaxPolls    = 540
)

// ErrorDeployTimedOut ends a deploy stage whose deployment was still in
// progress after deployMaxPolls polls (it is stopped, rolling back).
const ErrorDeployTimedOut = "Pushline.DeployTimedOut"

// kindDeploy is a deploy stage's failure kind ($.failed.type).
const kindDeploy = "deploy"

var retryDeploy = []obj{
	// Another deployment of the group is in progress (an earlier run's):
	// wait for it, up to about 40 minutes.
	obj{}.with("ErrorEquals", []string{"CodeDeploy.DeploymentLimitExceededException"}).
		with("IntervalSeconds", 30).with("MaxAttempts", 20).with("BackoffRate", 2).
		with("MaxDelaySeconds", 120).with("JitterStrategy", "FULL"),
	obj{}.with("ErrorEquals", []string{"CodeDeploy.ThrottlingException", "CodeDeploy.CodeDeployException", "CodeDeploy.SdkClientException"}).
		with("IntervalSeconds", 2).with("MaxAttempts", 6).with("BackoffRate", 2).
		with("MaxDelaySeconds", 60).with("JitterStrategy", "FULL"),
}

// isBuild reports whether s runs a CodeBuild build (neither an approval
// nor a deploy stage).
func isBuild(s config.Stage) bool { return !s.IsApproval() && !s.IsDeploy() }

// hasDeploy reports whether cfg has a deploy stage.
func hasDeploy(cfg *config.Config) bool {
	for _, s := range cfg.Stages {
		if s.IsDeploy() {
			return true
		}
	}
	return false
}

func deployWait(stage string) string    { return stage + ": wait" }
func deployStatus(stage string) string  { return stage + ": status" }
func deployDone(stage string) string    { return stage + ": done?" }
func deployBackoff(stage string) string { return stage + ": back off" }
func deployCount(stage string) string   { return stage + ": poll again" }
func deployStop(stage string) string    { return stage + ": stop (timed out)" }
func deployFailed(stage string) string  { return stage + ": deployment failed" }
func deployError(stage, what string) string {
	return stage + ": error (" + what + ")"
}
func deployEvents(stage string) string { return stage + ": failure events" }

// deploy adds deploy stage i: CreateDeployment of its input's artifact,
// then GetDeployment polled with back-off until the deployment ends. A
// deployment that fails (or is stopped) fails the stage with CodeDeploy's
// error code and message; its FAILED events carry the deployment id and
// console link.
func (g *gen) deploy(i int) {
	s := g.cfg.Stages[i]
	cd := s.Deploy.CodeDeploy
	d := "$.deploys." + dataKey(s.Name)
	g.add(s.Name, obj{}.
		with("Type", "Task").
		with("Comment", fmt.Sprintf("Deploy stage %s: CodeDeploy deploys the artifact of %s to %s/%s.", s.Name, cd.Input, cd.Application, cd.DeploymentGroup)).
		with("Resource", resCreateDeployment).
		with("Parameters", obj{}.
			with("ApplicationName", cd.Application).
			with("DeploymentGroupName", cd.DeploymentGroup).
			with("Revision", obj{}.
				with("RevisionType", "S3").
				with("S3Location", obj{}.
					with("Bucket", "${"+KeyArtifactBucket+"}").
					with("Key.$", g.keyExpr(artifactName(cd.Input))).
					with("BundleType", "zip"))).
			with("Description.$", fmt.Sprintf("States.Format('pushline %s {} {}', $$.Execution.Name, $.push.after)", g.cfg.Name))).
		with("ResultSelector", obj{}.
			with("id.$", "$.DeploymentId").
			with("wait", deploySeed).
			with("polls", 0)).
		with("ResultPath", d).
		with("Retry", retryDeploy).
		with("Catch", []obj{catchAll("$.error", g.failedName(s.Name))}).
		with("Next", deployWait(s.Name)))
	g.add(deployWait(s.Name), obj{}.
		with("Type", "Wait").
		with("SecondsPath", d+".wait").
		with("Next", deployStatus(s.Name)))
	g.add(deployStatus(s.Name), obj{}.
		with("Type", "Task").
		with("Resource", resGetDeployment).
		with("Parameters", obj{}.with("DeploymentId.$", d+".id")).
		with("ResultSelector", obj{}.
			with("status.$", "$.DeploymentInfo.Status").
			with("info.$", "$.DeploymentInfo")).
		with("ResultPath", d+".last").
		with("Retry", retryDeploy[1:]).
		with("Catch", []obj{catchAll("$.error", g.failedName(s.Name))}).
		with("Next", deployDone(s.Name)))
	status := d + ".last.status"
	g.add(deployDone(s.Name), obj{}.
		with("Type", "Choice").
		with("Choices", []obj{
			obj{}.with("Variable", status).with("StringEquals", "Succeeded").with("Next", succeededName(s.Name)),
			obj{}.with("Variable", status).with("StringEquals", "Failed").with("Next", deployFailed(s.Name)),
			obj{}.with("Variable", status).with("StringEquals", "Stopped").with("Next", deployFailed(s.Name)),
			obj{}.with("Not", obj{}.with("Variable", d+".polls").with("NumericLessThan", deployMaxPolls)).with("Next", deployStop(s.Name)),
			obj{}.with("Variable", d+".wait").with("NumericLessThan", deployMaxDoubling).with("Next", deployBackoff(s.Name)),
		}).
		with("Default", deployCount(s.Name)))
	poll := func(name, wait string) {
		g.add(name, obj{}.
			with("Type", "Pass").
			with("Parameters", obj{}.
				with("id.$", d+".id").
				with("wait.$", wait).
				with("polls.$", "States.MathAdd("+d+".polls, 1)").
				with("last.$", d+".last")).
			with("ResultPath", d).
			with("Next", deployWait(s.Name)))
	}
	poll(deployBackoff(s.Name), "States.MathAdd("+d+".wait, "+d+".wait)")
	poll(deployCount(s.Name), d+".wait")

	// Timed out: stop the deployment (CodeDeploy rolls back when the
	// group says so), then fail.
	g.add(deployStop(s.Name), obj{}.
		with("Type", "Task").
		with("Resource", resStopDeployment).
		with("Parameters", obj{}.with("DeploymentId.$", d+".id").with("AutoRollbackEnabled", true)).
		with("ResultPath", nil).
		with("Retry", retryDeploy[1:]).
		with("Catch", []obj{catchAll("$.stopError", deployError(s.Name, "timed out"))}).
		with("Next", deployError(s.Name, "timed out")))
	info := d + ".last.info"
	g.add(deployFailed(s.Name), obj{}.
		with("Type", "Choice").
		with("Comment", "CodeDeploy says why in ErrorInformation, and what its rollback did in RollbackInfo.").
		with("Choices", []obj{
			obj{}.with("And", []obj{
				obj{}.with("Variable", info+".ErrorInformation.Code").with("IsPresent", true),
				obj{}.with("Variable", info+".ErrorInformation.Message").with("IsPresent", true),
				obj{}.with("Variable", info+".RollbackInfo.RollbackMessage").with("IsPresent", true),
			}).with("Next", deployError(s.Name, "rolled back")),
			obj{}.with("And", []obj{
				obj{}.with("Variable", info+".ErrorInformation.Code").with("IsPresent", true),
				obj{}.with("Variable", info+".ErrorInformation.Message").with("IsPresent", true),
			}).with("Next", deployError(s.Name, "CodeDeploy")),
		}).
		with("Default", deployError(s.Name, "status")))
	setError := func(what, errName, cause string) {
		e := obj{}.with("Error", errName)
		if strings.HasPrefix(errName, "States.") {
			e = obj{}.with("Error.$", errName)
		}
		g.add(deployError(s.Name, what), obj{}.
			with("Type", "Pass").
			with("Parameters", e.with("Cause.$", cause)).
			with("ResultPath", "$.error").
			with("Next", deployEvents(s.Name)))
	}
	setError("rolled back", "States.Format('CodeDeploy.{}', "+info+".ErrorInformation.Code)",
		"States.Format('deployment {} {}: {} ({})', "+d+".id, "+status+", "+info+".ErrorInformation.Message, "+info+".RollbackInfo.RollbackMessage)")
	setError("CodeDeploy", "States.Format('CodeDeploy.{}', "+info+".ErrorInformation.Code)",
		"States.Format('deployment {} {}: {}', "+d+".id, "+status+", "+info+".ErrorInformation.Message)")
	setError("status", "CodeDeploy.DeploymentFailed", "States.Format('deployment {} {}', "+d+".id, "+status+")")
	setError("timed out", ErrorDeployTimedOut, fmt.Sprintf("States.Format('deployment {} still {} after %d polls: stopped', %s.id, %s)", deployMaxPolls, d, status))

	// The stage's own FAILED events, with the deployment's id and link;
	// then the shared failure states say why in the execution's cause.
	detail := obj{}.
		with("stage", s.Name).
		with("deploymentId.$", d+".id").
		with("logsUrl.$", "States.Format('${"+KeyDeployConsoleURL+"}{}', "+d+".id)").
		with("error.$", "$.error.Error").
		with("cause.$", "$.error.Cause")
	g.add(deployEvents(s.Name), obj{}.
		with("Type", "Task").
		with("Resource", resEvents).
		with("Parameters", obj{}.with("Entries", []obj{
			g.entry(event.StageExecution, event.Failed, detail),
			g.entry(event.PipelineExecution, event.Failed, detail),
		})).
		with("ResultPath", nil).
		with("Retry", []obj{retryEvents}).
		with("Catch", []obj{catchAll("$.eventsError", deployRecord(s.Name))}).
		with("Next", deployRecord(s.Name)))
	g.add(deployRecord(s.Name), obj{}.
		with("Type", "Pass").
		with("Result", obj{}.with("stage", s.Name).with("type", kindDeploy).with("action", "").with("name", s.Name)).
		with("ResultPath", "$.failed").
		with("Next", stFailReason))
}

func deployRecord(stage string) string { return stage + ": record failure" }

// deploySucceeded is the extra detail of a deploy stage's SUCCEEDED event.
func deploySucceeded(s config.Stage) obj {
	d := "$.deploys." + dataKey(s.Name)
	return obj{}.
		with("stage", s.Name).
		with("deploymentId.$", d+".id").
		with("logsUrl.$", "States.Format('${"+KeyDeployConsoleURL+"}{}', "+d+".id)")
}
