package source

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pushline/pushline/shared/push"
)

// TestPullRequestHead: a pull request's head commit that the repository
// holds only under the host's pull request ref (refs/pull/<n>/head, no
// branch) is snapshotted, and a local fork's head from the fork.
func TestPullRequestHead(t *testing.T) {
	repo := newRepo(t)
	c := fakeS3(t)
	// A commit on no branch of the base: the host's pull request ref only.
	work := t.TempDir()
	git(t, work, "clone", "-q", repo.bare, "w")
	w := filepath.Join(work, "w")
	if err := os.WriteFile(filepath.Join(w, "pr.txt"), []byte("from the pull request\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	git(t, w, "add", "-A")
	git(t, w, "commit", "-q", "-m", "pull request change")
	head := strings.TrimSpace(git(t, w, "rev-parse", "HEAD"))
	git(t, w, "push", "-q", "origin", "HEAD:refs/pull/7/head")
	if out := git(t, repo.bare, "branch", "--contains", head); strings.TrimSpace(out) != "" {
		t.Fatalf("head is on a branch: %q", out)
	}
	// A fork: its own bare repository holding a commit the base lacks.
	fork := filepath.Join(work, "fork.git")
	git(t, work, "clone", "-q", "--bare", repo.bare, fork)
	git(t, w, "commit", "-q", "--amend", "-m", "fork change")
	forkHead := strings.TrimSpace(git(t, w, "rev-parse", "HEAD"))
	git(t, w, "push", "-q", fork, "HEAD:refs/heads/feature")

	for _, tc := range []struct {
		name   string
		commit string
		pr     push.PullRequest
		want   testRepo
	}{
		{"pull request ref", head, push.PullRequest{Number: 7, Action: "opened", BaseBranch: "main", HeadRepository: "acme/app"}, testRepo{bare: repo.bare}},
		{"local fork", forkHead, push.PullRequest{Number: 8, Action: "opened", BaseBranch: "main", Fork: true, HeadRepository: "eve/app", HeadCloneURL: "file://" + fork}, testRepo{bare: fork}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			h := &Handler{S3: c, Bucket: testBucket, Log: quietLog(&logs)}
			key := "app/" + strings.ReplaceAll(tc.name, " ", "-") + "/source.zip"
			pr := tc.pr
			art, err := h.Handle(context.Background(), Request{Pipeline: "app", Execution: execARN, Key: key, Push: push.Push{
				Provider: push.GitHub, Repository: "acme/app", CloneURL: "file://" + repo.bare, Ref: "refs/pull/7/head", Branch: "feature",
				After: tc.commit, PullRequest: &pr,
			}})
			if err != nil {
				t.Fatalf("Handle: %v\n%s", err, logs.String())
			}
			if art.Commit != tc.commit {
				t.Errorf("artifact commit %s, want %s", art.Commit, tc.commit)
			}
			checkSnapshot(t, c, key, tc.want, tc.commit)
		})
	}
}
