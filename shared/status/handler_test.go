package status

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pushline/pushline/shared/awstest"
	"github.com/pushline/pushline/shared/config"
	"github.com/pushline/pushline/shared/event"
	"github.com/pushline/pushline/shared/push"
)

const (
	commit = "9fceb02d0ae598e95dc970b74767f19372d61af8"
	execA  = "arn:aws:states:us-east-1:123456789012:execution:pushline-app:main-9fceb02d0ae5-3c2f0e4a81b7"
	execB  = "arn:aws:states:us-east-1:123456789012:execution:pushline-app:main-1b2c3d4e5f60-3c2f0e4a81b7"
)

// newSFN is Step Functions with executions A and B of input in.
func newSFN(in push.Input) *awstest.StepFunctions {
	f := awstest.NewStepFunctions("arn:aws:states:us-east-1:123456789012:stateMachine:pushline-app", time.Now())
	b, _ := json.Marshal(in)
	for _, arn := range []string{execA, execB} {
		f.Add(awstest.Execution{Name: arn[strings.LastIndexByte(arn, ':')+1:], ARN: arn, Input: string(b), Status: "RUNNING"})
	}
	return f
}

type tokens map[string]string

func (t tokens) Token(_ context.Context, provider, _ string) (string, error) { return t[provider], nil }

type harness struct {
	host *fakeHost
	h    *Handler
	logs *bytes.Buffer
	t0   time.Time
}

func newHarness(t *testing.T, edit func(r *config.Repository), answers ...answer) *harness {
	host := newFakeHost(t, answers...)
	repo := config.Repository{Provider: "github", Repository: "acme/app", APIURL: host.srv.URL}
	if edit != nil {
		edit(&repo)
	}
	cfg := &config.Config{Name: "app", Repositories: []config.Repository{repo},
		Stages: []config.Stage{{Name: "Build"}, {Name: "Test"}, {Name: "Approve", Approval: &config.Approval{Approvers: []string{"ops@example.com"}}}}}
	in := push.Input{Pipeline: "app", Push: push.Push{Provider: "github", Repository: "acme/app", Branch: "main", After: commit, WebURL: "https://github.com/acme/app"}}
	logs := new(bytes.Buffer)
	h := &Handler{Config: cfg, Store: NewMemStore(), Tokens: tokens{"github": "secret-token"},
		Poster: &Poster{Sleep: func(context.Context, time.Duration) error { return nil }},
		SFN:    newSFN(in),
		RunURL: func(arn string) string {
			return "https://ci.example.com/runs/" + arn[strings.LastIndexByte(arn, ':')+1:]
		},
		Log: slog.New(slog.NewTextHandler(logs, nil))}
	return &harness{host: host, h: h, logs: logs, t0: time.Date(2026, 12, 7, 13, 0, 0, 0, time.UTC)}
}

// ev builds an event of execution exec at t0 + sec seconds.
func (hs *harness) ev(exec, detailType, state, stage string, sec int) event.Event {
	d := event.Detail{Pipeline: "app", Execution: exec, State: state, Repository: "acme/app", Ref: "refs/heads/main", Commit: commit, Stage: stage}
	if detailType == event.Approval && state != event.Requested {
		d.Approver = "ops@example.com"
	}
	if state == event.Superseded {
		d.SupersededBy = execB
	}
	if detailType == event.PipelineExecution && state == event.Failed {
		d.Stage, d.Cause = "Test", "build ended FAILED"
	}
	return event.Event{Source: event.Source, DetailType: detailType, Time: hs.t0.Add(time.Duration(sec) * time.Second), Detail: d}
}

func (hs *harness) send(t *testing.T, evs ...event.Event) {
	t.Helper()
	for _, e := range evs {
		if err := hs.h.Handle(context.Background(), e); err != nil {
			t.Fatalf("Handle: %v", err)
		}
	}
}

// posted lists "context state description" of every status posted, in order.
func (hs *harness) posted() []string {
	var out []string
	for _, c := range hs.host.got() {
		out = append(out, fmt.Sprintf("%v %v %v", c.Body["context"], c.Body["state"], c.Body["description"]))
	}
	return out
}

