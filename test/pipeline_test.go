package test

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/pushline/pushline/infra/local/drive"
	"github.com/pushline/pushline/shared/event"
)

// The sample project, its buildspecs under ci/ (read from the commit,
// every build's primary source): Build writes dist/app.txt (and copies
// the FAIL/SLOW markers); Test checks Build's app.txt, unpacked at
// $CODEBUILD_SRC_DIR_Build, and uploads it; Deploy copies Build's app.txt
// to $DEPLOY_TARGET.
var sample = fstest.MapFS{
	"app.txt": {Data: []byte("hello from the sample app\n")},
	"ci/build.yml": {Data: []byte(`version: 0.2
phases:
  build:
    commands:
      - if [ -f SLOW ]; then echo "slow build"; sleep "$(cat SLOW)"; fi
      - mkdir -p dist
      - cp app.txt dist/app.txt
      - echo "commit $PUSHLINE_COMMIT" >> dist/app.txt
      - if [ -f FAIL ]; then cp FAIL dist/FAIL; fi
artifacts:
  base-directory: dist
  files:
    - '**/*'
`)},
	"ci/test.yml": {Data: []byte(`version: 0.2
phases:
  build:
    commands:
      - grep -q "hello from the sample app" "$CODEBUILD_SRC_DIR_Build/app.txt"
      - if [ -f "$CODEBUILD_SRC_DIR_Build/FAIL" ]; then echo "1 passed, 1 failed"; exit 1; fi
      - echo "2 passed, 0 failed"
      - cp "$CODEBUILD_SRC_DIR_Build/app.txt" tested.txt
artifacts:
  files:
    - tested.txt
`)},
	"ci/deploy.yml": {Data: []byte(`version: 0.2
phases:
  build:
    commands:
      - mkdir -p "$DEPLOY_TARGET"
      - cp "$CODEBUILD_SRC_DIR_Build/app.txt" "$DEPLOY_TARGET/app.txt"
`)},
}

func config(cloneURL, target, mode, approvalTimeout string) string {
	return fmt.Sprintf(`{
  "name": "e2e",
  "repositories": [{"provider": "github", "repository": "acme/app", "cloneUrl": %q}],
  "mode": %q,
  "stages": [
    {"name": "Build", "buildspec": "ci/build.yml", "timeout": "10m"},
    {"name": "Test", "buildspec": "ci/test.yml", "timeout": "10m", "inputs": ["Build"]},
    {"name": "Approve", "approval": {"approvers": ["ops@example.com"], "timeout": %q}},
    {"name": "Deploy", "buildspec": "ci/deploy.yml", "inputs": ["Build"], "environment": {"DEPLOY_TARGET": %q}}
  ],
  "notifications": {"from": "pushline@example.com", "failures": ["team@example.com"]}
}`, cloneURL, mode, approvalTimeout, target)
}

// setup creates the sample repository with extra files, commits, and
// starts a stack for it.
type run struct {
	p                     *proc
	repo                  *drive.Repo
	target                string
	before, after, branch string
	files                 []string
}

func setup(ctx context.Context, t *testing.T, mode, approvalTimeout string, extra map[string]string) *run {
	t.Helper()
	dir := t.TempDir()
	repo, err := drive.NewRepo(ctx, dir, "app", sample)
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range extra {
		if err := repo.Write(name, content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	before, after, files, err := repo.Commit(ctx, "main", "Add the sample app")
	if err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(dir, "deployed")
	p := startStack(t, dir, config(repo.CloneURL(), target, mode, approvalTimeout))
	return &run{p: p, repo: repo, target: target, before: before, after: after, branch: "main", files: files}
}

func (r *run) push(ctx context.Context, t *testing.T) string {
	t.Helper()
	a := r.p.push(ctx, r.repo, "acme/app", r.branch, r.before, r.after, "Add the sample app", r.files)
	if a.Status != http.StatusAccepted || a.State != "started" || a.Execution == "" {
		t.Fatalf("webhook: %d %s", a.Status, a.Body)
	}
	return a.Execution
}

func contains(t *testing.T, got []string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("events lack %s; got:\n  %s", w, strings.Join(got, "\n  "))
		}
	}
}

func zipFiles(t *testing.T, b []byte) map[string]string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		c, _ := io.ReadAll(rc)
		rc.Close()
		out[f.Name] = string(c)
	}
	return out
}

