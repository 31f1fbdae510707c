package config

import (
	"errors"
	"slices"
	"strconv"
	"strings"
)

// Keys allowed in each object of the config, in the order messages list
// them.
var (
	configKeys       = []string{"name", "repositories", "mode", "stages", "notifications"}
	repositoryKeys   = []string{"provider", "repository", "cloneUrl", "branches", "tags", "paths", "ignorePaths", "pullRequests", "statuses", "apiUrl"}
	pullRequestKeys  = []string{"branches", "forks", "stages"}
	stageKeys        = []string{"name", "buildspec", "timeout", "environment", "computeType", "inputs", "secrets", "privileged", "image", "approval", "actions", "deploy"}
	actionKeys       = []string{"name", "buildspec", "timeout", "environment", "computeType", "inputs", "secrets", "privileged", "image"}
	approvalKeys     = []string{"approvers", "timeout"}
	deployKeys       = []string{"codedeploy"}
	codeDeployKeys   = []string{"application", "deploymentGroup", "input"}
	notificationKeys = []string{"from", "failures"}
	// deprecatedStageKeys are accepted but not listed as allowed.
	deprecatedStageKeys = []string{"input"}
)

// Parse reads one pipeline config object, strictly: unknown or duplicate
// keys, values of the wrong type and invalid values are errors. On
// success the defaults are applied (mode, build and approval timeouts),
// deprecated keys are rewritten to their replacements (a stage's input
// becomes inputs) and Config.Warnings says what to write instead.
// The error, if any, is an Errors listing every problem found, each
// naming the key path and what is allowed.
func Parse(data []byte) (*Config, error) {
	p := &parser{}
	root, err := decodeTree(data, func(path string) { p.add(path, "duplicate key") })
	if err != nil {
		return nil, Errors{{Path: "config", Msg: err.Error()}}
	}
	cfg := p.config(root)
	shape := p.errs
	for _, e := range validate(cfg) {
		if !under(shape, e.Path) {
			p.errs = append(p.errs, e)
		}
	}
	if len(p.errs) > 0 {
		return nil, p.errs
	}
	applyDefaults(cfg)
	return cfg, nil
}

// Validate checks a config built in code (Parse already validates what it
// returns): the same rules as Parse, the error an Errors.
func (c *Config) Validate() error {
	if errs := validate(c); len(errs) > 0 {
		return errs
	}
	return nil
}

func applyDefaults(c *Config) {
	if c.Mode == "" {
		c.Mode = DefaultMode
	}
	for i := range c.Stages {
		s := &c.Stages[i]
		switch {
		case s.IsApproval():
			if s.Approval.Timeout.Duration == 0 {
				s.Approval.Timeout.Duration = DefaultApprovalTimeout
			}
		case s.IsParallel():
			for j := range s.Actions {
				if a := &s.Actions[j]; a.Timeout.Duration == 0 {
					a.Timeout.Duration = DefaultBuildTimeout
				}
			}
		case s.IsDeploy():
		default:
			if s.Timeout.Duration == 0 {
				s.Timeout.Duration = DefaultBuildTimeout
			}
			if w := foldInput(&s.Build, indexPath("stages", i)); w != "" {
				c.Warnings = append(c.Warnings, w)
			}
		}
	}
}

// foldInput rewrites the deprecated input of a valid build into inputs
// and returns the warning that says what to write instead.
func foldInput(b *Build, path string) string {
	in := b.Input
	if in == "" {
		return ""
	}
	b.Input = ""
	const dep = `.input is deprecated and goes in the next release: `
	if in == SourceInput {
		return path + dep + `remove "input": "Source" (every build's primary source is now the commit's snapshot)`
	}
	b.Inputs = []string{in}
	return path + dep + `write "inputs": [` + strconv.Quote(in) + `] (the build's primary source is now always the commit's snapshot; ` +
		in + `'s artifact is unpacked at $CODEBUILD_SRC_DIR_` + SourceIdentifier(in) + `)`
}

// parser builds a Config from the decoded tree, recording shape errors
// (unknown keys, wrong types) with their paths.
type parser struct{ errs Errors }

func (p *parser) add(path, msg string) { p.errs = append(p.errs, FieldError{Path: path, Msg: msg}) }

// object checks that n is an object with only allowed keys and returns its
// fields (nil if n is not an object).
// Keys in hidden are accepted too but not listed (deprecated keys).
func (p *parser) object(n *node, path string, allowed []string, hidden ...string) map[string]*node {
	if n.kind != kObject {
		p.add(pathOr(path), "must be an object, got "+n.kind.String())
		return nil
	}
	for _, k := range n.keys {
		if !slices.Contains(allowed, k) && !slices.Contains(hidden, k) {
			p.add(keyPath(path, k), "unknown key (allowed: "+strings.Join(allowed, ", ")+")")
		}
	}
	return n.fields
}

