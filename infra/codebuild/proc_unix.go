//go:build unix && !linux

package codebuild

import "syscall"

// noPIDNamespace is always set: only Linux has PID namespaces.
var noPIDNamespace alwaysSet

type alwaysSet struct{}

func (alwaysSet) Load() bool { return true }
func (alwaysSet) Store(bool) {}

// shellProcAttr starts a build's shell leading its own process group. Without
// Linux's Pdeathsig and PID namespaces, what a build started can outlive a
// killed runner; the next start ends it by its process group.
func shellProcAttr(bool) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// killBuildProcesses kills the process group a previous process's build left
// (processes cannot be found by environment without /proc).
func killBuildProcesses(_ string, pgid int) int {
	if pgid > 1 && syscall.Kill(-pgid, syscall.SIGKILL) == nil {
		return 1
	}
	return 0
}
