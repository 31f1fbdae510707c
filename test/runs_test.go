package test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/pushline/pushline/infra/local/drive"
)

// flaky is a project whose Test stage fails once and passes when retried
// (it asks the test's flakyServer on $FLAKY_PORT); it runs SLOW seconds
// first.
var flaky = fstest.MapFS{
	"buildspec.yml": {Data: []byte(`version: 0.2
env:
  exported-variables: [VERSION]
phases:
  build:
    commands:
      - export VERSION=1.0.0
      - mkdir -p dist && echo app > dist/app.txt && cp buildspec-test.yml dist/
      - echo "built $VERSION"
artifacts:
  base-directory: dist
  files: ['**/*']
`)},
	"buildspec-test.yml": {Data: []byte(`version: 0.2
phases:
  build:
    commands:
      - for i in $(seq 1 40); do echo "test $i ok"; done
      - sleep "$SLOW"
      - exec 3<>"/dev/tcp/127.0.0.1/$FLAKY_PORT" && printf 'GET /flaky HTTP/1.0\r\n\r\n' >&3 && read -r status <&3 && case "$status" in *" 200 "*) ;; *) echo "flaky test failed"; exit 1;; esac
      - echo "all tests passed"
`)},
}

func flakyConfig(cloneURL, port string, slow int) string {
	return fmt.Sprintf(`{
  "name": "runs",
  "repositories": [{"provider": "github", "repository": "acme/app", "cloneUrl": %q}],
  "stages": [
    {"name": "Build", "buildspec": "buildspec.yml", "timeout": "10m"},
    {"name": "Test", "buildspec": "buildspec-test.yml", "timeout": "10m", "environment": {"FLAKY_PORT": %q, "SLOW": "%d"}}
  ]
}`, cloneURL, port, slow)
}

