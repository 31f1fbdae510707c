package codebuild

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pushline/pushline/infra/codebuild/buildspec"
)

// lineWriter serializes whole lines from concurrent builds onto one writer.
type lineWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lineWriter) line(prefix, s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, _ = io.WriteString(l.w, prefix+s+"\n")
}

// execution is one build being run.
type execution struct {
	r    *Runner
	rn   *run
	in   StartBuildInput
	ctx  context.Context
	uuid string

	status string // the build's status so far
	srcDir string
	tmpDir string // TMPDIR of the build
	ctlDir string // the runner's own files: command files, exported values
	env    []string
	spec   *buildspec.Spec
	shell  string

	sessMu sync.Mutex
	sess   *session

	secrets map[string]string                // secret variables' values
	masker  atomic.Pointer[strings.Replacer] // hides them in the log

	outR, outW *os.File // build output pipe (shared by the shell and the runner's own messages)
	logFile    *os.File
	outDone    chan struct{}
}

// The markers the runner writes into the output pipe, in band so they stay
// ordered with the commands' output.
const (
	markPhase = "\x00P"
	markMsg   = "\x00M" // to the log and the console
	markNote  = "\x00N" // to the log only
)

func (x *execution) execute() {
	x.status = StatusSucceeded
	defer x.closeOutput()
	if err := x.openOutput(); err != nil {
		x.r.log.Error("codebuild: open build log", "build", x.rn.build.Id, "err", err)
		x.endPhase(StatusFault, PhaseContext{StatusCode: "CLIENT_ERROR", Message: "cannot open the build log"})
		x.status = StatusFault
		x.finish()
		return
	}

	x.endPhase(StatusSucceeded) // SUBMITTED
	x.beginPhase(PhaseQueued)
	if x.r.slots != nil {
		select {
		case x.r.slots <- struct{}{}:
			defer func() { <-x.r.slots }()
		case <-x.ctx.Done():
			x.interruptPhase(context.Cause(x.ctx))
			x.finish()
			return
		}
	}
	x.endPhase(StatusSucceeded)

	x.beginPhase(PhaseProvisioning)
	if err := x.provision(); err != nil {
		x.fail(StatusFailed, "CLIENT_ERROR", err.Error())
		x.finish()
		return
	}
	if err := x.checkPrivileged(); err != nil {
		x.fail(StatusFailed, "CLIENT_ERROR", err.Error())
		x.finish()
		return
	}
	x.endPhase(StatusSucceeded)

	x.beginPhase(PhaseDownloadSource)
	if code, err := x.downloadSource(); err != nil {
		if cause := x.interrupted(); cause != nil {
			x.interruptPhase(cause)
		} else {
			x.fail(StatusFailed, code, err.Error())
		}
		x.finish()
		return
	}
	x.endPhase(StatusSucceeded)

	upload := x.runPhases()
	if cause := x.interrupted(); cause != nil {
		x.status, _, _ = interruption(cause, x.rn.build.TimeoutInMinutes)
		x.finish()
		return
	}
	x.captureExported()
	x.processReports()
	if upload {
		x.beginPhase(PhaseUploadArtifacts)
		if err := x.uploadArtifacts(); err != nil {
			if cause := x.interrupted(); cause != nil {
				x.interruptPhase(cause)
			} else {
				x.fail(StatusFailed, "CLIENT_ERROR", err.Error())
			}
		} else {
			if x.status == StatusSucceeded {
				x.saveCache()
			}
			x.endPhase(StatusSucceeded)
		}
	}
	x.finish()
}

// interrupted says why the build must stop now (stopped, timed out, shut down), or nil.
func (x *execution) interrupted() error {
	if x.ctx.Err() == nil {
		return nil
	}
	return context.Cause(x.ctx)
}

// fail ends the current phase with a failure and sets the build's status.
func (x *execution) fail(status, code, msg string) {
	msg = x.mask(msg)
	x.message(fmt.Sprintf("Phase context status code: %s Message: %s", code, msg))
	x.endPhase(status, PhaseContext{StatusCode: code, Message: msg})
	if x.status == StatusSucceeded || status != StatusFailed {
		x.status = status
	}
}

// interruptPhase ends the current phase because of an interruption.
func (x *execution) interruptPhase(cause error) {
	status, code, msg := interruption(cause, x.rn.build.TimeoutInMinutes)
	x.fail(status, code, msg)
}

