package run

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// logRuns returns Runs reading the log file at path for every build.
func logRuns(path string) *Runs {
	return &Runs{Logs: FileLogs{Path: func(group, stream string) (string, error) {
		if stream == "missing" {
			return "", fs.ErrNotExist
		}
		return path, nil
	}}}
}

func writeLog(t testing.TB, lines int, tail string) string {
	t.Helper()
	var b strings.Builder
	for i := 1; i <= lines; i++ {
		fmt.Fprintf(&b, "line %d\n", i)
	}
	b.WriteString(tail)
	p := filepath.Join(t.TempDir(), "build.log")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLogPages(t *testing.T) {
	rs := logRuns(writeLog(t, 10, "partial"))
	b := &Build{ID: "p:1", LogGroup: "/aws/codebuild/p", LogStream: "1"}
	ctx := context.Background()
	tail, err := rs.Log(ctx, b, "", 4)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"line 7", "line 8", "line 9", "line 10"}, tail.Lines); diff != "" {
		t.Errorf("tail (-want +got):\n%s", diff)
	}
	var all []string
	page := tail
	for page.Earlier != "" {
		if page, err = rs.Log(ctx, b, page.Earlier, 4); err != nil {
			t.Fatal(err)
		}
		all = append(page.Lines, all...)
	}
	if len(all) != 6 || all[0] != "line 1" || all[5] != "line 6" {
		t.Errorf("earlier lines %q", all)
	}
	// Following from the tail's Later token: the partial line, once done.
	later, err := rs.Log(ctx, b, tail.Later, 100)
	if err != nil || len(later.Lines) != 0 {
		t.Fatalf("later = %+v, %v", later, err)
	}
	for _, tok := range []string{"x/1", "b/-1", "f/zz", "junk"} {
		if _, err := rs.Log(ctx, b, tok, 4); err == nil {
			t.Errorf("token %q accepted", tok)
		}
	}
	if _, err := rs.Log(ctx, &Build{ID: "m", LogGroup: "g", LogStream: "missing"}, "", 4); err == nil {
		t.Error("missing stream read")
	}
}

// BenchmarkLogTail reads the last 200 lines of a 100,000-line log (the
// run page's first view of a build).
func BenchmarkLogTail(b *testing.B) {
	rs := logRuns(writeLog(b, 100000, ""))
	bd := &Build{ID: "p:1", LogGroup: "/aws/codebuild/p", LogStream: "1"}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		p, err := rs.Log(ctx, bd, "", TailLines)
		if err != nil || len(p.Lines) != TailLines {
			b.Fatal(err)
		}
	}
}

// FuzzFileLogs: any token and limit a page passes on reads whole lines of
// the file, or is refused; never a panic.
func FuzzFileLogs(f *testing.F) {
	for _, s := range []string{"", "b/0", "f/0", "b/7", "f/13", "b/999999", "f/-1", "x/1", "b/", "f/1e3"} {
		f.Add(s, int32(3))
	}
	f.Fuzz(func(t *testing.T, token string, limit int32) {
		p := filepath.Join(t.TempDir(), "build.log")
		content := "one\ntwo\nthree\nfour\nfive\npartial"
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		rs := logRuns(p)
		page, err := rs.Log(context.Background(), &Build{ID: "p:1", LogGroup: "g", LogStream: "1"}, token, int(limit))
		if err != nil {
			return
		}
		for _, l := range page.Lines {
			if !strings.Contains(content, l+"\n") {
				t.Fatalf("token %q limit %d: line %q is not a whole line of the log", token, limit, l)
			}
		}
	})
}
