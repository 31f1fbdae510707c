// Command approval serves the approval pages (GET shows, POST decides):
// under Lambda behind API Gateway (REST API proxy events), otherwise on
// PUSHLINE_HTTP_ADDR. Records are in DynamoDB (PUSHLINE_APPROVAL_TABLE);
// decisions go to Step Functions (SendTaskSuccess / SendTaskFailure).
package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/pushline/pushline/shared/approval"
	"github.com/pushline/pushline/shared/secret"
	"github.com/pushline/pushline/shared/serve"
)

func main() {
	ctx := context.Background()
	log := serve.Logging()
	for _, v := range []string{"PUSHLINE_APPROVAL_TABLE"} {
		if os.Getenv(v) == "" {
			check(log, "environment", errors.New(v+" is not set"))
		}
	}
	key, err := secret.FromEnv(ctx, "PUSHLINE_APPROVAL_KEY")
	check(log, "approval key", err)
	signer, err := approval.NewSigner(key)
	check(log, "approval key", err)
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	check(log, "aws config", err)
	h := &approval.Handler{
		Store:  approval.DynamoStore{API: dynamodb.NewFromConfig(cfg), Table: os.Getenv("PUSHLINE_APPROVAL_TABLE")},
		Signer: signer,
		Tasks:  sfn.NewFromConfig(cfg),
		Log:    log,
	}
	if h.EventBus = os.Getenv("PUSHLINE_EVENT_BUS"); h.EventBus != "" {
		h.Events = eventbridge.NewFromConfig(cfg)
	}
	mux := http.NewServeMux()
	mux.Handle("/approvals/", h)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
	serve.HTTP(mux)
}

func check(log *slog.Logger, what string, err error) {
	if err != nil {
		log.Error(what, "err", err)
		os.Exit(1)
	}
}
