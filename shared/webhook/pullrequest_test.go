package webhook

import (
	"bytes"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pushline/pushline/shared/push"
)

func fixtureNamed(t testing.TB, name string) fixture {
	t.Helper()
	for _, f := range loadFixtures(t) {
		if f.name == name {
			return f
		}
	}
	t.Fatalf("no fixture %s", name)
	return fixture{}
}

// prWant is what a pull request delivery must parse into.
type prWant struct {
	Repository, Ref, Branch, After, Before string
	PR                                     *push.PullRequest
	Ignored                                string // a substring of the ignore reason
}

// TestPullRequests pins every provider's pull request deliveries: the
// actions that run (good), forks, drafts, closes and merges, and actions
// that are not handled.
func TestPullRequests(t *testing.T) {
	const (
		ghHead  = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"
		glHead  = "da1560886d4f094c3e6c9ef40349f7d38b5d27d7"
		gtHead  = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"
		zero    = push.ZeroCommit
		ghTitle = "Update the README with new information."
		ghURL   = "https://github.com/Codertocat/Hello-World/pull/2"
		glURL   = "http://example.com/mike/diaspora/-/merge_requests/1"
		bbURL   = "https://bitbucket.org/acme/app/pull-requests/7"
		gtURL   = "https://gitea.example.com/gitea/webhooks/pulls/1"
	)
	gh := func(action string, closed, draft bool) *push.PullRequest {
		return &push.PullRequest{Number: 2, Action: action, Title: ghTitle, URL: ghURL, BaseBranch: "master",
			HeadRepository: "Codertocat/Hello-World", HeadCloneURL: "https://github.com/Codertocat/Hello-World.git", Closed: closed, Draft: draft}
	}
	gl := func(action string, closed bool) *push.PullRequest {
		return &push.PullRequest{Number: 1, Action: action, Title: "MS-Viewport", URL: glURL, BaseBranch: "master",
			HeadRepository: "mike/diaspora", HeadCloneURL: "http://example.com/mike/diaspora.git", Closed: closed}
	}
	bb := func(action string, closed bool) *push.PullRequest {
		return &push.PullRequest{Number: 7, Action: action, Title: "Login", URL: bbURL, BaseBranch: "main",
			HeadRepository: "acme/app", HeadCloneURL: "https://bitbucket.org/acme/app.git", Closed: closed}
	}
	gt := func(action string, closed bool) *push.PullRequest {
		return &push.PullRequest{Number: 1, Action: action, Title: "Add webhook docs", URL: gtURL, BaseBranch: "master",
			HeadRepository: "gitea/webhooks", HeadCloneURL: "https://gitea.example.com/gitea/webhooks.git", Closed: closed}
	}
	ghPR := func(pr *push.PullRequest, after, before string) prWant {
		return prWant{Repository: "Codertocat/Hello-World", Ref: "refs/pull/2/head", Branch: "changes", After: after, Before: before, PR: pr}
	}
	glPR := func(pr *push.PullRequest, before string) prWant {
		return prWant{Repository: "mike/diaspora", Ref: "refs/merge-requests/1/head", Branch: "ms-viewport", After: glHead, Before: before, PR: pr}
	}
	bbPR := func(pr *push.PullRequest, after string) prWant {
		return prWant{Repository: "acme/app", Ref: "refs/pull-requests/7/from", Branch: "feature/login", After: after, Before: zero, PR: pr}
	}
	gtPR := func(pr *push.PullRequest, after string) prWant {
		return prWant{Repository: "gitea/webhooks", Ref: "refs/pull/1/head", Branch: "docs", After: after, Before: zero, PR: pr}
	}
	tests := map[string]prWant{
		// good
		"github/pull-request-opened":      ghPR(gh("opened", false, false), ghHead, zero),
		"github/pull-request-synchronize": ghPR(gh("synchronize", false, false), ghHead, "f95f852bd8fca8fcc58a9a2d6c842781e32a215e"),
		"github/pull-request-reopened":    ghPR(gh("reopened", false, false), ghHead, zero),
		"gitlab/merge-request":            glPR(gl("open", false), zero),
		"gitlab/merge-request-reopen":     glPR(gl("reopen", false), zero),
		"gitlab/merge-request-update":     glPR(gl("update", false), "b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327"),
		"bitbucket/pullrequest-created":   bbPR(bb("pullrequest:created", false), "9fceb02d0ae5"),
		"bitbucket/pullrequest-updated":   bbPR(bb("pullrequest:updated", false), "5e8a1f3c9b2d"),
		"gitea/pull-request-opened":       gtPR(gt("opened", false), gtHead),
		"gitea/pull-request-synchronized": gtPR(gt("synchronized", false), "b2c3d4e5f60718293a4b5c6d7e8f901234567890"),
		"gitea/pull-request-reopened":     gtPR(gt("reopened", false), gtHead),
		// closed and merged: a push that stops the run
		"github/pull-request-closed":      ghPR(gh("closed", true, false), ghHead, zero),
		"github/pull-request-merged":      ghPR(gh("closed", true, false), ghHead, zero),
		"gitlab/merge-request-close":      glPR(gl("close", true), zero),
		"gitlab/merge-request-merge":      glPR(gl("merge", true), zero),
		"bitbucket/pullrequest-fulfilled": bbPR(bb("pullrequest:fulfilled", true), "9fceb02d0ae5"),
		"bitbucket/pullrequest-rejected":  bbPR(bb("pullrequest:rejected", true), "9fceb02d0ae5"),
		"gitea/pull-request-closed":       gtPR(gt("closed", true), gtHead),
		"gitea/pull-request-merged":       gtPR(gt("closed", true), gtHead),
		// drafts are parsed as drafts (they run: Draft is informational)
		"github/pull-request-draft": ghPR(gh("opened", false, true), ghHead, zero),
		"gitlab/merge-request-draft": func() prWant {
			w := glPR(gl("open", false), zero)
			w.PR.Draft, w.PR.Title = true, "Draft: MS-Viewport"
			return w
		}(),
		"bitbucket/pullrequest-draft": {Repository: "acme/app", Ref: "refs/pull-requests/9/from", Branch: "feature/login", After: "9fceb02d0ae5", Before: zero,
			PR: &push.PullRequest{Number: 9, Action: "pullrequest:created", Title: "Login", URL: "https://bitbucket.org/acme/app/pull-requests/9", BaseBranch: "main",
				HeadRepository: "acme/app", HeadCloneURL: "https://bitbucket.org/acme/app.git", Draft: true}},
		"gitea/pull-request-forgejo": {Repository: "gitea/webhooks", Ref: "refs/pull/3/head", Branch: "docs", After: gtHead, Before: zero,
			PR: &push.PullRequest{Number: 3, Action: "opened", Title: "Add webhook docs", URL: "https://gitea.example.com/gitea/webhooks/pulls/3", BaseBranch: "master",
				HeadRepository: "gitea/webhooks", HeadCloneURL: "https://gitea.example.com/gitea/webhooks.git", Draft: true}},
		// forks: the head lives in another repository
		"github/pull-request-fork": {Repository: "Codertocat/Hello-World", Ref: "refs/pull/3/head", Branch: "changes", After: "9d8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f", Before: zero,
			PR: &push.PullRequest{Number: 3, Action: "opened", Title: ghTitle, URL: "https://github.com/Codertocat/Hello-World/pull/3", BaseBranch: "master",
				HeadRepository: "octo-fork/Hello-World", HeadCloneURL: "https://github.com/octo-fork/Hello-World.git", Fork: true}},
		"gitlab/merge-request-fork": {Repository: "mike/diaspora", Ref: "refs/merge-requests/2/head", Branch: "ms-viewport", After: "c2a1e0d9b8f7e6d5c4b3a2918f7e6d5c4b3a2918", Before: zero,
			PR: &push.PullRequest{Number: 2, Action: "open", Title: "MS-Viewport", URL: "http://example.com/mike/diaspora/-/merge_requests/2", BaseBranch: "master",
				HeadRepository: "jdoe/diaspora", HeadCloneURL: "http://example.com/jdoe/diaspora.git", Fork: true}},
		"bitbucket/pullrequest-fork": {Repository: "acme/app", Ref: "refs/pull-requests/8/from", Branch: "feature/login", After: "b1d2e3f4a5c6", Before: zero,
			PR: &push.PullRequest{Number: 8, Action: "pullrequest:created", Title: "Login", URL: "https://bitbucket.org/acme/app/pull-requests/8", BaseBranch: "main",
				HeadRepository: "emmaj/app", HeadCloneURL: "https://bitbucket.org/emmaj/app.git", Fork: true}},
		"gitea/pull-request-fork": {Repository: "gitea/webhooks", Ref: "refs/pull/2/head", Branch: "docs", After: "c3d4e5f60718293a4b5c6d7e8f90123456789012", Before: zero,
			PR: &push.PullRequest{Number: 2, Action: "opened", Title: "Add webhook docs", URL: "https://gitea.example.com/gitea/webhooks/pulls/2", BaseBranch: "master",
				HeadRepository: "alice/webhooks", HeadCloneURL: "https://gitea.example.com/alice/webhooks.git", Fork: true}},
		// actions that change no code
		"github/pull-request-labeled":       {Ignored: `pull request action "labeled" is not handled (runs on opened, synchronize, reopened; closed stops the run)`},
		"gitlab/merge-request-approved":     {Ignored: `pull request action "approved" is not handled (runs on open, reopen, update; close, merge stops the run)`},
		"gitlab/merge-request-update-title": {Ignored: "merge request !1 update without new commits (no oldrev)"},
		"bitbucket/pullrequest-approved":    {Ignored: `pull request action "pullrequest:approved" is not handled`},
		"gitea/pull-request-label-updated":  {Ignored: `pull request action "label_updated" is not handled (runs on opened, synchronized, reopened; closed stops the run)`},
	}
	for name, w := range tests {
		t.Run(name, func(t *testing.T) {
			f := fixtureNamed(t, name)
			d, err := Parse(testSecret, f.header, f.body)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if w.Ignored != "" {
				if len(d.Pushes) != 0 || !strings.Contains(d.Ignored, w.Ignored) {
					t.Errorf("ignored %q with %d pushes, want ignored %q", d.Ignored, len(d.Pushes), w.Ignored)
				}
				return
			}
			if d.Ignored != "" || len(d.Pushes) != 1 {
				t.Fatalf("ignored %q with %d pushes, want one push", d.Ignored, len(d.Pushes))
			}
			p := d.Pushes[0]
			got := prWant{Repository: p.Repository, Ref: p.Ref, Branch: p.Branch, After: p.After, Before: p.Before, PR: p.PullRequest}
			if diff := cmp.Diff(w, got); diff != "" {
				t.Errorf("pull request mismatch (-want +got):\n%s", diff)
			}
			if p.Tag != "" || p.Deleted || p.CloneURL == "" || p.WebURL == "" || p.DeliveryID != d.ID || p.HeadCommit.ID != p.After {
				t.Errorf("incomplete push %+v", p)
			}
		})
	}
}

