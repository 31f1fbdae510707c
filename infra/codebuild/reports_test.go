package codebuild

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pushline/pushline/infra/codebuild/testreport"
)

const junitFailing = `<?xml version="1.0"?>
<testsuite name="greet" tests="3">
  <testcase classname="greet" name="TestHello" time="0.1"/>
  <testcase classname="greet" name="TestBye" time="0.2"><failure message="expected bye, got hello">greet_test.go:9</failure></testcase>
  <testcase classname="greet" name="TestLater"><skipped/></testcase>
</testsuite>
`

func TestReports(t *testing.T) {
	h := newHarness(t)
	spec := `version: 0.2
phases:
  build:
    commands:
      - mkdir -p out/unit out/other && cp junit.xml out/unit/a.xml && cp cucumber.json out/other/features.json
      - echo "tests ran"; exit 1
reports:
  unit:
    files: ['**/*.xml']
    base-directory: out
  acceptance:
    files: [features.json]
    base-directory: 'out/oth*'
    file-format: CUCUMBERJSON
  coverage:
    files: [cover.xml]
    file-format: COBERTURAXML
  missing:
    files: ['nothing/*.xml']
`
	b, log := h.run(spec, map[string]file{
		"junit.xml":     {body: junitFailing},
		"cucumber.json": {body: `[{"name": "Login", "elements": [{"name": "ok", "type": "scenario", "steps": [{"name": "s", "result": {"status": "passed"}}]}]}]`},
	}, nil)
	if b.BuildStatus != StatusFailed {
		t.Fatalf("status %s\n%s", b.BuildStatus, log)
	}
	unitArn := "arn:aws:codebuild:us-east-1:000000000000:report/Build-unit:" + strings.TrimPrefix(b.Id, "Build:")
	accArn := "arn:aws:codebuild:us-east-1:000000000000:report/Build-acceptance:" + strings.TrimPrefix(b.Id, "Build:")
	if diff := cmp.Diff([]string{unitArn, accArn}, b.ReportArns); diff != "" {
		t.Errorf("ReportArns (-want +got):\n%s", diff)
	}
	for _, want := range []string{
		"Report Build-unit: FAILED, 3 tests: 1 succeeded, 1 failed, 0 errors, 1 skipped",
		"Report Build-acceptance: SUCCEEDED, 1 tests: 1 succeeded, 0 failed, 0 errors, 0 skipped",
		"Report Build-coverage: file-format COBERTURAXML is not read by the local runner; skipped",
		"Report Build-missing: no report files match nothing/*.xml; skipped",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q", want)
		}
	}
	// the failure summary is in the failed phase, so in the task's failure cause
	var build Phase
	for _, p := range b.Phases {
		if p.PhaseType == PhaseBuild {
			build = p
		}
	}
	wantCtx := []PhaseContext{
		{StatusCode: "TEST_FAILURES", Message: "report Build-unit: 1 of 3 tests failed: greet.TestBye: expected bye, got hello"},
		{StatusCode: "COMMAND_EXECUTION_ERROR", Message: `Error while executing command: echo "tests ran"; exit 1. Reason: exit status 1`},
	}
	if diff := cmp.Diff(wantCtx, build.Contexts); diff != "" {
		t.Errorf("BUILD contexts (-want +got):\n%s", diff)
	}
	if _, cause := b.Failure(); !strings.Contains(cause, "greet.TestBye: expected bye, got hello") {
		t.Errorf("failure cause lacks the failing test: %s", cause)
	}

	// the Go accessor
	reps, err := h.r.Reports(b.Id)
	if err != nil || len(reps) != 2 {
		t.Fatalf("Reports: %v %v", reps, err)
	}
	if got := reps[0]; got.Status != ReportFailed || got.TestSummary.Total != 3 || got.Files[0] != "out/unit/a.xml" || len(got.Failing()) != 1 {
		t.Errorf("report %+v", got)
	}

	// the API
	api := h.r.Handler()
	code, out := apiCall(t, api, "BatchGetReports", `{"reportArns": ["`+unitArn+`", "arn:nope"]}`)
	if code != 200 {
		t.Fatalf("BatchGetReports %d %v", code, out)
	}
	data, _ := json.Marshal(out)
	var got struct {
		Reports []struct {
			Arn, Name, Status, ExecutionID string
			TestSummary                    testreport.Summary
			TestCases                      []any
		}
		ReportsNotFound []string
	}
	json.Unmarshal(data, &got)
	if len(got.Reports) != 1 || got.Reports[0].Name != "Build-unit" || got.Reports[0].Status != "FAILED" || got.Reports[0].ExecutionID != b.Arn ||
		got.Reports[0].TestSummary.StatusCounts["FAILED"] != 1 || got.Reports[0].TestCases != nil || len(got.ReportsNotFound) != 1 {
		t.Errorf("BatchGetReports %s", data)
	}
	code, out = apiCall(t, api, "DescribeTestCases", `{"reportArn": "`+unitArn+`", "filter": {"status": "FAILED"}}`)
	want := map[string]any{"testCases": []any{map[string]any{"reportArn": unitArn, "prefix": "greet", "name": "TestBye", "status": "FAILED",
		"durationInNanoSeconds": float64(200000000), "message": "expected bye, got hello", "testSuiteName": "greet"}}}
	if diff := cmp.Diff(want, out); code != 200 || diff != "" {
		t.Errorf("DescribeTestCases %d (-want +got):\n%s", code, diff)
	}
	code, out = apiCall(t, api, "DescribeTestCases", `{"reportArn": "`+unitArn+`", "maxResults": 2}`)
	if code != 200 || out["nextToken"] != "2" || len(out["testCases"].([]any)) != 2 {
		t.Errorf("DescribeTestCases page %d %v", code, out)
	}
	if code, _ := apiCall(t, api, "DescribeTestCases", `{"reportArn": "arn:nope"}`); code != 400 {
		t.Errorf("unknown report: %d", code)
	}
	if t.Failed() {
		t.Logf("log:\n%s", log)
	}
}

