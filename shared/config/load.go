package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Environment variables Load reads.
const (
	EnvConfigJSON = "PUSHLINE_CONFIG_JSON" // the config object itself (CDK sets it on functions)
	EnvConfigFile = "PUSHLINE_CONFIG"      // a file holding the config object
)

// ErrNotFound is returned (wrapped) by Load when no config is set and no
// cdk.json is found.
var ErrNotFound = errors.New("no pipeline config")

// Load finds, reads and validates the pipeline config: PUSHLINE_CONFIG_JSON
// (the object), else PUSHLINE_CONFIG (a file), else the "pushline" key of
// the context of cdk.json in the current directory or its nearest parent
// that has one. Validation errors are Errors, wrapped with where the config
// came from.
func Load() (*Config, error) {
	dir, err := os.Getwd()
	if err != nil {
		return nil, fmt.Errorf("load config: %w", err)
	}
	cfg, _, err := load(os.Getenv, dir)
	return cfg, err
}

// load is Load with its environment and directory given; it also returns
// a description of where the config came from.
func load(getenv func(string) string, dir string) (*Config, string, error) {
	if s := getenv(EnvConfigJSON); s != "" {
		return parseFrom(EnvConfigJSON, []byte(s))
	}
	if f := getenv(EnvConfigFile); f != "" {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, EnvConfigFile, fmt.Errorf("read %s: %w", EnvConfigFile, err)
		}
		return parseFrom(EnvConfigFile+"="+f, data)
	}
	f, data, err := FindCDKJSON(dir)
	if err != nil {
		return nil, f, err
	}
	if f != "" {
		return parseCDK(f, data)
	}
	return nil, "", fmt.Errorf("%w: set %s or %s, or run in a directory (or below one) with a cdk.json whose context has a \"pushline\" key", ErrNotFound, EnvConfigFile, EnvConfigJSON)
}

// FindCDKJSON reads the cdk.json in dir or its nearest parent that has
// one and returns its path and contents; file is "" when there is none.
func FindCDKJSON(dir string) (file string, data []byte, err error) {
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	for d := dir; ; {
		f := filepath.Join(d, "cdk.json")
		data, err := os.ReadFile(f)
		if err == nil {
			return f, data, nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return f, nil, fmt.Errorf("read %s: %w", f, err)
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", nil, nil
		}
		d = parent
	}
}

func parseFrom(src string, data []byte) (*Config, string, error) {
	cfg, err := Parse(data)
	if err != nil {
		return nil, src, fmt.Errorf("config from %s:\n%w", src, err)
	}
	return cfg, src, nil
}

func parseCDK(file string, data []byte) (*Config, string, error) {
	src := file + ` context "pushline"`
	var doc struct {
		Context map[string]json.RawMessage `json:"context"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, src, fmt.Errorf("read %s: not a JSON object: %w", file, err)
	}
	raw, ok := doc.Context["pushline"]
	if !ok {
		return nil, src, fmt.Errorf("%w: %s has no \"pushline\" key in its \"context\"", ErrNotFound, file)
	}
	return parseFrom(src, raw)
}
