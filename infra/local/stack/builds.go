package stack

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/pushline/pushline/infra/codebuild"
	"github.com/pushline/pushline/shared/config"
)

// runnerOptions configures the CodeBuild runner: builds under
// <data dir>/builds, in the bubblewrap sandbox when it works here (the data
// dir and the secrets file hidden, the host read-only but for the build's own
// folders and o.SandboxWritable), else unconfined with a warning on the
// console; each build stage's and action's secrets and privileged mode;
// secrets from PUSHLINE_SECRETS_FILE.
func (s *Stack) runnerOptions() codebuild.Options {
	o := s.o
	ro := codebuild.Options{
		Dir: filepath.Join(o.DataDir, "builds"), Objects: s.objects, Log: s.console.buildOutput(), Label: buildLabel, Logger: o.Logger,
		Region: Region, Account: Account, LogsBaseURL: s.httpURL + "/builds/",
		Hide: []string{o.DataDir},
	}
	// per project (<pipeline>-<stage or action>): the secrets it may read,
	// privileged mode; the secrets file stays out of the builds' sight
	ro.Projects = map[string]codebuild.Project{}
	for _, st := range s.cfg.Stages {
		builds := map[string]config.Build{st.Name: st.Build}
		for _, a := range st.Actions {
			builds[a.Name] = a.Build
		}
		for name, b := range builds {
			if b.Buildspec == "" {
				continue
			}
			project := s.cfg.Name + "-" + name
			ro.Projects[project] = codebuild.Project{Secrets: b.Secrets, Privileged: b.Privileged, Environment: map[string]string{
				// the build's own report group, as the AWS stack gives it
				"PUSHLINE_REPORT_GROUP": "arn:aws:codebuild:" + Region + ":" + Account + ":report-group/" + project,
			}}
		}
	}
	if f := os.Getenv("PUSHLINE_SECRETS_FILE"); f != "" {
		if abs, err := filepath.Abs(f); err == nil {
			f = abs
		}
		ro.SecretsFile = f
		ro.Hide = append(ro.Hide, f)
	}
	writable := o.SandboxWritable
	if writable == nil {
		writable = filepath.SplitList(os.Getenv("PUSHLINE_SANDBOX_WRITABLE"))
	}
	for _, w := range writable {
		if w == "" {
			continue
		}
		abs, err := filepath.Abs(w)
		if err == nil {
			err = os.MkdirAll(abs, 0o755) // a missing folder could not be bound
		}
		if err != nil {
			o.Logger.Warn("stack: sandbox writable folder", "path", w, "err", err)
			continue
		}
		ro.Writable = append(ro.Writable, abs)
	}
	// builds share the host's network unless PUSHLINE_SANDBOX_NETWORK=off
	ro.NoNetwork = os.Getenv("PUSHLINE_SANDBOX_NETWORK") == "off"
	bwrap, err := codebuild.FindBwrap()
	if err != nil {
		fmt.Fprintf(o.Out, "WARNING: builds are not sandboxed: %v. They run as this user and can read %s (webhook secret, approval key, states.db) and the secrets file; builds of fork pull requests are refused.\n", err, o.DataDir)
		return ro
	}
	ro.Bwrap = bwrap
	return ro
}
