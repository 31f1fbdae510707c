package approval

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/smithy-go"

	"github.com/pushline/pushline/shared/event"
)

// TaskAPI is the Step Functions calls the pages make (a decision; a GET
// asks whether the execution still runs); *sfn.Client satisfies it.
type TaskAPI interface {
	SendTaskSuccess(ctx context.Context, in *sfn.SendTaskSuccessInput, opts ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error)
	SendTaskFailure(ctx context.Context, in *sfn.SendTaskFailureInput, opts ...func(*sfn.Options)) (*sfn.SendTaskFailureOutput, error)
	DescribeExecution(ctx context.Context, in *sfn.DescribeExecutionInput, opts ...func(*sfn.Options)) (*sfn.DescribeExecutionOutput, error)
}

// Limits of a decision POST.
const (
	MaxComment  = 2000     // characters
	maxFormBody = 64 << 10 // bytes
	// ClaimLease is how long a claim (a POST between its two writes)
	// holds before another POST may take it over (a crashed decider's).
	ClaimLease = 5 * time.Minute
)

// Handler errors, each mapped to its status in status().
var (
	errBadPath     = errors.New("no such approval page")
	errMethod      = errors.New("method not allowed")
	errMediaType   = errors.New("unsupported form encoding")
	errTooLarge    = errors.New("form too large")
	errBadForm     = errors.New("malformed form")
	errCrossSite   = errors.New("cross-site form post")
	errFormToken   = errors.New("form token invalid")
	errNotYours    = errors.New("approver not on this approval")
	errBusy        = errors.New("decision in progress")
	errTaskGone    = errors.New("step functions no longer waits")
	errUnavailable = errors.New("service unavailable")
)

// Handler serves the approval pages: GET /approvals/<id>?… shows the
// approval and a form, POST decides. Mount it at /approvals/.
type Handler struct {
	Store    Store
	Signer   *Signer
	Tasks    TaskAPI
	Events   EventsAPI // nil: no events
	EventBus string
	Now      func() time.Time
	Log      *slog.Logger
	// RunURL, when set, is the run page of an execution: the page of a
	// decided approval links it ("follow the run").
	RunURL func(execution string) string
}

// decided is the decision view of rec, with the run page link.
func (h *Handler) decided(rec *Record) *decisionView {
	d := decisionOf(rec)
	if h.RunURL != nil && rec.Execution != "" {
		d.RunURL = webURL(h.RunURL(rec.Execution))
	}
	return d
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id, ok := idFromPath(r.URL.Path)
	if !ok {
		h.fail(w, r, errBadPath, nil)
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		h.get(w, r, id)
	case http.MethodPost:
		h.post(w, r, id)
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		h.fail(w, r, errMethod, nil)
	}
}

// idFromPath returns the id of …/approvals/<id>, whatever prefix (an API
// Gateway stage) comes before.
func idFromPath(p string) (string, bool) {
	i := strings.LastIndex(p, "/approvals/")
	if i < 0 {
		return "", false
	}
	id := p[i+len("/approvals/"):]
	return id, ValidID(id)
}

// load verifies the link and returns its record, if the record can still
// be decided through it: ErrForged, ErrNotFound, errNotYours, ErrDecided
// (the record is returned, to say by whom), errBusy, ErrExpired.
func (h *Handler) load(ctx context.Context, id string, q url.Values) (Link, *Record, error) {
	now := h.now()
	l, lerr := h.Signer.Verify(id, q, now)
	if errors.Is(lerr, ErrForged) {
		return l, nil, lerr
	}
	rec, err := h.Store.Get(ctx, id)
	if err != nil {
		return l, nil, err
	}
	switch {
	case !rec.HasApprover(l.Approver):
		return l, nil, errNotYours
	case rec.Decided():
		return l, rec, ErrDecided
	case rec.State == Expired:
		return l, rec, ErrExpired
	case lerr != nil || !now.Before(rec.ExpiresAt):
		return l, rec, ErrExpired
	case rec.State == Deciding && !rec.ClaimedAt.Before(now.Add(-ClaimLease)):
		return l, rec, errBusy
	}
	return l, rec, nil
}

