package mail

import (
	"context"
	"errors"
	"time"
)

// Message is one mail. From and To hold addresses as net/mail parses them
// ("ops@example.com" or "Ops <ops@example.com>").
type Message struct {
	From    string
	To      []string
	Subject string
	Text    string // the text/plain part (required)
	HTML    string // the text/html part (optional)
	// Date and ID (the Message-ID, without angle brackets) default to the
	// time of Build and a random id.
	Date time.Time
	ID   string
}

// Sender sends a Message.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// ErrInvalid reports a Message that cannot be sent as it is (a bad
// address, no recipient, no body).
var ErrInvalid = errors.New("invalid message")

// SenderFunc adapts a function to Sender.
type SenderFunc func(ctx context.Context, m Message) error

// Send calls f.
func (f SenderFunc) Send(ctx context.Context, m Message) error { return f(ctx, m) }
