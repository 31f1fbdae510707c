package codedeploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/pushline/pushline/shared/appspec"
)

// instance is the local stand-in for the one instance of a deployment
// group: the CodeDeploy agent's deployment root (dir: archives, logs,
// state) and the instance's file system (root: AppSpec destinations are
// mapped under it).
type instance struct {
	application, group string
	dir, root          string
	console            io.Writer
}

// instanceState is what the agent remembers between deployments.
type instanceState struct {
	// Last is the last deployment that succeeded: its ApplicationStop
	// scripts run first next time, and a rollback redeploys it.
	Last *applied `json:"last,omitempty"`
	// Installed are the files the latest Install wrote (removed before the
	// next Install).
	Installed []string `json:"installed,omitempty"`
}

type applied struct {
	DeploymentID string   `json:"deploymentId"`
	Revision     Revision `json:"revision"`
}

func (in *instance) archive(id string) string { return filepath.Join(in.dir, id, "deployment-archive") }
func (in *instance) logDir(id string) string  { return filepath.Join(in.dir, id, "logs") }

// logPath is where a deployment's output of a lifecycle event is kept.
func (in *instance) logPath(id, event string) string {
	return filepath.Join(in.logDir(id), event+".log")
}

func (in *instance) loadState() (instanceState, error) {
	var st instanceState
	b, err := os.ReadFile(filepath.Join(in.dir, "state.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err == nil {
		err = json.Unmarshal(b, &st)
	}
	if err != nil {
		return st, fmt.Errorf("read the local agent's state: %w", err)
	}
	return st, nil
}

func (in *instance) saveState(st instanceState) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return writeAtomic(filepath.Join(in.dir, "state.json"), b)
}

// step is a deployment's progress reporter: it records each lifecycle
// event's status as it changes.
type step func(ev LifecycleEvent)

// apply runs an in-place deployment of the revision already unpacked in
// in.archive(id) (or, for DownloadBundle, fetched by download) in
// CodeDeploy's order: ApplicationStop (of the last successful revision),
// DownloadBundle, BeforeInstall, Install, AfterInstall, ApplicationStart,
// ValidateService. The first event that fails ends it; the events after it
// are Skipped. It returns the failed event's name and diagnostics.
func (in *instance) apply(ctx context.Context, id string, rev Revision, behaviour string, download func(dst string) error, report step) (failed string, diag *Diagnostics) {
	order := []string{appspec.ApplicationStop, DownloadBundle, appspec.BeforeInstall, Install,
		appspec.AfterInstall, appspec.ApplicationStart, appspec.ValidateService}
	events := make([]LifecycleEvent, len(order))
	for i, name := range order {
		events[i] = LifecycleEvent{LifecycleEventName: name, Status: EventPending}
		report(events[i])
	}
	if err := os.MkdirAll(in.logDir(id), 0o755); err != nil {
		return order[0], &Diagnostics{ErrorCode: DiagUnknownError, Message: err.Error()}
	}
	st, err := in.loadState()
	if err != nil {
		return order[0], &Diagnostics{ErrorCode: DiagUnknownError, Message: err.Error()}
	}
	var spec *appspec.Spec
	archive := in.archive(id)
	for i, name := range order {
		ev := &events[i]
		now := Epoch{time.Now().UTC()}
		ev.Status, ev.StartTime = EventInProgress, &now
		report(*ev)
		d := in.event(ctx, id, name, archive, &spec, st, behaviour, download)
		end := Epoch{time.Now().UTC()}
		ev.EndTime, ev.Diagnostics = &end, d
		if d != nil && d.ErrorCode != DiagSuccess {
			ev.Status = EventFailed
			report(*ev)
			fmt.Fprintf(in.console, "deploy %s %s/%s: %s failed: %s\n", id, in.application, in.group, name, d.Message)
			for j := i + 1; j < len(order); j++ {
				events[j].Status = EventSkipped
				report(events[j])
			}
			return name, d
		}
		ev.Status = EventSucceeded
		report(*ev)
		if name == Install {
			st, _ = in.loadState() // Install recorded the files it wrote
		}
	}
	st.Last = &applied{DeploymentID: id, Revision: rev}
	if err := in.saveState(st); err != nil {
		return appspec.ValidateService, &Diagnostics{ErrorCode: DiagUnknownError, Message: err.Error()}
	}
	in.prune(id)
	return "", nil
}

// MaxRevisions is how many deployments' archives and logs the agent keeps
// per group, as the CodeDeploy agent's max_revisions default.
const MaxRevisions = 5

