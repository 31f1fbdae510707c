package states

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pushline/pushline/infra/states/jsonvalue"
	_ "modernc.org/sqlite" // database/sql driver "sqlite"
)

const schema = `
CREATE TABLE IF NOT EXISTS state_machines (
	arn TEXT PRIMARY KEY,
	name TEXT NOT NULL,
	definition TEXT NOT NULL,
	role_arn TEXT NOT NULL,
	type TEXT NOT NULL,
	created REAL NOT NULL,
	updated REAL NOT NULL,
	revision TEXT NOT NULL,
	status TEXT NOT NULL,
	logging TEXT,
	tracing TEXT
);
CREATE TABLE IF NOT EXISTS executions (
	id INTEGER PRIMARY KEY,
	arn TEXT NOT NULL UNIQUE,
	sm_arn TEXT NOT NULL,
	name TEXT NOT NULL,
	status TEXT NOT NULL,
	start REAL NOT NULL,
	stop REAL,
	input TEXT NOT NULL,
	output TEXT,
	error TEXT,
	cause TEXT,
	definition TEXT NOT NULL,
	role_arn TEXT NOT NULL,
	trace_header TEXT NOT NULL DEFAULT '',
	checkpoint TEXT,
	events INTEGER NOT NULL DEFAULT 0,
	redrive_count INTEGER NOT NULL DEFAULT 0,
	redrive_date REAL
);
CREATE INDEX IF NOT EXISTS executions_by_machine ON executions(sm_arn, id);
CREATE INDEX IF NOT EXISTS executions_running ON executions(status) WHERE status = 'RUNNING';
CREATE INDEX IF NOT EXISTS executions_by_status ON executions(sm_arn, status, id);
CREATE TABLE IF NOT EXISTS definitions (
	hash TEXT PRIMARY KEY,
	text TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS history (
	id INTEGER PRIMARY KEY,
	exec_id INTEGER NOT NULL,
	first INTEGER NOT NULL,
	last INTEGER NOT NULL,
	data BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS history_by_execution ON history(exec_id, first);
CREATE TABLE IF NOT EXISTS frames (
	exec_id INTEGER NOT NULL,
	key TEXT NOT NULL,
	checkpoint TEXT NOT NULL,
	PRIMARY KEY (exec_id, key)
);
`

// store owns the database: one writer goroutine applies ops in batches,
// one transaction per batch (group commit); readers use their own pool.
type store struct {
	w, r   *sql.DB
	ops    chan *op
	closed chan struct{}
	buf    []byte // the writer's encoding buffer

	// the writer's frequent statements, prepared once
	insertHistory, updateCheckpoint, updateEvents *sql.Stmt
	insertExecution, insertDefinition             *sql.Stmt
	// stored are the definitions known to be in the definitions table (the
	// writer's; forgotten when a commit fails)
	stored map[string]bool

	mu      sync.RWMutex // guards sends on ops against close
	stopped bool
	once    sync.Once
}

// op is one unit of durable work. Exec ops for the same execution within a
// batch are coalesced: their events become one history row and only the
// last checkpoint is written.
type op struct {
	fn func(s *store, tx *sql.Tx) error // generic statement(s), run in order

	exec   int64 // execution id for events/checkpoint/final
	events []*HistoryEvent
	cp     *checkpoint // nil = unchanged
	total  int64       // the execution's event count after events
	final  *finalInfo
	frame  string // fcp is the checkpoint of this branch/iteration frame
	fcp    *checkpoint
	clear  string // delete the frame checkpoints under this key prefix

	done  chan error // closed (after sending the error, if any) once committed
	after func()     // run by the writer after commit
}

type finalInfo struct {
	status, output, errName, cause string
	hasOutput, hasError            bool
	stop                           float64
}

