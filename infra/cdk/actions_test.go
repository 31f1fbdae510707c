package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/google/go-cmp/cmp"

	"github.com/pushline/pushline/infra/cdk/stack"
	"github.com/pushline/pushline/shared/config"
	"github.com/pushline/pushline/shared/statemachine"
)

// TestActionsVariant synthesizes testdata/actions.json (a stage of
// actions, inputs, secrets, privileged mode, images): a project per build
// stage and action, inputs needing no IAM beyond reading the artifacts,
// exactly the listed secrets readable, and cdk-nag clean.
func TestActionsVariant(t *testing.T) {
	synthesized(t)
	acfg := variantConfig(t, "actions.json")
	b := synthVariant(t, stack.Options{Config: acfg})
	a := assertions.Annotations_FromStack(b.Stack)
	for _, m := range *a.FindWarning(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))) {
		//lint:ignore SA1019 the assertions API returns this type; its replacement is not in the Go bindings
		t.Errorf("cdk-nag warning %s: %v", *m.Id, m.Entry.Data)
	}

	// A project (and a role) per build stage and action.
	builds := acfg.Builds()
	if got := len(resources("AWS::CodeBuild::Project")); got != len(builds) {
		t.Errorf("%d projects, want %d", got, len(builds))
	}
	projects := map[string]map[string]any{}
	var arns []string
	for _, bd := range builds {
		id, p := one(t, "AWS::CodeBuild::Project", statemachine.ProjectKey(bd.Name))
		projects[bd.Name] = p
		arns = append(arns, toJSON(arnOf(id)))
	}
	_, sm := one(t, "AWS::StepFunctions::StateMachine", "StateMachine")
	if diff := cmp.Diff(sorted(statemachine.Keys(acfg)...), sortedKeys(get(sm, "DefinitionSubstitutions"))); diff != "" {
		t.Errorf("DefinitionSubstitutions keys (-want +got):\n%s", diff)
	}
	for _, s := range rolePolicy(roleOf(t, sm, "RoleArn")) {
		if s.Sid == "RunBuilds" {
			if diff := cmp.Diff(sorted(arns...), s.Resources); diff != "" {
				t.Errorf("RunBuilds resources (-want +got):\n%s", diff)
			}
		}
	}

	// Images and privileged mode.
	for name, want := range map[string]map[string]any{
		"Build":       {"Image": "public.ecr.aws/docker/library/docker:27", "PrivilegedMode": true},
		"Lint":        {"Image": "aws/codebuild/amazonlinux-x86_64-standard:5.0", "PrivilegedMode": false},
		"Unit":        {"Image": "aws/codebuild/standard:7.0", "PrivilegedMode": false},
		"Integration": {"Image": "aws/codebuild/standard:7.0", "PrivilegedMode": false},
	} {
		env := get(projects[name], "Environment")
		jsonEq(t, name+" environment", map[string]any{"Image": get(env, "Image"), "PrivilegedMode": get(env, "PrivilegedMode")}, want)
	}

	// Inputs are read like the commit's snapshot: no IAM beyond reading
	// the pipeline's objects. Without secrets, a build role is the same as
	// a build stage's in cdk.json.
	base := strs("codebuild:BatchPutCodeCoverages", "codebuild:BatchPutTestCases", "codebuild:CreateReport", "codebuild:UpdateReport",
		"kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*",
		"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents",
		"s3:GetBucket*", "s3:GetObject", "s3:GetObject*", "s3:GetObjectVersion", "s3:List*", "s3:PutObject")
	for _, name := range []string{"Unit", "Lint", "Deploy"} {
		if diff := cmp.Diff(base, actions(roleOf(t, projects[name], "ServiceRole"))); diff != "" {
			t.Errorf("%s role actions (-want +got):\n%s", name, diff)
		}
	}

	// Secrets: exactly the listed ones.
	secretARN := func(name string) string {
		return toJSON(map[string]any{"Fn::Join": []any{"", []any{"arn:", ref("AWS::Partition"), ":secretsmanager:", ref("AWS::Region"), ":", ref("AWS::AccountId"), ":secret:" + name + "-??????"}}})
	}
	paramARN := func(name string) string {
		return toJSON(map[string]any{"Fn::Join": []any{"", []any{"arn:", ref("AWS::Partition"), ":ssm:", ref("AWS::Region"), ":", ref("AWS::AccountId"), ":parameter/" + name}}})
	}
	for name, want := range map[string]map[string][]string{
		"Build": {"ReadSecrets": {secretARN("ci/registry")}},
		"Integration": {
			"ReadSecrets":    {"arn:aws:secretsmanager:eu-west-1:123456789012:secret:mono/it-db-AbCdEf"},
			"ReadParameters": {paramARN("mono/it/token")},
		},
	} {
		role := roleOf(t, projects[name], "ServiceRole")
		got := map[string][]string{}
		for _, s := range rolePolicy(role) {
			switch s.Sid {
			case "ReadSecrets", "ReadParameters":
				got[s.Sid] = s.Resources
			case "DecryptSecrets":
				if !slices.Equal(s.Actions, strs("kms:Decrypt")) || !slices.Equal(s.Resources, strs("*")) {
					t.Errorf("%s DecryptSecrets %+v", name, s)
				}
			}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s secret grants (-want +got):\n%s", name, diff)
		}
		cond := viaService(t, role)
		if !strings.Contains(cond, `secretsmanager.`) || !strings.Contains(cond, `ssm.`) {
			t.Errorf("%s DecryptSecrets condition %s, want kms:ViaService Secrets Manager and SSM", name, cond)
		}
		for _, a := range actions(role) {
			if strings.HasPrefix(a, "secretsmanager:") && a != "secretsmanager:GetSecretValue" || strings.HasPrefix(a, "ssm:") && a != "ssm:GetParameters" {
				t.Errorf("%s role allows %s", name, a)
			}
		}
	}

	def, err := statemachine.Generate(acfg)
	if err != nil {
		t.Fatal(err)
	}
	if get(sm, "DefinitionString") != string(def) {
		t.Error("DefinitionString is not statemachine.Generate(cfg)")
	}
}

// viaService returns the JSON of the condition of a role's DecryptSecrets
// statement.
func viaService(t *testing.T, role string) string {
	t.Helper()
	for _, p := range resources("AWS::IAM::Policy") {
		if toJSON(get(p, "Roles", 0)) != toJSON(ref(role)) {
			continue
		}
		for _, s := range get(p, "PolicyDocument", "Statement").([]any) {
			if get(s, "Sid") == "DecryptSecrets" {
				return toJSON(get(s, "Condition"))
			}
		}
	}
	t.Fatalf("%s: no DecryptSecrets statement", role)
	return ""
}

// manyBuilds is a valid config of n builds: stages of 8 actions.
func manyBuilds(t *testing.T, n int) *config.Config {
	t.Helper()
	c := &config.Config{Name: "wide", Repositories: []config.Repository{{Provider: "github", Repository: "acme/wide"}}}
	for i := 0; len(c.Builds()) < n; i++ {
		st := config.Stage{Name: fmt.Sprintf("S%02d", i)}
		for j := 0; j < config.MaxActions && len(c.Builds())+len(st.Actions) < n; j++ {
			st.Actions = append(st.Actions, config.Action{Name: fmt.Sprintf("S%02dA%d", i, j), Build: config.Build{Buildspec: "b.yml"}})
		}
		c.Stages = append(c.Stages, st)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	return c
}
