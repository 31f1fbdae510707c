package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/pushline/pushline/infra/demo/demo"
)

// runDemo runs the demo (infra/demo/demo), as make demo does.
func runDemo(cmd *cobra.Command) error {
	start := time.Now()
	if err := demo.Run(cmd.Context(), cmd.OutOrStdout()); err != nil {
		return fmt.Errorf("demo failed after %s: %w", time.Since(start).Round(100*time.Millisecond), err)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "\ndemo: SUCCEEDED in %s\n", time.Since(start).Round(100*time.Millisecond))
	return nil
}
