package config

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// second is a valid config using the second wave's keys: actions, inputs,
// secrets, privileged, image, pull requests, statuses, apiUrl,
// codecommit and a deploy stage.
const second = `{
  "name": "app",
  "repositories": [
    {"provider": "github", "repository": "acme/app", "statuses": false,
     "pullRequests": {"branches": ["main"], "forks": true, "stages": ["Build", "Checks"]}},
    {"provider": "gitea", "repository": "acme/web", "apiUrl": "http://127.0.0.1:3000/api/v1", "pullRequests": {}},
    {"provider": "codecommit", "repository": "app-repo", "cloneUrl": "file:///srv/git/app.git"}
  ],
  "stages": [
    {"name": "Build", "buildspec": "ci/build.yml", "secrets": ["prod/db", "/app/token"], "privileged": true,
     "image": "public.ecr.aws/docker/library/golang:1.24"},
    {"name": "Checks", "actions": [
      {"name": "Unit", "buildspec": "ci/unit.yml", "inputs": ["Build"]},
      {"name": "Lint", "buildspec": "ci/lint.yml", "timeout": "10m", "computeType": "BUILD_GENERAL1_MEDIUM"}
    ]},
    {"name": "Package", "buildspec": "ci/package.yml", "inputs": ["Build", "Unit"]},
    {"name": "Approve", "approval": {"approvers": ["ops@example.com"]}},
    {"name": "Deploy", "deploy": {"codedeploy": {"application": "app", "deploymentGroup": "prod", "input": "Package"}}}
  ],
  "notifications": {"from": "pushline@example.com"}
}`

func TestParseSecondWave(t *testing.T) {
	cfg, err := Parse([]byte(second))
	if err != nil {
		t.Fatal(err)
	}
	off := false
	hour := Duration{DefaultBuildTimeout}
	want := &Config{
		Name: "app",
		Repositories: []Repository{
			{Provider: "github", Repository: "acme/app", Statuses: &off,
				PullRequests: &PullRequests{Branches: []string{"main"}, Forks: true, Stages: []string{"Build", "Checks"}}},
			{Provider: "gitea", Repository: "acme/web", APIURL: "http://127.0.0.1:3000/api/v1", PullRequests: &PullRequests{}},
			{Provider: "codecommit", Repository: "app-repo", CloneURL: "file:///srv/git/app.git"},
		},
		Mode: ModeSuperseded,
		Stages: []Stage{
			{Name: "Build", Build: Build{Buildspec: "ci/build.yml", Timeout: hour, Secrets: []string{"prod/db", "/app/token"},
				Privileged: true, Image: "public.ecr.aws/docker/library/golang:1.24"}},
			{Name: "Checks", Actions: []Action{
				{Name: "Unit", Build: Build{Buildspec: "ci/unit.yml", Timeout: hour, Inputs: []string{"Build"}}},
				{Name: "Lint", Build: Build{Buildspec: "ci/lint.yml", Timeout: Duration{10 * time.Minute}, ComputeType: "BUILD_GENERAL1_MEDIUM"}},
			}},
			{Name: "Package", Build: Build{Buildspec: "ci/package.yml", Timeout: hour, Inputs: []string{"Build", "Unit"}}},
			{Name: "Approve", Approval: &Approval{Approvers: []string{"ops@example.com"}, Timeout: Duration{DefaultApprovalTimeout}}},
			{Name: "Deploy", Deploy: &Deploy{CodeDeploy: &CodeDeploy{Application: "app", DeploymentGroup: "prod", Input: "Package"}}},
		},
		Notifications: Notifications{From: "pushline@example.com"},
	}
	if d := cmp.Diff(want, cfg); d != "" {
		t.Errorf("Parse (-want +got):\n%s", d)
	}
	builds := cfg.Builds()
	var got []string
	for _, b := range builds {
		got = append(got, b.Stage+"/"+b.Name)
	}
	if d := cmp.Diff([]string{"Build/Build", "Checks/Unit", "Checks/Lint", "Package/Package"}, got); d != "" {
		t.Errorf("Builds (-want +got):\n%s", d)
	}
	if !cfg.HasPullRequests() {
		t.Error("HasPullRequests = false")
	}
}