func interruption(cause error, timeout int) (status, code, msg string) {
	switch {
	case errors.Is(cause, errTimedOut):
		return StatusTimedOut, "BUILD_TIMED_OUT", fmt.Sprintf("Build has timed out after %d minutes; its processes were killed", timeout)
	case errors.Is(cause, errStopped):
		return StatusStopped, "BUILD_STOPPED", "Build was stopped; its processes were killed"
	default:
		return StatusFault, "BUILD_INTERRUPTED", "the local stack stopped during the build; its processes were killed"
	}
}

// finish runs FINALIZING and COMPLETED.
func (x *execution) finish() {
	x.beginPhase(PhaseFinalizing)
	x.sessMu.Lock()
	if x.sess != nil {
		x.sess.close()
	}
	x.sessMu.Unlock()
	if !x.r.o.KeepWorkDirs {
		for _, d := range workDirs {
			if err := removeAll(filepath.Join(x.rn.dir, d)); err != nil {
				x.r.log.Warn("codebuild: remove work folder", "build", x.rn.build.Id, "err", err)
			}
		}
	}
	x.endPhase(StatusSucceeded)
	now := time.Now()
	rn := x.rn
	rn.mu.Lock()
	b := rn.build
	b.Phases = append(b.Phases, Phase{PhaseType: PhaseCompleted, StartTime: newTime(now)})
	b.CurrentPhase = PhaseCompleted
	b.BuildStatus = x.status
	b.BuildComplete = true
	b.EndTime = newTime(now)
	rn.pgid = 0
	err := x.r.save(rn)
	rn.mu.Unlock()
	if err != nil {
		x.r.log.Error("codebuild: save build", "build", b.Id, "err", err)
	}
	x.setPhaseMark(PhaseCompleted)
	x.message(fmt.Sprintf("Build %s: %s in %s", b.Id, x.status, now.Sub(timeOf(b.StartTime)).Round(time.Millisecond)))
	x.r.log.Info("codebuild: build ended", "build", b.Id, "status", x.status)
}

func (x *execution) beginPhase(phase string) {
	now := time.Now()
	x.rn.mu.Lock()
	b := x.rn.build
	b.Phases = append(b.Phases, Phase{PhaseType: phase, StartTime: newTime(now)})
	b.CurrentPhase = phase
	err := x.r.save(x.rn)
	x.rn.mu.Unlock()
	if err != nil {
		x.r.log.Error("codebuild: save build", "build", b.Id, "err", err)
	}
	x.setPhaseMark(phase)
	x.note("Entering phase " + phase)
}

func (x *execution) endPhase(status string, contexts ...PhaseContext) {
	now := time.Now()
	x.rn.mu.Lock()
	b := x.rn.build
	p := &b.Phases[len(b.Phases)-1]
	endPhase(p, now, status, contexts...)
	phase := p.PhaseType
	x.rn.mu.Unlock()
	// not saved here: the next beginPhase or finish saves it
	if phase != PhaseSubmitted && phase != PhaseQueued {
		msg := fmt.Sprintf("Phase complete: %s State: %s", phase, status)
		if status == StatusSucceeded {
			x.note(msg)
		} else {
			x.message(msg)
		}
	}
}