func TestHappyPath(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r := setup(ctx, t, "superseded", "1h", nil)
	arn := r.push(ctx, t)

	res := decide(ctx, t, r.p.link(ctx, 1), "approve", "ship it")
	if res.Status != http.StatusOK {
		t.Fatalf("approve: %d\n%s", res.Status, res.HTML)
	}
	d := r.p.wait(ctx, arn, nil)
	if d.Status != sfntypes.ExecutionStatusSucceeded {
		t.Fatalf("execution %s: %s %s\n%s", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause), r.p.out)
	}

	// Artifacts passed between stages, kept in S3.
	s3c := r.p.s3()
	list, err := s3c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucketOf(t, r.p)), Prefix: aws.String("e2e/")})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range list.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	name := arn[strings.LastIndexByte(arn, ':')+1:]
	for _, want := range []string{"source.zip", "Build.zip", "Test.zip"} {
		if !slices.Contains(keys, "e2e/"+name+"/"+want) {
			t.Errorf("no artifact %s in %v", want, keys)
		}
	}
	head, err := s3c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucketOf(t, r.p)), Key: aws.String("e2e/" + name + "/Build.zip")})
	if err != nil || head.LastModified == nil || time.Since(*head.LastModified) > time.Hour {
		t.Errorf("HeadObject Build.zip: LastModified %v, %v (the AWS CLI's s3 cp needs it)", head, err)
	}
	obj, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucketOf(t, r.p)), Key: aws.String("e2e/" + name + "/Test.zip")})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(obj.Body)
	obj.Body.Close()
	files := zipFiles(t, b)
	if !strings.Contains(files["tested.txt"], "commit "+r.after) {
		t.Errorf("Test.zip tested.txt = %q, want the Build stage's output with commit %s", files["tested.txt"], r.after)
	}
	deployed, err := os.ReadFile(filepath.Join(r.target, "app.txt"))
	if err != nil || !strings.Contains(string(deployed), r.after) {
		t.Errorf("deployed app.txt = %q, %v", deployed, err)
	}

	got, evs := r.p.eventsOf(arn)
	contains(t, got,
		event.PipelineExecution+"//"+event.Started,
		event.StageExecution+"/Build/"+event.Started, event.StageExecution+"/Build/"+event.Succeeded,
		event.StageExecution+"/Test/"+event.Succeeded,
		event.Approval+"/Approve/"+event.Requested, event.Approval+"/Approve/"+event.Approved,
		event.StageExecution+"/Deploy/"+event.Succeeded,
		event.PipelineExecution+"//"+event.Succeeded,
	)
	for _, ev := range evs {
		if ev.Detail.Pipeline != "e2e" || ev.Detail.Repository != "acme/app" || ev.Detail.Ref != "refs/heads/main" || ev.Detail.Commit != r.after {
			t.Errorf("event %s/%s lacks the run's identity: %+v", ev.DetailType, ev.Detail.State, ev.Detail)
		}
		if ev.DetailType == event.Approval && ev.Detail.State == event.Approved && (ev.Detail.Approver != "ops@example.com" || ev.Detail.Comment != "ship it") {
			t.Errorf("APPROVED event: approver %q comment %q", ev.Detail.Approver, ev.Detail.Comment)
		}
	}

	// The link works once.
	page, err := drive.Open(ctx, r.p.link(ctx, 1))
	if err != nil {
		t.Fatal(err)
	}
	if page.Status != http.StatusConflict {
		t.Errorf("a used link answered %d, want 409", page.Status)
	}
}

// bucketOf is the local artifact bucket (the only bucket the stack has).
func bucketOf(t *testing.T, p *proc) string {
	t.Helper()
	out, err := p.s3().ListBuckets(context.Background(), &s3.ListBucketsInput{})
	if err != nil || len(out.Buckets) == 0 {
		t.Fatalf("list buckets: %v", err)
	}
	return aws.ToString(out.Buckets[0].Name)
}

