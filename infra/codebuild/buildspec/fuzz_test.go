package buildspec

import (
	"errors"
	"os"
	"testing"
)

// FuzzParse checks Parse never panics, always answers with a spec or an *Error,
// and that a parsed spec is internally consistent.
func FuzzParse(f *testing.F) {
	if data, err := os.ReadFile("testdata/full.yml"); err == nil {
		f.Add(data)
	}
	f.Add([]byte("version: 0.2\nphases:\n  build:\n    commands: [echo hi]\n"))
	f.Add([]byte("version: 0.1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		spec, err := Parse("buildspec.yml", data)
		if err != nil {
			var perr *Error
			if !errors.As(err, &perr) {
				t.Fatalf("error %T is not *Error: %v", err, err)
			}
			if spec != nil {
				t.Fatal("spec and error both set")
			}
			return
		}
		if spec.Version != "0.2" {
			t.Fatalf("version %q accepted", spec.Version)
		}
		for _, p := range spec.Phases {
			if p.OnFailure != "" && p.OnFailure != Abort && p.OnFailure != Continue {
				t.Fatalf("on-failure %q", p.OnFailure)
			}
		}
		if spec.Artifacts != nil && len(spec.Artifacts.Files) == 0 {
			t.Fatal("artifacts without files")
		}
	})
}