// openOutput creates the build log and the output pipe, and starts copying
// the pipe into the log and the console.
func (x *execution) openOutput() error {
	x.outDone = make(chan struct{})
	f, err := os.OpenFile(filepath.Join(x.rn.dir, "build.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		close(x.outDone)
		return fmt.Errorf("open build log: %w", err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		f.Close()
		close(x.outDone)
		return fmt.Errorf("output pipe: %w", err)
	}
	x.logFile, x.outR, x.outW = f, r, w
	go x.copyOutput()
	return nil
}

func (x *execution) copyOutput() {
	defer close(x.outDone)
	project := x.in.ProjectName
	if x.r.o.Label != nil {
		if l := x.r.o.Label(x.in); l != "" {
			project = l
		}
	}
	phase := PhaseSubmitted
	br := bufio.NewReaderSize(x.outR, 64<<10)
	log := bufio.NewWriter(x.logFile)
	defer log.Flush()
	raw := func(s string, complete bool) {
		s = x.mask(s)
		log.WriteString(s)
		if complete {
			log.WriteString("\n")
		}
		x.r.out.line("["+project+":"+phase+"] ", s)
	}
	for {
		chunk, err := br.ReadSlice('\n')
		if len(chunk) > 0 {
			complete := chunk[len(chunk)-1] == '\n'
			line := strings.TrimSuffix(string(chunk), "\n")
			// a marker can follow output that did not end its line
			i := markerIndex(line)
			if i > 0 {
				raw(line[:i], true)
				line = line[i:]
			}
			switch {
			case i >= 0 && line[1] == markPhase[1]:
				phase = line[len(markPhase):]
			case i >= 0:
				msg := x.mask(line[len(markMsg):])
				fmt.Fprintf(log, "[Container] %s %s\n", time.Now().UTC().Format("2006/01/02 15:04:05.000000"), msg)
				if line[1] == markMsg[1] {
					x.r.out.line("["+project+":"+phase+"] ", msg)
				}
			default:
				// a line longer than the buffer comes in pieces: whole in the
				// log, one console line per piece
				raw(line, complete || err == nil)
			}
			if br.Buffered() == 0 {
				log.Flush()
			}
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return
		}
	}
}

// markerIndex is where a runner marker starts in s, or -1.
func markerIndex(s string) int {
	for i := 0; i+1 < len(s); i++ {
		if s[i] == 0 {
			switch s[i+1] {
			case markPhase[1], markMsg[1], markNote[1]:
				return i
			}
		}
	}
	return -1
}

// closeOutput closes the runner's end of the pipe and waits for the copy to
// drain; a process that escaped the build's process group and still holds the
// pipe is not waited for long.
func (x *execution) closeOutput() {
	if x.outW == nil {
		return
	}
	x.outW.Close()
	select {
	case <-x.outDone:
	case <-time.After(2 * time.Second):
		x.outR.Close()
		<-x.outDone
	}
	x.outR.Close()
	x.logFile.Close()
}

// message writes a runner message ("[Container] <time> msg" in the log).
func (x *execution) message(msg string) {
	x.mark(markMsg + strings.ReplaceAll(msg, "\n", " "))
}

// note writes a runner message to the log only.
func (x *execution) note(msg string) {
	x.mark(markNote + strings.ReplaceAll(msg, "\n", " "))
}

func (x *execution) setPhaseMark(phase string) { x.mark(markPhase + phase) }

func (x *execution) mark(s string) {
	if x.outW == nil {
		return
	}
	if len(s) > 4000 { // keep each write atomic on the pipe
		s = s[:4000]
	}
	_, _ = x.outW.WriteString(s + "\n")
}

// provision prepares the work folder and the environment.
func (x *execution) provision() error {
	x.srcDir = filepath.Join(x.rn.dir, "src")
	x.tmpDir = filepath.Join(x.rn.dir, "tmp")
	x.ctlDir = filepath.Join(x.rn.dir, "ctl")
	for _, d := range []string{x.srcDir, x.inputDir(""), x.tmpDir, x.ctlDir, filepath.Join(x.rn.dir, "home")} {
		if err := os.RemoveAll(d); err != nil {
			return fmt.Errorf("clean work folder: %w", err)
		}
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("create work folder: %w", err)
		}
	}
	// the shell's saved state (secrets among its variables) is the build's alone
	if err := os.Chmod(x.ctlDir, 0o700); err != nil {
		return fmt.Errorf("create work folder: %w", err)
	}
	return nil
}

// buildEnv gives the build's environment: the host's (without PUSHLINE_* and
// CODEBUILD_* variables), then the buildspec's env.variables, then the
// StartBuild overrides, then CodeBuild's own variables.
func (x *execution) buildEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PUSHLINE_") || strings.HasPrefix(kv, "CODEBUILD_") || strings.HasPrefix(kv, "__CB_") {
			continue
		}
		env = append(env, kv)
	}
	pe := x.r.o.Projects[x.in.ProjectName].Environment
	for _, k := range slices.Sorted(maps.Keys(pe)) {
		env = append(env, k+"="+pe[k])
	}
	if x.spec != nil {
		for _, v := range x.spec.Env.Variables {
			env = append(env, v.Name+"="+v.Value)
		}
		for _, refs := range [][]buildspec.Ref{x.spec.Env.ParameterStore, x.spec.Env.SecretsManager} {
			for _, r := range refs {
				env = append(env, r.Name+"="+x.secrets[r.Name])
			}
		}
	}
	for _, v := range x.in.EnvironmentVariablesOverride {
		if strings.HasPrefix(v.Name, "CODEBUILD_") {
			continue
		}
		value := v.Value
		if v.Type == "PARAMETER_STORE" || v.Type == "SECRETS_MANAGER" {
			value = x.secrets[v.Name]
		}
		env = append(env, v.Name+"="+value)
	}
	b := x.rn.build
	repo := ""
	if x.in.SourceTypeOverride == "S3" {
		repo = "s3://" + x.in.SourceLocationOverride
	}
	env = append(env,
		"AWS_REGION="+x.r.o.Region,
		"AWS_DEFAULT_REGION="+x.r.o.Region,
		"CODEBUILD_BUILD_ARN="+b.Arn,
		"CODEBUILD_BUILD_ID="+b.Id,
		"CODEBUILD_BUILD_IMAGE=local",
		"CODEBUILD_BUILD_NUMBER="+strconv.FormatInt(b.BuildNumber, 10),
		"CODEBUILD_BUILD_SUCCEEDING=1",
		"CODEBUILD_CI=true",
		"CODEBUILD_INITIATOR="+b.Initiator,
		"CODEBUILD_LOG_PATH="+b.Logs.StreamName,
		"CODEBUILD_PROJECT_ARN="+x.r.projectARN(b.ProjectName),
		"CODEBUILD_RESOLVED_SOURCE_VERSION="+b.ResolvedSourceVersion,
		"CODEBUILD_SOURCE_REPO_URL="+repo,
		"CODEBUILD_SOURCE_VERSION="+b.SourceVersion,
		"CODEBUILD_SRC_DIR="+x.srcDir,
		"CODEBUILD_START_TIME="+strconv.FormatInt(timeOf(b.StartTime).UnixMilli(), 10),
		"TMPDIR="+x.tmpDir,
	)
	if x.r.Sandboxed() {
		// the host's home is read-only in the sandbox
		env = append(env, "HOME="+filepath.Join(x.rn.dir, "home"))
	}
	for _, s := range x.in.SecondarySourcesOverride {
		env = append(env, "CODEBUILD_SRC_DIR_"+s.SourceIdentifier+"="+x.inputDir(s.SourceIdentifier))
	}
	return env
}