// prune removes the oldest deployment directories beyond MaxRevisions,
// never keep's (the last successful one).
func (in *instance) prune(keep string) {
	entries, err := os.ReadDir(in.dir)
	if err != nil {
		return
	}
	type dep struct {
		name string
		mod  time.Time
	}
	var deps []dep
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), "d-") || e.Name() == keep {
			continue
		}
		if fi, err := e.Info(); err == nil {
			deps = append(deps, dep{e.Name(), fi.ModTime()})
		}
	}
	sort.Slice(deps, func(i, j int) bool { return deps[i].mod.After(deps[j].mod) })
	for i, d := range deps {
		if i >= MaxRevisions-1 {
			os.RemoveAll(filepath.Join(in.dir, d.name))
		}
	}
}

// event runs one lifecycle event; nil diagnostics means there was nothing
// to run.
func (in *instance) event(ctx context.Context, id, name, archive string, spec **appspec.Spec, st instanceState, behaviour string, download func(string) error) *Diagnostics {
	fail := func(format string, args ...any) *Diagnostics {
		return &Diagnostics{ErrorCode: DiagUnknownError, Message: fmt.Sprintf(format, args...)}
	}
	switch name {
	case appspec.ApplicationStop:
		if st.Last == nil {
			return nil
		}
		prev := in.archive(st.Last.DeploymentID)
		prevSpec, err := readSpec(prev)
		if err != nil {
			// As the agent: a previous revision it cannot read does not
			// block the new one.
			fmt.Fprintf(in.console, "deploy %s: ApplicationStop of %s skipped: %v\n", id, st.Last.DeploymentID, err)
			return nil
		}
		return in.scripts(ctx, id, name, prev, prevSpec)
	case DownloadBundle:
		if err := download(archive); err != nil {
			return fail("%v", err)
		}
		s, err := readSpec(archive)
		if err != nil {
			return fail("%v", err)
		}
		*spec = s
		return &Diagnostics{ErrorCode: DiagSuccess, Message: "Succeeded"}
	case Install:
		return in.install(id, archive, *spec, st, behaviour)
	default:
		return in.scripts(ctx, id, name, archive, *spec)
	}
}

// install removes the files of the latest install, copies the revision's
// and applies the permissions; it records what it wrote.
func (in *instance) install(id, archive string, spec *appspec.Spec, st instanceState, behaviour string) *Diagnostics {
	log, err := os.OpenFile(in.logPath(id, Install), os.O_CREATE|os.O_APPEND|os.O_RDWR, 0o644)
	if err != nil {
		return &Diagnostics{ErrorCode: DiagUnknownError, Message: err.Error()}
	}
	defer log.Close()
	if behaviour == "" {
		behaviour = spec.FileExistsBehavior
	}
	if err := cleanup(st.Installed, in.root); err != nil {
		return &Diagnostics{ErrorCode: DiagUnknownError, Message: err.Error(), LogTail: tail(log, 0)}
	}
	written, err := install(archive, in.root, spec, behaviour, log)
	st.Installed = written
	if serr := in.saveState(st); err == nil {
		err = serr
	}
	if err == nil {
		err = applyPermissions(in.root, spec.Permissions, log)
	}
	if err != nil {
		fmt.Fprintf(log, "[pushline] Install failed: %v\n", err)
		return &Diagnostics{ErrorCode: DiagUnknownError, Message: err.Error(), LogTail: tail(log, 0)}
	}
	fmt.Fprintf(log, "[pushline] Install: %d file(s) into %s\n", len(written), in.root)
	return &Diagnostics{ErrorCode: DiagSuccess, Message: "Succeeded", LogTail: tail(log, 0)}
}

// scripts runs an event's scripts of spec, in order, until one fails.
func (in *instance) scripts(ctx context.Context, id, name, archive string, spec *appspec.Spec) *Diagnostics {
	scripts := spec.Hooks[name]
	if len(scripts) == 0 {
		return nil
	}
	out, err := os.OpenFile(in.logPath(id, name), os.O_CREATE|os.O_APPEND|os.O_RDWR, 0o644)
	if err != nil {
		return &Diagnostics{ErrorCode: DiagUnknownError, Message: err.Error()}
	}
	defer out.Close()
	env := scriptEnv{event: name, deploymentID: id, application: in.application, group: in.group, root: in.root}
	var d *Diagnostics
	for _, s := range scripts {
		if d = runScript(ctx, archive, s, env, out); d.ErrorCode != DiagSuccess {
			break
		}
	}
	if in.console != nil {
		fmt.Fprintf(in.console, "deploy %s %s/%s: %s %s\n", id, in.application, in.group, name, d.ErrorCode)
	}
	return d
}

// readSpec reads and parses the revision's appspec.yml (or appspec.yaml).
func readSpec(archive string) (*appspec.Spec, error) {
	for _, name := range []string{"appspec.yml", "appspec.yaml"} {
		b, err := os.ReadFile(filepath.Join(archive, name))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return appspec.Parse(name, b)
	}
	return nil, errors.New("the revision has no appspec.yml at its root")
}

// writeAtomic replaces path with b.
func writeAtomic(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
