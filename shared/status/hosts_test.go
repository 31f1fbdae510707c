package status

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// call is one request a fake host received.
type call struct {
	Method, Path string
	Header       map[string]string // the headers a host documents
	Body         map[string]any
}

// fakeHost records every request and answers with the codes queued in
// answers (then 201).
type fakeHost struct {
	mu      sync.Mutex
	calls   []call
	answers []answer
	srv     *httptest.Server
}

type answer struct {
	code       int
	retryAfter string
	body       string
}

var documented = []string{"Accept", "Authorization", "Content-Type", "Private-Token", "X-Github-Api-Version"}

func newFakeHost(t *testing.T, answers ...answer) *fakeHost {
	f := &fakeHost{answers: answers}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		c := call{Method: r.Method, Path: r.URL.EscapedPath(), Header: map[string]string{}}
		for _, h := range documented {
			if v := r.Header.Get(h); v != "" {
				c.Header[h] = v
			}
		}
		if err := json.Unmarshal(b, &c.Body); err != nil {
			t.Errorf("body %q: %v", b, err)
		}
		f.mu.Lock()
		f.calls = append(f.calls, c)
		a := answer{code: http.StatusCreated, body: `{"id":1}`}
		if len(f.answers) > 0 {
			a, f.answers = f.answers[0], f.answers[1:]
		}
		f.mu.Unlock()
		if a.retryAfter != "" {
			w.Header().Set("Retry-After", a.retryAfter)
		}
		w.WriteHeader(a.code)
		io.WriteString(w, a.body)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeHost) got() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]call(nil), f.calls...)
}

// TestHosts posts one status to a fake of each host's API and checks the
// method, path, headers and body each host documents.
func TestHosts(t *testing.T) {
	long := strings.Repeat("x", 300)
	tests := []struct {
		name  string
		st    Status
		token string
		want  call
	}{
		{"github", Status{Provider: "github", Repository: "acme/app", Commit: "abc123", Context: "pushline/app", State: Pending,
			Description: "Running", TargetURL: "https://ci.example.com/runs/x"}, "ghp_token",
			call{Method: "POST", Path: "/repos/acme/app/statuses/abc123", Header: map[string]string{
				"Accept": "application/vnd.github+json", "Authorization": "Bearer ghp_token", "Content-Type": "application/json", "X-Github-Api-Version": "2022-11-28"},
				Body: map[string]any{"state": "pending", "target_url": "https://ci.example.com/runs/x", "description": "Running", "context": "pushline/app"}}},
		{"github clips to 140", Status{Provider: "github", Repository: "acme/app", Commit: "abc123", Context: "pushline/app/Test", State: Failure,
			Description: long}, "t",
			call{Method: "POST", Path: "/repos/acme/app/statuses/abc123", Header: map[string]string{
				"Accept": "application/vnd.github+json", "Authorization": "Bearer t", "Content-Type": "application/json", "X-Github-Api-Version": "2022-11-28"},
				Body: map[string]any{"state": "failure", "description": strings.Repeat("x", 139) + "…", "context": "pushline/app/Test"}}},
		{"gitlab", Status{Provider: "gitlab", Repository: "group/sub/proj", Commit: "abc123", Ref: "main", Context: "pushline/app/Build", State: Error,
			Description: "Build: superseded", TargetURL: "https://ci.example.com/runs/x"}, "glpat-1",
			call{Method: "POST", Path: "/projects/group%2Fsub%2Fproj/statuses/abc123", Header: map[string]string{
				"Accept": "application/json", "Private-Token": "glpat-1", "Content-Type": "application/json"},
				Body: map[string]any{"state": "canceled", "name": "pushline/app/Build", "target_url": "https://ci.example.com/runs/x", "description": "Build: superseded", "ref": "main"}}},
		{"gitlab pending is running", Status{Provider: "gitlab", Repository: "g/p", Commit: "abc123", Context: "pushline/app", State: Pending, Description: "Running"}, "glpat-1",
			call{Method: "POST", Path: "/projects/g%2Fp/statuses/abc123", Header: map[string]string{
				"Accept": "application/json", "Private-Token": "glpat-1", "Content-Type": "application/json"},
				Body: map[string]any{"state": "running", "name": "pushline/app", "description": "Running"}}},
		{"bitbucket", Status{Provider: "bitbucket", Repository: "ws/repo", Commit: "9fceb02d0ae5", Context: "pushline/app", State: Success,
			Description: "Succeeded in 42s", TargetURL: "https://ci.example.com/runs/x"}, "bb-access-token",
			call{Method: "POST", Path: "/repositories/ws/repo/commit/9fceb02d0ae5/statuses/build", Header: map[string]string{
				"Accept": "application/json", "Authorization": "Bearer bb-access-token", "Content-Type": "application/json"},
				Body: map[string]any{"key": "pushline/app", "state": "SUCCESSFUL", "name": "pushline/app", "url": "https://ci.example.com/runs/x", "description": "Succeeded in 42s"}}},
		{"bitbucket app password, long key", Status{Provider: "bitbucket", Repository: "ws/repo", Commit: "abc", Context: "pushline/a-long-pipeline-name/AVeryLongStageName", State: Error,
			Description: "Stopped", TargetURL: "https://ci.example.com/runs/x"}, "emma:app-password",
			call{Method: "POST", Path: "/repositories/ws/repo/commit/abc/statuses/build", Header: map[string]string{
				"Accept": "application/json", "Authorization": "Basic ZW1tYTphcHAtcGFzc3dvcmQ=", "Content-Type": "application/json"},
				Body: map[string]any{"key": "pushline/a-long-pipeline-na-" + shortKey("pushline/a-long-pipeline-name/AVeryLongStageName", 40)[28:], "state": "STOPPED",
					"name": "pushline/a-long-pipeline-name/AVeryLongStageName", "url": "https://ci.example.com/runs/x", "description": "Stopped"}}},
		{"gitea", Status{Provider: "gitea", Repository: "o/r", Commit: "abc123", Context: "pushline/app/Approve", State: Pending,
			Description: "Waiting for approval by ops@example.com", TargetURL: "https://ci.example.com/runs/x"}, "gitea-token",
			call{Method: "POST", Path: "/repos/o/r/statuses/abc123", Header: map[string]string{
				"Accept": "application/json", "Authorization": "token gitea-token", "Content-Type": "application/json"},
				Body: map[string]any{"state": "pending", "target_url": "https://ci.example.com/runs/x", "description": "Waiting for approval by ops@example.com", "context": "pushline/app/Approve"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeHost(t)
			tt.st.APIURL = f.srv.URL
			if err := (&Poster{}).Post(context.Background(), tt.st, tt.token, nil); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]call{tt.want}, f.got()); diff != "" {
				t.Errorf("request (-want +got):\n%s", diff)
			}
		})
	}
	if k := shortKey("pushline/a-long-pipeline-name/AVeryLongStageName", 40); len(k) != 40 {
		t.Errorf("bitbucket key %q is %d long", k, len(k))
	}
}

