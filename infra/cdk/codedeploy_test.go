package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pushline/pushline/infra/cdk/stack"
	"github.com/pushline/pushline/shared/statemachine"
)

// TestCodeCommitDeployVariant synthesizes a pipeline started by a
// CodeCommit repository with a CodeDeploy stage (cdk-nag must pass) and
// checks the rule, the least IAM and the definition.
func TestCodeCommitDeployVariant(t *testing.T) {
	synthesized(t)
	vcfg := variantConfig(t, "codecommit-deploy.json")
	synthVariant(t, stack.Options{Config: vcfg})
	repoArn := `{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":codecommit:",{"Ref":"AWS::Region"},":",{"Ref":"AWS::AccountId"},":shop"]]}`
	groupArn := `{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":codedeploy:",{"Ref":"AWS::Region"},":",{"Ref":"AWS::AccountId"},":deploymentgroup:shop/prod"]]}`
	appArn := `{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":codedeploy:",{"Ref":"AWS::Region"},":",{"Ref":"AWS::AccountId"},":application:shop"]]}`

	// The rule: CodeCommit's reference changes of this repository.
	_, rule := one(t, "AWS::Events::Rule", "CodeCommitRule")
	pattern := get(rule, "EventPattern")
	jsonEq(t, "rule source", get(pattern, "source"), []any{"aws.codecommit"})
	jsonEq(t, "rule detail-type", get(pattern, "detail-type"), []any{"CodeCommit Repository State Change"})
	jsonEq(t, "rule detail", get(pattern, "detail"), map[string]any{"event": []any{"referenceCreated", "referenceUpdated"}, "referenceType": []any{"branch", "tag"}})
	if got := toJSON(get(pattern, "resources")); got != "["+repoArn+"]" {
		t.Errorf("rule resources %s", got)
	}
	if rule["EventBusName"] != nil {
		t.Errorf("rule on bus %v, want the default bus (CodeCommit's)", rule["EventBusName"])
	}
	fnID, fn := one(t, "AWS::Lambda::Function", "Codecommit")
	if target := toJSON(get(rule, "Targets", 0, "Arn")); target != toJSON(arnOf(fnID)) {
		t.Errorf("rule target %s, want the codecommit function", target)
	}

	// The codecommit function: start executions, read commits of this repository only.
	var read []statement
	for _, s := range rolePolicy(roleOf(t, fn, "Role")) {
		if s.Sid == "ReadPushedCommits" {
			read = append(read, s)
		}
	}
	if d := cmp.Diff([]statement{{Sid: "ReadPushedCommits", Actions: strs("codecommit:GetCommit", "codecommit:GetDifferences"), Resources: strs(repoArn)}}, read); d != "" {
		t.Errorf("codecommit function's CodeCommit access (-want +got):\n%s", d)
	}
	if acts := actions(roleOf(t, fn, "Role")); !slices.Contains(acts, "states:StartExecution") || slices.Contains(acts, "codecommit:GitPull") {
		t.Errorf("codecommit function actions %v", acts)
	}
	_, src := one(t, "AWS::Lambda::Function", "Source")
	var snap []statement
	for _, s := range rolePolicy(roleOf(t, src, "Role")) {
		if strings.HasPrefix(s.Sid, "ReadCodeCommit") {
			snap = append(snap, s)
		}
	}
	if d := cmp.Diff([]statement{{Sid: "ReadCodeCommitSnapshots", Actions: strs("codecommit:GetFile", "codecommit:GetFolder"), Resources: strs(repoArn)}}, snap); d != "" {
		t.Errorf("source function's CodeCommit access (-want +got):\n%s", d)
	}

	// The state machine: deployments on the named group only; no project for the deploy stage.
	_, sm := one(t, "AWS::StepFunctions::StateMachine", "StateMachine")
	var deploy []statement
	for _, s := range rolePolicy(roleOf(t, sm, "RoleArn")) {
		if strings.Contains(strings.Join(s.Actions, " "), "codedeploy:") {
			deploy = append(deploy, s)
		}
	}
	configs := `{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":codedeploy:",{"Ref":"AWS::Region"},":",{"Ref":"AWS::AccountId"},":deploymentconfig:*"]]}`
	want := []statement{
		{Sid: "RunDeployments", Actions: strs("codedeploy:CreateDeployment", "codedeploy:GetDeployment", "codedeploy:StopDeployment"), Resources: strs(groupArn)},
		{Sid: "RegisterRevisions", Actions: strs("codedeploy:GetApplicationRevision", "codedeploy:RegisterApplicationRevision"), Resources: strs(appArn)},
		{Sid: "ReadDeploymentConfigs", Actions: strs("codedeploy:GetDeploymentConfig"), Resources: strs(configs)},
	}
	if d := cmp.Diff(want, deploy); d != "" {
		t.Errorf("state machine's CodeDeploy access (-want +got):\n%s", d)
	}
	if n := len(resources("AWS::CodeBuild::Project")); n != 1 {
		t.Errorf("%d CodeBuild projects, want 1 (Build; Deploy is CodeDeploy's)", n)
	}
	if diff := cmp.Diff(sorted(statemachine.Keys(vcfg)...), sortedKeys(get(sm, "DefinitionSubstitutions"))); diff != "" {
		t.Errorf("DefinitionSubstitutions keys (-want +got):\n%s", diff)
	}
	if got := toJSON(get(sm, "DefinitionSubstitutions", statemachine.KeyDeployConsoleURL)); !strings.Contains(got, ".console.aws.amazon.com/codesuite/codedeploy/deployments/") {
		t.Errorf("console link %s", got)
	}
	def, err := statemachine.Generate(vcfg)
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]string{}
	for _, k := range statemachine.Keys(vcfg) {
		values[k] = "x"
	}
	filled, err := statemachine.Substitute(def, values)
	if err != nil {
		t.Fatal(err)
	}
	aslValidate(t, filled)
}