func TestFailingTestStage(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r := setup(ctx, t, "superseded", "1h", map[string]string{"FAIL": "make the tests fail\n"})
	arn := r.push(ctx, t)
	d := r.p.wait(ctx, arn, nil)
	if d.Status != sfntypes.ExecutionStatusFailed {
		t.Fatalf("execution %s, want FAILED", d.Status)
	}
	got, evs := r.p.eventsOf(arn)
	contains(t, got, event.StageExecution+"/Test/"+event.Failed, event.PipelineExecution+"//"+event.Failed)
	if slices.Contains(got, event.Approval+"/Approve/"+event.Requested) {
		t.Error("an approval was requested after the tests failed")
	}
	for _, ev := range evs {
		if ev.DetailType == event.StageExecution && ev.Detail.State == event.Failed {
			if ev.Detail.BuildID == "" || ev.Detail.LogsURL == "" || ev.Detail.Error == "" {
				t.Errorf("stage FAILED event lacks build id, logs or error: %+v", ev.Detail)
			}
			if ev.Detail.LogsURL != "" {
				resp, err := http.Get(ev.Detail.LogsURL)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if !strings.Contains(string(b), "1 passed, 1 failed") {
					t.Errorf("logs at %s lack the test output:\n%s", ev.Detail.LogsURL, b)
				}
			}
		}
	}
	// The failure mail follows the pipeline FAILED event, sent in the
	// background: wait for it.
	for {
		mails, err := drive.Outbox(filepath.Join(r.p.data, "outbox"))
		if err != nil {
			t.Fatal(err)
		}
		if slices.ContainsFunc(mails, func(m drive.Mail) bool { return strings.Contains(m.To, "team@example.com") }) {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no failure mail to team@example.com: %v", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func TestReject(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r := setup(ctx, t, "superseded", "1h", nil)
	arn := r.push(ctx, t)
	res := decide(ctx, t, r.p.link(ctx, 1), "reject", "not today")
	if res.Status != http.StatusOK {
		t.Fatalf("reject: %d\n%s", res.Status, res.HTML)
	}
	d := r.p.wait(ctx, arn, nil)
	if d.Status != sfntypes.ExecutionStatusFailed {
		t.Fatalf("execution %s, want FAILED", d.Status)
	}
	got, evs := r.p.eventsOf(arn)
	contains(t, got, event.Approval+"/Approve/"+event.Rejected, event.PipelineExecution+"//"+event.Failed)
	if slices.Contains(got, event.StageExecution+"/Deploy/"+event.Started) {
		t.Error("Deploy started after a rejection")
	}
	for _, ev := range evs {
		if ev.Detail.State == event.Rejected && (ev.Detail.Approver != "ops@example.com" || ev.Detail.Comment != "not today") {
			t.Errorf("REJECTED event: %+v", ev.Detail)
		}
	}
}

func TestApprovalTimeout(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r := setup(ctx, t, "superseded", "1m", nil) // the shortest approval timeout the config allows
	arn := r.push(ctx, t)
	link := r.p.link(ctx, 1)
	d := r.p.wait(ctx, arn, nil)
	if d.Status != sfntypes.ExecutionStatusFailed {
		t.Fatalf("execution %s, want FAILED", d.Status)
	}
	got, _ := r.p.eventsOf(arn)
	contains(t, got, event.Approval+"/Approve/"+event.TimedOut, event.PipelineExecution+"//"+event.Failed)
	page, err := drive.Open(ctx, link)
	if err != nil {
		t.Fatal(err)
	}
	if page.Status != http.StatusGone {
		t.Errorf("the link of a timed-out approval answered %d, want 410", page.Status)
	}
}

func TestRedelivery(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r := setup(ctx, t, "superseded", "1h", nil)
	arn := r.push(ctx, t)
	again := r.p.push(ctx, r.repo, "acme/app", r.branch, r.before, r.after, "Add the sample app", r.files)
	if again.Status != http.StatusOK || again.State != "duplicate" || again.Execution != arn {
		t.Fatalf("redelivery: %d %s, want 200 duplicate %s", again.Status, again.Body, arn)
	}
	list, err := r.p.sfn().ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(machineOf(arn))})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Executions) != 1 {
		t.Errorf("%d executions, want 1", len(list.Executions))
	}
}

// machineOf derives the state machine ARN from an execution ARN.
func machineOf(execution string) string {
	parts := strings.Split(execution, ":")
	parts[5] = "stateMachine"
	return strings.Join(parts[:len(parts)-1], ":")
}

func TestSuperseded(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r := setup(ctx, t, "superseded", "1h", map[string]string{"SLOW": "61\n"})
	first := r.push(ctx, t)
	r.p.waitEvent(ctx, first, event.StageExecution+"/Build/"+event.Started)
	if err := os.Remove(filepath.Join(r.repo.Work, "SLOW")); err != nil {
		t.Fatal(err)
	}
	before, after, files, err := r.repo.Commit(ctx, "main", "Faster build")
	if err != nil {
		t.Fatal(err)
	}
	r.before, r.after, r.files = before, after, files
	second := r.push(ctx, t)
	d := r.p.wait(ctx, first, nil)
	if d.Status != sfntypes.ExecutionStatusAborted {
		t.Errorf("the older execution is %s, want ABORTED", d.Status)
	}
	got, evs := r.p.eventsOf(first)
	contains(t, got, event.PipelineExecution+"//"+event.Superseded)
	for _, ev := range evs {
		if ev.Detail.State == event.Superseded && ev.Detail.SupersededBy != second {
			t.Errorf("SUPERSEDED by %q, want %q", ev.Detail.SupersededBy, second)
		}
	}
	if pids := processes(t, "sleep 61"); len(pids) > 0 {
		t.Errorf("the superseded build's processes survive: %v", pids)
	}
	// The newer one carries on to its approval.
	r.p.link(ctx, 1)
	if d := r.p.wait(ctx, second, func(*sfn.DescribeExecutionOutput) bool { return true }); d.Status != sfntypes.ExecutionStatusRunning {
		t.Errorf("the newer execution is %s, want RUNNING at its approval", d.Status)
	}
}

