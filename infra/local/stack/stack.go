package stack

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	codebuildsdk "github.com/aws/aws-sdk-go-v2/service/codebuild"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/pushline/pushline/infra/codebuild"
	"github.com/pushline/pushline/infra/codedeploy"
	"github.com/pushline/pushline/infra/states"
	"github.com/pushline/pushline/shared/approval"
	"github.com/pushline/pushline/shared/config"
	"github.com/pushline/pushline/shared/ingest"
	"github.com/pushline/pushline/shared/mail"
	"github.com/pushline/pushline/shared/run"
	"github.com/pushline/pushline/shared/runpage"
	"github.com/pushline/pushline/shared/source"
	"github.com/pushline/pushline/shared/statemachine"
	"github.com/pushline/pushline/shared/watch"
)

// The local stack's AWS identity and resource names.
const (
	Region  = "us-east-1"
	Account = "000000000000"
	Bucket  = "pushline-artifacts"
)

// Options configure the local stack. Zero values take the defaults of
// DESIGN.md's "Local stack" table.
type Options struct {
	DataDir       string // default .pushline
	HTTPAddr      string // default 127.0.0.1:8080; port 0 picks a free one
	AWSAddr       string // default 127.0.0.1:4566; port 0 picks a free one
	WebhookSecret string // default: generated once, kept in the data dir
	SMTPAddr      string // default: mail goes to $DataDir/outbox as .eml files
	PublicURL     string // PUSHLINE_PUBLIC_URL: the base of links sent out (default the HTTP URL)
	Config        *config.Config
	Out           io.Writer // the console: progress, build logs, events (default os.Stdout)
	Logger        *slog.Logger
	// SandboxWritable: folders builds may write besides their own (e.g. a
	// local deploy target); nil reads PUSHLINE_SANDBOX_WRITABLE (a path list).
	SandboxWritable []string
	// ProviderTokens is PUSHLINE_PROVIDER_TOKENS: the provider tokens
	// JSON (source archives of private repositories, commit statuses).
	ProviderTokens string
	// MaxConns caps each server's connections (default: a third of the
	// open-file limit left after a reserve, at most 4096).
	MaxConns int
}

// Stack is a running local stack.
type Stack struct {
	o          Options
	cfg        *config.Config
	secret     string
	machineARN string
	httpURL    string
	awsURL     string

	objects  *objects
	bus      *bus
	console  *console
	engine   *states.Engine
	runner   *codebuild.Runner
	sfn      *sfn.Client
	watch    *watch.Handler
	statuses *statusQueue
	runs     *run.Runs
	key      []byte // the approval key: signs approval and run links
	open     bool   // the HTTP address is loopback: run pages need no signed link
	// codedeploy is the local CodeDeploy (deploy.go)
	codedeploy *codedeploy.Service

	lock   *os.File // the data dir's lock, held while the stack runs
	web    *http.Server
	awsSrv *http.Server
	// awsLocal serves the AWS endpoint to the stack's own clients over
	// in-memory connections (inprocess.go)
	awsLocal *http.Server
	wg       sync.WaitGroup

	// A graceful stop drains: steps running finish, steps that would
	// start are parked (states.ErrNotStarted) and start after a restart.
	gate     sync.Mutex
	draining bool
	inflight sync.WaitGroup
	running  atomic.Int64
	closing  sync.Once
}