func (h *Handler) get(w http.ResponseWriter, r *http.Request, id string) {
	l, rec, err := h.load(r.Context(), id, r.URL.Query())
	if err == nil && h.ended(r.Context(), rec) {
		err = h.expire(r.Context(), rec)
	}
	if err != nil {
		h.fail(w, r, err, rec)
		return
	}
	h.render(w, http.StatusOK, page{
		Status:   "approval needed",
		Title:    fmt.Sprintf("Approval needed: %s (%s)", rec.Stage, rec.Pipeline),
		Approval: summarize(rec),
		Form:     &formView{Token: h.Signer.FormToken(l), Approver: l.Approver, MaxComment: MaxComment},
	})
}

func (h *Handler) post(w http.ResponseWriter, r *http.Request, id string) {
	approve, comment, token, err := parseForm(w, r)
	if err != nil {
		h.fail(w, r, err, nil)
		return
	}
	if err := checkOrigin(r); err != nil {
		h.fail(w, r, err, nil)
		return
	}
	l, rec, err := h.load(r.Context(), id, r.URL.Query())
	if err != nil {
		h.fail(w, r, err, rec)
		return
	}
	if !h.Signer.CheckFormToken(l, token) {
		h.fail(w, r, errFormToken, nil)
		return
	}
	// The decision runs to its end even if the client goes away, so a
	// claim is never left behind by a closed connection.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 30*time.Second)
	defer cancel()
	rec, err = h.decide(ctx, rec, l.Approver, approve, comment)
	if err != nil {
		h.fail(w, r, err, rec)
		return
	}
	p := page{Status: "decided", Approval: summarize(rec), Decision: h.decided(rec)}
	if approve {
		p.Title, p.Message = "Approved", "Thank you. The pipeline continues."
	} else {
		p.Title, p.Message = "Rejected", "Thank you. The pipeline stops here."
	}
	h.render(w, http.StatusOK, p)
}

// describeTimeout bounds the GET's DescribeExecution: a slow Step
// Functions must not hold the page.
const describeTimeout = 5 * time.Second

// ended reports whether rec's execution has definitely ended (any status
// but RUNNING). When Step Functions cannot say (an outage, no permission,
// an unknown execution) it reports false: the page shows, and the POST
// decides as before.
func (h *Handler) ended(ctx context.Context, rec *Record) bool {
	ctx, cancel := context.WithTimeout(ctx, describeTimeout)
	defer cancel()
	out, err := h.Tasks.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(rec.Execution)})
	if err != nil {
		h.logger().WarnContext(ctx, "approval page: execution status unknown", "approval", rec, "err", err)
		return false
	}
	return out.Status != sfntypes.ExecutionStatusRunning
}

// expire marks a pending record whose execution has ended EXPIRED and
// returns the error whose page says so. A record decided or claimed
// meanwhile keeps its state.
func (h *Handler) expire(ctx context.Context, rec *Record) error {
	now := h.now().UTC()
	_, err := h.Store.Decide(ctx, rec.ID, Transition{From: Pending, StaleBefore: now.Add(-ClaimLease), To: Expired})
	if err != nil {
		h.logger().InfoContext(ctx, "approval not marked expired", "approval", rec, "err", err)
	} else {
		h.logger().InfoContext(ctx, "approval expired: its execution ended", "approval", rec)
	}
	return fmt.Errorf("execution %s ended: %w", rec.Execution, ErrExpired)
}

