package appspec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"strings"
	"time"

	"github.com/pushline/pushline/shared/yamlerr"
	"gopkg.in/yaml.v3"
)

type parser struct {
	file string
	spec *Spec
}

func (p *parser) errf(n *yaml.Node, format string, args ...any) error {
	line := 0
	if n != nil {
		line = n.Line
	}
	return &Error{File: p.file, Line: line, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) ignore(path string, k *yaml.Node) {
	p.spec.Ignored = append(p.spec.Ignored, fmt.Sprintf("%s (line %d)", path, k.Line))
}

// Parse parses and validates an AppSpec file. file names it in errors.
func Parse(file string, data []byte) (*Spec, error) {
	p := &parser{file: file, spec: &Spec{FileExistsBehavior: Disallow}}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{File: file, Msg: "the AppSpec file is empty"}
		}
		return nil, syntaxError(file, data, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, p.errf(&extra, "an AppSpec file holds one YAML document; found a second one")
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 || yamlerr.IsNull(doc.Content[0]) {
		return nil, &Error{File: file, Msg: "the AppSpec file is empty"}
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, p.errf(root, "the AppSpec file must be a mapping with version and os, not %s", yamlerr.Describe(root))
	}
	var version, osNode *yaml.Node
	err := p.mapping(root, "", func(key string, k, v *yaml.Node) error {
		switch key {
		case "version":
			version = v
		case "os":
			osNode = v
		case "files":
			return p.files(v)
		case "file_exists_behavior":
			return p.fileExists(v)
		case "permissions":
			return p.permissions(v)
		case "hooks":
			return p.hooks(v)
		case "Resources", "resources":
			return p.errf(k, "%s belongs to a Lambda or ECS AppSpec file; this deployment is EC2/on-premises (files and hooks)", key)
		default:
			return p.errf(k, "unknown key %q; allowed: version, os, files, file_exists_behavior, permissions, hooks", key)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s := p.spec
	if version == nil {
		return nil, p.errf(root, `version is missing: add "version: 0.0"`)
	}
	if version.Kind != yaml.ScalarNode || version.Value != "0.0" {
		return nil, p.errf(version, "version must be 0.0 (the only AppSpec version), not %s", yamlerr.Describe(version))
	}
	s.Version = "0.0"
	if osNode == nil {
		return nil, p.errf(root, "os is missing: add \"os: linux\" or \"os: windows\"")
	}
	if osNode.Kind != yaml.ScalarNode || (osNode.Value != Linux && osNode.Value != Windows) {
		return nil, p.errf(osNode, "os must be linux or windows, not %s", yamlerr.Describe(osNode))
	}
	s.OS = osNode.Value
	return s, nil
}

func (p *parser) files(n *yaml.Node) error {
	if yamlerr.IsNull(n) {
		return nil
	}
	return p.list(n, "files", func(i int, e *yaml.Node) error {
		path := fmt.Sprintf("files[%d]", i)
		f := File{Line: e.Line}
		err := p.mapping(e, path, func(key string, k, v *yaml.Node) error {
			var err error
			switch key {
			case "source":
				f.Source, err = p.path(v, path+".source")
			case "destination":
				f.Destination, err = p.path(v, path+".destination")
			default:
				return p.errf(k, "%s: unknown key %q; allowed: source, destination", path, key)
			}
			return err
		})
		switch {
		case err != nil:
			return err
		case f.Source == "":
			return p.errf(e, "%s.source is missing: a file or directory of the revision, / for all of it", path)
		case f.Destination == "":
			return p.errf(e, "%s.destination is missing: where on the instance the files go", path)
		}
		p.spec.Files = append(p.spec.Files, f)
		return nil
	})
}

func (p *parser) fileExists(n *yaml.Node) error {
	v, err := p.scalar(n, "file_exists_behavior")
	if err != nil {
		return err
	}
	switch strings.ToUpper(v) {
	case Disallow, Overwrite, Retain:
		p.spec.FileExistsBehavior = strings.ToUpper(v)
		return nil
	}
	return p.errf(n, "file_exists_behavior must be DISALLOW, OVERWRITE or RETAIN, not %s", yamlerr.Describe(n))
}

func (p *parser) permissions(n *yaml.Node) error {
	if yamlerr.IsNull(n) {
		return nil
	}
	return p.list(n, "permissions", func(i int, e *yaml.Node) error {
		path := fmt.Sprintf("permissions[%d]", i)
		perm := Permission{Line: e.Line, Pattern: "**"}
		err := p.mapping(e, path, func(key string, k, v *yaml.Node) error {
			var err error
			switch key {
			case "object":
				perm.Object, err = p.path(v, path+".object")
			case "pattern":
				perm.Pattern, err = p.scalar(v, path+".pattern")
			case "except":
				perm.Except, err = p.strings(v, path+".except")
			case "owner":
				perm.Owner, err = p.scalar(v, path+".owner")
			case "group":
				perm.Group, err = p.scalar(v, path+".group")
			case "mode":
				perm.Mode, err = p.mode(v, path+".mode")
				perm.HasMode = err == nil
			case "type":
				perm.Type, err = p.strings(v, path+".type")
				for _, t := range perm.Type {
					if t != "file" && t != "directory" {
						return p.errf(v, "%s.type: %q is not file or directory", path, t)
					}
				}
			case "acls", "context":
				p.ignore(path+"."+key, k)
			default:
				return p.errf(k, "%s: unknown key %q; allowed: object, pattern, except, owner, group, mode, acls, context, type", path, key)
			}
			return err
		})
		if err != nil {
			return err
		}
		if perm.Object == "" {
			return p.errf(e, "%s.object is missing: the path on the instance the permissions apply to", path)
		}
		if perm.Pattern == "" {
			perm.Pattern = "**"
		}
		p.spec.Permissions = append(p.spec.Permissions, perm)
		return nil
	})
}

// mode parses an octal mode as AppSpec writes it (644, "0755").
func (p *parser) mode(n *yaml.Node, path string) (fs.FileMode, error) {
	if n.Kind == yaml.ScalarNode && len(n.Value) >= 3 && len(n.Value) <= 4 {
		if m, err := strconv.ParseUint(n.Value, 8, 32); err == nil {
			return fs.FileMode(m), nil
		}
	}
	return 0, p.errf(n, "%s must be an octal mode such as 644 or 4755, not %s", path, yamlerr.Describe(n))
}

func (p *parser) hooks(n *yaml.Node) error {
	if yamlerr.IsNull(n) {
		return nil
	}
	known := map[string]bool{}
	for _, e := range Events {
		known[e] = true
	}
	p.spec.Hooks = map[string][]Script{}
	return p.mapping(n, "hooks", func(event string, k, v *yaml.Node) error {
		switch {
		case reserved[event]:
			return p.errf(k, "hooks: %s is run by CodeDeploy itself and cannot be scripted", event)
		case !known[event]:
			return p.errf(k, "hooks: unknown lifecycle event %q; allowed: %s", event, strings.Join(Events, ", "))
		}
		var total time.Duration
		var scripts []Script
		err := p.list(v, "hooks."+event, func(i int, e *yaml.Node) error {
			path := fmt.Sprintf("hooks.%s[%d]", event, i)
			s := Script{Line: e.Line, Timeout: DefaultTimeout}
			err := p.mapping(e, path, func(key string, k, v *yaml.Node) error {
				var err error
				switch key {
				case "location":
					s.Location, err = p.path(v, path+".location")
				case "timeout":
					s.Timeout, err = p.timeout(v, path+".timeout")
				case "runas":
					s.RunAs, err = p.scalar(v, path+".runas")
				case "sudo":
					p.ignore(path+".sudo", k)
				default:
					return p.errf(k, "%s: unknown key %q; allowed: location, timeout, runas", path, key)
				}
				return err
			})
			if err != nil {
				return err
			}
			if s.Location == "" {
				return p.errf(e, "%s.location is missing: the script's path in the revision", path)
			}
			total += s.Timeout
			scripts = append(scripts, s)
			return nil
		})
		if err != nil {
			return err
		}
		if total > MaxEventTimeout {
			return p.errf(k, "hooks.%s: the scripts' timeouts add up to %ds; CodeDeploy allows at most %ds per lifecycle event (a script without timeout counts %ds)",
				event, int(total.Seconds()), int(MaxEventTimeout.Seconds()), int(DefaultTimeout.Seconds()))
		}
		p.spec.Hooks[event] = scripts
		return nil
	})
}

func (p *parser) timeout(n *yaml.Node, path string) (time.Duration, error) {
	if n.Kind == yaml.ScalarNode {
		if s, err := strconv.Atoi(n.Value); err == nil && s > 0 && s <= int(MaxEventTimeout.Seconds()) {
			return time.Duration(s) * time.Second, nil
		}
	}
	return 0, p.errf(n, "%s must be a number of seconds from 1 to %d, not %s", path, int(MaxEventTimeout.Seconds()), yamlerr.Describe(n))
}

// mapping walks a mapping node, checking keys are plain and unique.
func (p *parser) mapping(n *yaml.Node, path string, f func(key string, k, v *yaml.Node) error) error {
	if n.Kind != yaml.MappingNode {
		return p.errf(n, "%s must be a mapping, not %s", orRoot(path), yamlerr.Describe(n))
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

func (p *parser) list(n *yaml.Node, path string, f func(i int, e *yaml.Node) error) error {
	if n.Kind != yaml.SequenceNode {
		return p.errf(n, "%s must be a list, not %s", path, yamlerr.Describe(n))
	}
	for i, e := range n.Content {
		if err := f(i, e); err != nil {
			return err
		}
	}
	return nil
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

// path is a non-empty string without NUL.
func (p *parser) path(n *yaml.Node, path string) (string, error) {
	s, err := p.scalar(n, path)
	if err != nil {
		return "", err
	}
	if s == "" || strings.ContainsRune(s, 0) {
		return "", p.errf(n, "%s must be a path, not %s", path, yamlerr.Describe(n))
	}
	return s, nil
}

func (p *parser) strings(n *yaml.Node, path string) ([]string, error) {
	if yamlerr.IsNull(n) {
		return nil, nil
	}
	if n.Kind == yaml.ScalarNode {
		return []string{n.Value}, nil
	}
	var out []string
	err := p.list(n, path, func(i int, e *yaml.Node) error {
		s, err := p.scalar(e, fmt.Sprintf("%s[%d]", path, i))
		out = append(out, s)
		return err
	})
	return out, err
}

func orRoot(path string) string {
	if path == "" {
		return "the AppSpec file"
	}
	return path
}

// syntaxError turns a yaml.v3 syntax error into an *Error at the line
// where the problem is (yamlerr.Locate).
func syntaxError(file string, data []byte, err error) error {
	line, msg := yamlerr.Locate(data, err)
	return &Error{File: file, Line: line, Msg: msg}
}
