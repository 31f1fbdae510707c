package ingest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/pushline/pushline/shared/awstest"
	"github.com/pushline/pushline/shared/event"
)

// fakeSFN is an in-memory Step Functions with AWS's naming rules: a
// StartExecution with the name and input of a RUNNING execution returns
// that execution; any other reuse of a name is ExecutionAlreadyExists.
type fakeSFN struct {
	t        *testing.T
	mu       sync.Mutex
	machine  string
	execs    map[string]*fakeExec // by name
	now      time.Time
	pageSize int
	err      error // returned by every call when set
	lag      bool  // ListExecutions does not list the latest execution yet
	starts   int   // successful new executions
	// beforeStart, when set, runs once at the next StartExecution before
	// it does anything (a concurrent request slipping in).
	beforeStart func()
}

type fakeExec struct {
	name, arn, input string
	status           sfntypes.ExecutionStatus
	start            time.Time
	stopError, cause string
}

func newFakeSFN(t *testing.T, machine string) *fakeSFN {
	return &fakeSFN{t: t, machine: machine, execs: map[string]*fakeExec{}, now: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC), pageSize: 2}
}

// clock returns the fake's time and advances it, so every start is later
// than the one before.
func (f *fakeSFN) clock() time.Time {
	f.now = f.now.Add(time.Second)
	return f.now
}

func (f *fakeSFN) StartExecution(_ context.Context, in *sfn.StartExecutionInput, _ ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error) {
	f.mu.Lock()
	if hook := f.beforeStart; hook != nil {
		f.beforeStart = nil
		f.mu.Unlock()
		hook()
		f.mu.Lock()
	}
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	if aws.ToString(in.StateMachineArn) != f.machine {
		f.t.Errorf("StartExecution on %s, want %s", aws.ToString(in.StateMachineArn), f.machine)
	}
	name := aws.ToString(in.Name)
	if e, ok := f.execs[name]; ok {
		if e.status == sfntypes.ExecutionStatusRunning && e.input == aws.ToString(in.Input) {
			return &sfn.StartExecutionOutput{ExecutionArn: aws.String(e.arn), StartDate: aws.Time(e.start)}, nil
		}
		return nil, &sfntypes.ExecutionAlreadyExists{Message: aws.String("Execution Already Exists: '" + e.arn + "'")}
	}
	e := &fakeExec{name: name, arn: ExecutionARN(f.machine, name), input: aws.ToString(in.Input), status: sfntypes.ExecutionStatusRunning, start: f.clock()}
	f.execs[name] = e
	f.starts++
	return &sfn.StartExecutionOutput{ExecutionArn: aws.String(e.arn), StartDate: aws.Time(e.start)}, nil
}

func (f *fakeSFN) ListExecutions(_ context.Context, in *sfn.ListExecutionsInput, _ ...func(*sfn.Options)) (*sfn.ListExecutionsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	var all []sfntypes.ExecutionListItem
	for _, e := range f.execs {
		if f.lag && e.start.Equal(f.now) {
			continue
		}
		if in.StatusFilter == "" || e.status == in.StatusFilter {
			all = append(all, sfntypes.ExecutionListItem{Name: aws.String(e.name), ExecutionArn: aws.String(e.arn), Status: e.status, StartDate: aws.Time(e.start)})
		}
	}
	// newest first, like AWS
	for i := 1; i < len(all); i++ {
		for j := i; j > 0 && earlier(all[j-1], all[j]); j-- {
			all[j-1], all[j] = all[j], all[j-1]
		}
	}
	from := 0
	if tok := aws.ToString(in.NextToken); tok != "" {
		fmt.Sscan(tok, &from)
	}
	to := min(from+f.pageSize, len(all))
	out := &sfn.ListExecutionsOutput{Executions: all[from:to]}
	if to < len(all) {
		out.NextToken = aws.String(fmt.Sprint(to))
	}
	return out, nil
}

func (f *fakeSFN) StopExecution(_ context.Context, in *sfn.StopExecutionInput, _ ...func(*sfn.Options)) (*sfn.StopExecutionOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	for _, e := range f.execs {
		if e.arn == aws.ToString(in.ExecutionArn) {
			e.status, e.stopError, e.cause = sfntypes.ExecutionStatusAborted, aws.ToString(in.Error), aws.ToString(in.Cause)
			return &sfn.StopExecutionOutput{StopDate: aws.Time(f.now)}, nil
		}
	}
	return nil, &sfntypes.ExecutionDoesNotExist{}
}

func (f *fakeSFN) DescribeExecution(_ context.Context, in *sfn.DescribeExecutionInput, _ ...func(*sfn.Options)) (*sfn.DescribeExecutionOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, e := range f.execs {
		if e.arn == aws.ToString(in.ExecutionArn) {
			return &sfn.DescribeExecutionOutput{ExecutionArn: aws.String(e.arn), Name: aws.String(e.name), Input: aws.String(e.input), Status: e.status}, nil
		}
	}
	return nil, &sfntypes.ExecutionDoesNotExist{}
}

func (f *fakeSFN) get(name string) *fakeExec {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.execs[name]
}

// newEvents is EventBridge, checking each event's source and bus.
func newEvents(t *testing.T) *awstest.Events {
	return &awstest.Events{Check: func(e ebtypes.PutEventsRequestEntry) {
		if aws.ToString(e.Source) != event.Source || aws.ToString(e.EventBusName) != "pushline-app" {
			t.Errorf("event source %q bus %q", aws.ToString(e.Source), aws.ToString(e.EventBusName))
		}
	}}
}
