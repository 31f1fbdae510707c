package source

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
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

// LazyTokens loads the token secret with Load on first use and keeps the
// parsed TokenMap for the life of the process (a failed load is retried on
// the next call). functions/source loads it with secret.Lookup.
type LazyTokens struct {
	Load func(ctx context.Context) ([]byte, error)

	mu sync.Mutex
	m  TokenMap
}

// Token implements Tokens.
func (l *LazyTokens) Token(ctx context.Context, provider, repository string) (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		data, err := l.Load(ctx)
		if err != nil {
			return "", err
		}
		m, err := ParseTokens(data)
		if err != nil {
			return "", err
		}
		l.m = m
	}
	return l.m.Token(ctx, provider, repository)
}
