package runpage

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pushline/pushline/shared/run"
)

var (
	testKey = []byte("0123456789abcdef0123456789abcdef")
	t0      = time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
)

const failedName = "main-604695561b40-abf6de373ec7"

// fakeRuns is one failed run (and a running and a succeeded one), with a
// log per build.
type fakeRuns struct {
	runs    map[string]*run.Run
	started []string
	err     error // every call fails with it when set
}

func newFake(stages int) *fakeRuns {
	mk := func(name, status string) *run.Run {
		r := &run.Run{
			ARN: "arn:aws:states:us-east-1:000000000000:execution:pushline-app:" + name, Name: name, Pipeline: "app", Status: status,
			Started: t0, Stopped: t0.Add(90 * time.Second), Trigger: "push", Attempt: 1,
			Commit: run.Commit{Repository: "acme/app", RepoURL: "https://github.com/acme/app", Ref: "refs/heads/main", Branch: "main",
				SHA: "604695561b40eba6217b15748458576f9cac0bf2", Message: "Add the app <script>alert(1)</script>\n\nbody", Author: "Dee", URL: "javascript:alert(1)"},
			Attempts: []run.Attempt{{Name: name, Attempt: 1, Status: status}},
		}
		r.Stages = append(r.Stages, run.Stage{Name: "Source", Kind: run.KindSource, State: run.StageSucceeded, Started: t0, Ended: t0.Add(time.Second)})
		for i := 0; i < stages; i++ {
			st := run.Stage{Name: fmt.Sprintf("Stage%d", i), Kind: run.KindBuild, State: run.StageSucceeded, Started: t0, Ended: t0.Add(time.Second),
				Build: &run.Build{ID: fmt.Sprintf("app-Stage%d:%d", i, i), Status: "SUCCEEDED", LogGroup: "g", LogStream: fmt.Sprint(i)}}
			if i == stages-1 && status == run.Failed {
				st.State, st.Cause = run.StageFailed, "build app-Stage:1 ended FAILED"
				r.FailedStage, r.Cause = st.Name, st.Cause
			}
			r.Stages = append(r.Stages, st)
		}
		r.Stages = append(r.Stages, run.Stage{Name: "Approve", Kind: run.KindApproval, State: run.StageNotRun,
			Approval: &run.Approval{Approvers: []string{"ops@example.com"}}})
		return r
	}
	return &fakeRuns{runs: map[string]*run.Run{
		failedName:         mk(failedName, run.Failed),
		"main-running-abc": mk("main-running-abc", run.Running),
		"main-ok-abc":      mk("main-ok-abc", run.Succeeded),
	}}
}

func (f *fakeRuns) Get(_ context.Context, id string) (*run.Run, error) {
	if f.err != nil {
		return nil, f.err
	}
	r, ok := f.runs[id]
	if !ok {
		return nil, run.ErrNotFound
	}
	return r, nil
}

func (f *fakeRuns) List(_ context.Context, flt run.Filter) ([]run.Summary, error) {
	if f.err != nil {
		return nil, f.err
	}
	if flt.Status != "" && flt.Status != run.Failed && flt.Status != run.Running && flt.Status != run.Succeeded {
		return nil, run.ErrBadInput
	}
	var out []run.Summary
	for _, r := range f.runs {
		if flt.Status == "" || flt.Status == r.Status {
			out = append(out, run.Summary{Name: r.Name, Status: r.Status, Started: r.Started, Commit: r.Commit, Trigger: r.Trigger, Attempt: 1})
		}
	}
	return out, nil
}

func (f *fakeRuns) Log(_ context.Context, b *run.Build, token string, n int) (*run.LogPage, error) {
	lines := make([]string, 0, n)
	for i := 0; i < n; i++ {
		lines = append(lines, fmt.Sprintf("%s line %d <b>", b.ID, i))
	}
	return &run.LogPage{Lines: lines, Earlier: "b/100", Later: "f/200"}, nil
}

func (f *fakeRuns) again(id string) (*run.Started, error) {
	r, err := f.Get(context.Background(), id)
	if err != nil {
		return nil, err
	}
	if r.Status == run.Running {
		return nil, run.ErrRunning
	}
	f.started = append(f.started, id)
	return &run.Started{Name: id + "-r2", Attempt: 2}, nil
}

