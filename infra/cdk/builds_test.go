package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pushline/pushline/infra/cdk/stack"
	"github.com/pushline/pushline/shared/statemachine"
)

// TestBuildCacheAndReports: every build project has its own S3 cache (a
// prefix of the artifact bucket only its role may read and write) and its
// own test report group (named to the build by PUSHLINE_REPORT_GROUP),
// whose reports only its role may write.
func TestBuildCacheAndReports(t *testing.T) {
	synthesized(t)
	bucket, _ := one(t, "AWS::S3::Bucket", "Artifacts")
	builds := cfg.Builds()
	if got := len(resources("AWS::CodeBuild::ReportGroup")); got != len(builds) {
		t.Errorf("%d report groups, want %d (one per build)", got, len(builds))
	}
	for _, bd := range builds {
		t.Run(bd.Name, func(t *testing.T) {
			key := statemachine.ProjectKey(bd.Name)
			_, p := one(t, "AWS::CodeBuild::Project", key)
			groupID, group := one(t, "AWS::CodeBuild::ReportGroup", key+"Reports")
			jsonEq(t, "report group", map[string]any{"Type": group["Type"], "DeleteReports": group["DeleteReports"], "Export": get(group, "ExportConfig", "ExportConfigType")},
				map[string]any{"Type": "TEST", "DeleteReports": true, "Export": "NO_EXPORT"})
			prefix := "_cache/" + bd.Name
			jsonEq(t, "cache", p["Cache"], map[string]any{"Type": "S3", "Location": map[string]any{"Fn::Join": []any{"/", []any{ref(bucket), prefix}}}})
			jsonEq(t, stack.ReportGroupVariable, get(p, "Environment", "EnvironmentVariables"),
				[]any{map[string]any{"Name": stack.ReportGroupVariable, "Type": "PLAINTEXT", "Value": arnOf(groupID)}})
			want := map[string]statement{
				"ReadWriteCache": {Actions: strs("s3:GetObject", "s3:PutObject"),
					Resources: strs(toJSON(map[string]any{"Fn::Join": []any{"", []any{arnOf(bucket), "/" + prefix + "/*"}}}))},
				"WriteTestReports": {Actions: strs("codebuild:BatchPutCodeCoverages", "codebuild:BatchPutTestCases", "codebuild:CreateReport", "codebuild:UpdateReport"),
					Resources: strs(toJSON(arnOf(groupID)))},
			}
			got := map[string]statement{}
			for _, s := range rolePolicy(roleOf(t, p, "ServiceRole")) {
				if _, ok := want[s.Sid]; ok {
					got[s.Sid] = statement{Actions: s.Actions, Resources: s.Resources}
				}
				for _, a := range s.Actions {
					if a == "codebuild:CreateReportGroup" {
						t.Errorf("statement %s lets the build create report groups", s.Sid)
					}
				}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("cache and report statements (-want +got):\n%s", diff)
			}
		})
	}
}
