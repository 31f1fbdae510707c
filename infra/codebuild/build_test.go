//go:build linux

// The build tests look at processes through /proc.

package codebuild

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestCarryOver(t *testing.T) {
	h := newHarness(t)
	spec := `version: 0.2
env:
  variables:
    FROM_SPEC: spec
    OVERRIDDEN: spec
phases:
  install:
    commands:
      - mkdir -p sub/deeper && cd sub
      - export EXPORTED=one
      - PLAIN=two
  pre_build:
    commands:
      - cd deeper
  build:
    commands:
      - echo "pwd=${PWD#$CODEBUILD_SRC_DIR}"
      - echo "vars=$EXPORTED,$PLAIN,$FROM_SPEC,$OVERRIDDEN,$STAGE_VAR"
      - sh -c 'echo "child=$EXPORTED"'
`
	b, log := h.run(spec, nil, func(in *StartBuildInput) {
		in.EnvironmentVariablesOverride = []EnvironmentVariable{{Name: "OVERRIDDEN", Value: "override", Type: "PLAINTEXT"}, {Name: "STAGE_VAR", Value: "stage"}}
	})
	if b.BuildStatus != StatusSucceeded {
		t.Fatalf("status %s\n%s", b.BuildStatus, log)
	}
	for _, want := range []string{"\npwd=/sub/deeper\n", "\nvars=one,two,spec,override,stage\n", "\nchild=one\n"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
}

func TestEnvironment(t *testing.T) {
	h := newHarness(t)
	spec := `version: 0.2
phases:
  build:
    commands:
      - env | grep -E '^(CODEBUILD_|AWS_REGION|AWS_DEFAULT_REGION|PUSHLINE_)' | sort
`
	t.Setenv("PUSHLINE_WEBHOOK_SECRET", "s3cret")
	b, log := h.run(spec, nil, func(in *StartBuildInput) {
		in.SourceVersion = "abc123"
		in.EnvironmentVariablesOverride = []EnvironmentVariable{{Name: "PUSHLINE_STAGE", Value: "Build"}, {Name: "CODEBUILD_BUILD_ID", Value: "forged"}}
	})
	if b.BuildStatus != StatusSucceeded {
		t.Fatalf("status %s\n%s", b.BuildStatus, log)
	}
	_, u, _ := strings.Cut(b.Id, ":")
	want := []string{
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_REGION=us-east-1",
		"CODEBUILD_BUILD_ARN=arn:aws:codebuild:us-east-1:000000000000:build/" + b.Id,
		"CODEBUILD_BUILD_ID=" + b.Id,
		"CODEBUILD_BUILD_IMAGE=local",
		"CODEBUILD_BUILD_NUMBER=1",
		"CODEBUILD_BUILD_SUCCEEDING=1",
		"CODEBUILD_CI=true",
		"CODEBUILD_INITIATOR=pushline-local",
		"CODEBUILD_LOG_PATH=" + u,
		"CODEBUILD_PROJECT_ARN=arn:aws:codebuild:us-east-1:000000000000:project/Build",
		"CODEBUILD_RESOLVED_SOURCE_VERSION=abc123",
		"CODEBUILD_SOURCE_REPO_URL=s3://art/app/exec1/source.zip",
		"CODEBUILD_SOURCE_VERSION=abc123",
		"CODEBUILD_SRC_DIR=" + filepath.Join(h.dir, b.Id, "src"),
		"CODEBUILD_START_TIME=" + strconv.FormatInt(b.StartTime.UnixMilli(), 10),
		"PUSHLINE_STAGE=Build",
	}
	var got []string
	for _, l := range strings.Split(log, "\n") {
		if strings.HasPrefix(l, "CODEBUILD_") || strings.HasPrefix(l, "AWS_") || strings.HasPrefix(l, "PUSHLINE_") {
			got = append(got, l)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("environment (-want +got):\n%s", diff)
	}
	// the build number counts per project
	b2, _ := h.run(spec, nil, nil)
	if b2.BuildNumber != 2 {
		t.Errorf("second build number %d, want 2", b2.BuildNumber)
	}
}

func TestOnFailure(t *testing.T) {
	tests := []struct {
		name       string
		spec       string
		wantStatus string
		wantPhases []string
		wantLog    []string
		notInLog   []string
	}{
		{
			name: "pre_build ABORT ends the build, finally still runs",
			spec: `version: 0.2
phases:
  pre_build:
    commands:
      - echo before
      - "false"
      - echo skipped-command
    finally:
      - echo pre-finally
  build:
    commands:
      - echo build-ran
  post_build:
    commands:
      - echo post-ran
`,
			wantStatus: StatusFailed,
			wantPhases: []string{"SUBMITTED SUCCEEDED", "QUEUED SUCCEEDED", "PROVISIONING SUCCEEDED", "DOWNLOAD_SOURCE SUCCEEDED",
				"INSTALL SUCCEEDED", "PRE_BUILD FAILED COMMAND_EXECUTION_ERROR", "FINALIZING SUCCEEDED", "COMPLETED"},
			wantLog:  []string{"\nbefore\n", "\npre-finally\n", "Error while executing command: false. Reason: exit status 1"},
			notInLog: []string{"skipped-command\n", "build-ran", "post-ran"},
		},
		{
			name: "pre_build CONTINUE goes on, build still FAILED",
			spec: `version: 0.2
phases:
  pre_build:
    on-failure: CONTINUE
    commands:
      - exit 3
  build:
    commands:
      - echo "build-ran succeeding=$CODEBUILD_BUILD_SUCCEEDING"
  post_build:
    commands:
      - echo "succeeding=$CODEBUILD_BUILD_SUCCEEDING"
`,
			wantStatus: StatusFailed,
			wantPhases: []string{"SUBMITTED SUCCEEDED", "QUEUED SUCCEEDED", "PROVISIONING SUCCEEDED", "DOWNLOAD_SOURCE SUCCEEDED",
				"INSTALL SUCCEEDED", "PRE_BUILD FAILED COMMAND_EXECUTION_ERROR", "BUILD SUCCEEDED", "POST_BUILD SUCCEEDED",
				"UPLOAD_ARTIFACTS SUCCEEDED", "FINALIZING SUCCEEDED", "COMPLETED"},
			wantLog: []string{"\nbuild-ran succeeding=0\n", "\nsucceeding=0\n", "Reason: exit status 3", "the next commands run in a new shell"},
		},
		{
			name: "failed build runs post_build with CODEBUILD_BUILD_SUCCEEDING=0, then uploads",
			spec: `version: 0.2
phases:
  build:
    commands:
      - mkdir out && echo partial > out/log.txt
      - export KEPT=yes
      - exit_code=7; (exit $exit_code)
    finally:
      - echo "finally succeeding=$CODEBUILD_BUILD_SUCCEEDING"
  post_build:
    commands:
      - echo "post succeeding=$CODEBUILD_BUILD_SUCCEEDING kept=$KEPT"
artifacts:
  files: ['out/**/*']
`,
			wantStatus: StatusFailed,
			wantPhases: []string{"SUBMITTED SUCCEEDED", "QUEUED SUCCEEDED", "PROVISIONING SUCCEEDED", "DOWNLOAD_SOURCE SUCCEEDED",
				"INSTALL SUCCEEDED", "PRE_BUILD SUCCEEDED", "BUILD FAILED COMMAND_EXECUTION_ERROR", "POST_BUILD SUCCEEDED",
				"UPLOAD_ARTIFACTS SUCCEEDED", "FINALIZING SUCCEEDED", "COMPLETED"},
			wantLog: []string{"\nfinally succeeding=1\n", "\npost succeeding=0 kept=yes\n", "Reason: exit status 7"},
		},
		{
			name: "failing finally fails the phase",
			spec: `version: 0.2
phases:
  build:
    commands:
      - echo ok
    finally:
      - test -f does-not-exist
`,
			wantStatus: StatusFailed,
			wantPhases: []string{"SUBMITTED SUCCEEDED", "QUEUED SUCCEEDED", "PROVISIONING SUCCEEDED", "DOWNLOAD_SOURCE SUCCEEDED",
				"INSTALL SUCCEEDED", "PRE_BUILD SUCCEEDED", "BUILD FAILED COMMAND_EXECUTION_ERROR", "POST_BUILD SUCCEEDED",
				"UPLOAD_ARTIFACTS SUCCEEDED", "FINALIZING SUCCEEDED", "COMPLETED"},
			wantLog: []string{"Error while executing command: test -f does-not-exist. Reason: exit status 1"},
		},
		{
			name: "post_build ABORT skips the upload",
			spec: `version: 0.2
phases:
  post_build:
    commands:
      - "false"
artifacts:
  files: ['**/*']
`,
			wantStatus: StatusFailed,
			wantPhases: []string{"SUBMITTED SUCCEEDED", "QUEUED SUCCEEDED", "PROVISIONING SUCCEEDED", "DOWNLOAD_SOURCE SUCCEEDED",
				"INSTALL SUCCEEDED", "PRE_BUILD SUCCEEDED", "BUILD SUCCEEDED", "POST_BUILD FAILED COMMAND_EXECUTION_ERROR",
				"FINALIZING SUCCEEDED", "COMPLETED"},
		},
		{
			name: "sh shell",
			spec: `version: 0.2
env:
  shell: sh
phases:
  build:
    commands:
      - cd /tmp && X=1
      - echo "dir=$(pwd) x=$X"
`,
			wantStatus: StatusSucceeded,
			wantPhases: allOK,
			wantLog:    []string{"\ndir=/tmp x=1\n"},
		},
		{
			name:       "no artifacts produced fails UPLOAD_ARTIFACTS",
			spec:       "version: 0.2\nphases:\n  build:\n    commands: [\"true\"]\nartifacts:\n  files: ['dist/**/*']\n",
			wantStatus: StatusFailed,
			wantPhases: []string{"SUBMITTED SUCCEEDED", "QUEUED SUCCEEDED", "PROVISIONING SUCCEEDED", "DOWNLOAD_SOURCE SUCCEEDED",
				"INSTALL SUCCEEDED", "PRE_BUILD SUCCEEDED", "BUILD SUCCEEDED", "POST_BUILD SUCCEEDED",
				"UPLOAD_ARTIFACTS FAILED CLIENT_ERROR", "FINALIZING SUCCEEDED", "COMPLETED"},
			wantLog: []string{"no matching artifact paths found for dist/**/*"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			b, log := h.run(tt.spec, nil, nil)
			if b.BuildStatus != tt.wantStatus {
				t.Errorf("status %s, want %s", b.BuildStatus, tt.wantStatus)
			}
			if diff := cmp.Diff(tt.wantPhases, phaseSummary(b)); diff != "" {
				t.Errorf("phases (-want +got):\n%s", diff)
			}
			for _, w := range tt.wantLog {
				if !strings.Contains(log, w) {
					t.Errorf("log lacks %q", w)
				}
			}
			for _, w := range tt.notInLog {
				if strings.Contains(log, w) {
					t.Errorf("log has %q", w)
				}
			}
			if t.Failed() {
				t.Logf("log:\n%s", log)
			}
		})
	}
}

func TestBadBuildspec(t *testing.T) {
	tests := []struct {
		name, spec, override, wantMsg string
	}{
		{"missing", "", "ci/missing.yml", "ci/missing.yml: the buildspec file does not exist in the source"},
		{"syntax", "version: 0.2\nphases:\n  build:\n    commands:\n      - a\n     - b\n", "", "buildspec.yml:6: YAML syntax error: did not find expected key (in the block that starts at line 3)"},
		{"version", "version: 0.1\nphases: {build: {commands: [a]}}\n", "", `buildspec.yml:1: version "0.1" is not supported: the local runner runs version 0.2`},
		{"types", "version: 0.2\nphases:\n  build:\n    commands: make\n", "", `buildspec.yml:4: phases.build.commands must be a list of commands, not the value "make"`},
		{"inline", "", "version: 0.2\nphases:\n  build:\n    commandz: [a]\n", `buildspec (inline):4: phases.build: unknown key "commandz"; allowed: run-as, on-failure, runtime-versions (install), commands, finally`},
		{"escape", "", "../../../../etc/passwd", "../../../../etc/passwd: cannot read the buildspec"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			b, log := h.run(tt.spec, nil, func(in *StartBuildInput) { in.BuildspecOverride = tt.override })
			want := []string{"SUBMITTED SUCCEEDED", "QUEUED SUCCEEDED", "PROVISIONING SUCCEEDED", "DOWNLOAD_SOURCE FAILED YAML_FILE_ERROR", "FINALIZING SUCCEEDED", "COMPLETED"}
			if diff := cmp.Diff(want, phaseSummary(b)); diff != "" {
				t.Errorf("phases (-want +got):\n%s", diff)
			}
			if b.BuildStatus != StatusFailed {
				t.Errorf("status %s", b.BuildStatus)
			}
			msg := b.Phases[3].Contexts[0].Message
			if !strings.HasPrefix(msg, tt.wantMsg) {
				t.Errorf("message\n got: %s\nwant: %s", msg, tt.wantMsg)
			}
			if !strings.Contains(log, "Phase context status code: YAML_FILE_ERROR Message: "+tt.wantMsg) {
				t.Errorf("log lacks the message:\n%s", log)
			}
		})
	}
}

func TestMissingSource(t *testing.T) {
	h := newHarness(t)
	b, err := h.r.StartBuild(context.Background(), StartBuildInput{ProjectName: "Build", SourceLocationOverride: "art/nope.zip"})
	if err != nil {
		t.Fatal(err)
	}
	b, err = h.r.Wait(context.Background(), b.Id)
	if err != nil {
		t.Fatal(err)
	}
	if got := phaseSummary(b)[3]; got != "DOWNLOAD_SOURCE FAILED CLIENT_ERROR" {
		t.Errorf("phase %s", got)
	}
	if msg := b.Phases[3].Contexts[0].Message; msg != "get source s3://art/nope.zip: NoSuchKey: art/nope.zip" {
		t.Errorf("message %q", msg)
	}
}

func TestArtifacts(t *testing.T) {
	files := map[string]file{
		"build.sh": {body: "#!/bin/sh\nmkdir -p out/bin out/docs/deep out/tmp\necho bin > out/bin/app\nchmod 755 out/bin/app\necho readme > out/README.md\necho deep > out/docs/deep/page.md\necho tmp > out/tmp/x.tmp\necho log > out/docs/build.log\necho top > top.txt\n", mode: 0o755},
	}
	tests := []struct {
		name      string
		artifacts string
		want      []string
	}{
		{"all under base", "  files: ['**/*']\n  base-directory: out\n",
			[]string{"README.md -rw-r--r-- readme", "bin/app -rwxr-xr-x bin", "docs/build.log -rw-r--r-- log", "docs/deep/page.md -rw-r--r-- deep", "tmp/x.tmp -rw-r--r-- tmp"}},
		{"exclude", "  files: ['**/*']\n  base-directory: out\n  exclude-paths: ['tmp/**/*', '**/*.log']\n",
			[]string{"README.md -rw-r--r-- readme", "bin/app -rwxr-xr-x bin", "docs/deep/page.md -rw-r--r-- deep"}},
		{"discard paths", "  files: ['out/docs/**/*', top.txt]\n  discard-paths: yes\n",
			[]string{"build.log -rw-r--r-- log", "page.md -rw-r--r-- deep", "top.txt -rw-r--r-- top"}},
		{"single star stays in its segment", "  files: ['out/*']\n",
			[]string{"out/README.md -rw-r--r-- readme"}},
		{"directory name, ./ prefix", "  files: [./out/bin]\n",
			[]string{"out/bin/app -rwxr-xr-x bin"}},
		{"question mark", "  files: ['out/docs/?????.log']\n  base-directory: .\n",
			[]string{"out/docs/build.log -rw-r--r-- log"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			spec := "version: 0.2\nphases:\n  build:\n    commands:\n      - ./build.sh\nartifacts:\n" + tt.artifacts
			b, log := h.run(spec, files, nil)
			if b.BuildStatus != StatusSucceeded {
				t.Fatalf("status %s\n%s", b.BuildStatus, log)
			}
			if b.Artifacts.Location != "arn:aws:s3:::art/app/exec1/Build.zip" {
				t.Errorf("location %q", b.Artifacts.Location)
			}
			got := zipListing(t, h.objects.get(t, "art/app/exec1/Build.zip"))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("zip (-want +got):\n%s", diff)
			}
			if len(b.Artifacts.Sha256sum) != 64 || len(b.Artifacts.Md5sum) != 32 {
				t.Errorf("checksums %+v", b.Artifacts)
			}
		})
	}
}