// decide claims the record, tells Step Functions, and records the
// outcome (see the package doc for the order and why).
func (h *Handler) decide(ctx context.Context, rec *Record, approver string, approve bool, comment string) (*Record, error) {
	log := h.logger()
	now := h.now().UTC()
	claim := rand.Text()
	_, err := h.Store.Decide(ctx, rec.ID, Transition{
		From: Pending, StaleBefore: now.Add(-ClaimLease),
		To: Deciding, NewClaim: claim, ClaimedAt: now,
		Approver: approver, Comment: comment, DecidedAt: now,
	})
	if errors.Is(err, ErrDecided) {
		cur, gerr := h.Store.Get(ctx, rec.ID)
		if gerr != nil {
			return nil, gerr
		}
		if cur.Decided() {
			return cur, ErrDecided
		}
		if cur.State == Expired {
			return cur, ErrExpired
		}
		return cur, errBusy
	}
	if err != nil {
		return nil, err
	}

	decidedAt := now.Format(time.RFC3339)
	state := Approved
	if approve {
		out, _ := json.Marshal(Output{Approved: true, Approver: approver, Comment: comment, DecidedAt: decidedAt})
		_, err = h.Tasks.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(rec.TaskToken), Output: aws.String(string(out))})
	} else {
		state = Rejected
		cause, _ := json.Marshal(Rejection{Approver: approver, Comment: comment, DecidedAt: decidedAt})
		_, err = h.Tasks.SendTaskFailure(ctx, &sfn.SendTaskFailureInput{TaskToken: aws.String(rec.TaskToken), Error: aws.String(ErrorRejected), Cause: aws.String(string(cause))})
	}
	back := Transition{From: Deciding, Claim: claim}
	switch {
	case taskGone(err):
		log.InfoContext(ctx, "approval task gone", "approval", rec, "err", err)
		back.To = Expired
		cur, derr := h.Store.Decide(ctx, rec.ID, back)
		if derr != nil {
			log.ErrorContext(ctx, "approval not marked expired", "approval", rec, "err", derr)
			cur = rec
		}
		return cur, errTaskGone
	case err != nil:
		log.ErrorContext(ctx, "approval decision not sent", "approval", rec, "err", err)
		back.To = Pending
		if _, derr := h.Store.Decide(ctx, rec.ID, back); derr != nil {
			log.ErrorContext(ctx, "approval claim not rolled back; it lapses after the lease", "approval", rec, "err", derr)
		}
		return nil, errUnavailable
	}
	final := Transition{From: Deciding, Claim: claim, To: state, Approver: approver, Comment: comment, DecidedAt: now}
	cur, err := h.Store.Decide(ctx, rec.ID, final)
	if err != nil {
		// Step Functions has the decision; only our record lags.
		log.ErrorContext(ctx, "approval decided but not recorded", "approval", rec, "state", state, "err", err)
		cur = rec
		final.apply(cur)
	}
	evState := event.Approved
	if !approve {
		evState = event.Rejected
	}
	if err := emit(ctx, h.Events, h.EventBus, detail(cur, evState)); err != nil {
		log.ErrorContext(ctx, "approval event not emitted", "approval", cur, "err", err)
	}
	log.InfoContext(ctx, "approval decided", "approval", cur, "approver", approver)
	return cur, nil
}

// taskGone reports whether a SendTask* error means the task no longer
// waits: timed out, closed, or its execution ended.
func taskGone(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.ErrorCode() {
	case "TaskTimedOut", "TaskDoesNotExist", "InvalidToken":
		return true
	}
	return false
}

// parseForm reads a decision form: decision=approve|reject, an optional
// comment, the form token.
func parseForm(w http.ResponseWriter, r *http.Request) (approve bool, comment, token string, err error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return false, "", "", errMediaType
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	if err := r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return false, "", "", errTooLarge
		}
		return false, "", "", errBadForm
	}
	return decodeForm(r.PostForm)
}

