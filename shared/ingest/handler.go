package ingest

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/pushline/pushline/shared/config"
	"github.com/pushline/pushline/shared/push"
	"github.com/pushline/pushline/shared/trigger"
	"github.com/pushline/pushline/shared/webhook"
)

// MaxBody is the largest body accepted (25 MiB, as GitHub caps its
// deliveries); larger ones get 413 without being read whole.
const MaxBody = 25 << 20

// maxInput is Step Functions' limit on an execution input.
const maxInput = 256 << 10

// StepFunctions is the part of the Step Functions API the handler uses;
// *sfn.Client satisfies it.
type StepFunctions interface {
	StartExecution(ctx context.Context, in *sfn.StartExecutionInput, optFns ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error)
	ListExecutions(ctx context.Context, in *sfn.ListExecutionsInput, optFns ...func(*sfn.Options)) (*sfn.ListExecutionsOutput, error)
	StopExecution(ctx context.Context, in *sfn.StopExecutionInput, optFns ...func(*sfn.Options)) (*sfn.StopExecutionOutput, error)
	DescribeExecution(ctx context.Context, in *sfn.DescribeExecutionInput, optFns ...func(*sfn.Options)) (*sfn.DescribeExecutionOutput, error)
}

// EventBridge is the EventBridge call the handler makes (SUPERSEDED
// events); *eventbridge.Client satisfies it.
type EventBridge interface {
	PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, optFns ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

// Options configure a Handler.
type Options struct {
	Config          *config.Config
	Secret          []byte // the webhook secret
	StateMachineARN string
	SFN             StepFunctions
	Events          EventBridge // nil: SUPERSEDED events are only logged
	EventBus        string      // PUSHLINE_EVENT_BUS
	Logger          *slog.Logger
	MaxBody         int64            // 0: MaxBody
	Now             func() time.Time // nil: time.Now
	// ForksRefused, when set, refuses every fork pull request with this
	// reason: fork builds cannot run safely where this handler starts them
	// (the local stack without its build sandbox).
	ForksRefused string
}

// Handler serves POST /webhook.
type Handler struct {
	o       Options
	matcher *trigger.Matcher
}

// New checks o and compiles the config's triggers.
func New(o Options) (*Handler, error) {
	switch {
	case o.Config == nil:
		return nil, errors.New("ingest: no config")
	case len(o.Secret) == 0:
		return nil, fmt.Errorf("ingest: %w", webhook.ErrNoSecret)
	case o.StateMachineARN == "":
		return nil, errors.New("ingest: no state machine ARN (PUSHLINE_STATE_MACHINE_ARN)")
	case o.SFN == nil:
		return nil, errors.New("ingest: no Step Functions client")
	}
	m, err := trigger.New(o.Config.Repositories)
	if err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.MaxBody <= 0 {
		o.MaxBody = MaxBody
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Handler{o: o, matcher: m}, nil
}

// Answer statuses.
const (
	StatusStarted   = "started"
	StatusDuplicate = "duplicate"
	StatusIgnored   = "ignored"
)

// Response is the JSON body of every answer.
type Response struct {
	Status    string   `json:"status,omitempty"`
	Execution string   `json:"execution,omitempty"`
	Reason    string   `json:"reason,omitempty"`
	Error     string   `json:"error,omitempty"`
	Results   []Result `json:"results,omitempty"` // one per push, when a delivery carries several
}

// Result is the outcome for one push of a delivery.
type Result struct {
	Ref       string `json:"ref"`
	Status    string `json:"status"`
	Execution string `json:"execution,omitempty"`
	Reason    string `json:"reason,omitempty"`
}

// Errors the handler maps to statuses (besides webhook's sentinels).
var (
	ErrMethod      = errors.New("method not allowed")
	ErrTooLarge    = errors.New("body too large")
	ErrUnavailable = errors.New("step functions unavailable")
	ErrInputSize   = errors.New("push too large for an execution input")
)

// status maps an error to the HTTP status and the message the caller
// sees; the only place that does.
func status(err error) (int, string) {
	switch {
	case errors.Is(err, ErrMethod):
		return http.StatusMethodNotAllowed, "only POST is allowed"
	case errors.Is(err, ErrTooLarge):
		return http.StatusRequestEntityTooLarge, err.Error()
	case errors.Is(err, webhook.ErrUnsupportedContentType):
		return http.StatusUnsupportedMediaType, err.Error()
	case errors.Is(err, webhook.ErrMissingSignature), errors.Is(err, webhook.ErrBadSignature):
		return http.StatusUnauthorized, err.Error()
	case errors.Is(err, webhook.ErrMalformed), errors.Is(err, webhook.ErrUnknownProvider), errors.Is(err, ErrInputSize),
		errors.Is(err, trigger.ErrInvalidRef):
		return http.StatusBadRequest, err.Error()
	case errors.Is(err, ErrUnavailable):
		return http.StatusServiceUnavailable, "step functions unavailable, retry later"
	}
	return http.StatusInternalServerError, "internal error"
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	log := h.o.Logger
	resp, code, err := h.serve(w, r)
	if err != nil {
		var msg string
		code, msg = status(err)
		resp = Response{Error: msg}
		if code == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", http.MethodPost)
		}
		lvl := slog.LevelWarn
		if code >= 500 {
			lvl = slog.LevelError
		}
		log.Log(r.Context(), lvl, "webhook refused", "delivery", webhook.DeliveryID(r.Header), "status", code, "err", err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	b, _ := json.Marshal(resp)
	w.Write(append(b, '\n'))
}

// body reads the request body up to the limit, refusing a declared or
// actual length over it without reading further.
func (h *Handler) body(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	max := h.o.MaxBody
	if r.ContentLength > max {
		return nil, fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooLarge, r.ContentLength, max)
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, fmt.Errorf("%w: the limit is %d bytes", ErrTooLarge, max)
		}
		return nil, fmt.Errorf("%w: read body: %v", webhook.ErrMalformed, err)
	}
	return b, nil
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request) (Response, int, error) {
	if r.Method != http.MethodPost {
		return Response{}, 0, ErrMethod
	}
	body, err := h.body(w, r)
	if err != nil {
		return Response{}, 0, err
	}
	d, err := webhook.Parse(h.o.Secret, r.Header, body)
	log := h.o.Logger.With("provider", d.Provider, "delivery", d.ID, "event", d.Event)
	if err != nil {
		return Response{}, 0, err
	}
	if d.Ignored != "" {
		log.Info("webhook ignored", "decision", StatusIgnored, "reason", d.Ignored)
		return Response{Status: StatusIgnored, Reason: d.Ignored}, http.StatusOK, nil
	}
	for _, p := range d.Pushes {
		// Before any trigger sees it, or any log line carries it raw.
		if err := checkRefs(p); err != nil {
			return Response{}, 0, err
		}
	}
	results := make([]Result, 0, len(d.Pushes))
	for _, p := range d.Pushes {
		res, err := h.push(r.Context(), log.With("repository", p.Repository, "ref", p.Ref, "commit", p.After), p)
		if err != nil {
			return Response{}, 0, err
		}
		results = append(results, res)
	}
	return summarize(results)
}

// checkRefs checks a push's ref and, for a pull request, its source and
// target branches.
func checkRefs(p push.Push) error {
	if err := trigger.CheckRef(p.Ref); err != nil {
		return err
	}
	if pr := p.PullRequest; pr != nil {
		for _, b := range []string{pr.BaseBranch, p.Branch} {
			if b == "" {
				continue
			}
			if err := trigger.CheckRef("refs/heads/" + b); err != nil {
				return err
			}
		}
	}
	return nil
}

// summarize turns per-push results into the answer: started if any push
// started an execution, else duplicate if any was one, else ignored.
func summarize(results []Result) (Response, int, error) {
	var resp Response
	code := http.StatusOK
	var reasons []string
	for _, s := range []string{StatusStarted, StatusDuplicate} {
		for _, r := range results {
			if r.Status == s && resp.Status == "" {
				resp.Status, resp.Execution = s, r.Execution
			}
		}
	}
	if resp.Status == StatusStarted {
		code = http.StatusAccepted
	}
	if resp.Status == "" {
		resp.Status = StatusIgnored
		for _, r := range results {
			reasons = append(reasons, r.Reason)
		}
		resp.Reason = strings.Join(reasons, "; ")
	}
	if len(results) > 1 {
		resp.Results = results
	}
	return resp, code, nil
}

// push decides on one push and starts its execution.
func (h *Handler) push(ctx context.Context, log *slog.Logger, p push.Push) (Result, error) {
	res := Result{Ref: p.Ref}
	m := h.matcher.Match(p)
	if !m.Matched() {
		log.Info("push ignored", "decision", StatusIgnored, "reason", m.Reason)
		res.Status, res.Reason = StatusIgnored, m.Reason
		return res, nil
	}
	// A fresh Request per HTTP request: the SDK's own retries resend
	// these bytes (the same call to Step Functions); any other request
	// for this name, a second delivery included, is ExecutionAlreadyExists.
	run := push.Input{Pipeline: h.o.Config.Name, Push: p.Trimmed(), Request: rand.Text()}
	if p.PullRequest != nil {
		if p.PullRequest.Closed {
			return h.closePullRequest(ctx, log, res, p)
		}
		run.Run = &push.Run{Trigger: push.TriggerPullRequest, Attempt: 1}
		run.Skip = h.o.Config.PullRequestSkip(*m.Repository)
		if why := h.refusePullRequest(p, run.Skip); why != "" {
			log.Info("pull request refused", "decision", StatusIgnored, "reason", why)
			res.Status, res.Reason = StatusIgnored, why
			return res, nil
		}
	}
	pipeline := h.o.Config.Name
	name := ExecutionName(pipeline, p)
	arn := ExecutionARN(h.o.StateMachineARN, name)
	if m.Repository.CloneURL != "" {
		run.Push.CloneURL = m.Repository.CloneURL
	}
	input, err := json.Marshal(run)
	if err != nil {
		return res, fmt.Errorf("encode input of %s: %w", name, err)
	}
	if len(input) > maxInput {
		return res, fmt.Errorf("%w: %d bytes", ErrInputSize, len(input))
	}
	// A newer commit on a pull request supersedes the older run whatever
	// the mode.
	superseded := h.o.Config.Mode == config.ModeSuperseded || h.o.Config.Mode == "" || p.PullRequest != nil
	var known map[string]*push.Push
	if superseded {
		known = map[string]*push.Push{}
		newer, err := h.newerRunning(ctx, p, name, known)
		if err != nil {
			return res, err
		}
		if newer != nil {
			return h.late(ctx, log, res, arn, aws.ToString(newer.item.ExecutionArn))
		}
	}
	out, err := h.o.SFN.StartExecution(ctx, &sfn.StartExecutionInput{
		StateMachineArn: aws.String(h.o.StateMachineARN),
		Name:            aws.String(name),
		Input:           aws.String(string(input)),
	})
	var exists *sfntypes.ExecutionAlreadyExists
	var started *time.Time
	switch {
	case errors.As(err, &exists):
		res.Status = StatusDuplicate
	case err != nil:
		return res, sfnError("start execution "+name, err)
	default:
		arn = aws.ToString(out.ExecutionArn)
		res.Status = StatusStarted
		started = out.StartDate
	}
	res.Execution = arn
	log.Info("push accepted", "decision", res.Status, "execution", arn, "mode", h.o.Config.Mode)
	if superseded {
		newer, err := h.supersede(ctx, log, p, name, arn, started, known)
		if err != nil {
			return res, err
		}
		if newer != "" && res.Status == StatusStarted {
			res.Status, res.Reason = StatusIgnored, supersededReason(newer)
			log.Info("push superseded at once", "decision", res.Status, "execution", arn, "by", newer)
		}
	}
	return res, nil
}

// late answers a push older than the running execution newer: a
// duplicate if its own execution exists (the same push again), else
// ignored, and nothing is started.
func (h *Handler) late(ctx context.Context, log *slog.Logger, res Result, arn, newer string) (Result, error) {
	_, err := h.o.SFN.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
	var gone *sfntypes.ExecutionDoesNotExist
	switch {
	case err == nil:
		res.Status, res.Execution = StatusDuplicate, arn
	case errors.As(err, &gone):
		res.Status, res.Reason = StatusIgnored, supersededReason(newer)
	default:
		return res, sfnError("describe execution "+nameOf(arn), err)
	}
	log.Info("older push not started", "decision", res.Status, "newer", newer)
	return res, nil
}

func supersededReason(newer string) string {
	return "superseded by newer execution " + newer
}

// sfnError wraps a Step Functions error: ErrUnavailable unless it is one
// that says this request itself is wrong (our bug, not the service's).
func sfnError(what string, err error) error {
	var name *sfntypes.InvalidName
	var input *sfntypes.InvalidExecutionInput
	if errors.As(err, &name) || errors.As(err, &input) {
		return fmt.Errorf("%s: %w", what, err)
	}
	return fmt.Errorf("%s: %w: %w", what, ErrUnavailable, err)
}
