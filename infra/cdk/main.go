// Command cdk is pushline's CDK app: cdk.json runs it ("go run ./infra/cdk")
// for cdk synth and cdk deploy. It reads the pipeline config with
// config.Load, builds the stack (infra/cdk/stack), applies cdk-nag's
// AwsSolutions checks and synthesizes into $CDK_OUTDIR (cdk.out when run by
// hand).
//
// Besides the config, it reads these CDK context keys (cdk.json "context",
// or cdk synth -c key=value):
//
//	pushline:artifactRetentionDays  days artifacts are kept (default 30)
//	pushline:permissions            {"<build stage>": [{"actions": [...], "resources": [...]}]}
//	pushline:providerTokens         "create", or the ARN of an existing secret
//
// and the environment: PUSHLINE_ASSET_DIR (default build) holds
// <function>/bootstrap for every function (make build).
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/pushline/pushline/infra/cdk/stack"
	"github.com/pushline/pushline/shared/config"
)

// Context keys.
const (
	ContextRetention      = "pushline:artifactRetentionDays"
	ContextPermissions    = "pushline:permissions"
	ContextProviderTokens = "pushline:providerTokens"
)

// errContext is wrapped by options for a context value of the wrong form.
var errContext = errors.New("invalid context value")

func main() {
	code := run()
	jsii.Close()
	os.Exit(code)
}

func run() int {
	outdir := os.Getenv("CDK_OUTDIR")
	if outdir == "" {
		outdir = "cdk.out"
	}
	app, _, err := newApp(outdir, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pushline cdk:", err)
		return 1
	}
	app.Synth(nil)
	return 0
}

// newApp builds the app as cdk synth sees it: the context of the nearest
// cdk.json (feature flags; the CLI's own context, passed in
// CDK_CONTEXT_JSON, overrides it), the config from config.Load, the stack,
// the cdk-nag checks. The tests build it the same way, with the context
// the CLI adds in extra.
func newApp(outdir string, extra map[string]any) (awscdk.App, *stack.Built, error) {
	wd, err := os.Getwd()
	if err != nil {
		return nil, nil, fmt.Errorf("find cdk.json: %w", err)
	}
	ctx, err := cdkContext(wd)
	if err != nil {
		return nil, nil, err
	}
	maps.Copy(ctx, extra)
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(outdir), Context: &ctx})
	cfg, err := config.Load()
	if err != nil {
		return nil, nil, err
	}
	for _, w := range cfg.Warnings {
		fmt.Fprintln(os.Stderr, "pushline: warning:", w)
	}
	opts, err := options(func(key string) any { return app.Node().TryGetContext(jsii.String(key)) })
	if err != nil {
		return nil, nil, err
	}
	opts.Config = cfg
	opts.AssetDir = os.Getenv("PUSHLINE_ASSET_DIR")
	built, err := stack.New(app, opts)
	if err != nil {
		return nil, nil, err
	}
	stack.Check(app)
	return app, built, nil
}

// cdkContext returns the "context" object of the cdk.json in dir or its
// nearest parent that has one (none: empty).
func cdkContext(dir string) (map[string]any, error) {
	f, data, err := config.FindCDKJSON(dir)
	if err != nil {
		return nil, err
	}
	if f == "" {
		return map[string]any{}, nil
	}
	var doc struct {
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("read %s: %w", f, err)
	}
	if doc.Context == nil {
		doc.Context = map[string]any{}
	}
	return doc.Context, nil
}

// options reads the stack options kept in the CDK context; get returns a
// context value (nil when unset; strings when given with -c).
func options(get func(key string) any) (stack.Options, error) {
	var opts stack.Options
	switch v := get(ContextRetention).(type) {
	case nil:
	case float64:
		if v != float64(int(v)) {
			return opts, fmt.Errorf("%w: %s: %v is not a whole number of days", errContext, ContextRetention, v)
		}
		opts.ArtifactRetentionDays = int(v)
	case string:
		n, err := strconv.Atoi(v)
		if err != nil {
			return opts, fmt.Errorf("%w: %s: %q is not a whole number of days", errContext, ContextRetention, v)
		}
		opts.ArtifactRetentionDays = n
	default:
		return opts, fmt.Errorf("%w: %s: want a number of days", errContext, ContextRetention)
	}
	if opts.ArtifactRetentionDays < 0 || get(ContextRetention) != nil && opts.ArtifactRetentionDays == 0 {
		return opts, fmt.Errorf("%w: %s: %d: want at least 1 day", errContext, ContextRetention, opts.ArtifactRetentionDays)
	}

	switch v := get(ContextPermissions).(type) {
	case nil:
	default:
		raw, ok := v.(string) // -c gives the JSON as a string
		if !ok {
			b, err := json.Marshal(v)
			if err != nil {
				return opts, fmt.Errorf("%w: %s: %v", errContext, ContextPermissions, err)
			}
			raw = string(b)
		}
		dec := json.NewDecoder(strings.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&opts.Permissions); err != nil {
			return opts, fmt.Errorf("%w: %s: want {\"<build stage>\": [{\"actions\": [...], \"resources\": [...]}]}: %v", errContext, ContextPermissions, err)
		}
	}

	switch v := get(ContextProviderTokens).(type) {
	case nil:
	case string:
		opts.ProviderTokens = v
	default:
		return opts, fmt.Errorf("%w: %s: want \"create\" or a secret ARN", errContext, ContextProviderTokens)
	}
	return opts, nil
}
