package test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/pushline/pushline/infra/local/drive"
)

// TestForkPullRequest: with "forks": true a fork's pull request builds its
// head from the fork (its ci/test.yml, which only the fork holds, runs,
// and reaches no network). Without the build sandbox the fork is refused
// with the reason.
func TestForkPullRequest(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	repo, err := drive.NewRepo(ctx, dir, "app", sample)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := repo.Commit(ctx, "main", "Add the sample app"); err != nil {
		t.Fatal(err)
	}
	// The fork: its own bare repository with a commit the base lacks; the
	// build checks it has no network.
	fork := filepath.Join(dir, "fork.git")
	if out, err := exec.CommandContext(ctx, "git", "clone", "-q", "--bare", repo.Bare, fork).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if err := repo.Write("ci/test.yml", "version: 0.2\nphases:\n  build:\n    commands:\n      - grep -q \"hello from the sample app\" app.txt\n      - if curl -s -m 3 http://example.com >/dev/null 2>&1 || getent hosts example.com >/dev/null; then echo NETWORK; exit 1; fi\n      - echo no network\n", 0o644); err != nil {
		t.Fatal(err)
	}
	_, head, _, err := repo.Commit(ctx, "forked", "A change from a fork")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.CommandContext(ctx, "git", "-C", repo.Work, "push", "-q", fork, "forked:refs/heads/feature").CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if out, err := exec.CommandContext(ctx, "git", "-C", repo.Bare, "branch", "-D", "forked").CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out) // the base must not hold the fork's commit
	}
	cfg := fmt.Sprintf(`{"name": "e2e",
  "repositories": [{"provider": "github", "repository": "acme/app", "cloneUrl": %q, "pullRequests": {"forks": true}}],
  "stages": [{"name": "Build", "buildspec": "ci/build.yml"}, {"name": "Test", "buildspec": "ci/test.yml"}]}`, repo.CloneURL())
	p := startStack(t, dir, cfg)
	base := map[string]any{"full_name": "acme/app", "clone_url": repo.CloneURL(), "html_url": "https://github.com/acme/app"}
	headRepo := map[string]any{"full_name": "eve/app", "clone_url": "file://" + fork, "html_url": "https://github.com/eve/app"}
	body, _ := json.Marshal(map[string]any{
		"action": "opened", "number": 9,
		"pull_request": map[string]any{"number": 9, "title": "From a fork", "html_url": "https://github.com/acme/app/pull/9", "state": "open",
			"head": map[string]any{"ref": "feature", "sha": head, "repo": headRepo},
			"base": map[string]any{"ref": "main", "repo": base}},
		"repository": base, "sender": map[string]any{"login": "eve"},
	})
	a, err := drive.Deliver(ctx, p.HTTP+"/webhook", secret, "pull_request", body)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(p.out.String(), "builds are not sandboxed") {
		if a.Status != http.StatusOK || !strings.Contains(a.Reason, "comes from a fork: the local stack runs builds without the bubblewrap sandbox") {
			t.Fatalf("no sandbox: %d %s, want the fork refused", a.Status, a.Body)
		}
		t.Skip("no build sandbox here: the fork was refused, as it must be")
	}
	if a.Status != http.StatusAccepted {
		t.Fatalf("webhook: %d %s", a.Status, a.Body)
	}
	if d := p.wait(ctx, a.Execution, nil); d.Status != "SUCCEEDED" {
		name := a.Execution[strings.LastIndexByte(a.Execution, ':')+1:]
		obj, err := p.s3().GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("pushline-artifacts"), Key: aws.String("e2e/" + name + "/source.zip")})
		if err == nil {
			b, _ := io.ReadAll(obj.Body)
			files := zipFiles(t, b)
			t.Logf("source.zip holds %d files", len(files))
			for f := range files {
				t.Logf("  %s", f)
			}
		}
		t.Fatalf("execution %s", d.Status)
	}
	if !strings.Contains(p.out.String(), "no network") {
		t.Errorf("the fork's own ci/test.yml did not run:\n%s", p.out)
	}
}
