package states

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// BenchmarkStartExecution starts executions through the API from 1 and 64
// concurrent clients the way ingest does in superseded mode: each start
// lists the state machine's RUNNING executions first. The executions
// wait on a task (they stay RUNNING), and `waiting` of them, plus 2,000
// finished ones, are there before the clock starts. cpu-µs/start is the
// figure to compare on a shared machine.
func BenchmarkStartExecution(b *testing.B) {
	for _, bc := range []struct{ clients, waiting int }{{1, 0}, {64, 0}, {1, 640}, {64, 640}} {
		b.Run(fmt.Sprintf("clients=%d/waiting=%d", bc.clients, bc.waiting), func(b *testing.B) {
			h := newBenchHarness(b, Options{Path: filepath.Join(b.TempDir(), "bench.db"), Logger: nil})
			var blocked atomic.Int64
			h.e.Register("arn:aws:states:::test:block", IntegrationFunc(func(ctx context.Context, t Task) (json.RawMessage, error) {
				blocked.Add(1)
				<-ctx.Done()
				return nil, ctx.Err()
			}))
			// a pipeline's definition is 25 to 200 KiB: the Comment makes this
			// one 32 KiB
			sm := h.create("wait", `{"Comment":"`+strings.Repeat("x", 32<<10)+`","StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::test:block","End":true}}}`)
			done := h.create("done", `{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`)
			ctx := context.Background()
			for i := range 2000 {
				if _, err := h.e.StartExecution(ctx, StartExecutionInput{StateMachineArn: done, Name: fmt.Sprintf("f%d", i)}); err != nil {
					b.Fatal(err)
				}
			}
			for i := range bc.waiting {
				if _, err := h.e.StartExecution(ctx, StartExecutionInput{StateMachineArn: sm, Name: fmt.Sprintf("w%d", i)}); err != nil {
					b.Fatal(err)
				}
			}
			for blocked.Load() < int64(bc.waiting) {
				time.Sleep(time.Millisecond)
			}
			if err := h.e.st.barrier(ctx); err != nil {
				b.Fatal(err)
			}
			var next atomic.Int64
			var mu sync.Mutex
			var lat []time.Duration
			b.ResetTimer()
			cpu0 := cpuTime()
			start := time.Now()
			var wg sync.WaitGroup
			for c := range bc.clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						i := next.Add(1)
						if i > int64(b.N) {
							return
						}
						t0 := time.Now()
						if _, err := h.sfn.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(sm), StatusFilter: sfntypes.ExecutionStatusRunning}); err != nil {
							b.Error(err)
							return
						}
						if _, err := h.sfn.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(sm), Name: aws.String(fmt.Sprintf("c%d-%d", c, i)), Input: aws.String(`{"push":{}}`)}); err != nil {
							b.Error(err)
							return
						}
						d := time.Since(t0)
						mu.Lock()
						lat = append(lat, d)
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "starts/s")
			// the process's CPU time per start, which the other load on a
			// shared machine distorts less than the wall clock
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/start")
			if len(lat) > 0 {
				b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "ms-p50")
			}
		})
	}
}
