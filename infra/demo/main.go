// Command demo shows pushline working end to end on one machine, as a
// newcomer would try it (make demo; pushline demo runs the same code,
// package infra/demo/demo). It exits 0 only if the execution SUCCEEDED.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/pushline/pushline/infra/demo/demo"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	start := time.Now()
	err := demo.Run(ctx, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "\ndemo: FAILED after %s: %v\n", time.Since(start).Round(100*time.Millisecond), err)
		os.Exit(1)
	}
	fmt.Printf("\ndemo: SUCCEEDED in %s\n", time.Since(start).Round(100*time.Millisecond))
}
