package main

import (
	"context"
	"errors"
	"fmt"
	"os/user"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/codebuild"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/pushline/pushline/shared/approval"
	"github.com/pushline/pushline/shared/config"
	"github.com/pushline/pushline/shared/run"
	"github.com/pushline/pushline/shared/secret"
)

// Local identity of the local stack (infra/local/stack).
const (
	localRegion  = "us-east-1"
	localAccount = "000000000000"
)

// env is where the CLI works: the local stack or AWS.
type env struct {
	getenv func(string) string
	cfg    *config.Config
	aws    aws.Config
	local  bool
	runs   *run.Runs
}

// connect reads the config and sets up the clients.
func connect(ctx context.Context, getenv func(string) string) (*env, error) {
	cfg, err := config.Load()
	if err != nil {
		return nil, fmt.Errorf("pipeline config: %w", err)
	}
	e := &env{getenv: getenv, cfg: cfg}
	machine := getenv("PUSHLINE_STATE_MACHINE_ARN")
	if addr := getenv("PUSHLINE_AWS_ADDR"); addr != "" {
		e.local = true
		if !strings.Contains(addr, "://") {
			addr = "http://" + addr
		}
		e.aws = aws.Config{
			Region: localRegion, Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""),
			BaseEndpoint: aws.String(addr),
		}
		if machine == "" {
			machine = "arn:aws:states:" + localRegion + ":" + localAccount + ":stateMachine:pushline-" + cfg.Name
		}
	} else {
		if e.aws, err = awsconfig.LoadDefaultConfig(ctx); err != nil {
			return nil, fmt.Errorf("aws config: %w", err)
		}
		if e.aws.Region == "" {
			return nil, errors.New("no AWS region: set AWS_REGION (or PUSHLINE_AWS_ADDR for the local stack)")
		}
		if machine == "" {
			id, err := sts.NewFromConfig(e.aws).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			if err != nil {
				return nil, fmt.Errorf("who am I (sts get-caller-identity): %w", err)
			}
			machine = "arn:aws:states:" + e.aws.Region + ":" + aws.ToString(id.Account) + ":stateMachine:pushline-" + cfg.Name
		}
	}
	s3c := s3.NewFromConfig(e.aws, func(o *s3.Options) { o.UsePathStyle = e.local })
	e.runs = &run.Runs{
		SFN: sfn.NewFromConfig(e.aws), Builds: codebuild.NewFromConfig(e.aws), Logs: cloudwatchlogs.NewFromConfig(e.aws),
		Presign: s3.NewPresignClient(s3c), StateMachine: machine, Config: cfg,
	}
	return e, nil
}

// who is who the CLI acts as: the IAM identity in AWS, the user locally.
func (e *env) who(ctx context.Context) string {
	if !e.local {
		if id, err := sts.NewFromConfig(e.aws).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err == nil {
			return aws.ToString(id.Arn)
		}
	}
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return "pushline CLI"
}

// publicURL is the base of run page links ("" when unknown).
func (e *env) publicURL() string {
	if u := e.getenv("PUSHLINE_PUBLIC_URL"); u != "" {
		return strings.TrimRight(u, "/")
	}
	if !e.local {
		return ""
	}
	if a := e.getenv("PUSHLINE_HTTP_ADDR"); a != "" {
		return "http://" + a
	}
	return "http://127.0.0.1:8080"
}

// pageURL is a run's page as the CLI prints it: locally the plain page
// (the stack on loopback needs no signed link), in AWS "" (pushline link
// makes one).
func (e *env) pageURL(name string) string {
	if !e.local || e.publicURL() == "" {
		return ""
	}
	return e.publicURL() + "/runs/" + name
}

// key is the link signing key: the local stack's data dir, or in AWS the
// approval key secret (PUSHLINE_APPROVAL_KEY_ARN), read with the caller's
// IAM credentials.
func (e *env) key(ctx context.Context) ([]byte, error) {
	if e.local && e.getenv("PUSHLINE_APPROVAL_KEY") == "" {
		dir := e.getenv("PUSHLINE_DATA_DIR")
		if dir == "" {
			dir = ".pushline"
		}
		return approval.LoadOrCreateKey(filepath.Join(dir, "approval-key"))
	}
	return secret.Lookup(ctx, "PUSHLINE_APPROVAL_KEY", e.getenv, secretsmanager.NewFromConfig(e.aws))
}
