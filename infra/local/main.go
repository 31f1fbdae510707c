// Command local runs the pushline local stack in the foreground until
// SIGINT or SIGTERM (make local). Its settings come from the environment;
// see the README's "Local stack" section. `pushline local` runs the same
// code (stack.Foreground, which handles the signals).
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/pushline/pushline/infra/local/stack"
)

func main() {
	if err := stack.Foreground(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "pushline local:", err)
		os.Exit(1)
	}
}