// inputDir is where the secondary source id is unpacked ("": their parent).
func (x *execution) inputDir(id string) string {
	return filepath.Join(x.rn.dir, "inputs", id)
}

// runPhases runs INSTALL, PRE_BUILD, BUILD and POST_BUILD, and says whether
// UPLOAD_ARTIFACTS comes next (it does unless INSTALL, PRE_BUILD or POST_BUILD
// failed with on-failure ABORT, or the build was interrupted).
func (x *execution) runPhases() bool {
	x.shell = x.spec.Env.Shell
	if x.shell == "" {
		x.shell = "bash"
	}
	phases := []struct{ name, phase string }{
		{buildspec.Install, PhaseInstall},
		{buildspec.PreBuild, PhasePreBuild},
		{buildspec.Build, PhaseBuild},
		{buildspec.PostBuild, PhasePostBuild},
	}
	failing := false
	for _, p := range phases {
		if cause := x.interrupted(); cause != nil {
			x.status, _, _ = interruption(cause, x.rn.build.TimeoutInMinutes)
			return false
		}
		if x.status != StatusSucceeded && !failing {
			// from the phase after the first failure on
			failing = true
			if _, err := x.runInternal("export CODEBUILD_BUILD_SUCCEEDING=0"); err != nil && x.interrupted() == nil {
				x.r.log.Warn("codebuild: set CODEBUILD_BUILD_SUCCEEDING", "build", x.rn.build.Id, "err", err)
			}
		}
		x.beginPhase(p.phase)
		ph := x.spec.Phase(p.name)
		if ph == nil {
			x.endPhase(StatusSucceeded)
			continue
		}
		// after a failing command the phase's other commands are skipped; finally still runs
		failure := x.runCommands(ph.Commands)
		if len(ph.Finally) > 0 && x.interrupted() == nil {
			if f := x.runCommands(ph.Finally); failure == "" {
				failure = f
			}
		}
		if cause := x.interrupted(); cause != nil {
			x.interruptPhase(cause)
			return false
		}
		if failure == "" {
			x.endPhase(StatusSucceeded)
			continue
		}
		x.fail(StatusFailed, "COMMAND_EXECUTION_ERROR", failure)
		switch ph.OnFailure {
		case buildspec.Continue:
			continue
		case buildspec.Abort:
			x.message("on-failure ABORT: the build is aborted; the later phases do not run")
			return false
		}
		switch p.phase {
		case PhaseInstall, PhasePreBuild, PhasePostBuild:
			return false
		}
		// a failed BUILD goes on to POST_BUILD, then UPLOAD_ARTIFACTS
	}
	return true
}

