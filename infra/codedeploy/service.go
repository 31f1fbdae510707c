package codedeploy

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// Objects reads revision bundles (the local S3); consumer-owned.
type Objects interface {
	Get(ctx context.Context, bucket, key string) (io.ReadCloser, error)
}

// Group is a deployment group the service knows, with its one local
// instance.
type Group struct {
	Application string
	Name        string
	// Root is the instance's file system: AppSpec destinations are mapped
	// under it (/var/www/app → Root/var/www/app). Empty: Dir/<application>/<group>/target.
	Root string
	// AutoRollback is the group's rollback setting; nil: roll back on
	// failure (DEPLOYMENT_FAILURE), as pipelines usually configure it.
	AutoRollback *AutoRollback
}

// Options configure a Service.
type Options struct {
	Dir     string // where deployments, archives, logs and the default targets live
	Objects Objects
	Groups  []Group
	Console io.Writer // one line per lifecycle event; nil: discarded
	Logger  *slog.Logger
	Region  string // for console links; default us-east-1
}

// Service is the local CodeDeploy: deployments of the configured groups,
// each applied by the local agent to the group's instance.
type Service struct {
	o Options

	mu          sync.Mutex
	deployments map[string]*record
	active      map[string]string // group key → deployment id in progress
	cancel      map[string]context.CancelFunc
	wg          sync.WaitGroup
	closed      bool
}

// record is a deployment as kept on disk.
type record struct {
	Info   DeploymentInfo   `json:"info"`
	Events []LifecycleEvent `json:"events"`
	done   chan struct{}
}

// Open loads the deployments kept in o.Dir. A deployment that was in
// progress when the process stopped is failed: the local agent does not
// resume one half done.
func Open(o Options) (*Service, error) {
	if o.Dir == "" {
		return nil, errors.New("codedeploy: no directory")
	}
	if o.Console == nil {
		o.Console = io.Discard
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Region == "" {
		o.Region = "us-east-1"
	}
	s := &Service{o: o, deployments: map[string]*record{}, active: map[string]string{}, cancel: map[string]context.CancelFunc{}}
	dir := filepath.Join(o.Dir, "deployments")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("codedeploy: %w", err)
	}
	files, err := filepath.Glob(filepath.Join(dir, "d-*.json"))
	if err != nil {
		return nil, fmt.Errorf("codedeploy: %w", err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("codedeploy: %w", err)
		}
		r := &record{done: make(chan struct{})}
		if err := json.Unmarshal(b, r); err != nil {
			o.Logger.Warn("codedeploy: unreadable deployment record skipped", "file", f, "err", err)
			continue
		}
		if !terminal(r.Info.Status) {
			r.fail("INTERNAL_ERROR", "the local stack stopped while the deployment was in progress")
			if err := s.save(r); err != nil {
				return nil, err
			}
		}
		close(r.done)
		s.deployments[r.Info.DeploymentID] = r
	}
	return s, nil
}

func terminal(status string) bool {
	return status == StatusSucceeded || status == StatusFailed || status == StatusStopped
}

func (r *record) fail(code, msg string) {
	now := Epoch{time.Now().UTC()}
	r.Info.Status, r.Info.CompleteTime = StatusFailed, &now
	r.Info.ErrorInformation = &ErrorInformation{Code: code, Message: msg}
	r.Info.Overview = Overview{Failed: 1}
}

func (s *Service) save(r *record) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return writeAtomic(filepath.Join(s.o.Dir, "deployments", r.Info.DeploymentID+".json"), b)
}

func groupKey(app, group string) string { return app + "\x00" + group }

func (s *Service) group(app, name string) (Group, error) {
	if app == "" {
		return Group{}, apiErr("ApplicationNameRequiredException", "The minimum number of required application names was not specified.")
	}
	if name == "" {
		return Group{}, apiErr("DeploymentGroupNameRequiredException", "The deployment group name was not specified.")
	}
	found := false
	for _, g := range s.o.Groups {
		if g.Application != app {
			continue
		}
		found = true
		if g.Name == name {
			return g, nil
		}
	}
	if !found {
		return Group{}, apiErr("ApplicationDoesNotExistException", "No application found for name: "+app)
	}
	return Group{}, apiErr("DeploymentGroupDoesNotExistException", "No Deployment Group found for name: "+name)
}