func TestRunStatuses(t *testing.T) {
	P, S, A := event.PipelineExecution, event.StageExecution, event.Approval
	tests := []struct {
		name string
		evs  func(hs *harness) []event.Event
		want []string
	}{
		{"a failing run", func(hs *harness) []event.Event {
			return []event.Event{hs.ev(execA, P, event.Started, "", 0), hs.ev(execA, S, event.Started, "Build", 1), hs.ev(execA, S, event.Succeeded, "Build", 13),
				hs.ev(execA, S, event.Started, "Test", 14), hs.ev(execA, S, event.Failed, "Test", 56), hs.ev(execA, P, event.Failed, "", 57)}
		}, []string{
			"pushline/app pending Running",
			"pushline/app/Build pending Build running",
			"pushline/app/Build success Build passed in 12s",
			"pushline/app/Test pending Test running",
			"pushline/app/Test failure Test failed after 42s",
			"pushline/app failure Test failed after 57s: build ended FAILED",
		}},
		{"approval", func(hs *harness) []event.Event {
			return []event.Event{hs.ev(execA, A, event.Requested, "Approve", 5), hs.ev(execA, A, event.Approved, "Approve", 65), hs.ev(execA, P, event.Succeeded, "", 200)}
		}, []string{
			"pushline/app/Approve pending Waiting for approval by ops@example.com",
			"pushline/app/Approve success Approved by ops@example.com",
			"pushline/app success Succeeded in under 1s",
		}},
		{"a late pending never overwrites a final state", func(hs *harness) []event.Event {
			return []event.Event{hs.ev(execA, S, event.Succeeded, "Build", 13), hs.ev(execA, S, event.Started, "Build", 1)}
		}, []string{"pushline/app/Build success Build passed in under 1s"}},
		{"same second: final wins either way", func(hs *harness) []event.Event {
			return []event.Event{hs.ev(execA, S, event.Succeeded, "Build", 3), hs.ev(execA, S, event.Started, "Build", 3)}
		}, []string{"pushline/app/Build success Build passed in under 1s"}},
		{"superseded: the run's stages end too", func(hs *harness) []event.Event {
			return []event.Event{hs.ev(execA, P, event.Started, "", 0), hs.ev(execA, S, event.Started, "Build", 1), hs.ev(execA, P, event.Superseded, "", 9)}
		}, []string{
			"pushline/app pending Running",
			"pushline/app/Build pending Build running",
			"pushline/app error Superseded by main-1b2c3d4e5f60-3c2f0e4a81b7",
			"pushline/app/Build error Build: superseded by a newer run",
		}},
		{"stopped, then the stage's own late failure still wins", func(hs *harness) []event.Event {
			return []event.Event{hs.ev(execA, S, event.Started, "Build", 1), hs.ev(execA, P, event.Stopped, "", 9), hs.ev(execA, S, event.Failed, "Build", 8)}
		}, []string{
			"pushline/app/Build pending Build running",
			"pushline/app error Stopped",
			"pushline/app/Build error Build: the run was stopped",
			"pushline/app/Build failure Build failed after 7s",
		}},
		{"a newer run of the same commit takes over the context", func(hs *harness) []event.Event {
			return []event.Event{hs.ev(execA, P, event.Started, "", 0), hs.ev(execA, P, event.Failed, "", 5), hs.ev(execB, P, event.Started, "", 30), hs.ev(execA, P, event.Started, "", 0)}
		}, []string{
			"pushline/app pending Running",
			"pushline/app failure Test failed after 5s: build ended FAILED",
			"pushline/app pending Running",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hs := newHarness(t, nil)
			hs.send(t, tt.evs(hs)...)
			if diff := cmp.Diff(tt.want, hs.posted()); diff != "" {
				t.Errorf("statuses (-want +got):\n%s", diff)
			}
			for _, c := range hs.host.got() {
				if c.Body["target_url"] != "https://ci.example.com/runs/"+execA[strings.LastIndexByte(execA, ':')+1:] &&
					c.Body["target_url"] != "https://ci.example.com/runs/"+execB[strings.LastIndexByte(execB, ':')+1:] {
					t.Errorf("target_url %v", c.Body["target_url"])
				}
			}
		})
	}
}

