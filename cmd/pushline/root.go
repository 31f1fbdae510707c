package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/pushline/pushline/shared/run"
	"github.com/pushline/pushline/shared/runpage"
)

// newRoot builds the command tree; getenv is the environment (tests
// give their own).
func newRoot(ctx context.Context, getenv func(string) string) *cobra.Command {
	var asJSON bool
	root := &cobra.Command{
		Use:   "pushline",
		Short: "Follow and drive pushline pipeline runs",
		Long: `pushline follows and drives the runs of a pushline pipeline.

It reaches the local stack at PUSHLINE_AWS_ADDR when set (e.g. 127.0.0.1:4566),
else AWS through the standard SDK environment (AWS_REGION, AWS_PROFILE, ...),
and reads the pipeline config as the stack does (PUSHLINE_CONFIG, or the
"pushline" key of cdk.json). RUN is an execution name or ARN.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().BoolVar(&asJSON, "json", false, "print JSON for scripts instead of a table")
	connectFn := func() (*env, error) { return connect(ctx, getenv) }
	now := time.Now

	runs := &cobra.Command{
		Use:   "runs",
		Short: "List the pipeline's runs, newest first",
		Args:  cobra.NoArgs,
	}
	var branch, state string
	var limit int
	runs.Flags().StringVar(&branch, "branch", "", "only runs of this branch")
	runs.Flags().StringVar(&state, "state", "", "only runs in this state: "+strings.Join(run.Statuses, ", "))
	runs.Flags().IntVar(&limit, "limit", 20, "at most this many runs")
	runs.RunE = func(cmd *cobra.Command, _ []string) error {
		e, err := connectFn()
		if err != nil {
			return err
		}
		list, err := e.runs.List(cmd.Context(), run.Filter{Branch: branch, Status: state, Limit: limit, Describe: limit})
		if err != nil {
			return err
		}
		if asJSON {
			if list == nil {
				list = []run.Summary{}
			}
			return writeJSON(cmd.OutOrStdout(), list)
		}
		return writeRuns(cmd.OutOrStdout(), list, now())
	}

	show := &cobra.Command{
		Use:   "show RUN",
		Short: "Show a run: commit, trigger, stages, approvals, artifacts, cause, attempts",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := connectFn()
			if err != nil {
				return err
			}
			r, err := e.runs.Get(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), r)
			}
			return writeShow(cmd.OutOrStdout(), r, e.pageURL(r.Name), now())
		},
	}

	var follow bool
	logs := &cobra.Command{
		Use:   "logs RUN [STAGE]",
		Short: "Print a build's log (the failed stage's, else the last build's); -f follows it",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := connectFn()
			if err != nil {
				return err
			}
			stage := ""
			if len(args) == 2 {
				stage = args[1]
			}
			return printLog(cmd.Context(), cmd.OutOrStdout(), e.runs, args[0], stage, follow)
		},
	}
	logs.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing while the build runs")

	again := func(use, short string, f func(*run.Runs) func(context.Context, string, string) (*run.Started, error)) *cobra.Command {
		return &cobra.Command{
			Use:   use + " RUN",
			Short: short,
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				e, err := connectFn()
				if err != nil {
					return err
				}
				s, err := f(e.runs)(cmd.Context(), args[0], e.who(cmd.Context()))
				if err != nil {
					return err
				}
				return printStarted(cmd.OutOrStdout(), e, s, asJSON)
			},
		}
	}
	rerun := again("rerun", "Run the whole pipeline again for the same commit (a new execution, -r<N>)",
		func(rs *run.Runs) func(context.Context, string, string) (*run.Started, error) { return rs.Rerun })
	retry := again("retry", "Run again from the stage that failed, reusing the earlier stages' artifacts and variables",
		func(rs *run.Runs) func(context.Context, string, string) (*run.Started, error) { return rs.Retry })

	var commit, repository string
	start := &cobra.Command{
		Use:   "run BRANCH",
		Short: "Start a run of a branch without a push (recorded as manual, by you)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := connectFn()
			if err != nil {
				return err
			}
			sha := commit
			if sha == "" {
				if sha, err = resolveCommit(cmd.Context(), e, repository, args[0]); err != nil {
					return err
				}
			}
			s, err := e.runs.Start(cmd.Context(), run.Manual{Branch: args[0], Commit: strings.ToLower(sha), By: e.who(cmd.Context()), Repository: repository})
			if err != nil {
				return err
			}
			return printStarted(cmd.OutOrStdout(), e, s, asJSON)
		},
	}
	start.Flags().StringVar(&commit, "commit", "", "the full commit SHA (default: the branch's head, from the repository's cloneUrl or its host's API)")
	start.Flags().StringVar(&repository, "repository", "", "which configured repository (default the first)")

	var operator bool
	var ttl time.Duration
	link := &cobra.Command{
		Use:   "link [RUN]",
		Short: "Print a signed link to a run page (--operator: one that can retry and rerun; without RUN: the console)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := connectFn()
			if err != nil {
				return err
			}
			base := e.publicURL()
			if base == "" {
				return errors.New("set PUSHLINE_PUBLIC_URL to the run pages' URL (the stack's API URL)")
			}
			key, err := e.key(cmd.Context())
			if err != nil {
				return fmt.Errorf("the link signing key: %w", err)
			}
			name := ""
			if len(args) == 1 {
				arn, err := e.runs.ARN(args[0])
				if err != nil {
					return err
				}
				name = arn
			}
			var u string
			switch {
			case operator:
				u = runpage.OperatorURL(base, key, name, e.who(cmd.Context()), ttl, now())
			case name == "":
				return errors.New("the console needs --operator")
			default:
				u = runpage.SignedURL(base, key, name, ttl, now())
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), u)
			return err
		},
	}
	link.Flags().BoolVar(&operator, "operator", false, "a short-lived link that also allows Retry and Rerun, as you")
	link.Flags().DurationVar(&ttl, "ttl", 0, "how long the link works (default 720h, 1h with --operator)")

	root.AddCommand(runs, show, logs, rerun, retry, start, link, hookCmd(getenv), localCmd(), demoCmd())
	return root
}

func printStarted(w io.Writer, e *env, s *run.Started, asJSON bool) error {
	if asJSON {
		return writeJSON(w, s)
	}
	what := "started " + s.Name
	if s.Stage != "" {
		what += " from stage " + s.Stage
	}
	fmt.Fprintf(w, "%s (attempt %d)\n", what, s.Attempt)
	if u := e.pageURL(s.Name); u != "" {
		fmt.Fprintf(w, "  page %s\n", u)
	}
	fmt.Fprintf(w, "  follow: pushline show %s   (or: pushline logs -f %s)\n", s.Name, s.Name)
	return nil
}

// resolveCommit finds a branch's head: locally with git ls-remote on the
// repository's cloneUrl; in AWS the same when the cloneUrl is reachable,
// else --commit is needed.
func resolveCommit(ctx context.Context, e *env, repository, branch string) (string, error) {
	if len(e.cfg.Repositories) == 0 {
		return "", errors.New("no repository in the pipeline config")
	}
	repo := e.cfg.Repositories[0]
	for _, r := range e.cfg.Repositories {
		if strings.EqualFold(r.Repository, repository) {
			repo = r
		}
	}
	url := repo.CloneURL
	if url == "" {
		return "", fmt.Errorf("repository %s has no cloneUrl to read branch %s from: give --commit SHA", repo.Repository, branch)
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(cctx, "git", "ls-remote", "--", url, "refs/heads/"+branch).Output()
	if err != nil {
		return "", fmt.Errorf("git ls-remote %s: %w (give --commit SHA)", url, err)
	}
	sha, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\t")
	if sha == "" {
		return "", fmt.Errorf("no branch %s in %s", branch, url)
	}
	return sha, nil
}