func pathOr(path string) string {
	if path == "" {
		return "config"
	}
	return path
}

func (p *parser) str(n *node, path string) string {
	if n == nil || n.kind == kNull {
		return ""
	}
	if n.kind != kString {
		p.add(path, "must be a string, got "+n.kind.String())
		return ""
	}
	if strings.Contains(n.str, placeholderStart) {
		p.add(path, noPlaceholder)
		return ""
	}
	return n.str
}

// Definition placeholders are ${Key}; no config value may look like one.
const (
	placeholderStart = "${"
	noPlaceholder    = `must not contain "${" (reserved for the definition's deployment placeholders)`
)

// boolean reads an optional boolean (false when absent or null).
func (p *parser) boolean(n *node, path string) bool {
	b := p.boolPtr(n, path)
	return b != nil && *b
}

// boolPtr reads an optional boolean: nil when absent or null.
func (p *parser) boolPtr(n *node, path string) *bool {
	if n == nil || n.kind == kNull {
		return nil
	}
	if n.kind != kBool {
		p.add(path, "must be true or false, got "+n.kind.String())
		return nil
	}
	b := n.b
	return &b
}

func (p *parser) strings(n *node, path string) []string {
	if n == nil || n.kind == kNull {
		return nil
	}
	if n.kind != kArray {
		p.add(path, "must be an array of strings, got "+n.kind.String())
		return nil
	}
	if len(n.items) == 0 {
		return nil // [] is no list, as when absent
	}
	out := make([]string, 0, len(n.items))
	for i, it := range n.items {
		out = append(out, p.str(it, indexPath(path, i)))
	}
	return out
}

// outOfRange is the message of a duration outside the range allowed
// (e.g. "5m to 36h").
func outOfRange(allowed string) func(string) string {
	return func(s string) string { return quote(s) + " is out of range (allowed: " + allowed + ")" }
}

// duration parses a positive duration; a zero, negative or overflowing
// one gets the message rangeMsg gives.
func (p *parser) duration(n *node, path string, rangeMsg func(string) string) Duration {
	s := p.str(n, path)
	if s == "" {
		if n != nil && n.kind == kString {
			p.add(path, `must not be empty (allowed: a duration such as "30m", "72h", "7d")`)
		}
		return Duration{}
	}
	d, err := ParseDuration(s)
	switch {
	case errors.Is(err, ErrDurationRange) || err == nil && d <= 0:
		p.add(path, rangeMsg(s))
		return Duration{}
	case err != nil:
		p.add(path, quote(s)+` is not a duration (allowed: e.g. "30m", "1h30m", "72h", "7d")`)
		return Duration{}
	}
	return Duration{d}
}

func (p *parser) config(root *node) *Config {
	c := &Config{}
	f := p.object(root, "", configKeys)
	if f == nil {
		return c
	}
	c.Name = p.str(f["name"], "name")
	c.Mode = p.str(f["mode"], "mode")
	if n := f["repositories"]; n != nil && n.kind != kNull {
		if n.kind != kArray {
			p.add("repositories", "must be an array of repositories, got "+n.kind.String())
		}
		for i, it := range n.items {
			c.Repositories = append(c.Repositories, p.repository(it, indexPath("repositories", i)))
		}
	}
	if n := f["stages"]; n != nil && n.kind != kNull {
		if n.kind != kArray {
			p.add("stages", "must be an array of stages, got "+n.kind.String())
		}
		for i, it := range n.items {
			c.Stages = append(c.Stages, p.stage(it, indexPath("stages", i)))
		}
	}
	if n := f["notifications"]; n != nil && n.kind != kNull {
		if nf := p.object(n, "notifications", notificationKeys); nf != nil {
			c.Notifications.From = p.str(nf["from"], "notifications.from")
			c.Notifications.Failures = p.strings(nf["failures"], "notifications.failures")
		}
	}
	return c
}

func (p *parser) repository(n *node, path string) Repository {
	var r Repository
	f := p.object(n, path, repositoryKeys)
	if f == nil {
		return r
	}
	r.Provider = p.str(f["provider"], path+".provider")
	r.Repository = p.str(f["repository"], path+".repository")
	r.CloneURL = p.str(f["cloneUrl"], path+".cloneUrl")
	r.Branches = p.strings(f["branches"], path+".branches")
	r.Tags = p.strings(f["tags"], path+".tags")
	r.Paths = p.strings(f["paths"], path+".paths")
	r.IgnorePaths = p.strings(f["ignorePaths"], path+".ignorePaths")
	if n := f["pullRequests"]; n != nil && n.kind != kNull {
		pp := path + ".pullRequests"
		r.PullRequests = &PullRequests{}
		if pf := p.object(n, pp, pullRequestKeys); pf != nil {
			r.PullRequests.Branches = p.strings(pf["branches"], pp+".branches")
			r.PullRequests.Forks = p.boolean(pf["forks"], pp+".forks")
			r.PullRequests.Stages = p.strings(pf["stages"], pp+".stages")
		}
	}
	r.Statuses = p.boolPtr(f["statuses"], path+".statuses")
	r.APIURL = p.str(f["apiUrl"], path+".apiUrl")
	return r
}

