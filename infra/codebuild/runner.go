package codebuild

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Sentinel errors. The API handler maps ErrInvalidInput to
// InvalidInputException and ErrNotFound to ResourceNotFoundException.
var (
	ErrInvalidInput = errors.New("invalid input")
	ErrNotFound     = errors.New("build not found")
	ErrClosed       = errors.New("runner closed")
)

// Causes of a build ending early.
var (
	errStopped  = errors.New("build stopped")
	errTimedOut = errors.New("build timed out")
	errShutdown = errors.New("local stack stopped")
)

// Objects is the artifact storage the runner reads source zips from and puts
// artifacts into. The local stack's S3 satisfies it (an *s3.Client fits
// through a thin adapter).
type Objects interface {
	Get(ctx context.Context, bucket, key string) (io.ReadCloser, error)
	Put(ctx context.Context, bucket, key string, body io.Reader, size int64) error
}

// Options configures a Runner.
type Options struct {
	// Dir holds one folder per build: build.json (the record), build.log and,
	// while it runs, the work folder. E.g. $PUSHLINE_DATA_DIR/builds.
	Dir     string
	Objects Objects
	// Log receives live build output, each line prefixed "[<label>:<PHASE>] ".
	// Nil discards it.
	Log io.Writer
	// Label names a build in Log's prefixes; nil (or "") is its project.
	Label  func(StartBuildInput) string
	Logger *slog.Logger
	// Region and Account go into ARNs and AWS_REGION; defaults us-east-1 and 000000000000.
	Region, Account string
	// LogsBaseURL + build id is Build.Logs.DeepLink, e.g. "http://127.0.0.1:8080/builds/".
	LogsBaseURL string
	// KeepWorkDirs keeps each build's work folder (src/) after it ends.
	KeepWorkDirs bool
	// MaxRunning bounds how many builds run at once; the others wait in
	// QUEUED (their timeout counting, as in CodeBuild). 0 means no bound.
	MaxRunning int
	// Bwrap is the bubblewrap binary builds run in (FindBwrap finds it). ""
	// runs builds unconfined, as the runner's user, with a warning from New,
	// and refuses untrusted builds (ErrNoSandbox).
	Bwrap string
	// Hide lists more host paths sandboxed builds must not see (the stack's
	// data dir, the secrets file); Dir is always hidden.
	Hide []string
	// Writable lists host paths sandboxed builds may write besides their own
	// folder and cache (e.g. a local deploy target); the rest is read-only.
	Writable []string
	// NoNetwork gives sandboxed builds a network namespace of their own (a
	// loopback only): no internet, and none of the host's local endpoints
	// (the stack's unauthenticated AWS endpoint among them).
	NoNetwork bool
	// Projects holds per-project settings by project name (the secrets its
	// builds may read, privileged mode). A project not listed has none.
	Projects map[string]Project
	// SecretsFile is the JSON file secrets are read from (the local stack's
	// PUSHLINE_SECRETS_FILE): {"<secret id or parameter name>": "<value>"}.
	SecretsFile string
}

// Runner runs CodeBuild builds on the local machine, each in its own shell
// session and process group. It is safe for concurrent use.
type Runner struct {
	o   Options
	log *slog.Logger
	out *lineWriter

	mu      sync.Mutex
	runs    map[string]*run
	order   []string // build ids, oldest first
	numbers map[string]int64
	closed  bool
	wg      sync.WaitGroup

	minute time.Duration // the length of a timeout minute (shortened by tests)
	slots  chan struct{} // nil, or one token per running build (MaxRunning)
}

// run is one build known to the runner.
type run struct {
	mu     sync.Mutex
	build  *Build
	pgid   int
	dir    string
	done   chan struct{} // closed when the build has ended (nil-safe: closed for loaded builds)
	cancel context.CancelCauseFunc
}

// record is what build.json holds.
type record struct {
	Build *Build `json:"Build"`
	Pgid  int    `json:"Pgid,omitempty"`
}

var (
	projectRE  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{1,254}$`)
	sourceIDRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,127}$`)
)

// maxSecondarySources is CodeBuild's limit on secondary sources per build.
const maxSecondarySources = 12

// workDirs are the folders of a build's folder that only live while it runs.
var workDirs = []string{"src", "inputs", "tmp", "ctl", "home"}

