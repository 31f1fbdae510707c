package stack

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pushline/pushline/shared/event"
)

// TestStatusQueue: the bus subscriber never blocks (a full queue drops and
// counts), close waits for the workers, and events after close are
// ignored.
func TestStatusQueue(t *testing.T) {
	q := &statusQueue{ch: make(chan event.Event, 2)}
	done := make(chan struct{})
	go func() {
		for range 5 {
			q.enqueue(event.Event{})
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("enqueue blocked on a full queue")
	}
	if n := q.dropped.Load(); n != 3 {
		t.Errorf("%d dropped, want 3", n)
	}
	q.wg.Go(func() {
		for range q.ch {
		}
	})
	err := q.close(context.Background())
	if err == nil || !strings.Contains(err.Error(), "3 events dropped") {
		t.Errorf("close = %v, want the dropped events reported", err)
	}
	q.enqueue(event.Event{}) // after close: ignored, no panic
}
