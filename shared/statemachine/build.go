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

// artifactName is the file name of a build stage's or action's artifact.
func artifactName(build string) string { return build + ".zip" }

// dataKey is the key of a stage or action in the state data ($.builds,
// $.approvals, PUSHLINE_BUILDS): its name with '-' replaced by '_',
// because JSONPath's dot notation allows no '-' (config rules keep the
// keys unique).
func dataKey(name string) string { return strings.ReplaceAll(name, "-", "_") }

func inputsName(build string) string  { return build + ": inputs?" }
func outputsName(build string) string { return build + ": outputs?" }
func missingName(build, input string) string {
	return build + ": no artifact from " + input
}
func recordName(build string, artifact, vars bool) string {
	n := build + ": record"
	if vars {
		n += " with variables"
	}
	if !artifact {
		n += ", no artifact"
	}
	return n
}

// recordPath is where the record of a build stage or action is kept:
// $.builds.<stage>, or $.builds.<stage>.<action> for an action.
func (g *gen) recordPath(build string) string {
	ref := g.builds[build]
	stage := g.cfg.Stages[ref.stage].Name
	if ref.action == nil {
		return "$.builds." + dataKey(stage)
	}
	return "$.builds." + dataKey(stage) + "." + dataKey(build)
}

func buildTimeout(b config.Build) time.Duration {
	if b.Timeout.Duration == 0 {
		return config.DefaultBuildTimeout
	}
	return b.Timeout.Duration
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

// buildsBefore reports whether a build stage or action comes before
// stage i, so that $.builds exists when it starts.
func (g *gen) buildsBefore(i int) bool {
	for _, s := range g.cfg.Stages[:i] {
		if isBuild(s) {
			return true
		}
	}
	return false
}

// startBuild is the startBuild.sync parameters of a build stage (action
// "") or of an action of stage i. The primary source is always the
// commit's snapshot (so the buildspec is read from the commit); inputs
// are secondary sources, unpacked at $CODEBUILD_SRC_DIR_<identifier>.
func (g *gen) startBuild(i int, action string, b config.Build) obj {
	s := g.cfg.Stages[i]
	name := s.Name
	if action != "" {
		name = action
	}
	env := []obj{
		envVar("PUSHLINE_PIPELINE", g.cfg.Name, false),
		envVar("PUSHLINE_EXECUTION", "$$.Execution.Id", true),
		envVar("PUSHLINE_REPOSITORY", "$.push.repository", true),
		envVar("PUSHLINE_REF", "$.push.ref", true),
		envVar("PUSHLINE_COMMIT", "$.push.after", true),
		envVar("PUSHLINE_STAGE", s.Name, false),
	}
	if action != "" {
		env = append(env, envVar("PUSHLINE_ACTION", action, false))
	}
	if g.buildsBefore(i) {
		env = append(env, envVar("PUSHLINE_BUILDS", "States.JsonToString($.builds)", true))
	} else {
		env = append(env, envVar("PUSHLINE_BUILDS", "{}", false))
	}
	for _, k := range slices.Sorted(maps.Keys(b.Environment)) {
		env = append(env, envVar(k, b.Environment[k], false))
	}
	params := obj{}.
		with("ProjectName", "${"+ProjectKey(name)+"}").
		with("SourceTypeOverride", "S3").
		with("SourceLocationOverride.$", "$.source.location").
		with("BuildspecOverride", b.Buildspec)
	if len(b.Inputs) > 0 {
		var sources []obj
		for _, in := range b.Inputs {
			sources = append(sources, obj{}.
				with("SourceIdentifier", config.SourceIdentifier(in)).
				with("Type", "S3").
				with("Location.$", g.recordPath(in)+".artifact"))
		}
		params = params.with("SecondarySourcesOverride", sources)
	}
	params = params.
		with("ArtifactsOverride", obj{}.
			with("Type", "S3").
			with("Location", "${"+KeyArtifactBucket+"}").
			with("Path.$", fmt.Sprintf("States.Format('%s/{}', $$.Execution.Name)", g.cfg.Name)).
			with("Name", artifactName(name)).
			with("Packaging", "ZIP").
			with("NamespaceType", "NONE")).
		with("EnvironmentVariablesOverride", env).
		with("TimeoutInMinutesOverride", int(buildTimeout(b)/time.Minute))
	if b.ComputeType != "" {
		params = params.with("ComputeTypeOverride", b.ComputeType)
	}
	return params
}

func buildComment(stage, action string, b config.Build) string {
	what := "Build stage " + stage
	if action != "" {
		what = "Action " + action + " of stage " + stage
	}
	src := "the commit"
	if len(b.Inputs) > 0 {
		src += ", with the artifacts of " + strings.Join(b.Inputs, ", ")
	}
	return fmt.Sprintf("%s: %s on %s.", what, b.Buildspec, src)
}

// inputs adds the check before a build with inputs: each input's build
// produced an artifact (a skipped one did not). A missing one fails the
// build before it starts, with ErrorInputMissing.
func (g *gen) inputs(build string, b config.Build, onFail string) {
	var choices []obj
	for _, in := range b.Inputs {
		art := g.recordPath(in) + ".artifact"
		choices = append(choices,
			obj{}.with("Not", obj{}.with("Variable", art).with("IsPresent", true)).with("Next", missingName(build, in)),
			obj{}.with("Variable", art).with("StringEquals", "").with("Next", missingName(build, in)))
	}
	g.add(inputsName(build), obj{}.
		with("Type", "Choice").
		with("Comment", "CodeBuild reports an artifact only when the build uploaded one; a skipped build has none.").
		with("Choices", choices).
		with("Default", build))
	for _, in := range b.Inputs {
		g.add(missingName(build, in), obj{}.
			with("Type", "Pass").
			with("Result", obj{}.
				with("Error", ErrorInputMissing).
				with("Cause", fmt.Sprintf("%s produced no artifact, and %s takes it as an input (give %s's buildspec an artifacts section, or run it)", in, build, in))).
			with("ResultPath", "$.error").
			with("Next", onFail))
	}
}

// records adds the states that trim a build's raw result at raw (the
// {"Build": …} of startBuild.sync) into its record at to, then go next.
func (g *gen) records(stage, action, raw, to, next, own string) {
	name := stage
	if action != "" {
		name = action
	}
	b := raw + ".Build"
	sha := func() obj { return obj{}.with("Variable", b+".Artifacts.Sha256sum").with("IsPresent", true) }
	vars := func() obj { return obj{}.with("Variable", b+".ExportedEnvironmentVariables").with("IsPresent", true) }
	g.add(outputsName(name), obj{}.
		with("Type", "Choice").
		with("Comment", "CodeBuild reports Artifacts.Sha256sum only when it uploaded an artifact, ExportedEnvironmentVariables only when the buildspec exports some.").
		with("Choices", []obj{
			obj{}.with("And", []obj{sha(), vars()}).with("Next", recordName(name, true, true)),
			sha().with("Next", recordName(name, true, false)),
			vars().with("Next", recordName(name, false, true)),
		}).
		with("Default", recordName(name, false, false)))
	for _, v := range []struct{ artifact, vars bool }{{true, false}, {true, true}, {false, false}, {false, true}} {
		rec := obj{}.with("stage", stage)
		if action != "" {
			rec = rec.with("action", action)
		}
		rec = rec.
			with("buildId.$", b+".Id").
			with("status.$", b+".BuildStatus").
			with("logsUrl.$", b+".Logs.DeepLink")
		if v.artifact {
			rec = rec.with("artifact.$", own)
		} else {
			rec = rec.with("artifact", "")
		}
		if v.vars {
			rec = rec.with("variables.$", b+".ExportedEnvironmentVariables")
		} else {
			rec = rec.with("variables", []any{})
		}
		g.add(recordName(name, v.artifact, v.vars), obj{}.
			with("Type", "Pass").
			with("Comment", "Keep only what later stages need of the build result.").
			with("Parameters", rec).
			with("ResultPath", to).
			with("Next", next))
	}
}

// build adds a build stage: its inputs check, the build, and its record
// when another stage follows.
func (g *gen) build(i int) {
	s := g.cfg.Stages[i]
	if len(s.Inputs) > 0 {
		g.inputs(s.Name, s.Build, g.failedName(s.Name))
	}
	next := succeededName(s.Name)
	if g.recorded[i] {
		next = outputsName(s.Name)
	}
	g.add(s.Name, obj{}.
		with("Type", "Task").
		with("Comment", buildComment(s.Name, "", s.Build)).
		with("Resource", resBuild).
		with("Parameters", g.startBuild(i, "", s.Build)).
		with("ResultPath", "$.builds."+dataKey(s.Name)).
		with("Retry", []obj{retryBuild}).
		with("Catch", []obj{catchAll("$.error", g.failedName(s.Name))}).
		with("Next", next))
	if g.recorded[i] {
		path := "$.builds." + dataKey(s.Name)
		g.records(s.Name, "", path, path, succeededName(s.Name), g.locationExpr(artifactName(s.Name)))
	}
}

// Names of the states of a stage of actions.
func actionFailedName(action string) string { return action + ": failed" }
func actionFailName(action string) string   { return action + ": fail" }
func stageActionName(stage string) string   { return stage + ": action?" }
func stageReadActionName(stage string) string {
	return stage + ": read action"
}
func stageActionFoundName(stage string) string { return stage + ": action found?" }
func stageActionFailedName(stage string) string {
	return stage + ": action failed"
}
func stageActionErrorName(stage string) string { return stage + ": action error" }

// parallel adds a stage of actions: a Parallel state named as the stage,
// one branch per action. A branch builds, records its result and sends
// the action's SUCCEEDED event; its output is the record, and the
// stage's result is {<action>: record, …} in $.builds.<stage>. A failing
// branch ends in a Fail state whose cause is the JSON of
// {"action", "error"}, which stops the other branches and fails the
// Parallel state (see parallelFailed).
func (g *gen) parallel(i int) {
	s := g.cfg.Stages[i]
	outer := g.states
	var branches []obj
	sel := obj{}
	for k, a := range s.Actions {
		g.states = nil
		start := a.Name
		if len(a.Inputs) > 0 {
			start = inputsName(a.Name)
			g.inputs(a.Name, a.Build, actionFailedName(a.Name))
		}
		g.add(a.Name, obj{}.
			with("Type", "Task").
			with("Comment", buildComment(s.Name, a.Name, a.Build)).
			with("Resource", resBuild).
			with("Parameters", g.startBuild(i, a.Name, a.Build)).
			with("ResultPath", "$.build").
			with("Retry", []obj{retryBuild}).
			with("Catch", []obj{catchAll("$.error", actionFailedName(a.Name))}).
			with("Next", outputsName(a.Name)))
		g.records(s.Name, a.Name, "$.build", "$.build", succeededName(a.Name), g.locationExpr(artifactName(a.Name)))
		done := obj{}.with("stage", s.Name).with("action", a.Name).
			with("buildId.$", "$.build.buildId").with("logsUrl.$", "$.build.logsUrl")
		g.add(succeededName(a.Name), obj{}.
			with("Type", "Task").
			with("Resource", resEvents).
			with("Parameters", obj{}.with("Entries", []obj{g.entry(event.StageExecution, event.Succeeded, done)})).
			with("ResultPath", nil).
			with("OutputPath", "$.build").
			with("Retry", []obj{retryEvents}).
			with("Catch", []obj{catchAll("$.error", actionFailedName(a.Name))}).
			with("End", true))
		g.add(actionFailedName(a.Name), obj{}.
			with("Type", "Pass").
			with("Comment", "Name the action in the branch's failure, for the stage's.").
			with("Parameters", obj{}.with("action", a.Name).with("error.$", "$.error")).
			with("ResultPath", "$.actionFailure").
			with("Next", actionFailName(a.Name)))
		g.add(actionFailName(a.Name), obj{}.
			with("Type", "Fail").
			with("Comment", "Fails the stage and stops the other actions.").
			with("ErrorPath", "$.error.Error").
			with("CausePath", "States.JsonToString($.actionFailure)"))
		branches = append(branches, obj{}.with("StartAt", start).with("States", g.states))
		sel = sel.with(dataKey(a.Name)+".$", fmt.Sprintf("$[%d]", k))
	}
	g.states = outer
	var names []string
	for _, a := range s.Actions {
		names = append(names, a.Name)
	}
	g.add(s.Name, obj{}.
		with("Type", "Parallel").
		with("Comment", fmt.Sprintf("Stage %s: actions %s at the same time; the first to fail stops the others.", s.Name, strings.Join(names, ", "))).
		with("Branches", branches).
		with("ResultSelector", sel).
		with("ResultPath", "$.builds."+dataKey(s.Name)).
		with("Catch", []obj{catchAll("$.error", stageActionName(s.Name))}).
		with("Next", succeededName(s.Name)))
}

// parallelFailed adds the states a failed stage of actions goes to: they
// unwrap the failing action's name and error from the branch's cause
// into $.failed and $.error, then go on like a failed build stage. A
// cause that is not that JSON (Step Functions truncated it, or a
// putEvents of the stage failed) fails the stage without naming an
// action.
func (g *gen) parallelFailed(i int) {
	s := g.cfg.Stages[i]
	parsed := "$.actionFailure.parsed"
	g.add(stageActionName(s.Name), obj{}.
		with("Type", "Choice").
		with("Choices", []obj{obj{}.
			with("And", []obj{
				obj{}.with("Variable", "$.error.Cause").with("IsPresent", true),
				obj{}.with("Variable", "$.error.Cause").with("StringMatches", "{*}"),
			}).
			with("Next", stageReadActionName(s.Name))}).
		with("Default", g.failedName(s.Name)))
	g.add(stageReadActionName(s.Name), obj{}.
		with("Type", "Pass").
		with("Parameters", obj{}.with("parsed.$", "States.StringToJson($.error.Cause)")).
		with("ResultPath", "$.actionFailure").
		with("Next", stageActionFoundName(s.Name)))
	g.add(stageActionFoundName(s.Name), obj{}.
		with("Type", "Choice").
		with("Choices", []obj{obj{}.
			with("And", []obj{
				obj{}.with("Variable", parsed+".action").with("IsString", true),
				obj{}.with("Variable", parsed+".error.Error").with("IsPresent", true),
			}).
			with("Next", stageActionFailedName(s.Name))}).
		with("Default", g.failedName(s.Name)))
	g.add(stageActionFailedName(s.Name), obj{}.
		with("Type", "Pass").
		with("Parameters", obj{}.
			with("stage", s.Name).
			with("type", kindBuild).
			with("action.$", parsed+".action").
			with("name.$", fmt.Sprintf("States.Format('%s (action {})', %s.action)", s.Name, parsed))).
		with("ResultPath", "$.failed").
		with("Next", stageActionErrorName(s.Name)))
	g.add(stageActionErrorName(s.Name), obj{}.
		with("Type", "Pass").
		with("InputPath", parsed+".error").
		with("ResultPath", "$.error").
		with("Next", stFailCause))
	g.failed(s.Name, s.Name, kindBuild)
}