func (s *Service) instance(g Group) *instance {
	base := filepath.Join(s.o.Dir, safeName(g.Application), safeName(g.Name))
	root := g.Root
	if root == "" {
		root = filepath.Join(base, "target")
	}
	return &instance{application: g.Application, group: g.Name, dir: filepath.Join(base, "agent"), root: root, console: s.o.Console}
}

// Target is the directory a group's revisions are installed under.
func (s *Service) Target(app, group string) (string, error) {
	g, err := s.group(app, group)
	if err != nil {
		return "", err
	}
	return s.instance(g).root, nil
}

// safeName keeps a name usable as one path element.
func safeName(n string) string {
	n = strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == 0 {
			return '_'
		}
		return r
	}, n)
	if n == "." || n == ".." || n == "" {
		return "_" + n
	}
	return n
}

// CreateDeploymentInput is CreateDeployment's request.
type CreateDeploymentInput struct {
	ApplicationName     string        `json:"applicationName"`
	DeploymentGroupName string        `json:"deploymentGroupName"`
	Revision            *Revision     `json:"revision"`
	Description         string        `json:"description"`
	FileExistsBehavior  string        `json:"fileExistsBehavior"`
	AutoRollback        *AutoRollback `json:"autoRollbackConfiguration"`
}

// CreateDeployment starts a deployment and returns its id. A group runs one
// deployment at a time (DeploymentLimitExceededException otherwise).
func (s *Service) CreateDeployment(_ context.Context, in CreateDeploymentInput) (string, error) {
	g, err := s.group(in.ApplicationName, in.DeploymentGroupName)
	if err != nil {
		return "", err
	}
	if in.Revision == nil {
		return "", apiErr("RevisionRequiredException", "The revision ID was not specified.")
	}
	if in.Revision.RevisionType != "S3" || in.Revision.S3Location == nil || in.Revision.S3Location.Bucket == "" || in.Revision.S3Location.Key == "" {
		return "", apiErr("InvalidRevisionException", "The local CodeDeploy deploys S3 revisions: revisionType S3 with s3Location bucket and key.")
	}
	if bt := strings.ToLower(in.Revision.S3Location.BundleType); bt != "" && bt != "zip" {
		return "", apiErr("InvalidRevisionException", "The local CodeDeploy deploys zip bundles, not "+in.Revision.S3Location.BundleType+".")
	}
	switch in.FileExistsBehavior {
	case "", "DISALLOW", "OVERWRITE", "RETAIN":
	default:
		return "", apiErr("InvalidFileExistsBehaviorException", "fileExistsBehavior must be DISALLOW, OVERWRITE or RETAIN.")
	}
	rollback := g.AutoRollback
	if in.AutoRollback != nil {
		rollback = in.AutoRollback
	}
	if rollback == nil {
		rollback = &AutoRollback{Enabled: true, Events: []string{"DEPLOYMENT_FAILURE"}}
	}
	r := s.newRecord(g, *in.Revision, in.Description, "user")
	r.Info.AutoRollback, r.Info.FileExistsBehavior = rollback, in.FileExistsBehavior
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return "", apiErr("ThrottlingException", "The local CodeDeploy is stopping.")
	}
	key := groupKey(g.Application, g.Name)
	if id, busy := s.active[key]; busy {
		return "", apiErr("DeploymentLimitExceededException", fmt.Sprintf("The Deployment Group '%s' already has an active Deployment '%s'", g.Name, id))
	}
	if err := s.save(r); err != nil {
		return "", fmt.Errorf("codedeploy: record deployment: %w", err)
	}
	s.deployments[r.Info.DeploymentID] = r
	s.active[key] = r.Info.DeploymentID
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel[r.Info.DeploymentID] = cancel
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer cancel()
		s.run(ctx, g, r)
		s.mu.Lock()
		delete(s.active, key)
		delete(s.cancel, r.Info.DeploymentID)
		s.mu.Unlock()
		close(r.done) // after the group is free: a waiter may deploy again at once
	}()
	return r.Info.DeploymentID, nil
}

