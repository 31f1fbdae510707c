package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/pushline/pushline/shared/awstest"
	"github.com/pushline/pushline/shared/config"
	"github.com/pushline/pushline/shared/event"
	"github.com/pushline/pushline/shared/push"
	"github.com/pushline/pushline/shared/webhook"
)

const (
	machine    = "arn:aws:states:us-east-1:000000000000:stateMachine:pushline-app"
	testSecret = "pushline-test-secret"
	eventsDir  = "../../events/webhook"
)

func testConfig(mode string) *config.Config {
	return &config.Config{
		Name: "app",
		Mode: mode,
		Repositories: []config.Repository{
			{Provider: "github", Repository: "Codertocat/Hello-World", CloneURL: "file:///srv/git/hello.git", Branches: []string{"master", "release/*"}, Tags: []string{"simple-*"}},
			{Provider: "gitlab", Repository: "mike/diaspora"},
			{Provider: "gitlab", Repository: "jsmith/example", Tags: []string{"v*"}},
			{Provider: "bitbucket", Repository: "acme/app", Branches: []string{"main"}, Tags: []string{"v*"}},
			{Provider: "gitea", Repository: "gitea/webhooks", Paths: []string{"src/**"}},
		},
		Stages: []config.Stage{{Name: "Build", Build: config.Build{Buildspec: "buildspec.yml"}}},
	}
}

type env struct {
	t      *testing.T
	sfn    *awstest.StepFunctions
	events *awstest.Events
	h      *Handler
}

func newEnv(t *testing.T, mode string) *env {
	t.Helper()
	f := newFakeSFN(machine)
	ev := newEvents(t)
	h, err := New(Options{
		Config: testConfig(mode), Secret: []byte(testSecret), StateMachineARN: machine,
		SFN: f, Events: ev, EventBus: "pushline-app",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now:    f.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, sfn: f, events: ev, h: h}
}

// delivery loads events/webhook/<name> (body and headers).
func delivery(t testing.TB, name string) (http.Header, []byte) {
	t.Helper()
	base := filepath.Join(eventsDir, name)
	body, err := os.ReadFile(base + ".json")
	if errors.Is(err, os.ErrNotExist) {
		body, err = os.ReadFile(base + ".form")
	}
	if err != nil {
		t.Fatal(err)
	}
	hb, err := os.ReadFile(base + ".headers.json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal(hb, &m); err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	for k, v := range m {
		h.Set(k, v)
	}
	return h, body
}

func sign(h http.Header, body []byte) {
	p, v, _ := webhook.Detect(h)
	k, val := webhook.SignatureHeader(p, v, []byte(testSecret), body)
	h.Set(k, val)
}

func (e *env) post(h http.Header, body []byte) (int, Response) {
	e.t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/webhook", bytes.NewReader(body))
	r.Header = h.Clone()
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		e.t.Errorf("Content-Type = %q", ct)
	}
	var resp Response
	if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil {
		e.t.Fatalf("body %q: %v", w.Body.String(), err)
	}
	return w.Code, resp
}

