package codebuild

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// newSecretsHarness is a harness whose project "Build" may read the listed
// secrets, from a secrets file holding store.
func newSecretsHarness(t *testing.T, listed []string, store map[string]any) *harness {
	t.Helper()
	file := filepath.Join(t.TempDir(), "secrets.json")
	data, _ := json.Marshal(store)
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, objects: newMemObjects(t), dir: t.TempDir(), console: &syncBuffer{}}
	h.r = New(Options{Dir: h.dir, Objects: h.objects, Log: h.console, Bwrap: testBwrap(t),
		Projects: map[string]Project{"Build": {Secrets: listed}}, SecretsFile: file, Hide: []string{file}})
	t.Cleanup(func() { h.r.Close() })
	return h
}

var secretStore = map[string]any{
	"prod/db":    `{"password": "pa55-w0rd-db", "port": 5432, "user": "app"}`,
	"/app/token": "tok-3141592653",
	"multi":      "line-one-secret\nline-two-secret",
	"unlisted":   "should-never-show",
}

func TestSecrets(t *testing.T) {
	h := newSecretsHarness(t, []string{"prod/db", "/app/token", "multi"}, secretStore)
	spec := `version: 0.2
env:
  exported-variables: [DB_PASSWORD, DERIVED]
  parameter-store:
    TOKEN: /app/token
  secrets-manager:
    DB_PASSWORD: prod/db:password
    DB_PORT: prod/db:port
    WHOLE: prod/db
    BY_ARN: arn:aws:secretsmanager:us-east-1:000000000000:secret:prod/db-AbCdEf:user:AWSCURRENT
    MULTI: multi
phases:
  build:
    commands:
      - echo "token=$TOKEN db=$DB_PASSWORD port=$DB_PORT user=$BY_ARN"
      - test "$TOKEN" = tok-3141592653 && test "$DB_PASSWORD" = pa55-w0rd-db && test "$DB_PORT" = 5432 && test "$BY_ARN" = app && echo values-ok
      - echo "$WHOLE" | grep -q '"password"' && echo whole-ok
      - printf '%s\n' "$MULTI"
      - export DERIVED="prefix-$TOKEN"
      - echo "$OVERRIDE_SECRET"
      - echo "$DB_PASSWORD" && false
`
	b, log := h.run(spec, nil, func(in *StartBuildInput) {
		in.EnvironmentVariablesOverride = []EnvironmentVariable{{Name: "OVERRIDE_SECRET", Value: "prod/db:password", Type: "SECRETS_MANAGER"}}
	})
	for _, want := range []string{"\ntoken=*** db=*** port=*** user=***\n", "\nvalues-ok\n", "\nwhole-ok\n", "\n***\n***\n", "Read 7 secrets (masked in this log)", "Not exporting DB_PASSWORD: it holds a secret"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q", want)
		}
	}
	record, _ := os.ReadFile(filepath.Join(h.dir, b.Id, "build.json"))
	cause, _ := b.Failure()
	_, causeJSON := b.Failure()
	for _, secret := range []string{"pa55-w0rd-db", "tok-3141592653", "line-one-secret", "line-two-secret", "should-never-show"} {
		for where, text := range map[string]string{"log": log, "console": h.console.String(), "record": string(record), "failure": cause + causeJSON} {
			if strings.Contains(text, secret) {
				t.Errorf("the %s holds the secret %q", where, secret)
			}
		}
	}
	if diff := cmp.Diff([]ExportedVariable{{Name: "DERIVED", Value: "prefix-***"}}, b.ExportedEnvironmentVariables); diff != "" {
		t.Errorf("exported (-want +got):\n%s", diff)
	}
	if t.Failed() {
		t.Logf("log:\n%s", log)
	}
}