func (f *fakeRuns) Retry(_ context.Context, id, by string) (*run.Started, error) {
	if r, ok := f.runs[id]; ok && r.Status == run.Succeeded {
		return nil, run.ErrSucceeded
	}
	return f.again(id)
}

func (f *fakeRuns) Rerun(_ context.Context, id, by string) (*run.Started, error) { return f.again(id) }

func handler(f *fakeRuns, open bool) *Handler {
	return &Handler{Runs: f, Pipeline: "app", Key: testKey, Open: open, Now: func() time.Time { return t0.Add(time.Hour) }}
}

func get(h http.Handler, target string) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, target, nil))
	return w
}

func post(h http.Handler, target string, form url.Values) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	h.ServeHTTP(w, r)
	return w
}

func TestPages(t *testing.T) {
	f := newFake(3)
	signed := SignedURL("", testKey, failedName, 2*time.Hour, t0)
	op := OperatorURL("", testKey, failedName, "alice", time.Hour, t0.Add(30*time.Minute))
	for _, tc := range []struct {
		name   string
		open   bool
		target string
		code   int
		want   []string
		not    []string
	}{
		{"open run page", true, "/runs/" + failedName, 200,
			[]string{"Add the app &lt;script&gt;", "Retry from Stage2", "Rerun all stages", "app-Stage2:2 line 199 &lt;b&gt;", "Earlier lines", `name="token"`},
			[]string{"<script>alert(1)", "javascript:"}},
		{"open console", true, "/", 200, []string{failedName, "main-running-abc", "FAILED"}, nil},
		{"open console filtered", true, "/?state=FAILED&branch=main", 200, []string{failedName}, []string{"main-running-abc"}},
		{"open console bad state", true, "/?state=SLEEPING", 200, []string{failedName}, nil},
		{"unknown run", true, "/runs/nope", 404, []string{"No such run"}, nil},
		{"bad name", true, "/runs/" + strings.Repeat("x", 81), 404, []string{"No such run"}, nil},
		{"unknown path", true, "/etc/passwd", 404, []string{"Not found"}, nil},
		{"log page", true, "/runs/" + failedName + "/logs/Stage1?t=b/300", 200, []string{"app-Stage1:1 line 999", "Earlier lines", "Later lines"}, nil},
		{"log of no stage", true, "/runs/" + failedName + "/logs/Nope", 404, []string{"No log"}, nil},
		{"running run is live", true, "/runs/main-running-abc", 200, []string{`data-live="1"`, "so far"}, []string{"Retry from", "Rerun all"}},
		{"succeeded run: no retry", true, "/runs/main-ok-abc", 200, []string{"Rerun all stages"}, []string{"Retry from"}},
		{"signed link", false, signed, 200, []string{"Add the app", "only shows the run"}, []string{"Retry from", "Rerun all", `name="token"`}},
		{"signed link, partial", false, signed + "&partial=1", 200, []string{`id="live"`}, []string{"<html"}},
		{"operator link", false, op, 200, []string{"Retry from Stage2", `name="token"`}, nil},
		{"no link", false, "/runs/" + failedName, 403, []string{"not valid"}, []string{"Add the app"}},
		{"tampered", false, strings.Replace(signed, "e=", "e=1", 1), 403, []string{"not valid"}, nil},
		{"other run's link", false, strings.Replace(signed, failedName, "main-ok-abc", 1), 403, []string{"not valid"}, nil},
		{"operator made up", false, signed + "&o=mallory", 403, []string{"not valid"}, nil},
		{"expired", false, SignedURL("", testKey, failedName, time.Minute, t0), 410, []string{"expired"}, nil},
		{"console needs operator", false, "/", 403, nil, nil},
		{"console with operator link", false, OperatorURL("", testKey, "", "alice", time.Hour, t0.Add(30*time.Minute)), 200, []string{failedName}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := get(handler(f, tc.open), tc.target)
			body := w.Body.String()
			if w.Code != tc.code {
				t.Fatalf("status %d, want %d\n%s", w.Code, tc.code, body)
			}
			for _, s := range tc.want {
				if !strings.Contains(body, s) {
					t.Errorf("page lacks %q", s)
				}
			}
			for _, s := range tc.not {
				if strings.Contains(body, s) {
					t.Errorf("page shows %q", s)
				}
			}
		})
	}
}

