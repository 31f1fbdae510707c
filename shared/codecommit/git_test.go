package codecommit

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func run(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(cmd.Environ(), "GIT_AUTHOR_NAME=Mary", "GIT_AUTHOR_EMAIL=mary@example.com",
		"GIT_COMMITTER_NAME=Mary", "GIT_COMMITTER_EMAIL=mary@example.com", "GIT_CONFIG_GLOBAL=/dev/null")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func TestGit(t *testing.T) {
	dir := t.TempDir()
	run(t, dir, "init", "-q", "-b", "main")
	write := func(name string) {
		t.Helper()
		path := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(path), 0o755)
		old, _ := os.ReadFile(path)
		if err := os.WriteFile(path, append(old, 'x'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.txt")
	run(t, dir, "add", ".")
	run(t, dir, "commit", "-qm", "first")
	before := run(t, dir, "rev-parse", "HEAD")
	write("src/b.go")
	write("a.txt")
	run(t, dir, "add", ".")
	run(t, dir, "commit", "-qm", "second\n\nbody [skip ci]")
	after := run(t, dir, "rev-parse", "HEAD")

	g := Git{Dirs: map[string]string{"app": dir}}
	c, err := g.Commit(context.Background(), "App", after)
	if err != nil {
		t.Fatal(err)
	}
	if c.Message != "second\n\nbody [skip ci]" || c.Author != "Mary <mary@example.com>" || c.Timestamp.IsZero() {
		t.Errorf("commit %+v", c)
	}
	files, complete, err := g.Changed(context.Background(), "app", before, after, 10)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"a.txt", "src/b.go"}, files); d != "" || !complete {
		t.Errorf("files (-want +got) complete=%v:\n%s", complete, d)
	}
	files, complete, _ = g.Changed(context.Background(), "app", before, after, 1)
	if len(files) != 1 || complete {
		t.Errorf("bounded: %v %v", files, complete)
	}
	if _, err := g.Commit(context.Background(), "other", after); err == nil {
		t.Error("unknown repository answered")
	}
}
