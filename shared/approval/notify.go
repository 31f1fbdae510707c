package approval

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/pushline/pushline/shared/event"
	"github.com/pushline/pushline/shared/mail"
)

// DefaultTimeout is how long links live when a Request has no
// timeoutSeconds.
const DefaultTimeout = 72 * time.Hour

// ErrInvalidRequest reports a notify Request that cannot be acted on.
var ErrInvalidRequest = errors.New("invalid approval request")

// MailError is what Handle returns when no approver could be mailed (a
// mail outage). Under Lambda its errorType is "MailError", so the Approve
// task's Retry can wait for the mail service to come back; the retry finds
// the record already stored and mails again.
type MailError struct {
	ID     string // the approval's id
	Failed int    // approvers whose mail failed
	Err    error  // their errors, joined
}

func (e *MailError) Error() string {
	msg := fmt.Sprintf("approval %s: no approver could be mailed (%d failed)", e.ID, e.Failed)
	if e.Err != nil {
		first, _, _ := strings.Cut(e.Err.Error(), "\n")
		msg += ": " + first
	}
	return msg
}

func (e *MailError) Unwrap() error { return e.Err }

// Notifier is the notify function: it stores the approval record and
// mails each approver a link of their own, then emits REQUESTED.
type Notifier struct {
	Store    Store
	Signer   *Signer
	Mail     mail.Sender
	Events   EventsAPI // nil: no events
	EventBus string
	BaseURL  string // PUSHLINE_APPROVAL_URL
	From     string // PUSHLINE_MAIL_FROM
	Now      func() time.Time
	Log      *slog.Logger
}

// Handle handles one Request (the lambda.Start handler). It is
// idempotent: a retried invocation with the same task token finds the
// record and sends the mail again only while the approval is pending. It
// fails only when the record cannot be stored or no approver could be
// mailed (*MailError).
func (n *Notifier) Handle(ctx context.Context, req Request) error {
	log := n.logger()
	if err := req.validate(); err != nil {
		return err
	}
	now := n.now().UTC()
	timeout := time.Duration(req.TimeoutSeconds) * time.Second
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	rec := &Record{
		ID:          IDFor(req.TaskToken),
		Pipeline:    req.Pipeline,
		Execution:   req.Execution,
		Stage:       req.Stage,
		Approvers:   req.Approvers,
		Push:        req.Push,
		Builds:      req.Builds,
		TaskToken:   req.TaskToken,
		RequestedAt: now,
		ExpiresAt:   now.Add(timeout).Truncate(time.Second),
		State:       Pending,
	}
	err := n.Store.Create(ctx, rec)
	if errors.Is(err, ErrExists) {
		old, gerr := n.Store.Get(ctx, rec.ID)
		if gerr != nil {
			return gerr
		}
		if old.State != Pending {
			log.InfoContext(ctx, "approval already past pending, no mail", "approval", old)
			return nil
		}
		rec = old
	} else if err != nil {
		return err
	}

	sent := 0
	var errs []error
	for _, a := range rec.Approvers {
		link := n.Signer.URL(n.BaseURL, Link{ID: rec.ID, Approver: a, Expires: rec.ExpiresAt})
		m, err := RequestMail(rec, n.From, a, link)
		if err != nil {
			return err
		}
		m.Date = now
		if err := n.Mail.Send(ctx, m); err != nil {
			log.ErrorContext(ctx, "approval mail not sent", "approval", rec, "approver", a, "err", err)
			errs = append(errs, err)
			continue
		}
		sent++
	}
	if sent == 0 {
		// Not wrapped: the Lambda runtime names the type of the value
		// returned (errorType "MailError"), which the state machine retries.
		return &MailError{ID: rec.ID, Failed: len(errs), Err: errors.Join(errs...)}
	}
	if err := emit(ctx, n.Events, n.EventBus, detail(rec, event.Requested)); err != nil {
		log.ErrorContext(ctx, "approval event not emitted", "approval", rec, "err", err)
	}
	log.InfoContext(ctx, "approval requested", "approval", rec, "mailed", sent)
	return nil
}

func (r Request) validate() error {
	switch {
	case r.TaskToken == "":
		return fmt.Errorf("%w: no taskToken", ErrInvalidRequest)
	case len(r.Approvers) == 0:
		return fmt.Errorf("%w: no approvers", ErrInvalidRequest)
	case r.Execution == "" || r.Pipeline == "" || r.Stage == "":
		return fmt.Errorf("%w: pipeline, execution and stage are required", ErrInvalidRequest)
	case r.TimeoutSeconds < 0:
		return fmt.Errorf("%w: negative timeoutSeconds", ErrInvalidRequest)
	}
	return nil
}

func (n *Notifier) now() time.Time {
	if n.Now != nil {
		return n.Now()
	}
	return time.Now()
}

func (n *Notifier) logger() *slog.Logger {
	if n.Log != nil {
		return n.Log
	}
	return slog.Default()
}
