package hook

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pushline/pushline/shared/codecommit"
	"github.com/pushline/pushline/shared/config"
	"github.com/pushline/pushline/shared/push"
	"github.com/pushline/pushline/shared/webhook"
)

// The test binary is the hook's pushline: `<test binary> hook deliver …`.
func TestMain(m *testing.M) {
	if len(os.Args) > 2 && os.Args[1] == "hook" && os.Args[2] == "deliver" {
		os.Exit(Main(context.Background(), os.Args[3:], os.Stdin, os.Stderr))
	}
	os.Exit(m.Run())
}

const secret = "s3cret"

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=Mary", "GIT_AUTHOR_EMAIL=mary@example.com",
		"GIT_COMMITTER_NAME=Mary", "GIT_COMMITTER_EMAIL=mary@example.com", "GIT_CONFIG_GLOBAL=/dev/null", "PUSHLINE_WEBHOOK_SECRET=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// stack records deliveries as the local stack would receive them.
type stack struct {
	mu  sync.Mutex
	got []*http.Request
	bod [][]byte
}

func (s *stack) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.got, s.bod = append(s.got, r), append(s.bod, b)
	s.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
	io.WriteString(w, `{"status":"started","execution":"arn:x"}`)
}

type repos struct{ bare, work, secretFile string }

func setup(t *testing.T) repos {
	dir := t.TempDir()
	r := repos{bare: filepath.Join(dir, "app.git"), work: filepath.Join(dir, "work"), secretFile: filepath.Join(dir, "webhook-secret")}
	os.WriteFile(r.secretFile, []byte(secret+"\n"), 0o600)
	git(t, dir, "init", "-q", "--bare", "-b", "main", r.bare)
	git(t, dir, "init", "-q", "-b", "main", r.work)
	git(t, r.work, "remote", "add", "origin", r.bare)
	return r
}

