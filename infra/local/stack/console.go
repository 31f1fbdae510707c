package stack

import (
	"bytes"
	"context"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/pushline/pushline/infra/codebuild"
	"github.com/pushline/pushline/shared/event"
)

// console prints what a person following the local stack wants to see:
// one readable line per event and per build output line, each with its
// time and its run (two runs of one pipeline are told apart), stage
// durations, the run page when a run starts and ends, and colour on a
// terminal (not with NO_COLOR).
type console struct {
	mu      sync.Mutex
	w       io.Writer
	color   bool
	runURL  func(execution string) string // the run page; nil: none
	started map[string]time.Time          // execution+stage → start
}

func newConsole(w io.Writer) *console {
	return &console{w: w, color: useColor(w), started: map[string]time.Time{}}
}

// useColor: a terminal, and NO_COLOR (https://no-color.org) unset.
func useColor(w io.Writer) bool {
	if os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// ANSI colours: runs cycle through these; states have their own.
const (
	reset  = "\x1b[0m"
	dim    = "\x1b[2m"
	red    = "\x1b[31m"
	green  = "\x1b[32m"
	yellow = "\x1b[33m"
)

var runColors = []string{"\x1b[36m", "\x1b[35m", "\x1b[34m", "\x1b[33m", "\x1b[32m", "\x1b[96m"}

func (c *console) paint(code, s string) string {
	if !c.color || s == "" {
		return s
	}
	return code + s + reset
}

// run is a run's tag, "[<execution name>]", in its own colour.
func (c *console) run(name string) string {
	h := fnv.New32a()
	h.Write([]byte(name))
	return c.paint(runColors[h.Sum32()%uint32(len(runColors))], "["+name+"]")
}

func (c *console) state(s string) string {
	switch s {
	case event.Succeeded, event.Approved:
		return c.paint(green, s)
	case event.Failed, event.Rejected, event.TimedOut, "ABORTED":
		return c.paint(red, s)
	case event.Started, event.Requested:
		return c.paint(yellow, s)
	}
	return s
}

func (c *console) printf(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	c.mu.Lock()
	defer c.mu.Unlock()
	fmt.Fprintf(c.w, "%s %s\n", c.paint(dim, time.Now().Format("15:04:05")), line)
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
	key := ev.DetailType + "\x00" + d.Execution + "\x00" + d.Stage + "\x00" + d.Action
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
		fmt.Fprintf(&b, "pipeline %s %s (%s %s@%s)%s", d.Pipeline, c.state(d.State), d.Repository, strings.TrimPrefix(strings.TrimPrefix(d.Ref, "refs/heads/"), "refs/tags/"), short(d.Commit), took)
		if d.Trigger != "" && d.Trigger != "push" {
			fmt.Fprintf(&b, " %s", d.Trigger)
		}
		if d.Attempt > 1 {
			fmt.Fprintf(&b, " attempt %d", d.Attempt)
		}
	case event.StageExecution:
		if d.Action != "" {
			fmt.Fprintf(&b, "action %s of stage %s %s%s", d.Action, d.Stage, c.state(d.State), took)
		} else {
			fmt.Fprintf(&b, "stage %s %s%s", d.Stage, c.state(d.State), took)
		}
		if d.BuildID != "" {
			fmt.Fprintf(&b, " build %s", d.BuildID)
		}
	case event.Approval:
		fmt.Fprintf(&b, "approval %s %s", d.Stage, c.state(d.State))
		if d.Approver != "" {
			fmt.Fprintf(&b, " by %s", d.Approver)
		}
		if d.Comment != "" {
			fmt.Fprintf(&b, " (%q)", d.Comment)
		}
		b.WriteString(took)
	default:
		fmt.Fprintf(&b, "%s %s", ev.DetailType, c.state(d.State))
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
	if ev.DetailType == event.PipelineExecution && d.State == event.Started && c.runURL != nil {
		fmt.Fprintf(&b, " — %s", c.runURL(d.Execution))
	}
	c.printf("%s %s", c.run(name), b.String())
}

// buildLabel names a build in the build output: "<execution name>
// <stage>", from the variables the state machine gives every build.
func buildLabel(in codebuild.StartBuildInput) string {
	var exec, stage string
	for _, v := range in.EnvironmentVariablesOverride {
		switch v.Name {
		case "PUSHLINE_EXECUTION":
			exec = execName(v.Value)
		case "PUSHLINE_STAGE":
			stage = v.Value
		}
	}
	if exec == "" {
		return ""
	}
	if stage == "" {
		stage = in.ProjectName
	}
	return exec + " " + stage
}

// buildOutput is the writer of the runner's live output: lines
// "[<execution> <stage>:<PHASE>] text", printed as "15:04:05 [<execution>]
// <stage>:<PHASE> text".
func (c *console) buildOutput() io.Writer {
	return writerFunc(func(p []byte) (int, error) {
		for _, line := range bytes.SplitAfter(p, []byte{'\n'}) {
			if len(line) == 0 {
				continue
			}
			s := strings.TrimSuffix(string(line), "\n")
			tag, text, ok := strings.Cut(s, "] ")
			label, _ := strings.CutPrefix(tag, "[")
			run, stagePhase, two := strings.Cut(label, " ")
			if !ok || !strings.HasPrefix(tag, "[") || !two {
				c.printf("%s", s)
				continue
			}
			c.printf("%s %s %s", c.run(run), c.paint(dim, stagePhase), text)
		}
		return len(p), nil
	})
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// duration is d as a person reads it: milliseconds under a second, else
// tenths of seconds.
func duration(d time.Duration) string {
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(100 * time.Millisecond).String()
}

// errorsOnly keeps a handler's records of level Error and above: the
// webhook's refusals are warnings its console line already tells.
type errorsOnly struct{ slog.Handler }

func (h errorsOnly) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelError && h.Handler.Enabled(ctx, l)
}
func (h errorsOnly) WithAttrs(a []slog.Attr) slog.Handler { return errorsOnly{h.Handler.WithAttrs(a)} }
func (h errorsOnly) WithGroup(n string) slog.Handler      { return errorsOnly{h.Handler.WithGroup(n)} }
