package test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codebuild"
	cbtypes "github.com/aws/aws-sdk-go-v2/service/codebuild/types"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/pushline/pushline/infra/local/drive"
	"github.com/pushline/pushline/shared/event"
)

// actionSpec is a buildspec of an action that runs for seconds (or fails
// after them), reading the commit and, with build, Build's artifact.
func actionSpec(seconds int, fail, build bool) string {
	s := "version: 0.2\nphases:\n  build:\n    commands:\n      - test -f app.txt\n"
	if build {
		s += `      - grep -q "commit $PUSHLINE_COMMIT" "$CODEBUILD_SRC_DIR_Build/app.txt"` + "\n"
	}
	s += fmt.Sprintf("      - sleep %d\n", seconds)
	if fail {
		s += "      - echo \"$PUSHLINE_ACTION failed\"; exit 1\n"
	}
	return s + "      - echo \"$PUSHLINE_ACTION of $PUSHLINE_STAGE done\"\n"
}

// stagesRun starts a stack whose pipeline is Build, a stage of actions
// (name: buildspec), and a Deploy that reads Build's artifact, and pushes.
// An action whose buildspec reads $CODEBUILD_SRC_DIR_Build has inputs:
// ["Build"].
func stagesRun(ctx context.Context, t *testing.T, actions map[string]string) (*run, string) {
	t.Helper()
	dir := t.TempDir()
	files := fstest.MapFS{}
	for k, v := range sample {
		files[k] = v
	}
	var list []string
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for k := range actions {
			if !yield(k) {
				return
			}
		}
	}) {
		files["ci/"+strings.ToLower(name)+".yml"] = &fstest.MapFile{Data: []byte(actions[name])}
		in := ""
		if strings.Contains(actions[name], "CODEBUILD_SRC_DIR_Build") {
			in = `, "inputs": ["Build"]`
		}
		list = append(list, fmt.Sprintf(`{"name": %q, "buildspec": "ci/%s.yml"%s}`, name, strings.ToLower(name), in))
	}
	repo, err := drive.NewRepo(ctx, dir, "app", files)
	if err != nil {
		t.Fatal(err)
	}
	before, after, changed, err := repo.Commit(ctx, "main", "Add the sample app")
	if err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(dir, "deployed")
	cfg := fmt.Sprintf(`{
  "name": "e2e",
  "repositories": [{"provider": "github", "repository": "acme/app", "cloneUrl": %q}],
  "stages": [
    {"name": "Build", "buildspec": "ci/build.yml"},
    {"name": "Checks", "actions": [%s]},
    {"name": "Deploy", "buildspec": "ci/deploy.yml", "inputs": ["Build"], "environment": {"DEPLOY_TARGET": %q}}
  ]
}`, repo.CloneURL(), strings.Join(list, ", "), target)
	r := &run{p: startStack(t, dir, cfg), repo: repo, target: target, before: before, after: after, branch: "main", files: changed}
	return r, r.push(ctx, t)
}

// builds returns the local CodeBuild builds of a project.
func builds(ctx context.Context, t *testing.T, p *proc, project string) []cbtypes.Build {
	t.Helper()
	cb := codebuild.NewFromConfig(p.awsConfig())
	ids, err := cb.ListBuildsForProject(ctx, &codebuild.ListBuildsForProjectInput{ProjectName: aws.String(project)})
	if err != nil {
		t.Fatalf("list builds of %s: %v", project, err)
	}
	if len(ids.Ids) == 0 {
		return nil
	}
	out, err := cb.BatchGetBuilds(ctx, &codebuild.BatchGetBuildsInput{Ids: ids.Ids})
	if err != nil {
		t.Fatal(err)
	}
	return out.Builds
}

