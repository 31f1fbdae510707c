package runpage

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/pushline/pushline/shared/run"
)

// Runs is what the pages read and start (*run.Runs).
type Runs interface {
	Get(ctx context.Context, id string) (*run.Run, error)
	List(ctx context.Context, f run.Filter) ([]run.Summary, error)
	Log(ctx context.Context, b *run.Build, token string, n int) (*run.LogPage, error)
	Retry(ctx context.Context, id, by string) (*run.Started, error)
	Rerun(ctx context.Context, id, by string) (*run.Started, error)
}

// Handler serves the console, the run pages, logs and the Retry and
// Rerun buttons (see the package doc for who may do what).
type Handler struct {
	Runs     Runs
	Pipeline string
	Key      []byte // the approval link key: signs links and form tokens
	// Open serves every request without a signed link and lets anyone
	// retry and rerun: the local stack on a loopback address.
	Open bool
	// OpenBy is who acts from an open page (default "run page").
	OpenBy string
	Log    *slog.Logger
	Now    func() time.Time
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func (h *Handler) log() *slog.Logger {
	if h.Log != nil {
		return h.Log
	}
	return slog.Default()
}

// ServeHTTP routes: GET / (console), GET /runs/{name} (run page, with
// ?partial=1 only its live part), GET /runs/{name}/logs/{stage} (a
// build's log, page by page), POST /runs/{name}/retry and …/rerun.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	w.Header().Set("Cache-Control", "no-store")
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", h.console)
	mux.HandleFunc("GET /runs/{name}", h.page)
	mux.HandleFunc("GET /runs/{name}/logs/{stage}", h.logPage)
	mux.HandleFunc("POST /runs/{name}/{action}", h.act)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		h.fail(w, http.StatusNotFound, "Not found", "There is no page here.")
	})
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			h.log().Error("run page panic", "path", r.URL.Path, "panic", v)
			h.fail(w, http.StatusServiceUnavailable, "Something went wrong", "Try again in a moment.")
		}
	}()
	mux.ServeHTTP(w, r)
}

// authorizeRun checks that name can be a run (404 otherwise) and that the
// request may see it (authorize, scoped to the runs of the same push).
func (h *Handler) authorizeRun(w http.ResponseWriter, r *http.Request, name string) (access, bool) {
	if !run.ValidName(name) {
		h.fail(w, http.StatusNotFound, "No such run", "There is no run "+strconv.Quote(name)+" in this pipeline.")
		return access{}, false
	}
	base, _ := run.Base(name)
	return h.authorize(w, r, base)
}

// authorize checks the request's link for scope; on failure it has
// written the error page.
func (h *Handler) authorize(w http.ResponseWriter, r *http.Request, scope string) (access, bool) {
	if h.Open {
		return access{scope: scope, operator: h.openBy()}, true
	}
	a, err := verify(h.Key, scope, r.URL.Query(), h.now())
	switch {
	case errors.Is(err, ErrExpired):
		h.fail(w, http.StatusGone, "This link has expired", "Ask for a new link: `pushline link RUN` prints one.")
		return a, false
	case err != nil:
		h.fail(w, http.StatusForbidden, "This link is not valid", "The link is incomplete or was changed. Open the link exactly as you received it.")
		return a, false
	}
	return a, true
}

func (h *Handler) openBy() string {
	if h.OpenBy != "" {
		return h.OpenBy
	}
	return "run page"
}

// readErr writes the page for an error reading a run.
func (h *Handler) readErr(w http.ResponseWriter, what string, err error) {
	switch {
	case errors.Is(err, run.ErrNotFound):
		h.fail(w, http.StatusNotFound, "No such run", "There is no run "+strconv.Quote(what)+" in this pipeline.")
	case errors.Is(err, run.ErrNoLog):
		h.fail(w, http.StatusNotFound, "No log", "This stage has no build log (yet).")
	case errors.Is(err, run.ErrBadInput):
		h.fail(w, http.StatusBadRequest, "Bad request", "The address is not one this page makes.")
	default:
		h.log().Error("read run", "run", what, "err", err)
		h.fail(w, http.StatusServiceUnavailable, "Step Functions is not answering", "Try again in a moment.")
	}
}

