package stack

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pushline/pushline/shared/event"
	"github.com/pushline/pushline/shared/source"
	"github.com/pushline/pushline/shared/status"
)

// statusQueue takes events off the local bus for the status handler
// (shared/status), as the status rule does in AWS: a few workers post
// them, so a slow or failing git host never blocks the bus or delays a
// run. Order is the handler's business (its store), not the queue's.
type statusQueue struct {
	h       *status.Handler
	mu      sync.RWMutex
	closed  bool
	ch      chan event.Event
	wg      sync.WaitGroup
	dropped atomic.Int64
}

const statusWorkers = 4

// startStatuses starts posting commit statuses with the provider tokens
// (PUSHLINE_PROVIDER_TOKENS); nil when none are configured.
func (s *Stack) startStatuses(tokens source.TokenMap) (*statusQueue, error) {
	if len(tokens) == 0 {
		return nil, nil
	}
	store, err := status.OpenFileStore(filepath.Join(s.o.DataDir, "statuses.json"), time.Now())
	if err != nil {
		return nil, err
	}
	q := &statusQueue{ch: make(chan event.Event, 4096)}
	q.h = &status.Handler{
		Config: s.cfg, Store: store, Tokens: tokens, SFN: s.sfn, RunURL: s.RunURL, Log: s.o.Logger,
		OnFailure: func(st status.Status, err error) {
			s.console.printf("commit status %s %s of %s not posted: %v", st.Context, st.State, short(st.Commit), err)
		},
	}
	for range statusWorkers {
		q.wg.Go(func() {
			for ev := range q.ch {
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
				if err := q.h.Handle(ctx, ev); err != nil {
					s.o.Logger.Error("commit status", "execution", ev.Detail.Execution, "err", err)
				}
				cancel()
			}
		})
	}
	return q, nil
}

// enqueue is the bus subscriber: it never blocks.
func (q *statusQueue) enqueue(ev event.Event) {
	q.mu.RLock()
	defer q.mu.RUnlock()
	if q.closed {
		return
	}
	select {
	case q.ch <- ev:
	default:
		q.dropped.Add(1)
	}
}

// close lets the workers finish the queued events while ctx allows.
func (q *statusQueue) close(ctx context.Context) error {
	q.mu.Lock()
	q.closed = true
	close(q.ch)
	q.mu.Unlock()
	done := make(chan struct{})
	go func() { q.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		return fmt.Errorf("commit statuses: %d queued events not posted", len(q.ch))
	}
	if n := q.dropped.Load(); n > 0 {
		return fmt.Errorf("commit statuses: %d events dropped (queue full)", n)
	}
	return nil
}
