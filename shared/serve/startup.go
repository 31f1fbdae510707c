package serve

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/pushline/pushline/shared/config"
	"github.com/pushline/pushline/shared/secret"
)

// Startup is what a function's main begins with: the logger, the pipeline
// config and the AWS config.
type Startup struct {
	Log    *slog.Logger
	Config *config.Config
	AWS    aws.Config
}

// Start installs the logger (Logging), loads the pipeline config
// (config.Load) and the default AWS config; a failure of either ends the
// process (Check).
func Start(ctx context.Context) Startup {
	s := Startup{Log: Logging()}
	var err error
	s.Config, err = config.Load()
	Check("pipeline config", err)
	s.AWS, err = awsconfig.LoadDefaultConfig(ctx)
	Check("aws config", err)
	return s
}

// Secret is the value of the secret $name, or of the Secrets Manager
// secret whose ARN is in $name_ARN (secret.Lookup); a failure ends the
// process.
func (s Startup) Secret(ctx context.Context, name string) []byte {
	v, err := secret.Lookup(ctx, name, os.Getenv, secretsmanager.NewFromConfig(s.AWS))
	Check(name, err)
	return v
}
