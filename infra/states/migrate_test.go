package states

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestMigrateInlineDefinitions opens a database written before executions
// named their definition in the definitions table: its executions keep
// theirs, new ones share one row per definition.
func TestMigrateInlineDefinitions(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	def := `{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`
	for _, q := range []string{
		`CREATE TABLE executions (id INTEGER PRIMARY KEY, arn TEXT NOT NULL UNIQUE, sm_arn TEXT NOT NULL, name TEXT NOT NULL, status TEXT NOT NULL,
			start REAL NOT NULL, stop REAL, input TEXT NOT NULL, output TEXT, error TEXT, cause TEXT, definition TEXT NOT NULL, role_arn TEXT NOT NULL,
			trace_header TEXT NOT NULL DEFAULT '', checkpoint TEXT, events INTEGER NOT NULL DEFAULT 0, redrive_count INTEGER NOT NULL DEFAULT 0, redrive_date REAL)`,
		`INSERT INTO executions(id, arn, sm_arn, name, status, start, stop, input, output, definition, role_arn)
			VALUES (1, 'arn:aws:states:us-east-1:000000000000:execution:m:old', 'arn:aws:states:us-east-1:000000000000:stateMachine:m', 'old', 'SUCCEEDED', 1, 2, '{}', '{}', '` + def + `', '` + role + `')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	h := newHarness(t, Options{Path: path}, nil)
	sm := h.create("m", def)
	arns := []string{"arn:aws:states:us-east-1:000000000000:execution:m:old", h.start(sm, "new1", `{}`), h.start(sm, "new2", `{}`)}
	for _, arn := range arns {
		h.wait(arn)
		out, err := h.e.DescribeStateMachineForExecution(ctx, DescribeExecutionInput{ExecutionArn: arn})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(def, out.Definition); diff != "" {
			t.Errorf("%s: definition (-want +got):\n%s", arn, diff)
		}
	}
	var n int
	if err := h.e.st.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM definitions`).Scan(&n); err != nil || n != 1 {
		t.Errorf("%d definitions stored (%v), want 1", n, err)
	}
}