// TestPullRequestForged: every provider's pull request delivery with one
// byte changed after signing, or with no signature, is refused.
func TestPullRequestForged(t *testing.T) {
	for _, name := range []string{"github/pull-request-opened", "gitlab/merge-request", "bitbucket/pullrequest-created", "gitea/pull-request-opened", "gitea/pull-request-forgejo"} {
		t.Run(name, func(t *testing.T) {
			f := fixtureNamed(t, name)
			forged := bytes.Replace(f.body, []byte(`"title"`), []byte(`"titlE"`), 1)
			_, err := Parse(testSecret, f.header, forged)
			if name == "gitlab/merge-request" { // a token, not a signature: a wrong one
				h := f.header.Clone()
				h.Set(HeaderGitLab, "not-the-secret")
				_, err = Parse(testSecret, h, f.body)
			}
			if !errors.Is(err, ErrBadSignature) {
				t.Errorf("forged: %v, want ErrBadSignature", err)
			}
			h := http.Header{}
			for k, v := range f.header {
				if !strings.Contains(strings.ToLower(k), "signature") && k != "X-Gitlab-Token" {
					h[k] = v
				}
			}
			if _, err := Parse(testSecret, h, f.body); !errors.Is(err, ErrMissingSignature) {
				t.Errorf("unsigned: %v, want ErrMissingSignature", err)
			}
		})
	}
}