func TestArtifactsNamespaceAndNone(t *testing.T) {
	h := newHarness(t)
	spec := "version: 0.2\nphases:\n  build:\n    commands:\n      - mkdir out && echo a > out/a && echo b > out/b\nartifacts:\n  files: ['**/*']\n  base-directory: out\n  name: named-$CODEBUILD_BUILD_NUMBER-$(echo x)\n"
	b, log := h.run(spec, nil, func(in *StartBuildInput) {
		in.ArtifactsOverride = &ArtifactsOverride{Type: "S3", Location: "art", Path: "p", Name: "ignored", Packaging: "NONE", NamespaceType: "BUILD_ID", OverrideArtifactName: true}
	})
	if b.BuildStatus != StatusSucceeded {
		t.Fatalf("status %s\n%s", b.BuildStatus, log)
	}
	_, u, _ := strings.Cut(b.Id, ":")
	prefix := "art/p/" + u + "/named-1-x/"
	if got := string(h.objects.get(t, prefix+"a")); got != "a\n" {
		t.Errorf("a = %q", got)
	}
	if got := string(h.objects.get(t, prefix+"b")); got != "b\n" {
		t.Errorf("b = %q", got)
	}
	if want := "arn:aws:s3:::art/p/" + u + "/named-1-x"; b.Artifacts.Location != want {
		t.Errorf("location %q, want %q", b.Artifacts.Location, want)
	}
}

