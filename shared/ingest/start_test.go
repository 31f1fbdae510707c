package ingest

import (
	"context"
	"errors"
	"testing"

	"github.com/pushline/pushline/shared/config"
	"github.com/pushline/pushline/shared/push"
)

func TestStarter(t *testing.T) {
	const c1, c2 = "1111111111111111111111111111111111111111", "2222222222222222222222222222222222222222"
	cfg := &config.Config{
		Name: "app", Mode: config.ModeParallel,
		Repositories: []config.Repository{{Provider: push.CodeCommit, Repository: "app", Branches: []string{"main"}, CloneURL: "file:///srv/app.git"}},
		Stages:       []config.Stage{{Name: "Build", Build: config.Build{Buildspec: "buildspec.yml"}}},
	}
	const machine = "arn:aws:states:us-east-1:000000000000:stateMachine:pushline-app"
	sfnFake := newFakeSFN(machine)
	s, err := NewStarter(Options{Config: cfg, StateMachineARN: machine, SFN: sfnFake})
	if err != nil {
		t.Fatal(err)
	}
	p := push.Push{Provider: push.CodeCommit, Repository: "app", Ref: "refs/heads/main", Branch: "main", Before: c2, After: c1, HeadCommit: push.Commit{ID: c1}}
	for _, tc := range []struct {
		name   string
		p      push.Push
		status string
	}{
		{"started", p, StatusStarted},
		{"the same push again", p, StatusDuplicate},
		{"other branch", func() push.Push { q := p; q.Ref, q.Branch = "refs/heads/dev", "dev"; return q }(), StatusIgnored},
		{"invalid ref", func() push.Push { q := p; q.Ref = "refs/heads/a..b"; return q }(), StatusIgnored},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := s.Start(context.Background(), []push.Push{tc.p})
			if err != nil || resp.Status != tc.status {
				t.Fatalf("Start = %+v, %v; want %s", resp, err, tc.status)
			}
			if tc.status == StatusStarted && resp.Execution != ExecutionARN(machine, ExecutionName("app", p)) {
				t.Errorf("execution %s", resp.Execution)
			}
		})
	}
	sfnFake.Err = errors.New("down")
	q := p
	q.After = c2
	if _, err := s.Start(context.Background(), []push.Push{q}); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Start with Step Functions down: %v", err)
	}
}
