package codebuild

import (
	"context"
	"os"
	"testing"
	"time"
)

// TestCacheFigure is the cache's figure: a build downloading Go modules
// (GOMODCACHE in cache.paths) run twice, the second against the first. It
// needs the Go module proxy, so it runs only with CODEBUILD_CACHE_FIGURE=1:
//
//	CODEBUILD_CACHE_FIGURE=1 CODEBUILD_TEST_SANDBOX=1 go test -run TestCacheFigure -v ./infra/codebuild/
func TestCacheFigure(t *testing.T) {
	if os.Getenv("CODEBUILD_CACHE_FIGURE") != "1" {
		t.Skip("a measurement that downloads from the Go module proxy: set CODEBUILD_CACHE_FIGURE=1")
	}
	h := newHarness(t)
	spec := `version: 0.2
env:
  variables:
    GOSUMDB: "off"
    GOFLAGS: -mod=mod
phases:
  build:
    commands:
      - export GOMODCACHE="$CODEBUILD_SRC_DIR/.gomodcache" GOCACHE="$TMPDIR/gocache"
      - go mod download -x 2>&1 | grep -c '^# get' || true
      - go list -deps ./... | wc -l
cache:
  paths:
    - '.gomodcache/**/*'
`
	files := map[string]file{
		"go.mod":  {body: "module example.com/sample\n\ngo 1.22\n\nrequire (\n\tgithub.com/google/go-cmp v0.6.0\n\tgolang.org/x/text v0.14.0\n\tgopkg.in/yaml.v3 v3.0.1\n\tgithub.com/google/uuid v1.6.0\n)\n"},
		"main.go": {body: "package main\n\nimport (\n\t_ \"github.com/google/go-cmp/cmp\"\n\t_ \"github.com/google/uuid\"\n\t_ \"golang.org/x/text/language\"\n\t_ \"gopkg.in/yaml.v3\"\n)\n\nfunc main() {}\n"},
	}
	var took [2]float64
	for i := range 2 {
		b := h.start(spec, files, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		b, err := h.r.Wait(ctx, b.Id)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		log := h.log(b.Id)
		if b.BuildStatus != StatusSucceeded {
			t.Fatalf("run %d: %s\n%s", i+1, b.BuildStatus, log)
		}
		took[i] = b.EndTime.Sub(b.StartTime.Time).Seconds()
		t.Logf("run %d: %.2fs (sandboxed: %v)\n%s", i+1, took[i], h.r.Sandboxed(), log)
	}
	t.Logf("FIGURE: Go modules build, first run %.2fs, second run (cache restored) %.2fs: %.1fx", took[0], took[1], took[0]/took[1])
}