func TestDeliveries(t *testing.T) {
	tests := []struct {
		fixture string
		edit    func(h http.Header, body []byte) (http.Header, []byte)
		code    int
		status  string
		reason  string // substring of reason or error
		starts  int
	}{
		{fixture: "github/push-branch", code: 202, status: "started", starts: 1},
		{fixture: "github/push-branch-form", code: 202, status: "started", starts: 1},
		{fixture: "github/push-tag-created", code: 202, status: "started", starts: 1},
		{fixture: "github/push-tag-deleted", code: 200, status: "ignored", reason: "tag simple-tag was deleted"},
		{fixture: "github/ping", code: 200, status: "ignored", reason: "ping"},
		{fixture: "github/issues-opened", code: 200, status: "ignored", reason: `event "issues" is not a push`},
		{fixture: "github/push-skip-ci", code: 200, status: "ignored", reason: "says [skip ci]"},
		{fixture: "gitlab/push", code: 202, status: "started", starts: 1},
		{fixture: "gitlab/tag-push", code: 202, status: "started", starts: 1},
		{fixture: "gitlab/push-branch-deleted", code: 200, status: "ignored", reason: "branch feature/old was deleted"},
		{fixture: "gitlab/merge-request", code: 200, status: "ignored", reason: "pull requests of mike/diaspora are not configured"},
		{fixture: "bitbucket/push", code: 202, status: "started", starts: 1},
		{fixture: "bitbucket/pullrequest-created", code: 200, status: "ignored", reason: "pull requests of acme/app are not configured"},
		{fixture: "gitea/push", code: 202, status: "started", starts: 1},
		{fixture: "gitea/push-forgejo", code: 202, status: "started", starts: 1},
		{fixture: "gitea/create", code: 200, status: "ignored"},
		{fixture: "gitea/push-tag", code: 200, status: "ignored", reason: "tag v1.0.0: no tags are configured"},
		{fixture: "github/push-branch", code: 200, status: "ignored", reason: "branch feature/x matches none of master, release/*",
			edit: func(h http.Header, b []byte) (http.Header, []byte) {
				b = bytes.ReplaceAll(b, []byte(`"refs/heads/master"`), []byte(`"refs/heads/feature/x"`))
				sign(h, b)
				return h, b
			}},
		{fixture: "gitea/push", code: 200, status: "ignored", reason: "no changed file matches paths src/**",
			edit: func(h http.Header, b []byte) (http.Header, []byte) {
				b = bytes.ReplaceAll(b, []byte(`"src/hooks.go"`), []byte(`"docs/hooks.md"`))
				sign(h, b)
				return h, b
			}},
		{fixture: "github/push-branch", code: 200, status: "ignored", reason: "repository someone/else on github is not configured",
			edit: func(h http.Header, b []byte) (http.Header, []byte) {
				b = bytes.ReplaceAll(b, []byte(`"Codertocat/Hello-World"`), []byte(`"someone/else"`))
				sign(h, b)
				return h, b
			}},
		// client mistakes
		{fixture: "github/push-branch", code: 401, reason: "bad signature",
			edit: func(h http.Header, b []byte) (http.Header, []byte) { return h, append(b, ' ') }},
		{fixture: "gitlab/push", code: 401, reason: "bad signature",
			edit: func(h http.Header, b []byte) (http.Header, []byte) { h.Set("X-Gitlab-Token", "guess"); return h, b }},
		{fixture: "bitbucket/push", code: 401, reason: "missing signature",
			edit: func(h http.Header, b []byte) (http.Header, []byte) { h.Del("X-Hub-Signature"); return h, b }},
		{fixture: "gitea/push", code: 401, reason: "bad signature",
			edit: func(h http.Header, b []byte) (http.Header, []byte) {
				h.Set("X-Gitea-Signature", strings.Repeat("0", 64))
				return h, b
			}},
		{fixture: "github/push-branch", code: 400, reason: "malformed",
			edit: func(h http.Header, b []byte) (http.Header, []byte) { b = b[:100]; sign(h, b); return h, b }},
		{fixture: "github/push-branch", code: 400, reason: "unknown webhook provider",
			edit: func(h http.Header, b []byte) (http.Header, []byte) { h.Del("X-GitHub-Event"); return h, b }},
		{fixture: "github/push-branch", code: 415, reason: "unsupported content type",
			edit: func(h http.Header, b []byte) (http.Header, []byte) { h.Set("Content-Type", "text/xml"); return h, b }},
	}
	for _, tt := range tests {
		name := tt.fixture
		if tt.edit != nil {
			name += "/" + tt.reason
		}
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, config.ModeSuperseded)
			h, b := delivery(t, tt.fixture)
			if tt.edit != nil {
				h, b = tt.edit(h, b)
			}
			code, resp := e.post(h, b)
			if code != tt.code || resp.Status != tt.status {
				t.Fatalf("answer %d %+v, want %d %q", code, resp, tt.code, tt.status)
			}
			if !strings.Contains(resp.Reason+resp.Error, tt.reason) {
				t.Errorf("reason/error %q, want it to contain %q", resp.Reason+resp.Error, tt.reason)
			}
			if code >= 400 && resp.Error == "" {
				t.Error("error answer without error message")
			}
			if e.sfn.Starts() != tt.starts {
				t.Errorf("%d executions started, want %d", e.sfn.Starts(), tt.starts)
			}
			if tt.status == "started" && !strings.HasPrefix(resp.Execution, "arn:aws:states:us-east-1:000000000000:execution:pushline-app:") {
				t.Errorf("execution %q", resp.Execution)
			}
		})
	}
}