func (p *parser) stage(n *node, path string) Stage {
	var s Stage
	f := p.object(n, path, stageKeys, deprecatedStageKeys...)
	if f == nil {
		return s
	}
	s.Name = p.str(f["name"], path+".name")
	// The validator reports build keys set on other kinds of stage, but a
	// zero timeout reads as unset there.
	timeoutMsg := outOfRange(buildTimeoutRange)
	switch {
	case present(f["approval"]):
		timeoutMsg = func(string) string { return approvalStageTimeout }
	case present(f["actions"]):
		timeoutMsg = func(string) string { return onlyBuilds("timeout") + actionsHint }
	case present(f["deploy"]):
		timeoutMsg = func(string) string { return onlyBuilds("timeout") }
	}
	s.Build = p.build(f, path, timeoutMsg)
	s.Input = p.str(f["input"], path+".input")
	if a := f["approval"]; present(a) {
		ap := path + ".approval"
		s.Approval = &Approval{}
		if af := p.object(a, ap, approvalKeys); af != nil {
			s.Approval.Approvers = p.strings(af["approvers"], ap+".approvers")
			if t := af["timeout"]; present(t) {
				s.Approval.Timeout = p.duration(t, ap+".timeout", outOfRange(approvalTimeoutRange))
			}
		}
	}
	if a := f["actions"]; present(a) {
		ap := path + ".actions"
		if a.kind != kArray {
			p.add(ap, "must be an array of actions, got "+a.kind.String())
		}
		s.Actions = make([]Action, 0, len(a.items)) // [] is set, and invalid
		for i, it := range a.items {
			s.Actions = append(s.Actions, p.action(it, indexPath(ap, i)))
		}
	}
	if d := f["deploy"]; present(d) {
		dp := path + ".deploy"
		s.Deploy = &Deploy{}
		if df := p.object(d, dp, deployKeys); df != nil {
			if c := df["codedeploy"]; present(c) {
				cp := dp + ".codedeploy"
				s.Deploy.CodeDeploy = &CodeDeploy{}
				if cf := p.object(c, cp, codeDeployKeys); cf != nil {
					s.Deploy.CodeDeploy.Application = p.str(cf["application"], cp+".application")
					s.Deploy.CodeDeploy.DeploymentGroup = p.str(cf["deploymentGroup"], cp+".deploymentGroup")
					s.Deploy.CodeDeploy.Input = p.str(cf["input"], cp+".input")
				}
			}
		}
	}
	return s
}

func (p *parser) action(n *node, path string) Action {
	var a Action
	f := p.object(n, path, actionKeys)
	if f == nil {
		return a
	}
	a.Name = p.str(f["name"], path+".name")
	a.Build = p.build(f, path, outOfRange(buildTimeoutRange))
	return a
}

// build reads the keys a build stage and an action share (not the
// deprecated input, which actions do not have).
func (p *parser) build(f map[string]*node, path string, timeoutMsg func(string) string) Build {
	var b Build
	b.Buildspec = p.str(f["buildspec"], path+".buildspec")
	if t := f["timeout"]; present(t) {
		b.Timeout = p.duration(t, path+".timeout", timeoutMsg)
	}
	if e := f["environment"]; present(e) {
		ep := path + ".environment"
		if e.kind != kObject {
			p.add(ep, "must be an object of name: value strings, got "+e.kind.String())
		} else if len(e.keys) > 0 {
			b.Environment = make(map[string]string, len(e.keys))
			for _, k := range e.keys {
				b.Environment[k] = p.str(e.fields[k], keyPath(ep, k))
			}
		}
	}
	b.ComputeType = p.str(f["computeType"], path+".computeType")
	b.Inputs = p.strings(f["inputs"], path+".inputs")
	b.Secrets = p.strings(f["secrets"], path+".secrets")
	b.Privileged = p.boolean(f["privileged"], path+".privileged")
	b.Image = p.str(f["image"], path+".image")
	return b
}

func present(n *node) bool { return n != nil && n.kind != kNull }

// under reports whether path is, or is inside, the path of one of errs:
// a value of the wrong type is reported once, not again as invalid.
func under(errs Errors, path string) bool {
	for _, e := range errs {
		if e.Path == "config" {
			return true
		}
		if path == e.Path || strings.HasPrefix(path, e.Path+".") || strings.HasPrefix(path, e.Path+"[") {
			return true
		}
	}
	return false
}