// startFlaky starts a stack with the flaky project and pushes a commit;
// it returns the stack, the started execution's name and the config file.
func startFlaky(t *testing.T, ctx context.Context, slow int) (*proc, string) {
	t.Helper()
	dir := t.TempDir()
	// The first answer is 500, the next ones 200.
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if calls.Add(1) == 1 {
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	t.Cleanup(srv.Close)
	port := srv.URL[strings.LastIndexByte(srv.URL, ':')+1:]
	repo, err := drive.NewRepo(ctx, dir, "app", flaky)
	if err != nil {
		t.Fatal(err)
	}
	before, after, files, err := repo.Commit(ctx, "main", "Add a flaky test\n\nIt fails once.")
	if err != nil {
		t.Fatal(err)
	}
	p := startStack(t, dir, flakyConfig(repo.CloneURL(), port, slow))
	a := p.push(ctx, repo, "acme/app", "main", before, after, "Add a flaky test\n\nIt fails once.", files)
	if a.Status != 202 {
		t.Fatalf("webhook answered %d %s", a.Status, a.Body)
	}
	return p, a.Execution[strings.LastIndexByte(a.Execution, ':')+1:]
}

var (
	cliOnce sync.Once
	cliPath string
	cliErr  error
)

// cli builds cmd/pushline once.
func cli(t *testing.T) string {
	t.Helper()
	cliOnce.Do(func() {
		cliPath = filepath.Join(filepath.Dir(binary), "pushline")
		out, err := exec.Command("go", "build", "-o", cliPath, "../cmd/pushline").CombinedOutput()
		if err != nil {
			cliErr = fmt.Errorf("build cmd/pushline: %v\n%s", err, out)
		}
	})
	if cliErr != nil {
		t.Fatal(cliErr)
	}
	return cliPath
}

// pushline runs the CLI against the stack; it returns stdout, stderr and
// the exit code.
func (p *proc) pushline(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(cli(t), args...)
	cmd.Dir = p.dir
	cmd.Env = append(os.Environ(),
		"PUSHLINE_CONFIG="+filepath.Join(p.dir, "config.json"),
		"PUSHLINE_AWS_ADDR="+strings.TrimPrefix(p.AWS, "http://"),
		"PUSHLINE_HTTP_ADDR="+strings.TrimPrefix(p.HTTP, "http://"),
		"PUSHLINE_DATA_DIR="+p.data,
		"NO_COLOR=1",
	)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

func TestCLI(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	p, name := startFlaky(t, ctx, 0)
	arn := "arn:aws:states:us-east-1:000000000000:execution:pushline-runs:" + name
	p.wait(ctx, arn, nil)

	out, errOut, code := p.pushline(t, "runs")
	if code != 0 || !strings.Contains(out, "FAILED") || !strings.Contains(out, name) || !strings.HasPrefix(out, "STATE") {
		t.Fatalf("runs: %d %q %q", code, out, errOut)
	}
	out, _, code = p.pushline(t, "show", name)
	for _, want := range []string{name + " FAILED", "Test build FAILED", "cause Test: build", "flaky test failed", "page " + p.HTTP + "/runs/" + name} {
		if code != 0 || !strings.Contains(strings.Join(strings.Fields(out), " "), want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}
	out, _, code = p.pushline(t, "logs", name)
	if code != 0 || !strings.Contains(out, "flaky test failed") || !strings.Contains(out, "test 40 ok") {
		t.Errorf("logs: %d\n%s", code, out)
	}
	out, _, code = p.pushline(t, "--json", "show", name)
	var shown struct{ Status, FailedStage string }
	if code != 0 || json.Unmarshal([]byte(out), &shown) != nil || shown.Status != "FAILED" || shown.FailedStage != "Test" {
		t.Errorf("show --json: %d %q", code, out)
	}

	// Retry: a new execution from Test, attempt 2.
	out, _, code = p.pushline(t, "--json", "retry", name)
	var started struct {
		Name, Stage string
		Attempt     int
	}
	if code != 0 || json.Unmarshal([]byte(out), &started) != nil || started.Name != name+"-r2" || started.Stage != "Test" || started.Attempt != 2 {
		t.Fatalf("retry: %d %q", code, out)
	}
	d := p.wait(ctx, arn+"-r2", nil)
	if d.Status != "SUCCEEDED" {
		t.Fatalf("the retry ended %s\n%s", d.Status, p.out)
	}
	out, _, _ = p.pushline(t, "show", name+"-r2")
	for _, want := range []string{"retry by ", "attempt 2", "ATTEMPTS", "1 FAILED " + name, "2 SUCCEEDED " + name + "-r2 (this run)", "from an earlier attempt",
		// The retry started at Test: Source and Build ran in attempt 1.
		"Source source REUSED", "Build build REUSED", "Test build SUCCEEDED"} {
		if !strings.Contains(strings.Join(strings.Fields(out), " "), want) {
			t.Errorf("show of the retry lacks %q:\n%s", want, out)
		}
	}

	// Refusals and errors: one line on stderr, exit 1.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"retry", name + "-r2"}, "the run succeeded: nothing to retry"},
		{[]string{"show", "no-such-run"}, "no such run"},
		{[]string{"show", "../../etc"}, "no such run"},
		{[]string{"runs", "--state", "SLEEPING"}, "one of RUNNING"},
		{[]string{"logs", name, "NoStage"}, "no build stage"},
		{[]string{"bogus"}, "unknown command"},
	} {
		out, errOut, code := p.pushline(t, tc.args...)
		if code != 1 || !strings.Contains(errOut, tc.want) || strings.Count(errOut, "\n") != 1 || out != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 1 and one line with %q", tc.args, code, out, errOut, tc.want)
		}
	}

	// A manual run of the branch: the head commit from the cloneUrl.
	out, errOut, code = p.pushline(t, "--json", "run", "main")
	if code != 0 || !strings.Contains(out, `"attempt": 3`) {
		t.Fatalf("run main: %d %q %q", code, out, errOut)
	}
	out, _, _ = p.pushline(t, "--json", "runs", "--branch", "main")
	var list []struct{ Name, Trigger string }
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list) != 3 || list[0].Trigger != "manual" {
		t.Errorf("runs --branch main: %v %s", err, out)
	}
	out, _, _ = p.pushline(t, "--json", "runs", "--branch", "other")
	if strings.TrimSpace(out) != "[]" {
		t.Errorf("runs --branch other: %s", out)
	}
	out, _, code = p.pushline(t, "--help")
	for _, c := range []string{"runs", "show", "logs", "rerun", "retry", "run", "link", "local", "demo"} {
		if code != 0 || !strings.Contains(out, "\n  "+c+" ") {
			t.Errorf("--help lacks %s:\n%s", c, out)
		}
	}
}
