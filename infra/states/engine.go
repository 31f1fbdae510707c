package states

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/google/uuid"
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
	tokens   map[string]*tokenWait
	integ    map[string]Integration
	closing  bool
	wg       sync.WaitGroup // execution goroutines
	calls    sync.WaitGroup // API calls in progress

	resumeOnce sync.Once
	toResume   []*execution
	nextID     int64 // the last execution id handed out
}

type stateMachine struct {
	arn, name, definition, roleArn, typ string
	created, updated                    time.Time
	revision                            string
	status                              string
	logging, tracing                    json.RawMessage
	m                                   *machine
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
	e := &Engine{o: o, log: o.Logger, st: st, machines: map[string]*stateMachine{}, running: map[string]*execution{},
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
	rows, err := e.st.r.QueryContext(ctx, `SELECT arn, name, definition, role_arn, type, created, updated, revision, status, logging, tracing FROM state_machines`)
	if err != nil {
		return err
	}
	for rows.Next() {
		sm := &stateMachine{}
		var created, updated float64
		var logging, tracing sql.NullString
		if err := rows.Scan(&sm.arn, &sm.name, &sm.definition, &sm.roleArn, &sm.typ, &created, &updated, &sm.revision, &sm.status, &logging, &tracing); err != nil {
			rows.Close()
			return err
		}
		sm.created, sm.updated = fromEpoch(created), fromEpoch(updated)
		if logging.Valid {
			sm.logging = json.RawMessage(logging.String)
		}
		if tracing.Valid {
			sm.tracing = json.RawMessage(tracing.String)
		}
		m, diags := parseDefinition(sm.definition)
		if diags != nil {
			e.log.Warn("stored state machine definition no longer valid", "arn", sm.arn, "error", (&definitionError{diags}).Error())
			continue
		}
		sm.m = m
		e.machines[sm.arn] = sm
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if err := e.st.r.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM executions`).Scan(&e.nextID); err != nil {
		return err
	}
	rows, err = e.st.r.QueryContext(ctx, `SELECT id FROM executions WHERE status = 'RUNNING'`)
	if err != nil {
		return err
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		ids = append(ids, id)
	}
	rows.Close()
	for _, id := range ids {
		x, cp, err := e.loadExecution(ctx, id)
		if err != nil {
			e.log.Error("cannot resume execution", "id", id, "error", err)
			continue
		}
		x.resumeCP = cp
		e.running[x.arn] = x
		e.toResume = append(e.toResume, x)
	}
	return nil
}

func fromEpoch(f float64) time.Time {
	if f == 0 {
		return time.Time{}
	}
	return time.UnixMilli(int64(f*1000 + 0.5)).UTC()
}

func epoch(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }

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
				if cp.Phase == "token" && cp.Token != "" && cp.Delivered {
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

func (e *Engine) smArn(name string) string {
	return "arn:aws:states:" + e.o.Region + ":" + e.o.Account + ":stateMachine:" + name
}

func (e *Engine) execArn(sm, name string) string {
	return "arn:aws:states:" + e.o.Region + ":" + e.o.Account + ":execution:" + sm + ":" + name
}

// validName applies AWS's naming rules for state machines and executions.
func validName(s string) bool {
	if s == "" || len([]rune(s)) > 80 {
		return false
	}
	for _, r := range s {
		if unicode.IsSpace(r) || strings.ContainsRune("<>{}[]?*\"#%\\^|~`$&,;:/", r) || r <= 0x1f || (r >= 0x7f && r <= 0x9f) {
			return false
		}
	}
	return true
}

// ---- state machines ----

// CreateStateMachine creates a state machine. Creating one that exists
// with the same definition and role is idempotent.
func (e *Engine) CreateStateMachine(ctx context.Context, in CreateStateMachineInput) (*CreateStateMachineOutput, error) {
	if err := e.begin(); err != nil {
		return nil, err
	}
	defer e.calls.Done()
	if !validName(in.Name) {
		return nil, apiErr("InvalidName", "Invalid Name: '"+in.Name+"'")
	}
	if in.Type == "" {
		in.Type = "STANDARD"
	}
	if in.Type != "STANDARD" && in.Type != "EXPRESS" {
		return nil, apiErr("ValidationException", "1 validation error detected: Value '"+in.Type+"' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD, EXPRESS]")
	}
	if in.RoleArn == "" || !strings.HasPrefix(in.RoleArn, "arn:") {
		return nil, apiErr("InvalidArn", "Invalid Arn: 'Resource type not valid in this context: "+in.RoleArn+"'")
	}
	if len(in.Definition) > 1<<20 {
		return nil, apiErr("InvalidDefinition", "Invalid State Machine Definition: 'the definition is larger than 1 MiB'")
	}
	m, diags := parseDefinition(in.Definition)
	if diags != nil {
		return nil, apiErr("InvalidDefinition", (&definitionError{diags}).Error())
	}
	arn := e.smArn(in.Name)
	now := time.Now().UTC()
	e.mu.Lock()
	if old, ok := e.machines[arn]; ok {
		e.mu.Unlock()
		if old.definition == in.Definition && old.roleArn == in.RoleArn && old.typ == in.Type && old.status == "ACTIVE" {
			return &CreateStateMachineOutput{StateMachineArn: arn, CreationDate: Timestamp{old.created}}, nil
		}
		return nil, apiErr("StateMachineAlreadyExists", "State Machine Already Exists: '"+arn+"'")
	}
	sm := &stateMachine{arn: arn, name: in.Name, definition: in.Definition, roleArn: in.RoleArn, typ: in.Type, created: now, updated: now,
		revision: uuid.NewString(), status: "ACTIVE", logging: in.LoggingConfiguration, tracing: in.TracingConfiguration, m: m}
	e.machines[arn] = sm
	e.mu.Unlock()
	if err := e.st.do(ctx, &op{fn: sm.save}); err != nil {
		e.mu.Lock()
		delete(e.machines, arn)
		e.mu.Unlock()
		return nil, fmt.Errorf("create state machine %s: %w", in.Name, err)
	}
	return &CreateStateMachineOutput{StateMachineArn: arn, CreationDate: Timestamp{now}}, nil
}

