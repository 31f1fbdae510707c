package states

import (
	"context"
	"math"
	"strings"
	"time"
)

func waitUntil(s *state, cp *checkpoint, eff any) (time.Time, *TaskError) {
	now := time.Now()
	switch {
	case s.Seconds != nil:
		return now.Add(time.Duration(*s.Seconds * float64(time.Second))), nil
	case s.SecondsPath != nil:
		v, err := s.SecondsPath.eval(eff, nil)
		if err != nil {
			return now, noResults(s, cp, s.SecondsPath.src)
		}
		f, ok := num(v)
		if !ok || f < 0 || f != math.Trunc(f) {
			return now, runtimeErr(s, cp, "The SecondsPath parameter does not reference a valid non-negative integer: %s", marshal(v))
		}
		return now.Add(time.Duration(f) * time.Second), nil
	case s.Timestamp != "":
		t, _ := parseTimestamp(s.Timestamp)
		return t, nil
	default:
		v, err := s.TimestampPath.eval(eff, nil)
		if err != nil {
			return now, noResults(s, cp, s.TimestampPath.src)
		}
		str, _ := v.(string)
		t, ok := parseTimestamp(str)
		if !ok {
			return now, runtimeErr(s, cp, "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: %s", marshal(v))
		}
		return t, nil
	}
}

func sleepUntil(ctx context.Context, until time.Time) error {
	d := time.Until(until)
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func parseTimestamp(s string) (time.Time, bool) {
	if !strings.Contains(s, "T") {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil
}

// wait runs a Wait state.
func (x *execution) wait(ctx context.Context, fr *frame, s *state, cp *checkpoint) (any, *TaskError) {
	eff, terr := inputPath(s, cp, cp.Input)
	if terr != nil {
		return nil, terr
	}
	until := cp.Until
	if cp.Phase != phaseWait {
		u, terr := waitUntil(s, cp, eff)
		if terr != nil {
			return nil, terr
		}
		until = u
		c := *cp
		c.Phase, c.Until = phaseWait, until
		x.checkpointNow(fr, &c, false)
	}
	if err := sleepUntil(ctx, until); err != nil {
		return nil, errCancelled
	}
	return outputPath(s, cp, eff)
}
