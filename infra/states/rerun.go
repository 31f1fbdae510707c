package states

import (
	"context"
	"encoding/json"
)

// Rerunnable is an Integration whose tasks may run again after a restart
// when the engine stopped (a crash, a kill) while they were in flight:
// running such a task twice has the effect of running it once, because
// what it writes is keyed by the execution (an object key, a record, event
// ids). Rerun says whether t is such a task. A task in flight whose
// integration is not Rerunnable fails after a restart (RestartCause).
type Rerunnable interface {
	Integration
	Rerun(t Task) bool
}

// RerunWhen marks in as Rerunnable for the tasks rerun accepts (every task
// if rerun is nil).
func RerunWhen(in Integration, rerun func(Task) bool) Integration {
	return rerunnable{in: in, rerun: rerun}
}

type rerunnable struct {
	in    Integration
	rerun func(Task) bool
}

func (r rerunnable) Invoke(ctx context.Context, t Task) (json.RawMessage, error) {
	return r.in.Invoke(ctx, t)
}

func (r rerunnable) Rerun(t Task) bool { return r.rerun == nil || r.rerun(t) }

// rerunnable says whether the attempt, in flight when the engine stopped,
// may run again.
func (t *taskRun) rerunnable() bool {
	r, ok := t.x.e.integration(t.s.baseResource).(Rerunnable)
	return ok && r.Rerun(t.task(nil, nil))
}
