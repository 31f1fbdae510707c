package states

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
)

// MaxPayload is the largest input, output or task result Step Functions
// accepts (256 KiB).
const MaxPayload = 256 * 1024

// Options configures Open.
type Options struct {
	// Path is the SQLite database file; "" keeps everything in memory.
	Path string
	// Region and Account form the ARNs (default us-east-1, 000000000000).
	Region, Account string
	// Logger receives engine diagnostics (default slog.Default()).
	Logger *slog.Logger
	// Observer, if set, is called with every history event as it is
	// recorded (HistoryEvent.ExecutionArn is set). It must not block.
	Observer func(HistoryEvent)
	// MaxHistoryEvents is the history size at which an execution fails
	// (default 25,000, AWS's quota; negative = no limit).
	MaxHistoryEvents int
}

// Engine is the local Step Functions engine.
type Engine struct {
	o      Options
	log    *slog.Logger
	st     *store
	ctx    context.Context
	cancel context.CancelCauseFunc

	mu       sync.Mutex
	machines map[string]*stateMachine // by ARN
	running  map[string]*execution    // by ARN: running and just-finished executions
	// byMachine: the same, by state machine, in id order
	byMachine map[string][]*execution
	tokens    map[string]*tokenWait
	integ     map[string]Integration
	closing   bool
	wg        sync.WaitGroup // execution goroutines
	calls     sync.WaitGroup // API calls in progress

	resumeOnce sync.Once
	toResume   []*execution
	nextID     int64 // the last execution id handed out
}

var errShutdown = errors.New("engine closing")

// Open opens (or creates) the engine's database and loads it. Executions
// that were running when the engine last stopped resume when the engine
// is first used (Handler or any API method) or Resume is called, so that
// integrations registered right after Open serve them.
func Open(ctx context.Context, o Options) (*Engine, error) {
	if o.Region == "" {
		o.Region = "us-east-1"
	}
	if o.Account == "" {
		o.Account = "000000000000"
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.MaxHistoryEvents == 0 {
		o.MaxHistoryEvents = 25000
	}
	st, err := openStore(o.Path)
	if err != nil {
		return nil, fmt.Errorf("open state store %s: %w", o.Path, err)
	}
	e := &Engine{o: o, log: o.Logger, st: st, machines: map[string]*stateMachine{}, running: map[string]*execution{}, byMachine: map[string][]*execution{},
		tokens: map[string]*tokenWait{}, integ: map[string]Integration{}}
	e.ctx, e.cancel = context.WithCancelCause(context.WithoutCancel(ctx))
	if err := e.load(ctx); err != nil {
		e.cancel(errShutdown)
		st.close()
		return nil, fmt.Errorf("load state store %s: %w", o.Path, err)
	}
	return e, nil
}

func (e *Engine) load(ctx context.Context) error {
	sms, err := e.st.machines(ctx)
	if err != nil {
		return err
	}
	for _, sm := range sms {
		m, diags := parseDefinition(sm.definition)
		if diags != nil {
			e.log.Warn("stored state machine definition no longer valid", "arn", sm.arn, "error", (&definitionError{diags}).Error())
			continue
		}
		sm.m, sm.defHash = m, definitionHash(sm.definition)
		e.machines[sm.arn] = sm
	}
	if e.nextID, err = e.st.lastExecutionID(ctx); err != nil {
		return err
	}
	ids, err := e.st.runningIDs(ctx)
	if err != nil {
		return err
	}
	for _, id := range ids {
		x, cp, err := e.loadExecution(ctx, id)
		if err != nil {
			e.log.Error("cannot resume execution", "id", id, "error", err)
			continue
		}
		x.resumeCP = cp
		e.addRunning(x)
		e.toResume = append(e.toResume, x)
	}
	return nil
}

// Resume starts the executions that were running when the engine last
// stopped. It runs once; Handler and every API method call it.
func (e *Engine) Resume() {
	e.resumeOnce.Do(func() {
		e.mu.Lock()
		if e.closing {
			// Close came first: the next Open resumes them
			e.mu.Unlock()
			return
		}
		list := e.toResume
		e.toResume = nil
		// counted before Close can wait for them
		e.wg.Add(len(list))
		for _, x := range list {
			// accept tokens before the execution goroutines run
			cps := []*checkpoint{x.resumeCP}
			for _, f := range x.frames {
				cps = append(cps, f)
			}
			for _, cp := range cps {
				if cp.Phase == phaseToken && cp.Token != "" && cp.Delivered {
					e.tokens[cp.Token] = &tokenWait{x: x, ch: make(chan tokenMsg, 8)}
				}
			}
		}
		e.mu.Unlock()
		for _, x := range list {
			e.log.Info("resuming execution", "execution", x.arn, "state", x.resumeCP.State, "phase", x.resumeCP.Phase)
			e.launchCounted(x, x.resumeCP)
		}
	})
}

// Register plugs an integration for a Task resource ARN given without its
// .sync / .waitForTaskToken suffix, e.g. "arn:aws:states:::lambda:invoke".
// Plain Lambda function ARNs are served by the integration registered
// for "arn:aws:states:::lambda:invoke" unless the exact ARN is registered.
func (e *Engine) Register(resource string, in Integration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.integ[resource] = in
}

func (e *Engine) integration(resource string) Integration {
	e.mu.Lock()
	defer e.mu.Unlock()
	if in, ok := e.integ[resource]; ok {
		return in
	}
	if strings.HasPrefix(resource, "arn:aws:lambda:") {
		return e.integ["arn:aws:states:::lambda:invoke"]
	}
	return nil
}

// Close stops accepting calls, cancels running work (integrations see
// their context cancelled and get up to 5 s to return, so that one can
// still answer ErrNotStarted), waits for the API calls in progress and for
// the executions to checkpoint, and closes the database. Executions resume
// on the next Open. Close is safe to call more than once and on a nil
// Engine (what a failed Open returns).
func (e *Engine) Close() error {
	if e == nil || e.st == nil {
		return nil
	}
	e.mu.Lock()
	if e.closing {
		e.mu.Unlock()
		return nil
	}
	e.closing = true
	e.mu.Unlock()
	e.cancel(errShutdown)
	// calls first: one in progress may still launch an execution
	e.calls.Wait()
	e.wg.Wait()
	e.st.close()
	return nil
}

// begin admits an API call; the caller must call e.calls.Done when it
// returns nil.
func (e *Engine) begin() error {
	e.Resume()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closing {
		return apiErr("ServiceUnavailable", "The local Step Functions engine is shutting down")
	}
	e.calls.Add(1)
	return nil
}
