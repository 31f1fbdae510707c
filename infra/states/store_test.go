package states

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// TestAppendEventMatchesEncodingJSON: the hand-written encoding of the
// frequent event shapes is one JSON line that says what encoding/json's
// does (the same value; HTML characters are left unescaped).
func TestAppendEventMatchesEncodingJSON(t *testing.T) {
	at := Timestamp{time.UnixMilli(1767225600123)}
	for _, ev := range []HistoryEvent{
		{Timestamp: at, Type: "PassStateEntered", ID: 2, PreviousEventID: 1, ExecutionArn: "arn:x",
			StateEnteredEventDetails: &StateEnteredDetails{Name: "P <&> \"q\"", Input: `{"a":"<b>\u2028"}`, InputDetails: notTruncated}},
		{Timestamp: at, Type: "PassStateExited", ID: 3, PreviousEventID: 2,
			StateExitedEventDetails: &StateExitedDetails{Name: "P", Output: `{"é":1}`, OutputDetails: notTruncated}},
		{Timestamp: at, Type: "MapStateSucceeded", ID: 40, PreviousEventID: 39},
		{Timestamp: at, Type: "ExecutionRedriven", ID: 41, PreviousEventID: 40, ExecutionRedrivenEventDetails: &RedrivenDetails{RedriveCount: 1}},
	} {
		got, err := appendEvent(nil, &ev)
		if err != nil {
			t.Fatal(err)
		}
		want, err := json.Marshal(&ev)
		if err != nil {
			t.Fatal(err)
		}
		var g, w any
		if len(got) == 0 || got[len(got)-1] != '\n' || bytes.IndexByte(got[:len(got)-1], '\n') >= 0 {
			t.Errorf("%s: not one line: %q", ev.Type, got)
		}
		if err := json.Unmarshal(got, &g); err != nil {
			t.Fatalf("%s: %v: %s", ev.Type, err, got)
		}
		json.Unmarshal(want, &w)
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%s:\n got %s\nwant %s", ev.Type, got, want)
		}
	}
}
