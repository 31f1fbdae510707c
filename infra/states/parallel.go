package states

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
)

// branchesStarted records a Parallel or Map state's Started event and a
// checkpoint saying its branches run, so that a restart resumes them
// without entering the state again; after a restart it returns the
// recorded event's id.
func (x *execution) branchesStarted(fr *frame, cp *checkpoint, ev HistoryEvent) int64 {
	ph := cp.Phase
	cp.Phase = phaseNew
	if ph == phaseBranches && cp.StartedID != 0 {
		return cp.StartedID
	}
	id := x.emit(fr, ev)
	c := *cp
	c.Phase, c.StartedID, c.Result, c.Err, c.Token = phaseBranches, id, nil, nil, ""
	x.save(fr, &c, nil)
	return id
}

// parallel runs one attempt of a Parallel state; failed says its branches
// failed (the state's Failed event is the caller's, once the error is
// final).
func (x *execution) parallel(ctx context.Context, fr *frame, s *state, cp *checkpoint) (out any, terr *TaskError, failed bool) {
	eff, terr := x.inputPath(fr, s, cp, cp.Input)
	if terr != nil {
		return nil, terr, false
	}
	input := eff
	if s.Parameters != nil {
		if input, terr = x.evalTmpl(s, cp, s.Parameters, eff, x.ctxObject(fr, s, cp, "")); terr != nil {
			return nil, terr, false
		}
	}
	started := x.branchesStarted(fr, cp, HistoryEvent{Type: "ParallelStateStarted"})
	bctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make([]any, len(s.Branches))
	errs := make([]*TaskError, len(s.Branches))
	var wg sync.WaitGroup
	prefix := fr.key + "/" + s.Name + "["
	for i, b := range s.Branches {
		wg.Add(1)
		go func() {
			defer wg.Done()
			bf := &frame{prev: started, key: fmt.Sprintf("%s%d]", prefix, i)}
			bcp := x.takeFrame(bf.key)
			if bcp != nil && bcp.Phase == phaseDone {
				results[i] = bcp.Result
				return
			}
			if bcp == nil {
				bcp = &checkpoint{State: b.StartAt, Input: input}
			} else {
				bf.prev = bcp.Prev
			}
			out, terr := x.runMachine(bctx, bf, b, bcp)
			results[i], errs[i] = out, terr
			if terr != nil {
				cancel()
			}
		}()
	}
	wg.Wait()
	if ctx.Err() == nil {
		fr.clear = prefix // the next checkpoint of this frame forgets the branches
	}
	if ctx.Err() != nil {
		return nil, errCancelled, false
	}
	for _, e := range errs {
		if e != nil && e != errCancelled {
			return nil, e, true
		}
	}
	x.emit(fr, HistoryEvent{Type: "ParallelStateSucceeded"})
	out, terr = x.finish(fr, s, cp, results)
	return out, terr, false
}

