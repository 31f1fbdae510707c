package buildspec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/pushline/pushline/shared/yamlerr"
	"gopkg.in/yaml.v3"
)

// Phase names, in the order a build runs them.
const (
	Install   = "install"
	PreBuild  = "pre_build"
	Build     = "build"
	PostBuild = "post_build"
)

// PhaseNames lists the buildspec phases in execution order.
var PhaseNames = []string{Install, PreBuild, Build, PostBuild}

// On-failure actions.
const (
	Abort    = "ABORT"
	Continue = "CONTINUE"
)

// Spec is a parsed buildspec.
type Spec struct {
	Version   string
	Env       Env
	Phases    []*Phase   // in execution order, only the phases the file declares
	Artifacts *Artifacts // nil when the file has no artifacts section
	Reports   []Report   // in file order
	Cache     *Cache     // nil when the file has no cache section
	Ignored   []string   // keys accepted but without effect locally, e.g. "reports (line 30)"
}

// Phase returns the named phase, or nil.
func (s *Spec) Phase(name string) *Phase {
	for _, p := range s.Phases {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// Env is the buildspec's env section.
type Env struct {
	Shell             string // "bash" or "sh"; empty means the default (bash)
	Variables         []Var  // in file order
	ExportedVariables []string
	// ParameterStore and SecretsManager are env.parameter-store and
	// env.secrets-manager, in file order; Var.Value is the reference (a
	// parameter name; "secret-id:json-key:version-stage:version-id").
	ParameterStore []Ref
	SecretsManager []Ref
}

// Ref is one env.parameter-store or env.secrets-manager entry.
type Ref struct {
	Name  string // the variable
	Value string // the reference
	Line  int
}

// Var is one env.variables entry.
type Var struct {
	Name, Value string
}

// Phase is one phase's commands.
type Phase struct {
	Name string
	Line int
	// OnFailure is Abort or Continue as the file says, or "" when it does not
	// (CodeBuild's default: a failed BUILD still goes on to POST_BUILD).
	OnFailure string
	Commands  []Command
	Finally   []Command
}

// Command is one command and the line it starts on.
type Command struct {
	Text string
	Line int
}

// Artifacts is the artifacts section.
type Artifacts struct {
	Files         []string
	Name          string
	BaseDirectory string
	DiscardPaths  bool
	ExcludePaths  []string
}

// Cache is the cache section: the paths kept between builds of a project.
type Cache struct {
	Paths []string
	Line  int
}

// Report is one reports entry: a report group and the files of its reports.
type Report struct {
	Name          string // the report group's name or ARN
	Files         []string
	BaseDirectory string
	DiscardPaths  bool
	FileFormat    string // JUNITXML (default), CUCUMBERJSON, TESTNGXML, NUNITXML, NUNIT3XML, VISUALSTUDIOTRX or a coverage format
	Line          int
}

// reportFormats are the file-format values CodeBuild accepts.
var reportFormats = []string{"JUNITXML", "CUCUMBERJSON", "NUNITXML", "NUNIT3XML", "TESTNGXML", "VISUALSTUDIOTRX", "CLOVERXML", "COBERTURAXML", "JACOCOXML", "SIMPLECOV"}

// Error is a problem in a buildspec file, at a line when one is known.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

type parser struct {
	file string
}

func (p *parser) errf(n *yaml.Node, format string, args ...any) error {
	line := 0
	if n != nil {
		line = n.Line
	}
	return &Error{File: p.file, Line: line, Msg: fmt.Sprintf(format, args...)}
}

// Parse parses and validates a buildspec. file names it in error messages.
func Parse(file string, data []byte) (*Spec, error) {
	p := &parser{file: file}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, &Error{File: file, Msg: "the buildspec is empty"}
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{File: file, Msg: "the buildspec is empty"}
		}
		return nil, syntaxError(file, data, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, p.errf(&extra, "a buildspec holds one YAML document; found a second one")
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, &Error{File: file, Msg: "the buildspec is empty"}
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, p.errf(root, "the buildspec must be a mapping with version and phases, not %s", yamlerr.Describe(root))
	}
	spec := &Spec{}
	var versionNode, phasesNode *yaml.Node
	err := p.mapping(root, "", func(key string, k, v *yaml.Node) error {
		switch key {
		case "version":
			versionNode = v
		case "env":
			return p.env(v, &spec.Env, spec)
		case "phases":
			phasesNode = v
		case "artifacts":
			a, err := p.artifacts(v, spec)
			spec.Artifacts = a
			return err
		case "reports":
			r, err := p.reports(v)
			spec.Reports = r
			return err
		case "cache":
			c, err := p.cache(v)
			spec.Cache = c
			return err
		case "run-as", "proxy", "batch":
			spec.Ignored = append(spec.Ignored, fmt.Sprintf("%s (line %d)", key, k.Line))
		default:
			return p.errf(k, "unknown key %q; allowed: version, run-as, env, proxy, batch, phases, reports, artifacts, cache", key)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if versionNode == nil {
		return nil, p.errf(root, `version is missing: add "version: 0.2"`)
	}
	if versionNode.Kind != yaml.ScalarNode {
		return nil, p.errf(versionNode, "version must be 0.2, not %s", yamlerr.Describe(versionNode))
	}
	spec.Version = versionNode.Value
	if spec.Version != "0.2" {
		return nil, p.errf(versionNode, "version %q is not supported: the local runner runs version 0.2", spec.Version)
	}
	if phasesNode == nil {
		return nil, p.errf(root, "phases is missing: a buildspec needs at least one of install, pre_build, build, post_build")
	}
	if err := p.phases(phasesNode, spec); err != nil {
		return nil, err
	}
	return spec, nil
}

// mapping walks a mapping node, checking keys are strings and unique.
func (p *parser) mapping(n *yaml.Node, path string, f func(key string, k, v *yaml.Node) error) error {
	if n.Kind != yaml.MappingNode {
		return p.errf(n, "%s must be a mapping, not %s", path, yamlerr.Describe(n))
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return p.errf(k, "%s: keys must be plain names, not %s", orRoot(path), yamlerr.Describe(k))
		}
		if k.Tag == "!!merge" {
			return p.errf(k, "%s: YAML merge keys (<<) are not supported", orRoot(path))
		}
		if line, dup := seen[k.Value]; dup {
			return p.errf(k, "%s: key %q is repeated (first at line %d)", orRoot(path), k.Value, line)
		}
		seen[k.Value] = k.Line
		if err := f(k.Value, k, v); err != nil {
			return err
		}
	}
	return nil
}

func orRoot(path string) string {
	if path == "" {
		return "the buildspec"
	}
	return path
}

func (p *parser) env(n *yaml.Node, env *Env, spec *Spec) error {
	if yamlerr.IsNull(n) {
		return nil
	}
	return p.mapping(n, "env", func(key string, k, v *yaml.Node) error {
		switch key {
		case "shell":
			if v.Kind != yaml.ScalarNode {
				return p.errf(v, "env.shell must be bash or sh, not %s", yamlerr.Describe(v))
			}
			switch v.Value {
			case "bash", "/bin/bash":
				env.Shell = "bash"
			case "sh", "/bin/sh":
				env.Shell = "sh"
			default:
				return p.errf(v, "env.shell %q is not supported: use bash or sh", v.Value)
			}
		case "variables":
			if yamlerr.IsNull(v) {
				return nil
			}
			return p.mapping(v, "env.variables", func(name string, k, val *yaml.Node) error {
				if !validName(name) {
					return p.errf(k, "env.variables: %q is not a valid variable name", name)
				}
				if yamlerr.IsNull(val) {
					env.Variables = append(env.Variables, Var{Name: name})
					return nil
				}
				if val.Kind != yaml.ScalarNode {
					return p.errf(val, "env.variables.%s must be a string, not %s", name, yamlerr.Describe(val))
				}
				env.Variables = append(env.Variables, Var{Name: name, Value: val.Value})
				return nil
			})
		case "exported-variables":
			names, err := p.strings(v, "env.exported-variables")
			if err != nil {
				return err
			}
			for i, name := range names {
				if !validName(name) {
					at := v
					if v.Kind == yaml.SequenceNode {
						at = v.Content[i]
					}
					return p.errf(at, "env.exported-variables: %q is not a valid variable name", name)
				}
			}
			env.ExportedVariables = names
		case "parameter-store", "secrets-manager":
			if yamlerr.IsNull(v) {
				return nil
			}
			return p.mapping(v, "env."+key, func(name string, k, val *yaml.Node) error {
				if !validName(name) {
					return p.errf(k, "env.%s: %q is not a valid variable name", key, name)
				}
				if val.Kind != yaml.ScalarNode || yamlerr.IsNull(val) || strings.TrimSpace(val.Value) == "" {
					return p.errf(val, "env.%s.%s must name a %s, not %s", key, name, map[string]string{"parameter-store": "parameter", "secrets-manager": "secret"}[key], yamlerr.Describe(val))
				}
				ref := Ref{Name: name, Value: strings.TrimSpace(val.Value), Line: val.Line}
				if key == "parameter-store" {
					env.ParameterStore = append(env.ParameterStore, ref)
				} else {
					if _, err := ParseSecretRef(ref.Value); err != nil {
						return p.errf(val, "env.secrets-manager.%s: %v", name, err)
					}
					env.SecretsManager = append(env.SecretsManager, ref)
				}
				return nil
			})
		case "git-credential-helper":
			spec.Ignored = append(spec.Ignored, fmt.Sprintf("env.%s (line %d)", key, k.Line))
		default:
			return p.errf(k, "env: unknown key %q; allowed: shell, variables, parameter-store, exported-variables, secrets-manager, git-credential-helper", key)
		}
		return nil
	})
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_', r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// strings reads a list of scalars, or one scalar as a one-element list.
func (p *parser) strings(n *yaml.Node, path string) ([]string, error) {
	switch n.Kind {
	case yaml.ScalarNode:
		if yamlerr.IsNull(n) {
			return nil, nil
		}
		return []string{n.Value}, nil
	case yaml.SequenceNode:
		out := make([]string, 0, len(n.Content))
		for i, c := range n.Content {
			if c.Kind != yaml.ScalarNode || yamlerr.IsNull(c) {
				return nil, p.errf(c, "%s[%d] must be a string, not %s", path, i, yamlerr.Describe(c))
			}
			out = append(out, c.Value)
		}
		return out, nil
	}
	return nil, p.errf(n, "%s must be a list of strings, not %s", path, yamlerr.Describe(n))
}

func (p *parser) commands(n *yaml.Node, path string) ([]Command, error) {
	if yamlerr.IsNull(n) {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, p.errf(n, "%s must be a list of commands, not %s", path, yamlerr.Describe(n))
	}
	out := make([]Command, 0, len(n.Content))
	for i, c := range n.Content {
		switch {
		case c.Kind == yaml.ScalarNode && !yamlerr.IsNull(c):
			out = append(out, Command{Text: c.Value, Line: c.Line})
		case c.Kind == yaml.MappingNode:
			return nil, p.errf(c, "%s[%d] must be a string, not a mapping (quote the command: it contains ': ')", path, i)
		default:
			return nil, p.errf(c, "%s[%d] must be a string, not %s", path, i, yamlerr.Describe(c))
		}
	}
	return out, nil
}

func (p *parser) phases(n *yaml.Node, spec *Spec) error {
	found := map[string]*Phase{}
	err := p.mapping(n, "phases", func(name string, k, v *yaml.Node) (err error) {
		switch name {
		case Install, PreBuild, Build, PostBuild:
		default:
			return p.errf(k, "phases: unknown phase %q; allowed: install, pre_build, build, post_build", name)
		}
		ph := &Phase{Name: name, Line: k.Line}
		found[name] = ph
		if yamlerr.IsNull(v) {
			return nil
		}
		path := "phases." + name
		var hasCommands bool
		var needsCommands *yaml.Node // the first key that makes no sense without commands
		defer func() {
			if needsCommands != nil && !hasCommands && err == nil {
				err = p.errf(k, "%s has %s but no commands: a phase needs a commands list", path, needsCommands.Value)
			}
		}()
		return p.mapping(v, path, func(key string, k, v *yaml.Node) error {
			var err error
			switch key {
			case "commands":
				hasCommands = true
				ph.Commands, err = p.commands(v, path+".commands")
			case "finally":
				if needsCommands == nil {
					needsCommands = k
				}
				ph.Finally, err = p.commands(v, path+".finally")
			case "on-failure":
				if needsCommands == nil {
					needsCommands = k
				}
				if v.Kind != yaml.ScalarNode || yamlerr.IsNull(v) {
					return p.errf(v, "%s.on-failure must be ABORT or CONTINUE, not %s", path, yamlerr.Describe(v))
				}
				switch v.Value {
				case Abort, Continue:
					ph.OnFailure = v.Value
				default:
					return p.errf(v, "%s.on-failure %q is not supported: use ABORT or CONTINUE", path, v.Value)
				}
			case "run-as":
				spec.Ignored = append(spec.Ignored, fmt.Sprintf("%s.%s (line %d)", path, key, k.Line))
			case "runtime-versions":
				if name != Install {
					return p.errf(k, "%s: runtime-versions is only allowed in the install phase", path)
				}
				spec.Ignored = append(spec.Ignored, fmt.Sprintf("%s.%s (line %d)", path, key, k.Line))
			default:
				return p.errf(k, "%s: unknown key %q; allowed: run-as, on-failure, runtime-versions (install), commands, finally", path, key)
			}
			return err
		})
	})
	if err != nil {
		return err
	}
	for _, name := range PhaseNames {
		if ph, ok := found[name]; ok {
			spec.Phases = append(spec.Phases, ph)
		}
	}
	return nil
}

func (p *parser) artifacts(n *yaml.Node, spec *Spec) (*Artifacts, error) {
	if yamlerr.IsNull(n) {
		return nil, nil
	}
	a := &Artifacts{}
	var filesSeen bool
	err := p.mapping(n, "artifacts", func(key string, k, v *yaml.Node) error {
		var err error
		switch key {
		case "files":
			filesSeen = true
			a.Files, err = p.strings(v, "artifacts.files")
		case "name":
			a.Name, err = p.scalar(v, "artifacts.name")
		case "base-directory":
			a.BaseDirectory, err = p.scalar(v, "artifacts.base-directory")
		case "discard-paths":
			a.DiscardPaths, err = p.yesNo(v, "artifacts.discard-paths")
		case "exclude-paths":
			a.ExcludePaths, err = p.strings(v, "artifacts.exclude-paths")
		case "enable-symlinks", "s3-prefix", "secondary-artifacts":
			spec.Ignored = append(spec.Ignored, fmt.Sprintf("artifacts.%s (line %d)", key, k.Line))
		default:
			return p.errf(k, "artifacts: unknown key %q; allowed: files, name, discard-paths, base-directory, exclude-paths, enable-symlinks, s3-prefix, secondary-artifacts", key)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if !filesSeen || len(a.Files) == 0 {
		return nil, p.errf(n, "artifacts.files is missing: list the files to keep, e.g. '**/*'")
	}
	return a, nil
}

func (p *parser) scalar(n *yaml.Node, path string) (string, error) {
	if yamlerr.IsNull(n) {
		return "", nil
	}
	if n.Kind != yaml.ScalarNode {
		return "", p.errf(n, "%s must be a string, not %s", path, yamlerr.Describe(n))
	}
	return n.Value, nil
}

func (p *parser) yesNo(n *yaml.Node, path string) (bool, error) {
	if n.Kind == yaml.ScalarNode {
		switch strings.ToLower(n.Value) {
		case "yes", "true", "on":
			return true, nil
		case "no", "false", "off", "":
			return false, nil
		}
	}
	return false, p.errf(n, "%s must be yes or no, not %s", path, yamlerr.Describe(n))
}

// syntaxError turns a yaml.v3 syntax error into an *Error at the line
// where the problem is (yamlerr.Locate).
func syntaxError(file string, data []byte, err error) error {
	line, msg := yamlerr.Locate(data, err)
	return &Error{File: file, Line: line, Msg: msg}
}

// SecretRef is a parsed env.secrets-manager reference,
// "secret-id:json-key:version-stage:version-id" (all but secret-id optional;
// secret-id may be an ARN, itself holding colons).
type SecretRef struct {
	SecretID, JSONKey, VersionStage, VersionID string
}

// ParseSecretRef parses CodeBuild's secrets-manager reference.
func ParseSecretRef(s string) (SecretRef, error) {
	parts := strings.Split(s, ":")
	n := 1
	if strings.HasPrefix(s, "arn:") {
		n = 7 // arn:partition:secretsmanager:region:account:secret:name
		if len(parts) < n || parts[5] != "secret" || parts[6] == "" {
			return SecretRef{}, fmt.Errorf("%q is not a secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>)", s)
		}
	}
	if len(parts) > n+3 {
		return SecretRef{}, fmt.Errorf("%q has too many parts: use secret-id:json-key:version-stage:version-id", s)
	}
	for len(parts) < n+3 {
		parts = append(parts, "")
	}
	r := SecretRef{SecretID: strings.Join(parts[:n], ":"), JSONKey: parts[n], VersionStage: parts[n+1], VersionID: parts[n+2]}
	if r.SecretID == "" {
		return SecretRef{}, fmt.Errorf("%q has no secret id", s)
	}
	return r, nil
}

func (p *parser) reports(n *yaml.Node) ([]Report, error) {
	if yamlerr.IsNull(n) {
		return nil, nil
	}
	var out []Report
	err := p.mapping(n, "reports", func(name string, k, v *yaml.Node) error {
		path := "reports." + name
		r := Report{Name: name, FileFormat: "JUNITXML", Line: k.Line}
		var filesSeen bool
		err := p.mapping(v, path, func(key string, k, v *yaml.Node) error {
			var err error
			switch key {
			case "files":
				filesSeen = true
				r.Files, err = p.strings(v, path+".files")
			case "base-directory":
				r.BaseDirectory, err = p.scalar(v, path+".base-directory")
			case "discard-paths":
				r.DiscardPaths, err = p.yesNo(v, path+".discard-paths")
			case "file-format":
				var f string
				if f, err = p.scalar(v, path+".file-format"); err != nil {
					return err
				}
				f = strings.ToUpper(f)
				if !slices.Contains(reportFormats, f) {
					return p.errf(v, "%s.file-format %q is not one of %s", path, f, strings.Join(reportFormats, ", "))
				}
				r.FileFormat = f
			default:
				return p.errf(k, "%s: unknown key %q; allowed: files, base-directory, discard-paths, file-format", path, key)
			}
			return err
		})
		if err != nil {
			return err
		}
		if !filesSeen || len(r.Files) == 0 {
			return p.errf(k, "%s.files is missing: list the report files, e.g. 'reports/*.xml'", path)
		}
		out = append(out, r)
		return nil
	})
	return out, err
}

func (p *parser) cache(n *yaml.Node) (*Cache, error) {
	if yamlerr.IsNull(n) {
		return nil, nil
	}
	c := &Cache{Line: n.Line}
	err := p.mapping(n, "cache", func(key string, k, v *yaml.Node) error {
		switch key {
		case "paths":
			var err error
			c.Paths, err = p.strings(v, "cache.paths")
			return err
		case "key", "fallback-keys", "action":
			return nil // S3 cache keys: one cache per project locally
		default:
			return p.errf(k, "cache: unknown key %q; allowed: paths, key, fallback-keys, action", key)
		}
	})
	if err != nil {
		return nil, err
	}
	if len(c.Paths) == 0 {
		return nil, p.errf(n, "cache.paths is missing: list what to keep between builds, e.g. 'node_modules/**/*'")
	}
	return c, nil
}