// TestRetries: 429 and 5xx are retried, honouring Retry-After (seconds or
// a date), up to Attempts; other 4xx are not; a transport error is.
func TestRetries(t *testing.T) {
	st := Status{Provider: "github", Repository: "a/b", Commit: "c", Context: "pushline/app", State: Success, Description: "ok"}
	date := time.Now().Add(3 * time.Second).UTC().Format(http.TimeFormat)
	tests := []struct {
		name    string
		answers []answer
		calls   int
		waits   []time.Duration // rounded to seconds
		ok      bool
	}{
		{"429 Retry-After seconds", []answer{{code: 429, retryAfter: "7", body: "slow down"}}, 2, []time.Duration{7 * time.Second}, true},
		{"503 then 502 then ok: back-off", []answer{{code: 503}, {code: 502}}, 3, []time.Duration{time.Second, 2 * time.Second}, true},
		{"Retry-After date", []answer{{code: 503, retryAfter: date}}, 2, []time.Duration{3 * time.Second}, true},
		{"Retry-After capped", []answer{{code: 429, retryAfter: "3600"}}, 2, []time.Duration{30 * time.Second}, true},
		{"gives up", []answer{{code: 500}, {code: 500}, {code: 500}, {code: 500}}, 4, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}, false},
		{"404 not retried", []answer{{code: 404, body: `{"message":"Not Found"}`}}, 1, nil, false},
		{"gitlab same state twice is no error", nil, 1, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeHost(t, tt.answers...)
			s := st
			s.APIURL = f.srv.URL
			if strings.HasPrefix(tt.name, "gitlab") {
				s.Provider = "gitlab"
				f.answers = []answer{{code: 400, body: `{"message":"Cannot transition status via :run from :running"}`}}
			}
			var waits []time.Duration
			p := &Poster{Sleep: func(_ context.Context, d time.Duration) error {
				waits = append(waits, d.Round(time.Second))
				return nil
			}}
			err := p.Post(context.Background(), s, "secret-token", nil)
			if (err == nil) != tt.ok || len(f.got()) != tt.calls {
				t.Fatalf("err %v after %d calls, want ok=%v after %d", err, len(f.got()), tt.ok, tt.calls)
			}
			if strings.Contains(tt.name, "date") && len(waits) == 1 && waits[0] == 2*time.Second {
				waits[0] = 3 * time.Second // the date has whole seconds: 2 or 3 are both right
			}
			if diff := cmp.Diff(tt.waits, waits); diff != "" {
				t.Errorf("waits (-want +got):\n%s", diff)
			}
			if err != nil && strings.Contains(err.Error(), "secret-token") {
				t.Errorf("error %q holds the token", err)
			}
		})
	}
}

func TestDefaultAPIURL(t *testing.T) {
	for _, tt := range []struct{ provider, repo, web, want string }{
		{"github", "acme/app", "https://github.com/acme/app", "https://api.github.com"},
		{"github", "acme/app", "", "https://api.github.com"},
		{"github", "acme/app", "https://ghe.example.com/acme/app", "https://ghe.example.com/api/v3"},
		{"bitbucket", "ws/r", "https://bitbucket.org/ws/r", "https://api.bitbucket.org/2.0"},
		{"gitlab", "g/s/p", "https://gitlab.example.com/g/s/p", "https://gitlab.example.com/api/v4"},
		{"gitlab", "g/p", "https://example.com/gitlab/g/p.git", "https://example.com/gitlab/api/v4"},
		{"gitea", "o/r", "https://gitea.example.com/o/r", "https://gitea.example.com/api/v1"},
		{"gitea", "o/r", "file:///srv/git/r.git", ""},
	} {
		if got := DefaultAPIURL(tt.provider, tt.repo, tt.web); got != tt.want {
			t.Errorf("DefaultAPIURL(%s, %s, %s) = %q, want %q", tt.provider, tt.repo, tt.web, got, tt.want)
		}
	}
}
