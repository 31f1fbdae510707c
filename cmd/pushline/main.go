// Command pushline follows and drives a pushline pipeline from a terminal:
// runs, show, logs, rerun, retry, run, link, and local / demo (what make
// local and make demo run). It reaches the local stack at
// PUSHLINE_AWS_ADDR when set, else AWS through the standard SDK
// environment (AWS_REGION, AWS_PROFILE, …), and reads the pipeline config
// as the stack does. See docs/runs.md.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRoot(ctx, os.Getenv).ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "pushline: "+oneLine(err.Error()))
		os.Exit(1)
	}
}

// oneLine keeps an error on one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