// TestPullRequestMalformed: signed deliveries missing what a run needs
// are 400s (ErrMalformed), never a run.
func TestPullRequestMalformed(t *testing.T) {
	tests := []struct {
		name, fixture, old, new, why string
	}{
		{"github head sha", "github/pull-request-opened", `"sha": "ec26c3e57ca3a959ca5aad62de7213c562f8c821"`, `"sha": "main"`, "is not a commit id"},
		{"github number", "github/pull-request-opened", `"number": 2`, `"number": 0`, "pull request number 0"},
		{"github body", "github/pull-request-opened", `{`, `[`, "not a JSON object"},
		{"gitlab no target branch", "gitlab/merge-request", `"target_branch": "master"`, `"target_branch": ""`, "without a target branch"},
		{"gitlab oldrev", "gitlab/merge-request-update", `"oldrev": "b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327"`, `"oldrev": "x"`, "before"},
		{"bitbucket short hash", "bitbucket/pullrequest-created", `"hash": "9fceb02d0ae5"`, `"hash": "9fceb02"`, "is not a commit id"},
		{"bitbucket no destination", "bitbucket/pullrequest-created", `"destination"`, `"destinatio"`, "destination.repository"},
		{"gitea no pull_request", "gitea/pull-request-opened", `"pull_request"`, `"pull_request_x"`, "without pull_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fixtureNamed(t, tt.fixture)
			body := bytes.ReplaceAll(f.body, []byte(tt.old), []byte(tt.new))
			if bytes.Equal(body, f.body) {
				t.Fatal("fixture not changed")
			}
			h := f.header.Clone()
			p, v, _ := Detect(h)
			k, sig := SignatureHeader(p, v, testSecret, body)
			h.Set(k, sig)
			_, err := Parse(testSecret, h, body)
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tt.why) {
				t.Errorf("Parse = %v, want ErrMalformed saying %q", err, tt.why)
			}
		})
	}
}