func TestExportedVariables(t *testing.T) {
	h := newHarness(t)
	spec := `version: 0.2
env:
  variables:
    FROM_SPEC: spec value
  exported-variables:
    - FROM_SPEC
    - VERSION
    - PLAIN
    - NEVER_SET
phases:
  build:
    commands:
      - export VERSION="1.2.$CODEBUILD_BUILD_NUMBER"
  post_build:
    commands:
      - PLAIN='with spaces and "quotes"'
`
	b, log := h.run(spec, nil, nil)
	if b.BuildStatus != StatusSucceeded {
		t.Fatalf("status %s\n%s", b.BuildStatus, log)
	}
	want := []ExportedVariable{{"FROM_SPEC", "spec value"}, {"VERSION", "1.2.1"}, {"PLAIN", `with spaces and "quotes"`}}
	if diff := cmp.Diff(want, b.ExportedEnvironmentVariables); diff != "" {
		t.Errorf("exported (-want +got):\n%s", diff)
	}
}

// alive reports whether pid is a live (not zombie) process.
func alive(pid int) bool {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	_, rest, _ := strings.Cut(string(data), ") ")
	return !strings.HasPrefix(rest, "Z") && !strings.HasPrefix(rest, "X")
}

func waitDead(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("process %d still alive", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

const sleeperSpec = `version: 0.2
phases:
  build:
    commands:
      - sleep 1000 & echo $! > "$CODEBUILD_SRC_DIR/../sleeper.pid"
      - sh -c 'sleep 1000' & echo $! > "$CODEBUILD_SRC_DIR/../sleeper2.pid"
      - echo started; sleep 1000
      - echo never
  post_build:
    commands:
      - echo post-never
`

// pidsWritten reports whether both sleepers' pid files are complete.
func pidsWritten(dir string) bool {
	for _, name := range []string{"sleeper.pid", "sleeper2.pid"} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || !strings.HasSuffix(string(data), "\n") {
			return false
		}
	}
	return true
}

// buildPids lists the host pids of a running build's processes (its shell,
// the sleepers, the foreground sleep), found by the CODEBUILD_BUILD_ID in
// their environment: the pids the build itself sees ($!) are those of its PID
// namespace.
func buildPids(t *testing.T, id string) []int {
	t.Helper()
	var pids []int
	waitFor(t, "the build's processes", func() bool {
		pids = buildProcesses(id)
		return len(pids) >= 4
	})
	return pids
}

func TestTimeoutKillsGroup(t *testing.T) {
	h := newHarness(t)
	h.r.minute = 1500 * time.Millisecond
	b := h.start(sleeperSpec, nil, func(in *StartBuildInput) { in.TimeoutInMinutesOverride = 1 })
	waitFor(t, "the sleepers", func() bool { return pidsWritten(filepath.Join(h.dir, b.Id)) })
	pids := buildPids(t, b.Id)
	b, err := h.r.Wait(context.Background(), b.Id)
	if err != nil {
		t.Fatal(err)
	}
	log := h.log(b.Id)
	if b.BuildStatus != StatusTimedOut {
		t.Fatalf("status %s\n%s", b.BuildStatus, log)
	}
	want := []string{"SUBMITTED SUCCEEDED", "QUEUED SUCCEEDED", "PROVISIONING SUCCEEDED", "DOWNLOAD_SOURCE SUCCEEDED",
		"INSTALL SUCCEEDED", "PRE_BUILD SUCCEEDED", "BUILD TIMED_OUT BUILD_TIMED_OUT", "FINALIZING SUCCEEDED", "COMPLETED"}
	if diff := cmp.Diff(want, phaseSummary(b)); diff != "" {
		t.Errorf("phases (-want +got):\n%s", diff)
	}
	for _, pid := range pids {
		waitDead(t, pid)
	}
	if strings.Contains(log, "never") {
		t.Errorf("commands ran after the timeout:\n%s", log)
	}
	if name, cause := b.Failure(); name != "States.TaskFailed" || !strings.Contains(cause, `"BuildStatus":"TIMED_OUT"`) {
		t.Errorf("Failure() = %q, %q", name, cause)
	}
}

func TestStopBuild(t *testing.T) {
	h := newHarness(t)
	b := h.start(sleeperSpec, nil, nil)
	dir := filepath.Join(h.dir, b.Id)
	waitFor(t, "the sleepers", func() bool { return pidsWritten(dir) })
	pids := buildPids(t, b.Id)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got, err := h.r.StopBuild(ctx, b.Id)
	if err != nil {
		t.Fatal(err)
	}
	if got.BuildStatus != StatusStopped || !got.BuildComplete {
		t.Errorf("status %s complete %v", got.BuildStatus, got.BuildComplete)
	}
	if s := phaseSummary(got); s[6] != "BUILD STOPPED BUILD_STOPPED" {
		t.Errorf("phases %v", s)
	}
	for _, pid := range pids {
		waitDead(t, pid)
	}
	// stopping again returns the ended build; an unknown id is ErrNotFound
	if again, err := h.r.StopBuild(ctx, b.Id); err != nil || again.BuildStatus != StatusStopped {
		t.Errorf("second stop: %v %v", again, err)
	}
	if _, err := h.r.StopBuild(ctx, "Build:nope"); err == nil {
		t.Error("stop of an unknown build succeeded")
	}
}

func TestRestartRecovery(t *testing.T) {
	h := newHarness(t)
	b := h.start(sleeperSpec, nil, nil)
	dir := filepath.Join(h.dir, b.Id)
	waitFor(t, "the sleepers", func() bool { return pidsWritten(dir) })
	pids := buildPids(t, b.Id)
	// Simulate a killed local stack: keep the record as it is on disk (IN_PROGRESS),
	// forget the runner without closing it.
	saved, err := os.ReadFile(filepath.Join(dir, "build.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(saved), `"BuildStatus": "IN_PROGRESS"`) || !strings.Contains(string(saved), `"Pgid"`) {
		t.Fatalf("record:\n%s", saved)
	}
	// A separate process, outside the group, carrying the build's id.
	stray := exec.Command("sleep", "1000")
	stray.Env = append(os.Environ(), "CODEBUILD_BUILD_ID="+b.Id)
	stray.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := stray.Start(); err != nil {
		t.Fatal(err)
	}
	strayDone := make(chan error, 1)
	go func() { strayDone <- stray.Wait() }()

	r2 := New(Options{Dir: h.dir, Objects: h.objects})
	defer r2.Close()
	got := r2.BatchGetBuilds([]string{b.Id})
	if len(got) != 1 {
		t.Fatalf("BatchGetBuilds after restart: %v", got)
	}
	rb := got[0]
	if rb.BuildStatus != StatusFault || !rb.BuildComplete || rb.CurrentPhase != PhaseCompleted {
		t.Errorf("recovered build: status %s complete %v phase %s", rb.BuildStatus, rb.BuildComplete, rb.CurrentPhase)
	}
	last := rb.Phases[len(rb.Phases)-2]
	if last.PhaseType != PhaseBuild || last.PhaseStatus != StatusFault || last.Contexts[0].StatusCode != "BUILD_INTERRUPTED" ||
		!strings.Contains(last.Contexts[0].Message, "the local stack restarted") {
		t.Errorf("interrupted phase %+v", last)
	}
	for _, pid := range pids {
		waitDead(t, pid)
	}
	select {
	case <-strayDone:
	case <-time.After(5 * time.Second):
		stray.Process.Kill()
		t.Error("the stray process of the build survived the restart")
	}
	// the old runner's goroutine ends the build too; it must not resurrect it in r2
	h.r.Close()
	// a new build of the same project continues the numbering
	r3 := New(Options{Dir: h.dir, Objects: h.objects})
	defer r3.Close()
	nb, err := r3.StartBuild(context.Background(), StartBuildInput{ProjectName: "Build", SourceLocationOverride: "art/app/exec1/source.zip"})
	if err != nil {
		t.Fatal(err)
	}
	if nb.BuildNumber != 2 {
		t.Errorf("build number after restart %d, want 2", nb.BuildNumber)
	}
	if ids := r3.ListBuilds("Build"); len(ids) != 2 || ids[0] != nb.Id || ids[1] != b.Id {
		t.Errorf("ListBuilds %v", ids)
	}
	if sb, err := r3.StopBuild(context.Background(), nb.Id); err != nil || sb.BuildStatus != StatusStopped {
		t.Errorf("stop: %v %v", sb, err)
	}
}

func TestSourceModesAndSymlinks(t *testing.T) {
	h := newHarness(t)
	spec := "version: 0.2\nphases:\n  build:\n    commands:\n      - ./bin/tool.sh\n      - stat -c '%a %n' bin/tool.sh data.txt\n"
	b, log := h.run(spec, map[string]file{
		"bin/tool.sh": {body: "#!/bin/sh\necho tool-ran\n", mode: 0o750},
		"data.txt":    {body: "x", mode: 0o600},
	}, nil)
	if b.BuildStatus != StatusSucceeded {
		t.Fatalf("status %s\n%s", b.BuildStatus, log)
	}
	for _, w := range []string{"\ntool-ran\n", "\n750 bin/tool.sh\n600 data.txt\n"} {
		if !strings.Contains(log, w) {
			t.Errorf("log lacks %q:\n%s", w, log)
		}
	}
}

func TestStartBuildValidation(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		name string
		in   StartBuildInput
		want string
	}{
		{"project", StartBuildInput{ProjectName: "a b", SourceLocationOverride: "b/k"}, `invalid input: projectName "a b" must be 2 to 255 letters, digits, - or _, starting with a letter or digit`},
		{"location", StartBuildInput{ProjectName: "p1", SourceLocationOverride: "bucketonly"}, `invalid input: sourceLocationOverride "bucketonly" must be <bucket>/<key of a zip> for an S3 source`},
		{"source type", StartBuildInput{ProjectName: "p1", SourceTypeOverride: "GITHUB"}, `invalid input: sourceTypeOverride "GITHUB" is not supported locally: use S3 or NO_SOURCE`},
		{"no source without inline", StartBuildInput{ProjectName: "p1", SourceTypeOverride: "NO_SOURCE", BuildspecOverride: "buildspec.yml"}, "invalid input: a NO_SOURCE build needs an inline buildspecOverride"},
		{"artifacts type", StartBuildInput{ProjectName: "p1", SourceLocationOverride: "b/k", ArtifactsOverride: &ArtifactsOverride{Type: "CODEPIPELINE"}}, `invalid input: artifactsOverride.type "CODEPIPELINE" is not supported locally: use S3 or NO_ARTIFACTS`},
		{"artifacts location", StartBuildInput{ProjectName: "p1", SourceLocationOverride: "b/k", ArtifactsOverride: &ArtifactsOverride{Type: "S3"}}, "invalid input: artifactsOverride.location (the bucket) is required for S3 artifacts"},
		{"env type", StartBuildInput{ProjectName: "p1", SourceLocationOverride: "b/k", EnvironmentVariablesOverride: []EnvironmentVariable{{Name: "A", Type: "X"}}}, `invalid input: environment variable A has type "X"; allowed: PLAINTEXT, PARAMETER_STORE, SECRETS_MANAGER`},
		{"timeout", StartBuildInput{ProjectName: "p1", SourceLocationOverride: "b/k", TimeoutInMinutesOverride: 3000}, "invalid input: timeoutInMinutesOverride 3000 must be between 1 and 2160 (0: the default, 60)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := h.r.StartBuild(context.Background(), tt.in)
			if err == nil || err.Error() != tt.want {
				t.Errorf("error\n got: %v\nwant: %s", err, tt.want)
			}
		})
	}
}

