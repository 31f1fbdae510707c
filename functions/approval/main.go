package main

import (
	"context"
	"net/http"
	"os"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/pushline/pushline/shared/approval"
	"github.com/pushline/pushline/shared/secret"
	"github.com/pushline/pushline/shared/serve"
)

func main() {
	ctx := context.Background()
	log := serve.Logging()
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	serve.Check("aws config", err)
	key, err := secret.Lookup(ctx, "PUSHLINE_APPROVAL_KEY", os.Getenv, secretsmanager.NewFromConfig(cfg))
	serve.Check("approval key", err)
	signer, err := approval.NewSigner(key)
	serve.Check("approval key", err)
	store, where, err := approval.OpenStore(os.Getenv, func() approval.DynamoAPI { return dynamodb.NewFromConfig(cfg) })
	serve.Check("approval store", err)
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
	mux.HandleFunc("GET /healthz", serve.Healthz)
	serve.HTTP(mux)
}
