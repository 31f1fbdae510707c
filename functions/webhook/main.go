// Command webhook is the POST /webhook function: under Lambda behind API
// Gateway (REST API proxy events), otherwise on PUSHLINE_HTTP_ADDR.
package main

import (
	"context"
	"net/http"
	"os"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/pushline/pushline/shared/config"
	"github.com/pushline/pushline/shared/ingest"
	"github.com/pushline/pushline/shared/secret"
	"github.com/pushline/pushline/shared/serve"
)

func main() {
	ctx := context.Background()
	log := serve.Logging()
	cfg, err := config.Load()
	serve.Check("load config", err)
	aws, err := awsconfig.LoadDefaultConfig(ctx)
	serve.Check("aws config", err)
	key, err := secret.Lookup(ctx, "PUSHLINE_WEBHOOK_SECRET", os.Getenv, secretsmanager.NewFromConfig(aws))
	serve.Check("webhook secret", err)
	o := ingest.Options{Config: cfg, Secret: key, StateMachineARN: os.Getenv("PUSHLINE_STATE_MACHINE_ARN"),
		SFN: sfn.NewFromConfig(aws), Logger: log}
	if o.EventBus = os.Getenv("PUSHLINE_EVENT_BUS"); o.EventBus != "" {
		o.Events = eventbridge.NewFromConfig(aws)
	}
	h, err := ingest.New(o)
	serve.Check("webhook handler", err)
	mux := http.NewServeMux()
	mux.Handle("/webhook", h)
	mux.HandleFunc("GET /healthz", serve.Healthz)
	serve.HTTP(mux)
}
