package source

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
)

// errGitArchive marks a failure of the git process itself.
var errGitArchive = errors.New("git archive")

// gitCmd runs git on a local repository, whoever owns it (the local stack
// reads repositories the user points it at).
func (h *Handler) gitCmd(ctx context.Context, dir string, args ...string) *exec.Cmd {
	bin := h.Git
	if bin == "" {
		bin = "git"
	}
	cmd := exec.CommandContext(ctx, bin, append([]string{"-c", "safe.directory=*", "-C", dir}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "GIT_CONFIG_NOSYSTEM=1")
	return cmd
}

// resolveLocal checks that dir is a repository holding commit and returns
// the commit's full id.
func (h *Handler) resolveLocal(ctx context.Context, dir, commit string) (string, error) {
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return "", fmt.Errorf("%w: no directory there", ErrNotFound)
	}
	var stderr bytes.Buffer
	cmd := h.gitCmd(ctx, dir, "rev-parse", "--verify", "--quiet", commit+"^{commit}")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) && exit.ExitCode() == 1 {
			return "", ErrCommitNotFound
		}
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", fmt.Errorf("git rev-parse: %w: %s", err, firstLine(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}

// archiveLocal streams `git archive` of commit in dir as a zip into w.
func (h *Handler) archiveLocal(ctx context.Context, dir, commit string, w io.Writer) (Stats, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var stderr bytes.Buffer
	cmd := h.gitCmd(ctx, dir, "archive", "--format=tar", commit)
	cmd.Stderr = &limitedBuffer{buf: &stderr, max: 4096}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return Stats{}, fmt.Errorf("%w: %w", errGitArchive, err)
	}
	if err := cmd.Start(); err != nil {
		return Stats{}, fmt.Errorf("%w: %w", errGitArchive, err)
	}
	st, convErr := TarToZip(w, out, false)
	if convErr != nil {
		cancel() // stop git; its exit error is expected now
		_, _ = io.Copy(io.Discard, out)
		_ = cmd.Wait()
		return st, convErr
	}
	_, _ = io.Copy(io.Discard, out)
	if err := cmd.Wait(); err != nil {
		return st, fmt.Errorf("%w: %w: %s", errGitArchive, err, firstLine(stderr.String()))
	}
	return st, nil
}

type limitedBuffer struct {
	buf *bytes.Buffer
	max int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.max - l.buf.Len(); room > 0 {
		l.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}
