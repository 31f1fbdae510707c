// Command source is the source step's Lambda: it snapshots the pushed commit
// into source.zip in the artifact bucket (see shared/source). Outside Lambda
// (AWS_LAMBDA_RUNTIME_API unset) it reads one Request as JSON on stdin and
// prints the Artifact, e.g. `go run ./functions/source < events/source/request.json`.
package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/codecommit"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/pushline/pushline/shared/secret"
	"github.com/pushline/pushline/shared/source"
)

func main() {
	slog.SetDefault(slog.New(slog.NewJSONHandler(os.Stderr, nil)))
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx) // honours AWS_ENDPOINT_URL(_S3)
	if err != nil {
		slog.Error("load aws config", "err", err)
		os.Exit(1)
	}
	// A custom endpoint is an emulator (the local stack): address buckets by path.
	pathStyle := os.Getenv("AWS_ENDPOINT_URL") != "" || os.Getenv("AWS_ENDPOINT_URL_S3") != ""
	h := &source.Handler{
		S3:     s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = pathStyle }),
		Bucket: os.Getenv("PUSHLINE_ARTIFACT_BUCKET"),
		// codecommit repositories: GetFolder/GetFile (shared/source/codecommit.go).
		CodeCommit: codecommit.NewFromConfig(cfg),
	}
	// Optional: the provider tokens secret (PUSHLINE_PROVIDER_TOKENS_ARN), or
	// the JSON itself in PUSHLINE_PROVIDER_TOKENS (local use); read on first need.
	if os.Getenv("PUSHLINE_PROVIDER_TOKENS_ARN") != "" || os.Getenv("PUSHLINE_PROVIDER_TOKENS") != "" {
		h.Tokens = &source.LazyTokens{Load: func(ctx context.Context) ([]byte, error) {
			return secret.Lookup(ctx, "PUSHLINE_PROVIDER_TOKENS", os.Getenv, secretsmanager.NewFromConfig(cfg))
		}}
	}
	if os.Getenv("AWS_LAMBDA_RUNTIME_API") != "" {
		lambda.Start(h.Handle)
		return
	}
	var req source.Request
	if err := json.NewDecoder(os.Stdin).Decode(&req); err != nil {
		slog.Error("read request from stdin", "err", err)
		os.Exit(2)
	}
	art, err := h.Handle(ctx, req)
	if err != nil {
		slog.Error("source step failed", "err", err)
		os.Exit(1)
	}
	_ = json.NewEncoder(os.Stdout).Encode(art)
}
