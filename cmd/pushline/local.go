package main

import (
	"github.com/spf13/cobra"

	"github.com/pushline/pushline/infra/local/stack"
)

func localCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "local",
		Short: "Run the local stack in the foreground until Ctrl-C (what make local runs)",
		Long: `Run the local stack in the foreground until SIGINT or SIGTERM (what make local runs).
Its settings come from the environment: PUSHLINE_DATA_DIR, PUSHLINE_HTTP_ADDR,
PUSHLINE_AWS_ADDR, PUSHLINE_WEBHOOK_SECRET, PUSHLINE_SMTP_ADDR, PUSHLINE_CONFIG,
PUSHLINE_PUBLIC_URL, PUSHLINE_STOP_TIMEOUT (see the README).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return stack.Foreground(cmd.Context(), cmd.OutOrStdout())
		},
	}
}

func demoCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "demo",
		Short: "A whole pipeline run on the local stack against a sample repository (what make demo runs)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDemo(cmd)
		},
	}
}