func (s *Service) newRecord(g Group, rev Revision, description, creator string) *record {
	return &record{
		Info: DeploymentInfo{
			ApplicationName: g.Application, DeploymentGroupName: g.Name, DeploymentID: newID(),
			Status: StatusCreated, CreateTime: Epoch{time.Now().UTC()}, Description: description,
			Creator: creator, Revision: rev, Overview: Overview{Pending: 1}, ComputePlatform: "Server",
			DeploymentStyle: map[string]string{"deploymentType": "IN_PLACE", "deploymentOption": "WITHOUT_TRAFFIC_CONTROL"},
		},
		done: make(chan struct{}),
	}
}

// newID makes a deployment id of CodeDeploy's form: d- and nine characters.
func newID() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, 9)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return "d-" + string(b)
}

// update changes r under the lock and saves it.
func (s *Service) update(r *record, f func()) {
	s.mu.Lock()
	f()
	err := s.save(r)
	s.mu.Unlock()
	if err != nil {
		s.o.Logger.Error("codedeploy: save deployment", "deployment", r.Info.DeploymentID, "err", err)
	}
}

// run applies r on the group's instance, then rolls back if it failed and
// the group asks for it.
func (s *Service) run(ctx context.Context, g Group, r *record) {
	in := s.instance(g)
	failed, diag := s.apply(ctx, in, r, func(dst string) error { return s.download(ctx, in, r.Info.Revision, dst) })
	if failed == "" {
		return
	}
	msg := fmt.Sprintf("The overall deployment failed because too many individual instances failed deployment: on the local instance, lifecycle event %s failed: %s", failed, diag.Message)
	code := "HEALTH_CONSTRAINTS"
	if ctx.Err() != nil {
		code, msg = "MANUAL_STOP", "The deployment was stopped during lifecycle event "+failed+"."
	}
	var rb *RollbackInfo
	if ctx.Err() == nil && r.Info.AutoRollback.rollsBackOnFailure() {
		rb = s.rollback(in, g, r)
	}
	s.update(r, func() {
		r.fail(code, msg)
		if code == "MANUAL_STOP" {
			r.Info.Status = StatusStopped
		}
		r.Info.RollbackInfo = rb
	})
}

// apply runs the agent for r and records its progress.
func (s *Service) apply(ctx context.Context, in *instance, r *record, download func(string) error) (string, *Diagnostics) {
	s.update(r, func() {
		now := Epoch{time.Now().UTC()}
		r.Info.Status, r.Info.StartTime, r.Info.Overview = StatusInProgress, &now, Overview{InProgress: 1}
	})
	failed, diag := in.apply(ctx, r.Info.DeploymentID, r.Info.Revision, r.Info.FileExistsBehavior, download, func(ev LifecycleEvent) {
		s.update(r, func() {
			for i := range r.Events {
				if r.Events[i].LifecycleEventName == ev.LifecycleEventName {
					r.Events[i] = ev
					return
				}
			}
			r.Events = append(r.Events, ev)
		})
	})
	if failed == "" {
		s.update(r, func() {
			now := Epoch{time.Now().UTC()}
			r.Info.Status, r.Info.CompleteTime, r.Info.Overview = StatusSucceeded, &now, Overview{Succeeded: 1}
		})
	}
	return failed, diag
}

