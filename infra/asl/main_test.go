package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/pushline/pushline/shared/config"
	"github.com/pushline/pushline/shared/statemachine"
)

func TestRun(t *testing.T) {
	data, err := os.ReadFile("../../shared/statemachine/testdata/minimal.json")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := run(&out, &errOut, func() (*config.Config, error) { return cfg, nil }); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	want, _ := statemachine.Generate(cfg)
	if !bytes.Equal(out.Bytes(), want) || errOut.Len() != 0 || !json.Valid(out.Bytes()) {
		t.Errorf("stdout is not exactly the definition, or stderr not empty: %q", errOut.String())
	}
}

func TestRunInvalid(t *testing.T) {
	_, perr := config.Parse([]byte(`{"name":"App","repositories":[],"stages":[]}`))
	var out, errOut bytes.Buffer
	code := run(&out, &errOut, func() (*config.Config, error) { return nil, perr })
	if code != 1 || out.Len() != 0 {
		t.Fatalf("exit %d, stdout %q", code, out.String())
	}
	for _, want := range []string{"name: ", "repositories: required", "stages: required"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut.String())
		}
	}
	if !errors.Is(perr, config.ErrInvalid) {
		t.Error("not ErrInvalid")
	}
}

func TestRunRepoConfig(t *testing.T) {
	// `make -s asl` in the repository: cdk.json's config.
	t.Chdir("../..")
	t.Setenv(config.EnvConfigJSON, "")
	t.Setenv(config.EnvConfigFile, "")
	var out, errOut bytes.Buffer
	if code := run(&out, &errOut, config.Load); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !json.Valid(out.Bytes()) {
		t.Error("not JSON")
	}
}

func TestRunWarnings(t *testing.T) {
	cfg, err := config.Parse([]byte(`{"name":"a","repositories":[{"provider":"github","repository":"o/r"}],
		"stages":[{"name":"Build","buildspec":"b.yml"},{"name":"Test","buildspec":"t.yml","input":"Build"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := run(&out, &errOut, func() (*config.Config, error) { return cfg, nil }); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	want := "asl: warning: stages[1].input is deprecated and goes in the next release: write \"inputs\": [\"Build\"]"
	if !strings.HasPrefix(errOut.String(), want) || !json.Valid(out.Bytes()) {
		t.Errorf("stderr = %q, want it to start %q; stdout valid JSON: %v", errOut.String(), want, json.Valid(out.Bytes()))
	}
}
