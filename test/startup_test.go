package test

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// runToExit runs the local stack with extra environment and returns its
// exit error and output, expecting it to exit by itself.
func runToExit(t *testing.T, dir string, env ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "PUSHLINE_CONFIG="+filepath.Join(dir, "config.json"), "PUSHLINE_WEBHOOK_SECRET="+secret), env...)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("the stack did not exit: %s", out)
	}
	return string(out), err
}

// Startup errors are clear messages and a non-zero exit, never a panic.
func TestStartupErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(config("file:///nowhere.git", dir, "superseded", "1h")), 0o644); err != nil {
		t.Fatal(err)
	}

	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	out, err := runToExit(t, dir, "PUSHLINE_DATA_DIR="+filepath.Join(dir, "a"), "PUSHLINE_HTTP_ADDR="+busy.Addr().String(), "PUSHLINE_AWS_ADDR=127.0.0.1:0")
	if err == nil || strings.Contains(out, "panic") || !strings.Contains(out, "PUSHLINE_HTTP_ADDR") {
		t.Errorf("a busy HTTP port: exit %v, output:\n%s", err, out)
	}

	if err := os.WriteFile(filepath.Join(dir, "bad.json"), []byte(`{"name": "x", "stages": []}`), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err = runToExit(t, dir, "PUSHLINE_DATA_DIR="+filepath.Join(dir, "b"), "PUSHLINE_CONFIG="+filepath.Join(dir, "bad.json"))
	if err == nil || strings.Contains(out, "panic") || !strings.Contains(out, "repositories") {
		t.Errorf("a bad config: exit %v, output:\n%s", err, out)
	}

	// A second stack on a data dir in use is refused: it would fail the
	// first one's running builds as interrupted.
	p := startStack(t, dir, config("file:///nowhere.git", dir, "superseded", "1h"))
	out, err = runToExit(t, dir, "PUSHLINE_DATA_DIR="+p.data, "PUSHLINE_HTTP_ADDR=127.0.0.1:0", "PUSHLINE_AWS_ADDR=127.0.0.1:0")
	if err == nil || !strings.Contains(out, "another pushline local stack is using the data dir") {
		t.Errorf("a second stack on the same data dir: exit %v, output:\n%s", err, out)
	}
}
