package codecommit

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/pushline/pushline/shared/push"
)

// Git is a Repository over local repositories with the git binary: the
// local stack's twin of CodeCommit's API for bare repositories whose
// post-receive hook delivers the events.
type Git struct {
	// Dirs maps a repository name (lower case) to its path on disk.
	Dirs map[string]string
	Bin  string // "": git on PATH
}

func (g Git) dir(repository string) (string, error) {
	d, ok := g.Dirs[strings.ToLower(repository)]
	if !ok {
		return "", fmt.Errorf("repository %s has no local path (cloneUrl)", repository)
	}
	return d, nil
}

func (g Git) git(ctx context.Context, dir string, args ...string) *exec.Cmd {
	bin := g.Bin
	if bin == "" {
		bin = "git"
	}
	cmd := exec.CommandContext(ctx, bin, append([]string{"-C", dir}, args...)...)
	// A caller running inside a git hook has GIT_DIR and friends set for
	// its own repository: they must not redirect these commands.
	env := []string{"GIT_TERMINAL_PROMPT=0"}
	for _, kv := range cmd.Environ() {
		if !strings.HasPrefix(kv, "GIT_") {
			env = append(env, kv)
		}
	}
	cmd.Env = env
	return cmd
}

// Commit implements Repository with git log.
func (g Git) Commit(ctx context.Context, repository, commit string) (push.Commit, error) {
	dir, err := g.dir(repository)
	if err != nil {
		return push.Commit{}, err
	}
	out, err := g.git(ctx, dir, "log", "-1", "--format=%an <%ae>%x00%aI%x00%B", commit, "--").Output()
	if err != nil {
		return push.Commit{}, fmt.Errorf("git log %s: %w", commit, err)
	}
	parts := strings.SplitN(string(out), "\x00", 3)
	if len(parts) != 3 {
		return push.Commit{}, fmt.Errorf("git log %s: unexpected output", commit)
	}
	ts, _ := time.Parse(time.RFC3339, parts[1])
	return push.Commit{ID: commit, Author: parts[0], Timestamp: ts, Message: strings.TrimRight(parts[2], "\n")}, nil
}

// Changed implements Repository with git diff --name-only (renames as a
// deletion and an addition, as CodeCommit's differences list both paths).
func (g Git) Changed(ctx context.Context, repository, before, after string, max int) ([]string, bool, error) {
	dir, err := g.dir(repository)
	if err != nil {
		return nil, false, err
	}
	cmd := g.git(ctx, dir, "diff", "--name-only", "--no-renames", "-z", before, after, "--")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, false, err
	}
	if err := cmd.Start(); err != nil {
		return nil, false, err
	}
	sc := bufio.NewScanner(stdout)
	sc.Split(func(data []byte, atEOF bool) (int, []byte, error) {
		if i := bytes.IndexByte(data, 0); i >= 0 {
			return i + 1, data[:i], nil
		}
		if atEOF && len(data) > 0 {
			return len(data), data, nil
		}
		return 0, nil, nil
	})
	var files []string
	complete := true
	for sc.Scan() {
		if len(files) == max {
			complete = false
			break
		}
		files = append(files, sc.Text())
	}
	if !complete {
		cmd.Process.Kill()
		cmd.Wait()
		return files, false, nil
	}
	if err := cmd.Wait(); err != nil {
		return nil, false, fmt.Errorf("git diff %s %s: %w", before, after, err)
	}
	return files, true, nil
}
