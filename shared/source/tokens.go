package source

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// Tokens finds the token to fetch a repository's archive with; "" (and no
// error) means none: the repository is fetched anonymously.
type Tokens interface {
	Token(ctx context.Context, provider, repository string) (string, error)
}

// TokenMap is the parsed token secret: keys "<provider>" and
// "<provider>:<repository>", lower-cased (repositories match
// case-insensitively, as in the config).
type TokenMap map[string]string

// ParseTokens parses the token secret: one JSON object of string values,
// keyed "<provider>" or "<provider>:<repository>".
func ParseTokens(data []byte) (TokenMap, error) {
	var raw map[string]string
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, errors.New("not a JSON object of strings") // never echo the secret
	}
	m := make(TokenMap, len(raw))
	for k, v := range raw {
		provider, _, _ := strings.Cut(k, ":")
		switch strings.ToLower(provider) {
		case "github", "gitlab", "bitbucket", "gitea":
		default:
			return nil, fmt.Errorf("key %q: want \"<provider>\" or \"<provider>:<repository>\" with provider github, gitlab, bitbucket or gitea", k)
		}
		if v == "" {
			return nil, fmt.Errorf("key %q: empty token", k)
		}
		m[strings.ToLower(k)] = v
	}
	return m, nil
}

// Token returns the repository's token, else the provider's, else "".
func (m TokenMap) Token(_ context.Context, provider, repository string) (string, error) {
	p := strings.ToLower(provider)
	if t, ok := m[p+":"+strings.ToLower(repository)]; ok {
		return t, nil
	}
	return m[p], nil
}

// SecretGetter is the Secrets Manager call SecretTokens makes;
// *secretsmanager.Client satisfies it.
type SecretGetter interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// SecretTokens reads the TokenMap from a Secrets Manager secret on first
// use and keeps it for the life of the process (a failed read is retried on
// the next call).
type SecretTokens struct {
	Client SecretGetter
	ARN    string

	mu sync.Mutex
	m  TokenMap
}

// Token implements Tokens.
func (s *SecretTokens) Token(ctx context.Context, provider, repository string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		out, err := s.Client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(s.ARN)})
		if err != nil {
			return "", fmt.Errorf("get secret %s: %w", s.ARN, err)
		}
		m, err := ParseTokens([]byte(aws.ToString(out.SecretString)))
		if err != nil {
			return "", fmt.Errorf("secret %s: %w", s.ARN, err)
		}
		s.m = m
	}
	return s.m.Token(ctx, provider, repository)
}
