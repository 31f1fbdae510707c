package main

import (
	"encoding/json"
	"errors"
	"os"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/google/go-cmp/cmp"

	"github.com/pushline/pushline/shared/config"

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

// TestMaxBuildsFit synthesizes the largest stack New accepts (as many
// builds as the config's 3 KB of Lambda environment and MaxBuilds allow,
// queued mode, provider tokens: every optional function) and checks it
// stays within CloudFormation's 500 resources a stack.
func TestMaxBuildsFit(t *testing.T) {
	synthesized(t)
	if testing.Short() {
		t.Skip("-short: skipping the synthesis of the largest stack")
	}
	wd, _ := os.Getwd()
	ctx, err := cdkContext(wd) // cdk.json's feature flags
	if err != nil {
		t.Fatal(err)
	}
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir()), Context: &ctx})
	var b *stack.Built
	n := stack.MaxBuilds
	for ; n > 0; n-- {
		c := manyBuilds(t, n)
		c.Mode = config.ModeQueued
		// New refuses a config too large before it adds anything to app.
		if b, err = stack.New(app, stack.Options{Config: c, AssetDir: assetDir, ProviderTokens: "create"}); err == nil {
			break
		} else if !errors.Is(err, stack.ErrOptions) {
			t.Fatal(err)
		}
	}
	if b == nil {
		t.Fatal("New accepts no config of manyBuilds")
	}
	tpl := assertions.Template_FromStack(b.Stack, nil)
	resources, _ := (*tpl.ToJSON())["Resources"].(map[string]any)
	if len(resources) > 500 {
		t.Errorf("%d builds: %d resources; CloudFormation allows 500 a stack", n, len(resources))
	}
	// Not asserted: the template's size. At 72 builds it is 1.16 MB of
	// compact JSON (the state machine definition 0.54 MB), over
	// CloudFormation's 1 MB (an open problem).
	raw, _ := json.Marshal(tpl.ToJSON())
	t.Logf("%d builds: %d resources, template %d bytes", n, len(resources), len(raw))
}
