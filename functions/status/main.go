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
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/pushline/pushline/shared/config"
	"github.com/pushline/pushline/shared/event"
	"github.com/pushline/pushline/shared/runpage"
	"github.com/pushline/pushline/shared/secret"
	"github.com/pushline/pushline/shared/serve"
	"github.com/pushline/pushline/shared/source"
	"github.com/pushline/pushline/shared/status"
)

func main() {
	ctx := context.Background()
	log := serve.Logging()
	cfg, err := config.Load()
	serve.Check("load config", err)
	aws, err := awsconfig.LoadDefaultConfig(ctx)
	serve.Check("aws config", err)
	h := &status.Handler{
		Config: cfg,
		Tokens: &source.LazyTokens{Load: func(ctx context.Context) ([]byte, error) {
			return secret.Lookup(ctx, "PUSHLINE_PROVIDER_TOKENS", os.Getenv, secretsmanager.NewFromConfig(aws))
		}},
		SFN:    sfn.NewFromConfig(aws),
		RunURL: status.RunPage(os.Getenv("PUSHLINE_PUBLIC_URL")),
		Log:    log,
		// An Embedded Metric Format line: CloudWatch counts the failures.
		OnFailure: func(st status.Status, _ error) {
			fmt.Printf(`{"_aws":{"Timestamp":%d,"CloudWatchMetrics":[{"Namespace":"pushline","Dimensions":[["Pipeline"]],"Metrics":[{"Name":"StatusPostFailures","Unit":"Count"}]}]},"Pipeline":%q,"StatusPostFailures":1}`+"\n",
				time.Now().UnixMilli(), cfg.Name)
		},
	}
	if os.Getenv("PUSHLINE_APPROVAL_KEY") != "" || os.Getenv("PUSHLINE_APPROVAL_KEY_ARN") != "" {
		key, err := secret.Lookup(ctx, "PUSHLINE_APPROVAL_KEY", os.Getenv, secretsmanager.NewFromConfig(aws))
		serve.Check("run link key", err)
		base := strings.TrimRight(os.Getenv("PUSHLINE_PUBLIC_URL"), "/")
		h.RunURL = func(execution string) string {
			if base == "" {
				return ""
			}
			return runpage.SignedURL(base, key, execution, 0, time.Now())
		}
	}
	if table := os.Getenv("PUSHLINE_STATUS_TABLE"); table != "" {
		h.Store = status.DynamoStore{API: dynamodb.NewFromConfig(aws), Table: table}
	} else {
		path := os.Getenv("PUSHLINE_STATUS_FILE")
		if path == "" {
			path = "statuses.json"
		}
		fs, err := status.OpenFileStore(path, time.Now())
		serve.Check("status store", err)
		h.Store = fs
	}
	if serve.UnderLambda() {
		lambda.Start(h.Handle)
		return
	}
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var ev event.Event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			log.Error("read event", "err", err)
			continue
		}
		if err := h.Handle(ctx, ev); err != nil {
			log.Error("handle event", "err", err)
		}
	}
	fmt.Fprintf(os.Stderr, "%d statuses posted, %d failed\n", h.Posted(), h.Failures())
}