// New returns a runner keeping its builds under o.Dir. Builds recorded there
// are loaded, so BatchGetBuilds answers for them after a restart; a build a
// killed process left IN_PROGRESS is ended as FAULT (a phase context says the
// local stack restarted) and any of its processes still alive are killed.
func New(o Options) *Runner {
	if o.Region == "" {
		o.Region = "us-east-1"
	}
	if o.Account == "" {
		o.Account = "000000000000"
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	r := &Runner{
		o:       o,
		log:     o.Logger,
		out:     &lineWriter{w: o.Log},
		runs:    map[string]*run{},
		numbers: map[string]int64{},
		minute:  time.Minute,
	}
	if o.MaxRunning > 0 {
		r.slots = make(chan struct{}, o.MaxRunning)
	}
	if o.Bwrap == "" {
		r.log.Warn("codebuild: builds are NOT sandboxed: they run as this user and can read the data dir (secrets, keys, states.db); install bubblewrap (apt-get install bubblewrap). Untrusted builds are refused")
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		r.log.Error("codebuild: create builds folder", "dir", o.Dir, "err", err)
		return r
	}
	r.load()
	return r
}

// load reads the build records under Dir and ends the interrupted ones.
func (r *Runner) load() {
	entries, err := os.ReadDir(r.o.Dir)
	if err != nil {
		r.log.Error("codebuild: read builds folder", "dir", r.o.Dir, "err", err)
		return
	}
	var loaded []*run
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(r.o.Dir, e.Name())
		data, err := os.ReadFile(filepath.Join(dir, "build.json"))
		if err != nil {
			continue
		}
		var rec record
		if err := json.Unmarshal(data, &rec); err != nil || rec.Build == nil || rec.Build.Id == "" {
			r.log.Warn("codebuild: skip unreadable build record", "dir", dir, "err", err)
			continue
		}
		rn := &run{build: rec.Build, pgid: rec.Pgid, dir: dir, done: make(chan struct{})}
		close(rn.done)
		if !rec.Build.BuildComplete {
			r.recover(rn)
		}
		loaded = append(loaded, rn)
	}
	slices.SortFunc(loaded, func(a, b *run) int {
		return timeOf(a.build.StartTime).Compare(timeOf(b.build.StartTime))
	})
	for _, rn := range loaded {
		b := rn.build
		r.runs[b.Id] = rn
		r.order = append(r.order, b.Id)
		r.numbers[b.ProjectName] = max(r.numbers[b.ProjectName], b.BuildNumber)
	}
}

func timeOf(t *Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.Time
}

// recover ends a build a previous process left running.
func (r *Runner) recover(rn *run) {
	b := rn.build
	killed := killBuildProcesses(b.Id, rn.pgid)
	now := time.Now()
	msg := "the local stack restarted while this build was running; the build was ended"
	if killed > 0 {
		msg += fmt.Sprintf(" and its %d remaining processes killed", killed)
	}
	if n := len(b.Phases); n > 0 && b.Phases[n-1].EndTime == nil {
		endPhase(&b.Phases[n-1], now, StatusFault, PhaseContext{StatusCode: "BUILD_INTERRUPTED", Message: msg})
	}
	b.Phases = append(b.Phases, Phase{PhaseType: PhaseCompleted, StartTime: newTime(now)})
	b.CurrentPhase = PhaseCompleted
	b.BuildStatus = StatusFault
	b.BuildComplete = true
	b.EndTime = newTime(now)
	rn.pgid = 0
	if !r.o.KeepWorkDirs {
		for _, d := range workDirs {
			removeAll(filepath.Join(rn.dir, d))
		}
	}
	if err := r.save(rn); err != nil {
		r.log.Error("codebuild: save recovered build", "build", b.Id, "err", err)
	}
	r.log.Warn("codebuild: build interrupted by a restart ended as FAULT", "build", b.Id, "killed", killed)
}

func endPhase(p *Phase, now time.Time, status string, contexts ...PhaseContext) {
	p.EndTime = newTime(now)
	p.PhaseStatus = status
	d := int64(now.Sub(timeOf(p.StartTime)).Round(time.Second) / time.Second)
	p.DurationInSeconds = &d
	if len(contexts) == 0 {
		contexts = []PhaseContext{{}}
	}
	p.Contexts = contexts
}

