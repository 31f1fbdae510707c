package mail

import (
	"bytes"
	"context"
	"fmt"
	"net"
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
	raw, from, to, err := envelope(m)
	if err != nil {
		return err
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
	if err := c.SendMail(from, to, bytes.NewReader(raw)); err != nil {
		return fmt.Errorf("smtp send to %s: %w", s.Addr, err)
	}
	if err := c.Quit(); err != nil {
		return fmt.Errorf("smtp quit %s: %w", s.Addr, err)
	}
	return nil
}
