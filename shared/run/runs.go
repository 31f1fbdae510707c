package run

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/codebuild"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/pushline/pushline/shared/config"
	"github.com/pushline/pushline/shared/ingest"
)

// SFN is the Step Functions API runs read and start (*sfn.Client).
type SFN interface {
	DescribeExecution(context.Context, *sfn.DescribeExecutionInput, ...func(*sfn.Options)) (*sfn.DescribeExecutionOutput, error)
	GetExecutionHistory(context.Context, *sfn.GetExecutionHistoryInput, ...func(*sfn.Options)) (*sfn.GetExecutionHistoryOutput, error)
	ListExecutions(context.Context, *sfn.ListExecutionsInput, ...func(*sfn.Options)) (*sfn.ListExecutionsOutput, error)
	StartExecution(context.Context, *sfn.StartExecutionInput, ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error)
}

// Builds is the CodeBuild call that tells a running build's phase
// (*codebuild.Client).
type Builds interface {
	BatchGetBuilds(context.Context, *codebuild.BatchGetBuildsInput, ...func(*codebuild.Options)) (*codebuild.BatchGetBuildsOutput, error)
	ListBuildsForProject(context.Context, *codebuild.ListBuildsForProjectInput, ...func(*codebuild.Options)) (*codebuild.ListBuildsForProjectOutput, error)
}

// Logs is the CloudWatch Logs call that reads build logs
// (*cloudwatchlogs.Client, or FileLogs).
type Logs interface {
	GetLogEvents(context.Context, *cloudwatchlogs.GetLogEventsInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.GetLogEventsOutput, error)
}

// Presigner makes artifact download links (*s3.PresignClient).
type Presigner interface {
	PresignGetObject(context.Context, *s3.GetObjectInput, ...func(*s3.PresignOptions)) (*v4.PresignedHTTPRequest, error)
}