func TestRestartWhileWaitingForApproval(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	r := setup(ctx, t, "superseded", "1h", nil)
	arn := r.push(ctx, t)
	link := r.p.link(ctx, 1)
	r.p.restart()
	res := decide(ctx, t, link, "approve", "after a restart")
	if res.Status != http.StatusOK {
		t.Fatalf("approve after restart: %d\n%s", res.Status, res.HTML)
	}
	if d := r.p.wait(ctx, arn, nil); d.Status != sfntypes.ExecutionStatusSucceeded {
		t.Fatalf("execution %s: %s %s", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
	}
}

func TestKillDuringBuild(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	r := setup(ctx, t, "superseded", "1h", map[string]string{"SLOW": "62\n"})
	arn := r.push(ctx, t)
	r.p.waitEvent(ctx, arn, event.StageExecution+"/Build/"+event.Started)
	r.p.waitBuildRunning(ctx)
	eventsBefore, _ := r.p.eventsOf(arn)
	r.p.kill()
	r.p.start()
	d := r.p.wait(ctx, arn, nil)
	if d.Status != sfntypes.ExecutionStatusFailed {
		t.Fatalf("execution %s after SIGKILL during the build, want FAILED (the Catch)", d.Status)
	}
	got, _ := r.p.eventsOf(arn)
	if !slices.Equal(got[:len(eventsBefore)], eventsBefore) {
		t.Errorf("events before the kill changed:\nbefore %v\nafter  %v", eventsBefore, got)
	}
	contains(t, got, event.StageExecution+"/Build/"+event.Failed, event.PipelineExecution+"//"+event.Failed)
	if pids := processes(t, "sleep 62"); len(pids) > 0 {
		t.Errorf("the killed build's processes survive: %v", pids)
	}
	// Nothing else is lost: the source snapshot is still there.
	name := arn[strings.LastIndexByte(arn, ':')+1:]
	if _, err := r.p.s3().HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucketOf(t, r.p)), Key: aws.String("e2e/" + name + "/source.zip")}); err != nil {
		t.Errorf("source.zip lost: %v", err)
	}
}

// waitBuildRunning waits until the Build stage's slow build prints: its
// STARTED event comes from the step before the build's task, so a stop
// right after that event may come before the build is invoked (the build
// then legitimately waits for the restart).
func (p *proc) waitBuildRunning(ctx context.Context) {
	p.t.Helper()
	for !strings.Contains(p.out.String(), "Build:BUILD slow build") {
		select {
		case <-ctx.Done():
			p.t.Fatalf("the build did not start: %v\n%s", ctx.Err(), p.out)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// SIGTERM during a build (make local's Ctrl-C): the build finishes, the
// next step waits for the restart, and the run carries on to success with
// no failure.
func TestGracefulStopDuringBuild(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	r := setup(ctx, t, "superseded", "1h", map[string]string{"SLOW": "3\n"})
	arn := r.push(ctx, t)
	r.p.waitEvent(ctx, arn, event.StageExecution+"/Build/"+event.Started)
	r.p.waitBuildRunning(ctx)
	r.p.stop() // SIGTERM, and a clean exit
	if out := r.p.out.String(); !strings.Contains(out, "waiting for 1 running step(s) to finish") {
		t.Errorf("the stop did not wait for the running build:\n%s", out)
	}
	r.p.start()
	decide(ctx, t, r.p.link(ctx, 1), "approve", "after a graceful restart")
	if d := r.p.wait(ctx, arn, nil); d.Status != sfntypes.ExecutionStatusSucceeded {
		t.Fatalf("execution %s: %s %s", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
	}
	got, _ := r.p.eventsOf(arn)
	for _, e := range got {
		if strings.HasSuffix(e, "/"+event.Failed) {
			t.Errorf("a graceful stop failed something: %v", got)
			break
		}
	}
}
