// Command local runs the pushline local stack in the foreground until
// SIGINT or SIGTERM (make local). Its settings come from the environment;
// see the README's "Local stack" section. `pushline local` runs the same
// code (stack.Foreground).
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/pushline/pushline/infra/local/stack"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := stack.Foreground(ctx, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "pushline local:", err)
		os.Exit(1)
	}
}