// save writes rn's record atomically. Callers hold rn.mu or own rn exclusively.
func (r *Runner) save(rn *run) error {
	data, err := json.MarshalIndent(record{Build: rn.build, Pgid: rn.pgid}, "", "  ")
	if err != nil {
		return fmt.Errorf("encode build record: %w", err)
	}
	tmp := filepath.Join(rn.dir, "build.json.tmp")
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("write build record: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(rn.dir, "build.json")); err != nil {
		return fmt.Errorf("write build record: %w", err)
	}
	return nil
}

// Sandboxed reports whether builds run in the bubblewrap sandbox.
func (r *Runner) Sandboxed() bool { return r.o.Bwrap != "" }

// StartBuild validates in, records the build and starts it. It returns once
// the build is IN_PROGRESS; Wait follows it to the end.
func (r *Runner) StartBuild(ctx context.Context, in StartBuildInput) (*Build, error) {
	if err := validate(&in); err != nil {
		return nil, err
	}
	if in.Untrusted && !r.Sandboxed() {
		return nil, fmt.Errorf("start %s: %w", in.ProjectName, ErrNoSandbox)
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil, ErrClosed
	}
	r.numbers[in.ProjectName]++
	number := r.numbers[in.ProjectName]
	r.mu.Unlock()

	u := uuid.NewString()
	id := in.ProjectName + ":" + u
	now := time.Now()
	timeout := in.TimeoutInMinutesOverride
	if timeout == 0 {
		timeout = 60
	}
	initiator := in.Initiator
	if initiator == "" {
		initiator = "pushline-local"
	}
	vars := slices.Clone(in.EnvironmentVariablesOverride)
	for i := range vars {
		if vars[i].Type == "" {
			vars[i].Type = "PLAINTEXT"
		}
	}
	b := &Build{
		Id:               id,
		Arn:              r.buildARN(id),
		BuildNumber:      number,
		StartTime:        newTime(now),
		CurrentPhase:     PhaseSubmitted,
		BuildStatus:      StatusInProgress,
		SourceVersion:    in.SourceVersion,
		ProjectName:      in.ProjectName,
		Phases:           []Phase{{PhaseType: PhaseSubmitted, StartTime: newTime(now)}},
		Source:           Source{Type: in.SourceTypeOverride, Location: in.SourceLocationOverride, Buildspec: in.BuildspecOverride},
		SecondarySources: slices.Clone(in.SecondarySourcesOverride),
		Environment: Environment{
			Type:                     "LINUX_CONTAINER",
			Image:                    "local",
			ComputeType:              "BUILD_GENERAL1_SMALL",
			EnvironmentVariables:     vars,
			PrivilegedMode:           privileged(&in, r.o.Projects),
			ImagePullCredentialsType: "CODEBUILD",
		},
		Logs: Logs{
			GroupName:  "/aws/codebuild/" + in.ProjectName,
			StreamName: u,
			DeepLink:   r.o.LogsBaseURL + id,
		},
		TimeoutInMinutes:       timeout,
		QueuedTimeoutInMinutes: 480,
		Initiator:              initiator,
	}
	if b.SourceVersion != "" {
		b.ResolvedSourceVersion = b.SourceVersion
	}
	if a := in.ArtifactsOverride; a != nil && a.Type == "S3" {
		// as in CodeBuild, the location is known from the start; Sha256sum
		// and Md5sum appear once a ZIP has been uploaded
		name := a.Name
		if name == "" {
			name = in.ProjectName
		}
		b.Artifacts.Location = "arn:aws:s3:::" + a.Location + "/" + artifactKey(a, u, name)
	}
	dir := filepath.Join(r.o.Dir, id)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create build folder: %w", err)
	}
	runCtx, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	rn := &run{build: b, dir: dir, done: make(chan struct{}), cancel: cancel}
	if err := r.save(rn); err != nil {
		cancel(nil)
		return nil, err
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		cancel(nil)
		return nil, ErrClosed
	}
	r.runs[id] = rn
	r.order = append(r.order, id)
	r.wg.Add(1)
	r.mu.Unlock()

	snapshot := b.clone()
	go func() {
		defer r.wg.Done()
		defer close(rn.done)
		defer cancel(nil)
		tctx, tcancel := context.WithTimeoutCause(runCtx, time.Duration(timeout)*r.minute, errTimedOut)
		defer tcancel()
		x := &execution{r: r, rn: rn, in: in, ctx: tctx, uuid: u}
		x.execute()
	}()
	r.log.Info("codebuild: build started", "build", id, "project", in.ProjectName)
	return snapshot, nil
}

