package mail

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/mail"
	"time"

	"github.com/emersion/go-smtp"
)

// SMTP sends mail over plain SMTP (no TLS, no auth) to Addr, host:port:
// the local stack's relay (PUSHLINE_SMTP_ADDR), e.g. Mailpit or a local
// MTA.
type SMTP struct {
	Addr string
	// Timeout bounds one delivery; 0 means 30 s.
	Timeout time.Duration
}

// Send delivers m to its recipients.
func (s SMTP) Send(ctx context.Context, m Message) error {
	raw, err := Build(m)
	if err != nil {
		return err
	}
	from, _ := mail.ParseAddress(m.From) // checked by Build
	to := make([]string, 0, len(m.To))
	for _, t := range m.To {
		a, _ := mail.ParseAddress(t)
		to = append(to, a.Address)
	}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("smtp dial %s: %w", s.Addr, err)
	}
	if deadline, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(deadline)
	}
	c := smtp.NewClient(conn)
	defer c.Close()
	if err := c.SendMail(from.Address, to, bytes.NewReader(raw)); err != nil {
		return fmt.Errorf("smtp send to %s: %w", s.Addr, err)
	}
	if err := c.Quit(); err != nil {
		return fmt.Errorf("smtp quit %s: %w", s.Addr, err)
	}
	return nil
}