func TestActions(t *testing.T) {
	token := func(h *Handler, target string) string {
		body := get(h, target).Body.String()
		i := strings.Index(body, `name="token" value="`)
		if i < 0 {
			return ""
		}
		rest := body[i+len(`name="token" value="`):]
		return rest[:strings.IndexByte(rest, '"')]
	}
	op := OperatorURL("", testKey, failedName, "alice", time.Hour, t0.Add(30*time.Minute))
	opQuery := op[strings.IndexByte(op, '?'):]
	signed := SignedURL("", testKey, failedName, 2*time.Hour, t0)
	for _, tc := range []struct {
		name, action, target string
		open                 bool
		token                func(h *Handler) string
		code                 int
		location             string
	}{
		{"open retry", "retry", "/runs/" + failedName + "/retry", true, func(h *Handler) string { return token(h, "/runs/"+failedName) }, 303, "../" + failedName + "-r2?started=" + failedName + "-r2"},
		{"open rerun", "rerun", "/runs/" + failedName + "/rerun", true, func(h *Handler) string { return token(h, "/runs/"+failedName) }, 303, ""},
		{"no token", "retry", "/runs/" + failedName + "/retry", true, func(*Handler) string { return "" }, 403, ""},
		{"another run's token", "retry", "/runs/" + failedName + "/retry", true, func(h *Handler) string { return token(h, "/runs/main-ok-abc") }, 403, ""},
		{"running", "retry", "/runs/main-running-abc/retry", true, func(h *Handler) string {
			return formToken(testKey, "main-running-abc", access{scope: "main-running-abc", operator: "run page"})
		}, 409, ""},
		{"succeeded", "retry", "/runs/main-ok-abc/retry", true, func(h *Handler) string { return token(h, "/runs/main-ok-abc") }, 409, ""},
		{"unknown action", "x", "/runs/" + failedName + "/delete", true, func(*Handler) string { return "" }, 404, ""},
		{"unknown run", "retry", "/runs/nope/retry", true, func(h *Handler) string {
			return formToken(testKey, "nope", access{scope: "nope", operator: "run page"})
		}, 404, ""},
		{"read-only link", "retry", "/runs/" + failedName + "/retry" + signed[strings.IndexByte(signed, '?'):], false, func(*Handler) string { return "x" }, 403, ""},
		{"operator link", "retry", "/runs/" + failedName + "/retry" + opQuery, false, func(h *Handler) string { return token(h, op) }, 303, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(2)
			h := handler(f, tc.open)
			w := post(h, tc.target, url.Values{"token": {tc.token(h)}})
			if w.Code != tc.code {
				t.Fatalf("status %d, want %d\n%s", w.Code, tc.code, w.Body)
			}
			if tc.code == 303 && len(f.started) != 1 || tc.code != 303 && len(f.started) != 0 {
				t.Errorf("started %v", f.started)
			}
			if tc.location != "" && w.Header().Get("Location") != tc.location {
				t.Errorf("Location %q, want %q", w.Header().Get("Location"), tc.location)
			}
		})
	}
}

func TestBackendDown(t *testing.T) {
	f := newFake(1)
	f.err = fmt.Errorf("connection refused")
	for _, target := range []string{"/", "/runs/" + failedName} {
		if w := get(handler(f, true), target); w.Code != http.StatusServiceUnavailable {
			t.Errorf("%s: %d", target, w.Code)
		}
	}
}

// BenchmarkRunPage renders the page of a failed 50-stage run (its failed
// build's log tail inline).
func BenchmarkRunPage(b *testing.B) {
	h := handler(newFake(50), true)
	b.ReportAllocs()
	for b.Loop() {
		w := get(h, "/runs/"+failedName)
		if w.Code != 200 {
			b.Fatal(w.Code)
		}
	}
}
