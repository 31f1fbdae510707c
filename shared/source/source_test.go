package source

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-cmp/cmp"

	"github.com/pushline/pushline/shared/push"
)

func init() { retryDelays = []time.Duration{time.Millisecond, time.Millisecond} }

const execARN = "arn:aws:states:us-east-1:000000000000:execution:pushline-app:main-abc-123"

func TestLocalRepository(t *testing.T) {
	repo := newRepo(t)
	c := fakeS3(t)
	for _, tc := range []struct {
		name     string
		clone    string
		partSize int
	}{
		{"file URL", "file://" + repo.bare, 0},
		{"path", repo.bare, 0},
		{"multipart", repo.bare, 16 << 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			rs := &recS3{S3: c}
			h := &Handler{S3: rs, Bucket: testBucket, Log: quietLog(&logs), PartSize: tc.partSize}
			key := "app/" + strings.ReplaceAll(tc.name, " ", "-") + "/source.zip"
			req := Request{Pipeline: "app", Execution: execARN, Key: key, Push: push.Push{
				Provider: push.GitHub, Repository: "acme/app", CloneURL: tc.clone,
				Ref: "refs/heads/main", Branch: "main", After: repo.first,
			}}
			art, err := h.Handle(context.Background(), req)
			if err != nil {
				t.Fatalf("Handle: %v\n%s", err, logs.String())
			}
			if art.Commit != repo.first || art.Bucket != testBucket || art.Key != key || art.Location != testBucket+"/"+key || art.Size <= 0 {
				t.Errorf("artifact = %+v", art)
			}
			checkSnapshot(t, c, key, repo, repo.first)
			if tc.partSize > 0 && rs.count("UploadPart") < 2 {
				t.Errorf("multipart: %d parts, want several (calls %v)", rs.count("UploadPart"), rs.calls)
			}
			if !strings.Contains(logs.String(), "source snapshot done") || !strings.Contains(logs.String(), execARN) {
				t.Errorf("log lacks the progress line with the execution:\n%s", logs.String())
			}
		})
	}
	t.Run("abbreviated commit resolves", func(t *testing.T) {
		h := &Handler{S3: c, Bucket: testBucket, Log: quietLog(new(bytes.Buffer))}
		art, err := h.Handle(context.Background(), Request{Pipeline: "app", Execution: execARN,
			Push: push.Push{Provider: push.Gitea, Repository: "acme/app", CloneURL: repo.bare, After: repo.second[:10]}})
		if err != nil {
			t.Fatal(err)
		}
		if art.Commit != repo.second || art.Key != "app/main-abc-123/source.zip" {
			t.Errorf("artifact = %+v", art)
		}
		checkSnapshot(t, c, art.Key, repo, repo.second)
	})
}

func TestLocalRepositoryErrors(t *testing.T) {
	repo := newRepo(t)
	c := fakeS3(t)
	for _, tc := range []struct {
		name   string
		clone  string
		commit string
		is     error
	}{
		{"commit not in repository", repo.bare, strings.Repeat("ab", 20), ErrCommitNotFound},
		{"no repository", repo.bare + "-missing", repo.first, ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &Handler{S3: c, Bucket: testBucket, Log: quietLog(new(bytes.Buffer))}
			key := "errors/" + strings.ReplaceAll(tc.name, " ", "-") + ".zip"
			_, err := h.Handle(context.Background(), Request{Key: key, Push: push.Push{
				Provider: push.GitHub, Repository: "acme/app", CloneURL: tc.clone, After: tc.commit}})
			var fe *FetchError
			if !errors.As(err, &fe) || !errors.Is(err, tc.is) {
				t.Fatalf("err = %T %v, want *FetchError wrapping %v", err, err, tc.is)
			}
			if objectExists(t, c, key) {
				t.Errorf("object %s written despite the failure", key)
			}
			t.Logf("message: %v", err)
		})
	}
}