func TestInput(t *testing.T) {
	e := newEnv(t, config.ModeSuperseded)
	h, b := delivery(t, "github/push-branch")
	code, resp := e.post(h, b)
	if code != 202 {
		t.Fatalf("code %d %+v", code, resp)
	}
	name := nameOf(resp.Execution)
	if want := "master-25d6d9e64a7b-" + RefKey("app", "Codertocat/Hello-World", "refs/heads/master"); name != want {
		t.Errorf("name %q, want %q", name, want)
	}
	var in push.Input
	if err := json.Unmarshal([]byte(e.sfn.Get(name).Input), &in); err != nil {
		t.Fatal(err)
	}
	if in.Pipeline != "app" || in.Push.CloneURL != "file:///srv/git/hello.git" || in.Push.Files != nil ||
		in.Push.After != "25d6d9e64a7bc5d1c1a2e0c4f8fbbd6a2b5c7e11" || in.Push.DeliveryID != "e1f2a3b4-cc78-11e3-81ab-4c9367dc0958" || len(in.Request) < 16 {
		t.Errorf("input %+v", in)
	}
}

func TestMethodAndSize(t *testing.T) {
	e := newEnv(t, config.ModeSuperseded)
	r := httptest.NewRequest(http.MethodGet, "/webhook", nil)
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	if w.Code != 405 || w.Header().Get("Allow") != "POST" || !strings.Contains(w.Body.String(), `"error"`) {
		t.Errorf("GET: %d %q allow %q", w.Code, w.Body.String(), w.Header().Get("Allow"))
	}

	e.h.o.MaxBody = 1 << 10
	h, b := delivery(t, "github/push-branch")
	// declared too large: refused before reading
	r = httptest.NewRequest(http.MethodPost, "/webhook", &failReader{t: t})
	r.Header = h
	r.ContentLength = 2 << 10
	w = httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	if w.Code != 413 {
		t.Errorf("declared large: %d %s", w.Code, w.Body.String())
	}
	// undeclared (chunked) too large: reading stops at the limit
	lr := &countingReader{r: bytes.NewReader(bytes.Repeat(b, 100))}
	r = httptest.NewRequest(http.MethodPost, "/webhook", lr)
	r.Header = h
	r.ContentLength = -1
	w = httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	if w.Code != 413 {
		t.Errorf("chunked large: %d %s", w.Code, w.Body.String())
	}
	if lr.n > 2<<10+64<<10 {
		t.Errorf("read %d bytes of an oversized body", lr.n)
	}
}

type failReader struct{ t *testing.T }

func (f *failReader) Read([]byte) (int, error) {
	f.t.Error("body read although Content-Length is over the limit")
	return 0, io.EOF
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func TestDuplicates(t *testing.T) {
	e := newEnv(t, config.ModeSuperseded)
	h, b := delivery(t, "github/push-branch")
	code, first := e.post(h, b)
	if code != 202 {
		t.Fatalf("first: %d %+v", code, first)
	}
	// the same push from another hook (another delivery id)
	h2 := h.Clone()
	h2.Set("X-GitHub-Delivery", "another-delivery")
	code, resp := e.post(h2, b)
	if code != 200 || resp.Status != "duplicate" || resp.Execution != first.Execution {
		t.Errorf("other delivery id: %d %+v", code, resp)
	}
	// a redelivery (same id, same input) a minute later
	e.sfn.Advance(time.Minute)
	code, resp = e.post(h, b)
	if code != 200 || resp.Status != "duplicate" || resp.Execution != first.Execution {
		t.Errorf("redelivery: %d %+v", code, resp)
	}
	if e.sfn.Starts() != 1 {
		t.Errorf("%d executions, want 1", e.sfn.Starts())
	}
}

// TestConcurrentDuplicates: many deliveries of one push at once start
// exactly one execution and answer started exactly once.
func TestConcurrentDuplicates(t *testing.T) {
	e := newEnv(t, config.ModeSuperseded)
	h, b := delivery(t, "github/push-branch")
	const n = 40
	var wg sync.WaitGroup
	codes := make(chan int, n)
	arns := make(chan string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hh := h.Clone()
			hh.Set("X-GitHub-Delivery", "delivery-"+string(rune('a'+i%26))+string(rune('a'+i/26)))
			r := httptest.NewRequest(http.MethodPost, "/webhook", bytes.NewReader(b))
			r.Header = hh
			w := httptest.NewRecorder()
			e.h.ServeHTTP(w, r)
			var resp Response
			json.Unmarshal(w.Body.Bytes(), &resp)
			codes <- w.Code
			arns <- resp.Execution
		}()
	}
	wg.Wait()
	close(codes)
	close(arns)
	count := map[int]int{}
	for c := range codes {
		count[c]++
	}
	if diff := cmp.Diff(map[int]int{202: 1, 200: n - 1}, count); diff != "" {
		t.Errorf("answers (-want +got):\n%s", diff)
	}
	first := ""
	for a := range arns {
		if first == "" {
			first = a
		}
		if a != first || a == "" {
			t.Errorf("execution %q, want all %q", a, first)
		}
	}
	if e.sfn.Starts() != 1 {
		t.Errorf("%d executions started, want exactly 1", e.sfn.Starts())
	}
}

