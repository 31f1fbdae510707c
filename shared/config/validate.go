package config

import (
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strings"

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
	// A CodeCommit repository name.
	codeCommitRepoRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,100}$`)
)

const (
	pipelineNameRule = `1 to 32 lowercase letters, digits and '-', starting with a letter, not ending with '-'`
	stageNameRule    = `1 to 32 letters, digits, '-' and '_', starting with a letter`
)

// Providers lists the providers a repository may name.
var Providers = []string{push.GitHub, push.GitLab, push.Bitbucket, push.Gitea, push.CodeCommit}

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
	v.repositories(c.Repositories, c.Stages)
	if c.Mode != "" && !slices.Contains(Modes, c.Mode) {
		v.add("mode", quote(c.Mode)+" is not a mode (allowed: "+strings.Join(Modes, ", ")+")")
	}
	n := len(v.errs)
	v.stages(c.Stages)
	if len(v.errs) == n {
		for _, check := range v.prInputs {
			check()
		}
	}
	v.notifications(c)
	return v.errs
}

type validator struct {
	errs Errors
	// prInputs are checks that need valid stages (run after them).
	prInputs []func()
}

func (v *validator) add(path, msg string) { v.errs = append(v.errs, FieldError{Path: path, Msg: msg}) }

func (v *validator) name(n string) {
	switch {
	case n == "":
		v.add("name", "required ("+pipelineNameRule+")")
	case !pipelineNameRE.MatchString(n) || strings.HasSuffix(n, "-"):
		v.add("name", quote(n)+" is not a valid pipeline name ("+pipelineNameRule+"; it becomes part of AWS resource names)")
	}
}

func (v *validator) repositories(repos []Repository, stages []Stage) {
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
		case r.Provider == push.CodeCommit && !codeCommitRepoRE.MatchString(r.Repository) || r.Provider == push.CodeCommit && strings.HasSuffix(r.Repository, ".git"):
			v.add(p+".repository", quote(r.Repository)+` is not a CodeCommit repository name (allowed: 1 to 100 letters, digits, '.', '-', '_', not ending in ".git")`)
		case r.Provider != push.CodeCommit && !validRepository(r.Repository):
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
		if r.PullRequests != nil {
			v.pullRequests(p+".pullRequests", r, stages)
		}
		if r.APIURL != "" {
			switch {
			case r.Provider == push.CodeCommit:
				v.add(p+".apiUrl", "codecommit has no commit statuses API (remove apiUrl)")
			case !validAPIURL(r.APIURL):
				v.add(p+".apiUrl", quote(r.APIURL)+` is not supported (allowed: an https:// URL such as "https://git.example.com/api/v1", or http:// on a loopback host such as "http://127.0.0.1:3000/api/v1")`)
			}
		}
	}
}

func (v *validator) pullRequests(p string, r Repository, stages []Stage) {
	if r.Provider == push.CodeCommit {
		v.add(p, "not supported for codecommit (pull requests run on github, gitlab, bitbucket and gitea)")
		return
	}
	pr := r.PullRequests
	v.globs(p+".branches", pr.Branches)
	var names []string
	for _, s := range stages {
		names = append(names, s.Name)
	}
	rule := " (allowed: " + strings.Join(names, ", ") + ")"
	valid := true
	for i, n := range pr.Stages {
		ip := indexPath(p+".stages", i)
		if j := slices.Index(pr.Stages[:i], n); j >= 0 {
			v.add(ip, fmt.Sprintf("%s duplicates stages[%d]", quote(n), j))
			continue
		}
		if slices.Contains(names, n) {
			continue
		}
		valid = false
		if s, ok := stageOfAction(stages, n); ok {
			v.add(ip, quote(n)+" is an action of stage "+quote(s)+" (name the stage)"+rule)
		} else {
			v.add(ip, quote(n)+" is not a stage"+rule)
		}
	}
	if !valid {
		return
	}
	v.prInputs = append(v.prInputs, func() { v.pullRequestInputs(p, r, stages) })
}

// pullRequestInputs checks that no stage a pull request of r runs takes
// an artifact from a stage it skips (the input would be missing). It runs
// only on stages without errors of their own.
func (v *validator) pullRequestInputs(p string, r Repository, stages []Stage) {
	// A stage a pull request runs must not take an artifact from one it
	// skips: that input would be missing.
	skip := (&Config{Stages: stages}).PullRequestSkip(r)
	producer := map[string]string{} // build or action name -> its stage
	for _, b := range (&Config{Stages: stages}).Builds() {
		producer[b.Name] = b.Stage
	}
	for _, s := range stages {
		if skip[s.Name] {
			continue
		}
		var ins []string
		for _, b := range (&Config{Stages: []Stage{s}}).Builds() {
			ins = append(ins, b.Inputs...)
		}
		if s.Deploy != nil && s.Deploy.CodeDeploy != nil {
			ins = append(ins, s.Deploy.CodeDeploy.Input)
		}
		for _, in := range ins {
			if from, ok := producer[in]; ok && skip[from] {
				v.add(p+".stages", fmt.Sprintf("%s takes %s's artifact, but pull requests skip %s (run it too)", quote(s.Name), quote(in), quote(from)))
			}
		}
	}
}

// stageOfAction returns the stage that has an action called name.
func stageOfAction(stages []Stage, name string) (string, bool) {
	for _, s := range stages {
		for _, a := range s.Actions {
			if a.Name == name {
				return s.Name, true
			}
		}
	}
	return "", false
}

// validAPIURL: an https URL, or http on a loopback host (a local git
// host in tests and on the local stack); no credentials, query or fragment.
func validAPIURL(s string) bool {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return false
	}
	switch u.Scheme {
	case "https":
		return true
	case "http":
		h := u.Hostname()
		if h == "localhost" {
			return true
		}
		ip := net.ParseIP(h)
		return ip != nil && ip.IsLoopback()
	}
	return false
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
