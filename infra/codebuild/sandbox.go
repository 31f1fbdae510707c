package codebuild

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// ErrNoSandbox refuses an untrusted build (StartBuildInput.Untrusted) on a
// runner without a sandbox.
var ErrNoSandbox = errors.New("builds are not sandboxed (bubblewrap is not installed): untrusted builds are refused")

// BwrapPath is where Debian's bubblewrap package installs bwrap.
const BwrapPath = "/usr/bin/bwrap"

// FindBwrap returns the bubblewrap binary (BwrapPath, else bwrap on PATH)
// once it has run a trivial sandbox here, or an error that says why builds
// cannot be sandboxed.
func FindBwrap() (string, error) {
	path := BwrapPath
	if _, err := os.Stat(path); err != nil {
		p, lerr := exec.LookPath("bwrap")
		if lerr != nil {
			return "", fmt.Errorf("bubblewrap not found (%s, PATH): install it (Debian: apt-get install bubblewrap)", BwrapPath)
		}
		path = p
	}
	out, err := exec.Command(path, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--unshare-pid",
		"--die-with-parent", "--cap-drop", "ALL", "--", "true").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("bubblewrap %s does not work here: %v: %s", path, err, out)
	}
	return path, nil
}

// sandboxArgs is the bwrap command line a build's shell runs under: the host
// read-only, a fresh /dev, /proc and /tmp, o.Writable bound read-write, Dir
// and o.Hide hidden behind empty folders (files: /dev/null), then the
// build's own folder (the cache restored into it) bound read-write; its own PID and IPC namespaces, no
// capabilities, the network shared (unless o.NoNetwork, or the build is
// Untrusted), killed when the runner dies.
func (x *execution) sandboxArgs() []string {
	o := x.r.o
	args := []string{
		"--ro-bind", "/", "/",
		"--dev", "/dev",
		"--proc", "/proc",
		"--tmpfs", "/tmp",
		"--unshare-pid", "--unshare-ipc",
		"--die-with-parent",
		"--cap-drop", "ALL",
	}
	if o.NoNetwork || x.in.Untrusted {
		// an untrusted build must not reach the host's local endpoints
		args = append(args, "--unshare-net")
	}
	bind := func(paths ...string) {
		for _, p := range paths {
			if _, err := os.Stat(p); err == nil {
				args = append(args, "--bind", resolved(p), resolved(p))
			}
		}
	}
	// Writable first: a writable folder holding the data dir must not
	// bring it back into view
	bind(o.Writable...)
	for _, p := range append([]string{o.Dir}, o.Hide...) {
		p = resolved(p)
		info, err := os.Stat(p)
		switch {
		case err != nil:
			continue
		case info.IsDir():
			args = append(args, "--tmpfs", p)
		default:
			args = append(args, "--ro-bind", os.DevNull, p)
		}
	}
	bind(x.rn.dir) // with the cache restored into it
	if x.privileged() {
		if sock := dockerSocket(x.env); sock != "" {
			bind(sock)
		}
	}
	return append(args, "--chdir", resolved(x.srcDir), "--")
}

// resolved is p absolute with its symbolic links resolved (p if it cannot be).
func resolved(p string) string {
	if abs, err := filepath.Abs(p); err == nil {
		p = abs
	}
	if r, err := filepath.EvalSymlinks(p); err == nil {
		return r
	}
	return p
}
