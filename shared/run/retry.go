package run

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/pushline/pushline/shared/ingest"
	"github.com/pushline/pushline/shared/push"
)

// Started is a run Rerun, Retry or Start began.
type Started struct {
	ARN     string `json:"arn"`
	Name    string `json:"name"`
	Attempt int    `json:"attempt"`
	Stage   string `json:"stage,omitempty"` // a retry's first stage
}

// Rerun runs the whole pipeline again for the push of run id, as a new
// execution named <first run's name>-r<attempt>; by says who asked.
func (rs *Runs) Rerun(ctx context.Context, id, by string) (*Started, error) {
	r, events, err := rs.read(ctx, id)
	if err != nil {
		return nil, err
	}
	if r.Status == Running {
		return nil, fmt.Errorf("rerun %s: %w", r.Name, ErrRunning)
	}
	input := startInput(events)
	if input == nil {
		return nil, fmt.Errorf("rerun %s: the history has no input: %w", r.Name, ErrBadInput)
	}
	delete(input, "resume")
	return rs.again(ctx, r, input, push.TriggerRerun, by, "")
}

// Retry starts a new execution at the stage of run id that failed, with
// the data the run carried when it entered that stage (the earlier
// stages' artifacts and exported variables). A run that succeeded or
// still runs is refused (ErrSucceeded, ErrRunning).
func (rs *Runs) Retry(ctx context.Context, id, by string) (*Started, error) {
	r, events, err := rs.read(ctx, id)
	if err != nil {
		return nil, err
	}
	switch r.Status {
	case Running:
		return nil, fmt.Errorf("retry %s: %w", r.Name, ErrRunning)
	case Succeeded:
		return nil, fmt.Errorf("retry %s: %w", r.Name, ErrSucceeded)
	}
	stage := r.FailedStage
	if st := r.Stage(stage); st != nil && st.Kind == KindBuild {
		// A failed action: retry its whole stage (the Parallel state).
		for _, s := range r.Stages {
			for _, a := range s.Actions {
				if a.Name == stage {
					stage = s.Name
				}
			}
		}
	}
	var input map[string]json.RawMessage
	if stage == "" || stage == SourceStage {
		input, stage = startInput(events), ""
		delete(input, "resume")
	} else if input, err = RetryInput(events, stage); err != nil {
		return nil, fmt.Errorf("retry %s: %w", r.Name, err)
	}
	if input == nil {
		return nil, fmt.Errorf("retry %s: the history has no input: %w", r.Name, ErrBadInput)
	}
	return rs.again(ctx, r, input, push.TriggerRetry, by, stage)
}

// RetryInput is the input of a retry of a run at stage: the input of the
// last TaskStateEntered or ParallelStateEntered event of the state named
// exactly stage, with resume set to the stage and the run's request
// dropped (run is set by the caller).
func RetryInput(events []sfntypes.HistoryEvent, stage string) (map[string]json.RawMessage, error) {
	var in *string
	for _, ev := range events {
		if ev.Type != sfntypes.HistoryEventTypeTaskStateEntered && ev.Type != sfntypes.HistoryEventTypeParallelStateEntered {
			continue
		}
		if d := ev.StateEnteredEventDetails; d != nil && aws.ToString(d.Name) == stage {
			in = d.Input
		}
	}
	if in == nil {
		return nil, fmt.Errorf("the run never entered stage %s: %w", stage, ErrBadInput)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(*in), &m); err != nil || m == nil {
		return nil, fmt.Errorf("the input of stage %s is not an object: %w", stage, ErrBadInput)
	}
	delete(m, "request")
	m["resume"], _ = json.Marshal(push.Resume{Stage: stage})
	return m, nil
}

// startInput is the execution input of a history.
func startInput(events []sfntypes.HistoryEvent) map[string]json.RawMessage {
	for _, ev := range events {
		if d := ev.ExecutionStartedEventDetails; d != nil && d.Input != nil {
			var m map[string]json.RawMessage
			if json.Unmarshal([]byte(*d.Input), &m) == nil && m != nil {
				delete(m, "request")
				return m
			}
		}
	}
	return nil
}

