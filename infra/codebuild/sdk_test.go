package codebuild

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cb "github.com/aws/aws-sdk-go-v2/service/codebuild"
	cbtypes "github.com/aws/aws-sdk-go-v2/service/codebuild/types"
)

// TestHandlerWithSDK drives the API with the AWS SDK's CodeBuild client, which
// checks the wire format (camelCase, epoch-second timestamps, error types).
func TestHandlerWithSDK(t *testing.T) {
	h := newHarness(t)
	b, _ := h.run("version: 0.2\nenv:\n  exported-variables: [V]\nphases:\n  build:\n    commands: [\"export V=7\"]\n", nil, nil)
	srv := httptest.NewServer(h.r.Handler())
	defer srv.Close()
	client := cb.New(cb.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
	})
	ctx := context.Background()
	out, err := client.BatchGetBuilds(ctx, &cb.BatchGetBuildsInput{Ids: []string{b.Id, "Build:nope"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Builds) != 1 || len(out.BuildsNotFound) != 1 {
		t.Fatalf("builds %d, not found %v", len(out.Builds), out.BuildsNotFound)
	}
	got := out.Builds[0]
	if aws.ToString(got.Id) != b.Id || got.BuildStatus != cbtypes.StatusTypeSucceeded || !got.BuildComplete ||
		got.CurrentPhase == nil || *got.CurrentPhase != "COMPLETED" || aws.ToInt64(got.BuildNumber) != 1 {
		t.Errorf("build %+v", got)
	}
	if !got.StartTime.Equal(b.StartTime.Time) || !got.EndTime.Equal(b.EndTime.Time) {
		t.Errorf("times %v %v, want %v %v", got.StartTime, got.EndTime, b.StartTime, b.EndTime)
	}
	if len(got.Phases) != len(b.Phases) || got.Phases[6].PhaseType != cbtypes.BuildPhaseTypeBuild || got.Phases[6].PhaseStatus != cbtypes.StatusTypeSucceeded {
		t.Errorf("phases %+v", got.Phases)
	}
	if got.Logs == nil || aws.ToString(got.Logs.DeepLink) != "http://127.0.0.1:8080/builds/"+b.Id {
		t.Errorf("logs %+v", got.Logs)
	}
	if len(got.ExportedEnvironmentVariables) != 1 || aws.ToString(got.ExportedEnvironmentVariables[0].Value) != "7" {
		t.Errorf("exported %+v", got.ExportedEnvironmentVariables)
	}
	ids, err := client.ListBuildsForProject(ctx, &cb.ListBuildsForProjectInput{ProjectName: aws.String("Build")})
	if err != nil || len(ids.Ids) != 1 || ids.Ids[0] != b.Id {
		t.Errorf("ListBuildsForProject %v %v", ids, err)
	}
	_, err = client.StopBuild(ctx, &cb.StopBuildInput{Id: aws.String("Build:nope")})
	var nf *cbtypes.ResourceNotFoundException
	if err == nil || !errors.As(err, &nf) {
		t.Errorf("StopBuild of an unknown build: %v", err)
	}
}