// mapState runs one attempt of a Map state; failed says an iteration
// failed (the state's Failed event is the caller's, once the error is
// final).
func (x *execution) mapState(ctx context.Context, fr *frame, s *state, cp *checkpoint) (out any, terr *TaskError, failed bool) {
	eff, terr := x.inputPath(fr, s, cp, cp.Input)
	if terr != nil {
		return nil, terr, false
	}
	itemsV, err := applyPath(s.ItemsPath, eff)
	items, ok := itemsV.([]any)
	if err != nil || !ok {
		p := "$"
		if s.ItemsPath.p != nil {
			p = s.ItemsPath.p.String()
		}
		return nil, runtimeErr(s, cp, "Invalid path '%s': The ItemsPath must reference a JSON array", p), false
	}
	conc := s.MaxConcurrency
	if s.MaxConcPath != nil {
		n, terr := maxConcurrency(s.MaxConcPath, eff)
		if terr != nil {
			return nil, terr, false
		}
		conc = n
	}
	if conc <= 0 || conc > len(items) {
		conc = max(len(items), 1)
	}
	started := x.branchesStarted(fr, cp, HistoryEvent{Type: "MapStateStarted", MapStateStartedEventDetails: &MapStartedDetails{Length: len(items)}})
	inputs := make([]any, len(items))
	for i, it := range items {
		inputs[i] = it
		if s.Parameters != nil {
			ifr := &frame{mapItem: map[string]any{"Index": json.Number(fmt.Sprint(i)), "Value": it}}
			v, terr := x.evalTmpl(s, cp, s.Parameters, eff, x.ctxObject(ifr, s, cp, ""))
			if terr != nil {
				return nil, terr, false
			}
			inputs[i] = v
		}
	}
	mctx, cancel := context.WithCancel(ctx)
	defer cancel()
	prefix := fr.key + "/" + s.Name + "["
	results := make([]any, len(items))
	var firstErr *TaskError
	var mu sync.Mutex
	sem := make(chan struct{}, conc)
	var wg sync.WaitGroup
	for i := range items {
		select {
		case sem <- struct{}{}:
		case <-mctx.Done():
		}
		if mctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			ifr := &frame{prev: started, key: fmt.Sprintf("%s%d]", prefix, i)}
			icp := x.takeFrame(ifr.key)
			if icp != nil && icp.Phase == phaseDone {
				results[i] = icp.Result
				return
			}
			if icp == nil {
				icp = &checkpoint{State: s.Processor.StartAt, Input: inputs[i]}
				x.emit(ifr, HistoryEvent{Type: "MapIterationStarted", MapIterationStartedEventDetails: &MapIterationDetails{Name: s.Name, Index: i}})
			} else {
				ifr.prev = icp.Prev
			}
			out, terr := x.runMachine(mctx, ifr, s.Processor, icp)
			switch {
			case terr == errCancelled && x.e.ctx.Err() != nil:
				// the engine is closing: the iteration resumes after a restart
			case terr == errCancelled:
				x.emit(ifr, HistoryEvent{Type: "MapIterationAborted", MapIterationAbortedEventDetails: &MapIterationDetails{Name: s.Name, Index: i}})
			case terr != nil:
				x.emit(ifr, HistoryEvent{Type: "MapIterationFailed", MapIterationFailedEventDetails: &MapIterationDetails{Name: s.Name, Index: i}})
				mu.Lock()
				if firstErr == nil {
					firstErr = terr
				}
				mu.Unlock()
				cancel()
			default:
				x.emit(ifr, HistoryEvent{Type: "MapIterationSucceeded", MapIterationSucceededDetails: &MapIterationDetails{Name: s.Name, Index: i}})
				results[i] = out
			}
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return nil, errCancelled, false
	}
	fr.clear = prefix // the next checkpoint of this frame forgets the iterations
	if firstErr != nil {
		return nil, firstErr, true
	}
	x.emit(fr, HistoryEvent{Type: "MapStateSucceeded"})
	out, terr = x.finish(fr, s, cp, results)
	return out, terr, false
}

// maxConcurrency resolves MaxConcurrencyPath; its errors are worded as
// AWS words them.
func maxConcurrency(r *ref, eff any) (int, *TaskError) {
	v, err := r.eval(eff, nil)
	if err != nil {
		return 0, r.noResults()
	}
	var f float64
	ok := false
	switch t := v.(type) {
	case json.Number:
		f, ok = num(t)
	case string: // a string holding an integer is one
		if i, err := strconv.ParseInt(strings.TrimSpace(t), 10, 64); err == nil {
			f, ok = float64(i), true
		}
	}
	if !ok {
		return 0, &TaskError{Name: ErrNameRuntime, Cause: fmt.Sprintf("The MaxConcurrencyPath field refers to value \"%s\" which is not a valid integer: %s", valueText(v), r.src)}
	}
	n := int(math.Trunc(f))
	if n < 0 {
		return 0, &TaskError{Name: ErrNameRuntime, Cause: fmt.Sprintf("Expected non-negative integer for MaxConcurrency, got '%d' instead.", n)}
	}
	return n, nil
}
