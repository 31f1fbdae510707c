package stack

import (
	"os"
	"syscall"
	"testing"
	"time"
)

func TestStopperSameStop(t *testing.T) {
	for _, tc := range []struct {
		name    string
		signals []time.Duration // when each signal comes, after the first
		wantNow bool
	}{
		{"one signal", []time.Duration{0}, false},
		{"make forwards its SIGTERM", []time.Duration{0, 10 * time.Millisecond}, false},
		{"three within the second", []time.Duration{0, 0, 999 * time.Millisecond}, false},
		{"Ctrl-C again", []time.Duration{0, 1500 * time.Millisecond}, true},
		{"echo, then Ctrl-C again", []time.Duration{0, 5 * time.Millisecond, 2 * time.Second}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// the i-th call of now is the time of the i-th signal
			times := make(chan time.Time, len(tc.signals))
			base := time.Unix(1000, 0)
			for _, at := range tc.signals {
				times <- base.Add(at)
			}
			sigs := make(chan os.Signal, len(tc.signals))
			st := watchSignals(sigs, time.Second, func() time.Time { return <-times })
			for range tc.signals {
				sigs <- syscall.SIGTERM
			}
			<-st.Stopping()
			select {
			case <-st.Now():
				if !tc.wantNow {
					t.Fatal("stop now, want the same graceful stop")
				}
			case <-time.After(100 * time.Millisecond):
				if tc.wantNow {
					t.Fatal("no stop now")
				}
			}
		})
	}
}
