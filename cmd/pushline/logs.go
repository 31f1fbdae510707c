package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/pushline/pushline/shared/run"
)

// printLog prints the whole log of a run's stage (default: the failed
// stage, else the last one with a build); follow keeps printing until the
// build ends.
func printLog(ctx context.Context, w io.Writer, rs *run.Runs, id, stage string, follow bool) error {
	r, err := rs.Get(ctx, id)
	if err != nil {
		return err
	}
	st := pickStage(r, stage)
	if st == nil {
		if stage != "" {
			return fmt.Errorf("run %s has no build stage %q", r.Name, stage)
		}
		return fmt.Errorf("run %s has no build yet", r.Name)
	}
	token := "f/0"
	for {
		p, err := rs.Log(ctx, st.Build, token, 10000)
		if err != nil && !errors.Is(err, run.ErrNoLog) {
			return err
		}
		if p != nil {
			for _, l := range p.Lines {
				if _, err := fmt.Fprintln(w, l); err != nil {
					return err
				}
			}
			if len(p.Lines) > 0 && p.Later != "" {
				token = p.Later
				continue
			}
		}
		if !follow {
			return nil
		}
		// Done when the stage ended and nothing more came.
		if r, err = rs.Get(ctx, r.Name); err != nil {
			return err
		}
		if cur := r.Stage(st.Name); cur == nil || (cur.State != run.StageRunning && cur.State != run.StagePending) {
			if p != nil && len(p.Lines) == 0 {
				return nil
			}
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
}

// pickStage is the stage named, else the failed one, else the last one
// with a build.
func pickStage(r *run.Run, name string) *run.Stage {
	if name != "" {
		st := r.Stage(name)
		if st == nil || st.Build == nil {
			return nil
		}
		return st
	}
	if r.FailedStage != "" {
		if st := r.Stage(r.FailedStage); st != nil && st.Build != nil {
			return st
		}
	}
	var last *run.Stage
	var walk func(ss []run.Stage)
	walk = func(ss []run.Stage) {
		for i := range ss {
			if ss[i].Build != nil {
				last = &ss[i]
			}
			walk(ss[i].Actions)
		}
	}
	walk(r.Stages)
	return last
}
