package config

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// The ranges of timeouts, as error messages give them (MinBuildTimeout
// to MaxBuildTimeout, MinApprovalTimeout to MaxApprovalTimeout).
const (
	buildTimeoutRange    = "5m to 36h, CodeBuild's limits"
	approvalTimeoutRange = "1m to 8760h, one year"
	approvalStageTimeout = "only build stages have timeout (an approval's is approval.timeout)"
	stageKinds           = "a stage has exactly one of: buildspec (a build), approval, actions (builds that run at the same time), deploy"
	actionsHint          = " (set it on each action)"
)

func onlyBuilds(key string) string { return "only build stages and actions have " + key }

// stageKind names what a stage is, for the kind checks.
func stageKind(s Stage) []string {
	var kinds []string
	if s.Buildspec != "" {
		kinds = append(kinds, "buildspec")
	}
	if s.Approval != nil {
		kinds = append(kinds, "approval")
	}
	if s.Actions != nil {
		kinds = append(kinds, "actions")
	}
	if s.Deploy != nil {
		kinds = append(kinds, "deploy")
	}
	return kinds
}

// names is the pipeline-wide register of stage and action names: unique
// ignoring case, and ignoring '-', '_' and case (StageKey), since they
// name states, CodeBuild projects, artifacts and source identifiers.
type names struct {
	byName map[string]string // lower(name) -> where ("stages[0] \"Build\"")
	byKey  map[string]string
}

func (v *validator) register(n *names, p, name, what string) {
	switch {
	case name == "":
		v.add(p, "required ("+stageNameRule+")")
	case !stageNameRE.MatchString(name):
		v.add(p, quote(name)+" is not a valid "+what+" name ("+stageNameRule+"; it names a state, a CodeBuild project and an artifact)")
	case strings.EqualFold(name, SourceInput):
		v.add(p, quote(name)+" is reserved for the source step (choose another name)")
	default:
		low, key := strings.ToLower(name), strings.ToLower(StageKey(name))
		where := strings.TrimSuffix(p, ".name") + " " + quote(name)
		if w, ok := n.byName[low]; ok {
			v.add(p, fmt.Sprintf("%s duplicates %s (stage and action names must be unique, ignoring case)", quote(name), w))
		} else if w, ok := n.byKey[key]; ok {
			v.add(p, fmt.Sprintf("%s collides with %s (names must differ in more than '-', '_' and case)", quote(name), w))
		} else {
			n.byName[low], n.byKey[key] = where, where
		}
	}
}

func (v *validator) stages(stages []Stage) {
	if len(stages) == 0 {
		v.add("stages", "required: at least one stage, of which one build stage (with a buildspec)")
		return
	}
	if len(stages) > MaxStages {
		v.add("stages", fmt.Sprintf("%d stages (allowed: at most %d)", len(stages), MaxStages))
	}
	reg := &names{byName: map[string]string{}, byKey: map[string]string{}}
	builds := 0
	for i, s := range stages {
		p := indexPath("stages", i)
		v.register(reg, p+".name", s.Name, "stage")
		for j, a := range s.Actions {
			v.register(reg, indexPath(p+".actions", j)+".name", a.Name, "action")
		}
		switch kinds := stageKind(s); {
		case len(kinds) > 1:
			v.add(p, strings.Join(kinds, " and ")+" together ("+stageKinds+")")
		case len(kinds) == 0:
			v.add(p, "none of buildspec, approval, actions, deploy ("+stageKinds+")")
		case kinds[0] == "approval":
			v.notBuild(p, s, approvalStageTimeout, "")
			v.approval(p, s.Approval)
		case kinds[0] == "actions":
			builds++
			v.notBuild(p, s, onlyBuilds("timeout")+actionsHint, actionsHint)
			v.actions(p, i, s, stages)
		case kinds[0] == "deploy":
			v.notBuild(p, s, onlyBuilds("timeout"), "")
			v.deploy(p+".deploy", i, s.Deploy, stages)
		default:
			builds++
			v.build(p, i, s.Name, s.Build, stages)
			if s.Input != "" {
				if len(s.Inputs) > 0 {
					v.add(p+".input", "set with inputs (input is deprecated: list its value in inputs)")
				} else if s.Input != SourceInput {
					v.ref(p+".input", i, s.Name, s.Input, stages)
				}
			}
		}
	}
	if builds == 0 {
		v.add("stages", "no build stage (allowed: at least one stage with a buildspec or actions)")
	}
}