func TestBitbucketMulti(t *testing.T) {
	e := newEnv(t, config.ModeSuperseded)
	h, b := delivery(t, "bitbucket/push-multi")
	code, resp := e.post(h, b)
	if code != 202 || resp.Status != "started" || len(resp.Results) != 3 {
		t.Fatalf("%d %+v", code, resp)
	}
	var got []string
	for _, r := range resp.Results {
		got = append(got, r.Ref+" "+r.Status)
	}
	want := []string{"refs/heads/main started", "refs/heads/feature/login ignored", "refs/tags/v1.2.0 started"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	if e.sfn.Starts() != 2 {
		t.Errorf("%d executions, want 2", e.sfn.Starts())
	}
}

// pushCommit returns the github/push-branch delivery moved to commit c.
func pushCommit(t *testing.T, c string) (http.Header, []byte) {
	h, b := delivery(t, "github/push-branch")
	b = bytes.ReplaceAll(b, []byte("25d6d9e64a7bc5d1c1a2e0c4f8fbbd6a2b5c7e11"), []byte(c))
	sign(h, b)
	return h, b
}

func TestSuperseded(t *testing.T) {
	e := newEnv(t, config.ModeSuperseded)
	_, old := e.post(pushCommit(t, strings.Repeat("a", 40)))
	_, other := e.post(delivery(t, "github/push-tag-created")) // another ref: untouched
	code, cur := e.post(pushCommit(t, strings.Repeat("b", 40)))
	if code != 202 {
		t.Fatalf("%d %+v", code, cur)
	}
	o := e.sfn.Get(nameOf(old.Execution))
	if o.Status != "ABORTED" || o.Error != Superseded || o.Cause != "superseded by "+nameOf(cur.Execution) {
		t.Errorf("old execution %+v", o)
	}
	if s := e.sfn.Get(nameOf(other.Execution)).Status; s != "RUNNING" {
		t.Errorf("other ref's execution %s, want RUNNING", s)
	}
	if s := e.sfn.Get(nameOf(cur.Execution)).Status; s != "RUNNING" {
		t.Errorf("new execution %s, want RUNNING", s)
	}
	if len(e.events.Puts()) != 1 {
		t.Fatalf("%d events, want 1", len(e.events.Puts()))
	}
	ent := e.events.Puts()[0].Entries[0]
	var d event.Detail
	if err := json.Unmarshal([]byte(aws.ToString(ent.Detail)), &d); err != nil {
		t.Fatal(err)
	}
	want := event.Detail{Pipeline: "app", Execution: old.Execution, State: event.Superseded, Repository: "Codertocat/Hello-World",
		Ref: "refs/heads/master", Commit: strings.Repeat("a", 40), Cause: "superseded by " + nameOf(cur.Execution), SupersededBy: cur.Execution}
	if diff := cmp.Diff(want, d); diff != "" || aws.ToString(ent.DetailType) != event.PipelineExecution {
		t.Errorf("event %s (-want +got):\n%s", aws.ToString(ent.DetailType), diff)
	}
}

// TestSupersededListLag: ListExecutions is eventually consistent; the
// execution just started supersedes the older one even if not listed yet.
func TestSupersededListLag(t *testing.T) {
	e := newEnv(t, config.ModeSuperseded)
	_, old := e.post(pushCommit(t, strings.Repeat("a", 40)))
	e.sfn.Lag = true
	code, cur := e.post(pushCommit(t, strings.Repeat("b", 40)))
	if code != 202 {
		t.Fatalf("%d %+v", code, cur)
	}
	if o := e.sfn.Get(nameOf(old.Execution)); o.Status != "ABORTED" {
		t.Errorf("old execution %s, want ABORTED", o.Status)
	}
}

func TestParallelAndQueued(t *testing.T) {
	for _, mode := range []string{config.ModeParallel, config.ModeQueued} {
		t.Run(mode, func(t *testing.T) {
			e := newEnv(t, mode)
			_, old := e.post(pushCommit(t, strings.Repeat("a", 40)))
			_, cur := e.post(pushCommit(t, strings.Repeat("b", 40)))
			if e.sfn.Get(nameOf(old.Execution)).Status != "RUNNING" || len(e.events.Puts()) != 0 {
				t.Errorf("%s: older execution stopped", mode)
			}
			if mode != config.ModeQueued {
				return
			}
			q := &Queue{SFN: e.sfn, Logger: e.h.o.Logger}
			got, err := q.Handle(t.Context(), QueueRequest{Execution: cur.Execution})
			if err != nil || !got.Wait || got.Ahead != 1 {
				t.Errorf("newer: %+v %v, want wait behind 1", got, err)
			}
			got, err = q.Handle(t.Context(), QueueRequest{Execution: old.Execution})
			if err != nil || got.Wait {
				t.Errorf("older: %+v %v, want no wait", got, err)
			}
			e.sfn.Get(nameOf(old.Execution)).Status = "SUCCEEDED"
			got, err = q.Handle(t.Context(), QueueRequest{Execution: cur.Execution})
			if err != nil || got.Wait {
				t.Errorf("newer after older ended: %+v %v, want no wait", got, err)
			}
			if _, err := q.Handle(t.Context(), QueueRequest{Execution: "nonsense"}); err == nil {
				t.Error("bad ARN: want error")
			}
		})
	}
}

func TestUnavailable(t *testing.T) {
	for name, err := range map[string]error{
		"throttled":          &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded", Fault: smithy.FaultClient},
		"server fault":       &smithy.GenericAPIError{Code: "InternalFailure", Fault: smithy.FaultServer},
		"connection refused": &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")},
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, config.ModeSuperseded)
			e.sfn.Err = err
			code, resp := e.post(delivery(t, "github/push-branch"))
			if code != 503 || resp.Error == "" || strings.Contains(resp.Error, "Rate") {
				t.Errorf("%d %+v, want 503 with a generic error", code, resp)
			}
		})
	}
}

