package states

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"
)

// waitUntil is when a Wait state ends. Its errors are worded as AWS
// words them.
func waitUntil(s *state, eff any) (time.Time, *TaskError) {
	now := time.Now()
	switch {
	case s.Seconds != nil:
		return now.Add(time.Duration(*s.Seconds * float64(time.Second))), nil
	case s.SecondsPath != nil:
		v, err := s.SecondsPath.eval(eff, nil)
		if err != nil {
			return now, s.SecondsPath.noResults()
		}
		f, ok := num(v)
		switch {
		case !ok || f != math.Trunc(f):
			return now, &TaskError{Name: ErrNameRuntime, Cause: fmt.Sprintf("The SecondsPath parameter cannot be parsed as a long value: %s == %s", s.SecondsPath.src, valueText(v))}
		case f < 0:
			return now, &TaskError{Name: ErrNameRuntime, Cause: fmt.Sprintf("The SecondsPath parameter references a negative value: %s == %s", s.SecondsPath.src, valueText(v))}
		}
		return now.Add(time.Duration(f) * time.Second), nil
	case s.Timestamp != "":
		t, _ := parseTimestamp(s.Timestamp)
		return t, nil
	default:
		v, err := s.TimestampPath.eval(eff, nil)
		if err != nil {
			return now, s.TimestampPath.noResults()
		}
		str, _ := v.(string)
		t, ok := parseTimestamp(str)
		if !ok {
			return now, &TaskError{Name: ErrNameRuntime, Cause: fmt.Sprintf("The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: %s == %s", s.TimestampPath.src, valueText(v))}
		}
		return t, nil
	}
}

// valueText prints a value in an error cause: a string as it is, anything
// else as JSON.
func valueText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return marshal(v)
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
	eff, terr := x.inputPath(fr, s, cp, cp.Input)
	if terr != nil {
		return nil, terr
	}
	until := cp.Until
	if cp.Phase != phaseWait {
		u, terr := waitUntil(s, eff)
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
	return x.outputPath(fr, s, cp, eff)
}