// Start brings the local stack up: it opens the data dir, starts the
// engine, the runner and the servers, and creates (or updates) the
// pipeline's state machine from the config. It returns once both
// endpoints serve.
func Start(ctx context.Context, o Options) (_ *Stack, err error) {
	if o.Config == nil {
		return nil, errors.New("no pipeline config")
	}
	if o.DataDir == "" {
		o.DataDir = ".pushline"
	}
	if o.HTTPAddr == "" {
		o.HTTPAddr = "127.0.0.1:8080"
	}
	if o.AWSAddr == "" {
		o.AWSAddr = "127.0.0.1:4566"
	}
	if o.Out == nil {
		o.Out = os.Stdout
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.MaxConns <= 0 {
		o.MaxConns = defaultMaxConns()
	}
	if o.DataDir, err = filepath.Abs(o.DataDir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	s := &Stack{o: o, cfg: o.Config}
	defer func() {
		if err != nil {
			s.Close(context.Background())
		}
	}()
	if s.lock, err = lockDir(o.DataDir); err != nil {
		return nil, err
	}

	// Both keys are generated once and kept in the data dir (hex, 0600).
	s.secret = o.WebhookSecret
	if s.secret == "" {
		path := filepath.Join(o.DataDir, "webhook-secret")
		key, err := approval.LoadOrCreateKey(path)
		if err != nil {
			return nil, fmt.Errorf("webhook secret %s: %w", path, err)
		}
		s.secret = hex.EncodeToString(key)
	}
	approvalKey, err := approval.LoadOrCreateKey(filepath.Join(o.DataDir, "approval-key"))
	if err != nil {
		return nil, err
	}

	httpLn, err := net.Listen("tcp", o.HTTPAddr)
	if err != nil {
		return nil, fmt.Errorf("listen on PUSHLINE_HTTP_ADDR %s: %w", o.HTTPAddr, err)
	}
	awsLn, err := net.Listen("tcp", o.AWSAddr)
	if err != nil {
		httpLn.Close()
		return nil, fmt.Errorf("listen on PUSHLINE_AWS_ADDR %s: %w", o.AWSAddr, err)
	}
	s.httpURL = "http://" + httpLn.Addr().String()
	s.key, s.open = approvalKey, isLoopback(httpLn.Addr())
	s.awsURL = "http://" + awsLn.Addr().String()

	if s.objects, err = openObjects(filepath.Join(o.DataDir, "s3"), Bucket); err != nil {
		return nil, err
	}
	if s.bus, err = openBus(filepath.Join(o.DataDir, "events.jsonl"), Region, Account); err != nil {
		return nil, err
	}
	s.console = newConsole(o.Out)
	s.console.runURL = s.RunURL
	s.bus.subscribe(s.console.event)

	if s.engine, err = states.Open(ctx, states.Options{
		Path: filepath.Join(o.DataDir, "states.db"), Region: Region, Account: Account,
		Logger: o.Logger, Observer: s.observe,
	}); err != nil {
		return nil, err
	}
	ro := s.runnerOptions()
	s.runner = codebuild.New(ro)

	// the stack's own clients reach the AWS endpoint through a listener of
	// their own, with a token (inprocess.go): only they may answer task
	// tokens (awsapi.go); the endpoint's URL stays the public one, for
	// presigned links
	local, err := newLocalListener()
	if err != nil {
		return nil, err
	}
	awsCfg := aws.Config{
		Region:       Region,
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		BaseEndpoint: aws.String(s.awsURL),
		HTTPClient:   local.client(),
	}
	s.sfn = sfn.NewFromConfig(awsCfg)
	s3c := s3.NewFromConfig(awsCfg, func(o *s3.Options) { o.UsePathStyle = true })

	var sender mail.Sender = mail.Outbox{Dir: filepath.Join(o.DataDir, "outbox")}
	if o.SMTPAddr != "" {
		sender = mail.SMTP{Addr: o.SMTPAddr}
	}
	sender = s.announce(sender)
	s.bus.subscribe(s.failureMail(sender))

	signer, err := approval.NewSigner(approvalKey)
	if err != nil {
		return nil, err
	}
	store, err := approval.NewDirStore(filepath.Join(o.DataDir, "approvals"))
	if err != nil {
		return nil, err
	}
	// a kill during an approval POST left its claim: release it now (the
	// data dir lock says no other stack decides here) and remove the
	// temporary files that hold task tokens
	released, err := store.Recover(ctx)
	if err != nil {
		return nil, err
	}
	for _, id := range released {
		s.console.printf("approval %s: released the claim of a decision interrupted by the last stop; its link works again", id)
	}
	busName := "pushline-" + s.cfg.Name
	var tokens source.TokenMap
	if o.ProviderTokens != "" {
		if tokens, err = source.ParseTokens([]byte(o.ProviderTokens)); err != nil {
			return nil, fmt.Errorf("PUSHLINE_PROVIDER_TOKENS: %w", err)
		}
	}
	fns := functions{
		source: &source.Handler{S3: s3c, Bucket: Bucket, Log: o.Logger},
		notify: &approval.Notifier{
			Store: store, Signer: signer, Mail: sender, Events: s.bus, EventBus: busName,
			BaseURL: s.httpURL, From: s.cfg.Notifications.From, Log: o.Logger,
		},
		queue: &ingest.Queue{SFN: s.sfn, Logger: o.Logger},
	}
	// A step in flight when the stack was killed runs again after a restart
	// when running it twice does what running it once does: the source
	// snapshot and the approval notify (their object key, approval record
	// and task token are the execution's) and putEvents (event ids are
	// deterministic). A build that was running fails (states.RestartCause).
	s.engine.Register("arn:aws:states:::lambda:invoke", states.RerunWhen(s.drained(states.LambdaIntegration(fns.invoke)), fns.rerunnable))
	s.engine.Register("arn:aws:states:::codebuild:startBuild", s.drained(states.IntegrationFunc(s.build)))
	s.engine.Register("arn:aws:states:::events:putEvents", states.RerunWhen(s.drained(states.EventsIntegration(s.putEvents)), nil))

	if err := s.openCodeDeploy(); err != nil {
		return nil, err
	}
	if err := s.deploy(ctx, busName); err != nil {
		return nil, err
	}

	if len(tokens) > 0 {
		fns.source.Tokens = tokens
	}
	if s.statuses, err = s.startStatuses(tokens); err != nil {
		return nil, err
	}
	if s.statuses != nil {
		s.bus.subscribe(s.statuses.enqueue)
	}
	s.watch = &watch.Handler{SFN: s.sfn, Events: s.bus, EventBus: busName, StateMachine: s.machineARN, Log: o.Logger}
	hook, err := ingest.New(ingest.Options{
		Config: s.cfg, Secret: []byte(s.secret), StateMachineARN: s.machineARN,
		SFN: s.sfn, Events: s.bus, EventBus: busName, Logger: slog.New(errorsOnly{o.Logger.Handler()}),
		ForksRefused: forksRefused(ro),
	})
	if err != nil {
		return nil, err
	}
	s.runs = &run.Runs{
		SFN: s.sfn, Builds: codebuildsdk.NewFromConfig(awsCfg), Logs: s.buildLogs(),
		Presign: s3.NewPresignClient(s3c), StateMachine: s.machineARN, Config: s.cfg,
	}
	runPages := &runpage.Handler{Runs: s.runs, Pipeline: s.cfg.Name, Key: approvalKey, Open: s.open, Log: o.Logger}
	pages := &approval.Handler{Store: store, Signer: signer, Tasks: s.sfn, Events: s.bus, EventBus: busName, Log: o.Logger, RunURL: s.RunURL}

	web := http.NewServeMux()
	web.Handle("/webhook", withDeadlines(s.accepted(hook), smallBodyRead, answerWrite))
	web.Handle("/approvals/", withDeadlines(pages, smallBodyRead, answerWrite))
	starter, err := ingest.NewStarter(ingest.Options{Config: s.cfg, StateMachineARN: s.machineARN, SFN: s.sfn, Events: s.bus, EventBus: busName, Logger: o.Logger})
	if err != nil {
		return nil, err
	}
	web.Handle("/codecommit", withDeadlines(s.codeCommitEvents(s.codeCommitHandler(starter)), smallBodyRead, answerWrite))
	web.Handle("GET /deployments/", withDeadlines(http.HandlerFunc(s.deploymentPage), smallBodyRead, answerWrite))
	// build logs may be followed for as long as the build runs
	web.Handle("/builds/", withDeadlines(http.StripPrefix("/builds", s.runner.LogHandler()), smallBodyRead, 0))
	// run pages follow running builds too
	web.Handle("/", withDeadlines(runPages, smallBodyRead, 0))
	web.Handle("GET /healthz", withDeadlines(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	}), smallBodyRead, answerWrite))
	s.awsLocal = s.serve(local, local.guard(s.awsHandler(true)))
	s.web = s.serve(newCapListener(httpLn, o.MaxConns), web)
	s.awsSrv = s.serve(newCapListener(awsLn, o.MaxConns), s.awsHandler(false))
	s.engine.Resume()
	return s, nil
}

