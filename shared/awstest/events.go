package awstest

import (
	"context"
	"strconv"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
)

// Events is a fake EventBridge: it records the PutEvents calls.
type Events struct {
	// Check, when set, is called with each entry put (a test's checks of
	// every event: its source, bus, detail).
	Check func(ebtypes.PutEventsRequestEntry)
	// Err, when set, is every PutEvents' answer.
	Err error
	// Failed, when set, makes every PutEvents answer one failed entry.
	Failed bool

	mu   sync.Mutex
	puts []eventbridge.PutEventsInput
	ids  int
}

// PutEvents records in and answers an event id per entry.
func (f *Events) PutEvents(_ context.Context, in *eventbridge.PutEventsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.Err != nil {
		return nil, f.Err
	}
	if f.Failed {
		return &eventbridge.PutEventsOutput{FailedEntryCount: 1, Entries: []ebtypes.PutEventsResultEntry{{
			ErrorCode: aws.String("InternalFailure"), ErrorMessage: aws.String("try again"),
		}}}, nil
	}
	out := &eventbridge.PutEventsOutput{}
	for _, e := range in.Entries {
		if f.Check != nil {
			f.Check(e)
		}
		f.ids++
		out.Entries = append(out.Entries, ebtypes.PutEventsResultEntry{EventId: aws.String(strconv.Itoa(f.ids))})
	}
	f.puts = append(f.puts, *in)
	return out, nil
}

// Puts returns the PutEvents calls recorded, in order.
func (f *Events) Puts() []eventbridge.PutEventsInput {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]eventbridge.PutEventsInput(nil), f.puts...)
}

// Entries returns the entries of every call recorded, in order.
func (f *Events) Entries() []ebtypes.PutEventsRequestEntry {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []ebtypes.PutEventsRequestEntry
	for _, p := range f.puts {
		out = append(out, p.Entries...)
	}
	return out
}