func TestSecretsRefused(t *testing.T) {
	tests := []struct {
		name     string
		listed   []string
		noFile   bool
		env      string
		override []EnvironmentVariable
		untrust  bool
		wantCode string
		wantMsg  string
	}{
		{name: "not listed", listed: []string{"prod/db"}, env: "  parameter-store:\n    X: unlisted\n",
			wantCode: "PARAMETER_STORE_ERROR", wantMsg: "parameter unlisted (variable X): not listed in the stage's secrets (project Build lists prod/db)"},
		{name: "listed but missing", listed: []string{"prod/other"}, env: "  secrets-manager:\n    X: prod/other\n",
			wantCode: "SECRETS_MANAGER_ERROR", wantMsg: "secret prod/other (variable X): does not exist in the secrets file (PUSHLINE_SECRETS_FILE)"},
		{name: "missing json key", listed: []string{"prod/db"}, env: "  secrets-manager:\n    X: prod/db:nope\n",
			wantCode: "SECRETS_MANAGER_ERROR", wantMsg: "secret prod/db:nope (variable X): json-key nope: no such key in the secret"},
		{name: "json key of a plain secret", listed: []string{"/app/token"}, env: "  secrets-manager:\n    X: /app/token:k\n",
			wantCode: "SECRETS_MANAGER_ERROR", wantMsg: "secret /app/token:k (variable X): json-key k: the secret does not hold a JSON object"},
		{name: "other version", listed: []string{"prod/db"}, env: "  secrets-manager:\n    X: prod/db::AWSPREVIOUS\n",
			wantCode: "SECRETS_MANAGER_ERROR", wantMsg: "secret prod/db::AWSPREVIOUS (variable X): only the current version is available locally (the secrets file holds one value per secret)"},
		{name: "ARN of another secret", listed: []string{"prod/db"}, env: "  secrets-manager:\n    X: arn:aws:secretsmanager:us-east-1:1:secret:prod/dbx-AbCdEf\n",
			wantCode: "SECRETS_MANAGER_ERROR", wantMsg: "secret arn:aws:secretsmanager:us-east-1:1:secret:prod/dbx-AbCdEf (variable X): not listed in the stage's secrets (project Build lists prod/db)"},
		{name: "override not listed", override: []EnvironmentVariable{{Name: "Y", Value: "/app/token", Type: "PARAMETER_STORE"}},
			wantCode: "PARAMETER_STORE_ERROR", wantMsg: "parameter /app/token (variable Y): not listed in the stage's secrets (project Build lists none)"},
		{name: "no secrets file", listed: []string{"prod/db"}, noFile: true, env: "  secrets-manager:\n    X: prod/db\n",
			wantCode: "SECRETS_MANAGER_ERROR", wantMsg: "secret prod/db (variable X): no secrets file: set PUSHLINE_SECRETS_FILE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newSecretsHarness(t, tt.listed, secretStore)
			if tt.noFile {
				h.r.o.SecretsFile = ""
			}
			spec := "version: 0.2\nenv:\n" + tt.env + "phases:\n  install:\n    commands:\n      - echo install-ran\n"
			if tt.env == "" {
				spec = "version: 0.2\nphases:\n  install:\n    commands:\n      - echo install-ran\n"
			}
			b, log := h.run(spec, nil, func(in *StartBuildInput) { in.EnvironmentVariablesOverride = tt.override })
			want := []string{"SUBMITTED SUCCEEDED", "QUEUED SUCCEEDED", "PROVISIONING SUCCEEDED", "DOWNLOAD_SOURCE FAILED " + tt.wantCode, "FINALIZING SUCCEEDED", "COMPLETED"}
			if diff := cmp.Diff(want, phaseSummary(b)); diff != "" {
				t.Errorf("phases (-want +got):\n%s", diff)
			}
			if msg := b.Phases[3].Contexts[0].Message; !strings.HasPrefix(msg, tt.wantMsg) {
				t.Errorf("message\n got %q\nwant %q", msg, tt.wantMsg)
			}
			if strings.Contains(log, "install-ran") {
				t.Error("a phase ran")
			}
		})
	}
}

func TestSecretsUntrusted(t *testing.T) {
	bwrap := requireBwrap(t)
	h := newSecretsHarness(t, []string{"prod/db"}, secretStore)
	h.r.o.Bwrap = bwrap
	b, _ := h.run("version: 0.2\nenv:\n  secrets-manager:\n    X: prod/db\nphases:\n  build:\n    commands: [env]\n", nil, func(in *StartBuildInput) { in.Untrusted = true })
	if got := b.Phases[3].Contexts[0].Message; got != "secret prod/db (variable X): untrusted builds (a fork's pull request) get no secrets" {
		t.Errorf("message %q", got)
	}
}

// BenchmarkMask is the cost masking adds to each line of build output.
func BenchmarkMask(b *testing.B) {
	m := maskerFor(map[string]string{"A": "pa55-w0rd-db", "B": "tok-3141592653", "C": "line-one-secret\nline-two-secret"})
	line := strings.Repeat("ok 	github.com/acme/app/pkg	0.123s coverage: 81.2% of statements ", 2)
	for b.Loop() {
		_ = m.Replace(line)
	}
}
