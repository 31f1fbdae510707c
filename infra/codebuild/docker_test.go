package codebuild

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const dockerSpec = "version: 0.2\nphases:\n  install:\n    commands:\n      - echo install-ran\n  build:\n    commands:\n      - docker build -t app .\n"

// TestPrivilegedWithoutEngine: here `docker` is a client without an engine
// (or absent); a privileged build fails in PROVISIONING, saying so.
func TestPrivilegedWithoutEngine(t *testing.T) {
	h := newHarness(t)
	h.r.o.Projects = map[string]Project{"Build": {Privileged: true}}
	if _, err := os.Stat("/var/run/docker.sock"); err == nil {
		t.Fatal("this test expects a machine without a Docker engine; /var/run/docker.sock exists")
	}
	t.Setenv("DOCKER_HOST", "unix://"+filepath.Join(t.TempDir(), "no-engine.sock"))
	b, log := h.run(dockerSpec, nil, nil)
	want := []string{"SUBMITTED SUCCEEDED", "QUEUED SUCCEEDED", "PROVISIONING FAILED CLIENT_ERROR", "FINALIZING SUCCEEDED", "COMPLETED"}
	if diff := cmp.Diff(want, phaseSummary(b)); diff != "" {
		t.Errorf("phases (-want +got):\n%s", diff)
	}
	if msg := b.Phases[2].Contexts[0].Message; !strings.HasPrefix(msg, "privileged mode needs ") {
		t.Errorf("message %q", msg)
	}
	if !b.Environment.PrivilegedMode || strings.Contains(log, "install-ran") {
		t.Errorf("PrivilegedMode %v; log:\n%s", b.Environment.PrivilegedMode, log)
	}
	// PrivilegedModeOverride false turns it off: the build runs (and fails at docker build, or not)
	off := false
	b, log = h.run(dockerSpec, nil, func(in *StartBuildInput) { in.PrivilegedModeOverride = &off })
	if b.Environment.PrivilegedMode || !strings.Contains(log, "install-ran") {
		t.Errorf("override false: PrivilegedMode %v; log:\n%s", b.Environment.PrivilegedMode, log)
	}
}

// TestPrivilegedWithEngine fakes a working engine with a docker command that
// answers `docker info`; the build runs and uses it.
func TestPrivilegedWithEngine(t *testing.T) {
	bin := t.TempDir()
	fake := "#!/bin/sh\nif [ \"$1\" = info ]; then echo 27.0.1-fake; exit 0; fi\necho \"fake docker $*\"\n"
	if err := os.WriteFile(filepath.Join(bin, "docker"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	h := newHarness(t)
	h.r.o.Writable = []string{bin} // visible in the sandbox, whose /tmp is its own
	on := true
	b, log := h.run(dockerSpec, nil, func(in *StartBuildInput) { in.PrivilegedModeOverride = &on })
	if b.BuildStatus != StatusSucceeded || !b.Environment.PrivilegedMode {
		t.Fatalf("status %s privileged %v\n%s", b.BuildStatus, b.Environment.PrivilegedMode, log)
	}
	for _, want := range []string{"Privileged mode: using the host's Docker engine 27.0.1-fake", "\nfake docker build -t app .\n"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
}
