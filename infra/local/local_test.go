package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pushline/pushline/infra/local/drive"
)

// These tests run the local stack as a process: through `make local`
// (which builds it into build/local), then that binary directly.

const testSecret = "local-test-secret"

const testConfig = `{
  "name": "sig",
  "repositories": [{"provider": "github", "repository": "acme/app", "cloneUrl": "file:///nowhere.git"}],
  "mode": "superseded",
  "stages": [{"name": "Build", "buildspec": "buildspec.yml", "timeout": "10m"}],
  "notifications": {"from": "pushline@example.com", "failures": ["team@example.com"]}
}`

var readyRE = regexp.MustCompile(`pushline local ready: (http://[0-9.:]+) .*AWS endpoint (http://[0-9.:]+)`)

type stackProc struct {
	cmd       *exec.Cmd
	out       *syncBuffer
	done      chan struct{} // closed when the process ended, with err
	err       error
	http, aws string
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// startProc runs name args in its own process group with the stack's
// environment and waits for the ready line.
func startProc(t *testing.T, dir string, name string, args ...string) *stackProc {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(testConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	p := &stackProc{out: &syncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(name, args...)
	p.cmd.Dir = repoRoot(t)
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	p.cmd.Env = append(os.Environ(),
		"PUSHLINE_CONFIG="+filepath.Join(dir, "config.json"),
		"PUSHLINE_DATA_DIR="+filepath.Join(dir, "data"),
		"PUSHLINE_HTTP_ADDR=127.0.0.1:0",
		"PUSHLINE_AWS_ADDR=127.0.0.1:0",
		"PUSHLINE_WEBHOOK_SECRET="+testSecret,
		"PUSHLINE_STOP_TIMEOUT=30s",
	)
	pr, pw := io.Pipe()
	p.cmd.Stdout = io.MultiWriter(p.out, pw)
	p.cmd.Stderr = p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done); pw.Close() }()
	t.Cleanup(func() {
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	})
	ready := make(chan []string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if m := readyRE.FindStringSubmatch(sc.Text()); m != nil {
				ready <- m
			}
		}
		io.Copy(io.Discard, pr)
	}()
	select {
	case m := <-ready:
		p.http, p.aws = m[1], m[2]
	case <-p.done:
		t.Fatalf("the stack ended before it was ready: %v\n%s", p.err, p.out)
	case <-time.After(3 * time.Minute):
		t.Fatalf("the stack is not ready\n%s", p.out)
	}
	return p
}

// webhooks delivers signed pushes to p until stop is closed; it returns
// how many got an answer.
func webhooks(p *stackProc, stop <-chan struct{}, clients int) *atomic.Int64 {
	var answered atomic.Int64
	for c := range clients {
		go func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				body := drive.GitHubPush{Repository: "acme/app", CloneURL: "file:///nowhere.git", Ref: fmt.Sprintf("refs/heads/b%d-%d", c, i),
					Before: strings.Repeat("0", 40), After: fmt.Sprintf("%040x", c*100000+i+1), Message: "m", Pusher: "p", Author: "A B"}.Body()
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				if a, err := drive.Deliver(ctx, p.http+"/webhook", testSecret, "push", body); err == nil && a.Status < 500 {
					answered.Add(1)
				}
				cancel()
			}
		}()
	}
	return &answered
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	return -1
}

