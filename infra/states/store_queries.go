package states

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// The store's reads and the statements the API methods commit: every SQL
// statement of the engine is in store.go or here.

// errNotFound: no row for that ARN or id.
var errNotFound = errors.New("not found")

// errExists: an execution of that ARN is stored.
var errExists = errors.New("execution exists")

// machines reads every stored state machine (definitions not parsed).
func (s *store) machines(ctx context.Context) ([]*stateMachine, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT arn, name, definition, role_arn, type, created, updated, revision, status, logging, tracing FROM state_machines`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*stateMachine
	for rows.Next() {
		sm := &stateMachine{}
		var created, updated float64
		var logging, tracing sql.NullString
		if err := rows.Scan(&sm.arn, &sm.name, &sm.definition, &sm.roleArn, &sm.typ, &created, &updated, &sm.revision, &sm.status, &logging, &tracing); err != nil {
			return nil, err
		}
		sm.created, sm.updated = fromEpoch(created), fromEpoch(updated)
		if logging.Valid {
			sm.logging = json.RawMessage(logging.String)
		}
		if tracing.Valid {
			sm.tracing = json.RawMessage(tracing.String)
		}
		out = append(out, sm)
	}
	return out, rows.Err()
}

// saveMachine is the statement that stores a state machine.
func saveMachine(sm *stateMachine) func(s *store, tx *sql.Tx) error {
	return func(_ *store, tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT OR REPLACE INTO state_machines(arn, name, definition, role_arn, type, created, updated, revision, status, logging, tracing) VALUES (?,?,?,?,?,?,?,?,?,?,?)`,
			sm.arn, sm.name, sm.definition, sm.roleArn, sm.typ, epoch(sm.created), epoch(sm.updated), sm.revision, sm.status, rawOrNil(sm.logging), rawOrNil(sm.tracing))
		return err
	}
}

// deleteMachine is the statement that deletes a state machine.
func deleteMachine(arn string) func(s *store, tx *sql.Tx) error {
	return func(_ *store, tx *sql.Tx) error {
		_, err := tx.Exec(`DELETE FROM state_machines WHERE arn = ?`, arn)
		return err
	}
}

func rawOrNil(r json.RawMessage) any {
	if len(r) == 0 {
		return nil
	}
	return string(r)
}

// lastExecutionID returns the largest execution id used.
func (s *store) lastExecutionID(ctx context.Context) (int64, error) {
	var id int64
	err := s.r.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM executions`).Scan(&id)
	return id, err
}

// runningIDs returns the ids of the executions stored as RUNNING.
func (s *store) runningIDs(ctx context.Context) ([]int64, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id FROM executions WHERE status = 'RUNNING'`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// executionIDExists says whether an execution of that id is stored.
func (s *store) executionIDExists(ctx context.Context, id int64) bool {
	var one int
	return s.r.QueryRowContext(ctx, `SELECT 1 FROM executions WHERE id = ?`, id).Scan(&one) == nil
}

// definitionHash names a definition in the definitions table.
func definitionHash(def string) string {
	h := sha256.Sum256([]byte(def))
	return hex.EncodeToString(h[:])
}

// insertExecution is the statement that stores a new execution (errExists
// if one of its ARN is stored). Its definition (tens of KiB for a
// pipeline) is stored once per version, in definitions, not once per
// execution.
func insertExecution(x *execution) func(s *store, tx *sql.Tx) error {
	return func(s *store, tx *sql.Tx) error {
		if !s.stored[x.defHash] {
			if _, err := tx.Stmt(s.insertDefinition).Exec(x.defHash, x.defSrc); err != nil {
				return err
			}
			s.stored[x.defHash] = true
		}
		_, err := tx.Stmt(s.insertExecution).Exec(x.id, x.arn, x.smArn, x.name, epoch(x.start), x.inputRaw, x.defHash, x.roleArn, x.traceHeader)
		if err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed: executions.arn") {
			return errExists
		}
		return err
	}
}

// storedExecution is what a restart or a redrive reads of an execution.
type storedExecution struct {
	x          *execution // without its parsed definition and input
	checkpoint sql.NullString
	frames     map[string]string // frame checkpoints by key
}

