package run

import (
	"encoding/json"
	"regexp"
	"strings"
	"time"

	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/pushline/pushline/shared/config"
	"github.com/pushline/pushline/shared/push"
)

// SourceStage is the name of the source step, shown as the first stage.
const SourceStage = "Source"

// isStageName reports whether a state name can be a stage's (or an
// action's): the states the generator adds all have a space or ':' in
// their names.
func isStageName(name string) bool {
	return name != "" && !strings.ContainsAny(name, " :")
}

// instance is one entry into a state: the events that follow it point
// back to it through PreviousEventId.
type instance struct {
	stage *Stage // nil for a state that is no stage
	task  string // the resource type of its task: codebuild, lambda, …
	wait  bool   // a .waitForTaskToken task (an approval)
}

// projects maps build stages (and actions) to their CodeBuild project,
// from the tasks' parameters: a running build not in the history yet is
// looked up there (Runs.enrich).
type projects map[string]string

// execution is what DescribeExecution says of a run.
type execution struct {
	ARN, Name, Status string
	Started, Stopped  time.Time
	Input             string
	Error, Cause      string
}

// model builds a run from its execution and its history (oldest event
// first). cfg, when not nil, lists the stages not entered yet.
func model(ex execution, events []sfntypes.HistoryEvent, cfg *config.Config) *Run {
	r := &Run{ARN: ex.ARN, Name: ex.Name, Status: ex.Status, Started: ex.Started, Stopped: ex.Stopped, Error: ex.Error, Trigger: push.TriggerPush, Attempt: 1, projects: projects{}}
	var in push.Input
	input := ex.Input
	for _, ev := range events {
		if d := ev.ExecutionStartedEventDetails; d != nil && d.Input != nil {
			input = *d.Input
			break
		}
	}
	if json.Unmarshal([]byte(input), &in) == nil {
		r.Pipeline = in.Pipeline
		r.Commit = commitOf(in.Push)
		if in.Run != nil {
			r.Trigger, r.By, r.RetryOf = in.Run.Trigger, in.Run.By, in.Run.RetryOf
			if in.Run.Attempt > 0 {
				r.Attempt = in.Run.Attempt
			}
		}
		if in.Resume != nil {
			r.Resumed = in.Resume.Stage
		}
	}
	if in.Push.PullRequest != nil && (in.Run == nil || in.Run.Trigger == "") {
		r.Trigger = push.TriggerPullRequest
	}
	r.Artifacts = reusedArtifacts(input, r.RetryOf)

	stages := newStageList(cfg, in.Skip)
	owner := map[int64]*instance{}
	var lastStage *Stage
	for i := range events {
		ev := &events[i]
		typ := string(ev.Type)
		ts := time.Time{}
		if ev.Timestamp != nil {
			ts = ev.Timestamp.UTC()
		}
		if d := ev.StateEnteredEventDetails; d != nil && strings.HasSuffix(typ, "StateEntered") {
			name := deref(d.Name)
			inst := &instance{}
			owner[ev.Id] = inst
			if isStageName(name) {
				st := stages.get(name)
				*st = Stage{Name: st.Name, Kind: st.Kind, Actions: st.Actions, Started: ts, State: StageRunning}
				if typ == "ParallelStateEntered" {
					st.Kind = KindParallel
				}
				inst.stage = st
				lastStage = st
			}
			continue
		}
		inst := owner[ev.PreviousEventId]
		owner[ev.Id] = inst
		if inst == nil || inst.stage == nil {
			continue
		}
		st := inst.stage
		switch typ {
		case "TaskScheduled":
			d := ev.TaskScheduledEventDetails
			inst.task = deref(d.ResourceType)
			inst.wait = strings.HasSuffix(deref(d.Resource), ".waitForTaskToken")
			switch {
			case inst.task == "codebuild":
				st.Kind = KindBuild
				var p struct{ ProjectName string }
				if json.Unmarshal([]byte(deref(d.Parameters)), &p) == nil && p.ProjectName != "" {
					r.projects[st.Name] = p.ProjectName
				}
			case inst.wait:
				st.Kind = KindApproval
				st.State = StageWaiting
				st.Approval = &Approval{Approvers: approversOf(deref(d.Parameters)), Asked: ts}
			case st.Name == SourceStage:
				st.Kind = KindSource
			}
		case "TaskSubmitted":
			if b := buildOf(deref(ev.TaskSubmittedEventDetails.Output)); b != nil {
				st.Build = b.build()
			}
		case "TaskSucceeded":
			out := deref(ev.TaskSucceededEventDetails.Output)
			st.State, st.Ended = StageSucceeded, ts
			switch {
			case inst.task == "codebuild":
				if b := buildOf(out); b != nil {
					st.Build = b.build()
					if a, ok := b.artifact(); ok {
						r.Artifacts = append(r.Artifacts, Artifact{Stage: st.Name, Bucket: a[0], Key: a[1]})
					}
				}
			case inst.wait:
				var o struct {
					Approver, Comment, DecidedAt string
				}
				if json.Unmarshal([]byte(out), &o) == nil && st.Approval != nil {
					st.Approval.Decision, st.Approval.Approver, st.Approval.Comment = "APPROVED", o.Approver, o.Comment
					st.Approval.DecidedAt = parseTime(o.DecidedAt, ts)
				}
			case st.Name == SourceStage:
				var o struct {
					Payload struct{ Bucket, Key string }
				}
				if json.Unmarshal([]byte(out), &o) == nil && o.Payload.Key != "" {
					r.Artifacts = append(r.Artifacts, Artifact{Stage: SourceStage, Bucket: o.Payload.Bucket, Key: o.Payload.Key})
				}
			}
		case "TaskFailed", "TaskTimedOut", "TaskStartFailed", "TaskSubmitFailed":
			var e, c string
			switch {
			case ev.TaskFailedEventDetails != nil:
				e, c = deref(ev.TaskFailedEventDetails.Error), deref(ev.TaskFailedEventDetails.Cause)
			case ev.TaskTimedOutEventDetails != nil:
				e, c = deref(ev.TaskTimedOutEventDetails.Error), deref(ev.TaskTimedOutEventDetails.Cause)
			case ev.TaskStartFailedEventDetails != nil:
				e, c = deref(ev.TaskStartFailedEventDetails.Error), deref(ev.TaskStartFailedEventDetails.Cause)
			case ev.TaskSubmitFailedEventDetails != nil:
				e, c = deref(ev.TaskSubmitFailedEventDetails.Error), deref(ev.TaskSubmitFailedEventDetails.Cause)
			}
			st.State, st.Ended, st.Error = StageFailed, ts, e
			st.Cause = stageCause(st, inst, e, c, ts)
		case "ParallelStateSucceeded":
			st.State, st.Ended = StageSucceeded, ts
		case "ParallelStateFailed":
			st.State, st.Ended = StageFailed, ts
		default:
			if strings.HasSuffix(typ, "StateExited") && st.Ended.IsZero() {
				st.Ended = ts
				if st.State == StageRunning {
					st.State = StageSucceeded
				}
			}
		}
	}
	r.Stages = stages.list()
	finish(r, ex, lastStage)
	return r
}

