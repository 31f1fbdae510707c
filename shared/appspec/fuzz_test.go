package appspec

import (
	"errors"
	"os"
	"testing"
)

// FuzzParse checks Parse never panics, answers a spec or an *Error, and
// that a parsed spec holds what validation promises.
func FuzzParse(f *testing.F) {
	if data, err := os.ReadFile("testdata/full.yml"); err == nil {
		f.Add(data)
	}
	f.Add([]byte("version: 0.0\nos: linux\n"))
	f.Add([]byte("version: 0.0\nos: linux\nhooks:\n  AfterInstall:\n    - location: a\n      timeout: 10\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		spec, err := Parse("appspec.yml", data)
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
		if spec.Version != "0.0" || (spec.OS != Linux && spec.OS != Windows) {
			t.Fatalf("version %q os %q accepted", spec.Version, spec.OS)
		}
		for _, f := range spec.Files {
			if f.Source == "" || f.Destination == "" {
				t.Fatalf("file %+v accepted", f)
			}
		}
		for ev, scripts := range spec.Hooks {
			var total int64
			for _, s := range scripts {
				if s.Location == "" || s.Timeout <= 0 {
					t.Fatalf("%s script %+v accepted", ev, s)
				}
				total += int64(s.Timeout)
			}
			if total > int64(MaxEventTimeout) {
				t.Fatalf("%s: timeouts over the limit accepted", ev)
			}
		}
	})
}
