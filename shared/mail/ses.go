package mail

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
)

// SESAPI is the SES v2 call SES makes; *sesv2.Client satisfies it.
type SESAPI interface {
	SendEmail(ctx context.Context, in *sesv2.SendEmailInput, opts ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error)
}

// SES sends mail through Amazon SES v2 as raw MIME (the bytes Build
// renders), so SES and the local senders send the same message.
type SES struct {
	API SESAPI
	// ConfigurationSet is the optional SES configuration set.
	ConfigurationSet string
}

// Send sends m.
func (s SES) Send(ctx context.Context, m Message) error {
	raw, from, to, err := envelope(m)
	if err != nil {
		return err
	}
	in := &sesv2.SendEmailInput{
		FromEmailAddress: aws.String(from),
		Destination:      &types.Destination{ToAddresses: to},
		Content:          &types.EmailContent{Raw: &types.RawMessage{Data: raw}},
	}
	if s.ConfigurationSet != "" {
		in.ConfigurationSetName = aws.String(s.ConfigurationSet)
	}
	if _, err := s.API.SendEmail(ctx, in); err != nil {
		return fmt.Errorf("ses send email: %w", err)
	}
	return nil
}