// notBuild reports the build keys set on a stage that is not a build.
func (v *validator) notBuild(p string, s Stage, timeoutMsg, hint string) {
	b := s.Build
	for _, f := range []struct {
		set  bool
		name string
	}{
		{b.Timeout.Duration != 0, "timeout"}, {b.Environment != nil, "environment"}, {b.ComputeType != "", "computeType"},
		{b.Inputs != nil, "inputs"}, {b.Input != "", "input"}, {b.Secrets != nil, "secrets"},
		{b.Privileged, "privileged"}, {b.Image != "", "image"},
	} {
		switch {
		case !f.set:
		case f.name == "timeout":
			v.add(p+".timeout", timeoutMsg)
		default:
			v.add(p+"."+f.name, onlyBuilds(f.name)+hint)
		}
	}
}

func (v *validator) approval(p string, a *Approval) {
	ap := p + ".approval"
	if len(a.Approvers) == 0 {
		v.add(ap+".approvers", "required: at least one email address")
	}
	v.emails(ap+".approvers", a.Approvers)
	if d := a.Timeout.Duration; d != 0 {
		switch {
		case d < MinApprovalTimeout || d > MaxApprovalTimeout:
			v.add(ap+".timeout", quote(a.Timeout.String())+" is out of range (allowed: "+approvalTimeoutRange+")")
		case d%time.Second != 0:
			v.add(ap+".timeout", quote(a.Timeout.String())+" is not a whole number of seconds")
		}
	}
}

func (v *validator) actions(p string, i int, s Stage, stages []Stage) {
	ap := p + ".actions"
	switch {
	case len(s.Actions) == 0:
		v.add(ap, `required: at least one action ({"name": …, "buildspec": …})`)
	case len(s.Actions) > MaxActions:
		v.add(ap, fmt.Sprintf("%d actions (allowed: at most %d)", len(s.Actions), MaxActions))
	}
	for j, a := range s.Actions {
		p := indexPath(ap, j)
		if a.Buildspec == "" {
			v.add(p+".buildspec", `required (a path in the commit, e.g. "ci/lint.yml")`)
		}
		v.build(p, i, a.Name, a.Build, stages)
	}
}

func (v *validator) build(p string, i int, name string, b Build, stages []Stage) {
	if bs := b.Buildspec; strings.HasPrefix(bs, "/") || strings.Contains(bs, "\\") || hasDotDot(bs) || strings.ContainsAny(bs, "\n\r\x00") {
		v.add(p+".buildspec", quote(bs)+` must be a path inside the repository (e.g. "buildspec.yml", "ci/test.yml")`)
	}
	if d := b.Timeout.Duration; d != 0 {
		switch {
		case d < MinBuildTimeout || d > MaxBuildTimeout:
			v.add(p+".timeout", quote(b.Timeout.String())+" is out of range (allowed: "+buildTimeoutRange+")")
		case d%time.Minute != 0:
			v.add(p+".timeout", quote(b.Timeout.String())+" is not a whole number of minutes (CodeBuild timeouts are in minutes)")
		}
	}
	if b.ComputeType != "" && !slices.Contains(ComputeTypes, b.ComputeType) {
		v.add(p+".computeType", quote(b.ComputeType)+" is not a CodeBuild compute type (allowed: "+strings.Join(ComputeTypes, ", ")+")")
	}
	for _, k := range slices.Sorted(maps.Keys(b.Environment)) {
		kp := keyPath(p+".environment", k)
		up := strings.ToUpper(k)
		switch {
		case !envNameRE.MatchString(k):
			v.add(kp, "invalid variable name (allowed: letters, digits and '_', not starting with a digit)")
		case strings.HasPrefix(up, "CODEBUILD_") || strings.HasPrefix(up, "PUSHLINE_"):
			v.add(kp, "reserved name (CodeBuild sets CODEBUILD_* and pushline sets PUSHLINE_* variables)")
		case strings.Contains(b.Environment[k], placeholderStart):
			v.add(kp, noPlaceholder)
		}
	}
	if len(b.Inputs) > MaxInputs {
		v.add(p+".inputs", fmt.Sprintf("%d inputs (allowed: at most %d, CodeBuild's secondary sources)", len(b.Inputs), MaxInputs))
	}
	for j, in := range b.Inputs {
		ip := indexPath(p+".inputs", j)
		if k := slices.Index(b.Inputs[:j], in); k >= 0 {
			v.add(ip, fmt.Sprintf("%s duplicates inputs[%d]", quote(in), k))
			continue
		}
		v.ref(ip, i, name, in, stages)
	}
	if strings.HasPrefix(b.ComputeType, "BUILD_LAMBDA_") {
		if b.Privileged {
			v.add(p+".privileged", "not with Lambda compute ("+b.ComputeType+" has no privileged mode; use a BUILD_GENERAL1_* compute type)")
		}
		if b.Image != "" {
			v.add(p+".image", "not with Lambda compute ("+b.ComputeType+" runs CodeBuild's Lambda images only; use a BUILD_GENERAL1_* compute type)")
		}
	}
	v.secrets(p+".secrets", b.Secrets)
	if b.Image != "" && !imageRE.MatchString(b.Image) {
		v.add(p+".image", quote(b.Image)+` is not an image (allowed: a CodeBuild image such as "aws/codebuild/standard:7.0", or a registry image such as "public.ecr.aws/docker/library/golang:1.24")`)
	}
}