func TestNames(t *testing.T) {
	p := push.Push{Repository: "Acme/App", Ref: "refs/heads/feature/ÜBER-long/" + strings.Repeat("x", 80), Branch: "feature/ÜBER-long/" + strings.Repeat("x", 80),
		After: "0123456789abcdef0123456789abcdef01234567"}
	n := ExecutionName("app", p)
	if len(n) > 80 || strings.Trim(n, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != "" {
		t.Errorf("name %q: not ≤ 80 of [A-Za-z0-9_-]", n)
	}
	if !strings.HasPrefix(n, "feature-BER-long-xxxx") || !strings.Contains(n, "-0123456789ab-") {
		t.Errorf("name %q", n)
	}
	p2 := p
	p2.Repository, p2.After = "acme/app", "fedcba9876543210fedcba9876543210fedcba98"
	if !SameRef(ExecutionName("app", p2), RefKey("app", "ACME/APP", p.Ref)) {
		t.Error("same repository (any case) and ref: suffixes differ")
	}
	if SameRef(ExecutionName("other", p), RefKey("app", p.Repository, p.Ref)) {
		t.Error("another pipeline shares the suffix")
	}
	if got := commitOf(n); got != "0123456789ab" {
		t.Errorf("commitOf = %q", got)
	}
	if got := StateMachineARN(ExecutionARN(machine, n)); got != machine {
		t.Errorf("StateMachineARN(ExecutionARN) = %q", got)
	}
}

func TestNewErrors(t *testing.T) {
	f := newFakeSFN(machine)
	good := Options{Config: testConfig(""), Secret: []byte("s"), StateMachineARN: machine, SFN: f}
	if _, err := New(good); err != nil {
		t.Fatal(err)
	}
	bad := good
	bad.Secret = nil
	if _, err := New(bad); !errors.Is(err, webhook.ErrNoSecret) {
		t.Errorf("no secret: %v", err)
	}
	bad = good
	bad.StateMachineARN = ""
	if _, err := New(bad); err == nil {
		t.Error("no state machine: want error")
	}
}

// TestSameDelivery: the same delivery (same delivery id, same body) sent
// again, at once or concurrently, answers duplicate: Step Functions would
// take an identical StartExecution for an SDK retry, so each request's
// input differs (push.Input.Request).
func TestSameDelivery(t *testing.T) {
	t.Run("sequential", func(t *testing.T) {
		e := newEnv(t, config.ModeSuperseded)
		h, b := delivery(t, "github/push-branch")
		code, first := e.post(h, b)
		if code != 202 || first.Status != StatusStarted {
			t.Fatalf("first: %d %+v", code, first)
		}
		code, again := e.post(h, b)
		if code != 200 || again.Status != StatusDuplicate || again.Execution != first.Execution {
			t.Errorf("second: %d %+v, want 200 duplicate %s", code, again, first.Execution)
		}
		if e.sfn.Starts() != 1 {
			t.Errorf("%d executions, want 1", e.sfn.Starts())
		}
	})
	t.Run("concurrent", func(t *testing.T) {
		e := newEnv(t, config.ModeSuperseded)
		h, b := delivery(t, "github/push-branch")
		const n = 20
		type answer struct {
			code int
			resp Response
		}
		answers := make(chan answer, n)
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				r := httptest.NewRequest(http.MethodPost, "/webhook", bytes.NewReader(b))
				r.Header = h.Clone()
				w := httptest.NewRecorder()
				e.h.ServeHTTP(w, r)
				var resp Response
				if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil {
					t.Errorf("body %q: %v", w.Body.String(), err)
				}
				answers <- answer{w.Code, resp}
			})
		}
		wg.Wait()
		close(answers)
		got := map[string]int{}
		arns := map[string]bool{}
		for a := range answers {
			got[fmt.Sprint(a.code, " ", a.resp.Status)]++
			arns[a.resp.Execution] = true
		}
		if diff := cmp.Diff(map[string]int{"202 started": 1, "200 duplicate": n - 1}, got); diff != "" {
			t.Errorf("answers (-want +got):\n%s", diff)
		}
		if len(arns) != 1 || arns[""] {
			t.Errorf("executions answered %v, want one", arns)
		}
		if e.sfn.Starts() != 1 {
			t.Errorf("%d executions, want 1", e.sfn.Starts())
		}
	})
}

