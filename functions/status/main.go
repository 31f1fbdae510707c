// Command status is the function pushline's status rule invokes with the
// pipeline's own events (Pipeline, Stage and Approval State Change on
// PUSHLINE_EVENT_BUS): it posts commit statuses to the git host
// (shared/status). It reads the provider tokens from the secret
// PUSHLINE_PROVIDER_TOKENS_ARN (or the JSON itself in
// PUSHLINE_PROVIDER_TOKENS), keeps the latest state of each commit context
// in the DynamoDB table PUSHLINE_STATUS_TABLE (outside Lambda, without
// it: the file PUSHLINE_STATUS_FILE, default statuses.json), reads each
// run's input from Step Functions, and links the run page under
// PUSHLINE_PUBLIC_URL, signed with the link key PUSHLINE_APPROVAL_KEY(_ARN)
// when set (shared/runpage; links that leave the stack are signed and
// expire). Outside Lambda it reads events, one JSON
// EventBridge event a line, on stdin (e.g. an events.jsonl).
package main

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/pushline/pushline/shared/runpage"
	"github.com/pushline/pushline/shared/secret"
	"github.com/pushline/pushline/shared/serve"
	"github.com/pushline/pushline/shared/source"
	"github.com/pushline/pushline/shared/status"
)

func main() {
	ctx := context.Background()
	st := serve.Start(ctx)
	h := &status.Handler{
		Config: st.Config,
		Tokens: &source.LazyTokens{Load: func(ctx context.Context) ([]byte, error) {
			return secret.Lookup(ctx, "PUSHLINE_PROVIDER_TOKENS", os.Getenv, secretsmanager.NewFromConfig(st.AWS))
		}},
		SFN:       sfn.NewFromConfig(st.AWS),
		RunURL:    status.RunPage(os.Getenv("PUSHLINE_PUBLIC_URL")),
		Log:       st.Log,
		OnFailure: status.FailureMetric(os.Stdout, st.Config.Name),
	}
	if os.Getenv("PUSHLINE_APPROVAL_KEY") != "" || os.Getenv("PUSHLINE_APPROVAL_KEY_ARN") != "" {
		h.RunURL = runpage.Links(os.Getenv("PUSHLINE_PUBLIC_URL"), st.Secret(ctx, "PUSHLINE_APPROVAL_KEY"))
	}
	if table := os.Getenv("PUSHLINE_STATUS_TABLE"); table != "" {
		h.Store = status.DynamoStore{API: dynamodb.NewFromConfig(st.AWS), Table: table}
	} else {
		fs, err := status.OpenFileStore(cmp.Or(os.Getenv("PUSHLINE_STATUS_FILE"), "statuses.json"), time.Now())
		serve.Check("status store", err)
		h.Store = fs
	}
	if serve.UnderLambda() {
		lambda.Start(h.Handle)
		return
	}
	serve.Check("read events", status.HandleLines(ctx, h, os.Stdin, st.Log))
	fmt.Fprintf(os.Stderr, "%d statuses posted, %d failed\n", h.Posted(), h.Failures())
}
