package main

import (
	"context"
	"errors"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
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
			check(log, "environment", errors.New(v+" is not set"))
		}
	}
	key, err := secret.FromEnv(ctx, "PUSHLINE_APPROVAL_KEY")
	check(log, "approval key", err)
	signer, err := approval.NewSigner(key)
	check(log, "approval key", err)
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	check(log, "aws config", err)
	var sender mail.Sender = mail.SES{API: sesv2.NewFromConfig(cfg)}
	if addr := os.Getenv("PUSHLINE_SMTP_ADDR"); addr != "" {
		sender = mail.SMTP{Addr: addr}
	}
	store, where, err := approval.OpenStore(os.Getenv, func() approval.DynamoAPI { return dynamodb.NewFromConfig(cfg) })
	check(log, "approval store", err)
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

func check(log *slog.Logger, what string, err error) {
	if err != nil {
		log.Error(what, "err", err)
		os.Exit(1)
	}
}