func (r *Runner) buildARN(id string) string {
	return fmt.Sprintf("arn:aws:codebuild:%s:%s:build/%s", r.o.Region, r.o.Account, id)
}

func (r *Runner) projectARN(project string) string {
	return fmt.Sprintf("arn:aws:codebuild:%s:%s:project/%s", r.o.Region, r.o.Account, project)
}

func validate(in *StartBuildInput) error {
	if !projectRE.MatchString(in.ProjectName) {
		return fmt.Errorf("%w: projectName %q must be 2 to 255 letters, digits, - or _, starting with a letter or digit", ErrInvalidInput, in.ProjectName)
	}
	switch strings.ToUpper(in.SourceTypeOverride) {
	case "", "S3":
		in.SourceTypeOverride = "S3"
		bucket, key, ok := strings.Cut(in.SourceLocationOverride, "/")
		if !ok || bucket == "" || key == "" {
			return fmt.Errorf("%w: sourceLocationOverride %q must be <bucket>/<key of a zip> for an S3 source", ErrInvalidInput, in.SourceLocationOverride)
		}
	case "NO_SOURCE":
		in.SourceTypeOverride = "NO_SOURCE"
		if in.BuildspecOverride == "" || !isInlineBuildspec(in.BuildspecOverride) && !strings.HasPrefix(in.BuildspecOverride, "arn:aws:s3:::") {
			return fmt.Errorf("%w: a NO_SOURCE build needs an inline buildspecOverride", ErrInvalidInput)
		}
	default:
		return fmt.Errorf("%w: sourceTypeOverride %q is not supported locally: use S3 or NO_SOURCE", ErrInvalidInput, in.SourceTypeOverride)
	}
	if err := validateSecondary(in); err != nil {
		return err
	}
	if in.TimeoutInMinutesOverride < 0 || in.TimeoutInMinutesOverride > 2160 {
		return fmt.Errorf("%w: timeoutInMinutesOverride %d must be between 1 and 2160 (0: the default, 60)", ErrInvalidInput, in.TimeoutInMinutesOverride)
	}
	for _, v := range in.EnvironmentVariablesOverride {
		if v.Name == "" {
			return fmt.Errorf("%w: an environment variable has no name", ErrInvalidInput)
		}
		switch v.Type {
		case "", "PLAINTEXT", "PARAMETER_STORE", "SECRETS_MANAGER":
		default:
			return fmt.Errorf("%w: environment variable %s has type %q; allowed: PLAINTEXT, PARAMETER_STORE, SECRETS_MANAGER", ErrInvalidInput, v.Name, v.Type)
		}
	}
	if a := in.ArtifactsOverride; a != nil {
		switch strings.ToUpper(a.Type) {
		case "NO_ARTIFACTS", "":
			a.Type = "NO_ARTIFACTS"
		case "S3":
			a.Type = "S3"
			if a.Location == "" {
				return fmt.Errorf("%w: artifactsOverride.location (the bucket) is required for S3 artifacts", ErrInvalidInput)
			}
			switch strings.ToUpper(a.Packaging) {
			case "", "NONE", "ZIP":
			default:
				return fmt.Errorf("%w: artifactsOverride.packaging %q must be ZIP or NONE", ErrInvalidInput, a.Packaging)
			}
			switch strings.ToUpper(a.NamespaceType) {
			case "", "NONE", "BUILD_ID":
			default:
				return fmt.Errorf("%w: artifactsOverride.namespaceType %q must be NONE or BUILD_ID", ErrInvalidInput, a.NamespaceType)
			}
		default:
			return fmt.Errorf("%w: artifactsOverride.type %q is not supported locally: use S3 or NO_ARTIFACTS", ErrInvalidInput, a.Type)
		}
	}
	return nil
}

