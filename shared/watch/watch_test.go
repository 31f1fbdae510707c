package watch

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/google/go-cmp/cmp"

	"github.com/pushline/pushline/shared/awstest"
	"github.com/pushline/pushline/shared/event"
	"github.com/pushline/pushline/shared/ingest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

const sample = "../../events/watch/execution-status-change.aborted.json"

// newSFN is Step Functions holding execution arn as out describes it
// (none when out is nil), DescribeExecution answering err when set.
func newSFN(arn string, out *sfn.DescribeExecutionOutput, err error) *awstest.StepFunctions {
	if out == nil {
		f := awstest.NewStepFunctions("", time.Time{})
		f.DescribeErr = err
		return f
	}
	f := awstest.NewStepFunctions(aws.ToString(out.StateMachineArn), time.Time{})
	f.DescribeErr = err
	f.Add(awstest.Execution{Name: arn[strings.LastIndexByte(arn, ':')+1:], ARN: arn, Input: aws.ToString(out.Input), Status: out.Status,
		Start: aws.ToTime(out.StartDate), Stop: aws.ToTime(out.StopDate), Error: aws.ToString(out.Error), Cause: aws.ToString(out.Cause)})
	return f
}

func loadSample(t testing.TB) Event {
	t.Helper()
	raw, err := os.ReadFile(sample)
	if err != nil {
		t.Fatal(err)
	}
	var ev Event
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatalf("decode %s: %v", sample, err)
	}
	return ev
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// described is what DescribeExecution answers for the sample's execution.
func described(ev Event, errName, cause string) *sfn.DescribeExecutionOutput {
	stop := time.UnixMilli(ev.Detail.StopDate).UTC()
	start := time.UnixMilli(ev.Detail.StartDate).UTC()
	out := &sfn.DescribeExecutionOutput{
		ExecutionArn:    aws.String(ev.Detail.ExecutionArn),
		StateMachineArn: aws.String(ev.Detail.StateMachineArn),
		Name:            aws.String(ev.Detail.Name),
		Status:          sfntypes.ExecutionStatusAborted,
		StartDate:       &start,
		StopDate:        &stop,
		Input:           aws.String(ev.Detail.Input),
	}
	if errName != "" {
		out.Error = aws.String(errName)
	}
	if cause != "" {
		out.Cause = aws.String(cause)
	}
	return out
}

func TestSample(t *testing.T) {
	ev := loadSample(t)
	want := Execution{
		ExecutionArn:    "arn:aws:states:us-east-1:123456789012:execution:pushline-app:main-9fceb02d0ae5-3c2f0e4a81b7",
		StateMachineArn: "arn:aws:states:us-east-1:123456789012:stateMachine:pushline-app",
		Name:            "main-9fceb02d0ae5-3c2f0e4a81b7",
		Status:          Aborted,
		StartDate:       1795768800000,
		StopDate:        1795769100000,
		InputDetails:    &DataDetails{Included: true},
	}
	got := ev.Detail
	got.Input = ""
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("detail (-want +got):\n%s", diff)
	}
	if ev.Source != Source || ev.DetailType != DetailType {
		t.Errorf("source %q detail-type %q", ev.Source, ev.DetailType)
	}
}