// forksRefused says why fork pull requests cannot build here: only inside
// the build sandbox may a stranger's buildspec run ("" when it works).
func forksRefused(ro codebuild.Options) string {
	if ro.Bwrap != "" {
		return ""
	}
	return "the local stack runs builds without the bubblewrap sandbox here, and builds forks only inside it"
}

// deploy creates the pipeline's state machine from the config, or updates
// it when the definition changed, as cdk deploy would.
func (s *Stack) deploy(ctx context.Context, busName string) error {
	def, err := statemachine.Generate(s.cfg)
	if err != nil {
		return fmt.Errorf("generate the state machine: %w", err)
	}
	values := map[string]string{
		statemachine.KeyArtifactBucket:    Bucket,
		statemachine.KeyEventBusName:      busName,
		statemachine.KeySourceFunctionArn: functionARN(s.cfg.Name, "source"),
		statemachine.KeyNotifyFunctionArn: functionARN(s.cfg.Name, "notify"),
		statemachine.KeyQueueFunctionArn:  functionARN(s.cfg.Name, "queue"),
		statemachine.KeyDeployConsoleURL:  s.httpURL + "/deployments/",
	}
	for _, b := range s.cfg.Builds() { // build stages and actions
		values[statemachine.ProjectKey(b.Name)] = s.cfg.Name + "-" + b.Name
	}
	if def, err = statemachine.Substitute(def, values); err != nil {
		return err
	}
	name := "pushline-" + s.cfg.Name
	arn, err := s.engine.PutStateMachine(ctx, states.CreateStateMachineInput{
		Name: name, Definition: string(def), RoleArn: "arn:aws:iam::" + Account + ":role/" + name,
	})
	if err != nil {
		return fmt.Errorf("create or update state machine %s: %w", name, err)
	}
	s.machineARN = arn
	return nil
}