// finish settles what the end of the run says: stages still running were
// stopped or failed with it; stages before a retry's first stage were
// reused; the cause in words.
func finish(r *Run, ex execution, last *Stage) {
	ended := r.Status != Running && r.Status != ""
	reused := r.Resumed != ""
	var walk func(ss []Stage)
	walk = func(ss []Stage) {
		for i := range ss {
			st := &ss[i]
			if st.Name == r.Resumed {
				reused = false
			}
			switch {
			case st.State == StageFailed && r.FailedStage == "":
				r.FailedStage = st.Name
			case st.State == "" && reused:
				st.State = StageReused
			case st.State == "" && ended:
				st.State = StageNotRun
			case st.State == "":
				st.State = StagePending
			case ended && (st.State == StageRunning || st.State == StageWaiting):
				st.State, st.Ended = StageStopped, r.Stopped
				if r.Status == Failed {
					st.State = StageFailed
				}
			}
			if st.Approval != nil && st.Approval.Decision == "" && ended && st.State != StageSucceeded {
				st.Approval.Decision = st.State
			}
			walk(st.Actions)
		}
	}
	walk(r.Stages)
	if ended && r.FailedStage == "" && r.Status != Succeeded && last != nil {
		r.FailedStage = last.Name
	}
	r.Cause = causeInWords(ex.Cause)
	// The stage's own cause says more when it starts the same way (a
	// build's failed phase and its message).
	if st := r.Stage(r.FailedStage); st != nil && st.Cause != "" && (r.Cause == "" || strings.HasPrefix(st.Cause, r.Cause)) {
		r.Cause = st.Cause
	}
}

