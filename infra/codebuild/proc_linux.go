//go:build linux

package codebuild

import (
	"bytes"
	"os"
	"strconv"
	"sync/atomic"
	"syscall"
)

// noPIDNamespace is set once creating a PID namespace for a build shell has
// failed (no privilege, no user namespaces): later shells do without.
var noPIDNamespace atomic.Bool

// shellProcAttr is how a build's shell is started on Linux: leading its own
// process group, killed (Pdeathsig) when the runner's thread dies, and, when
// pidns is set, as PID 1 of a new PID namespace, so that when it dies the
// kernel kills every process the build started, even one that left the group
// or the session: nothing a build started outlives a SIGKILL of the stack.
// Unprivileged, the namespace comes with a user namespace mapping the
// runner's own uid and gid.
func shellProcAttr(pidns bool) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if !pidns {
		return a
	}
	a.Cloneflags = syscall.CLONE_NEWPID
	if os.Geteuid() != 0 {
		a.Cloneflags |= syscall.CLONE_NEWUSER
		a.UidMappings = []syscall.SysProcIDMap{{ContainerID: os.Geteuid(), HostID: os.Geteuid(), Size: 1}}
		a.GidMappings = []syscall.SysProcIDMap{{ContainerID: os.Getegid(), HostID: os.Getegid(), Size: 1}}
	}
	return a
}

// killBuildProcesses kills what is left of a build a previous process ran: its
// process group if the group's leader is still that build's shell, and any
// process whose environment says it belongs to the build. It returns how many
// processes it signalled.
func killBuildProcesses(id string, pgid int) int {
	killed := 0
	self := os.Getpid()
	for _, pid := range buildProcesses(id) {
		if pid == self {
			continue
		}
		if pid == pgid {
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
		}
		if syscall.Kill(pid, syscall.SIGKILL) == nil {
			killed++
		}
	}
	return killed
}

// buildProcesses lists the processes whose environment carries
// CODEBUILD_BUILD_ID=id.
func buildProcesses(id string) []int {
	marker := []byte("CODEBUILD_BUILD_ID=" + id + "\x00")
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		env, err := os.ReadFile("/proc/" + e.Name() + "/environ")
		if err != nil || !containsEnv(env, marker) {
			continue
		}
		pids = append(pids, pid)
	}
	return pids
}

func containsEnv(environ, marker []byte) bool {
	return bytes.HasPrefix(environ, marker) || bytes.Contains(environ, append([]byte{0}, marker...))
}