// runCommands runs commands in order until one fails, and returns the
// failure message ("" when all succeeded).
func (x *execution) runCommands(cmds []buildspec.Command) string {
	for _, c := range cmds {
		if x.interrupted() != nil {
			return "interrupted"
		}
		x.message("Running command " + c.Text)
		code, err := x.runInternal(c.Text)
		switch {
		case err != nil:
			return fmt.Sprintf("Error while executing command: %s. Reason: %v", c.Text, err)
		case code != 0:
			return fmt.Sprintf("Error while executing command: %s. Reason: exit status %d", c.Text, code)
		}
	}
	return ""
}

// runInternal runs one command in the build's shell, starting a shell first
// if there is none (at the start, or after a command ended the shell).
func (x *execution) runInternal(command string) (int, error) {
	s, err := x.session()
	if err != nil {
		return -1, err
	}
	code, err := s.run(command)
	// a command that ends the shell (exit N, set -e) fails like any other
	// command with its status; a killed shell is an error
	var se *shellExit
	if errors.As(err, &se) && se.signal == 0 && x.interrupted() == nil {
		return se.code, nil
	}
	return code, err
}

func (x *execution) session() (*session, error) {
	x.sessMu.Lock()
	defer x.sessMu.Unlock()
	if x.sess != nil && x.sess.exitCode() < 0 {
		return x.sess, nil
	}
	if x.sess != nil {
		x.sess.close()
		x.message("The build shell exited; the next commands run in a new shell, with the variables and working directory from before")
	}
	if cause := x.interrupted(); cause != nil {
		return nil, cause
	}
	var wrap []string
	if x.r.Sandboxed() {
		wrap = append([]string{x.r.o.Bwrap}, x.sandboxArgs()...)
	}
	s, err := startSession(x.shell, x.srcDir, x.ctlDir, x.env, x.outW, wrap)
	if err != nil {
		return nil, err
	}
	x.sess = s
	x.rn.mu.Lock()
	x.rn.pgid = s.pgid()
	if err := x.r.save(x.rn); err != nil {
		x.r.log.Error("codebuild: save build", "build", x.rn.build.Id, "err", err)
	}
	x.rn.mu.Unlock()
	// the watcher kills the group as soon as the build is stopped or times out
	go func(s *session) {
		select {
		case <-x.ctx.Done():
			killGroup(s.pgid())
		case <-s.exit:
		}
	}(s)
	return s, nil
}

// captureExported reads env.exported-variables from the shell.
func (x *execution) captureExported() {
	if x.spec == nil || len(x.spec.Env.ExportedVariables) == 0 {
		return
	}
	dir := filepath.Join(x.ctlDir, "exported")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		x.r.log.Warn("codebuild: capture exported variables", "build", x.rn.build.Id, "err", err)
		return
	}
	var script strings.Builder
	for _, name := range x.spec.Env.ExportedVariables {
		fmt.Fprintf(&script, "if [ -n \"${%s+x}\" ]; then printf '%%s' \"$%s\" > '%s/%s'; fi\n", name, name, dir, name)
	}
	if _, err := x.runInternal(script.String()); err != nil {
		x.r.log.Warn("codebuild: capture exported variables", "build", x.rn.build.Id, "err", err)
		return
	}
	var vars []ExportedVariable
	for _, name := range x.spec.Env.ExportedVariables {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			continue
		}
		if _, secret := x.secrets[name]; secret {
			x.message("Not exporting " + name + ": it holds a secret")
			continue
		}
		vars = append(vars, ExportedVariable{Name: name, Value: x.mask(string(data))})
	}
	x.rn.mu.Lock()
	x.rn.build.ExportedEnvironmentVariables = vars
	x.rn.mu.Unlock()
}

