package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/pushline/pushline/infra/cdk/stack"
	"github.com/pushline/pushline/shared/config"
)

// variantConfig parses testdata/<file>, a config of a variant stack.
func variantConfig(t *testing.T, file string) *config.Config {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	c, err := config.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// synthVariant synthesizes a stack of its own with o (AssetDir filled in),
// cdk-nag checking it as the app does, and makes its template the one the
// package's helpers (resources, one, get) read until the test ends.
func synthVariant(t *testing.T, o stack.Options) *stack.Built {
	t.Helper()
	wd, _ := os.Getwd()
	ctx, err := cdkContext(wd)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(out), Context: &ctx})
	o.AssetDir = assetDir
	b, err := stack.New(app, o)
	if err != nil {
		t.Fatal(err)
	}
	stack.Check(app)
	func() {
		defer func() {
			if r := recover(); r != nil {
				report, _ := os.ReadFile(filepath.Join(out, "validation-report.json"))
				t.Fatalf("synthesis failed (cdk-nag?): %v\n%s", r, report)
			}
		}()
		app.Synth(nil)
	}()
	data, err := os.ReadFile(filepath.Join(out, *b.Stack.TemplateFile()))
	if err != nil {
		t.Fatal(err)
	}
	saved := template
	t.Cleanup(func() { template = saved })
	template = nil
	if err := json.Unmarshal(data, &template); err != nil {
		t.Fatal(err)
	}
	return b
}