func commit(t *testing.T, work, file, msg string) string {
	t.Helper()
	os.MkdirAll(filepath.Dir(filepath.Join(work, file)), 0o755)
	f, _ := os.OpenFile(filepath.Join(work, file), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	f.WriteString(msg + "\n")
	f.Close()
	git(t, work, "add", ".")
	git(t, work, "commit", "-qm", msg)
	return strings.TrimSpace(git(t, work, "rev-parse", "HEAD"))
}

func TestDeliveries(t *testing.T) {
	for _, provider := range []string{push.GitHub, push.GitLab, push.Bitbucket, push.Gitea, push.CodeCommit} {
		t.Run(provider, func(t *testing.T) {
			st := &stack{}
			srv := httptest.NewServer(st)
			defer srv.Close()
			r := setup(t)
			repo := "acme/app"
			if provider == push.CodeCommit {
				repo = "app"
			}
			if err := Install(r.bare, Options{Provider: provider, Repository: repo, HTTPURL: srv.URL, SecretFile: r.secretFile, Command: []string{os.Args[0]}}); err != nil {
				t.Fatal(err)
			}
			first := commit(t, r.work, "README.md", "first")
			out := git(t, r.work, "push", "-q", "origin", "main")
			if !strings.Contains(out, "pushline: refs/heads/main") || !strings.Contains(out, "202") {
				t.Errorf("push output lacks the stack's answer:\n%s", out)
			}
			commit(t, r.work, "src/a.go", "second")
			head := commit(t, r.work, "docs/b.md", "third [skip ci]")
			git(t, r.work, "tag", "v1.0.0")
			git(t, r.work, "push", "-q", "origin", "main", "v1.0.0")

			if len(st.got) != 3 {
				t.Fatalf("%d deliveries, want 3", len(st.got))
			}
			var pushes []push.Push
			for i, req := range st.got {
				pushes = append(pushes, parse(t, provider, req, st.bod[i]))
			}
			update := pushes[1]
			if update.Ref != "refs/heads/main" || update.Before != first || update.After != head || update.HeadCommit.Message != "third [skip ci]" && provider != push.CodeCommit {
				t.Errorf("update push %+v", update)
			}
			if provider != push.Bitbucket && provider != push.CodeCommit {
				if d := cmp.Diff([]string{"docs/b.md", "src/a.go"}, sorted(update.Files)); d != "" || !update.FilesComplete {
					t.Errorf("files (-want +got), complete=%v:\n%s", update.FilesComplete, d)
				}
			}
			if pushes[2].Ref != "refs/tags/v1.0.0" || pushes[2].After != head {
				t.Errorf("tag push %+v", pushes[2])
			}
			if pushes[0].Before != push.ZeroCommit || pushes[0].After != first {
				t.Errorf("created push %+v", pushes[0])
			}
		})
	}
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// parse reads a delivery as the local stack does.
func parse(t *testing.T, provider string, req *http.Request, body []byte) push.Push {
	t.Helper()
	if provider == push.CodeCommit {
		if req.URL.Path != "/codecommit" {
			t.Fatalf("codecommit event posted to %s", req.URL.Path)
		}
		ev, err := codecommit.Parse(body)
		if err != nil {
			t.Fatal(err)
		}
		p, ignored := codecommit.ToPush(ev)
		if ignored != "" {
			t.Fatalf("event ignored: %s\n%s", ignored, body)
		}
		return p
	}
	if req.URL.Path != "/webhook" {
		t.Fatalf("webhook posted to %s", req.URL.Path)
	}
	d, err := webhook.Parse([]byte(secret), req.Header, body)
	if err != nil {
		t.Fatalf("webhook.Parse: %v\n%s", err, body)
	}
	if d.Provider != provider || len(d.Pushes) != 1 {
		t.Fatalf("delivery %+v (ignored %q)", d, d.Ignored)
	}
	return d.Pushes[0]
}

func TestStackDown(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there now
	r := setup(t)
	if err := Install(r.bare, Options{Provider: push.GitHub, Repository: "acme/app", HTTPURL: url, SecretFile: r.secretFile, Command: []string{os.Args[0]}}); err != nil {
		t.Fatal(err)
	}
	commit(t, r.work, "a", "one")
	out := git(t, r.work, "push", "origin", "main") // succeeds: git fails the test otherwise
	if !strings.Contains(out, "the local stack is not running at "+url) {
		t.Errorf("push output does not say the stack is down:\n%s", out)
	}
}

func TestInstall(t *testing.T) {
	r := setup(t)
	o := Options{Provider: push.GitHub, Repository: "acme/app", SecretFile: r.secretFile, Command: []string{"/usr/local/bin/pushline"}}
	hookFile := filepath.Join(r.bare, "hooks", "post-receive")
	if err := Install(r.bare, o); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(hookFile)
	if want := "exec '/usr/local/bin/pushline' 'hook' 'deliver' '--provider' 'github' '--repository' 'acme/app' '--http' 'http://127.0.0.1:8080' '--secret-file' '" + r.secretFile + "'"; !strings.Contains(string(b), want) {
		t.Errorf("hook:\n%s\nwant a line %s", b, want)
	}
	if err := Install(r.bare, o); err != nil { // replacing our own hook
		t.Errorf("reinstall: %v", err)
	}
	os.WriteFile(hookFile, []byte("#!/bin/sh\necho mine\n"), 0o755)
	if err := Install(r.bare, o); !errors.Is(err, ErrHookExists) {
		t.Errorf("over a foreign hook: %v", err)
	}
	o.Force = true
	if err := Install(r.bare, o); err != nil {
		t.Errorf("forced: %v", err)
	}
	if b, _ := os.ReadFile(hookFile + ".orig"); string(b) != "#!/bin/sh\necho mine\n" {
		t.Errorf("foreign hook not kept: %q", b)
	}
	for _, tc := range []struct {
		name string
		path string
		o    Options
		want string
	}{
		{"work tree", r.work, o, "not a bare git repository"},
		{"no provider", r.bare, Options{Repository: "a"}, `provider "" is not one of`},
		{"no secret", r.bare, Options{Provider: push.GitLab, Repository: "a"}, "no webhook secret file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := Install(tc.path, tc.o); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Install = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestOptionsFor(t *testing.T) {
	r := setup(t)
	cfg := &config.Config{Repositories: []config.Repository{
		{Provider: push.GitHub, Repository: "acme/other", CloneURL: "file:///elsewhere.git"},
		{Provider: push.CodeCommit, Repository: "app", CloneURL: "file://" + r.bare},
	}}
	o, err := OptionsFor(cfg, r.bare, "/data", "http://127.0.0.1:9")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(Options{Provider: push.CodeCommit, Repository: "app", HTTPURL: "http://127.0.0.1:9", SecretFile: "/data/webhook-secret"}, o); d != "" {
		t.Errorf("options (-want +got):\n%s", d)
	}
	if _, err := OptionsFor(cfg, r.work, "", ""); !errors.Is(err, ErrNoRepo) {
		t.Errorf("unknown path: %v", err)
	}
}
