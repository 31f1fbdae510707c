//go:build linux

package codebuild

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestChildrenDieWithTheStack runs a runner in a child process (this test
// binary again), starts a build that leaves processes in the background (one
// of them in a session of its own, out of the build's process group), kills
// the child with SIGKILL and checks that none of the build's processes
// survive it.
func TestChildrenDieWithTheStack(t *testing.T) {
	if dir := os.Getenv("CODEBUILD_TEST_STACK_DIR"); dir != "" {
		h := &harness{t: t, objects: newMemObjects(t), dir: dir, console: &syncBuffer{}}
		h.r = New(Options{Dir: dir, Objects: h.objects})
		spec := strings.Replace(sleeperSpec, "sh -c 'sleep 1000' &", "setsid sh -c 'sleep 1000' &", 1)
		b := h.start(spec, nil, nil)
		os.WriteFile(filepath.Join(dir, "id"), []byte(b.Id), 0o644)
		time.Sleep(time.Minute) // until killed
		return
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestChildrenDieWithTheStack$", "-test.count=1")
	cmd.Env = append(os.Environ(), "CODEBUILD_TEST_STACK_DIR="+dir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	defer func() {
		cmd.Process.Kill()
		<-done
	}()
	var id string
	waitFor(t, "the build", func() bool {
		data, _ := os.ReadFile(filepath.Join(dir, "id"))
		id = string(data)
		return id != "" && pidsWritten(filepath.Join(dir, id))
	})
	pids := buildPids(t, id)
	t.Cleanup(func() { killBuildProcesses(id, 0) }) // when the test fails
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the stack process did not die")
	}
	for _, pid := range pids {
		waitDead(t, pid)
	}
	if left := buildProcesses(id); len(left) > 0 {
		t.Errorf("processes of the build outlived the stack: %v", left)
	}
}

func TestContainsEnv(t *testing.T) {
	env := []byte("A=1\x00CODEBUILD_BUILD_ID=p:1\x00B=2\x00")
	if !containsEnv(env, []byte("CODEBUILD_BUILD_ID=p:1\x00")) {
		t.Error("not found in the middle")
	}
	if containsEnv(env, []byte("CODEBUILD_BUILD_ID=p:\x00")) || containsEnv([]byte("XCODEBUILD_BUILD_ID=p:1\x00"), []byte("CODEBUILD_BUILD_ID=p:1\x00")) {
		t.Error("false match")
	}
	if !containsEnv([]byte("CODEBUILD_BUILD_ID=p:1\x00"), []byte("CODEBUILD_BUILD_ID=p:1\x00")) {
		t.Error("not found at the start")
	}
}
