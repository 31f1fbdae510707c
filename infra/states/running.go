package states

import (
	"cmp"
	"slices"
)

// The executions in memory: e.running by ARN, and, for ListExecutions
// (RUNNING), e.byMachine: each state machine's in id order. Both are
// guarded by e.mu.

// addRunning puts x in memory.
func (e *Engine) addRunning(x *execution) {
	e.running[x.arn] = x
	list := e.byMachine[x.smArn]
	i, _ := slices.BinarySearchFunc(list, x.id, func(a *execution, id int64) int { return cmp.Compare(a.id, id) })
	e.byMachine[x.smArn] = slices.Insert(list, i, x)
}

// removeRunning takes x out of memory, if it is there.
func (e *Engine) removeRunning(x *execution) {
	if e.running[x.arn] != x {
		return
	}
	delete(e.running, x.arn)
	list := e.byMachine[x.smArn]
	if i, ok := slices.BinarySearchFunc(list, x.id, func(a *execution, id int64) int { return cmp.Compare(a.id, id) }); ok {
		list = slices.Delete(list, i, i+1)
	}
	if len(list) == 0 {
		delete(e.byMachine, x.smArn)
	} else {
		e.byMachine[x.smArn] = list
	}
}

// runningBefore returns the executions in memory of state machine sm
// with an id below before, newest first, at most max of those keep
// accepts.
func (e *Engine) runningBefore(sm string, before int64, max int, keep func(*execution) bool) []*execution {
	e.mu.Lock()
	defer e.mu.Unlock()
	list := e.byMachine[sm]
	i, _ := slices.BinarySearchFunc(list, before, func(a *execution, id int64) int { return cmp.Compare(a.id, id) })
	var out []*execution
	for i--; i >= 0 && len(out) < max; i-- {
		if keep(list[i]) {
			out = append(out, list[i])
		}
	}
	return out
}
