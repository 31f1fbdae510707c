package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/pushline/pushline/shared/config"
	"github.com/pushline/pushline/shared/hook"
)

// hookCmd is `pushline hook install PATH` and the hidden `hook deliver`
// that the installed post-receive hook runs.
func hookCmd(getenv func(string) string) *cobra.Command {
	h := &cobra.Command{
		Use:   "hook",
		Short: "Make a local bare repository start the pipeline on git push",
	}
	var force bool
	install := &cobra.Command{
		Use:   "install PATH",
		Short: "Write a post-receive hook into the bare repository at PATH",
		Long: `Write a post-receive hook into the bare repository at PATH: each git push to it is
delivered to the local stack as the repository's provider would (a signed push webhook, or for
codecommit CodeCommit's own event), with the changed files. The repository must be the
"cloneUrl" of one of the config's repositories. The hook fails soft: with the stack down, git
push still succeeds and says the push was not delivered.

It reads PUSHLINE_CONFIG (or cdk.json), PUSHLINE_DATA_DIR (the webhook secret; default .pushline)
and PUSHLINE_HTTP_ADDR (default 127.0.0.1:8080).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config.Load()
			if err != nil {
				return err
			}
			dataDir := or(getenv("PUSHLINE_DATA_DIR"), ".pushline")
			o, err := hook.OptionsFor(cfg, args[0], dataDir, "http://"+or(getenv("PUSHLINE_HTTP_ADDR"), "127.0.0.1:8080"))
			if err != nil {
				return err
			}
			o.Force = force
			if err := hook.Install(args[0], o); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "installed: a git push to %s now runs pipeline %s (%s %s)\n", args[0], cfg.Name, o.Provider, o.Repository)
			return nil
		},
	}
	install.Flags().BoolVar(&force, "force", false, "replace a post-receive hook pushline did not write (kept as post-receive.orig)")
	deliver := &cobra.Command{
		Use:                "deliver",
		Short:              "What the installed hook runs (reads git's post-receive input)",
		Hidden:             true,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			hook.Main(cmd.Context(), args, os.Stdin, cmd.ErrOrStderr())
			return nil
		},
	}
	h.AddCommand(install, deliver)
	return h
}

func or(v, def string) string {
	if v != "" {
		return v
	}
	return def
}