func validateSecondary(in *StartBuildInput) error {
	if len(in.SecondarySourcesOverride) > maxSecondarySources {
		return fmt.Errorf("%w: secondarySourcesOverride has %d sources; at most %d", ErrInvalidInput, len(in.SecondarySourcesOverride), maxSecondarySources)
	}
	seen := map[string]bool{}
	for i := range in.SecondarySourcesOverride {
		s := &in.SecondarySourcesOverride[i]
		if !sourceIDRE.MatchString(s.SourceIdentifier) {
			return fmt.Errorf("%w: secondarySourcesOverride[%d].sourceIdentifier %q must be letters, digits and _, starting with a letter", ErrInvalidInput, i, s.SourceIdentifier)
		}
		if seen[s.SourceIdentifier] {
			return fmt.Errorf("%w: secondarySourcesOverride: sourceIdentifier %q is repeated", ErrInvalidInput, s.SourceIdentifier)
		}
		seen[s.SourceIdentifier] = true
		if t := strings.ToUpper(s.Type); t != "S3" {
			return fmt.Errorf("%w: secondarySourcesOverride %s has type %q; the local runner supports S3", ErrInvalidInput, s.SourceIdentifier, s.Type)
		}
		s.Type = "S3"
		bucket, key, ok := strings.Cut(strings.TrimPrefix(s.Location, "arn:aws:s3:::"), "/")
		if !ok || bucket == "" || key == "" {
			return fmt.Errorf("%w: secondarySourcesOverride %s: location %q must be <bucket>/<key of a zip>", ErrInvalidInput, s.SourceIdentifier, s.Location)
		}
	}
	return nil
}

// isInlineBuildspec tells an inline buildspec from a path, as CodeBuild does
// in effect: a path has no line breaks and no "version:".
func isInlineBuildspec(s string) bool {
	return strings.Contains(s, "\n") || strings.Contains(s, "version:")
}

func (r *Runner) get(id string) (*run, bool) {
	if i := strings.Index(id, ":build/"); strings.HasPrefix(id, "arn:") && i >= 0 {
		id = id[i+len(":build/"):]
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	rn, ok := r.runs[id]
	return rn, ok
}

func (rn *run) snapshot() *Build {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	return rn.build.clone()
}

// Wait blocks until the build ends (or ctx ends) and returns it.
func (r *Runner) Wait(ctx context.Context, id string) (*Build, error) {
	rn, ok := r.get(id)
	if !ok {
		return nil, fmt.Errorf("wait for %s: %w", id, ErrNotFound)
	}
	select {
	case <-rn.done:
		return rn.snapshot(), nil
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for %s: %w", id, context.Cause(ctx))
	}
}

// StopBuild stops a running build (its whole process group is killed; the
// build ends STOPPED) and returns it once it has ended. A build that already
// ended is returned as it is.
func (r *Runner) StopBuild(ctx context.Context, id string) (*Build, error) {
	rn, ok := r.get(id)
	if !ok {
		return nil, fmt.Errorf("stop %s: %w", id, ErrNotFound)
	}
	if rn.cancel != nil {
		rn.cancel(errStopped)
	}
	return r.Wait(ctx, id)
}

// BatchGetBuilds returns the builds it knows among ids (build ids or ARNs),
// in the order asked; unknown ids are left out.
func (r *Runner) BatchGetBuilds(ids []string) []*Build {
	out := make([]*Build, 0, len(ids))
	for _, id := range ids {
		if rn, ok := r.get(id); ok {
			out = append(out, rn.snapshot())
		}
	}
	return out
}

// ListBuilds returns build ids, newest first, optionally of one project only.
func (r *Runner) ListBuilds(project string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for i := len(r.order) - 1; i >= 0; i-- {
		id := r.order[i]
		if project == "" || strings.HasPrefix(id, project+":") {
			out = append(out, id)
		}
	}
	return out
}

// LogPath is the file holding a build's log.
func (r *Runner) LogPath(id string) (string, error) {
	rn, ok := r.get(id)
	if !ok {
		return "", fmt.Errorf("log of %s: %w", id, ErrNotFound)
	}
	return filepath.Join(rn.dir, "build.log"), nil
}

// Close stops every running build (killing its process group; the build ends
// FAULT, saying the local stack stopped) and waits for their records to be
// written. Starting builds afterwards fails with ErrClosed.
func (r *Runner) Close() error {
	r.mu.Lock()
	r.closed = true
	runs := make([]*run, 0, len(r.runs))
	for _, rn := range r.runs {
		runs = append(runs, rn)
	}
	r.mu.Unlock()
	for _, rn := range runs {
		if rn.cancel != nil {
			rn.cancel(errShutdown)
		}
	}
	done := make(chan struct{})
	go func() {
		r.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-time.After(15 * time.Second):
		return errors.New("close codebuild runner: builds still ending after 15s")
	}
}
