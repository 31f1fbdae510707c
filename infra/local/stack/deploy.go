package stack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/pushline/pushline/infra/codedeploy"
	"github.com/pushline/pushline/infra/states"
	"github.com/pushline/pushline/shared/codecommit"
	"github.com/pushline/pushline/shared/ingest"
	"github.com/pushline/pushline/shared/push"
)

// codeDeployActions are the CodeDeploy calls the state machine makes
// through Step Functions' AWS SDK integration.
var codeDeployActions = []string{"createDeployment", "getDeployment", "stopDeployment", "listDeploymentTargets", "getDeploymentTarget"}

// openCodeDeploy starts the local CodeDeploy with one deployment group per
// deploy stage of the config, and registers its AWS SDK integration.
// PUSHLINE_DEPLOY_ROOT, when set, is every group's instance root (AppSpec
// destinations are mapped under it); else each group's lives under
// <data dir>/deploy/<application>/<group>/target.
func (s *Stack) openCodeDeploy() error {
	var groups []codedeploy.Group
	for _, st := range s.cfg.Stages {
		if st.Deploy == nil || st.Deploy.CodeDeploy == nil {
			continue
		}
		cd := st.Deploy.CodeDeploy
		groups = append(groups, codedeploy.Group{Application: cd.Application, Name: cd.DeploymentGroup, Root: os.Getenv("PUSHLINE_DEPLOY_ROOT")})
	}
	svc, err := codedeploy.Open(codedeploy.Options{
		Dir: filepath.Join(s.o.DataDir, "deploy"), Objects: s.objects, Groups: groups,
		Console: consoleWriter{s.console}, Logger: s.o.Logger, Region: Region,
	})
	if err != nil {
		return err
	}
	s.codedeploy = svc
	for _, action := range codeDeployActions {
		in := s.drained(states.IntegrationFunc(s.codeDeployCall))
		if action != "createDeployment" { // reads (and a stop) may run twice
			in = states.RerunWhen(in, nil)
		}
		s.engine.Register("arn:aws:states:::aws-sdk:codedeploy:"+action, in)
	}
	return nil
}

// codeDeployCall serves arn:aws:states:::aws-sdk:codedeploy:<action>; a
// CodeDeploy error fails the task as the AWS SDK integration does, named
// CodeDeploy.<exception>.
func (s *Stack) codeDeployCall(ctx context.Context, t states.Task) (json.RawMessage, error) {
	action := t.Resource[strings.LastIndexByte(t.Resource, ':')+1:]
	out, err := s.codedeploy.Call(ctx, action, t.Parameters)
	var api *codedeploy.APIError
	if errors.As(err, &api) {
		return nil, &states.TaskError{Name: "CodeDeploy." + api.Code, Cause: api.Message}
	}
	return out, err
}

// consoleWriter prints the agent's lines on the console.
type consoleWriter struct{ c *console }

func (w consoleWriter) Write(b []byte) (int, error) {
	for _, line := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		w.c.printf("%s", line)
	}
	return len(b), nil
}

// deploymentPage serves GET /deployments/<id>: the deployment's status and
// each lifecycle event's output (the local "console link" of a deploy stage).
func (s *Stack) deploymentPage(w http.ResponseWriter, r *http.Request) {
	id := strings.Trim(strings.TrimPrefix(r.URL.Path, "/deployments/"), "/")
	info, err := s.codedeploy.GetDeployment(r.Context(), id)
	if err != nil {
		http.Error(w, "no deployment "+id, http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, "deployment %s  %s/%s  %s\n", info.DeploymentID, info.ApplicationName, info.DeploymentGroupName, info.Status)
	if e := info.ErrorInformation; e != nil {
		fmt.Fprintf(w, "error %s: %s\n", e.Code, e.Message)
	}
	if rb := info.RollbackInfo; rb != nil {
		fmt.Fprintf(w, "rollback: %s\n", firstNonEmpty(rb.RollbackMessage, "by "+rb.RollbackDeploymentID))
	}
	if root, err := s.codedeploy.Target(info.ApplicationName, info.DeploymentGroupName); err == nil {
		fmt.Fprintf(w, "target %s\n", root)
	}
	for _, ev := range info.LifecycleEvents {
		fmt.Fprintf(w, "\n== %s: %s\n", ev.LifecycleEventName, ev.Status)
		if ev.LifecycleEventName == codedeploy.DownloadBundle || ev.Status == codedeploy.EventPending || ev.Status == codedeploy.EventSkipped {
			if ev.Diagnostics != nil && ev.Diagnostics.ErrorCode != codedeploy.DiagSuccess {
				fmt.Fprintln(w, ev.Diagnostics.Message)
			}
			continue
		}
		if p, err := s.codedeploy.LogPath(id, ev.LifecycleEventName); err == nil {
			if f, err := os.Open(p); err == nil {
				io.Copy(w, io.LimitReader(f, 1<<20))
				f.Close()
			}
		}
	}
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// maxEvent bounds a CodeCommit event's body.
const maxEvent = 256 << 10

// codeCommitEvents serves POST /codecommit: the local stand-in for the
// EventBridge rule that invokes the codecommit function with CodeCommit's
// events (the post-receive hook of a codecommit repository posts them). It
// answers as the webhook does.
func (s *Stack) codeCommitEvents(h *codecommit.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		write := func(code int, resp ingest.Response) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(code)
			b, _ := json.Marshal(resp)
			w.Write(append(b, '\n'))
			s.console.printf("codecommit event %d %s", code, clip(strings.TrimSpace(string(b)), 300))
		}
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			write(http.StatusMethodNotAllowed, ingest.Response{Error: "only POST is allowed"})
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxEvent))
		if err != nil {
			write(http.StatusRequestEntityTooLarge, ingest.Response{Error: "event too large"})
			return
		}
		ev, err := codecommit.Parse(body)
		if err != nil {
			write(http.StatusBadRequest, ingest.Response{Error: err.Error()})
			return
		}
		resp, err := h.Handle(r.Context(), ev)
		switch {
		case errors.Is(err, ingest.ErrUnavailable):
			write(http.StatusServiceUnavailable, ingest.Response{Error: "step functions unavailable, retry later"})
		case err != nil:
			s.o.Logger.Error("codecommit event", "err", err)
			write(http.StatusInternalServerError, ingest.Response{Error: "internal error"})
		case resp.Status == ingest.StatusStarted:
			write(http.StatusAccepted, resp)
		default:
			write(http.StatusOK, resp)
		}
	})
}

// codeCommitHandler is the codecommit function, run in process: the head
// commit and changed files come from the bare repositories (the cloneUrl
// of each codecommit repository) instead of CodeCommit's API.
func (s *Stack) codeCommitHandler(starter *ingest.Starter) *codecommit.Handler {
	dirs := map[string]string{}
	for _, r := range s.cfg.Repositories {
		if r.Provider != push.CodeCommit {
			continue
		}
		if p, ok := strings.CutPrefix(r.CloneURL, "file://"); ok {
			dirs[strings.ToLower(r.Repository)] = p
		} else if filepath.IsAbs(r.CloneURL) {
			dirs[strings.ToLower(r.Repository)] = r.CloneURL
		}
	}
	return &codecommit.Handler{Repository: codecommit.Git{Dirs: dirs}, Starter: starter, Log: s.o.Logger}
}
