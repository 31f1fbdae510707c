package config

import (
	"fmt"
	"maps"
	"net/mail"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/pushline/pushline/shared/glob"
	"github.com/pushline/pushline/shared/push"
)

var (
	// A pipeline name becomes part of AWS resource names (state machine,
	// event bus, CodeBuild projects, functions, roles): short, lowercase.
	pipelineNameRE = regexp.MustCompile(`^[a-z][a-z0-9-]{0,31}$`)
	// A stage name becomes a state name, part of a CodeBuild project name,
	// an artifact file name and a definition placeholder.
	stageNameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,31}$`)
	envNameRE   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	repoPartRE  = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)
)

const (
	pipelineNameRule = `1 to 32 lowercase letters, digits and '-', starting with a letter, not ending with '-'`
	stageNameRule    = `1 to 32 letters, digits, '-' and '_', starting with a letter`
)

// Providers lists the providers a repository may name.
var Providers = []string{push.GitHub, push.GitLab, push.Bitbucket, push.Gitea}

// Modes lists the allowed modes.
var Modes = []string{ModeSuperseded, ModeParallel, ModeQueued}

// ComputeTypes lists the CodeBuild compute types a stage may ask for.
var ComputeTypes = []string{
	"BUILD_GENERAL1_SMALL", "BUILD_GENERAL1_MEDIUM", "BUILD_GENERAL1_LARGE",
	"BUILD_GENERAL1_XLARGE", "BUILD_GENERAL1_2XLARGE",
	"BUILD_LAMBDA_1GB", "BUILD_LAMBDA_2GB", "BUILD_LAMBDA_4GB", "BUILD_LAMBDA_8GB", "BUILD_LAMBDA_10GB",
}

// validate checks the values of a config whose shape is right, collecting
// every problem.
func validate(c *Config) Errors {
	v := &validator{}
	v.name(c.Name)
	v.repositories(c.Repositories)
	if c.Mode != "" && !slices.Contains(Modes, c.Mode) {
		v.add("mode", quote(c.Mode)+" is not a mode (allowed: "+strings.Join(Modes, ", ")+")")
	}
	v.stages(c.Stages)
	v.notifications(c)
	return v.errs
}

type validator struct{ errs Errors }

func (v *validator) add(path, msg string) { v.errs = append(v.errs, FieldError{Path: path, Msg: msg}) }

func (v *validator) name(n string) {
	switch {
	case n == "":
		v.add("name", "required ("+pipelineNameRule+")")
	case !pipelineNameRE.MatchString(n) || strings.HasSuffix(n, "-"):
		v.add("name", quote(n)+" is not a valid pipeline name ("+pipelineNameRule+"; it becomes part of AWS resource names)")
	}
}

func (v *validator) repositories(repos []Repository) {
	if len(repos) == 0 {
		v.add("repositories", "required: at least one repository")
		return
	}
	seen := map[string]int{}
	for i, r := range repos {
		p := indexPath("repositories", i)
		switch {
		case r.Provider == "":
			v.add(p+".provider", "required (allowed: "+strings.Join(Providers, ", ")+")")
		case !slices.Contains(Providers, r.Provider):
			v.add(p+".provider", quote(r.Provider)+" is not a provider (allowed: "+strings.Join(Providers, ", ")+")")
		}
		switch {
		case r.Repository == "":
			v.add(p+".repository", `required (the full name, e.g. "acme/app"; GitLab: "group/subgroup/app")`)
		case !validRepository(r.Repository):
			v.add(p+".repository", quote(r.Repository)+` is not a full repository name (allowed: "owner/name"; GitLab: "group/subgroup/name"; letters, digits, '.', '-', '_')`)
		default:
			k := r.Provider + "\x00" + strings.ToLower(r.Repository)
			if j, ok := seen[k]; ok {
				v.add(p+".repository", fmt.Sprintf("%s duplicates repositories[%d] (each repository once; list all its branches there)", quote(r.Repository), j))
			} else {
				seen[k] = i
			}
		}
		if r.CloneURL != "" && !validCloneURL(r.CloneURL) {
			v.add(p+".cloneUrl", quote(r.CloneURL)+" is not supported (allowed: an https://, http:// or file:// URL, or an absolute path)")
		}
		v.globs(p+".branches", r.Branches)
		v.globs(p+".tags", r.Tags)
		v.globs(p+".paths", r.Paths)
		v.globs(p+".ignorePaths", r.IgnorePaths)
	}
}

func validRepository(s string) bool {
	parts := strings.Split(s, "/")
	if len(parts) < 2 || len(s) > 255 {
		return false
	}
	for _, part := range parts {
		if !repoPartRE.MatchString(part) || part == "." || part == ".." {
			return false
		}
	}
	return true
}

func validCloneURL(s string) bool {
	if strings.HasPrefix(s, "/") {
		return path.Clean(s) != "/"
	}
	u, err := url.Parse(s)
	if err != nil {
		return false
	}
	switch u.Scheme {
	case "https", "http":
		return u.Host != ""
	case "file":
		return u.Host == "" && strings.HasPrefix(u.Path, "/") && u.Path != "/"
	}
	return false
}

func (v *validator) globs(p string, patterns []string) {
	for i, s := range patterns {
		if _, err := glob.Compile(s); err != nil {
			// glob errors read `bad glob pattern "x": why`; keep the why.
			why := strings.TrimPrefix(err.Error(), glob.ErrBadPattern.Error())
			why = strings.TrimPrefix(why, " "+fmt.Sprintf("%q", s))
			why = strings.TrimPrefix(why, ": ")
			v.add(indexPath(p, i), "bad glob "+quote(s)+": "+why+
				` (allowed: * within a path segment, ** across segments, ? one character, \ escapes)`)
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
	byName := map[string]int{} // lower(name) -> index
	byKey := map[string]int{}  // lower(ProjectKey-like key) -> index
	builds := 0
	for i, s := range stages {
		p := indexPath("stages", i)
		switch {
		case s.Name == "":
			v.add(p+".name", "required ("+stageNameRule+")")
		case !stageNameRE.MatchString(s.Name):
			v.add(p+".name", quote(s.Name)+" is not a valid stage name ("+stageNameRule+"; it names a state, a CodeBuild project and an artifact)")
		case strings.EqualFold(s.Name, SourceInput):
			v.add(p+".name", quote(s.Name)+" is reserved for the source step (choose another name)")
		default:
			low := strings.ToLower(s.Name)
			key := strings.ToLower(StageKey(s.Name))
			if j, ok := byName[low]; ok {
				v.add(p+".name", fmt.Sprintf("%s duplicates stages[%d] %s (stage names must be unique, ignoring case)", quote(s.Name), j, quote(stages[j].Name)))
			} else if j, ok := byKey[key]; ok {
				v.add(p+".name", fmt.Sprintf("%s collides with stages[%d] %s (names must differ in more than '-', '_' and case)", quote(s.Name), j, quote(stages[j].Name)))
			} else {
				byName[low], byKey[key] = i, i
			}
		}
		switch {
		case s.Buildspec != "" && s.Approval != nil:
			v.add(p, "both buildspec and approval (a stage is a build, with a buildspec, or an approval, with approval, not both)")
			continue
		case s.Buildspec == "" && s.Approval == nil:
			v.add(p, "neither buildspec nor approval (a stage is a build, with a buildspec, or an approval, with approval)")
			continue
		case s.Approval != nil:
			v.approval(p, s)
		default:
			builds++
			v.build(p, i, s, stages)
		}
	}
	if builds == 0 {
		v.add("stages", "no build stage (allowed: at least one stage with a buildspec)")
	}
}

// The ranges of timeouts, as error messages give them (MinBuildTimeout
// to MaxBuildTimeout, MinApprovalTimeout to MaxApprovalTimeout).
const (
	buildTimeoutRange    = "5m to 36h, CodeBuild's limits"
	approvalTimeoutRange = "1m to 8760h, one year"
	approvalStageTimeout = "only build stages have timeout (an approval's is approval.timeout)"
)

func (v *validator) approval(p string, s Stage) {
	for _, f := range []struct {
		set  bool
		name string
	}{{s.Timeout.Duration != 0, "timeout"}, {s.Environment != nil, "environment"}, {s.ComputeType != "", "computeType"}, {s.Input != "", "input"}} {
		if f.set {
			msg := "only build stages have " + f.name
			if f.name == "timeout" {
				msg = approvalStageTimeout
			}
			v.add(p+"."+f.name, msg)
		}
	}
	a := s.Approval
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

func (v *validator) build(p string, i int, s Stage, stages []Stage) {
	if bs := s.Buildspec; strings.HasPrefix(bs, "/") || strings.Contains(bs, "\\") || hasDotDot(bs) || strings.ContainsAny(bs, "\n\r\x00") {
		v.add(p+".buildspec", quote(bs)+` must be a path inside the repository (e.g. "buildspec.yml", "ci/test.yml")`)
	}
	if d := s.Timeout.Duration; d != 0 {
		switch {
		case d < MinBuildTimeout || d > MaxBuildTimeout:
			v.add(p+".timeout", quote(s.Timeout.String())+" is out of range (allowed: "+buildTimeoutRange+")")
		case d%time.Minute != 0:
			v.add(p+".timeout", quote(s.Timeout.String())+" is not a whole number of minutes (CodeBuild timeouts are in minutes)")
		}
	}
	if s.ComputeType != "" && !slices.Contains(ComputeTypes, s.ComputeType) {
		v.add(p+".computeType", quote(s.ComputeType)+" is not a CodeBuild compute type (allowed: "+strings.Join(ComputeTypes, ", ")+")")
	}
	for _, k := range slices.Sorted(maps.Keys(s.Environment)) {
		kp := keyPath(p+".environment", k)
		up := strings.ToUpper(k)
		switch {
		case !envNameRE.MatchString(k):
			v.add(kp, "invalid variable name (allowed: letters, digits and '_', not starting with a digit)")
		case strings.HasPrefix(up, "CODEBUILD_") || strings.HasPrefix(up, "PUSHLINE_"):
			v.add(kp, "reserved name (CodeBuild sets CODEBUILD_* and pushline sets PUSHLINE_* variables)")
		case strings.Contains(s.Environment[k], placeholderStart):
			v.add(kp, noPlaceholder)
		}
	}
	if s.Input != "" {
		v.input(p+".input", i, s.Input, stages)
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

func (v *validator) input(p string, i int, in string, stages []Stage) {
	allowed := []string{SourceInput}
	for _, s := range stages[:i] {
		if s.Approval == nil && s.Buildspec != "" {
			allowed = append(allowed, s.Name)
		}
	}
	rule := " (allowed: " + strings.Join(allowed, ", ") + ": the source snapshot or an earlier build stage)"
	if slices.Contains(allowed, in) {
		return
	}
	for j, s := range stages {
		if s.Name != in {
			continue
		}
		switch {
		case j == i:
			v.add(p, quote(in)+" is the stage itself"+rule)
		case j > i:
			v.add(p, quote(in)+" is a later stage"+rule)
		default:
			v.add(p, quote(in)+" is an approval stage, which has no artifact"+rule)
		}
		return
	}
	v.add(p, quote(in)+" is not a stage"+rule)
}

func (v *validator) notifications(c *Config) {
	n := c.Notifications
	if n.From != "" {
		if a, err := mail.ParseAddress(n.From); err != nil || !strings.Contains(a.Address, "@") {
			v.add("notifications.from", quote(n.From)+` is not an email address (allowed: "pushline@example.com" or "Pushline <pushline@example.com>")`)
		}
	} else {
		approvals := false
		for _, s := range c.Stages {
			approvals = approvals || s.Approval != nil
		}
		if approvals || len(n.Failures) > 0 {
			v.add("notifications.from", "required when there are approval stages or failure recipients (the sender's email address)")
		}
	}
	v.emails("notifications.failures", n.Failures)
}

// emails checks a list of bare email addresses.
func (v *validator) emails(p string, list []string) {
	seen := map[string]int{}
	for i, s := range list {
		ip := indexPath(p, i)
		if !bareEmail(s) {
			v.add(ip, quote(s)+` is not an email address (allowed: a bare address such as "ops@example.com")`)
			continue
		}
		low := strings.ToLower(s)
		if j, ok := seen[low]; ok {
			v.add(ip, fmt.Sprintf("%s duplicates %s", quote(s), indexPath(p[strings.LastIndex(p, ".")+1:], j)))
			continue
		}
		seen[low] = i
	}
}

func bareEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	return !strings.Contains(s, placeholderStart) && at > 0 && at < len(s)-1 && !strings.ContainsAny(s, " <>")
}

// StageKey is the alphanumeric form of a stage name used in placeholders
// and resource identifiers: '-' and '_' dropped, each part capitalized
// ("deploy-prod" → "DeployProd"). Valid configs have no two stages with
// the same key, ignoring case. statemachine.ProjectKey builds on it.
func StageKey(name string) string {
	var b strings.Builder
	up := true
	for _, c := range name {
		if c == '-' || c == '_' {
			up = true
			continue
		}
		if up && c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		up = false
		b.WriteRune(c)
	}
	return b.String()
}
