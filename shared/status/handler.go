package status

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/pushline/pushline/shared/config"
	"github.com/pushline/pushline/shared/event"
	"github.com/pushline/pushline/shared/push"
)

// Tokens finds a repository's API token ("" and no error: none, and then
// no status is posted). source.LazyTokens and source.TokenMap satisfy it.
type Tokens interface {
	Token(ctx context.Context, provider, repository string) (string, error)
}

// Executions reads an execution's input (the push: provider, web URL,
// branch); *sfn.Client satisfies it.
type Executions interface {
	DescribeExecution(ctx context.Context, in *sfn.DescribeExecutionInput, optFns ...func(*sfn.Options)) (*sfn.DescribeExecutionOutput, error)
}

// Handler turns pushline events into commit statuses. It is safe for
// concurrent use.
type Handler struct {
	Config *config.Config
	Store  Store
	Tokens Tokens     // nil: no token, no statuses
	Poster *Poster    // nil: a Poster with the defaults
	SFN    Executions // nil: the host is found from the config alone
	// RunURL returns the run page of an execution, the statuses' target
	// URL (nil: none; Bitbucket then gets the repository's page).
	RunURL func(executionARN string) string
	Log    *slog.Logger
	// OnFailure, when set, is called once per status the host did not
	// take (after the retries), e.g. to emit a metric.
	OnFailure func(st Status, err error)

	posted, failures atomic.Int64
	mu               sync.Mutex
	inputs           map[string]*push.Push // execution → push, a small cache
}

// Posted and Failures count the statuses posted and those the host did
// not take.
func (h *Handler) Posted() int64   { return h.posted.Load() }
func (h *Handler) Failures() int64 { return h.failures.Load() }

// target is where a run's statuses go.
type target struct {
	provider, repository, apiURL, ref, token, webURL string
	pullRequest                                      int
}

// update is one status an event asks for, before it is claimed.
type update struct {
	context, state string
	rank           int
	describe       func(took time.Duration) string
}

// Handle posts the statuses ev asks for. It returns an error only when
// the store fails (EventBridge retries the event); a host that does not
// take a status is logged and counted, never an error.
func (h *Handler) Handle(ctx context.Context, ev event.Event) error {
	d := ev.Detail
	if ev.Source != event.Source || d.Commit == "" || d.Execution == "" || d.Pipeline == "" {
		return nil
	}
	final := ev.DetailType == event.PipelineExecution && ev.Detail.State != event.Started
	if len(h.updates(ev, 0)) == 0 && !final {
		return nil
	}
	tg, ok := h.target(ctx, d)
	if !ok {
		return nil
	}
	ups := h.updates(ev, max(d.PullRequest, tg.pullRequest))
	at := ev.Time
	if at.IsZero() {
		at = time.Now()
	}
	for _, u := range ups {
		r := &Record{Status: h.status(tg, d, u.context, u.state), At: at, Rank: u.rank, Execution: d.Execution}
		if err := h.claimAndPost(ctx, tg, r, u.describe); err != nil {
			return err
		}
	}
	if final {
		return h.finish(ctx, tg, ev)
	}
	return nil
}

func (h *Handler) status(tg target, d event.Detail, ctxName, state string) Status {
	st := Status{Provider: tg.provider, APIURL: tg.apiURL, Repository: tg.repository, Commit: d.Commit, Ref: tg.ref,
		Context: ctxName, State: state}
	if h.RunURL != nil {
		st.TargetURL = h.RunURL(d.Execution)
	}
	if st.TargetURL == "" && tg.provider == push.Bitbucket {
		st.TargetURL = tg.webURL // Bitbucket requires a url
	}
	return st
}

// claimAndPost claims r (its description from describe, given how long
// the context has been running) and, when the claim holds, posts it.
func (h *Handler) claimAndPost(ctx context.Context, tg target, r *Record, describe func(time.Duration) string) error {
	old, err := h.Store.Get(ctx, r.Key())
	if err != nil {
		return err
	}
	since(r, old)
	r.Status.Description = describe(r.At.Sub(r.Since))
	ok, err := h.Store.Claim(ctx, r)
	if err != nil {
		return err
	}
	if !ok {
		h.logger().Debug("status not posted: a newer state is recorded", "context", r.Status.Context, "state", r.Status.State, "commit", r.Status.Commit)
		return nil
	}
	h.post(ctx, tg, r)
	return nil
}

