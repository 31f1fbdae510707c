package stack

import (
	"context"
	"regexp"
	"strings"
	"time"

	"github.com/pushline/pushline/shared/event"
	"github.com/pushline/pushline/shared/mail"
)

var approvalLinkRE = regexp.MustCompile(`https?://\S+/approvals/\S+`)

// announce wraps the mail sender so the console shows each approval link
// as it is mailed.
func (s *Stack) announce(next mail.Sender) mail.Sender {
	return mail.SenderFunc(func(ctx context.Context, m mail.Message) error {
		if err := next.Send(ctx, m); err != nil {
			return err
		}
		if link := approvalLinkRE.FindString(m.Text); link != "" {
			s.console.printf("approval requested from %s: %s", strings.Join(m.To, ", "), link)
		}
		return nil
	})
}

// failureMail mails notifications.failures when an execution fails.
func (s *Stack) failureMail(sender mail.Sender) func(event.Event) {
	to := s.cfg.Notifications.Failures
	from := s.cfg.Notifications.From
	return func(ev event.Event) {
		if len(to) == 0 || from == "" || ev.DetailType != event.PipelineExecution || ev.Detail.State != event.Failed {
			return
		}
		d := ev.Detail
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			m, err := mail.FailureWith(from, to, d, mail.FailureExtra{RunURL: s.RunURL(d.Execution), LogTail: s.failedLogTail(ctx, d)})
			if err != nil {
				s.o.Logger.Error("failure mail", "execution", d.Execution, "err", err)
				return
			}
			if err := sender.Send(ctx, m); err != nil {
				s.o.Logger.Error("failure mail", "execution", d.Execution, "err", err)
			}
		}()
	}
}

// failedLogTail is the last lines of the log of the build that failed the
// run d tells of (none when no build failed).
func (s *Stack) failedLogTail(ctx context.Context, d event.Detail) []string {
	if d.BuildID == "" || s.runs == nil {
		return nil
	}
	r, err := s.runs.Get(ctx, d.Execution)
	if err != nil {
		return nil
	}
	st := r.Stage(d.Stage)
	if st == nil || st.Build == nil {
		return nil
	}
	p, err := s.runs.Log(ctx, st.Build, "", mail.MaxLogTail)
	if err != nil {
		return nil
	}
	return p.Lines
}