func hasDotDot(p string) bool {
	for _, seg := range strings.Split(p, "/") {
		if seg == ".." {
			return true
		}
	}
	return false
}

// ref checks that in, used by the build (stage or action) called self in
// stages[i], names an earlier build stage or action: one whose artifact
// exists by the time self runs.
func (v *validator) ref(p string, i int, self, in string, stages []Stage) {
	var allowed []string
	for _, s := range stages[:i] {
		switch {
		case s.IsParallel():
			for _, a := range s.Actions {
				if a.Name != "" {
					allowed = append(allowed, a.Name)
				}
			}
		case s.Name == "" || s.Buildspec == "" || s.Approval != nil || s.Deploy != nil:
		default:
			allowed = append(allowed, s.Name)
		}
	}
	if slices.Contains(allowed, in) {
		return
	}
	rule := " (allowed: none yet: only earlier build stages and actions have artifacts)"
	if len(allowed) > 0 {
		rule = " (allowed: " + strings.Join(allowed, ", ") + ": earlier build stages and actions)"
	}
	if strings.EqualFold(in, SourceInput) {
		v.add(p, quote(in)+" is the commit's snapshot, already every build's primary source"+rule)
		return
	}
	for j, s := range stages {
		if s.Name == in {
			var why string
			switch {
			case in == self:
				why = "the stage itself"
			case j == i:
				why = "the action's own stage"
			case j > i:
				why = "a later stage"
			case s.IsApproval():
				why = "an approval stage, which has no artifact"
			case s.IsDeploy():
				why = "a deploy stage, which has no artifact"
			case s.IsParallel():
				var as []string
				for _, a := range s.Actions {
					as = append(as, a.Name)
				}
				why = "a stage of actions, each with its own artifact (name one: " + strings.Join(as, ", ") + ")"
			}
			v.add(p, quote(in)+" is "+why+rule)
			return
		}
		for _, a := range s.Actions {
			if a.Name != in {
				continue
			}
			switch {
			case in == self:
				v.add(p, quote(in)+" is the action itself"+rule)
			case j == i:
				v.add(p, quote(in)+" is an action of the same stage, which runs at the same time"+rule)
			default:
				v.add(p, quote(in)+" is an action of a later stage"+rule)
			}
			return
		}
	}
	v.add(p, quote(in)+" is not a stage or action"+rule)
}

func (v *validator) deploy(p string, i int, d *Deploy, stages []Stage) {
	if d.CodeDeploy == nil {
		v.add(p+".codedeploy", `required (the deploy provider: {"application", "deploymentGroup", "input"})`)
		return
	}
	c, cp := d.CodeDeploy, p+".codedeploy"
	for _, f := range []struct{ key, val, what string }{
		{"application", c.Application, "a CodeDeploy application name"},
		{"deploymentGroup", c.DeploymentGroup, "a CodeDeploy deployment group name"},
	} {
		switch {
		case f.val == "":
			v.add(cp+"."+f.key, "required ("+f.what+")")
		case !codeDeployNameRE.MatchString(f.val):
			v.add(cp+"."+f.key, quote(f.val)+" is not "+f.what+" (allowed: 1 to 100 letters, digits and . _ + = , @ -)")
		}
	}
	if c.Input == "" {
		v.add(cp+".input", "required (the build stage or action whose artifact, a zip holding appspec.yml, is deployed)")
		return
	}
	v.ref(cp+".input", i, stages[i].Name, c.Input, stages)
}
