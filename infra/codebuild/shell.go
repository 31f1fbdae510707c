package codebuild

import (
	"bufio"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// The shell loop every build runs: one shell process that, for each number N
// read from fd 4, sources cmd-N.sh in the current shell (so cd, exports and
// variables carry over) with fds 3 and 4 closed for the command, then reports
// "N <status>" on fd 3. Its EXIT trap saves the shell's variables and working
// directory to $__CB_STATE, so that when a command ends the shell (exit N, set
// -e) the next shell picks up where it left off; a new shell sources that file
// first if it exists.
const shellLoop = `if [ -f "$__CB_STATE" ]; then . "$__CB_STATE"; fi
trap __cb_save EXIT
while IFS= read -r __cb_n <&4; do
  . "$__CB_CMD_DIR/cmd-$__cb_n.sh" 3>&- 4<&-
  echo "$__cb_n $?" >&3
done
`

// bashSave saves every variable bash can set again (not readonly, not its
// own dynamic ones), exported or not, and the working directory.
const bashSave = `__cb_save() {
  umask 077
  {
    for __cb_v in $(compgen -v); do
      case $__cb_v in
        BASH*|FUNCNAME|GROUPS|DIRSTACK|PIPESTATUS|EPOCH*|HISTCMD|LINENO|RANDOM|SRANDOM|SECONDS|COMP_*|__cb_*|__CB_*|PWD|OLDPWD|SHLVL|_|PPID|UID|EUID|SHELLOPTS|IFS) continue ;;
      esac
      __cb_d=$(declare -p "$__cb_v" 2>/dev/null) || continue
      __cb_f=${__cb_d#declare -}
      case ${__cb_f%% *} in *r*) continue ;; esac
      printf '%s\n' "$__cb_d"
    done
    printf 'cd %q\n' "$PWD"
  } > "$__CB_STATE" 2>/dev/null
}
`

// shSave saves the exported variables and the working directory (a POSIX sh
// cannot list its plain variables in a form it reads back safely).
const shSave = `__cb_save() {
  umask 077
  {
    export -p
    printf "cd '%s'\n" "$(printf '%s' "$PWD" | sed "s/'/'\\\\''/g")"
  } > "$__CB_STATE" 2>/dev/null
}
`

// errShellGone means the shell process ended during a command (the command ran
// exit, or the process was killed).
var errShellGone = errors.New("the build shell exited")

// shellExit is how the shell ended during a command; it is errShellGone.
type shellExit struct {
	code   int
	signal syscall.Signal // 0 unless the shell was killed by a signal
}

func (e *shellExit) Error() string {
	if e.signal != 0 {
		return fmt.Sprintf("%v (signal %s)", errShellGone, e.signal)
	}
	return fmt.Sprintf("%v (exit status %d)", errShellGone, e.code)
}

func (e *shellExit) Is(target error) bool { return target == errShellGone }

// session is one long-lived shell that runs a build's commands.
type session struct {
	cmd    *exec.Cmd
	ctl    *os.File      // write end of fd 4
	status *bufio.Reader // read end of fd 3
	statR  *os.File
	dir    string // where command files go
	seq    int
	exit   chan struct{} // closed when the process has been waited for
	err    error         // Wait's error, valid after exit is closed
}

// startSession starts shell ("bash" or "sh") in dir with env, its output
// going to out, under wrap (the sandbox's command line, ending "--") unless
// wrap is nil. The process leads its own process group.
func startSession(shell, dir, cmdDir string, env []string, out *os.File, wrap []string) (*session, error) {
	path, err := exec.LookPath(shell)
	if err != nil {
		return nil, fmt.Errorf("find shell %s: %w", shell, err)
	}
	args := []string{"-c", shSave + shellLoop}
	if shell == "bash" {
		args = []string{"--noprofile", "--norc", "-c", bashSave + shellLoop}
	}
	if wrap != nil {
		// the sandbox has its own PID namespace
		args = append(append(wrap[1:len(wrap):len(wrap)], path), args...)
		path = wrap[0]
	}
	ctlR, ctlW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("control pipe: %w", err)
	}
	statR, statW, err := os.Pipe()
	if err != nil {
		ctlR.Close()
		ctlW.Close()
		return nil, fmt.Errorf("status pipe: %w", err)
	}
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", os.DevNull, err)
	}
	defer devnull.Close()
	newCmd := func(pidns bool) *exec.Cmd {
		cmd := exec.Command(path, args...)
		cmd.Dir = dir
		cmd.Env = append(env, "__CB_CMD_DIR="+cmdDir, "__CB_STATE="+filepath.Join(cmdDir, "state.sh"))
		cmd.Stdin = devnull
		cmd.Stdout = out
		cmd.Stderr = out
		cmd.ExtraFiles = []*os.File{statW, ctlR} // fd 3, fd 4
		cmd.SysProcAttr = shellProcAttr(pidns)
		return cmd
	}
	pidns := wrap == nil && !noPIDNamespace.Load()
	cmd := newCmd(pidns)
	err = cmd.Start()
	if err != nil && pidns {
		// no privilege for a PID namespace here: do without from now on
		noPIDNamespace.Store(true)
		slog.Warn("codebuild: build shells cannot get their own PID namespace; a process a build leaves behind can outlive a killed runner", "err", err)
		cmd = newCmd(false)
		err = cmd.Start()
	}
	if err != nil {
		ctlR.Close()
		ctlW.Close()
		statR.Close()
		statW.Close()
		return nil, fmt.Errorf("start %s: %w", shell, err)
	}
	ctlR.Close()
	statW.Close()
	s := &session{cmd: cmd, ctl: ctlW, status: bufio.NewReader(statR), statR: statR, dir: cmdDir, exit: make(chan struct{})}
	go func() {
		s.err = cmd.Wait()
		close(s.exit)
	}()
	return s, nil
}

