package test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/pushline/pushline/infra/local/drive"
	"github.com/pushline/pushline/shared/event"
)

// A user stops an execution by hand: it is ABORTED and a STOPPED event says
// so.
func TestStoppedByHand(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r := setup(ctx, t, "superseded", "1h", nil)
	arn := r.push(ctx, t)
	r.p.link(ctx, 1)
	if _, err := r.p.sfn().StopExecution(ctx, &sfn.StopExecutionInput{
		ExecutionArn: aws.String(arn), Error: aws.String("Manual"), Cause: aws.String("stopped from the CLI"),
	}); err != nil {
		t.Fatal(err)
	}
	if d := r.p.wait(ctx, arn, nil); d.Status != sfntypes.ExecutionStatusAborted {
		t.Fatalf("execution %s, want ABORTED", d.Status)
	}
	for _, ev := range r.p.waitEvent(ctx, arn, event.PipelineExecution+"//"+event.Stopped) {
		if ev.Detail.State == event.Stopped && (ev.Detail.Error != "Manual" || ev.Detail.Cause != "stopped from the CLI" || ev.Detail.Commit != r.after) {
			t.Errorf("STOPPED event: %+v", ev.Detail)
		}
	}
	// Its approval link no longer offers a decision.
	page, err := drive.Open(ctx, r.p.link(ctx, 1))
	if err != nil {
		t.Fatal(err)
	}
	if page.Status != http.StatusGone {
		t.Errorf("the link of a stopped execution answered %d, want 410", page.Status)
	}
}

// In queued mode a newer push on the same branch waits until the older
// execution ends, then runs.
func TestQueued(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	r := setup(ctx, t, "queued", "1h", nil)
	first := r.push(ctx, t)
	r.p.link(ctx, 1) // the first waits for its approval

	if err := os.WriteFile(filepath.Join(r.repo.Work, "app.txt"), []byte("hello from the sample app, v2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	before, after, files, err := r.repo.Commit(ctx, "main", "v2")
	if err != nil {
		t.Fatal(err)
	}
	r.before, r.after, r.files = before, after, files
	second := r.push(ctx, t)

	// The second stays queued: no Source step while the first runs.
	time.Sleep(3 * time.Second)
	if got, _ := r.p.eventsOf(second); slices.Contains(got, event.StageExecution+"/Build/"+event.Started) {
		t.Fatalf("the second execution started building while the first runs: %v", got)
	}
	if d := r.p.wait(ctx, first, func(*sfn.DescribeExecutionOutput) bool { return true }); d.Status != sfntypes.ExecutionStatusRunning {
		t.Fatalf("the first execution is %s, want RUNNING (queued mode stops nothing)", d.Status)
	}

	decide(ctx, t, r.p.link(ctx, 1), "approve", "first")
	if d := r.p.wait(ctx, first, nil); d.Status != sfntypes.ExecutionStatusSucceeded {
		t.Fatalf("first: %s", d.Status)
	}
	decide(ctx, t, r.p.link(ctx, 2), "approve", "second")
	if d := r.p.wait(ctx, second, nil); d.Status != sfntypes.ExecutionStatusSucceeded {
		t.Fatalf("second: %s", d.Status)
	}
}
