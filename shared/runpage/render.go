package runpage

import (
	"bytes"
	"context"
	"embed"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/pushline/pushline/shared/run"
)

//go:embed templates
var templateFS embed.FS

var tmpl = template.Must(template.New("").Funcs(template.FuncMap{
	"lower": strings.ToLower,
}).ParseFS(templateFS, "templates/*.html"))

// timeLayout is how pages show times.
const timeLayout = "2006-01-02 15:04:05 UTC"

func (h *Handler) render(w http.ResponseWriter, code int, name string, v any) {
	var b bytes.Buffer
	if err := tmpl.ExecuteTemplate(&b, name, v); err != nil {
		h.log().Error("render", "template", name, "err", err)
		code, b = http.StatusServiceUnavailable, bytes.Buffer{}
		b.WriteString("<!doctype html><title>Error</title><p>The page could not be shown.</p>")
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	w.Write(b.Bytes())
}

type errorView struct {
	Code          int
	Title, Detail string
}

func (h *Handler) fail(w http.ResponseWriter, code int, title, detail string) {
	h.render(w, code, "error.html", errorView{code, title, detail})
}

// webURL keeps only http(s) URLs (no javascript:, data:, …).
func webURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return ""
	}
	return s
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeLayout)
}

// Duration is d as a person reads it.
func Duration(d time.Duration) string {
	switch {
	case d <= 0:
		return ""
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

type runView struct {
	Pipeline string
	Run      *run.Run
	Q        string // the link's query, for links within the page
	Partial  bool
	Live     bool
	Notice   string

	RepoURL, CommitURL string
	Trigger            string
	Started, Took      string
	Stages             []stageView
	Artifacts          []artifactView
	Attempts           []attemptView
	CanRetry, CanRerun bool
	Token              string
	ReadOnly           bool
}

type stageView struct {
	run.Stage
	Depth             int
	Started, Took     string
	Log               *run.LogPage
	LogLink           string
	LogOpen           bool
	Decided, Decision string
}

type artifactView struct {
	run.Artifact
	Name string
	URL  string
}

type attemptView struct {
	N            int
	Name, Status string
	This         bool
}

func (h *Handler) runView(ctx context.Context, r *run.Run, a access) *runView {
	now := h.now()
	v := &runView{
		Pipeline: r.Pipeline, Run: r, Q: a.query, Live: r.Status == run.Running,
		RepoURL: webURL(r.Commit.RepoURL), CommitURL: webURL(r.Commit.URL),
		Trigger: triggerText(r), Started: fmtTime(r.Started),
	}
	if v.Pipeline == "" {
		v.Pipeline = h.Pipeline
	}
	end := r.Stopped
	if end.IsZero() {
		end = now
	}
	v.Took = Duration(end.Sub(r.Started))
	var add func(ss []run.Stage, depth int)
	add = func(ss []run.Stage, depth int) {
		for _, st := range ss {
			sv := stageView{Stage: st, Depth: depth, Started: fmtTime(st.Started), Took: Duration(st.Duration(now))}
			if st.Build != nil {
				sv.LogLink = r.Name + "/logs/" + url.PathEscape(st.Name) + a.query
				if st.State == run.StageRunning || st.State == run.StageFailed || st.State == run.StageStopped {
					sv.LogOpen = true
					if p, err := h.Runs.Log(ctx, st.Build, "", run.TailLines); err == nil {
						sv.Log = p
					}
				}
			}
			if ap := st.Approval; ap != nil {
				sv.Decision = strings.ToLower(strings.ReplaceAll(ap.Decision, "_", " "))
				sv.Decided = fmtTime(ap.DecidedAt)
			}
			v.Stages = append(v.Stages, sv)
			add(st.Actions, depth+1)
		}
	}
	add(r.Stages, 0)
	for _, art := range r.Artifacts {
		av := artifactView{Artifact: art, Name: art.Key[strings.LastIndexByte(art.Key, '/')+1:], URL: webURL(art.URL)}
		v.Artifacts = append(v.Artifacts, av)
	}
	for _, at := range r.Attempts {
		v.Attempts = append(v.Attempts, attemptView{N: at.Attempt, Name: at.Name, Status: at.Status, This: at.Name == r.Name})
	}
	if len(v.Attempts) == 1 {
		v.Attempts = nil
	}
	v.ReadOnly = !a.canAct()
	if a.canAct() {
		v.CanRerun = r.Status != run.Running
		v.CanRetry = r.Status != run.Running && r.Status != run.Succeeded
		v.Token = formToken(h.Key, r.Name, a)
	}
	return v
}

func triggerText(r *run.Run) string {
	var s string
	switch r.Trigger {
	case "pull_request":
		s = "pull request"
	case "":
		s = "push"
	default:
		s = r.Trigger
	}
	by := r.By
	if by == "" && (r.Trigger == "push" || r.Trigger == "") {
		by = r.Commit.Pusher
	}
	if by != "" {
		s += " by " + by
	}
	if r.Resumed != "" {
		s += ", from stage " + r.Resumed
	}
	return s
}

type consoleView struct {
	Pipeline string
	Runs     []summaryView
	Branch   string
	State    string
	States   []string
	Q        string
	Partial  bool
	Live     bool
	Hidden   map[string]string // a signed link's query, kept through the filter form
}

type summaryView struct {
	run.Summary
	Link, Started, Took, Ref string
}

func (h *Handler) consoleView(list []run.Summary, f run.Filter, a access, partial bool) *consoleView {
	now := h.now()
	v := &consoleView{Pipeline: h.Pipeline, Branch: f.Branch, State: f.Status, States: run.Statuses, Q: a.query, Partial: partial}
	if q, err := url.ParseQuery(strings.TrimPrefix(a.query, "?")); err == nil && len(q) > 0 {
		v.Hidden = map[string]string{}
		for k := range q {
			v.Hidden[k] = q.Get(k)
		}
	}
	for _, s := range list {
		end := s.Stopped
		if end.IsZero() {
			end = now
			v.Live = true
		}
		v.Runs = append(v.Runs, summaryView{
			Summary: s, Link: "runs/" + s.Name + a.query, Started: fmtTime(s.Started),
			Took: Duration(end.Sub(s.Started)), Ref: s.Commit.RefName(),
		})
	}
	return v
}

type logView struct {
	Run            *run.Run
	Stage          run.Stage
	Lines          []string
	Back           string
	Earlier, Later string
	Live           bool
}

func (h *Handler) logView(r *run.Run, st *run.Stage, p *run.LogPage, a access, token string) *logView {
	v := &logView{Run: r, Stage: *st, Lines: p.Lines, Back: "../../" + r.Name + a.query, Live: st.State == run.StageRunning}
	link := func(tok string) string {
		q := url.Values{}
		if a.query != "" {
			q, _ = url.ParseQuery(a.query[1:])
		}
		q.Set("t", tok)
		return url.PathEscape(st.Name) + "?" + q.Encode()
	}
	if p.Earlier != "" {
		v.Earlier = link(p.Earlier)
	}
	if p.Later != "" && token != "" {
		v.Later = link(p.Later)
	}
	return v
}