// pgid is the process group of the session (its shell's pid).
func (s *session) pgid() int { return s.cmd.Process.Pid }

// run runs one command in the shell and returns its exit status. It returns
// errShellGone (wrapped with the shell's exit) if the shell ended meanwhile.
func (s *session) run(command string) (int, error) {
	s.seq++
	n := s.seq
	file := filepath.Join(s.dir, "cmd-"+strconv.Itoa(n)+".sh")
	if err := os.WriteFile(file, []byte(command+"\n"), 0o600); err != nil {
		return -1, fmt.Errorf("write command: %w", err)
	}
	defer os.Remove(file)
	if _, err := fmt.Fprintf(s.ctl, "%d\n", n); err != nil {
		return -1, s.gone()
	}
	for {
		line, err := s.status.ReadString('\n')
		if err != nil {
			return -1, s.gone()
		}
		var got, code int
		if _, err := fmt.Sscanf(strings.TrimSpace(line), "%d %d", &got, &code); err != nil || got != n {
			continue // not ours: ignore
		}
		return code, nil
	}
}

// gone waits for the shell to end and describes how it ended.
func (s *session) gone() error {
	<-s.exit
	var ee *exec.ExitError
	if errors.As(s.err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return &shellExit{code: -1, signal: ws.Signal()}
		}
		return &shellExit{code: ee.ExitCode()}
	}
	return &shellExit{}
}

// exitCode gives the shell's exit code once it has ended, or -1.
func (s *session) exitCode() int {
	select {
	case <-s.exit:
		return s.cmd.ProcessState.ExitCode()
	default:
		return -1
	}
}

// close ends the shell (asking it to finish, then killing its whole process
// group, which also ends anything it left running in the background).
func (s *session) close() {
	s.ctl.Close()
	killGroup(s.pgid())
	<-s.exit
	s.statR.Close()
}

// killGroup sends SIGKILL to a process group.
func killGroup(pgid int) {
	if pgid > 1 {
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
	}
}