func TestNoSourceInlineAndUnlistedSecret(t *testing.T) {
	h := newHarness(t)
	b, err := h.r.StartBuild(context.Background(), StartBuildInput{
		ProjectName: "Inline", SourceTypeOverride: "NO_SOURCE",
		BuildspecOverride:            "version: 0.2\nphases:\n  build:\n    commands:\n      - echo inline-ran\n",
		EnvironmentVariablesOverride: []EnvironmentVariable{{Name: "TOKEN", Value: "/ssm/x", Type: "PARAMETER_STORE"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	b, _ = h.r.Wait(context.Background(), b.Id)
	if got := phaseSummary(b)[3]; got != "DOWNLOAD_SOURCE FAILED PARAMETER_STORE_ERROR" {
		t.Errorf("phase %s", got)
	}
	if msg := b.Phases[3].Contexts[0].Message; msg != "parameter /ssm/x (variable TOKEN): not listed in the stage's secrets (project Inline lists none)" {
		t.Errorf("message %q", msg)
	}
	b, err = h.r.StartBuild(context.Background(), StartBuildInput{
		ProjectName: "Inline", SourceTypeOverride: "NO_SOURCE",
		BuildspecOverride: "version: 0.2\nphases:\n  build:\n    commands:\n      - echo inline-ran\n",
	})
	if err != nil {
		t.Fatal(err)
	}
	b, _ = h.r.Wait(context.Background(), b.Id)
	if b.BuildStatus != StatusSucceeded || !strings.Contains(h.log(b.Id), "\ninline-ran\n") {
		t.Errorf("inline build %s:\n%s", b.BuildStatus, h.log(b.Id))
	}
}

func TestMaxRunning(t *testing.T) {
	h := newHarness(t)
	h.r.Close()
	h.r = New(Options{Dir: h.dir, Objects: h.objects, MaxRunning: 1})
	defer h.r.Close()
	first := h.start(sleeperSpec, nil, nil)
	waitFor(t, "the first build to run", func() bool { return h.r.BatchGetBuilds([]string{first.Id})[0].CurrentPhase == PhaseBuild })
	second := h.start("version: 0.2\nphases:\n  build:\n    commands: [\"echo second\"]\n", nil, nil)
	time.Sleep(200 * time.Millisecond)
	if got := h.r.BatchGetBuilds([]string{second.Id})[0]; got.CurrentPhase != PhaseQueued {
		t.Fatalf("second build in %s while the first runs", got.CurrentPhase)
	}
	ctx := context.Background()
	if _, err := h.r.StopBuild(ctx, first.Id); err != nil {
		t.Fatal(err)
	}
	got, err := h.r.Wait(ctx, second.Id)
	if err != nil || got.BuildStatus != StatusSucceeded {
		t.Fatalf("second build: %v %v", got, err)
	}
	// a queued build can be stopped too
	third := h.start(sleeperSpec, nil, nil)
	waitFor(t, "the third build to run", func() bool { return h.r.BatchGetBuilds([]string{third.Id})[0].CurrentPhase == PhaseBuild })
	fourth := h.start(sleeperSpec, nil, nil)
	stopped, err := h.r.StopBuild(ctx, fourth.Id)
	if err != nil || stopped.BuildStatus != StatusStopped || phaseSummary(stopped)[1] != "QUEUED STOPPED BUILD_STOPPED" {
		t.Errorf("stopping a queued build: %v %v", phaseSummary(stopped), err)
	}
	h.r.StopBuild(ctx, third.Id)
}

func TestOutputLinesAndConsolePrefix(t *testing.T) {
	h := newHarness(t)
	spec := `version: 0.2
phases:
  build:
    commands:
      - head -c 100000 /dev/zero | tr '\0' 'x'; echo
      - printf 'no newline at the end'
  post_build:
    commands:
      - echo to-stderr >&2
`
	b, log := h.run(spec, nil, nil)
	if b.BuildStatus != StatusSucceeded {
		t.Fatalf("status %s", b.BuildStatus)
	}
	if !strings.Contains(log, strings.Repeat("x", 100000)) {
		t.Error("the long line is not whole in the log")
	}
	console := h.console.String()
	for _, want := range []string{"[Build:BUILD] Running command printf 'no newline at the end'\n", "[Build:POST_BUILD] to-stderr\n", "[Build:COMPLETED] Build " + b.Id + ": SUCCEEDED in "} {
		if !strings.Contains(console, want) {
			t.Errorf("console lacks %q", want)
		}
	}
	for _, line := range strings.Split(strings.TrimSuffix(console, "\n"), "\n") {
		if !strings.HasPrefix(line, "[Build:") {
			t.Errorf("console line without prefix: %.80q", line)
		}
	}
	if !strings.Contains(console, "no newline at the end") {
		t.Error("output without a final newline is lost")
	}
}

func TestArtifactLocationAndChecksums(t *testing.T) {
	h := newHarness(t)
	// no artifacts section: the location is known, no checksum says nothing was uploaded
	b, _ := h.run("version: 0.2\nphases:\n  build:\n    commands: [\"true\"]\n", nil, nil)
	if b.Artifacts.Location != "arn:aws:s3:::art/app/exec1/Build.zip" || b.Artifacts.Sha256sum != "" || b.Artifacts.Md5sum != "" {
		t.Errorf("artifacts %+v", b.Artifacts)
	}
	data, _ := json.Marshal(b.Artifacts)
	if string(data) != `{"Location":"arn:aws:s3:::art/app/exec1/Build.zip"}` {
		t.Errorf("artifacts JSON %s", data)
	}
	// no artifacts override: no location at all
	b, _ = h.run("version: 0.2\nphases:\n  build:\n    commands: [\"true\"]\nartifacts:\n  files: ['**/*']\n", nil, func(in *StartBuildInput) { in.ArtifactsOverride = nil })
	if b.Artifacts != (BuildArtifacts{}) {
		t.Errorf("artifacts without an override %+v", b.Artifacts)
	}
}