func TestReportsSucceedingBuildKeepsContexts(t *testing.T) {
	h := newHarness(t)
	spec := "version: 0.2\nphases:\n  build:\n    commands:\n      - cp junit.xml r.xml\nreports:\n  unit:\n    files: [r.xml]\n"
	b, log := h.run(spec, map[string]file{"junit.xml": {body: junitFailing}}, nil)
	if b.BuildStatus != StatusSucceeded || len(b.ReportArns) != 1 {
		t.Fatalf("status %s reports %v\n%s", b.BuildStatus, b.ReportArns, log)
	}
	for _, p := range b.Phases {
		for _, c := range p.Contexts {
			if c.StatusCode == "TEST_FAILURES" {
				t.Errorf("a succeeded build carries test failures: %+v", p)
			}
		}
	}
}

// A report group named by an environment variable, as CodeBuild's
// documentation shows (REPORT_GROUP_NAME), and by a report group's ARN.
func TestReportGroupFromVariable(t *testing.T) {
	h := newHarness(t)
	for _, tc := range []struct{ value, group string }{
		{"new-report-group", "Build-new-report-group"},
		{"arn:aws:codebuild:us-east-1:000000000000:report-group/app-Test", "app-Test"},
	} {
		t.Run(tc.group, func(t *testing.T) {
			spec := `version: 0.2
env:
  variables:
    REPORT_GROUP_NAME: "` + tc.value + `"
phases:
  build:
    commands:
      - mkdir -p out && cp junit.xml out/a.xml
reports:
  $REPORT_GROUP_NAME:
    files: ['*.xml']
    base-directory: out
`
			b, log := h.run(spec, map[string]file{"junit.xml": {body: junitFailing}}, nil)
			want := []string{"arn:aws:codebuild:us-east-1:000000000000:report/" + tc.group + ":" + strings.TrimPrefix(b.Id, "Build:")}
			if diff := cmp.Diff(want, b.ReportArns); diff != "" {
				t.Errorf("ReportArns (-want +got):\n%s\n%s", diff, log)
			}
		})
	}
}
