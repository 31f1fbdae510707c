package codebuild

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// requireBwrap fails (never skips) when bubblewrap cannot sandbox builds here.
func requireBwrap(t *testing.T) string {
	t.Helper()
	path, err := FindBwrap()
	if err != nil {
		t.Fatalf("the sandbox tests need bubblewrap: %v", err)
	}
	return path
}

// TestSandboxConfinement lays out a stack's data dir (states.db, the webhook
// secret, the approval key, the outbox, a secrets file, another build's
// folder) and checks a sandboxed build sees none of it, but its own folder,
// its inputs, a private /tmp, a writable HOME and the host read-only.
func TestSandboxConfinement(t *testing.T) {
	bwrap := requireBwrap(t)
	// the data dir sits inside a writable folder (a deploy target holding
	// it, say): hiding must still win
	writable := t.TempDir()
	data := filepath.Join(writable, "data")
	secrets := filepath.Join(t.TempDir(), "secrets.json")
	files := map[string]string{
		"states.db":      "SQLite format 3",
		"webhook-secret": "0123456789abcdef-webhook",
		"approval-key":   "fedcba9876543210-signing",
		"outbox/1.eml":   "Subject: approve",
		"events.jsonl":   "{}",
	}
	for name, body := range files {
		p := filepath.Join(data, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(secrets, []byte(`{"prod/db": "hunter2"}`), 0o600)
	pkgDir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}

	h := &harness{t: t, objects: newMemObjects(t), dir: filepath.Join(data, "builds"), console: &syncBuffer{}}
	h.r = New(Options{Dir: h.dir, Objects: h.objects, Log: h.console, Bwrap: bwrap, Hide: []string{data, secrets}, Writable: []string{writable}, KeepWorkDirs: true})
	t.Cleanup(func() { h.r.Close() })
	if !h.r.Sandboxed() {
		t.Fatal("Sandboxed() is false with Bwrap set")
	}

	// another build, whose folder (record, log, kept work dir) must stay out of reach
	other, log := h.run("version: 0.2\nphases:\n  build:\n    commands:\n      - echo other-secret > mine.txt\n      - echo private > /tmp/left-in-tmp\n", nil, nil)
	if other.BuildStatus != StatusSucceeded {
		t.Fatalf("first build %s\n%s", other.BuildStatus, log)
	}
	otherDir := filepath.Join(h.dir, other.Id)
	if _, err := os.Stat(filepath.Join(otherDir, "src", "mine.txt")); err != nil {
		t.Fatalf("the first build's file is not on the host: %v", err)
	}
	if _, err := os.Stat("/tmp/left-in-tmp"); err == nil {
		t.Errorf("the build's /tmp is the host's")
	}

	checks := []struct{ name, cmd string }{
		{"states.db", `test ! -e "$DATA/states.db"`},
		{"webhook secret", `! cat "$DATA/webhook-secret"`},
		{"signing key", `! cat "$DATA/approval-key"`},
		{"outbox", `test ! -e "$DATA/outbox"`},
		{"events", `test ! -e "$DATA/events.jsonl"`},
		{"secrets file", `test "$(cat "$SECRETS")" = ""`},
		{"other build's folder", `test ! -e "$OTHER"`},
		{"other build's log", `! cat "$OTHER/build.log"`},
		{"only its own build is listed", `test "$(ls "$DATA/builds")" = "$(basename "$(dirname "$CODEBUILD_SRC_DIR")")"`},
		{"runner's process", `test ! -e "/proc/$RUNNER_PID/environ"`},
		{"no data dir secret anywhere it can search", `! grep -rqs -- "abcdef-webho[o]k" "$DATA" /tmp "$HOME" "$(dirname "$DATA")"`},
		{"host read-only", `! touch /usr/pushline-sandbox-test 2>/dev/null && ! touch "$PKGDIR/sandbox-escaped" 2>/dev/null`},
		{"no capabilities", `grep -q '^CapEff:[[:space:]]*0*$' /proc/self/status`},
		{"private /tmp", `test ! -e /tmp/left-in-tmp && echo t > /tmp/mine && test -s /tmp/mine`},
		{"own folder writable", `echo ok > here.txt && test -s here.txt && echo ok > "$TMPDIR/x"`},
		{"writable HOME", `mkdir -p "$HOME/.cache" && echo ok > "$HOME/.cache/x"`},
		{"Writable path", `echo deployed > "$TARGET/app.txt"`},
		{"inputs", `test "$(cat "$CODEBUILD_SRC_DIR_Build/dist.txt")" = built`},
		{"host tools", `sh -c 'echo tools' && ls /usr/bin >/dev/null`},
	}
	var spec strings.Builder
	spec.WriteString("version: 0.2\nphases:\n  build:\n    on-failure: CONTINUE\n    commands:\n      - echo start\n  post_build:\n    commands:\n")
	for _, c := range checks {
		// each check prints its verdict; none stops the others
		spec.WriteString("      - |\n        if " + c.cmd + "; then echo \"PASS " + c.name + "\"; else echo \"FAIL " + c.name + "\"; fi\n")
	}
	z := makeZip(t, map[string]file{"dist.txt": {body: "built"}})
	h.objects.Put(context.Background(), "art", "app/exec1/Build.zip", strings.NewReader(string(z)), int64(len(z)))
	b, log := h.run(spec.String(), nil, func(in *StartBuildInput) {
		in.EnvironmentVariablesOverride = []EnvironmentVariable{
			{Name: "DATA", Value: data}, {Name: "SECRETS", Value: secrets}, {Name: "OTHER", Value: otherDir},
			{Name: "RUNNER_PID", Value: strconv.Itoa(os.Getpid())}, {Name: "TARGET", Value: writable}, {Name: "PKGDIR", Value: pkgDir},
		}
		in.SecondarySourcesOverride = []Source{{SourceIdentifier: "Build", Type: "S3", Location: "art/app/exec1/Build.zip"}}
	})
	if b.BuildStatus != StatusSucceeded {
		t.Errorf("status %s", b.BuildStatus)
	}
	for _, c := range checks {
		if !strings.Contains(log, "\nPASS "+c.name+"\n") {
			t.Errorf("sandbox check %q failed", c.name)
		}
	}
	if got, err := os.ReadFile(filepath.Join(writable, "app.txt")); err != nil || string(got) != "deployed\n" {
		t.Errorf("Writable path on the host: %q %v", got, err)
	}
	if t.Failed() {
		t.Logf("log:\n%s", log)
	}
}

// TestSandboxCorpus runs this package's build tests again with every build in
// the sandbox (CODEBUILD_TEST_SANDBOX=1).
func TestSandboxCorpus(t *testing.T) {
	requireBwrap(t)
	if os.Getenv("CODEBUILD_TEST_SANDBOX") == "1" {
		return // already the sandboxed run
	}
	cmd := exec.Command(os.Args[0], "-test.count=1", "-test.skip=^(TestSandbox|Fuzz|Example)")
	cmd.Env = append(os.Environ(), "CODEBUILD_TEST_SANDBOX=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the build tests fail inside the sandbox: %v\n%s", err, out)
	}
}