// TestMakeLocalSignal stops `make local` the way supervisors and timeout
// do, SIGTERM to its process group, while webhooks arrive: the stack gets
// two SIGTERMs (make forwards its own) and must take them as one graceful
// stop. Then the binary alone gets one SIGTERM under the same load and
// must exit 0.
func TestMakeLocalSignal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the local stack")
	}
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make")
	}
	dir := t.TempDir()
	p := startProc(t, dir, "make", "--no-print-directory", "local")
	stop := make(chan struct{})
	answered := webhooks(p, stop, 4)
	time.Sleep(time.Second)
	if err := syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(time.Minute):
		t.Fatalf("make local did not stop\n%s", p.out)
	}
	close(stop)
	out := p.out.String()
	// the stop is cut short (running steps stopped) or fails
	for _, bad := range []string{"after the restart a build fails", "pushline local: context", "deadline exceeded"} {
		if strings.Contains(out, bad) {
			t.Errorf("output has %q: the two SIGTERMs were not one graceful stop\n%s", bad, out)
		}
	}
	if !strings.Contains(out, "pushline local: stopped") {
		t.Errorf("no graceful stop\n%s", out)
	}
	if answered.Load() == 0 {
		t.Errorf("no webhook answered\n%s", out)
	}

	// the binary make built, alone, under load
	bin := filepath.Join(repoRoot(t), "build", "local")
	p2 := startProc(t, dir, bin)
	stop2 := make(chan struct{})
	defer close(stop2)
	webhooks(p2, stop2, 8)
	time.Sleep(time.Second)
	if err := p2.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p2.done:
		if code := exitCode(p2.err); code != 0 {
			t.Errorf("exit status %d after a graceful stop under load\n%s", code, p2.out)
		}
	case <-time.After(time.Minute):
		t.Fatalf("the stack did not stop\n%s", p2.out)
	}
}

// TestSlowClients attacks both servers with connections that send
// headers (or half of them) and then nothing, or trickle a body, far more
// of them than the stack may hold (its open-file limit is lowered to 512):
// /healthz, signed webhooks and the AWS endpoint must still answer, and
// the stack must still be there when the attack ends.
func TestSlowClients(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the local stack")
	}
	if runtime.GOOS != "linux" {
		t.Skip("ulimit and loopback figures are Linux's")
	}
	bin := filepath.Join(t.TempDir(), "local")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	dir := t.TempDir()
	p := startProc(t, dir, "/bin/sh", "-c", "ulimit -n 512 && exec "+bin)
	const perServer = 600
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	attack := func(base, req string) {
		addr := strings.TrimPrefix(base, "http://")
		for range perServer {
			c, err := net.DialTimeout("tcp", addr, time.Second)
			if err != nil {
				continue // refused or reset: the cap at work
			}
			c.Write([]byte(req))
			conns = append(conns, c)
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for round := 0; time.Now().Before(deadline) && round < 3; round++ {
		attack(p.http, "POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n")                                             // headers, then nothing
		attack(p.http, "GET /healthz HTTP/1.1\r\nHost: x\r\n")                                                                          // half the headers
		attack(p.aws, "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: AWSStepFunctions.ListStateMachines\r\nContent-Length: 100\r\n\r\n{") // a body trickle that stops
		time.Sleep(1500 * time.Millisecond)                                                                                             // the attackers get older than the legitimate clients

		client := &http.Client{Timeout: 5 * time.Second}
		resp, err := client.Get(p.http + "/healthz")
		if err != nil {
			t.Fatalf("round %d: /healthz under attack: %v", round, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("round %d: /healthz: %s", round, resp.Status)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		body := drive.GitHubPush{Repository: "acme/app", CloneURL: "file:///nowhere.git", Ref: fmt.Sprintf("refs/heads/r%d", round),
			Before: strings.Repeat("0", 40), After: fmt.Sprintf("%040x", round+1), Message: "m", Pusher: "p", Author: "A B"}.Body()
		a, err := drive.Deliver(ctx, p.http+"/webhook", testSecret, "push", body)
		cancel()
		if err != nil || a.Status >= 300 {
			t.Fatalf("round %d: signed webhook under attack: %v %+v", round, err, a)
		}
		req, _ := http.NewRequest(http.MethodPost, p.aws+"/", strings.NewReader(`{}`))
		req.Header.Set("X-Amz-Target", "AWSStepFunctions.ListStateMachines")
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		resp, err = client.Do(req)
		if err != nil {
			t.Fatalf("round %d: AWS endpoint under attack: %v", round, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("round %d: AWS endpoint: %s", round, resp.Status)
		}
	}
	select {
	case <-p.done:
		t.Fatalf("the stack died under attack: %v\n%s", p.err, p.out)
	default:
	}
}
