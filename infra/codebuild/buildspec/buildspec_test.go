package buildspec

import (
	"errors"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseFull(t *testing.T) {
	data, err := os.ReadFile("testdata/full.yml")
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse("full.yml", data)
	if err != nil {
		t.Fatal(err)
	}
	want := &Spec{
		Version: "0.2",
		Env: Env{
			Shell:             "bash",
			Variables:         []Var{{"GREETING", "hello"}, {"COUNT", "3"}, {"EMPTY", ""}},
			ExportedVariables: []string{"GREETING", "BUILT_AT"},
		},
		Phases: []*Phase{
			{Name: Install, Line: 14, Commands: []Command{{"echo installing", 18}}},
			{Name: PreBuild, Line: 19, OnFailure: Continue, Commands: []Command{{"cd sub", 22}, {"export X=1", 23}}},
			{Name: Build, Line: 24,
				Commands: []Command{{"echo multi\necho line\n", 26}, {"echo quoted: colon", 29}},
				Finally:  []Command{{"echo finally", 31}}},
			{Name: PostBuild, Line: 32, Commands: []Command{{"echo done", 34}}},
		},
		Artifacts: &Artifacts{
			Files:         []string{"**/*"},
			Name:          "app.zip",
			BaseDirectory: "out",
			DiscardPaths:  true,
			ExcludePaths:  []string{"**/*.tmp"},
		},
		Reports: []Report{{Name: "unit", Files: []string{"report.xml"}, FileFormat: "JUNITXML", Line: 37}},
		Ignored: []string{"phases.install.runtime-versions (line 15)"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Parse mismatch (-want +got):\n%s", diff)
	}
	if got.Phase(Build) == nil || got.Phase("nope") != nil {
		t.Errorf("Phase lookup wrong")
	}
}

func TestParseGood(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want *Spec
	}{
		{
			name: "minimal, version as string, single-string files",
			in:   "version: \"0.2\"\nphases:\n  build:\n    commands:\n      - echo hi\nartifacts:\n  files: out.txt\n",
			want: &Spec{Version: "0.2",
				Phases:    []*Phase{{Name: Build, Line: 3, Commands: []Command{{"echo hi", 5}}}},
				Artifacts: &Artifacts{Files: []string{"out.txt"}}},
		},
		{
			name: "phases reordered run in canonical order; empty phase; sh",
			in:   "version: 0.2\nenv:\n  shell: /bin/sh\nphases:\n  post_build:\n    commands: [\"echo b\"]\n  install:\n",
			want: &Spec{Version: "0.2", Env: Env{Shell: "sh"}, Phases: []*Phase{
				{Name: Install, Line: 7},
				{Name: PostBuild, Line: 5, Commands: []Command{{"echo b", 6}}},
			}},
		},
		{
			name: "explicit ABORT kept apart from the default; runtime-versions alone",
			in:   "version: 0.2\nphases:\n  install:\n    runtime-versions: {go: 1}\n  build:\n    on-failure: ABORT\n    commands: [a]\n",
			want: &Spec{Version: "0.2", Phases: []*Phase{
				{Name: Install, Line: 3},
				{Name: Build, Line: 5, OnFailure: Abort, Commands: []Command{{"a", 7}}},
			}, Ignored: []string{"phases.install.runtime-versions (line 4)"}},
		},
		{
			name: "cache paths",
			in:   "version: 0.2\nphases:\n  build:\n    commands: [a]\ncache:\n  paths:\n    - '.gomodcache/**/*'\n    - $HOME/.npm\n",
			want: &Spec{Version: "0.2", Phases: []*Phase{{Name: Build, Line: 3, Commands: []Command{{"a", 4}}}},
				Cache: &Cache{Paths: []string{".gomodcache/**/*", "$HOME/.npm"}, Line: 6}},
		},
		{
			name: "numbers as commands, discard-paths no",
			in:   "version: 0.2\nphases:\n  build:\n    commands:\n      - 42\nartifacts:\n  files: ['a']\n  discard-paths: no\n",
			want: &Spec{Version: "0.2",
				Phases:    []*Phase{{Name: Build, Line: 3, Commands: []Command{{"42", 5}}}},
				Artifacts: &Artifacts{Files: []string{"a"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse("buildspec.yml", []byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseBad(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "buildspec.yml: the buildspec is empty"},
		{"blank", "  \n\n", "buildspec.yml: the buildspec is empty"},
		{"comment only", "# nothing\n", "buildspec.yml: the buildspec is empty"},
		{"syntax", "version: 0.2\nphases:\n  build:\n    commands:\n      - echo a\n     - echo b\n", "buildspec.yml:6: YAML syntax error: did not find expected key (in the block that starts at line 3)"},
		{"unclosed quote", "version: 0.2\nphases:\n  build:\n    commands:\n      - \"echo hi\n      - echo b\n", "buildspec.yml:5: YAML syntax error: found unexpected end of stream"},
		{"bad indent deep", "version: 0.2\nphases:\n  build:\n    commands:\n      - a\n      - b\n      - c\n    finally: [x]\n   post_build: {}\n", "buildspec.yml:9: YAML syntax error: did not find expected key (in the block that starts at line 2)"},
		{"tab", "version: 0.2\nphases:\n\tbuild: {}\n", "buildspec.yml:3: YAML syntax error: found character that cannot start any token"},
		{"not a mapping", "- a\n- b\n", "buildspec.yml:1: the buildspec must be a mapping with version and phases, not a list"},
		{"two documents", "version: 0.2\nphases: {build: {}}\n---\nversion: 0.2\n", "buildspec.yml:3: a buildspec holds one YAML document; found a second one"},
		{"no version", "phases:\n  build:\n    commands: [a]\n", `buildspec.yml:1: version is missing: add "version: 0.2"`},
		{"version 0.1", "version: 0.1\nphases:\n  build:\n    commands: [a]\n", `buildspec.yml:1: version "0.1" is not supported: the local runner runs version 0.2`},
		{"version 1.0", "phases:\n  build: {}\nversion: 1.0\n", `buildspec.yml:3: version "1.0" is not supported: the local runner runs version 0.2`},
		{"version list", "version: [0.2]\nphases: {build: {}}\n", "buildspec.yml:1: version must be 0.2, not a list"},
		{"no phases", "version: 0.2\n", "buildspec.yml:1: phases is missing: a buildspec needs at least one of install, pre_build, build, post_build"},
		{"unknown top key", "version: 0.2\nphase:\n  build: {}\n", `buildspec.yml:2: unknown key "phase"; allowed: version, run-as, env, proxy, batch, phases, reports, artifacts, cache`},
		{"repeated key", "version: 0.2\nphases:\n  build: {}\n  build: {}\n", `buildspec.yml:4: phases: key "build" is repeated (first at line 3)`},
		{"unknown phase", "version: 0.2\nphases:\n  test:\n    commands: [a]\n", `buildspec.yml:3: phases: unknown phase "test"; allowed: install, pre_build, build, post_build`},
		{"phases list", "version: 0.2\nphases:\n  - build\n", "buildspec.yml:3: phases must be a mapping, not a list"},
		{"commands string", "version: 0.2\nphases:\n  build:\n    commands: echo hi\n", `buildspec.yml:4: phases.build.commands must be a list of commands, not the value "echo hi"`},
		{"command with colon", "version: 0.2\nphases:\n  build:\n    commands:\n      - echo hi\n      - echo a: b\n", "buildspec.yml:6: phases.build.commands[1] must be a string, not a mapping (quote the command: it contains ': ')"},
		{"null command", "version: 0.2\nphases:\n  build:\n    finally:\n      -\n", "buildspec.yml:5: phases.build.finally[0] must be a string, not empty"},
		{"report without files", "version: 0.2\nphases: {build: {}}\nreports:\n  unit:\n    base-directory: out\n", "buildspec.yml:4: reports.unit.files is missing: list the report files, e.g. 'reports/*.xml'"},
		{"report format", "version: 0.2\nphases: {build: {}}\nreports:\n  unit:\n    files: [a]\n    file-format: XUNIT\n", `buildspec.yml:6: reports.unit.file-format "XUNIT" is not one of JUNITXML, CUCUMBERJSON, NUNITXML, NUNIT3XML, TESTNGXML, VISUALSTUDIOTRX, CLOVERXML, COBERTURAXML, JACOCOXML, SIMPLECOV`},
		{"report key", "version: 0.2\nphases: {build: {}}\nreports:\n  unit:\n    file: [a]\n", `buildspec.yml:5: reports.unit: unknown key "file"; allowed: files, base-directory, discard-paths, file-format`},
		{"cache without paths", "version: 0.2\nphases: {build: {}}\ncache:\n  key: x\n", "buildspec.yml:4: cache.paths is missing: list what to keep between builds, e.g. 'node_modules/**/*'"},
		{"cache key", "version: 0.2\nphases: {build: {}}\ncache:\n  path: [x]\n", `buildspec.yml:4: cache: unknown key "path"; allowed: paths, key, fallback-keys, action`},
		{"finally only", "version: 0.2\nphases:\n  build:\n    finally:\n      - echo f\n", "buildspec.yml:3: phases.build has finally but no commands: a phase needs a commands list"},
		{"on-failure only", "version: 0.2\nphases:\n  install:\n    runtime-versions: {go: 1}\n    on-failure: CONTINUE\n", "buildspec.yml:3: phases.install has on-failure but no commands: a phase needs a commands list"},
		{"bad on-failure", "version: 0.2\nphases:\n  build:\n    on-failure: RETRY\n", `buildspec.yml:4: phases.build.on-failure "RETRY" is not supported: use ABORT or CONTINUE`},
		{"unknown phase key", "version: 0.2\nphases:\n  build:\n    command: [a]\n", `buildspec.yml:4: phases.build: unknown key "command"; allowed: run-as, on-failure, runtime-versions (install), commands, finally`},
		{"runtime-versions outside install", "version: 0.2\nphases:\n  build:\n    runtime-versions: {go: 1}\n", "buildspec.yml:4: phases.build: runtime-versions is only allowed in the install phase"},
		{"shell", "version: 0.2\nenv:\n  shell: zsh\nphases: {build: {}}\n", `buildspec.yml:3: env.shell "zsh" is not supported: use bash or sh`},
		{"parameter-store list", "version: 0.2\nenv:\n  parameter-store: [a]\nphases: {build: {}}\n", "buildspec.yml:3: env.parameter-store must be a mapping, not a list"},
		{"parameter-store empty", "version: 0.2\nenv:\n  parameter-store:\n    TOKEN:\nphases: {build: {}}\n", "buildspec.yml:4: env.parameter-store.TOKEN must name a parameter, not empty"},
		{"secrets-manager name", "version: 0.2\nenv:\n  secrets-manager:\n    1X: a\nphases: {build: {}}\n", `buildspec.yml:4: env.secrets-manager: "1X" is not a valid variable name`},
		{"secrets-manager parts", "version: 0.2\nenv:\n  secrets-manager:\n    X: a:b:c:d:e\nphases: {build: {}}\n", `buildspec.yml:4: env.secrets-manager.X: "a:b:c:d:e" has too many parts: use secret-id:json-key:version-stage:version-id`},
		{"secrets-manager bad arn", "version: 0.2\nenv:\n  secrets-manager:\n    X: arn:aws:s3:::b\nphases: {build: {}}\n", `buildspec.yml:4: env.secrets-manager.X: "arn:aws:s3:::b" is not a secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>)`},
		{"variable list", "version: 0.2\nenv:\n  variables:\n    A: [1, 2]\nphases: {build: {}}\n", "buildspec.yml:4: env.variables.A must be a string, not a list"},
		{"variable name", "version: 0.2\nenv:\n  variables:\n    1A: x\nphases: {build: {}}\n", `buildspec.yml:4: env.variables: "1A" is not a valid variable name`},
		{"exported name", "version: 0.2\nenv:\n  exported-variables:\n    - OK\n    - not-ok\nphases: {build: {}}\n", `buildspec.yml:5: env.exported-variables: "not-ok" is not a valid variable name`},
		{"exported scalar", "version: 0.2\nenv:\n  exported-variables: 000\nphases: {build: {}}\n", `buildspec.yml:3: env.exported-variables: "000" is not a valid variable name`},
		{"env unknown", "version: 0.2\nenv:\n  vars: {}\nphases: {build: {}}\n", `buildspec.yml:3: env: unknown key "vars"; allowed: shell, variables, parameter-store, exported-variables, secrets-manager, git-credential-helper`},
		{"artifacts no files", "version: 0.2\nphases: {build: {}}\nartifacts:\n  name: x\n", "buildspec.yml:4: artifacts.files is missing: list the files to keep, e.g. '**/*'"},
		{"artifacts files map", "version: 0.2\nphases: {build: {}}\nartifacts:\n  files:\n    a: b\n", "buildspec.yml:5: artifacts.files must be a list of strings, not a mapping"},
		{"discard-paths", "version: 0.2\nphases: {build: {}}\nartifacts:\n  files: [a]\n  discard-paths: maybe\n", `buildspec.yml:5: artifacts.discard-paths must be yes or no, not the value "maybe"`},
		{"artifacts unknown", "version: 0.2\nphases: {build: {}}\nartifacts:\n  file: [a]\n", `buildspec.yml:4: artifacts: unknown key "file"; allowed: files, name, discard-paths, base-directory, exclude-paths, enable-symlinks, s3-prefix, secondary-artifacts`},
		{"merge key", "version: 0.2\nx: &x {commands: [a]}\nphases:\n  build:\n    <<: *x\n", `buildspec.yml:2: unknown key "x"; allowed: version, run-as, env, proxy, batch, phases, reports, artifacts, cache`},
		{"merge key in phase", "version: 0.2\nphases:\n  build:\n    <<: {commands: [a]}\n", "buildspec.yml:4: phases.build: YAML merge keys (<<) are not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("buildspec.yml", []byte(tt.in))
			if err == nil {
				t.Fatalf("Parse succeeded, want error %q", tt.want)
			}
			var perr *Error
			if !errors.As(err, &perr) {
				t.Fatalf("error %T is not *Error", err)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("error\n got: %s\nwant: %s", got, tt.want)
			}
		})
	}
}

func BenchmarkParse(b *testing.B) {
	data, err := os.ReadFile("testdata/full.yml")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Parse("full.yml", data); err != nil {
			b.Fatal(err)
		}
	}
}

func TestParseSecrets(t *testing.T) {
	in := `version: 0.2
env:
  parameter-store:
    TOKEN: /app/token
  secrets-manager:
    DB_PASSWORD: prod/db:password
    WHOLE: prod/db
    BY_ARN: arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf:user:AWSCURRENT
phases:
  build:
    commands: [env]
`
	got, err := Parse("buildspec.yml", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := Env{
		ParameterStore: []Ref{{"TOKEN", "/app/token", 4}},
		SecretsManager: []Ref{{"DB_PASSWORD", "prod/db:password", 6}, {"WHOLE", "prod/db", 7},
			{"BY_ARN", "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf:user:AWSCURRENT", 8}},
	}
	if diff := cmp.Diff(want, got.Env); diff != "" {
		t.Errorf("env (-want +got):\n%s", diff)
	}
}

func TestParseSecretRef(t *testing.T) {
	tests := []struct {
		in   string
		want SecretRef
	}{
		{"prod/db", SecretRef{SecretID: "prod/db"}},
		{"prod/db:password", SecretRef{SecretID: "prod/db", JSONKey: "password"}},
		{"prod/db::AWSPREVIOUS", SecretRef{SecretID: "prod/db", VersionStage: "AWSPREVIOUS"}},
		{"prod/db:k:s:v", SecretRef{"prod/db", "k", "s", "v"}},
		{"arn:aws:secretsmanager:eu-west-1:1:secret:x-AbCdEf", SecretRef{SecretID: "arn:aws:secretsmanager:eu-west-1:1:secret:x-AbCdEf"}},
		{"arn:aws:secretsmanager:eu-west-1:1:secret:x:k", SecretRef{SecretID: "arn:aws:secretsmanager:eu-west-1:1:secret:x", JSONKey: "k"}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSecretRef(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