func TestUntrustedRefusedWithoutSandbox(t *testing.T) {
	dir := t.TempDir()
	r := New(Options{Dir: dir, Objects: newMemObjects(t)})
	defer r.Close()
	_, err := r.StartBuild(context.Background(), StartBuildInput{ProjectName: "Build", SourceLocationOverride: "art/x.zip", Untrusted: true})
	if err == nil || !strings.Contains(err.Error(), ErrNoSandbox.Error()) {
		t.Errorf("err %v, want ErrNoSandbox", err)
	}
}

// TestSandboxNetwork: by default a sandboxed build shares the host's network,
// so it reaches a host's loopback endpoint (as the local stack's AWS endpoint
// is); with NoNetwork, or when the build is untrusted, it reaches nothing.
func TestSandboxNetwork(t *testing.T) {
	bwrap := requireBwrap(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("hello from the host\n"))
			c.Close()
		}
	}()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	spec := "version: 0.2\nphases:\n  build:\n    commands:\n      - 'if exec 5<>/dev/tcp/127.0.0.1/" + port + "; then head -1 <&5; else echo unreachable; fi'\n"
	for _, tt := range []struct {
		noNetwork, untrusted bool
		want                 string
	}{{false, false, "\nhello from the host\n"}, {true, false, "\nunreachable\n"}, {false, true, "\nunreachable\n"}} {
		h := newHarness(t)
		h.r.o.Bwrap, h.r.o.NoNetwork = bwrap, tt.noNetwork
		b, log := h.run(spec, nil, func(in *StartBuildInput) { in.Untrusted = tt.untrusted })
		if b.BuildStatus != StatusSucceeded || !strings.Contains(log, tt.want) {
			t.Errorf("NoNetwork %v, Untrusted %v: %s, log lacks %q:\n%s", tt.noNetwork, tt.untrusted, b.BuildStatus, tt.want, log)
		}
	}
}
