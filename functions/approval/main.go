package main

import (
	"context"
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
	key, err := secret.FromEnv(ctx, "PUSHLINE_APPROVAL_KEY")
	check(log, "approval key", err)
	signer, err := approval.NewSigner(key)
	check(log, "approval key", err)
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	check(log, "aws config", err)
	store, where, err := approval.OpenStore(os.Getenv, func() approval.DynamoAPI { return dynamodb.NewFromConfig(cfg) })
	check(log, "approval store", err)
	log.Info("approval store", "store", where)
	h := &approval.Handler{
		Store:  store,
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
