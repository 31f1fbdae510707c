package drive

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Repo is a git work tree with a bare "remote" it pushes to, standing in
// for a repository on a git host.
type Repo struct {
	Work, Bare string
}

// NewRepo creates dir/work (a clone of dir/<name>.git) holding files, and
// commits and pushes them to branch main.
func NewRepo(ctx context.Context, dir, name string, files fs.FS) (*Repo, error) {
	r := &Repo{Work: filepath.Join(dir, "work"), Bare: filepath.Join(dir, name+".git")}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if err := git(ctx, dir, "init", "-q", "--bare", "-b", "main", r.Bare); err != nil {
		return nil, err
	}
	if err := git(ctx, dir, "init", "-q", "-b", "main", r.Work); err != nil {
		return nil, err
	}
	for _, kv := range [][2]string{{"user.name", "Dee Veloper"}, {"user.email", "dee@example.com"}, {"commit.gpgsign", "false"}} {
		if err := git(ctx, r.Work, "config", kv[0], kv[1]); err != nil {
			return nil, err
		}
	}
	if err := git(ctx, r.Work, "remote", "add", "origin", r.Bare); err != nil {
		return nil, err
	}
	if files != nil {
		if err := os.CopyFS(r.Work, files); err != nil {
			return nil, fmt.Errorf("copy sample files: %w", err)
		}
	}
	return r, nil
}

// CloneURL is the file:// URL of the bare repository.
func (r *Repo) CloneURL() string { return "file://" + r.Bare }

// Write writes a file of the work tree.
func (r *Repo) Write(name, content string, mode os.FileMode) error {
	p := filepath.Join(r.Work, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, []byte(content), mode)
}

// Commit commits every change with message and pushes branch; it returns
// the commit before (the branch's previous head, or zeros), the new commit
// and the paths the commit touched.
func (r *Repo) Commit(ctx context.Context, branch, message string) (before, after string, files []string, err error) {
	before, _ = r.output(ctx, "rev-parse", "--verify", "-q", "refs/remotes/origin/"+branch)
	if before == "" {
		before = strings.Repeat("0", 40)
	}
	if _, err := r.output(ctx, "checkout", "-q", "-B", branch); err != nil {
		return "", "", nil, err
	}
	if err := git(ctx, r.Work, "add", "-A"); err != nil {
		return "", "", nil, err
	}
	if err := git(ctx, r.Work, "commit", "-q", "--allow-empty", "-m", message); err != nil {
		return "", "", nil, err
	}
	after, err = r.output(ctx, "rev-parse", "HEAD")
	if err != nil {
		return "", "", nil, err
	}
	list, err := r.output(ctx, "show", "--pretty=format:", "--name-only", "HEAD")
	if err != nil {
		return "", "", nil, err
	}
	for _, f := range strings.Split(list, "\n") {
		if f = strings.TrimSpace(f); f != "" {
			files = append(files, f)
		}
	}
	if err := git(ctx, r.Work, "push", "-q", "origin", branch); err != nil {
		return "", "", nil, err
	}
	return before, after, files, nil
}

func (r *Repo) output(ctx context.Context, args ...string) (string, error) {
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = r.Work, &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return strings.TrimSpace(out.String()), nil
}

func git(ctx context.Context, dir string, args ...string) error {
	var errb bytes.Buffer
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir, cmd.Stderr = dir, &errb
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0")
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return nil
}
