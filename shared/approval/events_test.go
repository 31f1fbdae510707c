package approval

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pushline/pushline/shared/event"
)

// TestEventSamples keeps events/approval/*.json (each approval event as
// EventBridge delivers it to a target) in step with what the functions
// emit; -update rewrites them.
func TestEventSamples(t *testing.T) {
	approved := newEnv(t, nil)
	approved.mustPost("ops@example.com", "approve", "Ship it.")
	rejected := newEnv(t, nil)
	rejected.mustPost("lead@example.com", "reject", "Not before the release freeze ends.")

	// The emitted details, as PutEvents carried them.
	details := map[string]map[string]any{
		event.Requested: details(approved.events)[0],
		event.Approved:  details(approved.events)[1],
		event.Rejected:  details(rejected.events)[1],
	}
	// TIMED_OUT is emitted by the state machine, from the same fields.
	timedOut := detail(approved.record(), event.TimedOut)
	timedOut.Approver, timedOut.Comment = "", ""
	timedOut.Error, timedOut.Cause = "States.Timeout", "The approval was not decided within 259200 seconds."
	b, _ := json.Marshal(timedOut)
	var m map[string]any
	json.Unmarshal(b, &m)
	details[event.TimedOut] = m

	ids := map[string]string{
		event.Requested: "4f1d3c52-9a07-4b8e-8c3b-1a2f6d7e8b90",
		event.Approved:  "7b2e8f14-3c5a-4d69-a0e1-5f8c2b3d4a61",
		event.Rejected:  "c9a4e6d2-1f3b-4a57-9e8d-2b6c0f1a3e75",
		event.TimedOut:  "e2d7b9a1-6c4f-4e38-b1a5-9d0c3f7e2a16",
	}
	at := map[string]time.Time{
		event.Requested: testNow, event.Approved: testNow.Add(42 * time.Minute),
		event.Rejected: testNow.Add(42 * time.Minute), event.TimedOut: testNow.Add(72 * time.Hour),
	}
	for state, d := range details {
		var det event.Detail
		b, _ := json.Marshal(d)
		dec := json.NewDecoder(strings.NewReader(string(b)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&det); err != nil {
			t.Fatalf("%s detail does not fit event.Detail: %v", state, err)
		}
		ev := event.Event{Version: "0", ID: ids[state], DetailType: event.Approval, Source: event.Source,
			Account: "000000000000", Time: at[state], Region: "us-east-1",
			Resources: []string{det.Execution}, Detail: det}
		got, _ := json.MarshalIndent(ev, "", "  ")
		got = append(got, '\n')
		path := filepath.Join("../../events/approval", "event-"+strings.ToLower(strings.ReplaceAll(state, "_", "-"))+".json")
		if *update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with -update)", err)
		}
		if diff := cmp.Diff(string(want), string(got)); diff != "" {
			t.Errorf("%s (-file +emitted):\n%s", path, diff)
		}
	}
}
