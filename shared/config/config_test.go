package config

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

const good = `{
  "name": "app",
  "repositories": [
    {"provider": "github", "repository": "acme/app",
     "branches": ["main", "release/*"], "tags": ["v*"],
     "paths": ["src/**"], "ignorePaths": ["docs/**"]}
  ],
  "mode": "superseded",
  "stages": [
    {"name": "Build", "buildspec": "buildspec.yml", "timeout": "30m"},
    {"name": "Test", "buildspec": "buildspec-test.yml"},
    {"name": "Approve", "approval": {"approvers": ["ops@example.com"], "timeout": "72h"}},
    {"name": "Deploy", "buildspec": "buildspec-deploy.yml", "environment": {"STAGE": "prod"}}
  ],
  "notifications": {"from": "pushline@example.com", "failures": ["team@example.com"]}
}`

func TestParseGood(t *testing.T) {
	cfg, err := Parse([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{
		Name: "app",
		Repositories: []Repository{{
			Provider: "github", Repository: "acme/app",
			Branches: []string{"main", "release/*"}, Tags: []string{"v*"},
			Paths: []string{"src/**"}, IgnorePaths: []string{"docs/**"},
		}},
		Mode: "superseded",
		Stages: []Stage{
			{Name: "Build", Build: Build{Buildspec: "buildspec.yml", Timeout: Duration{30 * time.Minute}}},
			{Name: "Test", Build: Build{Buildspec: "buildspec-test.yml", Timeout: Duration{DefaultBuildTimeout}}},
			{Name: "Approve", Approval: &Approval{Approvers: []string{"ops@example.com"}, Timeout: Duration{72 * time.Hour}}},
			{Name: "Deploy", Build: Build{Buildspec: "buildspec-deploy.yml", Environment: map[string]string{"STAGE": "prod"}, Timeout: Duration{DefaultBuildTimeout}}},
		},
		Notifications: Notifications{From: "pushline@example.com", Failures: []string{"team@example.com"}},
	}
	if d := cmp.Diff(want, cfg); d != "" {
		t.Errorf("Parse (-want +got):\n%s", d)
	}
}

func TestParseDefaults(t *testing.T) {
	cfg, err := Parse([]byte(`{"name":"a","repositories":[{"provider":"gitea","repository":"o/r"}],
		"stages":[{"name":"B","buildspec":"b.yml"},{"name":"A","approval":{"approvers":["a@b.c"]}}],
		"notifications":{"from":"Pushline <p@example.com>"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Mode != ModeSuperseded || cfg.Stages[0].Timeout.Duration != time.Hour || cfg.Stages[1].Approval.Timeout.Duration != 72*time.Hour {
		t.Errorf("defaults not applied: %+v", cfg)
	}
}

// base is a valid config that each bad case breaks in one place.
func base() map[string]any {
	var m map[string]any
	if err := json.Unmarshal([]byte(good), &m); err != nil {
		panic(err)
	}
	return m
}

func stage(m map[string]any, i int) map[string]any { return m["stages"].([]any)[i].(map[string]any) }
func repo(m map[string]any, i int) map[string]any {
	return m["repositories"].([]any)[i].(map[string]any)
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		edit func(m map[string]any)
		raw  string // used instead of base+edit when set
		want []string
	}{
		{name: "not JSON", raw: `{"name": }`, want: []string{`config: invalid JSON at line 1, column 10: invalid character '}' looking for beginning of value`}},
		{name: "truncated", raw: `{"name": "a"`, want: []string{`config: invalid JSON at line 1, column 13: unexpected end of JSON`}},
		{name: "trailing", raw: `{} {}`, want: []string{`config: invalid JSON at line 1, column 4: unexpected data after the JSON object`}},
		{name: "not object", raw: `[1]`, want: []string{`config: must be an object, got an array`}},
		{name: "unknown stage key", edit: func(m map[string]any) { stage(m, 2)["aproval"] = map[string]any{} },
			want: []string{`stages[2].aproval: unknown key (allowed: name, buildspec, timeout, environment, computeType, inputs, secrets, privileged, image, approval, actions, deploy)`}},
		{name: "unknown top key", edit: func(m map[string]any) { m["stage"] = []any{} },
			want: []string{`stage: unknown key (allowed: name, repositories, mode, stages, notifications)`}},
		{name: "unknown odd key", edit: func(m map[string]any) { repo(m, 0)["clone url"] = "x" },
			want: []string{`repositories[0]["clone url"]: unknown key (allowed: provider, repository, cloneUrl, branches, tags, paths, ignorePaths, pullRequests, statuses, apiUrl)`}},
		{name: "unknown approval key", edit: func(m map[string]any) { stage(m, 2)["approval"].(map[string]any)["approver"] = "x" },
			want: []string{`stages[2].approval.approver: unknown key (allowed: approvers, timeout)`}},
		{name: "unknown notifications key", edit: func(m map[string]any) { m["notifications"].(map[string]any)["to"] = "x" },
			want: []string{`notifications.to: unknown key (allowed: from, failures)`}},
		{name: "duplicate key", raw: `{"name":"a","name":"b"}`, want: []string{
			`name: duplicate key`, `repositories: required: at least one repository`,
			`stages: required: at least one stage, of which one build stage (with a buildspec)`}},
		{name: "wrong types", edit: func(m map[string]any) {
			m["name"] = 1
			stage(m, 0)["timeout"] = 30
			repo(m, 0)["branches"] = "main"
			stage(m, 3)["environment"] = map[string]any{"STAGE": true}
		}, want: []string{
			`name: must be a string, got a number`,
			`repositories[0].branches: must be an array of strings, got a string`,
			`stages[0].timeout: must be a string, got a number`,
			`stages[3].environment.STAGE: must be a string, got a boolean`,
		}},
		{name: "missing name", edit: func(m map[string]any) { delete(m, "name") },
			want: []string{`name: required (1 to 32 lowercase letters, digits and '-', starting with a letter, not ending with '-')`}},
		{name: "bad name", edit: func(m map[string]any) { m["name"] = "My App" },
			want: []string{`name: "My App" is not a valid pipeline name (1 to 32 lowercase letters, digits and '-', starting with a letter, not ending with '-'; it becomes part of AWS resource names)`}},
		{name: "name trailing dash", edit: func(m map[string]any) { m["name"] = "app-" },
			want: []string{`name: "app-" is not a valid pipeline name (1 to 32 lowercase letters, digits and '-', starting with a letter, not ending with '-'; it becomes part of AWS resource names)`}},
		{name: "no repositories", edit: func(m map[string]any) { m["repositories"] = []any{} },
			want: []string{`repositories: required: at least one repository`}},
		{name: "bad provider", edit: func(m map[string]any) { repo(m, 0)["provider"] = "gitbub" },
			want: []string{`repositories[0].provider: "gitbub" is not a provider (allowed: github, gitlab, bitbucket, gitea, codecommit)`}},
		{name: "missing provider", edit: func(m map[string]any) { delete(repo(m, 0), "provider") },
			want: []string{`repositories[0].provider: required (allowed: github, gitlab, bitbucket, gitea, codecommit)`}},
		{name: "bad repository", edit: func(m map[string]any) { repo(m, 0)["repository"] = "acme" },
			want: []string{`repositories[0].repository: "acme" is not a full repository name (allowed: "owner/name"; GitLab: "group/subgroup/name"; letters, digits, '.', '-', '_')`}},
		{name: "missing repository", edit: func(m map[string]any) { delete(repo(m, 0), "repository") },
			want: []string{`repositories[0].repository: required (the full name, e.g. "acme/app"; GitLab: "group/subgroup/app")`}},
		{name: "duplicate repository", edit: func(m map[string]any) {
			m["repositories"] = append(m["repositories"].([]any), map[string]any{"provider": "github", "repository": "ACME/App"})
		}, want: []string{`repositories[1].repository: "ACME/App" duplicates repositories[0] (each repository once; list all its branches there)`}},
		{name: "bad cloneUrl", edit: func(m map[string]any) { repo(m, 0)["cloneUrl"] = "git@github.com:acme/app.git" },
			want: []string{`repositories[0].cloneUrl: "git@github.com:acme/app.git" is not supported (allowed: an https://, http:// or file:// URL, or an absolute path)`}},
		{name: "bad globs", edit: func(m map[string]any) {
			repo(m, 0)["branches"] = []any{"main", "a***"}
			repo(m, 0)["paths"] = []any{""}
		}, want: []string{
			`repositories[0].branches[1]: bad glob "a***": more than two '*' in a row (allowed: * within a path segment, ** across segments, ? one character, \ escapes)`,
			`repositories[0].paths[0]: bad glob "": empty pattern (allowed: * within a path segment, ** across segments, ? one character, \ escapes)`,
		}},
		{name: "bad mode", edit: func(m map[string]any) { m["mode"] = "serial" },
			want: []string{`mode: "serial" is not a mode (allowed: superseded, parallel, queued)`}},
		{name: "no stages", edit: func(m map[string]any) { m["stages"] = []any{} },
			want: []string{`stages: required: at least one stage, of which one build stage (with a buildspec)`}},
		{name: "no build stage", edit: func(m map[string]any) { m["stages"] = []any{stage(m, 2)} },
			want: []string{`stages: no build stage (allowed: at least one stage with a buildspec or actions)`}},
		{name: "missing stage name", edit: func(m map[string]any) { delete(stage(m, 1), "name") },
			want: []string{`stages[1].name: required (1 to 32 letters, digits, '-' and '_', starting with a letter)`}},
		{name: "bad stage name", edit: func(m map[string]any) { stage(m, 1)["name"] = "unit tests" },
			want: []string{`stages[1].name: "unit tests" is not a valid stage name (1 to 32 letters, digits, '-' and '_', starting with a letter; it names a state, a CodeBuild project and an artifact)`}},
		{name: "reserved stage name", edit: func(m map[string]any) { stage(m, 1)["name"] = "source" },
			want: []string{`stages[1].name: "source" is reserved for the source step (choose another name)`}},
		{name: "duplicate stage name", edit: func(m map[string]any) { stage(m, 1)["name"] = "build" },
			want: []string{`stages[1].name: "build" duplicates stages[0] "Build" (stage and action names must be unique, ignoring case)`}},
		{name: "colliding stage key", edit: func(m map[string]any) {
			stage(m, 0)["name"] = "unit-test"
			stage(m, 1)["name"] = "Unit_Test"
		}, want: []string{`stages[1].name: "Unit_Test" collides with stages[0] "unit-test" (names must differ in more than '-', '_' and case)`}},
		{name: "both", edit: func(m map[string]any) { stage(m, 2)["buildspec"] = "b.yml" },
			want: []string{`stages[2]: buildspec and approval together (a stage has exactly one of: buildspec (a build), approval, actions (builds that run at the same time), deploy)`}},
		{name: "neither", edit: func(m map[string]any) { delete(stage(m, 1), "buildspec") },
			want: []string{`stages[1]: none of buildspec, approval, actions, deploy (a stage has exactly one of: buildspec (a build), approval, actions (builds that run at the same time), deploy)`}},
		{name: "bad buildspec", edit: func(m map[string]any) { stage(m, 1)["buildspec"] = "../x.yml" },
			want: []string{`stages[1].buildspec: "../x.yml" must be a path inside the repository (e.g. "buildspec.yml", "ci/test.yml")`}},
		{name: "build timeout range", edit: func(m map[string]any) { stage(m, 0)["timeout"] = "1m"; stage(m, 1)["timeout"] = "37h" },
			want: []string{
				`stages[0].timeout: "1m" is out of range (allowed: 5m to 36h, CodeBuild's limits)`,
				`stages[1].timeout: "37h" is out of range (allowed: 5m to 36h, CodeBuild's limits)`,
			}},
		{name: "build timeout minutes", edit: func(m map[string]any) { stage(m, 0)["timeout"] = "10m30s" },
			want: []string{`stages[0].timeout: "10m30s" is not a whole number of minutes (CodeBuild timeouts are in minutes)`}},
		{name: "not a duration", edit: func(m map[string]any) { stage(m, 0)["timeout"] = "30 min" },
			want: []string{`stages[0].timeout: "30 min" is not a duration (allowed: e.g. "30m", "1h30m", "72h", "7d")`}},
		{name: "approval stage with a zero timeout", edit: func(m map[string]any) { stage(m, 2)["timeout"] = "0s" },
			want: []string{`stages[2].timeout: only build stages have timeout (an approval's is approval.timeout)`}},
		{name: "approval timeout range", edit: func(m map[string]any) { stage(m, 2)["approval"].(map[string]any)["timeout"] = "400d" },
			want: []string{`stages[2].approval.timeout: "9600h" is out of range (allowed: 1m to 8760h, one year)`}},
		{name: "approval timeout short", edit: func(m map[string]any) { stage(m, 2)["approval"].(map[string]any)["timeout"] = "30s" },
			want: []string{`stages[2].approval.timeout: "30s" is out of range (allowed: 1m to 8760h, one year)`}},
		{name: "approval build fields", edit: func(m map[string]any) {
			s := stage(m, 2)
			s["timeout"] = "1h"
			s["environment"] = map[string]any{"A": "b"}
			s["computeType"] = "BUILD_GENERAL1_SMALL"
			s["input"] = "Build"
		}, want: []string{
			`stages[2].timeout: only build stages have timeout (an approval's is approval.timeout)`,
			`stages[2].environment: only build stages and actions have environment`,
			`stages[2].computeType: only build stages and actions have computeType`,
			`stages[2].input: only build stages and actions have input`,
		}},
		{name: "no approvers", edit: func(m map[string]any) { stage(m, 2)["approval"] = map[string]any{} },
			want: []string{`stages[2].approval.approvers: required: at least one email address`}},
		{name: "bad approvers", edit: func(m map[string]any) {
			stage(m, 2)["approval"].(map[string]any)["approvers"] = []any{"ops", "Ops <ops@example.com>", "a@b.c", "A@b.c"}
		}, want: []string{
			`stages[2].approval.approvers[0]: "ops" is not an email address (allowed: a bare address such as "ops@example.com")`,
			`stages[2].approval.approvers[1]: "Ops <ops@example.com>" is not an email address (allowed: a bare address such as "ops@example.com")`,
			`stages[2].approval.approvers[3]: "A@b.c" duplicates approvers[2]`,
		}},
		{name: "input later", edit: func(m map[string]any) { stage(m, 1)["input"] = "Deploy" },
			want: []string{`stages[1].input: "Deploy" is a later stage (allowed: Build: earlier build stages and actions)`}},
		{name: "input self", edit: func(m map[string]any) { stage(m, 1)["input"] = "Test" },
			want: []string{`stages[1].input: "Test" is the stage itself (allowed: Build: earlier build stages and actions)`}},
		{name: "input approval", edit: func(m map[string]any) { stage(m, 3)["input"] = "Approve" },
			want: []string{`stages[3].input: "Approve" is an approval stage, which has no artifact (allowed: Build, Test: earlier build stages and actions)`}},
		{name: "input unknown", edit: func(m map[string]any) { stage(m, 0)["input"] = "Biuld" },
			want: []string{`stages[0].input: "Biuld" is not a stage or action (allowed: none yet: only earlier build stages and actions have artifacts)`}},
		{name: "computeType", edit: func(m map[string]any) { stage(m, 0)["computeType"] = "LARGE" },
			want: []string{`stages[0].computeType: "LARGE" is not a CodeBuild compute type (allowed: BUILD_GENERAL1_SMALL, BUILD_GENERAL1_MEDIUM, BUILD_GENERAL1_LARGE, BUILD_GENERAL1_XLARGE, BUILD_GENERAL1_2XLARGE, BUILD_LAMBDA_1GB, BUILD_LAMBDA_2GB, BUILD_LAMBDA_4GB, BUILD_LAMBDA_8GB, BUILD_LAMBDA_10GB)`}},
		{name: "environment names", edit: func(m map[string]any) {
			stage(m, 3)["environment"] = map[string]any{"1X": "a", "PUSHLINE_STAGE": "b", "codebuild_x": "c", "A-B": "d", "OK_1": "e"}
		}, want: []string{
			`stages[3].environment["1X"]: invalid variable name (allowed: letters, digits and '_', not starting with a digit)`,
			`stages[3].environment["A-B"]: invalid variable name (allowed: letters, digits and '_', not starting with a digit)`,
			`stages[3].environment.PUSHLINE_STAGE: reserved name (CodeBuild sets CODEBUILD_* and pushline sets PUSHLINE_* variables)`,
			`stages[3].environment.codebuild_x: reserved name (CodeBuild sets CODEBUILD_* and pushline sets PUSHLINE_* variables)`,
		}},
		{name: "placeholder", edit: func(m map[string]any) { stage(m, 3)["environment"] = map[string]any{"HOME": "${HOME}"} },
			want: []string{`stages[3].environment.HOME: must not contain "${" (reserved for the definition's deployment placeholders)`}},
		{name: "notifications", edit: func(m map[string]any) {
			m["notifications"] = map[string]any{"from": "pushline", "failures": []any{"team"}}
		}, want: []string{
			`notifications.from: "pushline" is not an email address (allowed: "pushline@example.com" or "Pushline <pushline@example.com>")`,
			`notifications.failures[0]: "team" is not an email address (allowed: a bare address such as "ops@example.com")`,
		}},
		{name: "from required", edit: func(m map[string]any) { delete(m, "notifications") },
			want: []string{`notifications.from: required when there are approval stages or failure recipients (the sender's email address)`}},
		{name: "many at once", edit: func(m map[string]any) {
			m["name"] = "App"
			m["mode"] = "x"
			stage(m, 0)["aproval"] = true
			stage(m, 1)["timeout"] = "1s"
		}, want: []string{
			`stages[0].aproval: unknown key (allowed: name, buildspec, timeout, environment, computeType, inputs, secrets, privileged, image, approval, actions, deploy)`,
			`name: "App" is not a valid pipeline name (1 to 32 lowercase letters, digits and '-', starting with a letter, not ending with '-'; it becomes part of AWS resource names)`,
			`mode: "x" is not a mode (allowed: superseded, parallel, queued)`,
			`stages[1].timeout: "1s" is out of range (allowed: 5m to 36h, CodeBuild's limits)`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := []byte(tt.raw)
			if tt.raw == "" {
				m := base()
				tt.edit(m)
				var err error
				if data, err = json.Marshal(m); err != nil {
					t.Fatal(err)
				}
			}
			_, err := Parse(data)
			if err == nil {
				t.Fatal("Parse succeeded")
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("errors.Is(err, ErrInvalid) = false")
			}
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("error %T is not Errors", err)
			}
			if d := cmp.Diff(tt.want, strings.Split(err.Error(), "\n")); d != "" {
				t.Errorf("errors (-want +got):\n%s", d)
			}
		})
	}
}

func TestTooManyStages(t *testing.T) {
	m := base()
	var stages []any
	for i := range MaxStages + 1 {
		stages = append(stages, map[string]any{"name": "S" + string(rune('a'+i%26)) + string(rune('a'+i/26)), "buildspec": "b.yml"})
	}
	m["stages"] = stages
	data, _ := json.Marshal(m)
	_, err := Parse(data)
	if err == nil || err.Error() != "stages: 51 stages (allowed: at most 50)" {
		t.Errorf("err = %v", err)
	}
}

// TestParseDurationRange: zero, negative and overflowing durations are
// durations out of range, not "not a duration".
func TestParseDurationRange(t *testing.T) {
	build := func(v string) string {
		return `stages[0].timeout: "` + v + `" is out of range (allowed: 5m to 36h, CodeBuild's limits)`
	}
	approval := func(v string) string {
		return `stages[2].approval.timeout: "` + v + `" is out of range (allowed: 1m to 8760h, one year)`
	}
	notDuration := func(v string) string {
		return `stages[0].timeout: "` + v + `" is not a duration (allowed: e.g. "30m", "1h30m", "72h", "7d")`
	}
	tests := []struct {
		name, value string
		approval    bool
		want        string
	}{
		{"zero", "0s", false, build("0s")},
		{"bare zero", "0", false, build("0")},
		{"zero minutes", "0m", false, build("0m")},
		{"zero days", "0d", false, build("0d")},
		{"negative", "-5m", false, build("-5m")},
		{"negative zero", "-0s", false, build("-0s")},
		{"overflow", "9999999999h", false, build("9999999999h")},
		{"too many days", "70000d", false, build("70000d")},
		{"approval zero", "0s", true, approval("0s")},
		{"approval negative", "-72h", true, approval("-72h")},
		{"approval overflow", "99999999999999999999ns", true, approval("99999999999999999999ns")},
		{"no unit", "30", false, notDuration("30")},
		{"unknown unit", "5y", false, notDuration("5y")},
		{"two dots", "1.5.3h", false, notDuration("1.5.3h")},
		{"negative days", "-1d", false, build("-1d")},
		{"signed days", "+-1d", false, notDuration("+-1d")},
		{"space", "30 min", false, notDuration("30 min")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := base()
			if tt.approval {
				stage(m, 2)["approval"].(map[string]any)["timeout"] = tt.value
			} else {
				stage(m, 0)["timeout"] = tt.value
			}
			data, _ := json.Marshal(m)
			_, err := Parse(data)
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v, want ErrInvalid", err)
			}
			if d := cmp.Diff([]string{tt.want}, strings.Split(err.Error(), "\n")); d != "" {
				t.Errorf("errors (-want +got):\n%s", d)
			}
		})
	}
}

func TestDuration(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want time.Duration
		out  string
	}{
		{`"30m"`, 30 * time.Minute, `"30m"`},
		{`"72h"`, 72 * time.Hour, `"72h"`},
		{`"1h30m"`, 90 * time.Minute, `"1h30m"`},
		{`"7d"`, 7 * 24 * time.Hour, `"168h"`},
		{`"45s"`, 45 * time.Second, `"45s"`},
	} {
		var d Duration
		if err := json.Unmarshal([]byte(tt.in), &d); err != nil {
			t.Fatalf("%s: %v", tt.in, err)
		}
		if d.Duration != tt.want {
			t.Errorf("%s = %v, want %v", tt.in, d.Duration, tt.want)
		}
		out, _ := json.Marshal(d)
		if string(out) != tt.out {
			t.Errorf("marshal %s = %s, want %s", tt.in, out, tt.out)
		}
	}
	for in, want := range map[string]error{"0s": nil, "-5m": nil, "9999999999h": ErrDurationRange, "70000d": ErrDurationRange, "-2d": ErrDurationRange, "5y": errNotDuration, "1.5d": errNotDuration} {
		if _, err := ParseDuration(in); err != want {
			t.Errorf("ParseDuration(%q): %v, want %v", in, err, want)
		}
	}
	for _, bad := range []string{`30`, `"x"`, `"d"`, `"1.5d"`} {
		var d Duration
		if err := json.Unmarshal([]byte(bad), &d); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "a", "b")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	cdk := `{"app": "x", "context": {"pushline": ` + good + `}}`
	if err := os.WriteFile(filepath.Join(dir, "cdk.json"), []byte(cdk), 0o644); err != nil {
		t.Fatal(err)
	}
	other := strings.Replace(good, `"name": "app"`, `"name": "other"`, 1)
	file := filepath.Join(dir, "p.json")
	if err := os.WriteFile(file, []byte(other), 0o644); err != nil {
		t.Fatal(err)
	}
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

	tests := []struct {
		name    string
		env     map[string]string
		dir     string
		want    string // pipeline name
		wantErr string
	}{
		{name: "cdk.json in a parent", dir: sub, want: "app"},
		{name: "PUSHLINE_CONFIG wins", env: map[string]string{EnvConfigFile: file}, dir: sub, want: "other"},
		{name: "PUSHLINE_CONFIG_JSON wins", env: map[string]string{EnvConfigFile: file, EnvConfigJSON: strings.Replace(good, `"app"`, `"third"`, 1)}, dir: sub, want: "third"},
		{name: "missing file", env: map[string]string{EnvConfigFile: filepath.Join(dir, "nope.json")}, dir: sub, wantErr: "read PUSHLINE_CONFIG: open " + filepath.Join(dir, "nope.json") + ": no such file or directory"},
		{name: "invalid JSON env", env: map[string]string{EnvConfigJSON: `{"name": 1}`}, dir: sub, wantErr: "config from PUSHLINE_CONFIG_JSON:\nname: must be a string, got a number\nrepositories: required: at least one repository\nstages: required: at least one stage, of which one build stage (with a buildspec)"},
		{name: "no cdk.json", dir: t.TempDir(), wantErr: `no pipeline config: set PUSHLINE_CONFIG or PUSHLINE_CONFIG_JSON, or run in a directory (or below one) with a cdk.json whose context has a "pushline" key`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, _, err := load(env(tt.env), tt.dir)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v\nwant %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Name != tt.want {
				t.Errorf("name = %q, want %q", cfg.Name, tt.want)
			}
		})
	}
}