// TestNoStatuses: statuses off, no token, an unknown repository: nothing
// is posted and nothing fails.
func TestNoStatuses(t *testing.T) {
	off := false
	for name, edit := range map[string]func(h *harness){
		"statuses false": func(h *harness) { h.h.Config.Repositories[0].Statuses = &off },
		"no token":       func(h *harness) { h.h.Tokens = tokens{"gitlab": "x"} },
		"unknown repo":   func(h *harness) { h.h.Config.Repositories[0].Repository = "acme/other" },
	} {
		t.Run(name, func(t *testing.T) {
			hs := newHarness(t, nil)
			edit(hs)
			hs.send(t, hs.ev(execA, event.PipelineExecution, event.Started, "", 0))
			if got := hs.posted(); len(got) != 0 || hs.h.Failures() != 0 {
				t.Errorf("posted %v, %d failures", got, hs.h.Failures())
			}
		})
	}
}

// TestPostFailure: a host that refuses is logged with its answer (not
// the token) and counted; Handle still succeeds.
func TestPostFailure(t *testing.T) {
	hs := newHarness(t, nil, answer{code: 422, body: `{"message":"Validation Failed"}`})
	var failed []string
	hs.h.OnFailure = func(st Status, err error) { failed = append(failed, st.Context) }
	hs.send(t, hs.ev(execA, event.PipelineExecution, event.Started, "", 0))
	if hs.h.Failures() != 1 || hs.h.Posted() != 0 || len(failed) != 1 {
		t.Errorf("failures %d posted %d hook %v", hs.h.Failures(), hs.h.Posted(), failed)
	}
	if !strings.Contains(hs.logs.String(), "Validation Failed") || strings.Contains(hs.logs.String(), "secret-token") {
		t.Errorf("log: %s", hs.logs.String())
	}
}

// TestConcurrentOrder: the events of many stages delivered concurrently,
// in random order: every context's last posted state is its final one.
func TestConcurrentOrder(t *testing.T) {
	hs := newHarness(t, nil)
	var evs []event.Event
	for i := range 20 {
		stage := fmt.Sprintf("S%02d", i)
		evs = append(evs, hs.ev(execA, event.StageExecution, event.Started, stage, 2*i), hs.ev(execA, event.StageExecution, event.Succeeded, stage, 2*i+1))
	}
	rand.Shuffle(len(evs), func(i, j int) { evs[i], evs[j] = evs[j], evs[i] })
	var wg sync.WaitGroup
	for _, e := range evs {
		wg.Go(func() {
			if err := hs.h.Handle(context.Background(), e); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	last := map[string]string{}
	for _, c := range hs.host.got() {
		last[c.Body["context"].(string)] = c.Body["state"].(string)
	}
	for i := range 20 {
		if s := last[fmt.Sprintf("pushline/app/S%02d", i)]; s != Success {
			t.Errorf("S%02d ends %q, want success", i, s)
		}
	}
}

// TestStaleRetry: a pending whose post is being retried is dropped when
// the context's final state is claimed meanwhile, so it never lands after
// the final one.
func TestStaleRetry(t *testing.T) {
	hs := newHarness(t, nil, answer{code: 503, retryAfter: "1"})
	started := make(chan struct{})
	release := make(chan struct{})
	hs.h.Poster.Sleep = func(context.Context, time.Duration) error {
		close(started)
		<-release
		return nil
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		hs.send(t, hs.ev(execA, event.StageExecution, event.Started, "Build", 1))
	}()
	<-started
	hs.send(t, hs.ev(execA, event.StageExecution, event.Succeeded, "Build", 5))
	close(release)
	<-done
	if diff := cmp.Diff([]string{"pushline/app/Build pending Build running", "pushline/app/Build success Build passed in 4s"}, hs.posted()); diff != "" {
		t.Errorf("statuses (-want +got; the first is the refused pending):\n%s", diff)
	}
}
