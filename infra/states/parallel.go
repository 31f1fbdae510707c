package states

import (
	"context"
	"encoding/json"
	"fmt"
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

func (x *execution) parallel(ctx context.Context, fr *frame, s *state, cp *checkpoint, retry int) (any, *TaskError) {
	eff, terr := inputPath(s, cp, cp.Input)
	if terr != nil {
		return nil, terr
	}
	input := eff
	if s.Parameters != nil {
		if input, terr = x.evalTmpl(s, cp, s.Parameters, eff, x.ctxObject(fr, s, cp, retry, "")); terr != nil {
			return nil, terr
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
		return nil, errCancelled
	}
	for _, e := range errs {
		if e != nil && e != errCancelled {
			x.emit(fr, HistoryEvent{Type: "ParallelStateFailed"})
			return nil, e
		}
	}
	x.emit(fr, HistoryEvent{Type: "ParallelStateSucceeded"})
	return x.finish(fr, s, cp, retry, results)
}

func (x *execution) mapState(ctx context.Context, fr *frame, s *state, cp *checkpoint, retry int) (any, *TaskError) {
	eff, terr := inputPath(s, cp, cp.Input)
	if terr != nil {
		return nil, terr
	}
	itemsV, err := applyPath(s.ItemsPath, eff)
	items, ok := itemsV.([]any)
	if err != nil || !ok {
		p := "$"
		if s.ItemsPath.p != nil {
			p = s.ItemsPath.p.String()
		}
		return nil, runtimeErr(s, cp, "Invalid path '%s': The ItemsPath must reference a JSON array", p)
	}
	conc := s.MaxConcurrency
	if s.MaxConcPath != nil {
		v, err := s.MaxConcPath.eval(eff, nil)
		f, ok := num(v)
		if err != nil || !ok || f < 0 {
			return nil, runtimeErr(s, cp, "The MaxConcurrencyPath must reference a non-negative integer")
		}
		conc = int(f)
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
			v, terr := x.evalTmpl(s, cp, s.Parameters, eff, x.ctxObject(ifr, s, cp, retry, ""))
			if terr != nil {
				return nil, terr
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
		return nil, errCancelled
	}
	fr.clear = prefix // the next checkpoint of this frame forgets the iterations
	if firstErr != nil {
		x.emit(fr, HistoryEvent{Type: "MapStateFailed"})
		return nil, firstErr
	}
	x.emit(fr, HistoryEvent{Type: "MapStateSucceeded"})
	return x.finish(fr, s, cp, retry, results)
}