func TestDeprecatedInput(t *testing.T) {
	tests := []struct {
		name       string
		input      string // stages[1].input
		wantInputs []string
		warning    string
	}{
		{"earlier build", "Build", []string{"Build"},
			`stages[1].input is deprecated and goes in the next release: write "inputs": ["Build"] (the build's primary source is now always the commit's snapshot; Build's artifact is unpacked at $CODEBUILD_SRC_DIR_Build)`},
		{"source", "Source", nil,
			`stages[1].input is deprecated and goes in the next release: remove "input": "Source" (every build's primary source is now the commit's snapshot)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := base()
			stage(m, 1)["input"] = tt.input
			data, _ := json.Marshal(m)
			cfg, err := Parse(data)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.wantInputs, cfg.Stages[1].Inputs); d != "" {
				t.Errorf("inputs (-want +got):\n%s", d)
			}
			if cfg.Stages[1].Input != "" {
				t.Errorf("input = %q, want it folded into inputs", cfg.Stages[1].Input)
			}
			if d := cmp.Diff([]string{tt.warning}, cfg.Warnings); d != "" {
				t.Errorf("warnings (-want +got):\n%s", d)
			}
		})
	}
	t.Run("dashed name", func(t *testing.T) {
		m := base()
		stage(m, 0)["name"] = "go-build"
		stage(m, 1)["input"] = "go-build"
		data, _ := json.Marshal(m)
		cfg, err := Parse(data)
		if err != nil {
			t.Fatal(err)
		}
		if len(cfg.Warnings) != 1 || !strings.HasSuffix(cfg.Warnings[0], "go-build's artifact is unpacked at $CODEBUILD_SRC_DIR_go_build)") {
			t.Errorf("warnings = %q", cfg.Warnings)
		}
	})
	t.Run("none without input", func(t *testing.T) {
		cfg, err := Parse([]byte(good))
		if err != nil || cfg.Warnings != nil {
			t.Errorf("warnings = %q, err = %v", cfg.Warnings, err)
		}
	})
}

func TestParseSecondWaveErrors(t *testing.T) {
	checks := func(m map[string]any) map[string]any { return stage(m, 1)["actions"].([]any)[0].(map[string]any) }
	lint := func(m map[string]any) map[string]any { return stage(m, 1)["actions"].([]any)[1].(map[string]any) }
	deploy := func(m map[string]any) map[string]any {
		return stage(m, 4)["deploy"].(map[string]any)["codedeploy"].(map[string]any)
	}
	prs := func(m map[string]any) map[string]any { return repo(m, 0)["pullRequests"].(map[string]any) }
	const afterChecks = `(allowed: Build, Unit, Lint: earlier build stages and actions)`
	const kinds = `(a stage has exactly one of: buildspec (a build), approval, actions (builds that run at the same time), deploy)`
	const secretRule = `(allowed: a Secrets Manager secret name such as "prod/db" or its ARN, or an SSM parameter name starting with "/" such as "/app/token" or its ARN)`
	tests := []struct {
		name string
		edit func(m map[string]any)
		want []string
	}{
		// inputs
		{name: "inputs later", edit: func(m map[string]any) { stage(m, 0)["inputs"] = []any{"Package"} },
			want: []string{`stages[0].inputs[0]: "Package" is a later stage (allowed: none yet: only earlier build stages and actions have artifacts)`}},
		{name: "inputs self", edit: func(m map[string]any) { stage(m, 2)["inputs"] = []any{"Package"} },
			want: []string{`stages[2].inputs[0]: "Package" is the stage itself ` + afterChecks}},
		{name: "inputs approval", edit: func(m map[string]any) {
			m["stages"] = append(m["stages"].([]any), map[string]any{"name": "After", "buildspec": "a.yml", "inputs": []any{"Approve"}})
		}, want: []string{`stages[5].inputs[0]: "Approve" is an approval stage, which has no artifact (allowed: Build, Unit, Lint, Package: earlier build stages and actions)`}},
		{name: "inputs deploy", edit: func(m map[string]any) {
			m["stages"] = append(m["stages"].([]any), map[string]any{"name": "After", "buildspec": "a.yml", "inputs": []any{"Deploy"}})
		}, want: []string{`stages[5].inputs[0]: "Deploy" is a deploy stage, which has no artifact (allowed: Build, Unit, Lint, Package: earlier build stages and actions)`}},
		{name: "inputs unknown", edit: func(m map[string]any) { stage(m, 2)["inputs"] = []any{"build"} },
			want: []string{`stages[2].inputs[0]: "build" is not a stage or action ` + afterChecks}},
		{name: "inputs source", edit: func(m map[string]any) { stage(m, 2)["inputs"] = []any{"Source"} },
			want: []string{`stages[2].inputs[0]: "Source" is the commit's snapshot, already every build's primary source ` + afterChecks}},
		{name: "inputs stage of actions", edit: func(m map[string]any) { stage(m, 2)["inputs"] = []any{"Checks"} },
			want: []string{`stages[2].inputs[0]: "Checks" is a stage of actions, each with its own artifact (name one: Unit, Lint) ` + afterChecks}},
		{name: "inputs sibling action", edit: func(m map[string]any) { checks(m)["inputs"] = []any{"Lint"} },
			want: []string{`stages[1].actions[0].inputs[0]: "Lint" is an action of the same stage, which runs at the same time (allowed: Build: earlier build stages and actions)`}},
		{name: "inputs own action", edit: func(m map[string]any) { checks(m)["inputs"] = []any{"Unit", "Checks"} },
			want: []string{
				`stages[1].actions[0].inputs[0]: "Unit" is the action itself (allowed: Build: earlier build stages and actions)`,
				`stages[1].actions[0].inputs[1]: "Checks" is the action's own stage (allowed: Build: earlier build stages and actions)`,
			}},
		{name: "inputs later action", edit: func(m map[string]any) { stage(m, 0)["inputs"] = []any{"Lint"} },
			want: []string{`stages[0].inputs[0]: "Lint" is an action of a later stage (allowed: none yet: only earlier build stages and actions have artifacts)`}},
		{name: "inputs duplicate", edit: func(m map[string]any) { stage(m, 2)["inputs"] = []any{"Build", "Build"} },
			want: []string{`stages[2].inputs[1]: "Build" duplicates inputs[0]`}},
		{name: "inputs too many", edit: func(m map[string]any) {
			var ins []any
			for range MaxInputs + 1 {
				ins = append(ins, "Build")
			}
			stage(m, 2)["inputs"] = ins
		}, want: append([]string{`stages[2].inputs: 13 inputs (allowed: at most 12, CodeBuild's secondary sources)`},
			func() []string {
				var w []string
				for i := 1; i <= MaxInputs; i++ {
					w = append(w, `stages[2].inputs[`+itoa(i)+`]: "Build" duplicates inputs[0]`)
				}
				return w
			}()...)},
		{name: "inputs wrong type", edit: func(m map[string]any) { stage(m, 2)["inputs"] = "Build" },
			want: []string{`stages[2].inputs: must be an array of strings, got a string`}},
		{name: "input with inputs", edit: func(m map[string]any) { stage(m, 2)["input"] = "Build" },
			want: []string{`stages[2].input: set with inputs (input is deprecated: list its value in inputs)`}},
		{name: "input on an action", edit: func(m map[string]any) { checks(m)["input"] = "Build" },
			want: []string{`stages[1].actions[0].input: unknown key (allowed: name, buildspec, timeout, environment, computeType, inputs, secrets, privileged, image)`}},
		// actions
		{name: "actions empty", edit: func(m map[string]any) { stage(m, 1)["actions"] = []any{} },
			want: []string{
				`stages[1].actions: required: at least one action ({"name": …, "buildspec": …})`,
				`stages[2].inputs[1]: "Unit" is not a stage or action (allowed: Build: earlier build stages and actions)`,
			}},
		{name: "actions not an array", edit: func(m map[string]any) { stage(m, 1)["actions"] = map[string]any{} },
			want: []string{
				`stages[1].actions: must be an array of actions, got an object`,
				`stages[2].inputs[1]: "Unit" is not a stage or action (allowed: Build: earlier build stages and actions)`,
			}},
		{name: "action unknown key", edit: func(m map[string]any) { checks(m)["approval"] = map[string]any{} },
			want: []string{`stages[1].actions[0].approval: unknown key (allowed: name, buildspec, timeout, environment, computeType, inputs, secrets, privileged, image)`}},
		{name: "action without buildspec", edit: func(m map[string]any) { delete(checks(m), "buildspec") },
			want: []string{`stages[1].actions[0].buildspec: required (a path in the commit, e.g. "ci/lint.yml")`}},
		{name: "action bad values", edit: func(m map[string]any) {
			a := checks(m)
			a["buildspec"] = "/etc/passwd"
			a["timeout"] = "1m"
			a["computeType"] = "HUGE"
			a["environment"] = map[string]any{"PUSHLINE_X": "1"}
		}, want: []string{
			`stages[1].actions[0].buildspec: "/etc/passwd" must be a path inside the repository (e.g. "buildspec.yml", "ci/test.yml")`,
			`stages[1].actions[0].timeout: "1m" is out of range (allowed: 5m to 36h, CodeBuild's limits)`,
			`stages[1].actions[0].computeType: "HUGE" is not a CodeBuild compute type (allowed: BUILD_GENERAL1_SMALL, BUILD_GENERAL1_MEDIUM, BUILD_GENERAL1_LARGE, BUILD_GENERAL1_XLARGE, BUILD_GENERAL1_2XLARGE, BUILD_LAMBDA_1GB, BUILD_LAMBDA_2GB, BUILD_LAMBDA_4GB, BUILD_LAMBDA_8GB, BUILD_LAMBDA_10GB)`,
			`stages[1].actions[0].environment.PUSHLINE_X: reserved name (CodeBuild sets CODEBUILD_* and pushline sets PUSHLINE_* variables)`,
		}},
		{name: "action name missing", edit: func(m map[string]any) { delete(lint(m), "name") },
			want: []string{`stages[1].actions[1].name: required (1 to 32 letters, digits, '-' and '_', starting with a letter)`}},
		{name: "action name invalid", edit: func(m map[string]any) { lint(m)["name"] = "unit tests" },
			want: []string{`stages[1].actions[1].name: "unit tests" is not a valid action name (1 to 32 letters, digits, '-' and '_', starting with a letter; it names a state, a CodeBuild project and an artifact)`}},
		{name: "action name duplicates a stage", edit: func(m map[string]any) { lint(m)["name"] = "BUILD" },
			want: []string{`stages[1].actions[1].name: "BUILD" duplicates stages[0] "Build" (stage and action names must be unique, ignoring case)`}},
		{name: "action names duplicate", edit: func(m map[string]any) { lint(m)["name"] = "unit" },
			want: []string{`stages[1].actions[1].name: "unit" duplicates stages[1].actions[0] "Unit" (stage and action names must be unique, ignoring case)`}},
		{name: "stage name duplicates an action", edit: func(m map[string]any) { stage(m, 3)["name"] = "Lint" },
			want: []string{`stages[3].name: "Lint" duplicates stages[1].actions[1] "Lint" (stage and action names must be unique, ignoring case)`}},
		{name: "action key collides", edit: func(m map[string]any) { lint(m)["name"] = "Pack_age" },
			want: []string{`stages[2].name: "Package" collides with stages[1].actions[1] "Pack_age" (names must differ in more than '-', '_' and case)`}},
		{name: "action reserved name", edit: func(m map[string]any) { lint(m)["name"] = "Source" },
			want: []string{`stages[1].actions[1].name: "Source" is reserved for the source step (choose another name)`}},
		{name: "too many actions", edit: func(m map[string]any) {
			var as []any
			for i := range MaxActions + 1 {
				as = append(as, map[string]any{"name": "A" + itoa(i), "buildspec": "a.yml"})
			}
			stage(m, 1)["actions"] = as
			stage(m, 2)["inputs"] = []any{"Build"}
		}, want: []string{`stages[1].actions: 9 actions (allowed: at most 8)`}},
		{name: "build keys on a stage of actions", edit: func(m map[string]any) {
			s := stage(m, 1)
			s["timeout"] = "10m"
			s["environment"] = map[string]any{"A": "b"}
			s["secrets"] = []any{"x"}
			s["privileged"] = true
		}, want: []string{
			`stages[1].timeout: only build stages and actions have timeout (set it on each action)`,
			`stages[1].environment: only build stages and actions have environment (set it on each action)`,
			`stages[1].secrets: only build stages and actions have secrets (set it on each action)`,
			`stages[1].privileged: only build stages and actions have privileged (set it on each action)`,
		}},
		{name: "zero timeout on a stage of actions", edit: func(m map[string]any) { stage(m, 1)["timeout"] = "0s" },
			want: []string{`stages[1].timeout: only build stages and actions have timeout (set it on each action)`}},
		// kinds
		{name: "buildspec and actions", edit: func(m map[string]any) { stage(m, 1)["buildspec"] = "b.yml" },
			want: []string{`stages[1]: buildspec and actions together ` + kinds}},
		{name: "approval and deploy", edit: func(m map[string]any) { stage(m, 4)["approval"] = map[string]any{"approvers": []any{"a@b.c"}} },
			want: []string{`stages[4]: approval and deploy together ` + kinds}},
		{name: "no kind", edit: func(m map[string]any) { delete(stage(m, 1), "actions") },
			want: []string{
				`stages[1]: none of buildspec, approval, actions, deploy ` + kinds,
				`stages[2].inputs[1]: "Unit" is not a stage or action (allowed: Build: earlier build stages and actions)`,
			}},
		// secrets, privileged, image
		{name: "secrets", edit: func(m map[string]any) {
			stage(m, 0)["secrets"] = []any{"prod/db", "prod db", "/app/token", "prod/db", "arn:aws:s3:::bucket", "app/", "//x"}
		}, want: []string{
			`stages[0].secrets[1]: "prod db" is not a secret ` + secretRule,
			`stages[0].secrets[3]: "prod/db" duplicates secrets[0]`,
			`stages[0].secrets[4]: "arn:aws:s3:::bucket" is not a secret ` + secretRule,
			`stages[0].secrets[6]: "//x" is not a secret ` + secretRule,
		}},
		{name: "privileged not a boolean", edit: func(m map[string]any) { stage(m, 0)["privileged"] = "yes" },
			want: []string{`stages[0].privileged: must be true or false, got a string`}},
		{name: "image", edit: func(m map[string]any) { stage(m, 0)["image"] = "golang 1.24" },
			want: []string{`stages[0].image: "golang 1.24" is not an image (allowed: a CodeBuild image such as "aws/codebuild/standard:7.0", or a registry image such as "public.ecr.aws/docker/library/golang:1.24")`}},
		// deploy
		{name: "deploy without codedeploy", edit: func(m map[string]any) { stage(m, 4)["deploy"] = map[string]any{} },
			want: []string{`stages[4].deploy.codedeploy: required (the deploy provider: {"application", "deploymentGroup", "input"})`}},
		{name: "deploy unknown key", edit: func(m map[string]any) { stage(m, 4)["deploy"].(map[string]any)["ecs"] = map[string]any{} },
			want: []string{`stages[4].deploy.ecs: unknown key (allowed: codedeploy)`}},
		{name: "codedeploy unknown key", edit: func(m map[string]any) { deploy(m)["inputs"] = []any{} },
			want: []string{`stages[4].deploy.codedeploy.inputs: unknown key (allowed: application, deploymentGroup, input)`}},
		{name: "codedeploy missing", edit: func(m map[string]any) { stage(m, 4)["deploy"] = map[string]any{"codedeploy": map[string]any{}} },
			want: []string{
				`stages[4].deploy.codedeploy.application: required (a CodeDeploy application name)`,
				`stages[4].deploy.codedeploy.deploymentGroup: required (a CodeDeploy deployment group name)`,
				`stages[4].deploy.codedeploy.input: required (the build stage or action whose artifact, a zip holding appspec.yml, is deployed)`,
			}},
		{name: "codedeploy bad values", edit: func(m map[string]any) {
			d := deploy(m)
			d["application"] = "my app"
			d["deploymentGroup"] = strings.Repeat("g", 101)
			d["input"] = "Approve"
		}, want: []string{
			`stages[4].deploy.codedeploy.application: "my app" is not a CodeDeploy application name (allowed: 1 to 100 letters, digits and . _ + = , @ -)`,
			`stages[4].deploy.codedeploy.deploymentGroup: "` + strings.Repeat("g", 64) + `…" is not a CodeDeploy deployment group name (allowed: 1 to 100 letters, digits and . _ + = , @ -)`,
			`stages[4].deploy.codedeploy.input: "Approve" is an approval stage, which has no artifact (allowed: Build, Unit, Lint, Package: earlier build stages and actions)`,
		}},
		{name: "codedeploy input itself", edit: func(m map[string]any) { deploy(m)["input"] = "Deploy" },
			want: []string{`stages[4].deploy.codedeploy.input: "Deploy" is the stage itself (allowed: Build, Unit, Lint, Package: earlier build stages and actions)`}},
		{name: "build keys on a deploy stage", edit: func(m map[string]any) { stage(m, 4)["image"] = "x"; stage(m, 4)["timeout"] = "1h" },
			want: []string{
				`stages[4].timeout: only build stages and actions have timeout`,
				`stages[4].image: only build stages and actions have image`,
			}},
		// repositories
		{name: "pullRequests unknown key", edit: func(m map[string]any) { prs(m)["drafts"] = true },
			want: []string{`repositories[0].pullRequests.drafts: unknown key (allowed: branches, forks, stages)`}},
		{name: "pullRequests bad values", edit: func(m map[string]any) {
			p := prs(m)
			p["branches"] = []any{"a***"}
			p["forks"] = "no"
			p["stages"] = []any{"Build", "Unit", "Biuld", "Build"}
		}, want: []string{
			`repositories[0].pullRequests.forks: must be true or false, got a string`,
			`repositories[0].pullRequests.branches[0]: bad glob "a***": more than two '*' in a row (allowed: * within a path segment, ** across segments, ? one character, \ escapes)`,
			`repositories[0].pullRequests.stages[1]: "Unit" is an action of stage "Checks" (name the stage) (allowed: Build, Checks, Package, Approve, Deploy)`,
			`repositories[0].pullRequests.stages[2]: "Biuld" is not a stage (allowed: Build, Checks, Package, Approve, Deploy)`,
			`repositories[0].pullRequests.stages[3]: "Build" duplicates stages[0]`,
		}},
		{name: "pullRequests skip an input", edit: func(m map[string]any) { prs(m)["stages"] = []any{"Package", "Deploy"} },
			want: []string{
				`repositories[0].pullRequests.stages: "Package" takes "Build"'s artifact, but pull requests skip "Build" (run it too)`,
				`repositories[0].pullRequests.stages: "Package" takes "Unit"'s artifact, but pull requests skip "Checks" (run it too)`,
			}},
		{name: "pullRequests on codecommit", edit: func(m map[string]any) { repo(m, 2)["pullRequests"] = map[string]any{} },
			want: []string{`repositories[2].pullRequests: not supported for codecommit (pull requests run on github, gitlab, bitbucket and gitea)`}},
		{name: "statuses not a boolean", edit: func(m map[string]any) { repo(m, 0)["statuses"] = "off" },
			want: []string{`repositories[0].statuses: must be true or false, got a string`}},
		{name: "apiUrl", edit: func(m map[string]any) {
			repo(m, 0)["apiUrl"] = "http://git.example.com/api/v1"
			repo(m, 1)["apiUrl"] = "https://user:pw@git.example.com/api"
		}, want: []string{
			`repositories[0].apiUrl: "http://git.example.com/api/v1" is not supported (allowed: an https:// URL such as "https://git.example.com/api/v1", or http:// on a loopback host such as "http://127.0.0.1:3000/api/v1")`,
			`repositories[1].apiUrl: "https://user:pw@git.example.com/api" is not supported (allowed: an https:// URL such as "https://git.example.com/api/v1", or http:// on a loopback host such as "http://127.0.0.1:3000/api/v1")`,
		}},
		{name: "apiUrl on codecommit", edit: func(m map[string]any) { repo(m, 2)["apiUrl"] = "https://x.example.com" },
			want: []string{`repositories[2].apiUrl: codecommit has no commit statuses API (remove apiUrl)`}},
		{name: "codecommit repository", edit: func(m map[string]any) {
			repo(m, 2)["repository"] = "acme/app"
			m["repositories"] = append(m["repositories"].([]any), map[string]any{"provider": "codecommit", "repository": "app.git"})
		}, want: []string{
			`repositories[2].repository: "acme/app" is not a CodeCommit repository name (allowed: 1 to 100 letters, digits, '.', '-', '_', not ending in ".git")`,
			`repositories[3].repository: "app.git" is not a CodeCommit repository name (allowed: 1 to 100 letters, digits, '.', '-', '_', not ending in ".git")`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m map[string]any
			if err := json.Unmarshal([]byte(second), &m); err != nil {
				t.Fatal(err)
			}
			tt.edit(m)
			data, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			_, err = Parse(data)
			if err == nil {
				t.Fatal("Parse succeeded")
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("errors.Is(err, ErrInvalid) = false")
			}
			if d := cmp.Diff(tt.want, strings.Split(err.Error(), "\n")); d != "" {
				t.Errorf("errors (-want +got):\n%s", d)
			}
		})
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestSecretKind(t *testing.T) {
	for in, want := range map[string]string{
		"prod/db":    SecretsManager,
		"my-secret":  SecretsManager,
		"/app/token": Parameter,
		"arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf": SecretsManager,
		"arn:aws:ssm:eu-west-1:123456789012:parameter/app/token":              Parameter,
		"arn:aws-us-gov:ssm:us-gov-west-1:123456789012:parameter/x":           Parameter,
		"":                          "",
		"a b":                       "",
		"/":                         "",
		"/app//token":               "",
		"arn:aws:s3:::bucket":       "",
		"arn:aws:ssm:eu-west-1:1:x": "",
	} {
		if got := SecretKind(in); got != want {
			t.Errorf("SecretKind(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPullRequestSkip(t *testing.T) {
	cfg, err := Parse([]byte(second))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		repo Repository
		want map[string]bool
	}{
		{"listed stages", cfg.Repositories[0], map[string]bool{"Package": true, "Approve": true, "Deploy": true}},
		{"default: from the first approval on", cfg.Repositories[1], map[string]bool{"Approve": true, "Deploy": true}},
		{"no pullRequests: the default too", cfg.Repositories[2], map[string]bool{"Approve": true, "Deploy": true}},
		{"every stage listed", Repository{PullRequests: &PullRequests{Stages: []string{"Build", "Checks", "Package", "Approve", "Deploy"}}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if d := cmp.Diff(tt.want, cfg.PullRequestSkip(tt.repo)); d != "" {
				t.Errorf("PullRequestSkip (-want +got):\n%s", d)
			}
		})
	}
	noApproval := &Config{Stages: []Stage{{Name: "Build", Build: Build{Buildspec: "b.yml"}}}}
	if got := noApproval.PullRequestSkip(Repository{}); got != nil {
		t.Errorf("no approval: skip %v, want nil", got)
	}
}