// causeRE matches the execution causes the generated definition writes:
// "<stage> failed with <error>: <why>" and "stage <stage>: <why>".
var causeRE = regexp.MustCompile(`^(?:\S+ failed with \S+|stage \S+): (.+)$`)

// causeInWords is the why of an execution's cause: "rejected by
// ops@example.com: not today" of "Approve failed with Pushline.Rejected:
// rejected by ops@example.com: not today"; a build's logs link is left
// out (the page shows the log).
func causeInWords(cause string) string {
	cause = strings.TrimSpace(cause)
	if m := causeRE.FindStringSubmatch(cause); m != nil {
		cause = m[1]
	}
	if i := strings.Index(cause, "; logs: "); i >= 0 {
		cause = cause[:i]
	}
	if strings.HasPrefix(cause, "{") { // JSON nobody reads: stays in the history
		return ""
	}
	return cause
}

// stageCause says why a stage's task failed, in words.
func stageCause(st *Stage, inst *instance, errName, cause string, ts time.Time) string {
	switch {
	case inst.wait && errName == "Pushline.Rejected":
		var rj struct{ Approver, Comment, DecidedAt string }
		_ = json.Unmarshal([]byte(cause), &rj)
		if st.Approval != nil {
			st.Approval.Decision, st.Approval.Approver, st.Approval.Comment = "REJECTED", rj.Approver, rj.Comment
			st.Approval.DecidedAt = parseTime(rj.DecidedAt, ts)
		}
		if rj.Approver == "" {
			return "rejected"
		}
		if rj.Comment != "" {
			return "rejected by " + rj.Approver + ": " + rj.Comment
		}
		return "rejected by " + rj.Approver
	case inst.wait && errName == "States.Timeout":
		if st.Approval != nil {
			st.Approval.Decision = "TIMED_OUT"
		}
		return "no decision before the approval timed out"
	case inst.task == "codebuild" && strings.HasPrefix(cause, "{"):
		b := buildOf(cause)
		if b == nil {
			return errName
		}
		st.Build = b.build()
		return b.why()
	case strings.HasPrefix(cause, "{"):
		var le struct{ ErrorMessage string }
		if json.Unmarshal([]byte(cause), &le) == nil && le.ErrorMessage != "" {
			return le.ErrorMessage
		}
		return errName
	case cause == "":
		return errName
	}
	return cause
}

// cbBuild is the part of a CodeBuild build (PascalCase, as Step
// Functions returns it) the page shows.
type cbBuild struct {
	Build struct {
		Id, BuildStatus, CurrentPhase string
		Logs                          struct{ DeepLink, GroupName, StreamName string }
		Artifacts                     struct{ Location, Sha256sum string }
		Phases                        []struct {
			PhaseType, PhaseStatus string
			Contexts               []struct{ StatusCode, Message string }
		}
	}
}

func buildOf(s string) *cbBuild {
	var b cbBuild
	if json.Unmarshal([]byte(s), &b) != nil || b.Build.Id == "" {
		return nil
	}
	return &b
}

func (b *cbBuild) build() *Build {
	return &Build{
		ID: b.Build.Id, Status: b.Build.BuildStatus, Phase: b.Build.CurrentPhase,
		LogsURL: b.Build.Logs.DeepLink, LogGroup: b.Build.Logs.GroupName, LogStream: b.Build.Logs.StreamName,
	}
}

// artifact is the bucket and key of the build's uploaded artifact.
func (b *cbBuild) artifact() ([2]string, bool) {
	loc := strings.TrimPrefix(b.Build.Artifacts.Location, "arn:aws:s3:::")
	bucket, key, ok := strings.Cut(loc, "/")
	if !ok || b.Build.Artifacts.Sha256sum == "" {
		return [2]string{}, false
	}
	return [2]string{bucket, key}, true
}

