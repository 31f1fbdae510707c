package test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/pushline/pushline/infra/local/drive"
	"github.com/pushline/pushline/shared/event"
	"github.com/pushline/pushline/shared/hook"
)

// binary is the local stack, built once by TestMain.
var binary string

func TestMain(m *testing.M) {
	if len(os.Args) > 2 && os.Args[1] == "hook" && os.Args[2] == "deliver" { // a post-receive hook's pushline (deploy_test.go)
		os.Exit(hook.Main(context.Background(), os.Args[3:], os.Stdin, os.Stderr))
	}
	dir, err := os.MkdirTemp("", "pushline-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "pushline-local")
	build := exec.Command("go", "build", "-o", binary, "../infra/local")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build the local stack:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const secret = "e2e-webhook-secret"

// proc is a running local stack.
type proc struct {
	t        *testing.T
	dir      string // the test's folder: data/, config.json, repo
	data     string
	httpAddr string
	cmd      *exec.Cmd
	out      *lockedBuffer
	done     chan error
	HTTP     string
	AWS      string
	env      []string // more environment for the stack
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startStack starts the local stack with config cfg in dir (kept across
// restarts of the same test).
func startStack(t *testing.T, dir, cfg string, env ...string) *proc {
	t.Helper()
	p := &proc{t: t, dir: dir, data: filepath.Join(dir, "data"), httpAddr: freeAddr(t), env: env}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	p.start()
	t.Cleanup(func() { p.stop() })
	return p
}

var readyRE = regexp.MustCompile(`pushline local ready\S*\s.*?(http://[0-9.:]+).*?(http://[0-9.:]+)`)

func (p *proc) start() {
	t := p.t
	t.Helper()
	p.out = &lockedBuffer{}
	p.cmd = exec.Command(binary)
	p.cmd.Dir = p.dir
	p.cmd.Env = append(os.Environ(),
		"PUSHLINE_CONFIG="+filepath.Join(p.dir, "config.json"),
		"PUSHLINE_DATA_DIR="+p.data,
		"PUSHLINE_HTTP_ADDR="+p.httpAddr,
		"PUSHLINE_AWS_ADDR=127.0.0.1:0",
		"PUSHLINE_WEBHOOK_SECRET="+secret,
		"PUSHLINE_SANDBOX_WRITABLE="+p.dir, // builds write there (deploy targets, markers); the data dir in it stays hidden
	)
	p.cmd.Env = append(p.cmd.Env, p.env...)
	pr, pw := io.Pipe()
	p.cmd.Stdout = io.MultiWriter(p.out, pw)
	p.cmd.Stderr = p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p.done = make(chan error, 1)
	go func() { p.done <- p.cmd.Wait(); pw.Close() }()
	ready := make(chan [2]string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if m := readyRE.FindStringSubmatch(sc.Text()); m != nil {
				ready <- [2]string{m[1], m[2]}
				break
			}
		}
		io.Copy(io.Discard, pr)
	}()
	select {
	case urls := <-ready:
		p.HTTP, p.AWS = urls[0], urls[1]
	case err := <-p.done:
		t.Fatalf("the local stack exited before it was ready: %v\n%s", err, p.out)
	case <-time.After(60 * time.Second):
		t.Fatalf("the local stack was not ready within 60 s:\n%s", p.out)
	}
}

// stop ends the stack with SIGTERM, as make local's user would, and
// checks it stops cleanly.
func (p *proc) stop() {
	if p.cmd == nil || p.cmd.ProcessState != nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		if err != nil {
			p.t.Errorf("the local stack did not stop cleanly: %v\n%s", err, p.out)
		}
	case <-time.After(40 * time.Second):
		_ = p.cmd.Process.Kill()
		p.t.Errorf("the local stack did not stop within 40 s of SIGTERM")
	}
	if p.t.Failed() {
		p.t.Logf("local stack output:\n%s", p.out)
	}
}

// kill ends the stack with SIGKILL.
func (p *proc) kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// restart stops (or after kill, just starts) the stack again on the same
// data dir and HTTP address.
func (p *proc) restart() {
	p.stop()
	p.start()
}

func (p *proc) awsConfig() aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(p.AWS),
	}
}

func (p *proc) sfn() *sfn.Client { return sfn.NewFromConfig(p.awsConfig()) }

func (p *proc) s3() *s3.Client {
	return s3.NewFromConfig(p.awsConfig(), func(o *s3.Options) { o.UsePathStyle = true })
}

