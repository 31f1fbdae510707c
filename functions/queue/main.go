// Command queue is the queued-mode gate Lambda: the state machine invokes
// it with {"execution": <execution ARN>} and waits while it answers
// {"wait": true}.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/pushline/pushline/shared/ingest"
	"github.com/pushline/pushline/shared/serve"
)

func main() {
	log := serve.Logging()
	if !serve.UnderLambda() {
		log.Error("queue runs only under Lambda (AWS_LAMBDA_RUNTIME_API); the local stack calls ingest.Queue in process")
		os.Exit(2)
	}
	aws, err := awsconfig.LoadDefaultConfig(context.Background())
	serve.Check("aws config", err)
	q := &ingest.Queue{SFN: sfn.NewFromConfig(aws), StateMachineARN: os.Getenv("PUSHLINE_STATE_MACHINE_ARN"), Logger: log}
	lambda.Start(q.Handle)
}
