package test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pushline/pushline/infra/local/drive"
)

// gitHost is a fake of GitHub's commit status API, served on its own
// listener: it records every status posted, and answers the first one 503
// (Retry-After: 1) to make the poster retry.
type gitHost struct {
	mu       sync.Mutex
	statuses []posted
	refused  bool
	srv      *httptest.Server
}

type posted struct {
	Commit, Auth string
	Body         struct {
		State, Context, Description string
		TargetURL                   string `json:"target_url"`
	}
}

func newGitHost(t *testing.T) *gitHost {
	g := &gitHost{}
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		commit, ok := strings.CutPrefix(r.URL.Path, "/repos/acme/app/statuses/")
		if r.Method != http.MethodPost || !ok {
			http.NotFound(w, r)
			return
		}
		var p posted
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &p.Body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		p.Commit, p.Auth = commit, r.Header.Get("Authorization")
		g.mu.Lock()
		defer g.mu.Unlock()
		if !g.refused {
			g.refused = true
			w.Header().Set("Retry-After", "1")
			http.Error(w, `{"message":"try again"}`, http.StatusServiceUnavailable)
			return
		}
		g.statuses = append(g.statuses, p)
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"id":1}`)
	}))
	t.Cleanup(g.srv.Close)
	return g
}

// of returns the statuses posted for commit, in the order they arrived.
func (g *gitHost) of(commit string) []posted {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []posted
	for _, p := range g.statuses {
		if p.Commit == commit {
			out = append(out, p)
		}
	}
	return out
}

// waitFinal waits until every one of contexts has a final state for commit.
func (g *gitHost) waitFinal(ctx context.Context, t *testing.T, commit string, contexts ...string) []posted {
	t.Helper()
	for {
		got := g.of(commit)
		last := map[string]string{}
		for _, p := range got {
			last[p.Body.Context] = p.Body.State
		}
		done := true
		for _, c := range contexts {
			done = done && last[c] != "" && last[c] != "pending"
		}
		if done {
			return got
		}
		select {
		case <-ctx.Done():
			t.Fatalf("statuses of %s: %+v", commit, got)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// checkOrder: each context shows pending (unless the host refused that
// one: the first post answers 503, and a retry is dropped once the final
// state exists), then success, and nothing after it; every status links
// the run page and carries the token as GitHub documents it.
func checkOrder(t *testing.T, got []posted, runPage string, contexts ...string) {
	t.Helper()
	seq := map[string][]string{}
	for _, p := range got {
		seq[p.Body.Context] = append(seq[p.Body.Context], p.Body.State)
		if p.Auth != "Bearer e2e-token" || p.Body.TargetURL != runPage || p.Body.Description == "" || len(p.Body.Description) > 140 {
			t.Errorf("status %+v, want Bearer e2e-token, target %s and a description", p, runPage)
		}
	}
	pendings := 0
	for _, c := range contexts {
		s := strings.Join(seq[c], " ")
		if s != "pending success" && s != "success" {
			t.Errorf("context %s went %q, want \"pending success\"", c, s)
		}
		if strings.HasPrefix(s, "pending") {
			pendings++
		}
	}
	if pendings < len(contexts)-1 {
		t.Errorf("%d contexts showed pending, want at least %d: %v", pendings, len(contexts)-1, seq)
	}
	// The target URL is the run page, and it answers.
	resp, err := http.Get(runPage)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), runPage[strings.LastIndexByte(runPage, '/')+1:]) {
		t.Errorf("GET %s: %d, want 200 with the run's page:\n%.500s", runPage, resp.StatusCode, page)
	}
}

const statusConfig = `{
  "name": "e2e",
  "repositories": [{"provider": "github", "repository": "acme/app", "cloneUrl": %q, "apiUrl": %q,
                    "pullRequests": {"branches": ["main"], "stages": ["Build"]}}],
  "stages": [
    {"name": "Build", "buildspec": "ci/build.yml", "timeout": "10m"},
    {"name": "Test", "buildspec": "ci/test.yml", "timeout": "10m", "inputs": ["Build"]}
  ]
}`

// TestCommitStatuses: the local stack posts commit statuses to a git host
// for a push and for a pull request, each context pending then success,
// in that order, linking the run page.
func TestCommitStatuses(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	host := newGitHost(t)
	dir := t.TempDir()
	repo, err := drive.NewRepo(ctx, dir, "app", sample)
	if err != nil {
		t.Fatal(err)
	}
	before, after, files, err := repo.Commit(ctx, "main", "Add the sample app")
	if err != nil {
		t.Fatal(err)
	}
	p := startStack(t, dir, fmt.Sprintf(statusConfig, repo.CloneURL(), host.srv.URL), `PUSHLINE_PROVIDER_TOKENS={"github": "e2e-token"}`)
	contexts := []string{"pushline/e2e", "pushline/e2e/Build", "pushline/e2e/Test"}

	t.Run("push", func(t *testing.T) {
		a := p.push(ctx, repo, "acme/app", "main", before, after, "Add the sample app", files)
		if a.Status != http.StatusAccepted {
			t.Fatalf("webhook: %d %s", a.Status, a.Body)
		}
		if d := p.wait(ctx, a.Execution, nil); d.Status != "SUCCEEDED" {
			t.Fatalf("execution %s", d.Status)
		}
		host.waitFinal(ctx, t, after, contexts...)
		time.Sleep(2 * time.Second) // a late (retried) post would land by now
		got := host.of(after)
		checkOrder(t, got, p.HTTP+"/runs/"+a.Execution[strings.LastIndexByte(a.Execution, ':')+1:], contexts...)
	})

	t.Run("pull request", func(t *testing.T) {
		if err := repo.Write("feature.txt", "a change under review\n", 0o644); err != nil {
			t.Fatal(err)
		}
		_, head, _, err := repo.Commit(ctx, "feature", "Add a feature")
		if err != nil {
			t.Fatal(err)
		}
		// The host keeps the pull request's head under refs/pull/1/head.
		if out, err := exec.CommandContext(ctx, "git", "-C", repo.Work, "push", "-q", "origin", "feature:refs/pull/1/head").CombinedOutput(); err != nil {
			t.Fatalf("git push: %v: %s", err, out)
		}
		a := deliverPR(ctx, t, p, repo, "opened", 1, "feature", head)
		name := a.Execution[strings.LastIndexByte(a.Execution, ':')+1:]
		if a.Status != http.StatusAccepted || !strings.HasPrefix(name, "pr1-") {
			t.Fatalf("webhook: %d %s", a.Status, a.Body)
		}
		if d := p.wait(ctx, a.Execution, nil); d.Status != "SUCCEEDED" {
			t.Fatalf("execution %s\n%s", d.Status, p.out)
		}
		// pullRequests.stages: the pull request runs Build only; Test is
		// skipped, and never reported.
		prContexts := contexts[:2]
		host.waitFinal(ctx, t, head, prContexts...)
		time.Sleep(2 * time.Second)
		got := host.of(head)
		checkOrder(t, got, p.HTTP+"/runs/"+name, prContexts...)
		for _, s := range got {
			if s.Body.Context == "pushline/e2e/Test" {
				t.Errorf("the skipped stage was reported: %+v", s)
			}
		}
		if got[0].Body.Description != "Running pull request #1" {
			t.Errorf("first status %+v", got[0])
		}
	})

	t.Run("pull request closed while it runs", func(t *testing.T) {
		if err := repo.Write("SLOW", "60", 0o644); err != nil {
			t.Fatal(err)
		}
		_, head, _, err := repo.Commit(ctx, "slow", "A slow change")
		if err != nil {
			t.Fatal(err)
		}
		a := deliverPR(ctx, t, p, repo, "opened", 2, "slow", head)
		if a.Status != http.StatusAccepted {
			t.Fatalf("webhook: %d %s", a.Status, a.Body)
		}
		p.waitEvent(ctx, a.Execution, "Stage Execution State Change/Build/STARTED")
		closed := deliverPR(ctx, t, p, repo, "closed", 2, "slow", head)
		if closed.Status != http.StatusOK || closed.Reason != "pull request #2 was closed: stopped 1 running execution(s)" {
			t.Fatalf("close: %d %s", closed.Status, closed.Body)
		}
		if d := p.wait(ctx, a.Execution, nil); d.Status != "ABORTED" {
			t.Fatalf("execution %s, want ABORTED", d.Status)
		}
		// Every context the run posted ends: error, the stopped run's too.
		for {
			last := map[string]string{}
			for _, s := range host.of(head) {
				last[s.Body.Context] = s.Body.State + " " + s.Body.Description
			}
			want := map[string]string{
				"pushline/e2e":       "error Stopped: pull request #2 was closed",
				"pushline/e2e/Build": "error Build: the run was stopped",
			}
			if fmt.Sprint(last) == fmt.Sprint(want) {
				break
			}
			select {
			case <-ctx.Done():
				t.Fatalf("statuses %v, want %v", last, want)
			case <-time.After(100 * time.Millisecond):
			}
		}
	})
}

// deliverPR delivers a signed GitHub pull_request event of acme/app.
func deliverPR(ctx context.Context, t *testing.T, p *proc, repo *drive.Repo, action string, number int, branch, head string) *drive.Answer {
	t.Helper()
	repoJSON := map[string]any{"full_name": "acme/app", "clone_url": repo.CloneURL(), "html_url": "https://github.com/acme/app"}
	state := "open"
	if action == "closed" {
		state = "closed"
	}
	body, _ := json.Marshal(map[string]any{
		"action": action, "number": number,
		"pull_request": map[string]any{"number": number, "title": "Change " + branch, "html_url": fmt.Sprintf("https://github.com/acme/app/pull/%d", number), "state": state,
			"head": map[string]any{"ref": branch, "sha": head, "repo": repoJSON},
			"base": map[string]any{"ref": "main", "repo": repoJSON}},
		"repository": repoJSON, "sender": map[string]any{"login": "dee"},
	})
	a, err := drive.Deliver(ctx, p.HTTP+"/webhook", secret, "pull_request", body)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
