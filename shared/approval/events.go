package approval

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/pushline/pushline/shared/event"
)

// EventsAPI is the EventBridge call the approval functions make;
// *eventbridge.Client satisfies it (and the local stack's event log).
type EventsAPI interface {
	PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, opts ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

// detail returns the Approval State Change detail of r in state.
func detail(r *Record, state string) event.Detail {
	return event.Detail{
		Pipeline:   r.Pipeline,
		Execution:  r.Execution,
		State:      state,
		Repository: r.Push.Repository,
		Ref:        r.Push.Ref,
		Commit:     r.Push.After,
		Stage:      r.Stage,
		Approver:   r.Approver,
		Comment:    r.Comment,
	}
}

// emit puts one Approval State Change event on bus. A nil api emits
// nothing.
func emit(ctx context.Context, api EventsAPI, bus string, d event.Detail) error {
	if api == nil {
		return nil
	}
	b, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("put event %s: %w", d.State, err)
	}
	e := ebtypes.PutEventsRequestEntry{
		Source:     aws.String(event.Source),
		DetailType: aws.String(event.Approval),
		Detail:     aws.String(string(b)),
		Resources:  []string{d.Execution},
	}
	if bus != "" {
		e.EventBusName = aws.String(bus)
	}
	out, err := api.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{e}})
	if err != nil {
		return fmt.Errorf("put event %s: %w", d.State, err)
	}
	if out.FailedEntryCount > 0 && len(out.Entries) > 0 {
		return fmt.Errorf("put event %s: %s: %s", d.State, aws.ToString(out.Entries[0].ErrorCode), aws.ToString(out.Entries[0].ErrorMessage))
	}
	return nil
}
