package codebuild

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/pushline/pushline/infra/codebuild/buildspec"
)

// Project is what the runner knows of a CodeBuild project beyond what
// StartBuild's overrides say (Options.Projects, by project name).
type Project struct {
	// Secrets lists the Secrets Manager secret names or ARNs and SSM
	// parameter names the project's builds may read (the stage's secrets).
	Secrets []string
	// Privileged is CodeBuild's privileged mode: the build may use Docker.
	Privileged bool
	// Environment is the project's own environment variables (in AWS the
	// project's environment), below the buildspec's and the overrides.
	Environment map[string]string
}

// secretMask is what a secret's value becomes in logs, as in CodeBuild.
const secretMask = "***"

// secretRef is one secret a build reads, from the buildspec's
// env.secrets-manager or env.parameter-store or a PARAMETER_STORE or
// SECRETS_MANAGER environment variable override.
type secretRef struct {
	variable string
	ref      string // as written
	manager  bool   // Secrets Manager (else Parameter Store)
}

// secretError fails a build over a secret: code is the phase context's
// status code.
type secretError struct {
	code string
	msg  string
}

func (e *secretError) Error() string { return e.msg }

// resolveSecrets reads the values of the secrets the build asks for from
// Options.SecretsFile, checking each against the project's list. The error
// names the variable and the secret, never a value.
func (x *execution) resolveSecrets() (map[string]string, error) {
	var refs []secretRef
	if x.spec != nil {
		for _, r := range x.spec.Env.SecretsManager {
			refs = append(refs, secretRef{variable: r.Name, ref: r.Value, manager: true})
		}
		for _, r := range x.spec.Env.ParameterStore {
			refs = append(refs, secretRef{variable: r.Name, ref: r.Value})
		}
	}
	for _, v := range x.in.EnvironmentVariablesOverride {
		switch v.Type {
		case "SECRETS_MANAGER":
			refs = append(refs, secretRef{variable: v.Name, ref: v.Value, manager: true})
		case "PARAMETER_STORE":
			refs = append(refs, secretRef{variable: v.Name, ref: v.Value})
		}
	}
	if len(refs) == 0 {
		return nil, nil
	}
	fail := func(r secretRef, format string, args ...any) error {
		code, kind := "PARAMETER_STORE_ERROR", "parameter"
		if r.manager {
			code, kind = "SECRETS_MANAGER_ERROR", "secret"
		}
		return &secretError{code: code, msg: fmt.Sprintf("%s %s (variable %s): %s", kind, r.ref, r.variable, fmt.Sprintf(format, args...))}
	}
	if x.in.Untrusted {
		return nil, fail(refs[0], "untrusted builds (a fork's pull request) get no secrets")
	}
	listed := x.r.o.Projects[x.in.ProjectName].Secrets
	store, storeErr := readSecretsFile(x.r.o.SecretsFile)
	values := map[string]string{}
	for _, r := range refs {
		id, key := r.ref, ""
		if r.manager {
			sr, err := buildspec.ParseSecretRef(r.ref)
			if err != nil {
				return nil, fail(r, "%v", err)
			}
			if sr.VersionID != "" || (sr.VersionStage != "" && sr.VersionStage != "AWSCURRENT") {
				return nil, fail(r, "only the current version is available locally (the secrets file holds one value per secret)")
			}
			id, key = sr.SecretID, sr.JSONKey
		}
		name, ok := listedName(listed, id, r.manager)
		if !ok {
			return nil, fail(r, "not listed in the stage's secrets (project %s lists %s)", x.in.ProjectName, listing(listed))
		}
		if storeErr != nil {
			return nil, fail(r, "%v", storeErr)
		}
		value, ok := store[id]
		if !ok {
			value, ok = store[name]
		}
		if !ok {
			return nil, fail(r, "does not exist in the secrets file (PUSHLINE_SECRETS_FILE)")
		}
		if key != "" {
			var obj map[string]any
			if err := json.Unmarshal([]byte(value), &obj); err != nil {
				return nil, fail(r, "json-key %s: the secret does not hold a JSON object", key)
			}
			v, ok := obj[key]
			if !ok {
				return nil, fail(r, "json-key %s: no such key in the secret", key)
			}
			if s, isString := v.(string); isString {
				value = s
			} else {
				data, _ := json.Marshal(v)
				value = string(data)
			}
		}
		values[r.variable] = value
	}
	return values, nil
}

// listedName finds id among the listed secrets: the same name or ARN, or a
// Secrets Manager ARN whose secret name (with or without AWS's 6-character
// suffix) is listed. It returns the listed name.
func listedName(listed []string, id string, manager bool) (string, bool) {
	if slices.Contains(listed, id) {
		return id, true
	}
	if !manager || !strings.HasPrefix(id, "arn:") {
		return "", false
	}
	_, name, ok := strings.Cut(id, ":secret:")
	if !ok {
		return "", false
	}
	for _, l := range listed {
		if name == l || (len(name) == len(l)+7 && strings.HasPrefix(name, l+"-")) {
			return l, true
		}
	}
	return "", false
}

func listing(listed []string) string {
	if len(listed) == 0 {
		return "none"
	}
	return strings.Join(listed, ", ")
}

// readSecretsFile reads {"<secret id or parameter name>": "<value>"}.
func readSecretsFile(path string) (map[string]string, error) {
	if path == "" {
		return nil, errors.New("no secrets file: set PUSHLINE_SECRETS_FILE to a JSON file of {\"<secret id or parameter name>\": \"<value>\"}")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("secrets file: %w", err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("secrets file %s is not a JSON object", path)
	}
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		var s string
		if json.Unmarshal(v, &s) != nil {
			s = string(v) // an object: the secret holds JSON
		}
		out[k] = s
	}
	return out, nil
}

// maskerFor replaces every secret value (and each line of a multi-line one)
// by secretMask, longest first; nil without secrets.
func maskerFor(values map[string]string) *strings.Replacer {
	var olds []string
	for _, v := range values {
		if v == "" {
			continue
		}
		olds = append(olds, v)
		if strings.Contains(v, "\n") {
			for _, l := range strings.Split(v, "\n") {
				if len(strings.TrimSpace(l)) >= 3 {
					olds = append(olds, l)
				}
			}
		}
	}
	if len(olds) == 0 {
		return nil
	}
	slices.SortFunc(olds, func(a, b string) int { return len(b) - len(a) })
	olds = slices.Compact(olds)
	args := make([]string, 0, 2*len(olds))
	for _, o := range olds {
		args = append(args, o, secretMask)
	}
	return strings.NewReplacer(args...)
}

// mask hides the build's secret values in s.
func (x *execution) mask(s string) string {
	if m := x.masker.Load(); m != nil {
		return m.Replace(s)
	}
	return s
}
