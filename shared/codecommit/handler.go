package codecommit

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/pushline/pushline/shared/ingest"
	"github.com/pushline/pushline/shared/push"
)

// MaxFiles bounds the changed files asked for; a longer difference counts
// as touching every path.
const MaxFiles = 3000

// Repository answers what CodeCommit's event leaves out.
type Repository interface {
	// Commit returns the commit's message, author and time.
	Commit(ctx context.Context, repository, commit string) (push.Commit, error)
	// Changed returns the paths changed between two commits, up to max;
	// complete is false when there were more.
	Changed(ctx context.Context, repository, before, after string, max int) (files []string, complete bool, err error)
}

// Starter starts executions for pushes (*ingest.Starter).
type Starter interface {
	Start(ctx context.Context, pushes []push.Push) (ingest.Response, error)
}

// Handler receives CodeCommit's events (the Lambda's handler; the local
// stack calls it in process).
type Handler struct {
	Repository Repository // nil: the push goes without message and files
	Starter    Starter
	Log        *slog.Logger
}

// Handle starts the pipeline for a reference event, answering as the
// webhook does. A Step Functions outage is returned as an error, so
// EventBridge's retries deliver the event again; the rest is answered.
func (h *Handler) Handle(ctx context.Context, ev Event) (ingest.Response, error) {
	log := h.Log
	if log == nil {
		log = slog.Default()
	}
	log = log.With("provider", push.CodeCommit, "event", ev.ID, "repository", ev.Detail.RepositoryName, "ref", ev.Detail.ReferenceFullName)
	p, ignored := ToPush(ev)
	if ignored != "" {
		log.Info("codecommit event ignored", "reason", ignored)
		return ingest.Response{Status: ingest.StatusIgnored, Reason: ignored}, nil
	}
	if h.Repository != nil {
		h.enrich(ctx, log, &p)
	}
	resp, err := h.Starter.Start(ctx, []push.Push{p})
	if err != nil {
		return ingest.Response{}, fmt.Errorf("codecommit %s %s: %w", p.Repository, p.Ref, err)
	}
	return resp, nil
}

// enrich adds the head commit and the changed files. A failure leaves the
// push as the event made it (every path touched): a build too many beats
// a push lost.
func (h *Handler) enrich(ctx context.Context, log *slog.Logger, p *push.Push) {
	c, err := h.Repository.Commit(ctx, p.Repository, p.After)
	if err != nil {
		log.Warn("codecommit: head commit unavailable", "commit", p.After, "err", err)
	} else {
		c.ID = p.After
		p.HeadCommit = c
	}
	if p.Before == push.ZeroCommit {
		return // a created ref: no list to compare with
	}
	files, complete, err := h.Repository.Changed(ctx, p.Repository, p.Before, p.After, MaxFiles)
	if err != nil {
		log.Warn("codecommit: changed files unavailable", "before", p.Before, "after", p.After, "err", err)
		return
	}
	p.Files, p.FilesComplete = files, complete
}
