package secret

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// ErrNotSet is returned when neither $name nor $name_ARN is set.
var ErrNotSet = errors.New("secret not set")

// Getter is the Secrets Manager call secret makes;
// *secretsmanager.Client satisfies it.
type Getter interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

var (
	mu     sync.Mutex
	cache  = map[string][]byte{} // by ARN
	client Getter
)

// Lookup returns the value of $name (read with getenv), else the value of
// the Secrets Manager secret whose ARN is in $name_ARN (fetched once per
// process and ARN), else an error naming both variables. A nil sm means a
// client from the default AWS config, made once.
func Lookup(ctx context.Context, name string, getenv func(string) string, sm Getter) ([]byte, error) {
	if v := getenv(name); v != "" {
		return []byte(v), nil
	}
	arn := getenv(name + "_ARN")
	if arn == "" {
		return nil, fmt.Errorf("%w: set %s or %s_ARN", ErrNotSet, name, name)
	}
	mu.Lock()
	defer mu.Unlock()
	if v, ok := cache[arn]; ok {
		return v, nil
	}
	if sm == nil {
		if client == nil {
			cfg, err := awsconfig.LoadDefaultConfig(ctx)
			if err != nil {
				return nil, fmt.Errorf("secret %s: load aws config: %w", name+"_ARN", err)
			}
			client = secretsmanager.NewFromConfig(cfg)
		}
		sm = client
	}
	out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
	if err != nil {
		return nil, fmt.Errorf("get secret %s (from %s_ARN): %w", arn, name, err)
	}
	var v []byte
	switch {
	case out.SecretString != nil:
		v = []byte(*out.SecretString)
	case out.SecretBinary != nil:
		v = out.SecretBinary
	}
	if len(v) == 0 {
		return nil, fmt.Errorf("secret %s (from %s_ARN) is empty", arn, name)
	}
	cache[arn] = v
	return v, nil
}