// Runs reads and starts the runs of one pipeline.
type Runs struct {
	SFN          SFN
	Builds       Builds    // optional: the phase of running builds
	Logs         Logs      // optional: build logs
	Presign      Presigner // optional: artifact downloads
	StateMachine string    // the pipeline's state machine ARN
	Config       *config.Config
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,80}$`)

// ValidName reports whether s can be an execution name.
func ValidName(s string) bool { return nameRE.MatchString(s) }

// ARN returns the execution ARN of id, an execution name or ARN of the
// pipeline's state machine; ErrNotFound if it is neither.
func (rs *Runs) ARN(id string) (string, error) {
	if strings.HasPrefix(id, "arn:") {
		if ingest.StateMachineARN(id) != rs.StateMachine || !ValidName(id[strings.LastIndexByte(id, ':')+1:]) {
			return "", fmt.Errorf("%s: %w", id, ErrNotFound)
		}
		return id, nil
	}
	if !ValidName(id) {
		return "", fmt.Errorf("%q: %w", id, ErrNotFound)
	}
	return ingest.ExecutionARN(rs.StateMachine, id), nil
}

// Get reads the run id (an execution name or ARN).
func (rs *Runs) Get(ctx context.Context, id string) (*Run, error) {
	r, _, err := rs.read(ctx, id)
	if err != nil {
		return nil, err
	}
	rs.enrich(ctx, r)
	return r, nil
}

// read returns the run and its history.
func (rs *Runs) read(ctx context.Context, id string) (*Run, []sfntypes.HistoryEvent, error) {
	arn, err := rs.ARN(id)
	if err != nil {
		return nil, nil, err
	}
	d, err := rs.SFN.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
	if err != nil {
		return nil, nil, sfnError("describe "+arn, err)
	}
	ex := execution{
		ARN: arn, Name: aws.ToString(d.Name), Status: string(d.Status), Input: aws.ToString(d.Input),
		Error: aws.ToString(d.Error), Cause: aws.ToString(d.Cause),
	}
	if d.StartDate != nil {
		ex.Started = d.StartDate.UTC()
	}
	if d.StopDate != nil {
		ex.Stopped = d.StopDate.UTC()
	}
	events, err := rs.history(ctx, arn)
	if err != nil {
		return nil, nil, err
	}
	r := model(ex, events, rs.Config)
	if as, err := rs.attempts(ctx, r.Name); err == nil {
		r.Attempts = as
	}
	return r, events, nil
}

func (rs *Runs) history(ctx context.Context, arn string) ([]sfntypes.HistoryEvent, error) {
	var events []sfntypes.HistoryEvent
	in := &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn), MaxResults: 1000}
	for {
		out, err := rs.SFN.GetExecutionHistory(ctx, in)
		if err != nil {
			return nil, sfnError("history of "+arn, err)
		}
		events = append(events, out.Events...)
		if aws.ToString(out.NextToken) == "" {
			return events, nil
		}
		in.NextToken = out.NextToken
	}
}

// enrich adds what the history does not say: the phase of running
// builds and artifact download links.
func (rs *Runs) enrich(ctx context.Context, r *Run) {
	if rs.Builds != nil {
		rs.findBuilds(ctx, r)
		var ids []string
		byID := map[string]*Build{}
		each(r.Stages, func(st *Stage) {
			if st.Build != nil && st.State == StageRunning {
				ids = append(ids, st.Build.ID)
				byID[st.Build.ID] = st.Build
			}
		})
		if len(ids) > 0 {
			if out, err := rs.Builds.BatchGetBuilds(ctx, &codebuild.BatchGetBuildsInput{Ids: ids}); err == nil {
				for _, b := range out.Builds {
					if mb := byID[aws.ToString(b.Id)]; mb != nil {
						mb.Phase, mb.Status = aws.ToString(b.CurrentPhase), string(b.BuildStatus)
					}
				}
			}
		}
	}
	if rs.Presign != nil {
		for i := range r.Artifacts {
			a := &r.Artifacts[i]
			req, err := rs.Presign.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(a.Bucket), Key: aws.String(a.Key)},
				s3.WithPresignExpires(time.Hour))
			if err == nil {
				a.URL = req.URL
			}
		}
	}
}

// each calls f on every stage and action.
func each(ss []Stage, f func(*Stage)) {
	for i := range ss {
		f(&ss[i])
		each(ss[i].Actions, f)
	}
}

// Stage returns the stage or action of r named name (case-insensitive).
func (r *Run) Stage(name string) *Stage {
	var found *Stage
	each(r.Stages, func(st *Stage) {
		if found == nil && strings.EqualFold(st.Name, name) {
			found = st
		}
	})
	return found
}

// attemptRE splits a rerun's or retry's name: <base>-r<N>.
var attemptRE = regexp.MustCompile(`^(.+)-r([0-9]{1,4})$`)

// Base returns the name of a push's first run and the attempt a name
// stands for.
func Base(name string) (string, int) {
	if m := attemptRE.FindStringSubmatch(name); m != nil {
		n, _ := strconv.Atoi(m[2])
		if n >= 2 {
			return m[1], n
		}
	}
	return name, 1
}

// AttemptName is the name of attempt n (≥ 2) of the push whose first run
// is base: base-r<n>, base cut to fit 80 characters.
func AttemptName(base string, n int) string {
	suffix := "-r" + strconv.Itoa(n)
	if len(base)+len(suffix) > 80 {
		base = base[:80-len(suffix)]
	}
	return base + suffix
}

// attempts lists the runs of the same push as name, oldest first.
func (rs *Runs) attempts(ctx context.Context, name string) ([]Attempt, error) {
	base, _ := Base(name)
	var out []Attempt
	err := rs.list(ctx, "", func(e sfntypes.ExecutionListItem) bool {
		n := aws.ToString(e.Name)
		b, k := Base(n)
		if b == base || (k > 1 && len(b) < len(base) && strings.HasPrefix(base, b) && len(AttemptName(base, k)) == 80) {
			a := Attempt{Name: n, ARN: aws.ToString(e.ExecutionArn), Attempt: k, Status: string(e.Status)}
			if e.StartDate != nil {
				a.Started = e.StartDate.UTC()
			}
			out = append(out, a)
		}
		return true
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Attempt < out[j].Attempt })
	return out, err
}

// list pages through the pipeline's executions, newest first, until f
// returns false.
func (rs *Runs) list(ctx context.Context, status string, f func(sfntypes.ExecutionListItem) bool) error {
	in := &sfn.ListExecutionsInput{StateMachineArn: aws.String(rs.StateMachine), MaxResults: 1000}
	if status != "" {
		in.StatusFilter = sfntypes.ExecutionStatus(status)
	}
	for {
		out, err := rs.SFN.ListExecutions(ctx, in)
		if err != nil {
			return sfnError("list executions", err)
		}
		for _, e := range out.Executions {
			if !f(e) {
				return nil
			}
		}
		if aws.ToString(out.NextToken) == "" {
			return nil
		}
		in.NextToken = out.NextToken
	}
}

// Filter narrows a run list.
type Filter struct {
	Branch string // a branch name
	Status string // RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED
	Limit  int    // default 50
	// Describe reads the first this many runs' input (commit, trigger).
	Describe int
}

// Statuses are the run statuses a Filter takes.
var Statuses = []string{Running, Succeeded, Failed, TimedOut, Aborted}

// List lists the pipeline's runs, newest first.
func (rs *Runs) List(ctx context.Context, f Filter) ([]Summary, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	if f.Status != "" {
		f.Status = strings.ToUpper(f.Status)
		if !contains(Statuses, f.Status) {
			return nil, fmt.Errorf("state %q: one of %s: %w", f.Status, strings.Join(Statuses, ", "), ErrBadInput)
		}
	}
	var keys []string
	if f.Branch != "" && rs.Config != nil {
		for _, repo := range rs.Config.Repositories {
			keys = append(keys, ingest.RefKey(rs.Config.Name, repo.Repository, "refs/heads/"+f.Branch))
		}
	}
	var out []Summary
	err := rs.list(ctx, f.Status, func(e sfntypes.ExecutionListItem) bool {
		name := aws.ToString(e.Name)
		base, attempt := Base(name)
		if f.Branch != "" && !sameRef(base, keys) {
			return true
		}
		s := Summary{Name: name, ARN: aws.ToString(e.ExecutionArn), Status: string(e.Status), Attempt: attempt}
		if e.StartDate != nil {
			s.Started = e.StartDate.UTC()
		}
		if e.StopDate != nil {
			s.Stopped = e.StopDate.UTC()
		}
		out = append(out, s)
		return len(out) < f.Limit
	})
	if err != nil {
		return nil, err
	}
	for i := range out {
		if i >= f.Describe {
			break
		}
		d, err := rs.SFN.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(out[i].ARN)})
		if err != nil {
			continue
		}
		r := model(execution{Input: aws.ToString(d.Input)}, nil, nil)
		out[i].Commit, out[i].Trigger = r.Commit, r.Trigger
		if r.Attempt > 1 {
			out[i].Attempt = r.Attempt
		}
	}
	return out, nil
}

func sameRef(name string, keys []string) bool {
	for _, k := range keys {
		if ingest.SameRef(name, k) {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// sfnError maps Step Functions' not-found errors to ErrNotFound.
func sfnError(what string, err error) error {
	var dne *sfntypes.ExecutionDoesNotExist
	var sdne *sfntypes.StateMachineDoesNotExist
	var inv *sfntypes.InvalidArn
	if errors.As(err, &dne) || errors.As(err, &sdne) || errors.As(err, &inv) {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// findBuilds finds the builds of running build stages the history does
// not name yet (a history may show TaskSubmitted only once the task ends,
// as the local engine does): the project's latest builds, matched by the
// PUSHLINE_EXECUTION and PUSHLINE_STAGE variables every build gets.
func (rs *Runs) findBuilds(ctx context.Context, r *Run) {
	each(r.Stages, func(st *Stage) {
		project := r.projects[st.Name]
		if st.State != StageRunning || st.Build != nil || project == "" {
			return
		}
		list, err := rs.Builds.ListBuildsForProject(ctx, &codebuild.ListBuildsForProjectInput{ProjectName: aws.String(project), SortOrder: "DESCENDING"})
		if err != nil || len(list.Ids) == 0 {
			return
		}
		ids := list.Ids[:min(len(list.Ids), 20)]
		out, err := rs.Builds.BatchGetBuilds(ctx, &codebuild.BatchGetBuildsInput{Ids: ids})
		if err != nil {
			return
		}
		for _, b := range out.Builds {
			var exec, stage string
			if b.Environment != nil {
				for _, v := range b.Environment.EnvironmentVariables {
					switch aws.ToString(v.Name) {
					case "PUSHLINE_EXECUTION":
						exec = aws.ToString(v.Value)
					case "PUSHLINE_STAGE":
						stage = aws.ToString(v.Value)
					}
				}
			}
			// Each build stage and action has a project of its own; the
			// stage variable is checked where the project is shared.
			if exec != r.ARN || (stage != "" && stage != st.Name && !strings.HasSuffix(project, "-"+st.Name) && len(r.projects) > 1 && sharedProject(r.projects, project)) {
				continue
			}
			st.Build = &Build{ID: aws.ToString(b.Id), Status: string(b.BuildStatus), Phase: aws.ToString(b.CurrentPhase)}
			if b.Logs != nil {
				st.Build.LogsURL, st.Build.LogGroup, st.Build.LogStream = aws.ToString(b.Logs.DeepLink), aws.ToString(b.Logs.GroupName), aws.ToString(b.Logs.StreamName)
			}
			return
		}
	})
}

func sharedProject(ps projects, project string) bool {
	n := 0
	for _, p := range ps {
		if p == project {
			n++
		}
	}
	return n > 1
}