func TestLoadRepoCDKJSON(t *testing.T) {
	// The repository's own cdk.json must hold a valid config.
	cfg, src, err := load(func(string) string { return "" }, ".")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(src, `cdk.json context "pushline"`) || cfg.Name == "" {
		t.Errorf("src = %q, cfg = %+v", src, cfg)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(good))
	f.Add([]byte(`{"name":"a","repositories":[{"provider":"gitea","repository":"o/r"}],"stages":[{"name":"B","buildspec":"b.yml"}]}`))
	f.Add([]byte(`{"stages":[{"approval":{"approvers":[1]}}]}`))
	f.Add([]byte(`{"a":{"b":[[[[]]]]}}`))
	f.Add([]byte(second))
	f.Add([]byte(`{"name":"a","repositories":[{"provider":"gitea","repository":"o/r","branches":[]}],"stages":[{"name":"B","buildspec":"b.yml","environment":{}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(data)
		if err != nil {
			if !errors.Is(err, ErrInvalid) || err.Error() == "" {
				t.Fatalf("bad error %v", err)
			}
			return
		}
		// A valid config round-trips.
		out, err := json.Marshal(cfg)
		if err != nil {
			t.Fatal(err)
		}
		again, err := Parse(out)
		if err != nil {
			t.Fatalf("re-parse %s: %v", out, err)
		}
		// Deprecated keys were rewritten, so the second parse warns no more.
		if d := cmp.Diff(cfg, again, cmpopts.IgnoreFields(Config{}, "Warnings")); d != "" {
			t.Fatalf("round trip (-first +second):\n%s", d)
		}
	})
}

func BenchmarkParse(b *testing.B) {
	data := []byte(good)
	for b.Loop() {
		if _, err := Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}
