package states

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
)

const loopDef = `{"StartAt":"Inc","States":{
  "Inc":{"Type":"Pass","Parameters":{"i.$":"States.MathAdd($.i, 1)","n.$":"$.n"},"Next":"Check"},
  "Check":{"Type":"Choice","Choices":[{"Variable":"$.i","NumericLessThanPath":"$.n","Next":"Inc"}],"Default":"Done"},
  "Done":{"Type":"Succeed"}}}`

// observed returns Options whose Observer signals ends of executions.
func observed(path string, ends chan<- string, states chan<- time.Time) Options {
	return Options{Path: path, MaxHistoryEvents: -1, Logger: nil, Observer: func(ev HistoryEvent) {
		switch ev.Type {
		case "ExecutionSucceeded", "ExecutionFailed":
			if ends != nil {
				ends <- ev.ExecutionArn
			}
		case "PassStateEntered":
			if states != nil {
				states <- time.Now()
			}
		}
	}}
}

// BenchmarkPassChoiceLoop runs a Pass/Choice loop with a States.MathAdd
// counter, 10,000 iterations (20,000 state transitions), started through
// the API with durability on (file database). The 25,000-event history
// quota is lifted for it: the loop records 40,000 events.
func BenchmarkPassChoiceLoop(b *testing.B) {
	ends := make(chan string, 16)
	h := newBenchHarness(b, observed(filepath.Join(b.TempDir(), "bench.db"), ends, nil))
	sm := h.create("loop", loopDef)
	const iterations = 10000
	b.ResetTimer()
	start := time.Now()
	cpu0 := cpuTime()
	n := 0
	for b.Loop() {
		h.start(sm, "", fmt.Sprintf(`{"i":0,"n":%d}`, iterations))
		<-ends
		n++
	}
	transitions := float64(n * 2 * iterations)
	b.ReportMetric(transitions/time.Since(start).Seconds(), "transitions/s")
	// the process's CPU time per transition: a figure the other load on a
	// shared machine does not distort as much as the wall clock
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/transitions, "cpu-µs/transition")
}

// BenchmarkTaskTokenLatency measures the time from calling SendTaskSuccess
// to the next state being entered: through the API (the SDK client's
// request included) and in process (Engine.SendTaskSuccess). ack is the
// time until the call returns, i.e. until the result is durable (a sync).
func BenchmarkTaskTokenLatency(b *testing.B) {
	for _, via := range []string{"api", "inprocess"} {
		b.Run(via, func(b *testing.B) {
			ends := make(chan string, 16)
			entered := make(chan time.Time, 16)
			tokens := make(chan string, 16)
			h := newBenchHarness(b, observed(filepath.Join(b.TempDir(), "bench.db"), ends, entered))
			h.e.Register("arn:aws:states:::lambda:invoke", LambdaIntegration(func(ctx context.Context, fn string, p json.RawMessage) (json.RawMessage, error) {
				var v struct{ Token string }
				json.Unmarshal(p, &v)
				tokens <- v.Token
				return nil, nil
			}))
			sm := h.create("token", `{"StartAt":"T","States":{
			  "T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken","Parameters":{"FunctionName":"f","Payload":{"Token.$":"$$.Task.Token"}},"Next":"P"},
			  "P":{"Type":"Pass","End":true}}}`)
			var total, ack time.Duration
			n := 0
			for b.Loop() {
				b.StopTimer()
				h.start(sm, "", `{}`)
				tok := <-tokens
				b.StartTimer()
				t0 := time.Now()
				var err error
				if via == "api" {
					_, err = h.sfn.SendTaskSuccess(context.Background(), &sfn.SendTaskSuccessInput{TaskToken: aws.String(tok), Output: aws.String(`{"ok":true}`)})
				} else {
					_, err = h.e.SendTaskSuccess(context.Background(), SendTaskSuccessInput{TaskToken: tok, Output: `{"ok":true}`})
				}
				if err != nil {
					b.Fatal(err)
				}
				ack += time.Since(t0)
				total += (<-entered).Sub(t0)
				<-ends
				n++
			}
			b.ReportMetric(float64(total.Microseconds())/float64(n), "µs-to-next-state")
			b.ReportMetric(float64(ack.Microseconds())/float64(n), "µs-ack")
		})
	}
}

// BenchmarkAccumulated runs one short execution per op after `finished`
// executions have completed: the time and heap should not grow with it.
func BenchmarkAccumulated(b *testing.B) {
	for _, finished := range []int{0, 1000} {
		b.Run(fmt.Sprintf("finished=%d", finished), func(b *testing.B) {
			ends := make(chan string, 16)
			h := newBenchHarness(b, observed(filepath.Join(b.TempDir(), "bench.db"), ends, nil))
			sm := h.create("loop", loopDef)
			for range finished {
				h.start(sm, "", `{"i":0,"n":10}`)
				<-ends
			}
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			for b.Loop() {
				h.start(sm, "", `{"i":0,"n":10}`)
				<-ends
			}
			b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "MiB-heap-before")
		})
	}
}

func newBenchHarness(b *testing.B, o Options) *harness {
	b.Helper()
	return newHarnessTB(b, o, nil)
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