// execution reads a stored execution and its frame checkpoints.
func (s *store) execution(ctx context.Context, id int64) (*storedExecution, error) {
	row := s.r.QueryRowContext(ctx, `SELECT e.arn, e.sm_arn, e.name, e.status, e.start, e.input, COALESCE(d.text, e.definition), e.role_arn, e.trace_header, e.checkpoint, e.events, e.redrive_count, e.redrive_date
		FROM executions e LEFT JOIN definitions d ON d.hash = e.def_hash WHERE e.id = ?`, id)
	x := &execution{id: id}
	se := &storedExecution{x: x}
	var start float64
	var redrive sql.NullFloat64
	if err := row.Scan(&x.arn, &x.smArn, &x.name, &x.status, &start, &x.inputRaw, &x.defSrc, &x.roleArn, &x.traceHeader, &se.checkpoint, &x.lastID, &x.redriveCount, &redrive); err != nil {
		return nil, err
	}
	x.start = fromEpoch(start)
	if redrive.Valid {
		x.redriveDate = fromEpoch(redrive.Float64)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT key, checkpoint FROM frames WHERE exec_id = ?`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var key, text string
		if err := rows.Scan(&key, &text); err != nil {
			return nil, err
		}
		if se.frames == nil {
			se.frames = map[string]string{}
		}
		se.frames[key] = text
	}
	return se, rows.Err()
}

// describeExecution reads a finished execution's description; errNotFound
// if there is none.
func (s *store) describeExecution(ctx context.Context, arn string) (*DescribeExecutionOutput, error) {
	row := s.r.QueryRowContext(ctx, `SELECT arn, sm_arn, name, status, start, stop, input, output, error, cause, trace_header, redrive_count, redrive_date FROM executions WHERE arn = ?`, arn)
	var d DescribeExecutionOutput
	var start float64
	var stop, redrive sql.NullFloat64
	var input string
	var output, errName, cause sql.NullString
	if err := row.Scan(&d.ExecutionArn, &d.StateMachineArn, &d.Name, &d.Status, &start, &stop, &input, &output, &errName, &cause, &d.TraceHeader, &d.RedriveCount, &redrive); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errNotFound
		}
		return nil, err
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
	return &d, nil
}

// executionQuery selects a page of a state machine's executions.
type executionQuery struct {
	smArn   string
	before  int64  // ids below this one
	status  string // "" = any
	redrive string // "", "REDRIVEN", "NOT_REDRIVEN"
	limit   int
}

// listedExecution is one row of listExecutions.
type listedExecution struct {
	id   int64
	item ExecutionListItem
}

// listExecutions returns a state machine's executions, newest first.
func (s *store) listExecutions(ctx context.Context, q executionQuery) ([]listedExecution, error) {
	text := `SELECT id, arn, name, status, start, stop, redrive_count, redrive_date FROM executions WHERE sm_arn = ? AND id < ?`
	args := []any{q.smArn, q.before}
	if q.status != "" {
		text += ` AND status = ?`
		args = append(args, q.status)
	}
	switch q.redrive {
	case "REDRIVEN":
		text += ` AND redrive_count > 0`
	case "NOT_REDRIVEN":
		text += ` AND redrive_count = 0`
	}
	text += ` ORDER BY id DESC LIMIT ?`
	args = append(args, q.limit)
	rows, err := s.r.QueryContext(ctx, text, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []listedExecution
	for rows.Next() {
		var le listedExecution
		it := &le.item
		var start float64
		var stop, redrive sql.NullFloat64
		if err := rows.Scan(&le.id, &it.ExecutionArn, &it.Name, &it.Status, &start, &stop, &it.RedriveCount, &redrive); err != nil {
			return nil, err
		}
		it.StateMachineArn = q.smArn
		it.StartDate = Timestamp{fromEpoch(start)}
		if stop.Valid {
			it.StopDate = ts(fromEpoch(stop.Float64))
		}
		if redrive.Valid {
			it.RedriveDate = ts(fromEpoch(redrive.Float64))
		}
		out = append(out, le)
	}
	return out, rows.Err()
}

// executionID returns the id of the execution of that ARN; errNotFound if
// there is none.
func (s *store) executionID(ctx context.Context, arn string) (int64, error) {
	var id int64
	err := s.r.QueryRowContext(ctx, `SELECT id FROM executions WHERE arn = ?`, arn).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, errNotFound
	}
	return id, err
}

// executionStatus returns the id, status and stop time (zero while
// running) of the execution of that ARN; errNotFound if there is none.
func (s *store) executionStatus(ctx context.Context, arn string) (int64, string, float64, error) {
	var id int64
	var status string
	var stop sql.NullFloat64
	err := s.r.QueryRowContext(ctx, `SELECT id, status, stop FROM executions WHERE arn = ?`, arn).Scan(&id, &status, &stop)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", 0, errNotFound
	}
	return id, status, stop.Float64, err
}

// executionMachine reads the state machine an execution runs; errNotFound
// if there is none.
func (s *store) executionMachine(ctx context.Context, arn string) (*DescribeStateMachineForExecutionOutput, error) {
	var out DescribeStateMachineForExecutionOutput
	var start float64
	err := s.r.QueryRowContext(ctx, `SELECT e.sm_arn, COALESCE(d.text, e.definition), e.role_arn, e.start FROM executions e LEFT JOIN definitions d ON d.hash = e.def_hash WHERE e.arn = ?`, arn).Scan(&out.StateMachineArn, &out.Definition, &out.RoleArn, &start)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNotFound
	}
	if err != nil {
		return nil, err
	}
	out.UpdateDate = Timestamp{fromEpoch(start)}
	return &out, nil
}

// redriveExecution is the statement that makes a stored execution run
// again from its checkpoint, its branches and iterations forgotten.
func redriveExecution(id int64, count int, date float64) func(s *store, tx *sql.Tx) error {
	return func(_ *store, tx *sql.Tx) error {
		if _, err := tx.Exec(`DELETE FROM frames WHERE exec_id = ?`, id); err != nil {
			return fmt.Errorf("clear frames: %w", err)
		}
		_, err := tx.Exec(`UPDATE executions SET status = 'RUNNING', stop = NULL, output = NULL, error = NULL, cause = NULL, redrive_count = ?, redrive_date = ? WHERE id = ?`, count, date, id)
		return err
	}
}
