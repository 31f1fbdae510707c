package test

import (
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

	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/pushline/pushline/infra/local/drive"
	"github.com/pushline/pushline/shared/event"
)

// A pipeline using what issue 13 adds: Build reads a secret and caches a
// folder; Test writes a JUnit report with a failing test. In the sandbox.
var buildsSample = fstest.MapFS{
	"ci/build.yml": {Data: []byte(`version: 0.2
env:
  secrets-manager:
    DB_PASSWORD: prod/db:password
phases:
  build:
    commands:
      - test "$DB_PASSWORD" = "e2e-s3cr3t-value" && echo "password=$DB_PASSWORD"
      - mkdir -p .deps && echo cached > .deps/dep.txt
      - test ! -e "$STACK_DATA/states.db" && test ! -e "$STACK_DATA/webhook-secret" && echo "data dir hidden"
cache:
  paths: ['.deps/**/*']
`)},
	"ci/test.yml": {Data: []byte(`version: 0.2
phases:
  build:
    commands:
      - mkdir -p reports
      - cp junit.xml reports/unit.xml
      - echo "1 passed, 1 failed"; exit 1
reports:
  unit:
    files: ['reports/*.xml']
`)},
	"junit.xml": {Data: []byte(`<testsuite name="greet"><testcase classname="greet" name="TestHello"/>` +
		`<testcase classname="greet" name="TestBye"><failure message="expected bye, got hello"/></testcase></testsuite>`)},
}

func TestBuildsSecretCacheReport(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	repo, err := drive.NewRepo(ctx, dir, "app", buildsSample)
	if err != nil {
		t.Fatal(err)
	}
	before, after, files, err := repo.Commit(ctx, "main", "CI files")
	if err != nil {
		t.Fatal(err)
	}
	secrets := filepath.Join(dir, "secrets.json")
	os.WriteFile(secrets, []byte(`{"prod/db": "{\"password\": \"e2e-s3cr3t-value\"}"}`), 0o600)
	data := filepath.Join(dir, "data")
	cfg := fmt.Sprintf(`{
  "name": "e2e",
  "repositories": [{"provider": "github", "repository": "acme/app", "cloneUrl": %q}],
  "stages": [
    {"name": "Build", "buildspec": "ci/build.yml", "secrets": ["prod/db"], "environment": {"STACK_DATA": %q}},
    {"name": "Test", "buildspec": "ci/test.yml"}
  ],
  "notifications": {"from": "pushline@example.com", "failures": ["team@example.com"]}
}`, repo.CloneURL(), data)
	p := startStack(t, dir, cfg, "PUSHLINE_SECRETS_FILE="+secrets)
	if strings.Contains(p.out.String(), "builds are not sandboxed") {
		t.Fatalf("the builds are not sandboxed here (install bubblewrap):\n%s", p.out)
	}
	a := p.push(ctx, repo, "acme/app", "main", before, after, "CI files", files)
	if a.Execution == "" {
		t.Fatalf("webhook: %d %s", a.Status, a.Body)
	}
	d := p.wait(ctx, a.Execution, nil)
	if d.Status != sfntypes.ExecutionStatusFailed {
		t.Fatalf("execution %s, want FAILED", d.Status)
	}
	got, evs := p.eventsOf(a.Execution)
	contains(t, got, event.StageExecution+"/Build/"+event.Succeeded, event.StageExecution+"/Test/"+event.Failed)
	// the failing test is named on the run page (from the failed phase's
	// first context) and by the CodeBuild API's report calls
	name := a.Execution[strings.LastIndexByte(a.Execution, ':')+1:]
	page := buildsPage(t, p.HTTP+"/runs/"+name)
	if !strings.Contains(page, "greet.TestBye") || !strings.Contains(page, "expected bye, got hello") {
		t.Errorf("the run page does not name the failing test:\n%s", page)
	}
	var testBuild string
	failing := "report e2e-Test-unit: 1 of 2 tests failed: greet.TestBye: expected bye, got hello"
	for _, ev := range evs {
		if ev.DetailType == event.StageExecution && ev.Detail.Stage == "Test" && ev.Detail.State == event.Failed {
			testBuild = ev.Detail.BuildID
		}
		// the FAILED events name it too (the failed phase's contexts)
		if ev.Detail.State == event.Failed && (len(ev.Detail.Failures) == 0 || ev.Detail.Failures[0] != failing) {
			t.Errorf("%s FAILED: failures %q, want %q first", ev.DetailType, ev.Detail.Failures, failing)
		}
	}
	reportArn := "arn:aws:codebuild:us-east-1:000000000000:report/e2e-Test-unit:" + strings.TrimPrefix(testBuild, "e2e-Test:")
	cases := buildsAPICall(t, p.AWS, "DescribeTestCases", `{"reportArn": "`+reportArn+`", "filter": {"status": "FAILED"}}`)
	if !strings.Contains(cases, `"name":"TestBye"`) || !strings.Contains(cases, "expected bye, got hello") {
		t.Errorf("DescribeTestCases %s: %s", reportArn, cases)
	}
	// the failure mail
	var mail drive.Mail
	for mail.Path == "" {
		mails, _ := drive.Outbox(filepath.Join(data, "outbox"))
		if i := slices.IndexFunc(mails, func(m drive.Mail) bool { return strings.Contains(m.To, "team@example.com") }); i >= 0 {
			mail = mails[i]
			break
		}
		select {
		case <-ctx.Done():
			t.Fatal("no failure mail")
		case <-time.After(50 * time.Millisecond):
		}
	}
	if !strings.Contains(strings.ReplaceAll(mail.Text, "\r\n", "\n"), "Why the build failed:\n- "+failing+"\n") {
		t.Errorf("the failure mail does not name the failing test:\n%s", mail.Text)
	}
	// the secret was read, masked in the log, and is nowhere else
	logs, _ := filepath.Glob(filepath.Join(data, "builds", "e2e-Build:*", "build.log"))
	if len(logs) != 1 {
		t.Fatalf("Build logs: %v", logs)
	}
	log, _ := os.ReadFile(logs[0])
	for _, want := range []string{"\npassword=***\n", "\ndata dir hidden\n", "Cache saved: 1 files"} {
		if !strings.Contains(string(log), want) {
			t.Errorf("Build log lacks %q:\n%s", want, log)
		}
	}
	if _, err := os.Stat(filepath.Join(data, "builds", "_cache", "e2e-Build.tar")); err != nil {
		t.Errorf("no cache kept: %v", err)
	}
	events, _ := os.ReadFile(filepath.Join(data, "events.jsonl"))
	for where, text := range map[string]string{"console": p.out.String(), "events": string(events), "mail": mail.Text, "log": string(log)} {
		if strings.Contains(text, "e2e-s3cr3t-value") {
			t.Errorf("the secret's value is in the %s", where)
		}
	}
}

func buildsPage(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// buildsAPICall calls the local stack's CodeBuild API.
func buildsAPICall(t *testing.T, endpoint, op, body string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(body))
	req.Header.Set("X-Amz-Target", "CodeBuild_20161006."+op)
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