func (sm *stateMachine) save(tx *sql.Tx) error {
	_, err := tx.Exec(`INSERT OR REPLACE INTO state_machines(arn, name, definition, role_arn, type, created, updated, revision, status, logging, tracing) VALUES (?,?,?,?,?,?,?,?,?,?,?)`,
		sm.arn, sm.name, sm.definition, sm.roleArn, sm.typ, epoch(sm.created), epoch(sm.updated), sm.revision, sm.status, rawOrNil(sm.logging), rawOrNil(sm.tracing))
	return err
}

func rawOrNil(r json.RawMessage) any {
	if len(r) == 0 {
		return nil
	}
	return string(r)
}

func (e *Engine) machine(arn string) (*stateMachine, error) {
	if !strings.HasPrefix(arn, "arn:aws:states:") || !strings.Contains(arn, ":stateMachine:") {
		return nil, apiErr("InvalidArn", "Invalid Arn: '"+arn+"'")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	sm, ok := e.machines[arn]
	if !ok {
		return nil, apiErr("StateMachineDoesNotExist", "State Machine Does Not Exist: '"+arn+"'")
	}
	return sm, nil
}

// DescribeStateMachineInput is the DescribeStateMachine request.
type DescribeStateMachineInput struct {
	StateMachineArn string `json:"stateMachineArn"`
}

// DescribeStateMachine describes a state machine.
func (e *Engine) DescribeStateMachine(ctx context.Context, in DescribeStateMachineInput) (*DescribeStateMachineOutput, error) {
	if err := e.begin(); err != nil {
		return nil, err
	}
	defer e.calls.Done()
	sm, err := e.machine(in.StateMachineArn)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return &DescribeStateMachineOutput{StateMachineArn: sm.arn, Name: sm.name, Status: sm.status, Definition: sm.definition, RoleArn: sm.roleArn,
		Type: sm.typ, CreationDate: Timestamp{sm.created}, LoggingConfiguration: orDefault(sm.logging, `{"level":"OFF","includeExecutionData":false}`),
		TracingConfiguration: orDefault(sm.tracing, `{"enabled":false}`), RevisionID: sm.revision}, nil
}

func orDefault(r json.RawMessage, def string) json.RawMessage {
	if len(r) == 0 {
		return json.RawMessage(def)
	}
	return r
}

// ListStateMachinesInput is the ListStateMachines request.
type ListStateMachinesInput struct {
	MaxResults int    `json:"maxResults,omitempty"`
	NextToken  string `json:"nextToken,omitempty"`
}

// ListStateMachines lists state machines by name.
func (e *Engine) ListStateMachines(ctx context.Context, in ListStateMachinesInput) (*ListStateMachinesOutput, error) {
	if err := e.begin(); err != nil {
		return nil, err
	}
	defer e.calls.Done()
	if err := checkMaxResults(in.MaxResults, 1000); err != nil {
		return nil, err
	}
	e.mu.Lock()
	var all []*stateMachine
	for _, sm := range e.machines {
		all = append(all, sm)
	}
	e.mu.Unlock()
	sort.Slice(all, func(i, j int) bool { return all[i].name < all[j].name })
	start, err := pageStart(in.NextToken)
	if err != nil {
		return nil, err
	}
	n := pageSize(in.MaxResults, 100, 1000)
	out := &ListStateMachinesOutput{StateMachines: []StateMachineListItem{}}
	for i := start; i < len(all) && len(out.StateMachines) < n; i++ {
		sm := all[i]
		out.StateMachines = append(out.StateMachines, StateMachineListItem{StateMachineArn: sm.arn, Name: sm.name, Type: sm.typ, CreationDate: Timestamp{sm.created}})
		if i+1 < len(all) && len(out.StateMachines) == n {
			out.NextToken = base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(i + 1)))
		}
	}
	return out, nil
}