// TestSDKRetry: a StartExecution retried with the same input (what the
// SDK does after a lost answer) is the same call, not a duplicate; the
// fake follows AWS's rule.
func TestSDKRetry(t *testing.T) {
	f := newFakeSFN(machine)
	in := &sfn.StartExecutionInput{StateMachineArn: aws.String(machine), Name: aws.String("n"), Input: aws.String(`{"request":"a"}`)}
	first, err := f.StartExecution(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	again, err := f.StartExecution(t.Context(), in)
	if err != nil || aws.ToString(again.ExecutionArn) != aws.ToString(first.ExecutionArn) {
		t.Errorf("same name and input: %v %v, want the same execution", again, err)
	}
	other := *in
	other.Input = aws.String(`{"request":"b"}`)
	var exists *sfntypes.ExecutionAlreadyExists
	if _, err := f.StartExecution(t.Context(), &other); !errors.As(err, &exists) {
		t.Errorf("same name, other input: %v, want ExecutionAlreadyExists", err)
	}
}

// TestInvalidRef: a signed push whose ref git would refuse is a client's
// mistake: 400 with an error naming the ref, and nothing started.
func TestInvalidRef(t *testing.T) {
	tests := []struct{ ref, why string }{
		{`refs/heads/release/q\u0000x`, "control character"},
		{"refs/heads/release/a b", "space"},
		{"refs/heads/release/a..b", `".."`},
		{"refs/heads/release/x.lock", ".lock"},
		{"refs/heads/release/", "ends with '/'"},
		{"refs/heads/release//x", "empty component"},
		{`refs/heads/release/a\\b`, `'\\'`},
		{"refs/heads/release/a@{1}", `"@{"`},
		{"refs/heads/release/a~1", `'~'`},
		// Refs no git host can have: 70,000 characters, invalid UTF-8.
		{"refs/heads/release/" + strings.Repeat("x", 70000), "70019 bytes long, git hosts accept at most 255"},
		{"refs/heads/release/a\xffb", "not valid UTF-8"},
		{"refs/heads/release/\xed\xa0\x80", "not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.ref[:min(len(tt.ref), 60)], func(t *testing.T) {
			e := newEnv(t, config.ModeSuperseded)
			h, b := delivery(t, "github/push-branch")
			b = bytes.Replace(b, []byte(`"ref": "refs/heads/master"`), []byte(`"ref": "`+tt.ref+`"`), 1)
			if !bytes.Contains(b, []byte(tt.ref)) {
				t.Fatal("fixture: ref not replaced")
			}
			sign(h, b)
			code, resp := e.post(h, b)
			if code != 400 || !strings.Contains(resp.Error, "invalid ref") || !strings.Contains(resp.Error, tt.why) || e.sfn.Starts() != 0 {
				t.Errorf("%d %.300q (%d started), want 400 invalid ref saying %s", code, resp.Error, e.sfn.Starts(), tt.why)
			}
			if len(resp.Error) > 512 {
				t.Errorf("error is %d bytes, want the ref clipped", len(resp.Error))
			}
		})
	}
}

