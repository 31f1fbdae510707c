package codedeploy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/pushline/pushline/shared/appspec"
)

// Diagnostics error codes, as CodeDeploy reports them for a lifecycle event.
const (
	DiagSuccess             = "Success"
	DiagScriptMissing       = "ScriptMissing"
	DiagScriptNotExecutable = "ScriptNotExecutable"
	DiagScriptTimedOut      = "ScriptTimedOut"
	DiagScriptFailed        = "ScriptFailed"
	DiagUnknownError        = "UnknownError"
)

// logTailSize is how much of a script's output Diagnostics keeps (the end).
const logTailSize = 4096

// scriptEnv is what a hook script runs with: CodeDeploy's variables and,
// locally, where the instance's root is.
type scriptEnv struct {
	event, deploymentID, application, group, root string
}

func (e scriptEnv) vars() []string {
	return append(os.Environ(),
		"LIFECYCLE_EVENT="+e.event,
		"DEPLOYMENT_ID="+e.deploymentID,
		"APPLICATION_NAME="+e.application,
		"DEPLOYMENT_GROUP_NAME="+e.group,
		"DEPLOYMENT_GROUP_ID="+e.application+"/"+e.group,
		"PUSHLINE_DEPLOY_ROOT="+e.root,
	)
}

// runScript runs one hook script of the revision unpacked in archive, its
// output (stdout and stderr) appended to out. It is killed, with its whole
// process group, after its timeout. Processes a script leaves running in the
// background on success (a started service) are left alone, as the agent
// does.
func runScript(ctx context.Context, archive string, s appspec.Script, env scriptEnv, out *os.File) *Diagnostics {
	d := &Diagnostics{ScriptName: s.Location}
	path := filepath.Join(archive, filepath.FromSlash(strings.TrimPrefix(s.Location, "/")))
	if !within(archive, path) {
		d.ErrorCode, d.Message = DiagScriptMissing, "Script does not exist at specified location: "+s.Location
		return d
	}
	fi, err := os.Stat(path)
	if err != nil || fi.IsDir() {
		d.ErrorCode, d.Message = DiagScriptMissing, "Script does not exist at specified location: "+s.Location
		return d
	}
	if fi.Mode()&0o100 == 0 { // as the agent does: make it executable, then run it
		fmt.Fprintf(out, "[pushline] script %s is not executable; making it executable\n", s.Location)
		if err := os.Chmod(path, fi.Mode()|0o111); err != nil {
			d.ErrorCode, d.Message = DiagScriptNotExecutable, "Script at specified location: "+s.Location+" is not executable"
			return d
		}
	}
	if s.RunAs != "" {
		if u, err := user.Current(); err != nil || u.Username != s.RunAs {
			fmt.Fprintf(out, "[pushline] runas %s: the local agent runs scripts as the stack's user\n", s.RunAs)
		}
	}
	start, _ := out.Seek(0, io.SeekCurrent)
	fmt.Fprintf(out, "[pushline] %s: running %s (timeout %s)\n", env.event, s.Location, s.Timeout)

	cmd := exec.Command(path)
	cmd.Dir = archive
	cmd.Env = env.vars()
	cmd.Stdout, cmd.Stderr = out, out // a file: background children never block Wait
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		d.ErrorCode, d.Message = DiagScriptNotExecutable, fmt.Sprintf("Script at specified location: %s could not be run: %v", s.Location, err)
		return d
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	timer := time.NewTimer(s.Timeout)
	defer timer.Stop()
	select {
	case err = <-done:
	case <-timer.C:
		killGroup(cmd.Process.Pid)
		<-done
		d.ErrorCode, d.Message = DiagScriptTimedOut, fmt.Sprintf("Script at specified location: %s failed to complete in %d seconds", s.Location, int(s.Timeout.Seconds()))
	case <-ctx.Done():
		killGroup(cmd.Process.Pid)
		<-done
		d.ErrorCode, d.Message = DiagUnknownError, "The deployment was stopped while "+s.Location+" ran"
	}
	if d.ErrorCode == "" {
		var exit *exec.ExitError
		switch {
		case errors.As(err, &exit):
			d.ErrorCode, d.Message = DiagScriptFailed, fmt.Sprintf("Script at specified location: %s failed with exit code %d", s.Location, exit.ExitCode())
		case err != nil:
			d.ErrorCode, d.Message = DiagUnknownError, fmt.Sprintf("Script at specified location: %s: %v", s.Location, err)
		default:
			d.ErrorCode, d.Message = DiagSuccess, "Succeeded"
		}
	}
	d.LogTail = tail(out, start)
	return d
}

// tail reads the last logTailSize bytes written to f since offset from.
func tail(f *os.File, from int64) string {
	end, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return ""
	}
	if end-from > logTailSize {
		from = end - logTailSize
	}
	b := make([]byte, end-from)
	n, _ := f.ReadAt(b, from)
	return string(b[:n])
}

// killGroup sends SIGKILL to a process group.
func killGroup(pgid int) {
	if pgid > 1 {
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
	}
}

// within reports whether path is dir or below it.
func within(dir, path string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}
