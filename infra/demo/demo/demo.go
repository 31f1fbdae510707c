// Package demo shows pushline working end to end on one machine, as a
// newcomer would try it (make demo, pushline demo): it creates a sample git
// repository (a shell app with its buildspecs under ci/: Build, then Unit
// tests and Lint side by side, Approve, and a Deploy that reads Build's
// artifact at $CODEBUILD_SRC_DIR_Build), starts the local stack, pushes a
// commit, delivers the signed webhook as GitHub would, follows the
// execution, approves it through the emailed link (GET, then POST) and
// waits for the deploy.
package demo

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/pushline/pushline/infra/local/drive"
	"github.com/pushline/pushline/infra/local/stack"
	"github.com/pushline/pushline/shared/config"
)

//go:embed sample
var sample embed.FS

// Run runs the demo, telling out what it does; it returns nil only if the
// execution SUCCEEDED.
func Run(ctx context.Context, out io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	say := func(format string, args ...any) { fmt.Fprintf(out, "demo: "+format+"\n", args...) }

	root, err := filepath.Abs(filepath.Join(".pushline", "demo"))
	if err != nil {
		return err
	}
	if err := os.RemoveAll(root); err != nil {
		return fmt.Errorf("clear %s: %w", root, err)
	}
	data := filepath.Join(root, "data")
	target := filepath.Join(root, "deployed")

	say("creating a sample repository (a tiny shell app, its buildspecs under ci/)")
	files, _ := fs.Sub(sample, "sample")
	repo, err := drive.NewRepo(ctx, root, "greet", files)
	if err != nil {
		return err
	}
	for _, script := range []string{"greet.sh", "test.sh"} { // embed keeps no modes
		if err := os.Chmod(filepath.Join(repo.Work, script), 0o755); err != nil {
			return err
		}
	}
	before, after, changed, err := repo.Commit(ctx, "main", "Add greet, its tests and buildspecs")
	if err != nil {
		return err
	}
	say("pushed %s to %s (branch main)", after[:7], repo.CloneURL())

	cfgJSON := fmt.Appendf(nil, `{
  "name": "demo",
  "repositories": [{"provider": "github", "repository": "pushline/greet", "cloneUrl": %q, "branches": ["main"]}],
  "stages": [
    {"name": "Build", "buildspec": "ci/build.yml", "timeout": "10m"},
    {"name": "Test", "actions": [
      {"name": "Unit", "buildspec": "ci/unit.yml", "timeout": "10m", "inputs": ["Build"]},
      {"name": "Lint", "buildspec": "ci/lint.yml", "timeout": "10m"}
    ]},
    {"name": "Approve", "approval": {"approvers": ["ops@example.com"], "timeout": "1h"}},
    {"name": "Deploy", "buildspec": "ci/deploy.yml", "timeout": "10m", "inputs": ["Build"], "environment": {"STAGE": "demo", "DEPLOY_TARGET": %q}}
  ],
  "notifications": {"from": "pushline@example.com", "failures": ["team@example.com"]}
}`, repo.CloneURL(), target)
	if err := os.WriteFile(filepath.Join(root, "pushline.json"), cfgJSON, 0o644); err != nil {
		return err
	}
	cfg, err := config.Parse(cfgJSON)
	if err != nil {
		return fmt.Errorf("demo config: %w", err)
	}

	say("starting the local stack (data in %s)", data)
	s, err := stack.Start(ctx, stack.Options{
		DataDir:         data,
		SandboxWritable: []string{target}, // Deploy writes there
		HTTPAddr:        "127.0.0.1:0",
		AWSAddr:         "127.0.0.1:0",
		Config:          cfg,
		Out:             out,
		Logger:          slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		return err
	}
	defer func() {
		cctx, ccancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer ccancel()
		_ = s.Close(cctx)
	}()
	s.PrintReady(out)

	say("delivering the push webhook as GitHub would (signed with the stack's secret)")
	body := drive.GitHubPush{
		Repository: "pushline/greet", CloneURL: repo.CloneURL(), Ref: "refs/heads/main",
		Before: before, After: after, Message: "Add greet, its tests and buildspecs",
		Files: changed, Pusher: "dee", Author: "Dee Veloper",
	}.Body()
	ans, err := drive.Deliver(ctx, s.HTTPURL()+"/webhook", s.WebhookSecret(), "push", body)
	if err != nil {
		return err
	}
	say("webhook answered %d %s", ans.Status, strings.TrimSpace(string(ans.Body)))
	if ans.Status != 202 || ans.Execution == "" {
		return fmt.Errorf("the webhook did not start an execution")
	}

	sf := s.SFN()
	outbox := filepath.Join(data, "outbox")
	approved := false
	for {
		d, err := sf.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(ans.Execution)})
		if err != nil {
			return fmt.Errorf("describe execution: %w", err)
		}
		if d.Status != sfntypes.ExecutionStatusRunning && d.Status != sfntypes.ExecutionStatusPendingRedrive {
			say("execution %s", d.Status)
			if d.Status != sfntypes.ExecutionStatusSucceeded {
				return fmt.Errorf("execution %s: %s %s", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
			}
			break
		}
		if !approved {
			if link, err := findLink(outbox, say); err != nil {
				return err
			} else if link != "" {
				if err := approve(ctx, link, say); err != nil {
					return err
				}
				approved = true
			}
		}
		select {
		case <-ctx.Done():
			return errors.New("the execution did not end within the demo's time limit")
		case <-time.After(100 * time.Millisecond):
		}
	}

	greet := filepath.Join(target, "greet")
	if _, err := os.Stat(greet); err != nil {
		return fmt.Errorf("the deploy stage left no %s: %w", greet, err)
	}
	say("")
	say("where everything is:")
	say("  deployed app:  %s", greet)
	say("  artifacts:     %s (s3://%s/)", filepath.Join(data, "s3"), s.Bucket())
	say("  build logs:    %s", filepath.Join(data, "builds"))
	say("  events:        %s", filepath.Join(data, "events.jsonl"))
	say("  mail:          %s", outbox)
	say("  state:         %s (the engine's SQLite database)", filepath.Join(data, "states.db"))
	say("to look around with the AWS CLI, serve this data dir with the local stack:")
	say("  PUSHLINE_DATA_DIR=%s PUSHLINE_CONFIG=%s make local", data, filepath.Join(root, "pushline.json"))
	say("  aws --endpoint-url http://127.0.0.1:4566 stepfunctions get-execution-history --execution-arn %s", ans.Execution)
	return nil
}

// findLink returns the first approval link mailed to the outbox, if any.
func findLink(outbox string, say func(string, ...any)) (string, error) {
	mails, err := drive.Outbox(outbox)
	if err != nil {
		return "", err
	}
	for _, m := range mails {
		if links := m.Links(); len(links) > 0 {
			say("approval mail to %s: %q", m.To, m.Subject)
			say("approval link: %s", links[0])
			return links[0], nil
		}
	}
	return "", nil
}

// approve opens the link as a person would and approves through the form.
func approve(ctx context.Context, link string, say func(string, ...any)) error {
	page, err := drive.Open(ctx, link)
	if err != nil {
		return err
	}
	say("GET the link: %d %q (nothing is decided by a GET)", page.Status, page.Title())
	if page.Status != 200 {
		return fmt.Errorf("the approval page answered %d", page.Status)
	}
	res, err := page.Submit(ctx, link, "approve", "Looks good — approved from make demo")
	if err != nil {
		return err
	}
	say("POST approve: %d %q", res.Status, res.Title())
	if res.Status != 200 {
		return fmt.Errorf("the approval answered %d", res.Status)
	}
	return nil
}
