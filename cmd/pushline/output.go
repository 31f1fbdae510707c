package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pushline/pushline/shared/run"
	"github.com/pushline/pushline/shared/runpage"
)

const timeLayout = "2006-01-02 15:04:05"

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func took(start, end, now time.Time) string {
	if start.IsZero() {
		return ""
	}
	if end.IsZero() {
		end = now
	}
	return runpage.Duration(end.Sub(start))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// writeRuns prints the run list as a table.
func writeRuns(w io.Writer, list []run.Summary, now time.Time) error {
	if len(list) == 0 {
		_, err := fmt.Fprintln(w, "no runs")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STATE\tRUN\tBRANCH\tCOMMIT\tTRIGGER\tATTEMPT\tSTARTED\tTOOK")
	for _, s := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", s.Status, s.Name, orDash(s.Commit.RefName()), orDash(s.Commit.Short()),
			orDash(s.Trigger), s.Attempt, s.Started.UTC().Format(timeLayout), took(s.Started, s.Stopped, now))
	}
	return tw.Flush()
}

// writeShow prints a run for a person.
func writeShow(w io.Writer, r *run.Run, page string, now time.Time) error {
	fmt.Fprintf(w, "%s  %s\n", r.Name, r.Status)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  pipeline\t%s\n", r.Pipeline)
	c := r.Commit
	line := c.Short() + " " + c.Title()
	if c.Author != "" {
		line += " (" + c.Author + ")"
	}
	fmt.Fprintf(tw, "  commit\t%s\n", strings.TrimSpace(line))
	fmt.Fprintf(tw, "  ref\t%s %s\n", c.Repository, c.RefName())
	trigger := r.Trigger
	if r.By != "" {
		trigger += " by " + r.By
	}
	if r.Resumed != "" {
		trigger += ", from stage " + r.Resumed
	}
	fmt.Fprintf(tw, "  trigger\t%s, attempt %d\n", trigger, r.Attempt)
	if r.RetryOf != "" {
		fmt.Fprintf(tw, "  repeats\t%s\n", r.RetryOf[strings.LastIndexByte(r.RetryOf, ':')+1:])
	}
	fmt.Fprintf(tw, "  started\t%s, took %s\n", r.Started.UTC().Format(timeLayout), took(r.Started, r.Stopped, now))
	if r.Cause != "" || r.Error != "" {
		cause := r.Cause
		if cause == "" {
			cause = r.Error
		}
		if r.FailedStage != "" {
			cause = r.FailedStage + ": " + cause
		}
		fmt.Fprintf(tw, "  cause\t%s\n", cause)
	}
	if page != "" {
		fmt.Fprintf(tw, "  page\t%s\n", page)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STAGE\tKIND\tSTATE\tSTARTED\tTOOK\tDETAIL")
	var rows func(ss []run.Stage, indent string)
	rows = func(ss []run.Stage, indent string) {
		for _, st := range ss {
			started := ""
			if !st.Started.IsZero() {
				started = st.Started.UTC().Format("15:04:05")
			}
			fmt.Fprintf(tw, "%s%s\t%s\t%s\t%s\t%s\t%s\n", indent, st.Name, st.Kind, st.State, orDash(started), orDash(took(st.Started, st.Ended, now)), orDash(detail(st)))
			rows(st.Actions, indent+"  ")
		}
	}
	rows(r.Stages, "")
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.Artifacts) > 0 {
		fmt.Fprintln(w, "\nARTIFACTS")
		for _, a := range r.Artifacts {
			from := ""
			if a.From != "" {
				from = " (from an earlier attempt)"
			}
			fmt.Fprintf(w, "  %-10s s3://%s/%s%s\n", a.Stage, a.Bucket, a.Key, from)
		}
	}
	if len(r.Attempts) > 1 {
		fmt.Fprintln(w, "\nATTEMPTS")
		for _, a := range r.Attempts {
			this := ""
			if a.Name == r.Name {
				this = " (this run)"
			}
			fmt.Fprintf(w, "  %d  %-9s %s%s\n", a.Attempt, a.Status, a.Name, this)
		}
	}
	return nil
}

// detail is a stage's build, or an approval's request and decision.
func detail(st run.Stage) string {
	switch {
	case st.Approval != nil:
		a := st.Approval
		s := "asked " + strings.Join(a.Approvers, ", ")
		if a.Decision != "" {
			s += "; " + strings.ToLower(strings.ReplaceAll(a.Decision, "_", " "))
			if a.Approver != "" {
				s += " by " + a.Approver
			}
			if a.Comment != "" {
				s += ": " + a.Comment
			}
		}
		return s
	case st.Build != nil:
		s := "build " + st.Build.ID
		if st.State == run.StageFailed && st.Cause != "" {
			s = st.Cause
		}
		return s
	}
	return st.Cause
}