func TestRequestErrors(t *testing.T) {
	ok := push.Push{Provider: push.GitHub, Repository: "acme/app", WebURL: "https://github.com/acme/app", After: strings.Repeat("a", 40)}
	for _, tc := range []struct {
		name   string
		bucket string
		req    Request
		want   string
	}{
		{"no bucket", "", Request{Key: "k", Push: ok}, "no bucket"},
		{"no key", testBucket, Request{Push: ok}, "no key"},
		{"deleted", testBucket, Request{Key: "k", Push: func() push.Push { p := ok; p.Deleted = true; p.After = push.ZeroCommit; return p }()}, "was deleted"},
		{"option injection", testBucket, Request{Key: "k", Push: func() push.Push { p := ok; p.After = "--output=/tmp/x"; return p }()}, "want a commit id"},
		{"unknown provider", testBucket, Request{Key: "k", Push: func() push.Push { p := ok; p.Provider = "svn"; return p }()}, `provider "svn"`},
		{"no url", testBucket, Request{Key: "k", Push: func() push.Push { p := ok; p.WebURL = ""; return p }()}, "no http(s) cloneUrl or webUrl"},
		{"bad repository", testBucket, Request{Key: "k", Push: func() push.Push { p := ok; p.Repository = "app"; return p }()}, "want owner/name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &Handler{Bucket: tc.bucket}
			_, err := h.Handle(context.Background(), tc.req)
			var re *RequestError
			if !errors.As(err, &re) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %T %v, want *RequestError containing %q", err, err, tc.want)
			}
		})
	}
}

// fakeProvider serves one provider's archive endpoint the way the provider
// does, in the mode a test asks for.
type fakeProvider struct {
	t        *testing.T
	provider string
	path     string // the escaped path the archive is served at
	query    string // the query it needs ("" for none)
	header   string // the header carrying the token
	value    string // the value it must have; "": the request carries none
	archive  []byte

	mu       sync.Mutex
	mode     string // ok | notfound | unauthorized | redirect | loop | truncated | cut | corrupt | unavailable
	requests int
	leaked   bool // a token reached the redirect target
}

func (f *fakeProvider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests++
	mode := f.mode
	f.mu.Unlock()
	if r.URL.Path == "/codeload/archive.tar.gz" { // redirect target
		if r.Header.Get("Authorization") != "" || r.Header.Get("Private-Token") != "" {
			f.mu.Lock()
			f.leaked = true
			f.mu.Unlock()
		}
		w.Header().Set("Content-Type", "application/x-gzip")
		w.Write(f.archive)
		return
	}
	if r.URL.EscapedPath() != f.path || r.URL.RawQuery != f.query {
		f.t.Errorf("%s: request %s?%s, want %s?%s", f.provider, r.URL.EscapedPath(), r.URL.RawQuery, f.path, f.query)
		http.NotFound(w, r)
		return
	}
	if got := r.Header.Get(f.header); got != f.value {
		f.t.Errorf("%s: %s = %q, want %q", f.provider, f.header, got, f.value)
	}
	switch mode {
	case "ok":
		w.Header().Set("Content-Type", "application/x-gzip")
		w.Write(f.archive)
	case "notfound":
		http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
	case "unauthorized":
		http.Error(w, `{"message":"Bad credentials"}`, http.StatusUnauthorized)
	case "ratelimited":
		w.Header().Set("X-RateLimit-Remaining", "0")
		http.Error(w, `{"message":"API rate limit exceeded"}`, http.StatusForbidden)
	case "unavailable":
		http.Error(w, "down", http.StatusServiceUnavailable)
	case "redirect":
		http.Redirect(w, r, "http://localhost:"+strings.Split(r.Host, ":")[1]+"/codeload/archive.tar.gz?token=SIGNED", http.StatusFound)
	case "loop":
		http.Redirect(w, r, r.URL.String(), http.StatusFound)
	case "truncated": // announces the full length, sends half
		w.Header().Set("Content-Length", strconv.Itoa(len(f.archive)))
		w.Write(f.archive[:len(f.archive)/2])
	case "cut": // chunked, the gzip stream stops half way
		w.Write(f.archive[:len(f.archive)/2])
	case "login": // a website answering with its login page
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte("<html>Log in</html>"))
	case "corrupt":
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write([]byte("this is not an archive"))
	case "plain": // a tar already decompressed by the HTTP layer
		zr, err := gzip.NewReader(bytes.NewReader(f.archive))
		if err != nil {
			f.t.Fatal(err)
		}
		io.Copy(w, zr)
	}
}

