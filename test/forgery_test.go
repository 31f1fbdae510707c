package test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/pushline/pushline/infra/local/drive"
	"github.com/pushline/pushline/shared/event"
)

// A build in the sandbox that holds another run's approval task token (the
// test hands it over, as if it had leaked) cannot approve that run through
// the AWS endpoint, and execution histories read there hold no token.
func TestBuildCannotForgeApproval(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	repo, err := drive.NewRepo(ctx, dir, "app", fstest.MapFS{"ci/build.yml": {Data: []byte(`version: 0.2
phases:
  build:
    commands:
      - |
        if [ -s "$FORGE" ]; then
          curl -sS -H 'Content-Type: application/x-amz-json-1.0' -H 'X-Amz-Target: AWSStepFunctions.SendTaskSuccess' --data-binary @"$FORGE" "$AWS" | tee answer.json
          grep -q AccessDeniedException answer.json
        fi
`)}})
	if err != nil {
		t.Fatal(err)
	}
	before, after, files, err := repo.Commit(ctx, "main", "CI")
	if err != nil {
		t.Fatal(err)
	}
	awsAddr, forge := freeAddr(t), filepath.Join(dir, "forge.json")
	p := startStack(t, dir, fmt.Sprintf(`{
  "name": "e2e", "mode": "parallel",
  "repositories": [{"provider": "github", "repository": "acme/app", "cloneUrl": %q}],
  "stages": [
    {"name": "Build", "buildspec": "ci/build.yml", "environment": {"FORGE": %q, "AWS": %q}},
    {"name": "Approve", "approval": {"approvers": ["ops@example.com"]}}
  ],
  "notifications": {"from": "pushline@example.com"}
}`, repo.CloneURL(), forge, "http://"+awsAddr), "PUSHLINE_AWS_ADDR="+awsAddr)
	if strings.Contains(p.out.String(), "builds are not sandboxed") {
		t.Fatalf("the builds are not sandboxed here (install bubblewrap):\n%s", p.out)
	}

	first := p.push(ctx, repo, "acme/app", "main", before, after, "CI", files).Execution
	link := p.link(ctx, 1) // the first run waits for its approval
	records, _ := filepath.Glob(filepath.Join(p.data, "approvals", "*.json"))
	if len(records) != 1 {
		t.Fatalf("approval records %v, want one", records)
	}
	var rec struct{ TaskToken string }
	if b, err := os.ReadFile(records[0]); err != nil || json.Unmarshal(b, &rec) != nil || rec.TaskToken == "" {
		t.Fatalf("read the approval record: %v", err)
	}
	hist, err := p.sfn().GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(first)})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := json.Marshal(hist.Events); strings.Contains(string(b), rec.TaskToken) {
		t.Error("the execution history read over the AWS endpoint holds the task token")
	}
	req, _ := json.Marshal(map[string]string{"taskToken": rec.TaskToken, "output": `{"approved":true}`})
	if err := os.WriteFile(forge, req, 0o644); err != nil {
		t.Fatal(err)
	}

	// the second run's build tries to approve the first run
	repo.Write("next.txt", "next\n", 0o644)
	before2, after2, files2, err := repo.Commit(ctx, "main", "next")
	if err != nil {
		t.Fatal(err)
	}
	second := p.push(ctx, repo, "acme/app", "main", before2, after2, "next", files2).Execution
	if second == "" || second == first {
		t.Fatalf("second push: execution %q", second)
	}
	p.waitEvent(ctx, second, event.Approval+"/Approve/"+event.Requested) // its build got AccessDeniedException
	if d := p.wait(ctx, first, func(*sfn.DescribeExecutionOutput) bool { return true }); d.Status != sfntypes.ExecutionStatusRunning {
		t.Fatalf("the first run is %s after the forgery, want RUNNING at its approval", d.Status)
	}
	if got, _ := p.eventsOf(first); strings.Contains(strings.Join(got, " "), event.Approval+"/Approve/"+event.Approved) {
		t.Fatalf("the first run was approved by the build: %v", got)
	}
	// the approval page still decides
	decide(ctx, t, link, "approve", "")
	if d := p.wait(ctx, first, nil); d.Status != sfntypes.ExecutionStatusSucceeded {
		t.Errorf("the first run is %s after its approval, want SUCCEEDED", d.Status)
	}
}