// why says how a build failed: its status, and the failed phase's message.
func (b *cbBuild) why() string {
	s := "build " + b.Build.Id + " ended " + b.Build.BuildStatus
	for _, p := range b.Build.Phases {
		if p.PhaseStatus == "" || p.PhaseStatus == "SUCCEEDED" {
			continue
		}
		s += " in " + p.PhaseType
		for _, c := range p.Contexts {
			if c.Message != "" {
				s += ": " + c.Message
				break
			}
		}
		break
	}
	return s
}

// approversOf reads the approvers of an approval task's parameters (and
// nothing else: the parameters hold the task token).
func approversOf(params string) []string {
	var p struct {
		Payload struct {
			Approvers []string `json:"approvers"`
		}
	}
	_ = json.Unmarshal([]byte(params), &p)
	return p.Payload.Approvers
}

// reusedArtifacts lists the artifacts a retry's input carries from the
// run it repeats.
func reusedArtifacts(input, from string) []Artifact {
	if from == "" {
		return nil
	}
	var in struct {
		Source *struct{ Bucket, Key string } `json:"source"`
		Builds map[string]struct {
			Stage    string `json:"stage"`
			Artifact string `json:"artifact"`
		} `json:"builds"`
	}
	if json.Unmarshal([]byte(input), &in) != nil {
		return nil
	}
	var out []Artifact
	if in.Source != nil && in.Source.Key != "" {
		out = append(out, Artifact{Stage: SourceStage, Bucket: in.Source.Bucket, Key: in.Source.Key, From: from})
	}
	for key, b := range in.Builds {
		bucket, k, ok := strings.Cut(b.Artifact, "/")
		if !ok {
			continue
		}
		name := b.Stage
		if name == "" {
			name = key
		}
		out = append(out, Artifact{Stage: name, Bucket: bucket, Key: k, From: from})
	}
	return out
}

func commitOf(p push.Push) Commit {
	return Commit{
		Repository: p.Repository, RepoURL: p.WebURL, Ref: p.Ref, Branch: p.Branch, Tag: p.Tag,
		SHA: p.After, Message: strings.TrimSpace(p.HeadCommit.Message), Author: p.HeadCommit.Author,
		URL: p.HeadCommit.URL, Pusher: p.Pusher,
	}
}

func parseTime(s string, def time.Time) time.Time {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC()
	}
	return def
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// stageList keeps the stages in the config's order, then any other stage
// the history enters, in the order entered.
type stageList struct {
	order []*Stage
	index map[string]*Stage
}

func newStageList(cfg *config.Config, skip map[string]bool) *stageList {
	l := &stageList{index: map[string]*Stage{}}
	l.add(&Stage{Name: SourceStage, Kind: KindSource})
	if cfg == nil {
		return l
	}
	for _, cs := range cfg.Stages {
		st := &Stage{Name: cs.Name, Kind: KindBuild}
		switch {
		case cs.IsApproval():
			st.Kind = KindApproval
		case cs.IsParallel():
			st.Kind = KindParallel
			for _, a := range cs.Actions {
				st.Actions = append(st.Actions, Stage{Name: a.Name, Kind: KindBuild})
			}
		}
		if skip[cs.Name] {
			st.State = StageSkipped
		}
		l.add(st)
	}
	return l
}

func (l *stageList) add(st *Stage) {
	l.order = append(l.order, st)
	l.index[st.Name] = st
}

// get returns the stage (or action) named name, adding it if unknown.
func (l *stageList) get(name string) *Stage {
	if st, ok := l.index[name]; ok {
		return st
	}
	for _, st := range l.order {
		for i := range st.Actions {
			if st.Actions[i].Name == name {
				return &st.Actions[i]
			}
		}
	}
	st := &Stage{Name: name, Kind: KindBuild}
	l.add(st)
	return st
}

func (l *stageList) list() []Stage {
	out := make([]Stage, 0, len(l.order))
	for _, st := range l.order {
		out = append(out, *st)
	}
	return out
}