// TestParallelActions: buildspecs under ci/ read from the commit, a stage
// of three 5-second actions that run side by side (one reads Build's
// artifact at $CODEBUILD_SRC_DIR_Build), and a Deploy that reads it too.
func TestParallelActions(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r, arn := stagesRun(ctx, t, map[string]string{
		"Unit": actionSpec(5, false, true),
		"Lint": actionSpec(5, false, false),
		"Docs": actionSpec(5, false, false),
	})
	d := r.p.wait(ctx, arn, nil)
	if d.Status != sfntypes.ExecutionStatusSucceeded {
		t.Fatalf("execution %s: %s %s\n%s", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause), r.p.out)
	}
	deployed, err := os.ReadFile(filepath.Join(r.target, "app.txt"))
	if err != nil || !strings.Contains(string(deployed), "commit "+r.after) {
		t.Errorf("deployed app.txt = %q, %v: want Build's output, read at $CODEBUILD_SRC_DIR_Build", deployed, err)
	}

	// The three builds overlap: each started before any ended.
	var first, lastStart, firstEnd, last time.Time
	var sum time.Duration
	for _, name := range []string{"Unit", "Lint", "Docs"} {
		bs := builds(ctx, t, r.p, "e2e-"+name)
		if len(bs) != 1 || bs[0].BuildStatus != cbtypes.StatusTypeSucceeded || bs[0].StartTime == nil || bs[0].EndTime == nil {
			t.Fatalf("%s: builds %+v", name, bs)
		}
		start, end := *bs[0].StartTime, *bs[0].EndTime
		sum += end.Sub(start)
		if first.IsZero() || start.Before(first) {
			first = start
		}
		if start.After(lastStart) {
			lastStart = start
		}
		if firstEnd.IsZero() || end.Before(firstEnd) {
			firstEnd = end
		}
		if end.After(last) {
			last = end
		}
	}
	if !lastStart.Before(firstEnd) {
		t.Errorf("the actions did not run at the same time: the last started at %s, the first ended at %s", lastStart, firstEnd)
	}
	t.Logf("stage Checks, 3 actions of 5 s: %s from the first build's start to the last one's end (the builds took %s in all)", last.Sub(first).Round(10*time.Millisecond), sum.Round(10*time.Millisecond))

	got, evs := r.p.eventsOf(arn)
	contains(t, got,
		event.StageExecution+"/Checks/"+event.Started, event.StageExecution+"/Checks/"+event.Succeeded,
		event.StageExecution+"/Deploy/"+event.Succeeded, event.PipelineExecution+"//"+event.Succeeded)
	var actions []string
	for _, ev := range evs {
		if ev.Detail.Action != "" {
			actions = append(actions, ev.Detail.Action+"/"+ev.Detail.State)
			if ev.Detail.Stage != "Checks" || ev.Detail.State == event.Succeeded && ev.Detail.BuildID == "" {
				t.Errorf("action event %+v", ev.Detail)
			}
		}
	}
	slices.Sort(actions)
	if want := []string{"Docs/STARTED", "Docs/SUCCEEDED", "Lint/STARTED", "Lint/SUCCEEDED", "Unit/STARTED", "Unit/SUCCEEDED"}; !slices.Equal(actions, want) {
		t.Errorf("action events %v, want %v", actions, want)
	}
}

// TestFailingActionStopsSiblings: when an action fails, the others are
// stopped and the stage fails naming it.
func TestFailingActionStopsSiblings(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r, arn := stagesRun(ctx, t, map[string]string{
		"Fast":  actionSpec(1, true, true),
		"Slow1": actionSpec(300, false, true),
		"Slow2": actionSpec(300, false, true),
	})
	d := r.p.wait(ctx, arn, nil)
	if d.Status != sfntypes.ExecutionStatusFailed || aws.ToString(d.Error) != "Pushline.BuildFailed" || !strings.HasPrefix(aws.ToString(d.Cause), "stage Checks (action Fast): build e2e-Fast:") {
		t.Fatalf("execution %s: %s %s\n%s", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause), r.p.out)
	}
	for _, name := range []string{"Slow1", "Slow2"} {
		for {
			bs := builds(ctx, t, r.p, "e2e-"+name)
			if len(bs) == 0 { // stopped before it started
				break
			}
			if st := bs[0].BuildStatus; st != cbtypes.StatusTypeInProgress {
				if st != cbtypes.StatusTypeStopped {
					t.Errorf("%s ended %s, want STOPPED", name, st)
				}
				break
			}
			select {
			case <-ctx.Done():
				t.Fatalf("%s still runs after the stage failed", name)
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	got, evs := r.p.eventsOf(arn)
	contains(t, got, event.StageExecution+"/Checks/"+event.Failed, event.PipelineExecution+"//"+event.Failed)
	if slices.Contains(got, event.StageExecution+"/Deploy/"+event.Started) {
		t.Error("Deploy started after Checks failed")
	}
	for _, ev := range evs {
		if ev.DetailType == event.StageExecution && ev.Detail.State == event.Failed && (ev.Detail.Action != "Fast" || ev.Detail.BuildID == "" || ev.Detail.LogsURL == "") {
			t.Errorf("stage FAILED event %+v, want action Fast with its build and logs", ev.Detail)
		}
	}
	if _, err := os.Stat(filepath.Join(r.target, "app.txt")); err == nil {
		t.Error("app.txt was deployed")
	}
}