func functionARN(pipeline, fn string) string {
	return "arn:aws:lambda:" + Region + ":" + Account + ":function:pushline-" + pipeline + "-" + fn
}

// serve serves h on ln: headers within headerTimeout, bodies and answers
// within each endpoint's deadlines (withDeadlines); Start caps the TCP
// listeners' connections (limits.go).
func (s *Stack) serve(ln net.Listener, h http.Handler) *http.Server {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: headerTimeout, IdleTimeout: idleTimeout, MaxHeaderBytes: 64 << 10,
		ErrorLog: slog.NewLogLogger(s.o.Logger.Handler(), slog.LevelDebug)}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.o.Logger.Error("server stopped", "addr", ln.Addr().String(), "err", err)
		}
	}()
	return srv
}

// drained wraps an integration for graceful stops: while the stack drains,
// a step that would start is parked instead (it starts after a restart),
// and Close waits for the steps already running.
func (s *Stack) drained(in states.Integration) states.Integration {
	return states.IntegrationFunc(func(ctx context.Context, t states.Task) (json.RawMessage, error) {
		s.gate.Lock()
		if s.draining {
			s.gate.Unlock()
			return nil, fmt.Errorf("the local stack is stopping: %w", states.ErrNotStarted)
		}
		s.inflight.Add(1)
		s.running.Add(1)
		s.gate.Unlock()
		defer func() {
			s.running.Add(-1)
			s.inflight.Done()
		}()
		return in.Invoke(ctx, t)
	})
}

// shutdownGrace is how long a server's requests in progress have to end
// when the stack stops.
var shutdownGrace = 5 * time.Second

// shutdown stops srv gracefully within shutdownGrace (or ctx), then cuts
// off the connections left.
func (s *Stack) shutdown(ctx context.Context, srv *http.Server, name string) {
	if srv == nil {
		return
	}
	sctx, cancel := context.WithTimeout(ctx, shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		s.o.Logger.Warn("server connections cut off at stop", "server", name, "err", err)
		srv.Close()
	}
}

// buildLogs reads the runner's build logs as CloudWatch Logs streams:
// group /aws/codebuild/<project>, stream the build id's UUID.
func (s *Stack) buildLogs() run.FileLogs {
	return run.FileLogs{Path: func(group, stream string) (string, error) {
		project, ok := strings.CutPrefix(group, "/aws/codebuild/")
		if !ok || project == "" || stream == "" {
			return "", os.ErrNotExist
		}
		return s.runner.LogPath(project + ":" + stream)
	}}
}

func isLoopback(a net.Addr) bool {
	t, ok := a.(*net.TCPAddr)
	return ok && t.IP.IsLoopback()
}

// PublicURL is the base URL of links sent out (PUSHLINE_PUBLIC_URL).
func (s *Stack) PublicURL() string {
	if s.o.PublicURL != "" {
		return strings.TrimRight(s.o.PublicURL, "/")
	}
	return s.httpURL
}