// FuzzPullRequest feeds signed pull request bodies of every provider to
// Parse: no panic, only sentinel errors, and a push it returns is a well
// formed pull request push.
func FuzzPullRequest(f *testing.F) {
	for _, fx := range loadFixtures(f) {
		if ev := EventName(fx.header); strings.Contains(strings.ToLower(ev), "pull") || strings.Contains(ev, "Merge Request") {
			f.Add(ev, fx.body)
		}
	}
	f.Fuzz(func(t *testing.T, event string, body []byte) {
		for _, fp := range fuzzProviders {
			h := http.Header{}
			h.Set(fp.eventHeader, event)
			h.Set("Content-Type", "application/json")
			if fp.provider == push.Bitbucket {
				h.Set("X-Request-UUID", "fuzz")
			}
			k, v := SignatureHeader(fp.provider, fp.variant, testSecret, body)
			h.Set(k, v)
			d, err := Parse(testSecret, h, body)
			if err != nil {
				if !isSentinel(err) {
					t.Fatalf("error %v wraps no sentinel", err)
				}
				continue
			}
			for _, p := range d.Pushes {
				pr := p.PullRequest
				if pr == nil {
					continue
				}
				if pr.Number <= 0 || pr.BaseBranch == "" || p.Repository == "" || !validHash(p.After, bitbucketMinHash) ||
					p.Ref != PullRequestRef(fp.provider, pr.Number) || (pr.Closed && prActions[fp.provider][pr.Action] != prClose && fp.provider != push.Bitbucket) {
					t.Fatalf("bad pull request push %+v %+v", p, *pr)
				}
			}
		}
	})
}

// BenchmarkParsePullRequest parses GitHub's pull_request example (about
// 20 KB), signature check included.
func BenchmarkParsePullRequest(b *testing.B) {
	f := fixtureNamed(b, "github/pull-request-synchronize")
	b.SetBytes(int64(len(f.body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(testSecret, f.header, f.body); err != nil {
			b.Fatal(err)
		}
	}
}