// post sends r and then, while a newer state of the context was claimed
// meanwhile, that one: the newest state is always the last one posted.
func (h *Handler) post(ctx context.Context, tg target, r *Record) {
	poster := h.Poster
	if poster == nil {
		poster = &Poster{}
	}
	for range 4 {
		// Before a retry: give up a state a newer one has replaced.
		stale := func() bool {
			latest, err := h.Store.Get(ctx, r.Key())
			return err == nil && latest != nil && latest.newer(r)
		}
		err := poster.Post(ctx, r.Status, tg.token, stale)
		if errors.Is(err, ErrStale) {
			// The newer state's own poster posts it.
			h.logger().Debug("status retry dropped: a newer state was claimed", "context", r.Status.Context, "state", r.Status.State)
			return
		}
		if err != nil {
			h.failures.Add(1)
			h.logger().Error("commit status not posted", "provider", r.Status.Provider, "repository", r.Status.Repository,
				"commit", r.Status.Commit, "context", r.Status.Context, "state", r.Status.State, "err", err)
			if h.OnFailure != nil {
				h.OnFailure(r.Status, err)
			}
			return
		}
		h.posted.Add(1)
		h.logger().Info("commit status posted", "repository", r.Status.Repository, "commit", r.Status.Commit,
			"context", r.Status.Context, "state", r.Status.State, "description", r.Status.Description)
		latest, err := h.Store.Get(ctx, r.Key())
		if err != nil || latest == nil || !latest.newer(r) {
			return
		}
		r = latest
	}
}

// finish ends every context the run left pending when the run ends: at
// the pending state's own time with rank implied, so a stage's own final
// event, however late, still wins.
func (h *Handler) finish(ctx context.Context, tg target, ev event.Event) error {
	d := ev.Detail
	keys, err := h.Store.Contexts(ctx, d.Execution)
	if err != nil {
		return err
	}
	state, why := Error, "stopped"
	switch d.State {
	case event.Succeeded:
		state, why = Success, "the run succeeded"
	case event.Failed:
		why = "the run failed"
		if d.Stage != "" {
			why += " at " + d.Stage
		}
	case event.Superseded:
		why = "superseded by a newer run"
	case event.Stopped:
		why = "the run was stopped"
	}
	for _, k := range keys {
		rec, err := h.Store.Get(ctx, k)
		if err != nil {
			return err
		}
		if rec == nil || rec.Execution != d.Execution || rec.Rank != rankPending {
			continue
		}
		r := &Record{Status: rec.Status, At: rec.At, Rank: rankImplied, Execution: d.Execution}
		r.Status.State = state
		stage := strings.TrimPrefix(rec.Status.Context, Context(d.Pipeline, "", "")+"/")
		if err := h.claimAndPost(ctx, tg, r, func(time.Duration) string { return capital(stage + ": " + why) }); err != nil {
			return err
		}
	}
	return nil
}

// updates lists the statuses an event asks for; pr is the run's pull
// request number (0: none).
func (h *Handler) updates(ev event.Event, pr int) []update {
	d := ev.Detail
	run := Context(d.Pipeline, "", "")
	stage := Context(d.Pipeline, d.Stage, d.Action)
	name := d.Stage
	if d.Action != "" {
		name = d.Stage + "/" + d.Action
	}
	fixed := func(s string) func(time.Duration) string { return func(time.Duration) string { return s } }
	switch ev.DetailType {
	case event.PipelineExecution:
		switch d.State {
		case event.Started:
			what := "Running"
			if pr > 0 {
				what = fmt.Sprintf("Running pull request #%d", pr)
			}
			return []update{{run, Pending, rankPending, fixed(what)}}
		case event.Succeeded:
			return []update{{run, Success, rankFinal, func(t time.Duration) string { return "Succeeded in " + duration(t) }}}
		case event.Failed:
			return []update{{run, Failure, rankFinal, func(t time.Duration) string {
				s := "Failed after " + duration(t)
				if d.Stage != "" {
					s = d.Stage + " failed after " + duration(t)
				}
				return s + cause(d.Cause)
			}}}
		case event.Superseded:
			by := d.SupersededBy[strings.LastIndexByte(d.SupersededBy, ':')+1:]
			return []update{{run, Error, rankFinal, fixed(strings.TrimSuffix("Superseded by "+by, " by "))}}
		case event.Stopped:
			return []update{{run, Error, rankFinal, fixed("Stopped" + cause(d.Cause))}}
		}
	case event.StageExecution:
		if d.Stage == "" {
			return nil
		}
		switch d.State {
		case event.Started:
			return []update{{stage, Pending, rankPending, fixed(name + " running")}}
		case event.Succeeded:
			return []update{{stage, Success, rankFinal, func(t time.Duration) string { return name + " passed in " + duration(t) }}}
		case event.Failed:
			return []update{{stage, Failure, rankFinal, func(t time.Duration) string { return name + " failed after " + duration(t) + cause(d.Cause) }}}
		}
	case event.Approval:
		if d.Stage == "" {
			return nil
		}
		switch d.State {
		case event.Requested:
			return []update{{stage, Pending, rankPending, fixed("Waiting for approval by " + h.approvers(d.Stage))}}
		case event.Approved:
			return []update{{stage, Success, rankFinal, fixed(strings.TrimSpace("Approved by " + d.Approver))}}
		case event.Rejected:
			return []update{{stage, Failure, rankFinal, fixed(strings.TrimSpace("Rejected by "+d.Approver) + cause(d.Comment))}}
		case event.TimedOut:
			return []update{{stage, Failure, rankFinal, func(t time.Duration) string { return "No decision within " + duration(t) }}}
		}
	}
	return nil
}