// pushUpdate returns the github/push-branch delivery moved to the ref
// update before → after, its head commit stamped ts ("" for none).
func pushUpdate(t *testing.T, before, after, ts string) (http.Header, []byte) {
	t.Helper()
	h, b := delivery(t, "github/push-branch")
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	m["before"], m["after"] = before, after
	hc := m["head_commit"].(map[string]any)
	hc["id"] = after
	if ts == "" {
		delete(hc, "timestamp")
	} else {
		hc["timestamp"] = ts
	}
	delete(m, "commits")
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	h.Set("X-GitHub-Delivery", before[:4]+after[:4])
	sign(h, b)
	return h, b
}

// TestLateOlderPush: a push older than a running execution's (delivered
// late, e.g. a redelivery after a 503) never stops the newer run: it is
// not started (200 ignored, naming the newer execution), or, when it
// raced past that check, stopped as superseded by the newer one.
func TestLateOlderPush(t *testing.T) {
	a, b, c, d := strings.Repeat("a", 40), strings.Repeat("b", 40), strings.Repeat("c", 40), strings.Repeat("d", 40)
	const t1, t2, t3 = "2026-11-27T09:01:00Z", "2026-11-27T09:02:00Z", "2026-11-27T09:03:00Z"
	type upd struct{ before, after, ts string }
	tests := []struct {
		name          string
		first, second upd
		secondNewer   bool // the second push wins (the first is superseded)
	}{
		{"parent first (in order)", upd{a, b, t1}, upd{b, c, t2}, true},
		{"child first (late parent)", upd{b, c, t2}, upd{a, b, t1}, false},
		{"late parent, no timestamps", upd{b, c, ""}, upd{a, b, ""}, false},
		{"late parent, misleading timestamps", upd{b, c, t1}, upd{a, b, t3}, false},
		{"unrelated, timestamps decide", upd{c, d, t3}, upd{a, b, t1}, false},
		{"unrelated, newer timestamp arrives second", upd{a, b, t1}, upd{c, d, t3}, true},
		{"unrelated, no timestamps: arrival order", upd{c, d, ""}, upd{a, b, ""}, true},
		{"rollback (each the other's parent): arrival order", upd{a, b, t2}, upd{b, a, t1}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, config.ModeSuperseded)
			code, first := e.post(pushUpdate(t, tt.first.before, tt.first.after, tt.first.ts))
			if code != 202 {
				t.Fatalf("first: %d %+v", code, first)
			}
			code, second := e.post(pushUpdate(t, tt.second.before, tt.second.after, tt.second.ts))
			f := e.sfn.Get(nameOf(first.Execution))
			if tt.secondNewer {
				if code != 202 || second.Status != StatusStarted || f.Status != "ABORTED" || f.Cause != "superseded by "+nameOf(second.Execution) {
					t.Errorf("second: %d %+v; first %s %q, want second started, first superseded", code, second, f.Status, f.Cause)
				}
				return
			}
			if code != 200 || second.Status != StatusIgnored || !strings.Contains(second.Reason, "superseded by newer execution "+first.Execution) {
				t.Errorf("second: %d %+v, want 200 ignored, superseded by %s", code, second, first.Execution)
			}
			if f.Status != "RUNNING" || e.sfn.Starts() != 1 || len(e.events.Puts()) != 0 {
				t.Errorf("first %s, %d started, %d events; want the first running alone", f.Status, e.sfn.Starts(), len(e.events.Puts()))
			}
		})
	}
}