func TestProviders(t *testing.T) {
	repo := newRepo(t)
	c := fakeS3(t)
	sha := repo.first
	type prov struct {
		provider, repository, webPath, path, query, header, token, value, top string
	}
	provs := []prov{
		{push.GitHub, "acme/app", "/acme/app", "/api/v3/repos/acme/app/tarball/" + sha, "",
			"Authorization", "ghp_secret", "Bearer ghp_secret", "acme-app-" + sha[:7]},
		{push.GitLab, "group/sub/proj", "/gitlab/group/sub/proj", "/gitlab/api/v4/projects/group%2Fsub%2Fproj/repository/archive.tar.gz", "sha=" + sha,
			"Private-Token", "glpat-secret", "glpat-secret", "proj-" + sha + "-" + sha},
		{push.Bitbucket, "ws/repo", "/ws/repo", "/ws/repo/get/" + sha + ".tar.gz", "",
			"Authorization", "bob:app-secret", "Basic " + base64.StdEncoding.EncodeToString([]byte("bob:app-secret")), "ws-repo-" + sha[:12]},
		{push.Gitea, "owner/repo", "/owner/repo", "/api/v1/repos/owner/repo/archive/" + sha + ".tar.gz", "",
			"Authorization", "gitea-secret", "token gitea-secret", "repo"},
	}
	type outcome struct {
		ErrType string // "" for success
		Is      error
		Status  int
	}
	modes := []struct {
		mode      string
		withToken bool
		want      outcome
	}{
		{"ok", false, outcome{}},
		{"ok", true, outcome{}},
		{"plain", false, outcome{}},
		{"redirect", true, outcome{}},
		{"notfound", false, outcome{"*source.FetchError", ErrNotFound, 404}},
		{"unauthorized", true, outcome{"*source.FetchError", ErrUnauthorized, 401}},
		{"ratelimited", false, outcome{"*source.FetchError", ErrRateLimited, 403}},
		{"unavailable", false, outcome{"*source.FetchError", ErrUnavailable, 503}},
		{"loop", false, outcome{"*source.FetchError", ErrRedirects, 0}},
		{"truncated", false, outcome{"*source.FetchError", ErrTruncated, 200}},
		{"cut", false, outcome{"*source.FetchError", ErrTruncated, 200}},
		{"corrupt", false, outcome{"*source.ArchiveError", nil, 0}},
		{"login", false, outcome{"*source.FetchError", ErrUnauthorized, 200}},
	}
	for _, pv := range provs {
		for _, m := range modes {
			name := fmt.Sprintf("%s/%s", pv.provider, m.mode)
			if m.withToken {
				name += "+token"
			}
			t.Run(name, func(t *testing.T) {
				fp := &fakeProvider{t: t, provider: pv.provider, path: pv.path, query: pv.query,
					header: pv.header, mode: m.mode, archive: repo.tarGz(t, sha, pv.top)}
				srv := httptest.NewServer(fp)
				defer srv.Close()
				var tokens Tokens
				if m.withToken {
					tokens = TokenMap{pv.provider + ":" + strings.ToLower(pv.repository): pv.token, pv.provider: "wrong-token"}
					fp.value = pv.value
				}
				var logs bytes.Buffer
				rs := &recS3{S3: c}
				h := &Handler{S3: rs, Bucket: testBucket, Tokens: tokens, Log: quietLog(&logs), PartSize: 32 << 10}
				key := "app/" + strings.ReplaceAll(name, "/", "-") + "/source.zip"
				art, err := h.Handle(context.Background(), Request{Pipeline: "app", Execution: execARN, Key: key,
					Push: push.Push{Provider: pv.provider, Repository: pv.repository, WebURL: srv.URL + pv.webPath,
						CloneURL: srv.URL + pv.webPath + ".git", Ref: "refs/heads/main", After: sha}})
				if m.withToken && strings.Contains(logs.String()+fmt.Sprint(err), pv.token) {
					t.Errorf("the token appears in the log or the error")
				}
				if wantReq := map[string]int{"truncated": 2, "cut": 2, "unavailable": 3}[m.mode]; wantReq != 0 && fp.requests != wantReq {
					t.Errorf("%d requests, want %d (retries)", fp.requests, wantReq)
				}
				if fp.leaked {
					t.Errorf("the token followed the redirect to another host")
				}
				got := outcome{}
				if err != nil {
					got.ErrType = fmt.Sprintf("%T", err)
					if m.want.Is != nil && errors.Is(err, m.want.Is) {
						got.Is = m.want.Is
					}
					var fe *FetchError
					if errors.As(err, &fe) {
						got.Status = fe.Status
					}
					t.Logf("message: %v", err)
				}
				if diff := cmp.Diff(m.want, got, cmp.Comparer(func(a, b error) bool { return a == b })); diff != "" {
					t.Fatalf("outcome (-want +got):\n%s\nerr: %v\nlog:\n%s", diff, err, logs.String())
				}
				if err != nil {
					if objectExists(t, c, key) {
						t.Errorf("object written despite the failure")
					}
					if rs.count("CreateMultipartUpload") != rs.count("AbortMultipartUpload") {
						t.Errorf("multipart upload not aborted: %v", rs.calls)
					}
					return
				}
				if art.Commit != sha || art.Location != testBucket+"/"+key {
					t.Errorf("artifact = %+v", art)
				}
				checkSnapshot(t, c, key, repo, sha)
			})
		}
	}
}

