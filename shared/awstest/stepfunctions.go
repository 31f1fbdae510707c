package awstest

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// StepFunctions is an in-memory Step Functions of one state machine with
// AWS's naming rules: a StartExecution with the name and input of a
// RUNNING execution returns that execution; any other reuse of a name is
// ExecutionAlreadyExists. Its clock advances a second at each start.
type StepFunctions struct {
	// Err, when set, is the answer of StartExecution, ListExecutions and
	// StopExecution; DescribeErr of DescribeExecution.
	Err, DescribeErr error
	// PageSize is ListExecutions' page size (0: 100).
	PageSize int
	// Lag makes ListExecutions leave out the latest execution, as AWS's
	// eventually consistent list may.
	Lag bool
	// BeforeStart, when set, runs once at the next StartExecution before
	// it does anything (a concurrent request slipping in).
	BeforeStart func()

	machine   string
	mu        sync.Mutex
	now       time.Time
	execs     map[string]*Execution // by name
	starts    int
	describes int
}

// Execution is an execution of the fake.
type Execution struct {
	Name, ARN, Input string
	Status           sfntypes.ExecutionStatus
	Start, Stop      time.Time
	Error, Cause     string
}

// NewStepFunctions returns the fake of state machine machine (an ARN),
// its clock at now.
func NewStepFunctions(machine string, now time.Time) *StepFunctions {
	return &StepFunctions{machine: machine, now: now, execs: map[string]*Execution{}}
}

// ExecutionARN is the ARN of the execution name of state machine machine.
func ExecutionARN(machine, name string) string {
	return strings.Replace(machine, ":stateMachine:", ":execution:", 1) + ":" + name
}

// Now is the fake's clock.
func (f *StepFunctions) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// Advance moves the clock on by d.
func (f *StepFunctions) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

// Add adds an execution (its ARN from its name when empty).
func (f *StepFunctions) Add(e Execution) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if e.ARN == "" {
		e.ARN = ExecutionARN(f.machine, e.Name)
	}
	f.execs[e.Name] = &e
}

// Get returns the execution named name (nil: none).
func (f *StepFunctions) Get(name string) *Execution {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.execs[name]
}

// Starts is how many executions StartExecution created.
func (f *StepFunctions) Starts() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.starts
}

// Describes is how many DescribeExecution calls were made.
func (f *StepFunctions) Describes() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.describes
}

func (f *StepFunctions) StartExecution(_ context.Context, in *sfn.StartExecutionInput, _ ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error) {
	f.mu.Lock()
	if hook := f.BeforeStart; hook != nil {
		f.BeforeStart = nil
		f.mu.Unlock()
		hook()
		f.mu.Lock()
	}
	defer f.mu.Unlock()
	if f.Err != nil {
		return nil, f.Err
	}
	if m := aws.ToString(in.StateMachineArn); m != f.machine {
		return nil, &sfntypes.StateMachineDoesNotExist{Message: aws.String("State Machine Does Not Exist: '" + m + "'")}
	}
	name := aws.ToString(in.Name)
	if e, ok := f.execs[name]; ok {
		if e.Status == sfntypes.ExecutionStatusRunning && e.Input == aws.ToString(in.Input) {
			return &sfn.StartExecutionOutput{ExecutionArn: aws.String(e.ARN), StartDate: aws.Time(e.Start)}, nil
		}
		return nil, &sfntypes.ExecutionAlreadyExists{Message: aws.String("Execution Already Exists: '" + e.ARN + "'")}
	}
	f.now = f.now.Add(time.Second)
	e := &Execution{Name: name, ARN: ExecutionARN(f.machine, name), Input: aws.ToString(in.Input), Status: sfntypes.ExecutionStatusRunning, Start: f.now}
	f.execs[name] = e
	f.starts++
	return &sfn.StartExecutionOutput{ExecutionArn: aws.String(e.ARN), StartDate: aws.Time(e.Start)}, nil
}

// ListExecutions lists newest first, in pages of PageSize.
func (f *StepFunctions) ListExecutions(_ context.Context, in *sfn.ListExecutionsInput, _ ...func(*sfn.Options)) (*sfn.ListExecutionsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.Err != nil {
		return nil, f.Err
	}
	var all []sfntypes.ExecutionListItem
	for _, e := range f.execs {
		if f.Lag && e.Start.Equal(f.now) {
			continue
		}
		if in.StatusFilter == "" || e.Status == in.StatusFilter {
			all = append(all, sfntypes.ExecutionListItem{Name: aws.String(e.Name), ExecutionArn: aws.String(e.ARN), Status: e.Status, StartDate: aws.Time(e.Start)})
		}
	}
	sort.SliceStable(all, func(i, j int) bool {
		a, b := all[i], all[j]
		if !a.StartDate.Equal(*b.StartDate) {
			return a.StartDate.After(*b.StartDate)
		}
		return aws.ToString(a.Name) > aws.ToString(b.Name)
	})
	size := f.PageSize
	if size <= 0 {
		size = 100
	}
	from := 0
	if tok := aws.ToString(in.NextToken); tok != "" {
		fmt.Sscan(tok, &from)
	}
	from = min(from, len(all))
	to := min(from+size, len(all))
	out := &sfn.ListExecutionsOutput{Executions: all[from:to]}
	if to < len(all) {
		out.NextToken = aws.String(fmt.Sprint(to))
	}
	return out, nil
}

func (f *StepFunctions) StopExecution(_ context.Context, in *sfn.StopExecutionInput, _ ...func(*sfn.Options)) (*sfn.StopExecutionOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.Err != nil {
		return nil, f.Err
	}
	for _, e := range f.execs {
		if e.ARN == aws.ToString(in.ExecutionArn) {
			e.Status, e.Error, e.Cause, e.Stop = sfntypes.ExecutionStatusAborted, aws.ToString(in.Error), aws.ToString(in.Cause), f.now
			return &sfn.StopExecutionOutput{StopDate: aws.Time(f.now)}, nil
		}
	}
	return nil, &sfntypes.ExecutionDoesNotExist{}
}

func (f *StepFunctions) DescribeExecution(_ context.Context, in *sfn.DescribeExecutionInput, _ ...func(*sfn.Options)) (*sfn.DescribeExecutionOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.describes++
	if f.DescribeErr != nil {
		return nil, f.DescribeErr
	}
	for _, e := range f.execs {
		if e.ARN == aws.ToString(in.ExecutionArn) {
			out := &sfn.DescribeExecutionOutput{ExecutionArn: aws.String(e.ARN), Name: aws.String(e.Name), Input: aws.String(e.Input), Status: e.Status}
			if f.machine != "" {
				out.StateMachineArn = aws.String(f.machine)
			}
			if !e.Start.IsZero() {
				out.StartDate = aws.Time(e.Start)
			}
			if !e.Stop.IsZero() {
				out.StopDate = aws.Time(e.Stop)
			}
			if e.Error != "" {
				out.Error = aws.String(e.Error)
			}
			if e.Cause != "" {
				out.Cause = aws.String(e.Cause)
			}
			return out, nil
		}
	}
	return nil, &sfntypes.ExecutionDoesNotExist{}
}