// decodeForm validates the fields of a decision form.
func decodeForm(f url.Values) (approve bool, comment, token string, err error) {
	switch f.Get("decision") {
	case "approve":
		approve = true
	case "reject":
	default:
		return false, "", "", fmt.Errorf("%w: decision must be approve or reject", errBadForm)
	}
	comment = f.Get("comment")
	if !utf8.ValidString(comment) {
		return false, "", "", fmt.Errorf("%w: comment is not UTF-8", errBadForm)
	}
	comment = strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) && r != '\n' && r != '\t' {
			return -1
		}
		return r
	}, strings.ReplaceAll(comment, "\r\n", "\n")))
	if utf8.RuneCountInString(comment) > MaxComment {
		return false, "", "", fmt.Errorf("%w: comment over %d characters", errBadForm, MaxComment)
	}
	return approve, comment, f.Get("token"), nil
}

// checkOrigin refuses posts a browser marks as coming from another site
// (Sec-Fetch-Site), or whose Origin is another host. Both headers are
// optional (old browsers, curl); the form token is the real check.
func checkOrigin(r *http.Request) error {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
	default:
		return errCrossSite
	}
	o := r.Header.Get("Origin")
	if o == "" || o == "null" {
		return nil
	}
	u, err := url.Parse(o)
	if err != nil || !strings.EqualFold(u.Host, r.Host) {
		return errCrossSite
	}
	return nil
}

// status maps every handler error to its status and page, in one place.
func status(err error) (code int, title, msg string) {
	switch {
	case errors.Is(err, ErrForged), errors.Is(err, errNotYours):
		return http.StatusForbidden, "This link is not valid", "It may have been changed or cut short. Open the link from your mail again, whole."
	case errors.Is(err, errFormToken), errors.Is(err, errCrossSite):
		return http.StatusForbidden, "The form could not be verified", "Open the link from your mail again and decide from that page."
	case errors.Is(err, ErrNotFound), errors.Is(err, errBadPath):
		return http.StatusNotFound, "No such approval", "This approval does not exist (any more)."
	case errors.Is(err, ErrDecided):
		return http.StatusConflict, "Already decided", "This approval has already been decided; nothing was changed."
	case errors.Is(err, errBusy):
		return http.StatusConflict, "Being decided", "Someone is deciding this approval right now. Reload the page in a minute."
	case errors.Is(err, ErrExpired), errors.Is(err, errTaskGone):
		return http.StatusGone, "This link has expired", "The pipeline no longer waits for this approval (it timed out or was stopped). Nothing was changed."
	case errors.Is(err, errMethod):
		return http.StatusMethodNotAllowed, "Method not allowed", "Open the link in a browser."
	case errors.Is(err, errMediaType):
		return http.StatusUnsupportedMediaType, "Unsupported form", "Post the form from the approval page."
	case errors.Is(err, errTooLarge):
		return http.StatusRequestEntityTooLarge, "Form too large", fmt.Sprintf("Keep the comment under %d characters.", MaxComment)
	case errors.Is(err, errBadForm):
		return http.StatusBadRequest, "The form could not be read", fmt.Sprintf("Choose Approve or Reject; keep the comment under %d characters.", MaxComment)
	default: // store or Step Functions outage
		return http.StatusServiceUnavailable, "Try again in a moment", "The decision could not be recorded just now; nothing was changed. Reload the link and decide again."
	}
}

// fail answers err's page; rec, when set, shows a decision already made.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error, rec *Record) {
	code, title, msg := status(err)
	if code >= 500 {
		h.logger().ErrorContext(r.Context(), "approval page", "status", code, "err", err)
	} else {
		h.logger().InfoContext(r.Context(), "approval page", "status", code, "err", err)
	}
	p := page{Status: http.StatusText(code), Title: title, Message: msg}
	if rec != nil && rec.Decided() {
		p.Title = "Already " + strings.ToLower(rec.State)
		p.Decision = h.decided(rec)
		p.Approval = summarize(rec)
	}
	if code == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "30")
	}
	h.render(w, code, p)
}

func (h *Handler) render(w http.ResponseWriter, code int, p page) {
	b, err := renderPage(p)
	if err != nil {
		h.logger().Error("approval page", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Cache-Control", "no-store")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func (h *Handler) logger() *slog.Logger {
	if h.Log != nil {
		return h.Log
	}
	return slog.Default()
}