// again starts the next attempt of r's push with input.
func (rs *Runs) again(ctx context.Context, r *Run, input map[string]json.RawMessage, trigger, by, stage string) (*Started, error) {
	base, _ := Base(r.Name)
	n := r.Attempt
	for _, a := range r.Attempts {
		n = max(n, a.Attempt)
	}
	next := n + 1
	input["run"], _ = json.Marshal(push.Run{Trigger: trigger, By: by, Attempt: next, RetryOf: r.ARN})
	body, err := json.Marshal(input)
	if err != nil {
		return nil, fmt.Errorf("encode input: %w", err)
	}
	name := AttemptName(base, next)
	out, err := rs.SFN.StartExecution(ctx, &sfn.StartExecutionInput{
		StateMachineArn: aws.String(rs.StateMachine), Name: aws.String(name), Input: aws.String(string(body)),
	})
	if err != nil {
		var exists *sfntypes.ExecutionAlreadyExists
		if errors.As(err, &exists) {
			return nil, fmt.Errorf("start %s: attempt %d was started meanwhile: %w", name, next, ErrRunning)
		}
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	return &Started{ARN: aws.ToString(out.ExecutionArn), Name: name, Attempt: next, Stage: stage}, nil
}

// Manual is a run of a branch without a push.
type Manual struct {
	Branch string
	Commit string // the full SHA
	By     string
	// Repository is the configured repository (default the first).
	Repository string
}

// Start starts a manual run: the push of Branch at Commit, as the
// webhook would have started it, recorded as manual by By. When the
// commit already ran, it is the next attempt of that push.
func (rs *Runs) Start(ctx context.Context, m Manual) (*Started, error) {
	if rs.Config == nil || len(rs.Config.Repositories) == 0 {
		return nil, fmt.Errorf("no repository in the config: %w", ErrBadInput)
	}
	repo := rs.Config.Repositories[0]
	for _, r := range rs.Config.Repositories {
		if strings.EqualFold(r.Repository, m.Repository) {
			repo = r
		}
	}
	if m.Branch == "" || !validSHA(m.Commit) {
		return nil, fmt.Errorf("a branch and a full commit SHA are needed: %w", ErrBadInput)
	}
	p := push.Push{
		Provider: repo.Provider, Repository: repo.Repository, CloneURL: repo.CloneURL,
		Ref: "refs/heads/" + m.Branch, Branch: m.Branch, Before: push.ZeroCommit, After: m.Commit,
		Pusher:     m.By,
		HeadCommit: push.Commit{ID: m.Commit, Message: "manual run of " + m.Branch + " by " + m.By},
	}
	in := push.Input{Pipeline: rs.Config.Name, Push: p.Trimmed(), Run: &push.Run{Trigger: push.TriggerManual, By: m.By, Attempt: 1}}
	name := ingest.ExecutionName(rs.Config.Name, p)
	attempts, err := rs.attempts(ctx, name)
	if err != nil {
		return nil, err
	}
	if len(attempts) > 0 {
		n := 0
		for _, a := range attempts {
			n = max(n, a.Attempt)
		}
		in.Run.Attempt = n + 1
		in.Run.RetryOf = attempts[len(attempts)-1].ARN
		name = AttemptName(name, n+1)
	}
	body, err := json.Marshal(in)
	if err != nil {
		return nil, fmt.Errorf("encode input: %w", err)
	}
	out, err := rs.SFN.StartExecution(ctx, &sfn.StartExecutionInput{
		StateMachineArn: aws.String(rs.StateMachine), Name: aws.String(name), Input: aws.String(string(body)),
	})
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	return &Started{ARN: aws.ToString(out.ExecutionArn), Name: name, Attempt: in.Run.Attempt}, nil
}

func validSHA(s string) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
