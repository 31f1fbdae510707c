package stack

import (
	"os"
	"sync"
	"time"
)

// stopper turns SIGINT and SIGTERM into a stop. The first signal asks for
// a graceful stop (Stopping); a signal at least `same` after it asks to
// stop now (Now). One within `same` of the first is the same stop: make
// forwards the SIGTERM it gets to the stack, and a supervisor (or
// timeout) signals the whole process group, so the stack gets two.
type stopper struct {
	stopping, now chan struct{}
}

// watchSignals reads sigs until the stop is urgent. sigs must stay registered
// (signal.Notify) for the life of the process: a signal with no channel
// would kill it without a stop.
func watchSignals(sigs <-chan os.Signal, same time.Duration, now func() time.Time) *stopper {
	st := &stopper{stopping: make(chan struct{}), now: make(chan struct{})}
	var once sync.Once
	go func() {
		<-sigs
		first := now()
		close(st.stopping)
		for range sigs {
			if now().Sub(first) >= same {
				once.Do(func() { close(st.now) })
				return
			}
		}
	}()
	return st
}

// Stopping is closed by the first signal.
func (st *stopper) Stopping() <-chan struct{} { return st.stopping }

// Now is closed by a signal that comes at least `same` after the first.
func (st *stopper) Now() <-chan struct{} { return st.now }
