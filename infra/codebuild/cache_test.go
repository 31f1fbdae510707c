package codebuild

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const cacheSpec = `version: 0.2
phases:
  build:
    commands:
      - echo "before a=$(cat .deps/a.txt 2>/dev/null) b=$(cat .deps/b.txt 2>/dev/null) stash=$(cat $TMPDIR/stash/s.txt 2>/dev/null)"
      - ls -ld .deps/ro 2>/dev/null | cut -c1-10 || true
      - %s
cache:
  paths:
    - '.deps/**/*'
    - $TMPDIR/stash
    - /etc/**/*
`

func TestCache(t *testing.T) {
	h := newHarness(t)
	steps := []struct {
		cmd     string
		status  string
		wantLog []string
	}{
		{"mkdir -p .deps/ro $TMPDIR/stash && echo one > .deps/a.txt && echo s > $TMPDIR/stash/s.txt && echo ro > .deps/ro/f && chmod 555 .deps/ro", StatusSucceeded,
			[]string{"before a= b= stash=", "No cache yet for project Build", "Cache saved: 3 files", "Cache path /etc/**/*: outside the build's folders; not cached"}},
		{"echo two > .deps/b.txt; false", StatusFailed, []string{"before a=one b= stash=s", "Cache restored: 3 files", "\ndr-xr-xr-x\n"}},
		{"true", StatusSucceeded, []string{"before a=one b= stash=s", "Cache restored: 3 files"}}, // the failed build saved nothing
	}
	for i, s := range steps {
		b, log := h.run(strings.Replace(cacheSpec, "%s", s.cmd, 1), nil, nil)
		if b.BuildStatus != s.status {
			t.Errorf("build %d: status %s, want %s", i+1, b.BuildStatus, s.status)
		}
		for _, w := range s.wantLog {
			if !strings.Contains(log, w) {
				t.Errorf("build %d: log lacks %q", i+1, w)
			}
		}
		if strings.Contains(log, "Cache saved") != (s.status == StatusSucceeded) {
			t.Errorf("build %d: saved the cache: %v", i+1, strings.Contains(log, "Cache saved"))
		}
		if t.Failed() {
			t.Fatalf("log:\n%s", log)
		}
		// the read-only folder did not stop the work folder's removal
		if _, err := os.Stat(filepath.Join(h.dir, b.Id, "src")); err == nil {
			t.Errorf("build %d: work folder left behind", i+1)
		}
	}
}

// TestCacheConcurrent runs builds of one project at once, each caching its
// own number in many files; the cache left must be one build's, whole.
func TestCacheConcurrent(t *testing.T) {
	h := newHarness(t)
	spec := `version: 0.2
phases:
  build:
    commands:
      - mkdir -p .deps && for i in $(seq 1 300); do echo "$N" > .deps/f$i; done
cache:
  paths: ['.deps/**/*']
`
	const builds = 4
	var wg sync.WaitGroup
	var mu sync.Mutex
	var ids []string
	for n := range builds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := h.start(spec, nil, func(in *StartBuildInput) {
				in.EnvironmentVariablesOverride = []EnvironmentVariable{{Name: "N", Value: string(rune('a' + n))}}
			})
			mu.Lock()
			ids = append(ids, b.Id)
			mu.Unlock()
		}()
	}
	wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for _, id := range ids {
		b, err := h.r.Wait(ctx, id)
		if err != nil || b.BuildStatus != StatusSucceeded {
			t.Fatalf("build %s: %v %v\n%s", id, b, err, h.log(id))
		}
	}
	f, err := os.Open(h.r.cacheFile("Build"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dir := t.TempDir()
	n, err := untarInto(f, dir, []string{"src/.deps"})
	if err != nil || n != 300 {
		t.Fatalf("cache: %d files, %v", n, err)
	}
	seen := map[string]bool{}
	for i := 1; i <= 300; i++ {
		data, err := os.ReadFile(filepath.Join(dir, "src/.deps", "f"+strconv.Itoa(i)))
		if err != nil {
			t.Fatal(err)
		}
		seen[strings.TrimSpace(string(data))] = true
	}
	if len(seen) != 1 {
		t.Errorf("the cache mixes builds: %v", seen)
	}
	if left, _ := filepath.Glob(filepath.Join(h.r.cacheDir(), "*.tmp-*")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}
