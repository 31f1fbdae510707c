// Command codecommit is the function CodeCommit's EventBridge rule invokes
// with "CodeCommit Repository State Change" events: a branch or tag
// created or updated starts the pipeline through the same triggers,
// execution names, modes and answers as a webhook push (shared/codecommit,
// ingest.Starter). The head commit's message and the changed files come
// from CodeCommit's GetCommit and GetDifferences.
//
// A Step Functions outage returns an error, so EventBridge's asynchronous
// invocation retries deliver the event again; everything else is answered
// (and logged) like the webhook's 200/202.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	awscodecommit "github.com/aws/aws-sdk-go-v2/service/codecommit"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/pushline/pushline/shared/codecommit"
	"github.com/pushline/pushline/shared/ingest"
	"github.com/pushline/pushline/shared/serve"
)

func main() {
	st := serve.Start(context.Background())
	o := ingest.Options{Config: st.Config, StateMachineARN: os.Getenv("PUSHLINE_STATE_MACHINE_ARN"), SFN: sfn.NewFromConfig(st.AWS), Logger: st.Log}
	if o.EventBus = os.Getenv("PUSHLINE_EVENT_BUS"); o.EventBus != "" {
		o.Events = eventbridge.NewFromConfig(st.AWS)
	}
	starter, err := ingest.NewStarter(o)
	serve.Check("codecommit handler", err)
	h := &codecommit.Handler{
		Repository: codecommit.SDK{Client: awscodecommit.NewFromConfig(st.AWS)},
		Starter:    starter,
		Log:        st.Log,
	}
	lambda.Start(h.Handle)
}