// RunURL is the run page of an execution: signed when the pages need
// links (the stack is not on loopback), plain otherwise.
func (s *Stack) RunURL(execution string) string {
	if s.open {
		return s.PublicURL() + "/runs/" + execName(execution)
	}
	return runpage.SignedURL(s.PublicURL(), s.key, execution, 0, time.Now())
}

// HTTPURL is the base URL of the webhook, approval pages and /healthz.
func (s *Stack) HTTPURL() string { return s.httpURL }

// WebhookSecret is the webhook secret.
func (s *Stack) WebhookSecret() string { return s.secret }

// Bucket is the artifact bucket.
func (s *Stack) Bucket() string { return Bucket }

// SFN is a Step Functions client of the local engine.
func (s *Stack) SFN() *sfn.Client { return s.sfn }

// PrintReady prints the ready line (its first words are fixed: tools wait
// for "pushline local ready") and how to use the stack.
func (s *Stack) PrintReady(w io.Writer) {
	fmt.Fprintf(w, "pushline local ready: %s (POST /webhook, /approvals/, /healthz) and AWS endpoint %s (Step Functions, S3, CodeBuild)\n", s.httpURL, s.awsURL)
	fmt.Fprintf(w, "  pipeline     %s: state machine %s\n", s.cfg.Name, s.machineARN)
	secretFrom := filepath.Join(s.o.DataDir, "webhook-secret")
	if s.o.WebhookSecret != "" {
		secretFrom = "PUSHLINE_WEBHOOK_SECRET"
	}
	fmt.Fprintf(w, "  webhook      %s/webhook  secret %s (from %s)\n", s.httpURL, s.secret, secretFrom)
	fmt.Fprintf(w, "  data         %s (events.jsonl, outbox/, builds/, s3/, states.db)\n", s.o.DataDir)
	fmt.Fprintf(w, "  try          aws --endpoint-url %s stepfunctions list-executions --state-machine-arn %s\n", s.awsURL, s.machineARN)
}

// where tells where an execution's artifacts and logs are.
func (s *Stack) where(execution string) string {
	name := execName(execution)
	return fmt.Sprintf("artifacts s3://%s/%s/%s/ (%s), logs %s",
		Bucket, s.cfg.Name, name, filepath.Join(s.o.DataDir, "s3", Bucket, s.cfg.Name, name),
		filepath.Join(s.o.DataDir, "builds"))
}

// Close stops the stack gracefully: the webhook and approval endpoints
// stop taking requests, steps already running (a build, a source snapshot)
// finish while ctx allows, and steps that would start are parked to start
// after a restart. When ctx ends first, the steps still running are
// stopped: after a restart a build fails with the engine's restart error
// (states.RestartCause) and the pipeline's Retry/Catch decide; the other
// steps run again. Nothing
// acknowledged is lost: the engine checkpoints every execution.
func (s *Stack) Close(ctx context.Context) error {
	var errs []error
	s.closing.Do(func() {
		// the requests in progress get a moment to finish; a client that
		// keeps its connection busy longer is cut off (it is not a failed
		// stop: nothing it sent and was acknowledged is lost)
		s.shutdown(ctx, s.web, "http")
		s.gate.Lock()
		s.draining = true
		s.gate.Unlock()
		if n := s.running.Load(); n > 0 {
			s.console.printf("waiting for %d running step(s) to finish (press Ctrl-C again to stop them now)", n)
		}
		drained := make(chan struct{})
		go func() { s.inflight.Wait(); close(drained) }()
		select {
		case <-drained:
		case <-ctx.Done():
			s.console.printf("stopping %d running step(s): after the restart a build fails (%s), other steps run again", s.running.Load(), states.RestartCause)
		}
		s.shutdown(context.WithoutCancel(ctx), s.awsSrv, "aws")
		if s.statuses != nil { // statuses still read executions in process
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			errs = append(errs, s.statuses.close(sctx))
			cancel()
		}
		s.shutdown(context.WithoutCancel(ctx), s.awsLocal, "aws in process")
		s.wg.Wait()
		if s.engine != nil {
			errs = append(errs, s.engine.Close())
		}
		if s.runner != nil {
			errs = append(errs, s.runner.Close())
		}
		if s.codedeploy != nil {
			errs = append(errs, s.codedeploy.Close())
		}
		if s.bus != nil {
			errs = append(errs, s.bus.close())
		}
		if s.lock != nil {
			errs = append(errs, s.lock.Close()) // releases the lock
		}
	})
	return errors.Join(errs...)
}