func TestHandle(t *testing.T) {
	ev := loadSample(t)
	arn := ev.Detail.ExecutionArn
	identity := event.Detail{
		Pipeline: "app", Execution: arn, State: event.Stopped,
		Repository: "acme/app", Ref: "refs/heads/main", Commit: "9fceb02d0ae598e95dc970b74767f19372d61af8",
	}
	with := func(errName, cause string) *event.Detail {
		d := identity
		d.Error, d.Cause = errName, cause
		return &d
	}
	status := func(s string) Event { e := ev; e.Detail.Status = s; return e }
	tests := []struct {
		name      string
		ev        Event
		machine   string
		out       *sfn.DescribeExecutionOutput
		sfnErr    error
		putErr    error
		putFailed bool
		describes int
		want      *event.Detail // nil: no event
		wantErr   error
	}{
		{name: "stopped by hand", ev: ev, out: described(ev, "", ""), describes: 1, want: with("", "")},
		{name: "stopped with error and cause", ev: ev, out: described(ev, "Ops.Stopped", "bad deploy window"), describes: 1,
			want: with("Ops.Stopped", "bad deploy window")},
		{name: "superseded", ev: ev, out: described(ev, "Pushline.Superseded", "superseded by main-0123456789ab-3c2f0e4a81b7"), describes: 1},
		{name: "superseded cause only", ev: ev, out: described(ev, "", "superseded by main-0123456789ab-3c2f0e4a81b7"), describes: 1},
		{name: "succeeded", ev: status("SUCCEEDED")},
		{name: "failed", ev: status("FAILED")},
		{name: "timed out", ev: status("TIMED_OUT")},
		{name: "running", ev: status("RUNNING")},
		{name: "another machine", ev: ev, machine: "arn:aws:states:us-east-1:123456789012:stateMachine:pushline-other"},
		{name: "this machine", ev: ev, machine: ev.Detail.StateMachineArn, out: described(ev, "", ""), describes: 1, want: with("", "")},
		{name: "not from Step Functions", ev: func() Event { e := ev; e.Source = "pushline"; return e }()},
		{name: "describe fails", ev: ev, sfnErr: errors.New("throttled"), describes: 1, wantErr: errors.New("throttled")},
		{name: "put fails", ev: ev, out: described(ev, "", ""), putErr: errors.New("unavailable"), describes: 1, wantErr: ErrEmit},
		{name: "entry fails", ev: ev, out: described(ev, "", ""), putFailed: true, describes: 1, wantErr: ErrEmit},
		{name: "input not pushline's", ev: ev, describes: 1, out: func() *sfn.DescribeExecutionOutput {
			o := described(ev, "", "")
			o.Input = aws.String(`"hello"`)
			return o
		}(), want: &event.Detail{Execution: arn, State: event.Stopped}},
		{name: "input only in the event", ev: ev, describes: 1, out: func() *sfn.DescribeExecutionOutput {
			o := described(ev, "", "")
			o.Input = nil
			return o
		}(), want: with("", "")},
		{name: "ARN only in resources", ev: func() Event { e := ev; e.Detail.ExecutionArn = ""; return e }(),
			out: described(ev, "", ""), describes: 1, want: with("", "")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSFN(arn, tt.out, tt.sfnErr)
			e := &awstest.Events{Err: tt.putErr, Failed: tt.putFailed}
			h := &Handler{SFN: s, Events: e, EventBus: "pushline-app", StateMachine: tt.machine, Log: quiet()}
			err := h.Handle(context.Background(), tt.ev)
			switch {
			case tt.wantErr == nil && err != nil:
				t.Fatalf("Handle: %v", err)
			case tt.wantErr != nil && err == nil:
				t.Fatalf("Handle: no error, want %v", tt.wantErr)
			case tt.wantErr != nil && !errors.Is(err, tt.wantErr) && !errors.Is(err, tt.sfnErr):
				t.Fatalf("Handle: %v, want %v", err, tt.wantErr)
			}
			if s.Describes() != tt.describes {
				t.Errorf("%d DescribeExecution calls, want %d", s.Describes(), tt.describes)
			}
			var got []event.Detail
			for _, en := range e.Entries() {
				if aws.ToString(en.Source) != event.Source || aws.ToString(en.DetailType) != event.PipelineExecution ||
					aws.ToString(en.EventBusName) != "pushline-app" {
					t.Errorf("entry source %q detail-type %q bus %q", aws.ToString(en.Source), aws.ToString(en.DetailType), aws.ToString(en.EventBusName))
				}
				if diff := cmp.Diff([]string{arn}, en.Resources); diff != "" {
					t.Errorf("resources (-want +got):\n%s", diff)
				}
				if want := time.UnixMilli(ev.Detail.StopDate); en.Time == nil || !en.Time.Equal(want) {
					t.Errorf("time %v, want the stop date %v", en.Time, want)
				}
				var d event.Detail
				if err := json.Unmarshal([]byte(aws.ToString(en.Detail)), &d); err != nil {
					t.Fatal(err)
				}
				got = append(got, d)
			}
			var want []event.Detail
			if tt.want != nil {
				want = []event.Detail{*tt.want}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRedelivery: the same event twice emits the same event twice
// (documented: consumers de-duplicate on execution and state).
func TestRedelivery(t *testing.T) {
	ev := loadSample(t)
	s := newSFN(ev.Detail.ExecutionArn, described(ev, "", ""), nil)
	e := &awstest.Events{}
	h := &Handler{SFN: s, Events: e, EventBus: "pushline-app", Log: quiet()}
	for range 2 {
		if err := h.Handle(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
	if len(e.Entries()) != 2 {
		t.Fatalf("%d entries, want 2", len(e.Entries()))
	}
	if diff := cmp.Diff(e.Entries()[0], e.Entries()[1], cmp.AllowUnexported(ebtypes.PutEventsRequestEntry{})); diff != "" {
		t.Errorf("a redelivery emits another event (-first +second):\n%s", diff)
	}
}

// TestGolden pins the STOPPED entry emitted for the sample.
func TestGolden(t *testing.T) {
	ev := loadSample(t)
	e := &awstest.Events{}
	h := &Handler{SFN: newSFN(ev.Detail.ExecutionArn, described(ev, "Ops.Stopped", "bad deploy window"), nil),
		Events: e, EventBus: "pushline-app", Log: quiet()}
	if err := h.Handle(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	en := e.Entries()[0]
	var detail any
	if err := json.Unmarshal([]byte(aws.ToString(en.Detail)), &detail); err != nil {
		t.Fatal(err)
	}
	got, err := json.MarshalIndent(map[string]any{
		"Source": en.Source, "DetailType": en.DetailType, "EventBusName": en.EventBusName,
		"Resources": en.Resources, "Time": en.Time, "Detail": detail,
	}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", "stopped.golden.json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./shared/watch -update writes it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got; -update rewrites it):\n%s", path, diff)
	}
}

// FuzzHandle: whatever the event and the execution's input, Handle does
// not panic and emits at most one event.
func FuzzHandle(f *testing.F) {
	raw, err := os.ReadFile(sample)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(raw, `{"pipeline":"app","push":{"ref":"refs/heads/main"}}`)
	f.Add([]byte(`{"detail":{"status":"ABORTED"},"resources":["arn:x"]}`), `null`)
	f.Fuzz(func(t *testing.T, body []byte, input string) {
		var ev Event
		if json.Unmarshal(body, &ev) != nil {
			return
		}
		arn := ev.Detail.ExecutionArn
		if arn == "" && len(ev.Resources) > 0 {
			arn = ev.Resources[0]
		}
		e := &awstest.Events{}
		h := &Handler{SFN: newSFN(arn, &sfn.DescribeExecutionOutput{Input: aws.String(input)}, nil),
			Events: e, EventBus: "b", Log: quiet()}
		if err := h.Handle(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
		if len(e.Entries()) > 1 {
			t.Fatalf("%d events", len(e.Entries()))
		}
	})
}

// TestSupersededAsIngest: watch recognises the error the webhook stops a
// superseded execution with. The constant is a copy (importing ingest
// would compile the config's regexps at this function's cold start), so
// this test catches the two drifting apart.
func TestSupersededAsIngest(t *testing.T) {
	if supersededError != ingest.Superseded {
		t.Errorf("watch treats %q as superseded, ingest stops with %q", supersededError, ingest.Superseded)
	}
}