func TestTokenMap(t *testing.T) {
	m, err := ParseTokens([]byte(`{"github": "general", "GitHub:Acme/App": "specific", "gitlab:g/p": "gl"}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ provider, repo, want string }{
		{"github", "acme/app", "specific"},
		{"github", "ACME/APP", "specific"},
		{"github", "acme/other", "general"},
		{"gitlab", "g/p", "gl"},
		{"gitlab", "g/q", ""},
		{"gitea", "a/b", ""},
	} {
		got, _ := m.Token(context.Background(), tc.provider, tc.repo)
		if got != tc.want {
			t.Errorf("Token(%s, %s) = %q, want %q", tc.provider, tc.repo, got, tc.want)
		}
	}
	for _, bad := range []string{`[]`, `{"svn": "x"}`, `{"github": ""}`, `{"github": 1}`, `not json ghp_secret`} {
		_, err := ParseTokens([]byte(bad))
		if err == nil {
			t.Errorf("ParseTokens(%s) succeeded", bad)
		} else if strings.Contains(err.Error(), "ghp_secret") {
			t.Errorf("ParseTokens error echoes the secret: %v", err)
		}
	}
}

func TestLocate(t *testing.T) {
	sha := strings.Repeat("c", 40)
	for _, tc := range []struct {
		name string
		p    push.Push
		want location
	}{
		{"github.com", push.Push{Provider: "github", Repository: "acme/app", WebURL: "https://github.com/acme/app", CloneURL: "https://github.com/acme/app.git"},
			location{url: "https://api.github.com/repos/acme/app/tarball/" + sha}},
		{"github enterprise", push.Push{Provider: "github", Repository: "acme/app", WebURL: "https://ghe.example.com/acme/app"},
			location{url: "https://ghe.example.com/api/v3/repos/acme/app/tarball/" + sha}},
		{"gitlab relative root", push.Push{Provider: "gitlab", Repository: "g/s/p", WebURL: "https://example.com/gitlab/g/s/p"},
			location{url: "https://example.com/gitlab/api/v4/projects/g%2Fs%2Fp/repository/archive.tar.gz?sha=" + sha}},
		{"gitlab ssh clone url", push.Push{Provider: "gitlab", Repository: "g/p", CloneURL: "git@gitlab.example.com:g/p.git"},
			location{url: "https://gitlab.example.com/api/v4/projects/g%2Fp/repository/archive.tar.gz?sha=" + sha}},
		{"bitbucket", push.Push{Provider: "bitbucket", Repository: "ws/repo", WebURL: "https://bitbucket.org/ws/repo"},
			location{url: "https://bitbucket.org/ws/repo/get/" + sha + ".tar.gz"}},
		{"bitbucket no url", push.Push{Provider: "bitbucket", Repository: "ws/repo"},
			location{url: "https://bitbucket.org/ws/repo/get/" + sha + ".tar.gz"}},
		{"gitea", push.Push{Provider: "gitea", Repository: "o/r", CloneURL: "https://git.example.com/o/r.git"},
			location{url: "https://git.example.com/api/v1/repos/o/r/archive/" + sha + ".tar.gz"}},
		{"gitea ssh url", push.Push{Provider: "gitea", Repository: "o/r", CloneURL: "ssh://git@git.example.com:2222/o/r.git", WebURL: "https://git.example.com/o/r"},
			location{url: "https://git.example.com/api/v1/repos/o/r/archive/" + sha + ".tar.gz"}},
		{"escaped names", push.Push{Provider: "github", Repository: "acme/a b", WebURL: "https://github.com/acme/a%20b"},
			location{url: "https://api.github.com/repos/acme/a%20b/tarball/" + sha}},
		{"config cloneUrl names a mirror", push.Push{Provider: "github", Repository: "acme/app", CloneURL: "https://ghe.example.com/mirrors/app.git", WebURL: "https://github.com/acme/app"},
			location{url: "https://ghe.example.com/api/v3/repos/mirrors/app/tarball/" + sha}},
		{"gitea cloneUrl elsewhere under a root", push.Push{Provider: "gitea", Repository: "o/r", CloneURL: "https://example.com/git/team/r2.git"},
			location{url: "https://example.com/git/api/v1/repos/team/r2/archive/" + sha + ".tar.gz"}},
		{"gitlab cloneUrl elsewhere", push.Push{Provider: "gitlab", Repository: "g/p", CloneURL: "https://gitlab.example.com/other/sub/p.git"},
			location{url: "https://gitlab.example.com/api/v4/projects/other%2Fsub%2Fp/repository/archive.tar.gz?sha=" + sha}},
		{"file url", push.Push{Provider: "github", Repository: "acme/app", CloneURL: "file:///srv/git/app.git"},
			location{dir: "/srv/git/app.git"}},
		{"absolute path", push.Push{Provider: "github", Repository: "acme/app", CloneURL: "/srv/git/app.git"},
			location{dir: "/srv/git/app.git"}},
		{"relative path", push.Push{Provider: "github", Repository: "acme/app", CloneURL: "./app.git"},
			location{dir: "./app.git"}},
		// pull requests: the head commit where the host serves it
		{"github pull request", push.Push{Provider: "github", Repository: "acme/app", WebURL: "https://github.com/acme/app", Ref: "refs/pull/7/head",
			PullRequest: &push.PullRequest{Number: 7, HeadRepository: "acme/app", HeadCloneURL: "https://github.com/acme/app.git"}},
			location{url: "https://api.github.com/repos/acme/app/tarball/" + sha}},
		{"github fork: the base serves refs/pull", push.Push{Provider: "github", Repository: "acme/app", WebURL: "https://github.com/acme/app", Ref: "refs/pull/7/head",
			PullRequest: &push.PullRequest{Number: 7, Fork: true, HeadRepository: "eve/app", HeadCloneURL: "https://github.com/eve/app.git"}},
			location{url: "https://api.github.com/repos/acme/app/tarball/" + sha}},
		{"gitlab fork: the target serves refs/merge-requests", push.Push{Provider: "gitlab", Repository: "g/p", WebURL: "https://gitlab.example.com/g/p",
			PullRequest: &push.PullRequest{Number: 2, Fork: true, HeadRepository: "eve/p", HeadCloneURL: "https://gitlab.example.com/eve/p.git"}},
			location{url: "https://gitlab.example.com/api/v4/projects/g%2Fp/repository/archive.tar.gz?sha=" + sha}},
		{"gitea fork: the base serves refs/pull", push.Push{Provider: "gitea", Repository: "o/r", CloneURL: "https://git.example.com/o/r.git",
			PullRequest: &push.PullRequest{Number: 2, Fork: true, HeadRepository: "eve/r", HeadCloneURL: "https://git.example.com/eve/r.git"}},
			location{url: "https://git.example.com/api/v1/repos/o/r/archive/" + sha + ".tar.gz"}},
		{"bitbucket fork: the fork", push.Push{Provider: "bitbucket", Repository: "ws/repo", WebURL: "https://bitbucket.org/ws/repo",
			PullRequest: &push.PullRequest{Number: 8, Fork: true, HeadRepository: "eve/repo", HeadCloneURL: "https://bitbucket.org/eve/repo.git"}},
			location{url: "https://bitbucket.org/eve/repo/get/" + sha + ".tar.gz"}},
		{"bitbucket same repository", push.Push{Provider: "bitbucket", Repository: "ws/repo", WebURL: "https://bitbucket.org/ws/repo",
			PullRequest: &push.PullRequest{Number: 8, HeadRepository: "ws/repo", HeadCloneURL: "https://bitbucket.org/ws/repo.git"}},
			location{url: "https://bitbucket.org/ws/repo/get/" + sha + ".tar.gz"}},
		{"local fork", push.Push{Provider: "gitea", Repository: "o/r", CloneURL: "file:///srv/git/r.git",
			PullRequest: &push.PullRequest{Number: 2, Fork: true, HeadRepository: "eve/r", HeadCloneURL: "file:///srv/git/eve-r.git"}},
			location{dir: "/srv/git/eve-r.git"}},
		{"hosted fork names a local path: ignored", push.Push{Provider: "gitea", Repository: "o/r", CloneURL: "https://git.example.com/o/r.git",
			PullRequest: &push.PullRequest{Number: 2, Fork: true, HeadRepository: "eve/r", HeadCloneURL: "/etc"}},
			location{url: "https://git.example.com/api/v1/repos/o/r/archive/" + sha + ".tar.gz"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.p.After = sha
			got, err := locate(tc.p)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(location{})); diff != "" {
				t.Errorf("locate (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAuthorize(t *testing.T) {
	for _, tc := range []struct{ provider, token, header, want string }{
		{"github", "t1", "Authorization", "Bearer t1"},
		{"gitlab", "t2", "Private-Token", "t2"},
		{"bitbucket", "access", "Authorization", "Bearer access"},
		{"bitbucket", "bob:pw", "Authorization", "Basic Ym9iOnB3"},
		{"gitea", "t3", "Authorization", "token t3"},
	} {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		authorize(req, tc.provider, tc.token)
		if got := req.Header.Get(tc.header); got != tc.want {
			t.Errorf("%s %s: %s = %q, want %q", tc.provider, tc.token, tc.header, got, tc.want)
		}
	}
}

func TestLazyTokens(t *testing.T) {
	loads, fail := 0, true
	tokens := &LazyTokens{Load: func(context.Context) ([]byte, error) {
		loads++
		if fail {
			return nil, errors.New("throttled")
		}
		return []byte(`{"gitlab": "glpat-1"}`), nil
	}}
	if _, err := tokens.Token(context.Background(), "gitlab", "g/p"); err == nil {
		t.Fatal("a failed read gave no error")
	}
	fail = false
	for range 3 {
		got, err := tokens.Token(context.Background(), "gitlab", "g/p")
		if err != nil || got != "glpat-1" {
			t.Fatalf("Token = %q, %v", got, err)
		}
	}
	if loads != 2 {
		t.Errorf("%d loads, want 2 (one failed, then cached)", loads)
	}
	// A token error fails the step with TokenError.
	failing := &LazyTokens{Load: func(context.Context) ([]byte, error) { return nil, errors.New("throttled") }}
	h := &Handler{Bucket: testBucket, Tokens: failing, Log: quietLog(new(bytes.Buffer))}
	_, err := h.Handle(context.Background(), Request{Key: "k", Push: push.Push{Provider: "gitlab", Repository: "g/p",
		WebURL: "https://gitlab.example.com/g/p", After: strings.Repeat("a", 40)}})
	var te *TokenError
	if !errors.As(err, &te) {
		t.Errorf("err = %T %v, want *TokenError", err, err)
	}
}

// failS3 fails one kind of S3 call.
type failS3 struct {
	*recS3
	failOn string
	part   int32 // for UploadPart: the part that fails
}

func (f *failS3) PutObject(ctx context.Context, in *s3.PutObjectInput, o ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	if f.failOn == "PutObject" {
		return nil, errors.New("SlowDown")
	}
	return f.recS3.PutObject(ctx, in, o...)
}

func (f *failS3) UploadPart(ctx context.Context, in *s3.UploadPartInput, o ...func(*s3.Options)) (*s3.UploadPartOutput, error) {
	if f.failOn == "UploadPart" && aws.ToInt32(in.PartNumber) == f.part {
		f.rec("UploadPart")
		return nil, errors.New("InternalError")
	}
	return f.recS3.UploadPart(ctx, in, o...)
}

func (f *failS3) CompleteMultipartUpload(ctx context.Context, in *s3.CompleteMultipartUploadInput, o ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error) {
	if f.failOn == "CompleteMultipartUpload" {
		f.rec("CompleteMultipartUpload")
		return nil, errors.New("InvalidPart")
	}
	return f.recS3.CompleteMultipartUpload(ctx, in, o...)
}

func TestUploadErrors(t *testing.T) {
	repo := newRepo(t)
	c := fakeS3(t)
	for _, tc := range []struct {
		name      string
		failOn    string
		part      int32
		partSize  int
		wantAbort bool
	}{
		{"put object", "PutObject", 0, 0, false},
		{"first part", "UploadPart", 1, 16 << 10, true},
		{"later part", "UploadPart", 3, 16 << 10, true},
		{"complete", "CompleteMultipartUpload", 0, 16 << 10, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := &failS3{recS3: &recS3{S3: c}, failOn: tc.failOn, part: tc.part}
			h := &Handler{S3: fs, Bucket: testBucket, PartSize: tc.partSize, Log: quietLog(new(bytes.Buffer))}
			key := "upload/" + strings.ReplaceAll(tc.name, " ", "-") + ".zip"
			_, err := h.Handle(context.Background(), Request{Key: key, Push: push.Push{
				Provider: push.GitHub, Repository: "acme/app", CloneURL: repo.bare, After: repo.first}})
			var ue *UploadError
			if !errors.As(err, &ue) {
				t.Fatalf("err = %T %v, want *UploadError", err, err)
			}
			if got := fs.count("AbortMultipartUpload") == 1; got != tc.wantAbort {
				t.Errorf("aborted = %v, want %v (calls %v)", got, tc.wantAbort, fs.calls)
			}
			if objectExists(t, c, key) {
				t.Errorf("object %s exists after a failed upload", key)
			}
			t.Logf("message: %v", err)
		})
	}
}

// TestUnzip extracts a snapshot with Info-ZIP unzip (what CodeBuild's
// images carry) and checks that the executable bit and the symlink come
// back as git has them.
func TestUnzip(t *testing.T) {
	unzip, err := exec.LookPath("unzip")
	if err != nil {
		t.Skip("unzip not installed")
	}
	repo := newRepo(t)
	c := fakeS3(t)
	h := &Handler{S3: c, Bucket: testBucket, Log: quietLog(new(bytes.Buffer))}
	art, err := h.Handle(context.Background(), Request{Key: "unzip/source.zip", Push: push.Push{
		Provider: push.GitHub, Repository: "acme/app", CloneURL: repo.bare, After: repo.first}})
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(art.Bucket), Key: aws.String(art.Key)})
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(out.Body)
	out.Body.Close()
	dir := t.TempDir()
	zipPath := filepath.Join(dir, "source.zip")
	if err := os.WriteFile(zipPath, data, 0o644); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, "src")
	if b, err := exec.Command(unzip, "-q", zipPath, "-d", dst).CombinedOutput(); err != nil {
		t.Fatalf("unzip: %v: %s", err, b)
	}
	fi, err := os.Lstat(filepath.Join(dst, "scripts/build.sh"))
	if err != nil || fi.Mode().Perm()&0o100 == 0 {
		t.Errorf("scripts/build.sh: %v, mode %v, want executable", err, fi.Mode())
	}
	target, err := os.Readlink(filepath.Join(dst, "link"))
	if err != nil || target != "src/main.go" {
		t.Errorf("link: %q, %v, want a symlink to src/main.go", target, err)
	}
	if b, err := os.ReadFile(filepath.Join(dst, "src/pkg/deep/data.txt")); err != nil || !strings.HasPrefix(string(b), "deep data line") {
		t.Errorf("src/pkg/deep/data.txt: %v", err)
	}
}
