// Command watch is the function the STOPPED rule invokes with Step
// Functions' "Step Functions Execution Status Change" events (status
// ABORTED, this pipeline's state machine): it emits Pipeline Execution
// State Change STOPPED on PUSHLINE_EVENT_BUS for executions stopped by
// hand (shared/watch).
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/pushline/pushline/shared/serve"
	"github.com/pushline/pushline/shared/watch"
)

func main() {
	log := serve.Logging()
	bus := os.Getenv("PUSHLINE_EVENT_BUS")
	cfg, err := awsconfig.LoadDefaultConfig(context.Background())
	if bus == "" || err != nil {
		log.Error("watch: PUSHLINE_EVENT_BUS and AWS config needed", "bus", bus, "err", err)
		os.Exit(1)
	}
	h := &watch.Handler{
		SFN:          sfn.NewFromConfig(cfg),
		Events:       eventbridge.NewFromConfig(cfg),
		EventBus:     bus,
		StateMachine: os.Getenv("PUSHLINE_STATE_MACHINE_ARN"),
		Log:          log,
	}
	lambda.Start(h.Handle)
}