// TestLateOlderPushRace: the newer push starts between the older one's
// check and its start; the older stops itself, superseded by the newer.
func TestLateOlderPushRace(t *testing.T) {
	a, b, c := strings.Repeat("a", 40), strings.Repeat("b", 40), strings.Repeat("c", 40)
	e := newEnv(t, config.ModeSuperseded)
	var newer Response
	e.sfn.BeforeStart = func() {
		var code int
		code, newer = e.post(pushUpdate(t, b, c, ""))
		if code != 202 {
			t.Errorf("newer: %d %+v", code, newer)
		}
	}
	code, older := e.post(pushUpdate(t, a, b, ""))
	if code != 200 || older.Status != StatusIgnored || !strings.Contains(older.Reason, "superseded by newer execution "+newer.Execution) {
		t.Errorf("older: %d %+v, want 200 ignored, superseded by %s", code, older, newer.Execution)
	}
	if n := e.sfn.Get(nameOf(newer.Execution)); n.Status != "RUNNING" {
		t.Errorf("newer %s, want RUNNING", n.Status)
	}
	olderName := nameOf(ExecutionARN(machine, ExecutionName("app", push.Push{Repository: "Codertocat/Hello-World", Ref: "refs/heads/master", Branch: "master", After: b})))
	o := e.sfn.Get(olderName)
	if o == nil || o.Status != "ABORTED" || o.Error != Superseded || o.Cause != "superseded by "+nameOf(newer.Execution) {
		t.Fatalf("older execution %+v, want ABORTED, superseded by the newer", o)
	}
	if len(e.events.Puts()) != 1 {
		t.Fatalf("%d events, want 1", len(e.events.Puts()))
	}
	var ev event.Detail
	if err := json.Unmarshal([]byte(aws.ToString(e.events.Puts()[0].Entries[0].Detail)), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.State != event.Superseded || ev.Execution != o.ARN || ev.SupersededBy != newer.Execution || ev.Commit != b {
		t.Errorf("event %+v", ev)
	}
}

// TestLateRedelivery: a push that already ran, superseded since, sent
// again while the newer runs is a duplicate of its own execution, and
// the newer one keeps running.
func TestLateRedelivery(t *testing.T) {
	a, b, c := strings.Repeat("a", 40), strings.Repeat("b", 40), strings.Repeat("c", 40)
	e := newEnv(t, config.ModeSuperseded)
	_, old := e.post(pushUpdate(t, a, b, ""))
	_, cur := e.post(pushUpdate(t, b, c, ""))
	code, again := e.post(pushUpdate(t, a, b, ""))
	if code != 200 || again.Status != StatusDuplicate || again.Execution != old.Execution {
		t.Errorf("redelivery: %d %+v, want 200 duplicate %s", code, again, old.Execution)
	}
	if s := e.sfn.Get(nameOf(cur.Execution)).Status; s != "RUNNING" {
		t.Errorf("newer execution %s, want RUNNING", s)
	}
}

func TestOrder(t *testing.T) {
	at := func(m int) time.Time { return time.Date(2026, 11, 27, 9, m, 0, 0, time.UTC) }
	p := func(before, after string, ts time.Time) push.Push {
		return push.Push{Before: before, After: after, HeadCommit: push.Commit{ID: after, Timestamp: ts}}
	}
	tests := []struct {
		name string
		a, b push.Push
		want int
	}{
		{"a follows b", p("b", "c", at(1)), p("a", "b", at(2)), 1},
		{"b follows a", p("a", "b", at(2)), p("b", "c", at(1)), -1},
		{"case-insensitive ids", p("B", "c", time.Time{}), p("a", "b", time.Time{}), 1},
		{"each the other's parent", p("a", "b", at(1)), p("b", "a", at(2)), 0},
		{"unrelated, a later", p("c", "d", at(3)), p("a", "b", at(1)), 1},
		{"unrelated, b later", p("c", "d", at(1)), p("a", "b", at(3)), -1},
		{"unrelated, same time", p("c", "d", at(1)), p("a", "b", at(1)), 0},
		{"unrelated, a without time", p("c", "d", time.Time{}), p("a", "b", at(1)), 0},
		{"created refs (zero before)", p(push.ZeroCommit, "d", time.Time{}), p("a", push.ZeroCommit, time.Time{}), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := order(tt.a, tt.b); got != tt.want {
				t.Errorf("order = %d, want %d", got, tt.want)
			}
			if got := order(tt.b, tt.a); got != -tt.want {
				t.Errorf("order reversed = %d, want %d", got, -tt.want)
			}
		})
	}
}