func openStore(path string) (*store, error) {
	var w, r *sql.DB
	var err error
	if path == "" {
		w, err = sql.Open("sqlite", "file::memory:")
		if err != nil {
			return nil, err
		}
		w.SetMaxOpenConns(1)
		r = w
	} else {
		if err := privateFiles(path); err != nil {
			return nil, err
		}
		q := url.Values{}
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(FULL)")
		q.Add("_pragma", "busy_timeout(10000)")
		q.Add("_pragma", "foreign_keys(OFF)")
		dsn := "file:" + path + "?" + q.Encode()
		if w, err = sql.Open("sqlite", dsn); err != nil {
			return nil, err
		}
		w.SetMaxOpenConns(1)
		if r, err = sql.Open("sqlite", dsn+"&mode=ro"); err != nil {
			w.Close()
			return nil, err
		}
		r.SetMaxOpenConns(4)
	}
	if _, err := w.Exec(schema); err != nil {
		w.Close()
		if r != w {
			r.Close()
		}
		return nil, fmt.Errorf("create schema: %w", err)
	}
	if err := migrate(w); err != nil {
		w.Close()
		if r != w {
			r.Close()
		}
		return nil, fmt.Errorf("migrate schema: %w", err)
	}
	s := &store{w: w, r: r, ops: make(chan *op, 8192), closed: make(chan struct{}), stored: map[string]bool{}}
	for _, p := range []struct {
		dst  **sql.Stmt
		text string
	}{
		{&s.insertHistory, `INSERT INTO history(exec_id, first, last, data) VALUES (?,?,?,?)`},
		{&s.updateCheckpoint, `UPDATE executions SET checkpoint = ?, events = ? WHERE id = ?`},
		{&s.updateEvents, `UPDATE executions SET events = ? WHERE id = ?`},
		{&s.insertExecution, `INSERT INTO executions(id, arn, sm_arn, name, status, start, input, definition, def_hash, role_arn, trace_header) VALUES (?,?,?,?,'RUNNING',?,?,'',?,?,?)`},
		{&s.insertDefinition, `INSERT OR IGNORE INTO definitions(hash, text) VALUES (?,?)`},
	} {
		if *p.dst, err = w.Prepare(p.text); err != nil {
			w.Close()
			if r != w {
				r.Close()
			}
			return nil, fmt.Errorf("prepare %q: %w", p.text, err)
		}
	}
	go s.loop()
	return s, nil
}

// migrate brings a database of an earlier version up to the schema:
// executions name their definition (def_hash) in the definitions table
// instead of holding it (those of earlier versions keep theirs).
func migrate(w *sql.DB) error {
	var n int
	if err := w.QueryRow(`SELECT COUNT(*) FROM pragma_table_info('executions') WHERE name = 'def_hash'`).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		if _, err := w.Exec(`ALTER TABLE executions ADD COLUMN def_hash TEXT`); err != nil {
			return err
		}
	}
	return nil
}

// privateFiles makes sure the database file exists with mode 0600 before
// SQLite opens it (it holds task tokens), so that the -wal and -shm files
// SQLite creates next to it get the same mode; existing files readable by
// others are made private.
func privateFiles(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	f.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm", path + "-journal"} {
		fi, err := os.Stat(p)
		if err != nil {
			continue
		}
		if fi.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(p, fi.Mode().Perm()&0o600); err != nil {
				return err
			}
		}
	}
	return nil
}

// submit queues an op. It never blocks on the disk, only on a full queue.
func (s *store) submit(o *op) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.stopped {
		if o.done != nil {
			o.done <- errStoreClosed
			close(o.done)
		}
		return
	}
	s.ops <- o
}

var errStoreClosed = errors.New("state store closed")

