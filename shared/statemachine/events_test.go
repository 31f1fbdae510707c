package statemachine

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pushline/pushline/shared/event"
)

// designStates is every detail-type × state DESIGN.md lists.
var designStates = map[string][]string{
	event.PipelineExecution: {event.Started, event.Succeeded, event.Failed, event.Superseded, event.Stopped},
	event.StageExecution:    {event.Started, event.Succeeded, event.Failed},
	event.Approval:          {event.Requested, event.Approved, event.Rejected, event.TimedOut},
}

func slug(detailType string) string { return strings.ToLower(strings.ReplaceAll(detailType, " ", "-")) }

// TestEventSamples checks events/pipeline: one sample per detail-type ×
// state, named <detail-type-slug>.<state>.json, each decoding strictly
// into event.Event with the detail fields its kind requires.
func TestEventSamples(t *testing.T) {
	dir := filepath.Join("..", "..", "events", "pipeline")
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no samples in %s: %v", dir, err)
	}
	seen := map[string]bool{}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			dec := json.NewDecoder(bytes.NewReader(data))
			dec.DisallowUnknownFields()
			var e event.Event
			if err := dec.Decode(&e); err != nil {
				t.Fatalf("decode: %v", err)
			}
			d := e.Detail
			if e.Version != "0" || e.Source != event.Source || e.ID == "" || e.Account == "" || e.Region == "" || e.Time.IsZero() || len(e.Resources) == 0 {
				t.Errorf("envelope incomplete: %+v", e)
			}
			states, ok := designStates[e.DetailType]
			if !ok || !slices.Contains(states, d.State) {
				t.Fatalf("%q %q is not an event DESIGN.md lists", e.DetailType, d.State)
			}
			if want := slug(e.DetailType) + "." + strings.ToLower(d.State) + ".json"; filepath.Base(f) != want {
				t.Errorf("file name %s, want %s", filepath.Base(f), want)
			}
			seen[e.DetailType+" "+d.State] = true
			if d.Pipeline == "" || d.Execution == "" || d.Repository == "" || d.Ref == "" || d.Commit == "" {
				t.Errorf("detail lacks pipeline, execution, repository, ref or commit: %+v", d)
			}
			if !slices.Contains(e.Resources, d.Execution) {
				t.Errorf("resources %v lack the execution", e.Resources)
			}
			if e.DetailType != event.PipelineExecution && d.Stage == "" {
				t.Error("no stage")
			}
			switch d.State {
			case event.Failed, event.TimedOut:
				if d.Error == "" || d.Cause == "" {
					t.Error("no error or cause")
				}
			case event.Approved, event.Rejected:
				if d.Approver == "" {
					t.Error("no approver")
				}
			case event.Superseded:
				if d.SupersededBy == "" {
					t.Error("no supersededBy")
				}
			}
			if e.DetailType == event.StageExecution && d.State == event.Succeeded && (d.BuildID == "" || d.LogsURL == "") {
				t.Error("a build stage's SUCCEEDED event without buildId and logsUrl")
			}
		})
	}
	for dt, states := range designStates {
		for _, s := range states {
			if !seen[dt+" "+s] {
				t.Errorf("no sample of %s %s (%s.%s.json)", dt, s, slug(dt), strings.ToLower(s))
			}
		}
	}
}
