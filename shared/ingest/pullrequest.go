package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/pushline/pushline/shared/config"
	"github.com/pushline/pushline/shared/push"
)

// Closed is the error a pull request's running execution is stopped with
// when the pull request is closed or merged; the cause says which.
const Closed = "Pushline.PullRequestClosed"

// secretStages lists the stages (and actions) a run that skips skip
// would run that read secrets.
func secretStages(cfg *config.Config, skip map[string]bool) []string {
	var out []string
	for _, st := range cfg.Stages {
		if skip[st.Name] {
			continue
		}
		if len(st.Secrets) > 0 {
			out = append(out, st.Name)
		}
		for _, a := range st.Actions {
			if len(a.Secrets) > 0 {
				out = append(out, st.Name+"/"+a.Name)
			}
		}
	}
	return out
}

// refusePullRequest says why a matched pull request's run is not started,
// "" when it may start. A fork's run never gets secrets: it is refused
// when a stage it would run reads some (in AWS the stage's CodeBuild role
// can read them, whatever the buildspec says), and when o.ForksRefused
// says fork builds cannot run safely here (the local stack without its
// build sandbox).
func (h *Handler) refusePullRequest(p push.Push, skip map[string]bool) string {
	pr := p.PullRequest
	if !pr.Fork {
		return ""
	}
	if h.o.ForksRefused != "" {
		return fmt.Sprintf("pull request #%d comes from a fork: %s", pr.Number, h.o.ForksRefused)
	}
	if s := secretStages(h.o.Config, skip); len(s) > 0 {
		return fmt.Sprintf("pull request #%d comes from a fork and would run %s, which read secrets: fork builds never get secrets (leave those stages out with pullRequests.stages)",
			pr.Number, strings.Join(s, ", "))
	}
	return ""
}

// closePullRequest stops the running executions of a closed or merged
// pull request (the watch function then emits STOPPED for each) and
// answers ignored, saying what it stopped.
func (h *Handler) closePullRequest(ctx context.Context, log *slog.Logger, res Result, p push.Push) (Result, error) {
	pr := p.PullRequest
	key := RefKey(h.o.Config.Name, p.Repository, p.Ref)
	items, err := runningSameRef(ctx, h.o.SFN, h.o.StateMachineARN, key)
	if err != nil {
		return res, err
	}
	verb := "closed"
	if merged(pr.Action) {
		verb = "merged"
	}
	stopped := 0
	for _, it := range items {
		arn := aws.ToString(it.ExecutionArn)
		_, err := h.o.SFN.StopExecution(ctx, &sfn.StopExecutionInput{
			ExecutionArn: aws.String(arn),
			Error:        aws.String(Closed),
			Cause:        aws.String(fmt.Sprintf("pull request #%d was %s", pr.Number, verb)),
		})
		var gone *sfntypes.ExecutionDoesNotExist
		switch {
		case errors.As(err, &gone):
			continue
		case err != nil:
			return res, sfnError("stop execution "+nameOf(arn), err)
		}
		stopped++
		log.Info("pull request closed: execution stopped", "execution", arn, "pullRequest", pr.Number)
	}
	res.Status = StatusIgnored
	res.Reason = fmt.Sprintf("pull request #%d was %s: stopped %d running execution(s)", pr.Number, verb, stopped)
	log.Info("pull request closed", "decision", res.Status, "stopped", stopped)
	return res, nil
}

// merged reports whether a closing action word says the pull request was
// merged (GitLab "merge", Bitbucket "pullrequest:fulfilled"); GitHub and
// Gitea say "closed" either way.
func merged(action string) bool {
	return action == "merge" || action == "pullrequest:fulfilled"
}

// prSlug is the first part of a pull request run's execution name.
func prSlug(pr *push.PullRequest) string {
	return "pr" + strconv.Itoa(pr.Number)
}
