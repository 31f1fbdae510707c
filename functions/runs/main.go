// Command runs is the run page function: behind API Gateway (GET /, GET
// and POST /runs/…) it serves the console, the run pages, build logs and
// the Retry/Rerun buttons (shared/runpage), reading Step Functions
// history, CodeBuild and CloudWatch Logs (shared/run). Every request
// carries a signed link (PUSHLINE_APPROVAL_KEY_ARN's key). Outside Lambda
// it serves on PUSHLINE_HTTP_ADDR.
package main

import (
	"context"
	"net/http"
	"os"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/codebuild"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/pushline/pushline/shared/config"
	"github.com/pushline/pushline/shared/run"
	"github.com/pushline/pushline/shared/runpage"
	"github.com/pushline/pushline/shared/secret"
	"github.com/pushline/pushline/shared/serve"
)

func main() {
	ctx := context.Background()
	log := serve.Logging()
	cfg, err := config.Load()
	serve.Check("pipeline config", err)
	aws, err := awsconfig.LoadDefaultConfig(ctx)
	serve.Check("aws config", err)
	key, err := secret.Lookup(ctx, "PUSHLINE_APPROVAL_KEY", os.Getenv, secretsmanager.NewFromConfig(aws))
	serve.Check("approval key", err)
	runs := &run.Runs{
		SFN: sfn.NewFromConfig(aws), Builds: codebuild.NewFromConfig(aws), Logs: cloudwatchlogs.NewFromConfig(aws),
		Presign: s3.NewPresignClient(s3.NewFromConfig(aws)), StateMachine: os.Getenv("PUSHLINE_STATE_MACHINE_ARN"), Config: cfg,
	}
	mux := http.NewServeMux()
	mux.Handle("/", &runpage.Handler{Runs: runs, Pipeline: cfg.Name, Key: key, Log: log})
	mux.HandleFunc("GET /healthz", serve.Healthz)
	serve.HTTP(mux)
}
