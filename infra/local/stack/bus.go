package stack

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/google/uuid"

	"github.com/pushline/pushline/shared/event"
)

// bus is the local event bus: every event is appended, one EventBridge
// event a line, to events.jsonl (synced, so nothing acknowledged is lost)
// and handed to the subscribers. It satisfies the PutEvents interfaces the
// functions own, and backs the state machine's events:putEvents tasks.
type bus struct {
	region, account string

	mu   sync.Mutex
	file *os.File
	subs []func(event.Event)
}

func openBus(path, region, account string) (*bus, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open event log: %w", err)
	}
	return &bus{region: region, account: account, file: f}, nil
}

func (b *bus) subscribe(f func(event.Event)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.subs = append(b.subs, f)
}

// entry is one event to put, as PutEvents takes it.
type entry struct {
	Source, DetailType, Detail, EventBusName string
	Resources                                []string
}

// put records entries and returns their ids.
func (b *bus) put(entries []entry) ([]string, error) {
	now := time.Now().UTC()
	evs := make([]event.Event, 0, len(entries))
	ids := make([]string, 0, len(entries))
	var lines []byte
	for _, e := range entries {
		var d event.Detail
		if err := json.Unmarshal([]byte(e.Detail), &d); err != nil {
			return nil, fmt.Errorf("event detail is not a pushline detail: %w", err)
		}
		ev := event.Event{
			Version: "0", ID: uuid.NewString(), DetailType: e.DetailType, Source: e.Source,
			Account: b.account, Time: now, Region: b.region, Resources: e.Resources, Detail: d,
		}
		if ev.Resources == nil {
			ev.Resources = []string{}
		}
		line, err := json.Marshal(ev)
		if err != nil {
			return nil, fmt.Errorf("encode event: %w", err)
		}
		lines = append(append(lines, line...), '\n')
		evs = append(evs, ev)
		ids = append(ids, ev.ID)
	}
	b.mu.Lock()
	if _, err := b.file.Write(lines); err != nil {
		b.mu.Unlock()
		return nil, fmt.Errorf("append events: %w", err)
	}
	if err := b.file.Sync(); err != nil {
		b.mu.Unlock()
		return nil, fmt.Errorf("sync events: %w", err)
	}
	subs := b.subs
	b.mu.Unlock()
	for _, ev := range evs {
		for _, f := range subs {
			f(ev)
		}
	}
	return ids, nil
}

// PutEvents is the EventBridge call the functions make.
func (b *bus) PutEvents(_ context.Context, in *eventbridge.PutEventsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	es := make([]entry, 0, len(in.Entries))
	for _, e := range in.Entries {
		es = append(es, entry{
			Source: aws.ToString(e.Source), DetailType: aws.ToString(e.DetailType),
			Detail: aws.ToString(e.Detail), EventBusName: aws.ToString(e.EventBusName), Resources: e.Resources,
		})
	}
	ids, err := b.put(es)
	if err != nil {
		return nil, err
	}
	out := &eventbridge.PutEventsOutput{}
	for _, id := range ids {
		out.Entries = append(out.Entries, ebtypes.PutEventsResultEntry{EventId: aws.String(id)})
	}
	return out, nil
}

func (b *bus) close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.file.Close()
}