// rollback redeploys the group's last successful revision as a new
// deployment (creator codeDeployRollback), as CodeDeploy does, from the
// archive the agent kept. Without one there is nothing to restore.
func (s *Service) rollback(in *instance, g Group, failed *record) *RollbackInfo {
	st, err := in.loadState()
	if err != nil || st.Last == nil {
		return &RollbackInfo{RollbackMessage: "Automatic rollback: no previous successful revision of this deployment group to roll back to."}
	}
	prev := st.Last
	r := s.newRecord(g, prev.Revision, "Rollback of "+failed.Info.DeploymentID, "codeDeployRollback")
	r.Info.RollbackInfo = &RollbackInfo{RollbackTriggeringID: failed.Info.DeploymentID}
	r.Info.FileExistsBehavior = "OVERWRITE"
	s.mu.Lock()
	s.deployments[r.Info.DeploymentID] = r
	s.mu.Unlock()
	fmt.Fprintf(s.o.Console, "deploy %s %s/%s: rolling back to %s's revision as %s\n", failed.Info.DeploymentID, g.Application, g.Name, prev.DeploymentID, r.Info.DeploymentID)
	from := in.archive(prev.DeploymentID)
	failedAt, diag := s.apply(context.Background(), in, r, func(dst string) error { return os.CopyFS(dst, os.DirFS(from)) })
	defer close(r.done)
	if failedAt != "" {
		s.update(r, func() {
			r.fail("HEALTH_CONSTRAINTS", "The rollback failed: lifecycle event "+failedAt+" failed: "+diag.Message)
		})
		return &RollbackInfo{RollbackDeploymentID: r.Info.DeploymentID, RollbackMessage: fmt.Sprintf("Automatic rollback to %s's revision failed (%s).", prev.DeploymentID, r.Info.DeploymentID)}
	}
	return &RollbackInfo{RollbackDeploymentID: r.Info.DeploymentID, RollbackMessage: fmt.Sprintf("Automatically rolled back to %s's revision (deployment %s succeeded).", prev.DeploymentID, r.Info.DeploymentID)}
}

// download fetches the revision's bundle and unpacks it into dst.
func (s *Service) download(ctx context.Context, in *instance, rev Revision, dst string) error {
	loc := rev.S3Location
	if s.o.Objects == nil {
		return errors.New("no S3 to read the revision from")
	}
	body, err := s.o.Objects.Get(ctx, loc.Bucket, loc.Key)
	if err != nil {
		return fmt.Errorf("the revision s3://%s/%s could not be read: %w", loc.Bucket, loc.Key, err)
	}
	defer body.Close()
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), "bundle-*.zip")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	_, err = io.Copy(tmp, io.LimitReader(body, MaxBundle))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("download the revision: %w", err)
	}
	return unzip(tmp.Name(), dst)
}

// GetDeployment returns a deployment.
func (s *Service) GetDeployment(_ context.Context, id string) (DeploymentInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.deployments[id]
	if !ok {
		return DeploymentInfo{}, notFound(id)
	}
	info := r.Info
	info.LifecycleEvents = slices.Clone(r.Events)
	return info, nil
}

func notFound(id string) error {
	if !strings.HasPrefix(id, "d-") {
		return apiErr("InvalidDeploymentIdException", "Specified DeploymentId is not in the valid format: "+id)
	}
	return apiErr("DeploymentDoesNotExistException", "The deployment "+id+" could not be found.")
}

// Wait waits for a deployment to end and returns it.
func (s *Service) Wait(ctx context.Context, id string) (DeploymentInfo, error) {
	s.mu.Lock()
	r, ok := s.deployments[id]
	s.mu.Unlock()
	if !ok {
		return DeploymentInfo{}, notFound(id)
	}
	select {
	case <-r.done:
	case <-ctx.Done():
		return DeploymentInfo{}, ctx.Err()
	}
	return s.GetDeployment(ctx, id)
}

// StopDeployment stops a deployment in progress: the script running is
// killed and the deployment ends Stopped.
func (s *Service) StopDeployment(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.deployments[id]
	if !ok {
		return notFound(id)
	}
	cancel, running := s.cancel[id]
	if !running || terminal(r.Info.Status) {
		return apiErr("DeploymentAlreadyCompletedException", "The deployment "+id+" is already completed.")
	}
	cancel()
	return nil
}

// LogPath is the file holding a deployment's output of a lifecycle event.
func (s *Service) LogPath(id, event string) (string, error) {
	info, err := s.GetDeployment(context.Background(), id)
	if err != nil {
		return "", err
	}
	g, err := s.group(info.ApplicationName, info.DeploymentGroupName)
	if err != nil {
		return "", err
	}
	return s.instance(g).logPath(id, event), nil
}

// Close stops the deployments in progress (they end Stopped) and waits
// for them.
func (s *Service) Close() error {
	s.mu.Lock()
	s.closed = true
	for _, c := range s.cancel {
		c()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

// APIError is a CodeDeploy error: Code is the exception name the API
// returns as __type (the SDK's error code).
type APIError struct {
	Code    string
	Message string
}

func (e *APIError) Error() string { return e.Code + ": " + e.Message }

func apiErr(code, msg string) error { return &APIError{Code: code, Message: msg} }