func (h *Handler) console(w http.ResponseWriter, r *http.Request) {
	a, ok := h.authorize(w, r, ConsoleScope)
	if !ok {
		return
	}
	if !h.Open && a.operator == "" {
		h.fail(w, http.StatusForbidden, "This link is not valid", "The console needs an operator link (`pushline link --operator`).")
		return
	}
	q := r.URL.Query()
	f := run.Filter{Branch: q.Get("branch"), Status: q.Get("state"), Limit: 100, Describe: 30}
	if len(f.Branch) > 256 {
		f.Branch = f.Branch[:256]
	}
	list, err := h.Runs.List(r.Context(), f)
	if err != nil {
		if errors.Is(err, run.ErrBadInput) {
			f.Status = ""
			list, err = h.Runs.List(r.Context(), f)
		}
		if err != nil {
			h.readErr(w, "", err)
			return
		}
	}
	h.render(w, http.StatusOK, "console.html", h.consoleView(list, f, a, q.Get("partial") != ""))
}

func (h *Handler) page(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	a, ok := h.authorizeRun(w, r, name)
	if !ok {
		return
	}
	rn, err := h.Runs.Get(r.Context(), name)
	if err != nil {
		h.readErr(w, name, err)
		return
	}
	v := h.runView(r.Context(), rn, a)
	v.Partial = r.URL.Query().Get("partial") != ""
	v.Notice = noticeOf(r.URL.Query().Get("started"))
	h.render(w, http.StatusOK, "run.html", v)
}

func noticeOf(started string) string {
	if started == "" || !run.ValidName(started) {
		return ""
	}
	return "Started " + started + "."
}

func (h *Handler) logPage(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	a, ok := h.authorizeRun(w, r, name)
	if !ok {
		return
	}
	rn, err := h.Runs.Get(r.Context(), name)
	if err != nil {
		h.readErr(w, name, err)
		return
	}
	st := rn.Stage(r.PathValue("stage"))
	if st == nil || st.Build == nil {
		h.readErr(w, name, run.ErrNoLog)
		return
	}
	token := r.URL.Query().Get("t")
	lines, _ := strconv.Atoi(r.URL.Query().Get("n"))
	if lines <= 0 || lines > 5000 {
		lines = 1000
	}
	p, err := h.Runs.Log(r.Context(), st.Build, token, lines)
	if err != nil {
		h.readErr(w, name, err)
		return
	}
	h.render(w, http.StatusOK, "log.html", h.logView(rn, st, p, a, token))
}

func (h *Handler) act(w http.ResponseWriter, r *http.Request) {
	name, action := r.PathValue("name"), r.PathValue("action")
	if action != "retry" && action != "rerun" {
		h.fail(w, http.StatusNotFound, "Not found", "There is no page here.")
		return
	}
	a, ok := h.authorizeRun(w, r, name)
	if !ok {
		return
	}
	if !a.canAct() {
		h.fail(w, http.StatusForbidden, "This link cannot "+action, "A shared link only shows the run. Operators act with a link from `pushline link --operator RUN`, or with `pushline "+action+" RUN`.")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if err := r.ParseForm(); err != nil || !checkFormToken(h.Key, name, a, r.PostForm.Get("token")) {
		h.fail(w, http.StatusForbidden, "This form is not valid", "Reload the run page and press the button again.")
		return
	}
	f := h.Runs.Retry
	if action == "rerun" {
		f = h.Runs.Rerun
	}
	s, err := f(r.Context(), name, a.operator)
	switch {
	case errors.Is(err, run.ErrRunning):
		h.fail(w, http.StatusConflict, "Cannot "+action+" "+name, "The run is still running: wait for it to end (or stop it) first.")
		return
	case errors.Is(err, run.ErrSucceeded):
		h.fail(w, http.StatusConflict, "Cannot retry "+name, "The run succeeded: there is no failed stage to retry. Rerun it to run the whole pipeline again.")
		return
	case err != nil:
		h.readErr(w, name, err)
		return
	}
	h.log().Info("run "+action, "run", name, "by", a.operator, "started", s.Name)
	q := url.Values{}
	if a.query != "" {
		q, _ = url.ParseQuery(a.query[1:])
	}
	q.Set("started", s.Name)
	// A relative Location: behind API Gateway the path has a stage prefix
	// this handler does not see.
	w.Header().Set("Location", "../"+s.Name+"?"+q.Encode())
	w.WriteHeader(http.StatusSeeOther)
}
