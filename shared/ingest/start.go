package ingest

import (
	"context"

	"github.com/pushline/pushline/shared/push"
	"github.com/pushline/pushline/shared/trigger"
)

// Starter starts executions for pushes that arrive another way than a
// signed POST /webhook (CodeCommit's EventBridge events): the same
// triggers, execution names, modes and answers as a webhook push.
type Starter struct{ h *Handler }

// NewStarter is New for a Starter: o.Secret is not needed (nothing is
// verified; the caller trusts its source, e.g. an EventBridge rule).
func NewStarter(o Options) (*Starter, error) {
	if len(o.Secret) == 0 {
		o.Secret = []byte("unused: a Starter verifies no signature")
	}
	h, err := New(o)
	if err != nil {
		return nil, err
	}
	return &Starter{h: h}, nil
}

// Start decides on each push as the webhook does after parsing a delivery,
// and answers as it would (Response.Status started, duplicate or
// ignored). A push whose ref is not a valid git ref name is ignored with
// the reason. The error is ErrUnavailable (wrapped) when Step Functions is.
func (s *Starter) Start(ctx context.Context, pushes []push.Push) (Response, error) {
	results := make([]Result, 0, len(pushes))
	for _, p := range pushes {
		if err := trigger.CheckRef(p.Ref); err != nil {
			results = append(results, Result{Ref: p.Ref, Status: StatusIgnored, Reason: err.Error()})
			continue
		}
		log := s.h.o.Logger.With("provider", p.Provider, "repository", p.Repository, "ref", p.Ref, "commit", p.After, "delivery", p.DeliveryID)
		res, err := s.h.push(ctx, log, p)
		if err != nil {
			return Response{}, err
		}
		results = append(results, res)
	}
	resp, _, err := summarize(results)
	return resp, err
}
