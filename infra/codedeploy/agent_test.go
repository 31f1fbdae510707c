package codedeploy

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// memObjects is an in-memory S3.
type memObjects struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (o *memObjects) Get(_ context.Context, bucket, key string) (io.ReadCloser, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	b, ok := o.m[bucket+"/"+key]
	if !ok {
		return nil, errors.New("NoSuchKey")
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

// bundle zips files (name → content; names under scripts/ are executable).
func bundle(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, content := range files {
		h := &zip.FileHeader{Name: name, Method: zip.Deflate}
		h.SetMode(0o644)
		if strings.HasPrefix(name, "scripts/") {
			h.SetMode(0o755)
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, content)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type harness struct {
	t       *testing.T
	svc     *Service
	objects *memObjects
	dir     string
	trace   string // every hook script appends "<event> <version>" here
	n       int
}

func newHarness(t *testing.T, rollback *AutoRollback) *harness {
	dir := t.TempDir()
	h := &harness{t: t, objects: &memObjects{m: map[string][]byte{}}, dir: dir, trace: filepath.Join(dir, "trace")}
	svc, err := Open(Options{Dir: filepath.Join(dir, "deploy"), Objects: h.objects,
		Groups: []Group{{Application: "app", Name: "prod", AutoRollback: rollback}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	h.svc = svc
	return h
}

// hook is a script recording its event and the revision's version, then
// running body.
func (h *harness) hook(version, body string) string {
	return fmt.Sprintf("#!/bin/sh\necho \"$LIFECYCLE_EVENT %s\" >> %s\n%s\n", version, h.trace, body)
}

const allHooks = `version: 0.0
os: linux
files:
  - source: site
    destination: /srv/app
hooks:
  ApplicationStop:
    - location: scripts/stop.sh
  BeforeInstall:
    - location: scripts/before.sh
  AfterInstall:
    - location: scripts/after.sh
  ApplicationStart:
    - location: scripts/start.sh
  ValidateService:
    - location: scripts/validate.sh
      timeout: %d
`

// revision uploads a revision whose site/index.html says version and whose
// scripts run the bodies given per event (default: true).
func (h *harness) revision(version string, timeout int, bodies map[string]string) Revision {
	h.n++
	files := map[string]string{"appspec.yml": fmt.Sprintf(allHooks, timeout), "site/index.html": version}
	for script, event := range map[string]string{"stop": "ApplicationStop", "before": "BeforeInstall", "after": "AfterInstall", "start": "ApplicationStart", "validate": "ValidateService"} {
		body := bodies[event]
		if body == "" {
			body = "true"
		}
		files["scripts/"+script+".sh"] = h.hook(version, body)
	}
	key := fmt.Sprintf("rev%d.zip", h.n)
	h.objects.mu.Lock()
	h.objects.m["bucket/"+key] = bundle(h.t, files)
	h.objects.mu.Unlock()
	return Revision{RevisionType: "S3", S3Location: &S3Location{Bucket: "bucket", Key: key, BundleType: "zip"}}
}

func (h *harness) deploy(rev Revision) DeploymentInfo {
	h.t.Helper()
	id, err := h.svc.CreateDeployment(context.Background(), CreateDeploymentInput{ApplicationName: "app", DeploymentGroupName: "prod", Revision: &rev})
	if err != nil {
		h.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	info, err := h.svc.Wait(ctx, id)
	if err != nil {
		h.t.Fatal(err)
	}
	return info
}

func (h *harness) traced() []string {
	b, _ := os.ReadFile(h.trace)
	os.Remove(h.trace)
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

func (h *harness) site() string {
	root, _ := h.svc.Target("app", "prod")
	b, err := os.ReadFile(filepath.Join(root, "srv/app/index.html"))
	if err != nil {
		return "(none)"
	}
	return string(b)
}

func statuses(evs []LifecycleEvent) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.LifecycleEventName+"="+e.Status)
	}
	return out
}

func TestOrder(t *testing.T) {
	h := newHarness(t, nil)
	info := h.deploy(h.revision("v1", 30, nil))
	if info.Status != StatusSucceeded {
		t.Fatalf("v1: %s %+v", info.Status, info.ErrorInformation)
	}
	// The first deployment has no previous revision to stop.
	want := []string{"BeforeInstall v1", "AfterInstall v1", "ApplicationStart v1", "ValidateService v1"}
	if d := cmp.Diff(want, h.traced()); d != "" {
		t.Errorf("v1 hooks (-want +got):\n%s", d)
	}
	info = h.deploy(h.revision("v2", 30, nil))
	if info.Status != StatusSucceeded {
		t.Fatalf("v2: %s %+v", info.Status, info.ErrorInformation)
	}
	// ApplicationStop is the previous revision's script.
	want = []string{"ApplicationStop v1", "BeforeInstall v2", "AfterInstall v2", "ApplicationStart v2", "ValidateService v2"}
	if d := cmp.Diff(want, h.traced()); d != "" {
		t.Errorf("v2 hooks (-want +got):\n%s", d)
	}
	wantEvents := []string{"ApplicationStop=Succeeded", "DownloadBundle=Succeeded", "BeforeInstall=Succeeded", "Install=Succeeded",
		"AfterInstall=Succeeded", "ApplicationStart=Succeeded", "ValidateService=Succeeded"}
	if d := cmp.Diff(wantEvents, statuses(info.LifecycleEvents)); d != "" {
		t.Errorf("events (-want +got):\n%s", d)
	}
	if got := h.site(); got != "v2" {
		t.Errorf("site = %q, want v2", got)
	}
	// Each hook's output is kept.
	p, err := h.svc.LogPath(info.DeploymentID, "ValidateService")
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); !strings.Contains(string(b), "running scripts/validate.sh") {
		t.Errorf("ValidateService log:\n%s", b)
	}
}

func TestFailures(t *testing.T) {
	for _, tc := range []struct {
		name        string
		timeout     int
		bodies      map[string]string
		event, diag string
		msg         string
	}{
		{"validate fails", 30, map[string]string{"ValidateService": "echo unhealthy; exit 3"}, "ValidateService", DiagScriptFailed,
			"lifecycle event ValidateService failed: Script at specified location: scripts/validate.sh failed with exit code 3"},
		{"validate times out", 1, map[string]string{"ValidateService": "sleep 30"}, "ValidateService", DiagScriptTimedOut,
			"lifecycle event ValidateService failed: Script at specified location: scripts/validate.sh failed to complete in 1 seconds"},
		{"before install fails", 30, map[string]string{"BeforeInstall": "exit 1"}, "BeforeInstall", DiagScriptFailed,
			"lifecycle event BeforeInstall failed: Script at specified location: scripts/before.sh failed with exit code 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, &AutoRollback{Enabled: false})
			if info := h.deploy(h.revision("v1", 30, nil)); info.Status != StatusSucceeded {
				t.Fatalf("v1: %+v", info.ErrorInformation)
			}
			h.traced()
			start := time.Now()
			info := h.deploy(h.revision("v2", tc.timeout, tc.bodies))
			if info.Status != StatusFailed || info.ErrorInformation == nil || info.ErrorInformation.Code != "HEALTH_CONSTRAINTS" ||
				!strings.Contains(info.ErrorInformation.Message, tc.msg) {
				t.Fatalf("status %s, error %+v; want Failed with %q", info.Status, info.ErrorInformation, tc.msg)
			}
			if tc.timeout == 1 && time.Since(start) > 20*time.Second {
				t.Errorf("a timed-out script was not killed")
			}
			var failed *LifecycleEvent
			for i, e := range info.LifecycleEvents {
				if e.Status == EventFailed {
					failed = &info.LifecycleEvents[i]
				}
			}
			if failed == nil || failed.LifecycleEventName != tc.event || failed.Diagnostics.ErrorCode != tc.diag {
				t.Fatalf("failed event %+v; want %s %s", failed, tc.event, tc.diag)
			}
			if tc.event == "ValidateService" && tc.timeout > 1 && !strings.Contains(failed.Diagnostics.LogTail, "unhealthy") {
				t.Errorf("log tail %q lacks the script's output", failed.Diagnostics.LogTail)
			}
			last := info.LifecycleEvents[len(info.LifecycleEvents)-1]
			if tc.event != "ValidateService" && last.Status != EventSkipped {
				t.Errorf("events after the failure: %v", statuses(info.LifecycleEvents))
			}
			if tc.event == "BeforeInstall" && h.site() != "v1" {
				t.Errorf("a failure before Install replaced the site: %q", h.site())
			}
			if info.RollbackInfo != nil {
				t.Errorf("rolled back with rollback off: %+v", info.RollbackInfo)
			}
		})
	}
}

func TestRollback(t *testing.T) {
	h := newHarness(t, nil) // default: roll back on failure
	v1 := h.deploy(h.revision("v1", 30, nil))
	h.traced()
	info := h.deploy(h.revision("v2", 30, map[string]string{"ValidateService": "exit 1"}))
	if info.Status != StatusFailed || info.RollbackInfo == nil || info.RollbackInfo.RollbackDeploymentID == "" {
		t.Fatalf("status %s rollback %+v", info.Status, info.RollbackInfo)
	}
	if got := h.site(); got != "v1" {
		t.Errorf("site after rollback = %q, want v1", got)
	}
	rb, err := h.svc.GetDeployment(context.Background(), info.RollbackInfo.RollbackDeploymentID)
	if err != nil {
		t.Fatal(err)
	}
	if rb.Status != StatusSucceeded || rb.Creator != "codeDeployRollback" || rb.RollbackInfo.RollbackTriggeringID != info.DeploymentID {
		t.Errorf("rollback deployment %+v", rb)
	}
	if !strings.Contains(info.RollbackInfo.RollbackMessage, v1.DeploymentID) {
		t.Errorf("rollback message %q does not name %s", info.RollbackInfo.RollbackMessage, v1.DeploymentID)
	}
	// v2 failed before it ran: the rollback stops v1 (the last good revision) and runs v1's hooks.
	want := []string{"ApplicationStop v1", "BeforeInstall v2", "AfterInstall v2", "ApplicationStart v2", "ValidateService v2",
		"ApplicationStop v1", "BeforeInstall v1", "AfterInstall v1", "ApplicationStart v1", "ValidateService v1"}
	if d := cmp.Diff(want, h.traced()); d != "" {
		t.Errorf("hooks (-want +got):\n%s", d)
	}
}

func TestFirstDeploymentFailsWithoutRollbackTarget(t *testing.T) {
	h := newHarness(t, nil)
	info := h.deploy(h.revision("v1", 30, map[string]string{"ValidateService": "exit 1"}))
	if info.Status != StatusFailed || info.RollbackInfo == nil || info.RollbackInfo.RollbackDeploymentID != "" {
		t.Fatalf("status %s rollback %+v", info.Status, info.RollbackInfo)
	}
}

func TestAPIErrors(t *testing.T) {
	h := newHarness(t, nil)
	rev := h.revision("v1", 30, nil)
	for _, tc := range []struct {
		name string
		in   CreateDeploymentInput
		code string
	}{
		{"no application", CreateDeploymentInput{DeploymentGroupName: "prod", Revision: &rev}, "ApplicationNameRequiredException"},
		{"unknown application", CreateDeploymentInput{ApplicationName: "x", DeploymentGroupName: "prod", Revision: &rev}, "ApplicationDoesNotExistException"},
		{"unknown group", CreateDeploymentInput{ApplicationName: "app", DeploymentGroupName: "x", Revision: &rev}, "DeploymentGroupDoesNotExistException"},
		{"no revision", CreateDeploymentInput{ApplicationName: "app", DeploymentGroupName: "prod"}, "RevisionRequiredException"},
		{"github revision", CreateDeploymentInput{ApplicationName: "app", DeploymentGroupName: "prod", Revision: &Revision{RevisionType: "GitHub"}}, "InvalidRevisionException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h.svc.CreateDeployment(context.Background(), tc.in)
			var api *APIError
			if !errors.As(err, &api) || api.Code != tc.code {
				t.Fatalf("err = %v, want %s", err, tc.code)
			}
		})
	}
	if _, err := h.svc.GetDeployment(context.Background(), "d-NOPE"); err == nil || !strings.Contains(err.Error(), "DeploymentDoesNotExistException") {
		t.Errorf("GetDeployment unknown: %v", err)
	}
}

func TestOneDeploymentPerGroup(t *testing.T) {
	h := newHarness(t, nil)
	rev := h.revision("v1", 30, map[string]string{"BeforeInstall": "sleep 2"})
	id, err := h.svc.CreateDeployment(context.Background(), CreateDeploymentInput{ApplicationName: "app", DeploymentGroupName: "prod", Revision: &rev})
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.svc.CreateDeployment(context.Background(), CreateDeploymentInput{ApplicationName: "app", DeploymentGroupName: "prod", Revision: &rev})
	var api *APIError
	if !errors.As(err, &api) || api.Code != "DeploymentLimitExceededException" || !strings.Contains(api.Message, id) {
		t.Fatalf("second deployment: %v", err)
	}
	if err := h.svc.StopDeployment(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	info, _ := h.svc.Wait(context.Background(), id)
	if info.Status != StatusStopped {
		t.Errorf("stopped deployment is %s", info.Status)
	}
}

func TestRestartFailsInProgress(t *testing.T) {
	h := newHarness(t, nil)
	info := h.deploy(h.revision("v1", 30, nil))
	// A record left in progress by a crash.
	r := &record{Info: info}
	r.Info.DeploymentID, r.Info.Status = "d-CRASHED00", StatusInProgress
	if err := h.svc.save(r); err != nil {
		t.Fatal(err)
	}
	svc, err := Open(Options{Dir: filepath.Join(h.dir, "deploy"), Groups: []Group{{Application: "app", Name: "prod"}}})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := svc.GetDeployment(context.Background(), "d-CRASHED00")
	if got.Status != StatusFailed {
		t.Errorf("crashed deployment is %s", got.Status)
	}
	if got, _ := svc.GetDeployment(context.Background(), info.DeploymentID); got.Status != StatusSucceeded {
		t.Errorf("finished deployment is %s after restart", got.Status)
	}
}

func TestPrune(t *testing.T) {
	h := newHarness(t, nil)
	var last string
	for i := range MaxRevisions + 3 {
		info := h.deploy(h.revision(fmt.Sprintf("v%d", i), 30, nil))
		if info.Status != StatusSucceeded {
			t.Fatalf("v%d: %+v", i, info.ErrorInformation)
		}
		last = info.DeploymentID
	}
	dirs, _ := filepath.Glob(filepath.Join(h.dir, "deploy", "app", "prod", "agent", "d-*"))
	if len(dirs) != MaxRevisions {
		t.Errorf("%d deployment directories kept, want %d", len(dirs), MaxRevisions)
	}
	if _, err := os.Stat(filepath.Join(h.dir, "deploy", "app", "prod", "agent", last)); err != nil {
		t.Errorf("the last deployment's archive is gone: %v", err)
	}
}
