package stack

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/pushline/pushline/shared/event"
)

// console prints what a person following the local stack wants to see:
// one readable line per event, stage durations, and a summary when an
// execution ends.
type console struct {
	mu      sync.Mutex
	w       io.Writer
	started map[string]time.Time // execution+stage → start
}

func newConsole(w io.Writer) *console {
	return &console{w: w, started: map[string]time.Time{}}
}

func (c *console) printf(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fmt.Fprintf(c.w, "%s %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func short(commit string) string {
	if len(commit) > 7 {
		return commit[:7]
	}
	return commit
}

func execName(arn string) string {
	if i := strings.LastIndexByte(arn, ':'); i >= 0 {
		return arn[i+1:]
	}
	return arn
}

// event prints one event.
func (c *console) event(ev event.Event) {
	d := ev.Detail
	name := execName(d.Execution)
	c.mu.Lock()
	var took string
	key := ev.DetailType + "\x00" + d.Execution + "\x00" + d.Stage
	switch d.State {
	case event.Started, event.Requested:
		c.started[key] = ev.Time
	default:
		if t, ok := c.started[key]; ok {
			took = " in " + duration(ev.Time.Sub(t))
			delete(c.started, key)
		}
		if ev.DetailType == event.PipelineExecution { // the run ended: forget its stages
			for k := range c.started {
				if strings.Contains(k, "\x00"+d.Execution+"\x00") {
					delete(c.started, k)
				}
			}
		}
	}
	c.mu.Unlock()

	var b strings.Builder
	switch ev.DetailType {
	case event.PipelineExecution:
		fmt.Fprintf(&b, "pipeline %s %s (%s %s@%s)%s", d.Pipeline, d.State, d.Repository, strings.TrimPrefix(strings.TrimPrefix(d.Ref, "refs/heads/"), "refs/tags/"), short(d.Commit), took)
	case event.StageExecution:
		fmt.Fprintf(&b, "stage %s %s%s", d.Stage, d.State, took)
		if d.BuildID != "" {
			fmt.Fprintf(&b, " build %s", d.BuildID)
		}
	case event.Approval:
		fmt.Fprintf(&b, "approval %s %s", d.Stage, d.State)
		if d.Approver != "" {
			fmt.Fprintf(&b, " by %s", d.Approver)
		}
		if d.Comment != "" {
			fmt.Fprintf(&b, " (%q)", d.Comment)
		}
		b.WriteString(took)
	default:
		fmt.Fprintf(&b, "%s %s", ev.DetailType, d.State)
	}
	if d.Error != "" {
		fmt.Fprintf(&b, " error %s", d.Error)
	}
	if d.Cause != "" && ev.DetailType != event.Approval {
		cause := d.Cause
		if len(cause) > 200 {
			cause = cause[:200] + "…"
		}
		fmt.Fprintf(&b, ": %s", cause)
	}
	if d.LogsURL != "" {
		fmt.Fprintf(&b, " logs %s", d.LogsURL)
	}
	c.printf("[%s] %s", name, b.String())
}

// duration is d as a person reads it: milliseconds under a second, else
// tenths of seconds.
func duration(d time.Duration) string {
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(100 * time.Millisecond).String()
}
