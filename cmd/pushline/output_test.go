package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pushline/pushline/shared/run"
)

var update = flag.Bool("update", false, "rewrite the golden files")

var t0 = time.Date(2026, 12, 7, 12, 54, 8, 0, time.UTC)

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s (-want +got):\n%s", name, diff)
	}
}

func sampleRun() *run.Run {
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	return &run.Run{
		ARN: "arn:aws:states:us-east-1:000000000000:execution:pushline-app:main-604695561b40-abf6de373ec7-r2", Name: "main-604695561b40-abf6de373ec7-r2",
		Pipeline: "app", Status: run.Failed, Started: t0, Stopped: at(95),
		Commit:  run.Commit{Repository: "acme/app", Ref: "refs/heads/main", Branch: "main", SHA: "604695561b40eba6217b15748458576f9cac0bf2", Message: "Add the app\n\nwith a body", Author: "Dee Veloper"},
		Trigger: "retry", By: "alice", Attempt: 2, RetryOf: "arn:aws:states:us-east-1:000000000000:execution:pushline-app:main-604695561b40-abf6de373ec7", Resumed: "Test",
		Stages: []run.Stage{
			{Name: "Source", Kind: run.KindSource, State: run.StageReused},
			{Name: "Build", Kind: run.KindBuild, State: run.StageReused},
			{Name: "Test", Kind: run.KindBuild, State: run.StageSucceeded, Started: at(1), Ended: at(31), Build: &run.Build{ID: "app-Test:1"}},
			{Name: "Checks", Kind: run.KindParallel, State: run.StageSucceeded, Started: at(31), Ended: at(52), Actions: []run.Stage{
				{Name: "Lint", Kind: run.KindBuild, State: run.StageSucceeded, Started: at(31), Ended: at(40), Build: &run.Build{ID: "app-Lint:2"}},
				{Name: "Audit", Kind: run.KindBuild, State: run.StageSucceeded, Started: at(31), Ended: at(52), Build: &run.Build{ID: "app-Audit:3"}},
			}},
			{Name: "Approve", Kind: run.KindApproval, State: run.StageFailed, Started: at(52), Ended: at(95),
				Approval: &run.Approval{Approvers: []string{"ops@example.com"}, Decision: "REJECTED", Approver: "ops@example.com", Comment: "not today"}},
			{Name: "Deploy", Kind: run.KindBuild, State: run.StageNotRun},
		},
		Artifacts: []run.Artifact{
			{Stage: "Source", Bucket: "pushline-artifacts", Key: "app/main-604695561b40-abf6de373ec7/source.zip", From: "x"},
			{Stage: "Test", Bucket: "pushline-artifacts", Key: "app/main-604695561b40-abf6de373ec7-r2/Test.zip"},
		},
		FailedStage: "Approve", Error: "Pushline.Rejected", Cause: "rejected by ops@example.com: not today",
		Attempts: []run.Attempt{
			{Name: "main-604695561b40-abf6de373ec7", Attempt: 1, Status: run.Failed},
			{Name: "main-604695561b40-abf6de373ec7-r2", Attempt: 2, Status: run.Failed},
		},
	}
}

func TestShowGolden(t *testing.T) {
	var b bytes.Buffer
	if err := writeShow(&b, sampleRun(), "http://127.0.0.1:8080/runs/main-604695561b40-abf6de373ec7-r2", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	golden(t, "show.golden", b.Bytes())
}

func TestRunsGolden(t *testing.T) {
	c := run.Commit{Branch: "main", SHA: "604695561b40eba6217b15748458576f9cac0bf2"}
	list := []run.Summary{
		{Name: "main-604695561b40-abf6de373ec7-r2", Status: run.Running, Started: t0.Add(time.Minute), Attempt: 2, Commit: c, Trigger: "retry"},
		{Name: "main-604695561b40-abf6de373ec7", Status: run.Failed, Started: t0, Stopped: t0.Add(95 * time.Second), Attempt: 1, Commit: c, Trigger: "push"},
		{Name: "release-1-0-aaaaaaaaaaaa-bbbbbbbbbbbb", Status: run.Succeeded, Started: t0.Add(-time.Hour), Stopped: t0.Add(-50 * time.Minute), Attempt: 1},
	}
	var b bytes.Buffer
	if err := writeRuns(&b, list, t0.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	golden(t, "runs.golden", b.Bytes())
	b.Reset()
	writeRuns(&b, nil, t0)
	if b.String() != "no runs\n" {
		t.Errorf("empty list: %q", b.String())
	}
}