func cause(c string) string {
	if c = strings.TrimSpace(c); c == "" {
		return ""
	}
	return ": " + c
}

func capital(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// approvers names the approvers of an approval stage from the config.
func (h *Handler) approvers(stage string) string {
	if h.Config != nil {
		for _, st := range h.Config.Stages {
			if st.Name == stage && st.Approval != nil && len(st.Approval.Approvers) > 0 {
				return strings.Join(st.Approval.Approvers, ", ")
			}
		}
	}
	return "an approver"
}

// target finds where d's statuses go: the run's push (from the execution
// input) and the config's repository entry; ok is false when statuses
// are off, no token is configured, or the repository is unknown.
func (h *Handler) target(ctx context.Context, d event.Detail) (target, bool) {
	log := h.logger().With("execution", d.Execution, "repository", d.Repository)
	p := h.pushOf(ctx, d.Execution)
	var repo *config.Repository
	if h.Config != nil {
		for i := range h.Config.Repositories {
			r := &h.Config.Repositories[i]
			if !strings.EqualFold(r.Repository, d.Repository) || (p != nil && p.Provider != "" && r.Provider != p.Provider) {
				continue
			}
			if repo != nil && p == nil {
				log.Warn("commit status: the repository is configured for several providers and the run's input cannot be read")
				return target{}, false
			}
			repo = r
			if p != nil {
				break
			}
		}
	}
	if repo == nil {
		log.Debug("commit status: repository not configured")
		return target{}, false
	}
	if repo.Statuses != nil && !*repo.Statuses {
		return target{}, false
	}
	tg := target{provider: repo.Provider, repository: repo.Repository, apiURL: repo.APIURL}
	web := repo.CloneURL
	if p != nil {
		tg.repository = p.Repository
		web = firstHTTP(p.WebURL, p.CloneURL, repo.CloneURL)
		tg.ref = firstOf(p.Branch, p.Tag)
		tg.webURL = p.WebURL
		if p.PullRequest != nil {
			tg.pullRequest = p.PullRequest.Number
		}
	}
	if tg.apiURL == "" {
		tg.apiURL = DefaultAPIURL(tg.provider, tg.repository, firstHTTP(web))
	}
	if h.Tokens == nil {
		return target{}, false
	}
	tok, err := h.Tokens.Token(ctx, tg.provider, tg.repository)
	if err != nil {
		log.Error("commit status: provider tokens", "err", err)
		h.failures.Add(1)
		return target{}, false
	}
	if tok == "" {
		log.Debug("commit status: no token for the repository")
		return target{}, false
	}
	tg.token = tok
	return tg, true
}

// pushOf reads (and caches) the push an execution builds; nil when it
// cannot.
func (h *Handler) pushOf(ctx context.Context, execution string) *push.Push {
	if h.SFN == nil {
		return nil
	}
	h.mu.Lock()
	p, ok := h.inputs[execution]
	h.mu.Unlock()
	if ok {
		return p
	}
	out, err := h.SFN.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(execution)})
	if err != nil {
		h.logger().Warn("commit status: read the execution's input", "execution", execution, "err", err)
		return nil
	}
	var in push.Input
	if err := json.Unmarshal([]byte(aws.ToString(out.Input)), &in); err != nil || in.Push.Provider == "" {
		return nil
	}
	h.mu.Lock()
	if h.inputs == nil || len(h.inputs) >= 512 {
		h.inputs = map[string]*push.Push{}
	}
	h.inputs[execution] = &in.Push
	h.mu.Unlock()
	return &in.Push
}

func (h *Handler) logger() *slog.Logger {
	if h.Log != nil {
		return h.Log
	}
	return slog.Default()
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// firstHTTP returns the first http(s) URL of urls, "" if none.
func firstHTTP(urls ...string) string {
	for _, u := range urls {
		if strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://") {
			return u
		}
	}
	return ""
}