func pageStart(tok string) (int, error) {
	if tok == "" {
		return 0, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(tok)
	n, err2 := strconv.Atoi(string(b))
	if err != nil || err2 != nil || n < 0 {
		return 0, apiErr("InvalidToken", "Invalid Token: '"+tok+"'")
	}
	return n, nil
}

// checkMaxResults applies AWS's range for a maxResults member (0 to max).
func checkMaxResults(n, max int) error {
	switch {
	case n < 0:
		return apiErr("ValidationException", "1 validation error detected: Value '"+strconv.Itoa(n)+"' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 0")
	case n > max:
		return apiErr("ValidationException", "1 validation error detected: Value '"+strconv.Itoa(n)+"' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to "+strconv.Itoa(max))
	}
	return nil
}

func pageSize(n, def, max int) int {
	if n <= 0 {
		return def
	}
	return min(n, max)
}

// UpdateStateMachine changes the definition and/or role. Running
// executions keep the definition they started with.
func (e *Engine) UpdateStateMachine(ctx context.Context, in UpdateStateMachineInput) (*UpdateStateMachineOutput, error) {
	if err := e.begin(); err != nil {
		return nil, err
	}
	defer e.calls.Done()
	sm, err := e.machine(in.StateMachineArn)
	if err != nil {
		return nil, err
	}
	if in.Definition == "" && in.RoleArn == "" && in.LoggingConfiguration == nil && in.TracingConfiguration == nil {
		return nil, apiErr("MissingRequiredParameter", "Either the definition, the roleArn, the loggingConfiguration or the tracingConfiguration must be specified")
	}
	var m *machine
	if in.Definition != "" {
		var diags []Diagnostic
		if m, diags = parseDefinition(in.Definition); diags != nil {
			return nil, apiErr("InvalidDefinition", (&definitionError{diags}).Error())
		}
	}
	if in.RoleArn != "" && !strings.HasPrefix(in.RoleArn, "arn:") {
		return nil, apiErr("InvalidArn", "Invalid Arn: '"+in.RoleArn+"'")
	}
	e.mu.Lock()
	if sm.status != "ACTIVE" {
		e.mu.Unlock()
		return nil, apiErr("StateMachineDeleting", "State Machine is being deleted: '"+sm.arn+"'")
	}
	n := *sm
	if m != nil {
		n.definition, n.m = in.Definition, m
	}
	if in.RoleArn != "" {
		n.roleArn = in.RoleArn
	}
	if in.LoggingConfiguration != nil {
		n.logging = in.LoggingConfiguration
	}
	if in.TracingConfiguration != nil {
		n.tracing = in.TracingConfiguration
	}
	n.updated = time.Now().UTC()
	n.revision = uuid.NewString()
	e.machines[sm.arn] = &n
	e.mu.Unlock()
	if err := e.st.do(ctx, &op{fn: n.save}); err != nil {
		return nil, fmt.Errorf("update state machine %s: %w", sm.name, err)
	}
	return &UpdateStateMachineOutput{UpdateDate: Timestamp{n.updated}, RevisionID: n.revision}, nil
}

// DeleteStateMachineInput is the DeleteStateMachine request.
type DeleteStateMachineInput struct {
	StateMachineArn string `json:"stateMachineArn"`
}

// DeleteStateMachine deletes a state machine; running executions finish
// (AWS stops them eventually; the local engine lets them run).
func (e *Engine) DeleteStateMachine(ctx context.Context, in DeleteStateMachineInput) (*struct{}, error) {
	if err := e.begin(); err != nil {
		return nil, err
	}
	defer e.calls.Done()
	if !strings.HasPrefix(in.StateMachineArn, "arn:aws:states:") {
		return nil, apiErr("InvalidArn", "Invalid Arn: '"+in.StateMachineArn+"'")
	}
	e.mu.Lock()
	delete(e.machines, in.StateMachineArn)
	e.mu.Unlock()
	err := e.st.do(ctx, &op{fn: func(tx *sql.Tx) error {
		_, err := tx.Exec(`DELETE FROM state_machines WHERE arn = ?`, in.StateMachineArn)
		return err
	}})
	if err != nil {
		return nil, fmt.Errorf("delete state machine: %w", err)
	}
	return &struct{}{}, nil
}

// ValidateInput is the ValidateStateMachineDefinition request.
type ValidateInput struct {
	Definition string `json:"definition"`
	Type       string `json:"type,omitempty"`
	Severity   string `json:"severity,omitempty"`
	MaxResults int    `json:"maxResults,omitempty"`
}

// ValidateStateMachineDefinition checks a definition without creating it.
func (e *Engine) ValidateStateMachineDefinition(ctx context.Context, in ValidateInput) (*ValidateOutput, error) {
	if err := e.begin(); err != nil {
		return nil, err
	}
	defer e.calls.Done()
	if err := checkMaxResults(in.MaxResults, 100); err != nil {
		return nil, err
	}
	_, diags := parseDefinition(in.Definition)
	out := &ValidateOutput{Result: "OK", Diagnostics: []Diagnostic{}}
	if diags != nil {
		out.Result = "FAIL"
		n := pageSize(in.MaxResults, 100, 100)
		if len(diags) > n {
			diags, out.Truncated = diags[:n], true
		}
		out.Diagnostics = diags
	}
	return out, nil
}

// ---- executions ----

// StartExecution starts an execution. AWS's idempotency rule: starting
// again with the same name and input while the execution runs returns
// it; any other reuse of a name is ExecutionAlreadyExists.
func (e *Engine) StartExecution(ctx context.Context, in StartExecutionInput) (*StartExecutionOutput, error) {
	if err := e.begin(); err != nil {
		return nil, err
	}
	defer e.calls.Done()
	sm, err := e.machine(in.StateMachineArn)
	if err != nil {
		return nil, err
	}
	if in.Name == "" {
		in.Name = uuid.NewString()
	}
	if !validName(in.Name) {
		return nil, apiErr("InvalidName", "Invalid Name: '"+in.Name+"'")
	}
	if in.Input == "" {
		in.Input = "{}"
	}
	if len(in.Input) > MaxPayload {
		return nil, apiErr("InvalidExecutionInput", "Invalid State Machine Execution Input: 'The input exceeds the maximum size of 262144 bytes'")
	}
	input, err := decodeJSON(in.Input)
	if err != nil {
		return nil, apiErr("InvalidExecutionInput", "Invalid State Machine Execution Input: '"+err.Error()+"'")
	}
	arn := e.execArn(sm.name, in.Name)
	e.mu.Lock()
	if x, ok := e.running[arn]; ok {
		e.mu.Unlock()
		x.mu.Lock()
		same := x.status == "RUNNING" && x.inputRaw == in.Input
		start := x.start
		x.mu.Unlock()
		if same {
			return &StartExecutionOutput{ExecutionArn: arn, StartDate: Timestamp{start}}, nil
		}
		return nil, apiErr("ExecutionAlreadyExists", "Execution Already Exists: '"+arn+"'")
	}
	var one int
	if err := e.st.r.QueryRowContext(ctx, `SELECT 1 FROM executions WHERE arn = ?`, arn).Scan(&one); err == nil {
		e.mu.Unlock()
		return nil, apiErr("ExecutionAlreadyExists", "Execution Already Exists: '"+arn+"'")
	} else if !errors.Is(err, sql.ErrNoRows) {
		e.mu.Unlock()
		return nil, fmt.Errorf("start execution %s: %w", in.Name, err)
	}
	now := time.Now().UTC()
	x := &execution{e: e, arn: arn, name: in.Name, smArn: sm.arn, smName: sm.name, roleArn: sm.roleArn, m: sm.m, defSrc: sm.definition,
		inputRaw: in.Input, input: input, start: now, status: "RUNNING", traceHeader: in.TraceHeader}
	e.nextID++
	x.id = e.nextID
	e.running[arn] = x
	e.mu.Unlock()

	// one transaction: the row, ExecutionStarted and the first checkpoint
	x.emit(&frame{}, HistoryEvent{Type: "ExecutionStarted", ExecutionStartedEventDetails: &ExecutionStartedDetails{
		Input: in.Input, InputDetails: notTruncated, RoleArn: sm.roleArn}})
	cp := &checkpoint{State: sm.m.StartAt, Input: input}
	evs, _ := x.takePending()
	ins := &op{fn: func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO executions(id, arn, sm_arn, name, status, start, input, definition, role_arn, trace_header) VALUES (?,?,?,?,?,?,?,?,?,?)`,
			x.id, arn, sm.arn, in.Name, "RUNNING", epoch(now), in.Input, sm.definition, sm.roleArn, in.TraceHeader)
		return err
	}, exec: x.id, events: evs, cp: cp, total: 1}
	if err := e.st.do(ctx, ins); err != nil {
		e.mu.Lock()
		delete(e.running, arn)
		e.mu.Unlock()
		return nil, fmt.Errorf("start execution %s: %w", in.Name, err)
	}
	e.launch(x, cp)
	return &StartExecutionOutput{ExecutionArn: arn, StartDate: Timestamp{now}}, nil
}

func decodeJSON(s string) (any, error) {
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, errors.New("unexpected content after the JSON value")
	}
	return v, nil
}

// loadExecution reads a stored execution and its checkpoint.
func (e *Engine) loadExecution(ctx context.Context, id int64) (*execution, *checkpoint, error) {
	row := e.st.r.QueryRowContext(ctx, `SELECT arn, sm_arn, name, status, start, input, definition, role_arn, trace_header, checkpoint, events, redrive_count, redrive_date FROM executions WHERE id = ?`, id)
	x := &execution{e: e, id: id}
	var start float64
	var cpText sql.NullString
	var redrive sql.NullFloat64
	if err := row.Scan(&x.arn, &x.smArn, &x.name, &x.status, &start, &x.inputRaw, &x.defSrc, &x.roleArn, &x.traceHeader, &cpText, &x.lastID, &x.redriveCount, &redrive); err != nil {
		return nil, nil, err
	}
	x.start = fromEpoch(start)
	if redrive.Valid {
		x.redriveDate = fromEpoch(redrive.Float64)
	}
	x.smName = x.smArn[strings.LastIndexByte(x.smArn, ':')+1:]
	m, diags := parseDefinition(x.defSrc)
	if diags != nil {
		return nil, nil, errors.New((&definitionError{diags}).Error())
	}
	x.m = m
	var err error
	if x.input, err = decodeJSON(x.inputRaw); err != nil {
		return nil, nil, err
	}
	frows, err := e.st.r.QueryContext(ctx, `SELECT key, checkpoint FROM frames WHERE exec_id = ?`, id)
	if err != nil {
		return nil, nil, err
	}
	for frows.Next() {
		var key, text string
		if err := frows.Scan(&key, &text); err != nil {
			frows.Close()
			return nil, nil, err
		}
		fcp, err := decodeCheckpoint(text)
		if err != nil {
			frows.Close()
			return nil, nil, err
		}
		if x.frames == nil {
			x.frames = map[string]*checkpoint{}
		}
		x.frames[key] = fcp
	}
	frows.Close()
	if !cpText.Valid {
		return x, &checkpoint{State: m.StartAt, Input: x.input}, nil
	}
	cp, err := decodeCheckpoint(cpText.String)
	if err != nil {
		return nil, nil, err
	}
	return x, cp, nil
}

// DescribeExecutionInput is the DescribeExecution request.
type DescribeExecutionInput struct {
	ExecutionArn string `json:"executionArn"`
}

func checkExecArn(arn string) error {
	if !strings.HasPrefix(arn, "arn:aws:states:") || !strings.Contains(arn, ":execution:") {
		return apiErr("InvalidArn", "Invalid Arn: '"+arn+"'")
	}
	return nil
}

// DescribeExecution describes an execution.
func (e *Engine) DescribeExecution(ctx context.Context, in DescribeExecutionInput) (*DescribeExecutionOutput, error) {
	if err := e.begin(); err != nil {
		return nil, err
	}
	defer e.calls.Done()
	if err := checkExecArn(in.ExecutionArn); err != nil {
		return nil, err
	}
	e.mu.Lock()
	x, ok := e.running[in.ExecutionArn]
	e.mu.Unlock()
	if ok {
		return x.describe(), nil
	}
	row := e.st.r.QueryRowContext(ctx, `SELECT arn, sm_arn, name, status, start, stop, input, output, error, cause, trace_header, redrive_count, redrive_date FROM executions WHERE arn = ?`, in.ExecutionArn)
	var d DescribeExecutionOutput
	var start float64
	var stop, redrive sql.NullFloat64
	var input string
	var output, errName, cause sql.NullString
	if err := row.Scan(&d.ExecutionArn, &d.StateMachineArn, &d.Name, &d.Status, &start, &stop, &input, &output, &errName, &cause, &d.TraceHeader, &d.RedriveCount, &redrive); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, apiErr("ExecutionDoesNotExist", "Execution Does Not Exist: '"+in.ExecutionArn+"'")
		}
		return nil, fmt.Errorf("describe execution: %w", err)
	}
	d.StartDate = Timestamp{fromEpoch(start)}
	if stop.Valid {
		d.StopDate = ts(fromEpoch(stop.Float64))
	}
	if redrive.Valid {
		d.RedriveDate = ts(fromEpoch(redrive.Float64))
	}
	d.Input, d.InputDetails = &input, &DataDetails{Included: true}
	if output.Valid {
		d.Output, d.OutputDetails = &output.String, &DataDetails{Included: true}
	}
	if errName.Valid {
		d.Error, d.Cause = &errName.String, &cause.String
	}
	d.RedriveStatus, d.RedriveStatusReason = redriveStatus(d.Status)
	return &d, nil
}

func redriveStatus(status string) (string, string) {
	switch status {
	case "RUNNING":
		return "NOT_REDRIVABLE", "Execution is RUNNING and cannot be redriven"
	case "SUCCEEDED":
		return "NOT_REDRIVABLE", "Execution is SUCCEEDED and cannot be redriven"
	}
	return "REDRIVABLE", ""
}

// ListExecutions lists a state machine's executions, newest first.
func (e *Engine) ListExecutions(ctx context.Context, in ListExecutionsInput) (*ListExecutionsOutput, error) {
	if err := e.begin(); err != nil {
		return nil, err
	}
	defer e.calls.Done()
	if err := checkMaxResults(in.MaxResults, 1000); err != nil {
		return nil, err
	}
	if !strings.HasPrefix(in.StateMachineArn, "arn:aws:states:") || !strings.Contains(in.StateMachineArn, ":stateMachine:") {
		return nil, apiErr("InvalidArn", "Invalid Arn: '"+in.StateMachineArn+"'")
	}
	if _, err := e.machine(in.StateMachineArn); err != nil {
		return nil, err
	}
	switch in.StatusFilter {
	case "", "RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE":
	default:
		return nil, apiErr("ValidationException", "1 validation error detected: Value '"+in.StatusFilter+"' at 'statusFilter' failed to satisfy constraint: Member must satisfy enum value set: [RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, PENDING_REDRIVE]")
	}
	// make recent transitions visible
	if err := e.st.barrier(ctx); err != nil {
		return nil, err
	}
	before := int64(1) << 62
	if in.NextToken != "" {
		b, err := base64.RawURLEncoding.DecodeString(in.NextToken)
		if err != nil || len(b) != 8 {
			return nil, apiErr("InvalidToken", "Invalid Token: '"+in.NextToken+"'")
		}
		before = int64(binary.BigEndian.Uint64(b))
	}
	n := pageSize(in.MaxResults, 100, 1000)
	q := `SELECT id, arn, name, status, start, stop, redrive_count, redrive_date FROM executions WHERE sm_arn = ? AND id < ?`
	args := []any{in.StateMachineArn, before}
	if in.StatusFilter != "" {
		q += ` AND status = ?`
		args = append(args, in.StatusFilter)
	}
	switch in.RedriveFilter {
	case "":
	case "REDRIVEN":
		q += ` AND redrive_count > 0`
	case "NOT_REDRIVEN":
		q += ` AND redrive_count = 0`
	default:
		return nil, apiErr("ValidationException", "1 validation error detected: Value '"+in.RedriveFilter+"' at 'redriveFilter' failed to satisfy constraint: Member must satisfy enum value set: [REDRIVEN, NOT_REDRIVEN]")
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, n+1)
	rows, err := e.st.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list executions: %w", err)
	}
	defer rows.Close()
	out := &ListExecutionsOutput{Executions: []ExecutionListItem{}}
	var lastID int64
	for rows.Next() {
		var it ExecutionListItem
		var id int64
		var start float64
		var stop, redrive sql.NullFloat64
		if err := rows.Scan(&id, &it.ExecutionArn, &it.Name, &it.Status, &start, &stop, &it.RedriveCount, &redrive); err != nil {
			return nil, fmt.Errorf("list executions: %w", err)
		}
		if len(out.Executions) == n {
			var b [8]byte
			binary.BigEndian.PutUint64(b[:], uint64(lastID))
			out.NextToken = base64.RawURLEncoding.EncodeToString(b[:])
			break
		}
		it.StateMachineArn = in.StateMachineArn
		it.StartDate = Timestamp{fromEpoch(start)}
		if stop.Valid {
			it.StopDate = ts(fromEpoch(stop.Float64))
		}
		if redrive.Valid {
			it.RedriveDate = ts(fromEpoch(redrive.Float64))
		}
		out.Executions = append(out.Executions, it)
		lastID = id
	}
	return out, rows.Err()
}

// GetExecutionHistory returns an execution's events, paged.
func (e *Engine) GetExecutionHistory(ctx context.Context, in GetExecutionHistoryInput) (*GetExecutionHistoryOutput, error) {
	if err := e.begin(); err != nil {
		return nil, err
	}
	defer e.calls.Done()
	if err := checkMaxResults(in.MaxResults, 1000); err != nil {
		return nil, err
	}
	if err := checkExecArn(in.ExecutionArn); err != nil {
		return nil, err
	}
	if err := e.st.barrier(ctx); err != nil {
		return nil, err
	}
	var id int64
	if err := e.st.r.QueryRowContext(ctx, `SELECT id FROM executions WHERE arn = ?`, in.ExecutionArn).Scan(&id); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, apiErr("ExecutionDoesNotExist", "Execution Does Not Exist: '"+in.ExecutionArn+"'")
		}
		return nil, fmt.Errorf("get execution history: %w", err)
	}
	events, err := e.st.readHistory(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("get execution history: %w", err)
	}
	if in.ReverseOrder {
		for i, j := 0, len(events)-1; i < j; i, j = i+1, j-1 {
			events[i], events[j] = events[j], events[i]
		}
	}
	start, err := pageStart(in.NextToken)
	if err != nil {
		return nil, err
	}
	n := pageSize(in.MaxResults, 100, 1000)
	out := &GetExecutionHistoryOutput{Events: []HistoryEvent{}}
	if start < len(events) {
		end := min(start+n, len(events))
		out.Events = events[start:end]
		if end < len(events) {
			out.NextToken = base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(end)))
		}
	}
	if in.IncludeExecutionData != nil && !*in.IncludeExecutionData {
		for i := range out.Events {
			stripData(&out.Events[i])
		}
	}
	return out, nil
}

func stripData(ev *HistoryEvent) {
	if d := ev.ExecutionStartedEventDetails; d != nil {
		d.Input, d.InputDetails = "", nil
	}
	if d := ev.ExecutionSucceededEventDetails; d != nil {
		d.Output, d.OutputDetails = "", nil
	}
	if d := ev.StateEnteredEventDetails; d != nil {
		d.Input, d.InputDetails = "", nil
	}
	if d := ev.StateExitedEventDetails; d != nil {
		d.Output, d.OutputDetails = "", nil
	}
	if d := ev.TaskSucceededEventDetails; d != nil {
		d.Output, d.OutputDetails = "", nil
	}
	if d := ev.TaskScheduledEventDetails; d != nil {
		d.Parameters = ""
	}
}

// StopExecution stops a running execution (ExecutionAborted) and waits
// until that is recorded.
func (e *Engine) StopExecution(ctx context.Context, in StopExecutionInput) (*StopExecutionOutput, error) {
	if err := e.begin(); err != nil {
		return nil, err
	}
	defer e.calls.Done()
	if err := checkExecArn(in.ExecutionArn); err != nil {
		return nil, err
	}
	e.mu.Lock()
	x, ok := e.running[in.ExecutionArn]
	e.mu.Unlock()
	if !ok {
		d, err := e.DescribeExecution(ctx, DescribeExecutionInput{ExecutionArn: in.ExecutionArn})
		if err != nil {
			return nil, err
		}
		stop := d.StartDate
		if d.StopDate != nil {
			stop = *d.StopDate
		}
		return &StopExecutionOutput{StopDate: stop}, nil
	}
	x.cancel(&stopCause{errName: in.Error, cause: in.Cause})
	select {
	case <-x.finished:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	return &StopExecutionOutput{StopDate: Timestamp{x.stop}}, nil
}

type stopCause struct{ errName, cause string }

func (s *stopCause) Error() string { return "execution stopped" }

// RedriveExecutionInput is the RedriveExecution request.
type RedriveExecutionInput struct {
	ExecutionArn string `json:"executionArn"`
	ClientToken  string `json:"clientToken,omitempty"`
}

// RedriveExecution restarts a FAILED, TIMED_OUT or ABORTED execution from
// the state that did not succeed (a Parallel or Map state reruns whole).
func (e *Engine) RedriveExecution(ctx context.Context, in RedriveExecutionInput) (*RedriveExecutionOutput, error) {
	if err := e.begin(); err != nil {
		return nil, err
	}
	defer e.calls.Done()
	if err := checkExecArn(in.ExecutionArn); err != nil {
		return nil, err
	}
	e.mu.Lock()
	if x, ok := e.running[in.ExecutionArn]; ok {
		e.mu.Unlock()
		x.mu.Lock()
		status := x.status
		x.mu.Unlock()
		if status == "RUNNING" {
			return nil, apiErr("ExecutionNotRedrivable", "Execution is RUNNING and cannot be redriven: '"+in.ExecutionArn+"'")
		}
		// it has just ended: wait until that is recorded
		select {
		case <-x.finished:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		e.mu.Lock()
	}
	var id int64
	var status string
	var stop sql.NullFloat64
	err := e.st.r.QueryRowContext(ctx, `SELECT id, status, stop FROM executions WHERE arn = ?`, in.ExecutionArn).Scan(&id, &status, &stop)
	if err != nil {
		e.mu.Unlock()
		if errors.Is(err, sql.ErrNoRows) {
			return nil, apiErr("ExecutionDoesNotExist", "Execution Does Not Exist: '"+in.ExecutionArn+"'")
		}
		return nil, fmt.Errorf("redrive execution: %w", err)
	}
	if r, why := redriveStatus(status); r != "REDRIVABLE" {
		e.mu.Unlock()
		return nil, apiErr("ExecutionNotRedrivable", why)
	}
	if stop.Valid && time.Since(fromEpoch(stop.Float64)) > 14*24*time.Hour {
		e.mu.Unlock()
		return nil, apiErr("ExecutionNotRedrivable", "Execution ended more than 14 days ago and cannot be redriven")
	}
	x, cp, err := e.loadExecution(ctx, id)
	if err != nil {
		e.mu.Unlock()
		return nil, fmt.Errorf("redrive execution: %w", err)
	}
	now := time.Now().UTC()
	x.frames = nil // branches and iterations start over
	x.status = "RUNNING"
	x.redriveCount++
	x.redriveDate = now
	e.running[x.arn] = x
	e.mu.Unlock()
	count := x.redriveCount
	upd := &op{fn: func(tx *sql.Tx) error {
		if _, err := tx.Exec(`DELETE FROM frames WHERE exec_id = ?`, id); err != nil {
			return err
		}
		_, err := tx.Exec(`UPDATE executions SET status = 'RUNNING', stop = NULL, output = NULL, error = NULL, cause = NULL, redrive_count = ?, redrive_date = ? WHERE id = ?`, count, epoch(now), id)
		return err
	}}
	if err := e.st.do(ctx, upd); err != nil {
		e.mu.Lock()
		delete(e.running, x.arn)
		e.mu.Unlock()
		return nil, fmt.Errorf("redrive execution: %w", err)
	}
	x.emit(&frame{}, HistoryEvent{Type: "ExecutionRedriven", ExecutionRedrivenEventDetails: &RedrivenDetails{RedriveCount: count}})
	ncp := &checkpoint{State: cp.State, Input: cp.Input}
	if err := x.flushWait(ctx, ncp); err != nil {
		return nil, fmt.Errorf("redrive execution: %w", err)
	}
	e.launch(x, ncp)
	return &RedriveExecutionOutput{RedriveDate: Timestamp{now}}, nil
}

// ---- task tokens ----

type tokenWait struct {
	x  *execution
	ch chan tokenMsg
}

type tokenMsg struct {
	heartbeat bool
	output    any
	err       *TaskError
	done      chan error
}

func (e *Engine) newToken(execID int64) string {
	b := make([]byte, 8+24)
	binary.BigEndian.PutUint64(b, uint64(execID))
	rand.Read(b[8:])
	return "AQB" + base64.RawURLEncoding.EncodeToString(b)
}

func tokenExec(tok string) (int64, bool) {
	rest, ok := strings.CutPrefix(tok, "AQB")
	if !ok {
		return 0, false
	}
	b, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil || len(b) != 32 {
		return 0, false
	}
	return int64(binary.BigEndian.Uint64(b)), true
}

// SendTaskSuccessInput is the SendTaskSuccess request.
type SendTaskSuccessInput struct {
	TaskToken string `json:"taskToken"`
	Output    string `json:"output"`
}

// SendTaskFailureInput is the SendTaskFailure request.
type SendTaskFailureInput struct {
	TaskToken string `json:"taskToken"`
	Error     string `json:"error,omitempty"`
	Cause     string `json:"cause,omitempty"`
}

// SendTaskHeartbeatInput is the SendTaskHeartbeat request.
type SendTaskHeartbeatInput struct {
	TaskToken string `json:"taskToken"`
}

// SendTaskSuccess completes a waitForTaskToken task with output. It
// returns once the result is durable.
func (e *Engine) SendTaskSuccess(ctx context.Context, in SendTaskSuccessInput) (*struct{}, error) {
	if err := e.begin(); err != nil {
		return nil, err
	}
	defer e.calls.Done()
	if len(in.Output) > MaxPayload {
		return nil, apiErr("InvalidOutput", "Invalid Output: 'The output exceeds the maximum size of 262144 bytes'")
	}
	v, err := decodeJSON(in.Output)
	if err != nil {
		return nil, apiErr("InvalidOutput", "Invalid Output: '"+err.Error()+"'")
	}
	return e.sendToken(ctx, in.TaskToken, tokenMsg{output: v})
}

// SendTaskFailure fails a waitForTaskToken task with error and cause.
func (e *Engine) SendTaskFailure(ctx context.Context, in SendTaskFailureInput) (*struct{}, error) {
	if err := e.begin(); err != nil {
		return nil, err
	}
	defer e.calls.Done()
	if len(in.Error) > 256 || len(in.Cause) > 32768 {
		return nil, apiErr("ValidationException", "error must be at most 256 and cause at most 32768 characters")
	}
	return e.sendToken(ctx, in.TaskToken, tokenMsg{err: &TaskError{Name: in.Error, Cause: in.Cause}})
}

// SendTaskHeartbeat records a heartbeat for a waitForTaskToken task.
func (e *Engine) SendTaskHeartbeat(ctx context.Context, in SendTaskHeartbeatInput) (*struct{}, error) {
	if err := e.begin(); err != nil {
		return nil, err
	}
	defer e.calls.Done()
	return e.sendToken(ctx, in.TaskToken, tokenMsg{heartbeat: true})
}

func (e *Engine) sendToken(ctx context.Context, tok string, m tokenMsg) (*struct{}, error) {
	if len(tok) == 0 || len(tok) > 2048 {
		return nil, apiErr("InvalidToken", "Invalid Token: 'The task token is malformed'")
	}
	execID, ok := tokenExec(tok)
	if !ok {
		return nil, apiErr("InvalidToken", "Invalid Token: 'The task token is malformed'")
	}
	m.done = make(chan error, 1)
	e.mu.Lock()
	tw, ok := e.tokens[tok]
	if ok {
		select {
		case tw.ch <- m:
		default:
			ok = false
		}
	}
	e.mu.Unlock()
	if !ok {
		var one int
		if err := e.st.r.QueryRowContext(ctx, `SELECT 1 FROM executions WHERE id = ?`, execID).Scan(&one); err == nil {
			return nil, apiErr("TaskTimedOut", "Task Timed Out: 'Provided task does not exist anymore'")
		}
		return nil, apiErr("TaskDoesNotExist", "Task Does Not Exist: 'Provided task does not exist'")
	}
	select {
	case err := <-m.done:
		if err != nil {
			return nil, err
		}
		return &struct{}{}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// DescribeStateMachineForExecutionOutput is the
// DescribeStateMachineForExecution response.
type DescribeStateMachineForExecutionOutput struct {
	StateMachineArn string    `json:"stateMachineArn"`
	Name            string    `json:"name"`
	Definition      string    `json:"definition"`
	RoleArn         string    `json:"roleArn"`
	UpdateDate      Timestamp `json:"updateDate"`
}

// DescribeStateMachineForExecution returns the definition an execution
// runs.
func (e *Engine) DescribeStateMachineForExecution(ctx context.Context, in DescribeExecutionInput) (*DescribeStateMachineForExecutionOutput, error) {
	if err := e.begin(); err != nil {
		return nil, err
	}
	defer e.calls.Done()
	if err := checkExecArn(in.ExecutionArn); err != nil {
		return nil, err
	}
	var out DescribeStateMachineForExecutionOutput
	var start float64
	err := e.st.r.QueryRowContext(ctx, `SELECT sm_arn, definition, role_arn, start FROM executions WHERE arn = ?`, in.ExecutionArn).Scan(&out.StateMachineArn, &out.Definition, &out.RoleArn, &start)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, apiErr("ExecutionDoesNotExist", "Execution Does Not Exist: '"+in.ExecutionArn+"'")
		}
		return nil, fmt.Errorf("describe state machine for execution: %w", err)
	}
	out.Name = out.StateMachineArn[strings.LastIndexByte(out.StateMachineArn, ':')+1:]
	out.UpdateDate = Timestamp{fromEpoch(start)}
	return &out, nil
}

// PutStateMachine creates the state machine, or updates the definition
// and role of the existing one of that name (running executions keep the
// definition they started with), and returns its ARN. It is for
// in-process setup, e.g. the local stack applying the current config.
func (e *Engine) PutStateMachine(ctx context.Context, in CreateStateMachineInput) (string, error) {
	out, err := e.CreateStateMachine(ctx, in)
	if err == nil {
		return out.StateMachineArn, nil
	}
	if !errors.Is(err, ErrStateMachineAlreadyExists) {
		return "", err
	}
	arn := e.smArn(in.Name)
	if _, err := e.UpdateStateMachine(ctx, UpdateStateMachineInput{StateMachineArn: arn, Definition: in.Definition, RoleArn: in.RoleArn,
		LoggingConfiguration: in.LoggingConfiguration, TracingConfiguration: in.TracingConfiguration}); err != nil {
		return "", err
	}
	return arn, nil
}