// downloadSource fetches and unpacks the source, then reads and parses the
// buildspec. The string is the phase context status code of a failure.
func (x *execution) downloadSource() (string, error) {
	if x.in.SourceTypeOverride == "S3" {
		bucket, key, _ := strings.Cut(x.in.SourceLocationOverride, "/")
		if err := x.fetchZip(bucket, key, x.srcDir); err != nil {
			return "CLIENT_ERROR", err
		}
		x.note("Source unpacked from s3://" + x.in.SourceLocationOverride)
	}
	for _, s := range x.in.SecondarySourcesOverride {
		bucket, key, _ := strings.Cut(strings.TrimPrefix(s.Location, "arn:aws:s3:::"), "/")
		dir := x.inputDir(s.SourceIdentifier)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "CLIENT_ERROR", fmt.Errorf("secondary source %s: %w", s.SourceIdentifier, err)
		}
		if err := x.fetchZip(bucket, key, dir); err != nil {
			return "CLIENT_ERROR", fmt.Errorf("secondary source %s: %w", s.SourceIdentifier, err)
		}
		x.message(fmt.Sprintf("Secondary source %s unpacked from s3://%s/%s at CODEBUILD_SRC_DIR_%s", s.SourceIdentifier, bucket, key, s.SourceIdentifier))
	}
	name, data, err := x.readBuildspec()
	if err != nil {
		return "YAML_FILE_ERROR", err
	}
	spec, err := buildspec.Parse(name, data)
	if err != nil {
		return "YAML_FILE_ERROR", err
	}
	for _, ig := range spec.Ignored {
		x.message("Ignoring " + ig + ": not used by the local runner")
	}
	x.spec = spec
	secrets, err := x.resolveSecrets()
	if err != nil {
		var se *secretError
		if errors.As(err, &se) {
			return se.code, err
		}
		return "CLIENT_ERROR", err
	}
	x.secrets = secrets
	x.masker.Store(maskerFor(secrets))
	if len(secrets) > 0 {
		x.message(fmt.Sprintf("Read %d secrets (masked in this log)", len(secrets)))
	}
	x.env = x.buildEnv()
	x.restoreCache()
	return "", nil
}

// fetchZip gets the zip s3://bucket/key and unpacks it into dir.
func (x *execution) fetchZip(bucket, key, dir string) error {
	if x.r.o.Objects == nil {
		return errors.New("no object storage configured")
	}
	body, err := x.r.o.Objects.Get(x.ctx, bucket, key)
	if err != nil {
		return fmt.Errorf("get source s3://%s/%s: %w", bucket, key, err)
	}
	defer body.Close()
	zipPath := filepath.Join(x.ctlDir, "source.zip")
	f, err := os.Create(zipPath)
	if err != nil {
		return fmt.Errorf("save source: %w", err)
	}
	size, err := io.Copy(f, body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("download source s3://%s/%s: %w", bucket, key, err)
	}
	defer os.Remove(zipPath)
	if err := unzip(zipPath, dir); err != nil {
		return fmt.Errorf("unpack source s3://%s/%s (%d bytes): %w", bucket, key, size, err)
	}
	return nil
}

// readBuildspec returns the buildspec's name (for messages) and content.
func (x *execution) readBuildspec() (string, []byte, error) {
	bs := x.in.BuildspecOverride
	switch {
	case bs != "" && isInlineBuildspec(bs):
		return "buildspec (inline)", []byte(bs), nil
	case strings.HasPrefix(bs, "arn:aws:s3:::"):
		bucket, key, ok := strings.Cut(strings.TrimPrefix(bs, "arn:aws:s3:::"), "/")
		if !ok || x.r.o.Objects == nil {
			return "", nil, fmt.Errorf("buildspec %s: cannot read it", bs)
		}
		body, err := x.r.o.Objects.Get(x.ctx, bucket, key)
		if err != nil {
			return "", nil, fmt.Errorf("get buildspec %s: %w", bs, err)
		}
		defer body.Close()
		data, err := io.ReadAll(io.LimitReader(body, 1<<20))
		if err != nil {
			return "", nil, fmt.Errorf("read buildspec %s: %w", bs, err)
		}
		return key, data, nil
	}
	if bs == "" {
		bs = "buildspec.yml"
	}
	root, err := os.OpenRoot(x.srcDir)
	if err != nil {
		return "", nil, fmt.Errorf("open source folder: %w", err)
	}
	defer root.Close()
	data, err := root.ReadFile(filepath.Clean(bs))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", nil, fmt.Errorf("%s: the buildspec file does not exist in the source", bs)
		}
		return "", nil, fmt.Errorf("%s: cannot read the buildspec: %w", bs, err)
	}
	if bytes.IndexByte(data, 0) >= 0 {
		return "", nil, fmt.Errorf("%s: the buildspec is not a text file", bs)
	}
	return bs, data, nil
}
