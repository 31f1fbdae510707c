// Command webhook is the POST /webhook function: under Lambda behind API
// Gateway (REST API proxy events), otherwise on PUSHLINE_HTTP_ADDR.
package main

import (
	"context"
	"log/slog"
	"net/http"
	"os"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
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
	check(log, "load config", err)
	key, err := secret.FromEnv(ctx, "PUSHLINE_WEBHOOK_SECRET")
	check(log, "webhook secret", err)
	aws, err := awsconfig.LoadDefaultConfig(ctx)
	check(log, "aws config", err)
	o := ingest.Options{Config: cfg, Secret: key, StateMachineARN: os.Getenv("PUSHLINE_STATE_MACHINE_ARN"),
		SFN: sfn.NewFromConfig(aws), Logger: log}
	if o.EventBus = os.Getenv("PUSHLINE_EVENT_BUS"); o.EventBus != "" {
		o.Events = eventbridge.NewFromConfig(aws)
	}
	h, err := ingest.New(o)
	check(log, "webhook handler", err)
	mux := http.NewServeMux()
	mux.Handle("/webhook", h)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
	serve.HTTP(mux)
}

func check(log *slog.Logger, what string, err error) {
	if err != nil {
		log.Error(what, "err", err)
		os.Exit(1)
	}
}
