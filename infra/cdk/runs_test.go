package main

import (
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestRunPages pins what the runs function (the run pages behind the API)
// may do, statement by statement: exactly the IAM docs/runs.md lists.
func TestRunPages(t *testing.T) {
	synthesized(t)
	machine := toJSON(map[string]any{"Fn::Join": []any{"", []any{"arn:", ref("AWS::Partition"), ":states:", ref("AWS::Region"), ":", ref("AWS::AccountId"), ":stateMachine:pushline-" + cfg.Name}}})
	executions := toJSON(map[string]any{"Fn::Join": []any{"", []any{"arn:", ref("AWS::Partition"), ":states:", ref("AWS::Region"), ":", ref("AWS::AccountId"), ":execution:pushline-" + cfg.Name + ":*"}}})
	bucket, _ := one(t, "AWS::S3::Bucket", "Artifacts")
	key, _ := one(t, "AWS::KMS::Key", "Key")
	logs, _ := one(t, "AWS::Logs::LogGroup", "BuildLogs")
	approvalKey, _ := one(t, "AWS::SecretsManager::Secret", "ApprovalKey")
	var projects []string
	for id := range resources("AWS::CodeBuild::Project") {
		projects = append(projects, toJSON(arnOf(id)))
	}
	sort.Strings(projects)

	_, fn := one(t, "AWS::Lambda::Function", "Runs")
	jsonEq(t, "PUSHLINE_APPROVAL_KEY_ARN", get(fn, "Environment", "Variables", "PUSHLINE_APPROVAL_KEY_ARN"), ref(approvalKey))
	if got := toJSON(get(fn, "Environment", "Variables", "PUSHLINE_STATE_MACHINE_ARN")); got != machine {
		t.Errorf("PUSHLINE_STATE_MACHINE_ARN = %s, want %s", got, machine)
	}
	if got := toJSON(get(fn, "Environment", "Variables", "PUSHLINE_PUBLIC_URL")); got != toJSON(get(template, "Outputs", "ApiUrl", "Value")) {
		t.Errorf("PUSHLINE_PUBLIC_URL = %s, want the API's URL (output ApiUrl)", got)
	}
	want := map[string]statement{
		"ListAndStartExecutions": {Actions: strs("states:ListExecutions", "states:StartExecution"), Resources: strs(machine)},
		"ReadExecutions":         {Actions: strs("states:DescribeExecution", "states:GetExecutionHistory"), Resources: strs(executions)},
		"ReadBuilds":             {Actions: strs("codebuild:BatchGetBuilds", "codebuild:ListBuildsForProject"), Resources: projects},
		"ReadBuildLogs":          {Actions: strs("logs:GetLogEvents"), Resources: strs(toJSON(arnOf(logs)))},
		"DownloadArtifacts": {Actions: strs("s3:GetObject"),
			Resources: strs(toJSON(map[string]any{"Fn::Join": []any{"", []any{arnOf(bucket), "/" + cfg.Name + "/*"}}}))},
		"DecryptArtifacts": {Actions: strs("kms:Decrypt"), Resources: strs(toJSON(arnOf(key)))},
		// CDK's grant to read the approval key secret (no sid).
		"": {Actions: strs("secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"), Resources: strs(toJSON(ref(approvalKey)))},
	}
	got := map[string]statement{}
	for _, s := range rolePolicy(roleOf(t, fn, "Role")) {
		if s.Sid == "WriteOwnLogs" {
			continue // every function's (TestFunctions)
		}
		sid := s.Sid
		s.Sid = ""
		got[sid] = s
	}
	// The map keys carry the sids.
	for sid, s := range want {
		s.Sid = ""
		want[sid] = s
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("runs role statements (-want +got):\n%s", diff)
	}
}