// push delivers a signed GitHub push of repo's last commit.
func (p *proc) push(ctx context.Context, repo *drive.Repo, fullName, branch, before, after, message string, files []string) *drive.Answer {
	p.t.Helper()
	body := drive.GitHubPush{
		Repository: fullName, CloneURL: repo.CloneURL(), Ref: "refs/heads/" + branch,
		Before: before, After: after, Message: message, Files: files, Pusher: "dee", Author: "Dee Veloper",
	}.Body()
	a, err := drive.Deliver(ctx, p.HTTP+"/webhook", secret, "push", body)
	if err != nil {
		p.t.Fatal(err)
	}
	return a
}

// wait waits until the execution is no longer RUNNING, or until cond holds
// for its description, and returns the description.
func (p *proc) wait(ctx context.Context, arn string, cond func(*sfn.DescribeExecutionOutput) bool) *sfn.DescribeExecutionOutput {
	p.t.Helper()
	c := p.sfn()
	for {
		d, err := c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
		if err != nil {
			p.t.Fatalf("describe %s: %v", arn, err)
		}
		if d.Status != sfntypes.ExecutionStatusRunning || (cond != nil && cond(d)) {
			return d
		}
		select {
		case <-ctx.Done():
			p.t.Fatalf("execution %s still %s: %v\n%s", arn, d.Status, ctx.Err(), p.out)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// events reads every event the stack has emitted.
func (p *proc) events() []event.Event {
	p.t.Helper()
	b, err := os.ReadFile(filepath.Join(p.data, "events.jsonl"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		p.t.Fatal(err)
	}
	var out []event.Event
	for _, line := range bytes.Split(b, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var ev event.Event
		if err := json.Unmarshal(line, &ev); err != nil {
			p.t.Fatalf("events.jsonl: %v: %s", err, line)
		}
		out = append(out, ev)
	}
	return out
}

// eventsOf returns the events of one execution as "detail-type/stage/state".
func (p *proc) eventsOf(arn string) ([]string, []event.Event) {
	var names []string
	var evs []event.Event
	for _, ev := range p.events() {
		if ev.Detail.Execution != arn {
			continue
		}
		stage := ev.Detail.Stage
		if ev.DetailType == event.PipelineExecution {
			stage = "" // a pipeline FAILED event may name the failing stage
		}
		names = append(names, ev.DetailType+"/"+stage+"/"+ev.Detail.State)
		evs = append(evs, ev)
	}
	return names, evs
}

// waitEvent waits until the execution has emitted want (named as eventsOf
// names events, e.g. "Stage Execution State Change/Build/STARTED") and
// returns the execution's events.
func (p *proc) waitEvent(ctx context.Context, arn, want string) []event.Event {
	p.t.Helper()
	for {
		got, evs := p.eventsOf(arn)
		if slices.Contains(got, want) {
			return evs
		}
		select {
		case <-ctx.Done():
			p.t.Fatalf("no %s event for %s: %v\ngot %v\n%s", want, arn, ctx.Err(), got, p.out)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// link waits for the n-th approval link (1-based) mailed to the outbox.
func (p *proc) link(ctx context.Context, n int) string {
	p.t.Helper()
	for {
		mails, err := drive.Outbox(filepath.Join(p.data, "outbox"))
		if err != nil {
			p.t.Fatal(err)
		}
		var links []string
		for _, m := range mails {
			links = append(links, m.Links()...)
		}
		if len(links) >= n {
			return links[n-1]
		}
		select {
		case <-ctx.Done():
			p.t.Fatalf("no approval link #%d in the outbox: %v\n%s", n, ctx.Err(), p.out)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// decide opens link and submits decision through the page's form.
func decide(ctx context.Context, t *testing.T, link, decision, comment string) *drive.Page {
	t.Helper()
	page, err := drive.Open(ctx, link)
	if err != nil {
		t.Fatal(err)
	}
	if page.Status != http.StatusOK {
		t.Fatalf("GET %s: %d\n%s", link, page.Status, page.HTML)
	}
	res, err := page.Submit(ctx, link, decision, comment)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// processes lists the processes whose command line is cmdline (arguments
// joined by spaces), read from /proc like pgrep -fx. A build's process that
// survives it would show up here.
func processes(t *testing.T, cmdline string) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatalf("read /proc: %v", err)
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue // gone meanwhile
		}
		if strings.TrimSpace(strings.ReplaceAll(string(b), "\x00", " ")) == cmdline {
			pids = append(pids, pid)
		}
	}
	return pids
}
