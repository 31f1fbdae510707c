// Command webhook is the POST /webhook function: under Lambda behind API
// Gateway (REST API proxy events), otherwise on PUSHLINE_HTTP_ADDR.
package main

import (
	"context"
	"net/http"
	"os"

	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/pushline/pushline/shared/ingest"
	"github.com/pushline/pushline/shared/serve"
)

func main() {
	ctx := context.Background()
	st := serve.Start(ctx)
	o := ingest.Options{Config: st.Config, Secret: st.Secret(ctx, "PUSHLINE_WEBHOOK_SECRET"), StateMachineARN: os.Getenv("PUSHLINE_STATE_MACHINE_ARN"),
		SFN: sfn.NewFromConfig(st.AWS), Logger: st.Log}
	if o.EventBus = os.Getenv("PUSHLINE_EVENT_BUS"); o.EventBus != "" {
		o.Events = eventbridge.NewFromConfig(st.AWS)
	}
	h, err := ingest.New(o)
	serve.Check("webhook handler", err)
	mux := http.NewServeMux()
	mux.Handle("/webhook", h)
	mux.HandleFunc("GET /healthz", serve.Healthz)
	serve.HTTP(mux)
}
