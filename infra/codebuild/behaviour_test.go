package codebuild

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestBuildspecBehaviour covers what CodeBuild's buildspec reference says about
// on-failure ABORT, a base-directory pattern, exit N and phases without commands.
func TestBuildspecBehaviour(t *testing.T) {
	failedUpTo := func(phases ...string) []string {
		return append([]string{"SUBMITTED SUCCEEDED", "QUEUED SUCCEEDED", "PROVISIONING SUCCEEDED", "DOWNLOAD_SOURCE SUCCEEDED"}, append(phases, "FINALIZING SUCCEEDED", "COMPLETED")...)
	}
	tests := []struct {
		name       string
		spec       string
		files      map[string]file
		wantStatus string
		wantPhases []string
		wantLog    []string
		notInLog   []string
		wantZip    []string // entries of the uploaded artifact, as zipListing gives them
	}{
		{
			name: "explicit on-failure ABORT in build: post_build and the upload do not run",
			spec: `version: 0.2
phases:
  build:
    on-failure: ABORT
    commands:
      - "false"
    finally:
      - echo build-finally
  post_build:
    commands:
      - echo post-ran
artifacts:
  files: ['**/*']
`,
			wantStatus: StatusFailed,
			wantPhases: failedUpTo("INSTALL SUCCEEDED", "PRE_BUILD SUCCEEDED", "BUILD FAILED COMMAND_EXECUTION_ERROR"),
			wantLog:    []string{"\nbuild-finally\n", "on-failure ABORT: the build is aborted"},
			notInLog:   []string{"post-ran"},
		},
		{
			name: "explicit on-failure ABORT in install: nothing after it runs",
			spec: `version: 0.2
phases:
  install:
    on-failure: ABORT
    commands:
      - exit 2
  build:
    commands:
      - echo build-ran
`,
			wantStatus: StatusFailed,
			wantPhases: failedUpTo("INSTALL FAILED COMMAND_EXECUTION_ERROR"),
			wantLog:    []string{"Error while executing command: exit 2. Reason: exit status 2"},
			notInLog:   []string{"build-ran"},
		},
		{
			name: "exit N fails its phase; exports, plain variables and the working directory survive (bash)",
			spec: `version: 0.2
phases:
  pre_build:
    on-failure: CONTINUE
    commands:
      - mkdir -p deep/er && cd deep/er
      - export EXPORTED="a b"; PLAIN=$'two\nlines'; declare -a ARR=(x y)
      - exit 4
      - echo skipped-in-phase
  build:
    commands:
      - echo "pwd=${PWD#$CODEBUILD_SRC_DIR} exported=$EXPORTED arr=${ARR[1]} succeeding=$CODEBUILD_BUILD_SUCCEEDING"
      - echo "plain=$PLAIN"
      - sh -c 'echo "child=$EXPORTED"'
`,
			wantStatus: StatusFailed,
			wantPhases: failedUpTo("INSTALL SUCCEEDED", "PRE_BUILD FAILED COMMAND_EXECUTION_ERROR", "BUILD SUCCEEDED", "POST_BUILD SUCCEEDED", "UPLOAD_ARTIFACTS SUCCEEDED"),
			wantLog: []string{"Error while executing command: exit 4. Reason: exit status 4",
				"\npwd=/deep/er exported=a b arr=y succeeding=0\n", "\nplain=two\nlines\n", "\nchild=a b\n"},
			notInLog: []string{"skipped-in-phase"},
		},
		{
			name: "exit 0 ends the shell but not the phase; the next command still sees the state (sh)",
			spec: `version: 0.2
env:
  shell: sh
phases:
  build:
    commands:
      - mkdir -p d && cd d && export KEEP="it's kept"
      - exit 0
      - echo "pwd=${PWD#$CODEBUILD_SRC_DIR} keep=$KEEP"
`,
			wantStatus: StatusSucceeded,
			wantPhases: allOK,
			wantLog:    []string{"\npwd=/d keep=it's kept\n"},
		},
		{
			name: "set -e ending the shell fails the phase like a failing command",
			spec: `version: 0.2
phases:
  build:
    on-failure: CONTINUE
    commands:
      - export BEFORE=1; set -e; false
  post_build:
    commands:
      - echo "before=$BEFORE"
`,
			wantStatus: StatusFailed,
			wantPhases: failedUpTo("INSTALL SUCCEEDED", "PRE_BUILD SUCCEEDED", "BUILD FAILED COMMAND_EXECUTION_ERROR", "POST_BUILD SUCCEEDED", "UPLOAD_ARTIFACTS SUCCEEDED"),
			wantLog:    []string{"Reason: exit status 1", "\nbefore=1\n"},
		},
		{
			name: "a phase with finally and no commands is an invalid buildspec, before any command",
			spec: `version: 0.2
phases:
  install:
    commands:
      - echo install-ran
  build:
    finally:
      - echo finally-ran
`,
			wantStatus: StatusFailed,
			wantPhases: []string{"SUBMITTED SUCCEEDED", "QUEUED SUCCEEDED", "PROVISIONING SUCCEEDED", "DOWNLOAD_SOURCE FAILED YAML_FILE_ERROR", "FINALIZING SUCCEEDED", "COMPLETED"},
			wantLog:    []string{"buildspec.yml:6: phases.build has finally but no commands: a phase needs a commands list"},
			notInLog:   []string{"install-ran", "finally-ran"},
		},
		{
			name: "base-directory pattern with discard-paths (the reference's example)",
			spec: `version: 0.2
phases:
  build:
    commands:
      - mkdir -p my-build1/sub my-build2 other
      - echo 1 > my-build1/sub/a.txt; echo 2 > my-build2/b.txt; echo 3 > other/c.txt
artifacts:
  files:
    - '**/*'
  base-directory: 'my-build*'
  discard-paths: yes
`,
			wantStatus: StatusSucceeded,
			wantPhases: allOK,
			wantZip:    []string{"a.txt -rw-r--r-- 1", "b.txt -rw-r--r-- 2"},
		},
		{
			name: "base-directory pattern without discard-paths keeps paths under each match",
			spec: `version: 0.2
phases:
  build:
    commands:
      - mkdir -p out/x/dist out/y/dist/sub && echo 1 > out/x/dist/a.txt && echo 2 > out/y/dist/sub/z.txt
artifacts:
  files: ['**/*']
  base-directory: out/*/dist
`,
			wantStatus: StatusSucceeded,
			wantPhases: allOK,
			wantZip:    []string{"a.txt -rw-r--r-- 1", "sub/z.txt -rw-r--r-- 2"},
		},
		{
			name: "base-directory pattern that matches nothing fails the upload",
			spec: `version: 0.2
phases:
  build:
    commands: ["true"]
artifacts:
  files: ['**/*']
  base-directory: 'dist-*'
`,
			wantStatus: StatusFailed,
			wantPhases: failedUpTo("INSTALL SUCCEEDED", "PRE_BUILD SUCCEEDED", "BUILD SUCCEEDED", "POST_BUILD SUCCEEDED", "UPLOAD_ARTIFACTS FAILED CLIENT_ERROR"),
			wantLog:    []string{`artifacts base-directory "dist-*" matches no directory`},
		},
		{
			name: "base-directory pattern whose matches collide under discard-paths fails",
			spec: `version: 0.2
phases:
  build:
    commands:
      - mkdir -p b1 b2 && echo 1 > b1/same.txt && echo 2 > b2/same.txt
artifacts:
  files: ['**/*']
  base-directory: 'b?'
  discard-paths: yes
`,
			wantStatus: StatusFailed,
			wantPhases: failedUpTo("INSTALL SUCCEEDED", "PRE_BUILD SUCCEEDED", "BUILD SUCCEEDED", "POST_BUILD SUCCEEDED", "UPLOAD_ARTIFACTS FAILED CLIENT_ERROR"),
			wantLog:    []string{"would both be stored as same.txt"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			b, log := h.run(tt.spec, tt.files, nil)
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
			if tt.wantZip != nil {
				if diff := cmp.Diff(tt.wantZip, zipListing(t, h.objects.get(t, "art/app/exec1/Build.zip"))); diff != "" {
					t.Errorf("artifact (-want +got):\n%s", diff)
				}
			}
			if t.Failed() {
				t.Logf("log:\n%s", log)
			}
		})
	}
}
