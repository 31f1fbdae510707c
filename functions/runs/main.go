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

	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/codebuild"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/pushline/pushline/shared/run"
	"github.com/pushline/pushline/shared/runpage"
	"github.com/pushline/pushline/shared/serve"
)

func main() {
	ctx := context.Background()
	st := serve.Start(ctx)
	cfg, aws := st.Config, st.AWS
	key := st.Secret(ctx, "PUSHLINE_APPROVAL_KEY")
	runs := &run.Runs{
		SFN: sfn.NewFromConfig(aws), Builds: codebuild.NewFromConfig(aws), Logs: cloudwatchlogs.NewFromConfig(aws),
		Presign: s3.NewPresignClient(s3.NewFromConfig(aws)), StateMachine: os.Getenv("PUSHLINE_STATE_MACHINE_ARN"), Config: cfg,
	}
	mux := http.NewServeMux()
	mux.Handle("/", &runpage.Handler{Runs: runs, Pipeline: cfg.Name, Key: key, Log: st.Log})
	mux.HandleFunc("GET /healthz", serve.Healthz)
	serve.HTTP(mux)
}
