package secret

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

type fakeSM struct {
	t     *testing.T
	calls int
	value map[string]string
}

func (f *fakeSM) GetSecretValue(_ context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	f.calls++
	v, ok := f.value[aws.ToString(in.SecretId)]
	if !ok {
		return nil, errors.New("ResourceNotFoundException")
	}
	return &secretsmanager.GetSecretValueOutput{SecretString: aws.String(v)}, nil
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLookup(t *testing.T) {
	ctx := context.Background()
	sm := &fakeSM{t: t, value: map[string]string{"arn:aws:secretsmanager:us-east-1:1:secret:wh": "s3cret"}}

	v, err := Lookup(ctx, "PUSHLINE_WEBHOOK_SECRET", env(map[string]string{"PUSHLINE_WEBHOOK_SECRET": "local"}), sm)
	if err != nil || string(v) != "local" {
		t.Fatalf("env value = %q, %v; want local", v, err)
	}
	e := env(map[string]string{"PUSHLINE_WEBHOOK_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:1:secret:wh"})
	for range 3 {
		v, err = Lookup(ctx, "PUSHLINE_WEBHOOK_SECRET", e, sm)
		if err != nil || string(v) != "s3cret" {
			t.Fatalf("arn value = %q, %v; want s3cret", v, err)
		}
	}
	if sm.calls != 1 {
		t.Errorf("GetSecretValue called %d times, want 1 (cached)", sm.calls)
	}
	_, err = Lookup(ctx, "PUSHLINE_X", env(nil), sm)
	if !errors.Is(err, ErrNotSet) || !strings.Contains(err.Error(), "PUSHLINE_X_ARN") {
		t.Errorf("unset error = %v, want ErrNotSet naming both variables", err)
	}
	_, err = Lookup(ctx, "PUSHLINE_Y", env(map[string]string{"PUSHLINE_Y_ARN": "arn:missing"}), sm)
	if err == nil {
		t.Error("missing secret: want error")
	}
}