// do queues an op and waits until it is committed.
func (s *store) do(ctx context.Context, o *op) error {
	o.done = make(chan error, 1)
	s.submit(o)
	select {
	case err := <-o.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// barrier waits until everything queued before it is committed.
func (s *store) barrier(ctx context.Context) error {
	return s.do(ctx, &op{})
}

func (s *store) close() {
	s.once.Do(func() {
		s.mu.Lock()
		s.stopped = true
		close(s.ops)
		s.mu.Unlock()
		<-s.closed
		if s.r != s.w {
			s.r.Close()
		}
		s.w.Close()
	})
}

type execAcc struct {
	events []*HistoryEvent
	cp     *checkpoint
	total  int64
	final  *finalInfo
	frames map[string]*checkpoint
	clears []string
}

func (s *store) loop() {
	defer close(s.closed)
	var batch []*op
	for o := range s.ops {
		batch = append(batch[:0], o)
	drain:
		for len(batch) < 4096 {
			select {
			case o2, ok := <-s.ops:
				if !ok {
					break drain
				}
				batch = append(batch, o2)
			default:
				break drain
			}
		}
		// group commit: a batch nobody waits for collects more work for a
		// moment, so a busy execution is not synced transition by transition
		if !waited(batch) {
			timer := time.NewTimer(groupWindow)
		collect:
			for len(batch) < 8192 {
				select {
				case o2, ok := <-s.ops:
					if !ok {
						break collect
					}
					batch = append(batch, o2)
					if o2.done != nil {
						break collect
					}
				case <-timer.C:
					break collect
				}
			}
			timer.Stop()
		}
		err := s.apply(batch)
		if err != nil {
			clear(s.stored) // rolled back
			slog.Error("state store commit failed", "ops", len(batch), "error", err)
		}
		for _, o := range batch {
			if o.done != nil {
				o.done <- err
				close(o.done)
			}
			if o.after != nil {
				o.after()
			}
		}
	}
}

func waited(batch []*op) bool {
	for _, o := range batch {
		if o.done != nil {
			return true
		}
	}
	return false
}

func (s *store) apply(batch []*op) error {
	tx, err := s.w.Begin()
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	accs := map[int64]*execAcc{}
	var order []int64
	for _, o := range batch {
		if o.fn != nil {
			if err := o.fn(s, tx); err != nil {
				// a failed generic op fails only itself
				if o.done != nil {
					o.done <- err
					close(o.done)
					o.done = nil
				}
				continue
			}
		}
		if o.exec == 0 {
			continue
		}
		a := accs[o.exec]
		if a == nil {
			a = &execAcc{events: make([]*HistoryEvent, 0, 2*len(batch))}
			accs[o.exec] = a
			order = append(order, o.exec)
		}
		a.events = append(a.events, o.events...)
		if o.cp != nil {
			a.cp = o.cp
		}
		if o.total > a.total {
			a.total = o.total
		}
		if o.final != nil {
			a.final = o.final
		}
		if o.clear != "" {
			for k := range a.frames {
				if strings.HasPrefix(k, o.clear) {
					delete(a.frames, k)
				}
			}
			a.clears = append(a.clears, o.clear)
		}
		if o.fcp != nil {
			if a.frames == nil {
				a.frames = map[string]*checkpoint{}
			}
			a.frames[o.frame] = o.fcp
		}
	}
	buf := s.buf[:0]
	defer func() { s.buf = buf[:0] }()
	for _, id := range order {
		a := accs[id]
		if len(a.events) > 0 {
			buf = buf[:0]
			for i := range a.events {
				var err error
				if buf, err = appendEvent(buf, a.events[i]); err != nil {
					return err
				}
			}
			if _, err := tx.Stmt(s.insertHistory).Exec(
				id, a.events[0].ID, a.events[len(a.events)-1].ID, buf); err != nil {
				return fmt.Errorf("insert history: %w", err)
			}
		}
		if a.cp != nil {
			b, err := json.Marshal(a.cp)
			if err != nil {
				return fmt.Errorf("encode checkpoint: %w", err)
			}
			if _, err := tx.Stmt(s.updateCheckpoint).Exec(b, a.total, id); err != nil {
				return fmt.Errorf("update checkpoint: %w", err)
			}
		} else if a.total > 0 {
			if _, err := tx.Stmt(s.updateEvents).Exec(a.total, id); err != nil {
				return fmt.Errorf("update events: %w", err)
			}
		}
		for _, prefix := range a.clears {
			if _, err := tx.Exec(`DELETE FROM frames WHERE exec_id = ? AND substr(key, 1, ?) = ?`, id, len(prefix), prefix); err != nil {
				return fmt.Errorf("clear frames: %w", err)
			}
		}
		for k, fcp := range a.frames {
			b, err := json.Marshal(fcp)
			if err != nil {
				return fmt.Errorf("encode frame checkpoint: %w", err)
			}
			if _, err := tx.Exec(`INSERT OR REPLACE INTO frames(exec_id, key, checkpoint) VALUES (?,?,?)`, id, k, b); err != nil {
				return fmt.Errorf("save frame: %w", err)
			}
		}
		if f := a.final; f != nil {
			if _, err := tx.Exec(`DELETE FROM frames WHERE exec_id = ?`, id); err != nil {
				return fmt.Errorf("clear frames: %w", err)
			}
			if _, err := tx.Exec(`UPDATE executions SET status = ?, stop = ?, output = ?, error = ?, cause = ? WHERE id = ?`,
				f.status, f.stop, nullStr(f.output, f.hasOutput), nullStr(f.errName, f.hasError), nullStr(f.cause, f.hasError), id); err != nil {
				return fmt.Errorf("update status: %w", err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func nullStr(s string, ok bool) any {
	if !ok {
		return nil
	}
	return s
}

// readHistory returns every event of an execution in order.
func (s *store) readHistory(ctx context.Context, id int64) ([]HistoryEvent, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT data FROM history WHERE exec_id = ? ORDER BY first`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []HistoryEvent
	seen := map[int64]bool{}
	for rows.Next() {
		var data []byte
		if err := rows.Scan(&data); err != nil {
			return nil, err
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		for {
			var ev HistoryEvent
			if err := dec.Decode(&ev); err != nil {
				if errors.Is(err, io.EOF) {
					break
				}
				return nil, fmt.Errorf("decode history: %w", err)
			}
			if !seen[ev.ID] {
				seen[ev.ID] = true
				out = append(out, ev)
			}
		}
	}
	return out, rows.Err()
}

// appendEvent appends the JSON of one event. The frequent shapes (state
// entered/exited, events without details) are written by hand; the rest go
// through encoding/json.
func appendEvent(b []byte, ev *HistoryEvent) ([]byte, error) {
	hot := ev.StateEnteredEventDetails != nil || ev.StateExitedEventDetails != nil
	if !hot {
		c := *ev
		c.StateEnteredEventDetails, c.StateExitedEventDetails = nil, nil
		if c != (HistoryEvent{Timestamp: c.Timestamp, Type: c.Type, ID: c.ID, PreviousEventID: c.PreviousEventID, ExecutionArn: c.ExecutionArn}) {
			j, err := json.Marshal(ev)
			if err != nil {
				return nil, err
			}
			return append(append(b, j...), '\n'), nil
		}
	}
	b = append(b, `{"timestamp":`...)
	b = strconv.AppendFloat(b, float64(ev.Timestamp.UnixMilli())/1000, 'f', 3, 64)
	b = append(b, `,"type":`...)
	b = jsonvalue.AppendString(b, ev.Type)
	b = append(b, `,"id":`...)
	b = strconv.AppendInt(b, ev.ID, 10)
	b = append(b, `,"previousEventId":`...)
	b = strconv.AppendInt(b, ev.PreviousEventID, 10)
	if d := ev.StateEnteredEventDetails; d != nil {
		b = append(b, `,"stateEnteredEventDetails":{"name":`...)
		b = jsonvalue.AppendString(b, d.Name)
		b = append(b, `,"input":`...)
		b = jsonvalue.AppendString(b, d.Input)
		b = append(b, `,"inputDetails":{"truncated":false}}`...)
	}
	if d := ev.StateExitedEventDetails; d != nil {
		b = append(b, `,"stateExitedEventDetails":{"name":`...)
		b = jsonvalue.AppendString(b, d.Name)
		b = append(b, `,"output":`...)
		b = jsonvalue.AppendString(b, d.Output)
		b = append(b, `,"outputDetails":{"truncated":false}}`...)
	}
	return append(b, "}\n"...), nil
}

// groupWindow is how long a batch nobody waits for collects more work.
var groupWindow = 2 * time.Millisecond
