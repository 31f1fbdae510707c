package states

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/google/go-cmp/cmp"
)

// conformanceCase is one testdata/conformance/*.json file.
type conformanceCase struct {
	Source     string          `json:"source"`
	Definition json.RawMessage `json:"definition"`
	Input      json.RawMessage `json:"input"`
	Output     json.RawMessage `json:"output"`
	Error      string          `json:"error"`
	// Cause, if set, is the exact cause of Error.
	Cause string `json:"cause"`
	// Events, if set, counts history events by type (only the types listed).
	Events map[string]int `json:"events"`
}

// conformanceIntegrations are the test resources the cases use:
// test:echo returns its parameters, test:fail fails with the parameters'
// Error and Cause, test:sleep blocks until cancelled, test:big returns
// 300 KB.
func conformanceIntegrations(e *Engine) {
	e.Register("arn:aws:states:::test:echo", IntegrationFunc(func(ctx context.Context, t Task) (json.RawMessage, error) {
		return t.Parameters, nil
	}))
	e.Register("arn:aws:states:::test:fail", IntegrationFunc(func(ctx context.Context, t Task) (json.RawMessage, error) {
		var p struct{ Error, Cause string }
		json.Unmarshal(t.Parameters, &p)
		return nil, &TaskError{Name: p.Error, Cause: p.Cause}
	}))
	e.Register("arn:aws:states:::test:sleep", IntegrationFunc(func(ctx context.Context, t Task) (json.RawMessage, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}))
	e.Register("arn:aws:states:::test:big", IntegrationFunc(func(ctx context.Context, t Task) (json.RawMessage, error) {
		return json.Marshal(strings.Repeat("x", 300*1024))
	}))
}

func TestConformance(t *testing.T) {
	files, err := filepath.Glob("testdata/conformance/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no conformance cases: %v", err)
	}
	h := newHarness(t, Options{Path: filepath.Join(t.TempDir(), "c.db")}, conformanceIntegrations)
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var c conformanceCase
			if err := json.Unmarshal(b, &c); err != nil {
				t.Fatal(err)
			}
			if c.Source == "" {
				t.Fatal("case without a source")
			}
			hh := &harness{t: t, e: h.e, sfn: h.sfn}
			sm := hh.create("conformance-"+name, string(c.Definition))
			arn := hh.start(sm, "", string(c.Input))
			d := hh.wait(arn)
			if c.Events != nil {
				got := map[string]int{}
				for _, ev := range hh.history(arn) {
					if _, ok := c.Events[string(ev.Type)]; ok {
						got[string(ev.Type)]++
					}
				}
				if diff := cmp.Diff(c.Events, got); diff != "" {
					t.Errorf("event counts (-want +got):\n%s(source: %s)", diff, c.Source)
				}
			}
			if c.Error != "" {
				if d.Status != sfntypes.ExecutionStatusFailed || aws.ToString(d.Error) != c.Error {
					t.Fatalf("status %s error %q cause %q, want FAILED %q (source: %s)", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause), c.Error, c.Source)
				}
				if c.Cause != "" && aws.ToString(d.Cause) != c.Cause {
					t.Fatalf("cause %q, want %q (source: %s)", aws.ToString(d.Cause), c.Cause, c.Source)
				}
				return
			}
			if d.Status != sfntypes.ExecutionStatusSucceeded {
				t.Fatalf("status %s error %q cause %q (source: %s)", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause), c.Source)
			}
			jsonEqual(t, string(c.Output), aws.ToString(d.Output))
		})
	}
}
