package test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/pushline/pushline/infra/local/drive"
	"github.com/pushline/pushline/shared/event"
	"github.com/pushline/pushline/shared/hook"
	"github.com/pushline/pushline/shared/push"
)

// The CodeDeploy sample: Build packages appspec.yml, its scripts and the
// site; the Deploy stage installs site/ at /srv/app and ValidateService
// checks it (a site/BROKEN file makes it fail).
var deploySample = fstest.MapFS{
	"site/index.html": {Data: []byte("v1\n")},
	"buildspec.yml": {Data: []byte(`version: 0.2
phases:
  build:
    commands:
      - echo "built $PUSHLINE_COMMIT" > site/build.txt
artifacts:
  files:
    - appspec.yml
    - scripts/**/*
    - site/**/*
`)},
	"appspec.yml": {Data: []byte(`version: 0.0
os: linux
files:
  - source: site
    destination: /srv/app
hooks:
  ApplicationStop:
    - location: scripts/stop.sh
      timeout: 30
  AfterInstall:
    - location: scripts/after.sh
      timeout: 30
  ValidateService:
    - location: scripts/validate.sh
      timeout: 30
`)},
	"scripts/stop.sh":  {Data: []byte("#!/bin/sh\necho \"stopping $DEPLOYMENT_ID\"\n"), Mode: 0o755},
	"scripts/after.sh": {Data: []byte("#!/bin/sh\necho \"installed $(cat \"$PUSHLINE_DEPLOY_ROOT/srv/app/index.html\")\"\n"), Mode: 0o755},
	"scripts/validate.sh": {Data: []byte(`#!/bin/sh
if [ -f "$PUSHLINE_DEPLOY_ROOT/srv/app/BROKEN" ]; then echo "health check failed: BROKEN"; exit 2; fi
echo "healthy"
`), Mode: 0o755},
}

// TestCodeCommitDeploy: git push to a bare repository with pushline's
// post-receive hook (a codecommit repository: CodeCommit's event), a
// build, and a CodeDeploy stage deploying into the local target; then a
// push whose ValidateService fails: the stage fails naming it and the
// previous revision is restored.
func TestCodeCommitDeploy(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	repo, err := drive.NewRepo(ctx, dir, "app", deploySample)
	if err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`{
  "name": "cc",
  "repositories": [{"provider": "codecommit", "repository": "app", "cloneUrl": %q, "branches": ["main"]}],
  "stages": [
    {"name": "Build", "buildspec": "buildspec.yml", "timeout": "10m"},
    {"name": "Deploy", "deploy": {"codedeploy": {"application": "shop", "deploymentGroup": "prod", "input": "Build"}}}
  ],
  "notifications": {"from": "pushline@example.com", "failures": ["team@example.com"]}
}`, repo.CloneURL())
	p := startStack(t, dir, cfg)
	if err := hook.Install(repo.Bare, hook.Options{Provider: push.CodeCommit, Repository: "app", HTTPURL: p.HTTP, Command: []string{os.Args[0]}}); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(p.data, "deploy", "shop", "prod", "target", "srv", "app")

	// 1: a good revision.
	_, first, _, err := repo.Commit(ctx, "main", "Add the shop")
	if err != nil {
		t.Fatal(err)
	}
	arn := execution(ctx, t, p, first)
	d := p.wait(ctx, arn, nil)
	if d.Status != sfntypes.ExecutionStatusSucceeded {
		t.Fatalf("first run %s: %s %s\n%s", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause), p.out)
	}
	if b, _ := os.ReadFile(filepath.Join(target, "index.html")); string(b) != "v1\n" {
		t.Fatalf("deployed index.html = %q", b)
	}
	if b, _ := os.ReadFile(filepath.Join(target, "build.txt")); string(b) != "built "+first+"\n" {
		t.Errorf("deployed build.txt = %q: not the build's artifact", b)
	}
	_, evs := p.eventsOf(arn)
	ok := false
	for _, ev := range evs {
		if ev.DetailType == event.StageExecution && ev.Detail.Stage == "Deploy" && ev.Detail.State == event.Succeeded {
			ok = strings.HasPrefix(ev.Detail.DeploymentID, "d-") && ev.Detail.LogsURL == p.HTTP+"/deployments/"+ev.Detail.DeploymentID
		}
	}
	if !ok {
		t.Errorf("no Deploy SUCCEEDED event with the deployment id and link: %+v", evs)
	}

	// 2: ValidateService fails; the group rolls back to the first revision.
	if err := repo.Write("site/index.html", "v2\n", 0o644); err != nil {
		t.Fatal(err)
	}
	if err := repo.Write("site/BROKEN", "yes\n", 0o644); err != nil {
		t.Fatal(err)
	}
	_, second, _, err := repo.Commit(ctx, "main", "Break the shop")
	if err != nil {
		t.Fatal(err)
	}
	arn = execution(ctx, t, p, second)
	d = p.wait(ctx, arn, nil)
	if d.Status != sfntypes.ExecutionStatusFailed || aws.ToString(d.Error) != "CodeDeploy.HEALTH_CONSTRAINTS" ||
		!strings.Contains(aws.ToString(d.Cause), "lifecycle event ValidateService failed: Script at specified location: scripts/validate.sh failed with exit code 2") ||
		!strings.Contains(aws.ToString(d.Cause), "rolled back") {
		t.Fatalf("second run %s: %s: %s", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
	}
	if b, _ := os.ReadFile(filepath.Join(target, "index.html")); string(b) != "v1\n" {
		t.Errorf("after the rollback index.html = %q, want the first revision's", b)
	}
	if _, err := os.Stat(filepath.Join(target, "BROKEN")); !os.IsNotExist(err) {
		t.Errorf("the failed revision's BROKEN is still deployed: %v", err)
	}
	evs = p.waitEvent(ctx, arn, event.PipelineExecution+"//"+event.Failed)
	var link string
	for _, ev := range evs {
		if ev.DetailType == event.StageExecution && ev.Detail.Stage == "Deploy" && ev.Detail.State == event.Failed {
			link = ev.Detail.LogsURL
			if ev.Detail.DeploymentID == "" || ev.Detail.Error != "CodeDeploy.HEALTH_CONSTRAINTS" {
				t.Errorf("Deploy FAILED event %+v", ev.Detail)
			}
		}
	}
	if link == "" {
		t.Fatalf("no Deploy FAILED event: %+v", evs)
	}
	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"Failed", "== ValidateService: Failed", "health check failed: BROKEN", "rolled back"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("deployment page lacks %q:\n%s", want, page)
		}
	}
}

// execution waits for the execution the hook started for commit.
func execution(ctx context.Context, t *testing.T, p *proc, commit string) string {
	t.Helper()
	c := p.sfn()
	machine := "arn:aws:states:us-east-1:000000000000:stateMachine:pushline-cc"
	for {
		out, err := c.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(machine)})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range out.Executions {
			if strings.Contains(aws.ToString(e.Name), commit[:12]) {
				return aws.ToString(e.ExecutionArn)
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no execution for %s (did the hook deliver?)\n%s", commit, p.out)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
