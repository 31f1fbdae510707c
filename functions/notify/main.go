package main

import (
	"context"
	"errors"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/pushline/pushline/shared/approval"
	"github.com/pushline/pushline/shared/mail"
	"github.com/pushline/pushline/shared/secret"
	"github.com/pushline/pushline/shared/serve"
)

func main() {
	ctx := context.Background()
	log := serve.Logging()
	for _, v := range []string{"PUSHLINE_APPROVAL_URL", "PUSHLINE_MAIL_FROM"} {
		if os.Getenv(v) == "" {
			serve.Check("environment", errors.New(v+" is not set"))
		}
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	serve.Check("aws config", err)
	key, err := secret.Lookup(ctx, "PUSHLINE_APPROVAL_KEY", os.Getenv, secretsmanager.NewFromConfig(cfg))
	serve.Check("approval key", err)
	signer, err := approval.NewSigner(key)
	serve.Check("approval key", err)
	var sender mail.Sender = mail.SES{API: sesv2.NewFromConfig(cfg)}
	if addr := os.Getenv("PUSHLINE_SMTP_ADDR"); addr != "" {
		sender = mail.SMTP{Addr: addr}
	}
	store, where, err := approval.OpenStore(os.Getenv, func() approval.DynamoAPI { return dynamodb.NewFromConfig(cfg) })
	serve.Check("approval store", err)
	log.Info("approval store", "store", where)
	n := &approval.Notifier{
		Store:   store,
		Signer:  signer,
		Mail:    sender,
		BaseURL: os.Getenv("PUSHLINE_APPROVAL_URL"),
		From:    os.Getenv("PUSHLINE_MAIL_FROM"),
		Log:     log,
	}
	if n.EventBus = os.Getenv("PUSHLINE_EVENT_BUS"); n.EventBus != "" {
		n.Events = eventbridge.NewFromConfig(cfg)
	}
	lambda.Start(n.Handle)
}
