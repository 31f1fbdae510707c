package codebuild

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// memObjects is an in-memory Objects.
type memObjects struct {
	t  *testing.T
	mu sync.Mutex
	m  map[string][]byte
}

func newMemObjects(t *testing.T) *memObjects {
	return &memObjects{t: t, m: map[string][]byte{}}
}

func (o *memObjects) Get(ctx context.Context, bucket, key string) (io.ReadCloser, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	data, ok := o.m[bucket+"/"+key]
	if !ok {
		return nil, fmt.Errorf("NoSuchKey: %s/%s", bucket, key)
	}
	return io.NopCloser(bytes.NewReader(data)), nil
}

func (o *memObjects) Put(ctx context.Context, bucket, key string, body io.Reader, size int64) error {
	data, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	if int64(len(data)) != size {
		o.t.Errorf("Put %s/%s: size %d, body %d bytes", bucket, key, size, len(data))
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.m[bucket+"/"+key] = data
	return nil
}

func (o *memObjects) get(t *testing.T, key string) []byte {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	data, ok := o.m[key]
	if !ok {
		keys := make([]string, 0, len(o.m))
		for k := range o.m {
			keys = append(keys, k)
		}
		t.Fatalf("object %s missing; have %v", key, keys)
	}
	return data
}

// file is one source file for makeZip.
type file struct {
	body string
	mode os.FileMode
}

func makeZip(t testing.TB, files map[string]file) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		f := files[n]
		hdr := &zip.FileHeader{Name: n, Method: zip.Deflate}
		mode := f.mode
		if mode == 0 {
			mode = 0o644
		}
		hdr.SetMode(mode)
		w, err := zw.CreateHeader(hdr)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, f.body)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// zipListing lists a zip's entries as "name mode body".
func zipListing(t *testing.T, data []byte) []string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(rc)
		rc.Close()
		out = append(out, fmt.Sprintf("%s %v %s", f.Name, f.Mode().Perm(), strings.TrimSpace(string(body))))
	}
	sort.Strings(out)
	return out
}

type harness struct {
	t       *testing.T
	r       *Runner
	objects *memObjects
	dir     string
	console *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{t: t, objects: newMemObjects(t), dir: t.TempDir(), console: &syncBuffer{}}
	h.r = New(Options{Dir: h.dir, Objects: h.objects, Log: h.console, LogsBaseURL: "http://127.0.0.1:8080/builds/", Bwrap: testBwrap(t)})
	t.Cleanup(func() { h.r.Close() })
	return h
}

// testBwrap is the sandbox the harness runs builds in: none, unless
// CODEBUILD_TEST_SANDBOX=1 (TestSandboxCorpus runs the tests again so), where
// a missing or broken bubblewrap fails the test.
func testBwrap(t testing.TB) string {
	if os.Getenv("CODEBUILD_TEST_SANDBOX") != "1" {
		return ""
	}
	path, err := FindBwrap()
	if err != nil {
		t.Fatalf("CODEBUILD_TEST_SANDBOX=1: %v", err)
	}
	return path
}

// run uploads a source with the buildspec and files, runs a build and waits for it.
func (h *harness) run(spec string, files map[string]file, mod func(*StartBuildInput)) (*Build, string) {
	h.t.Helper()
	b := h.start(spec, files, mod)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	got, err := h.r.Wait(ctx, b.Id)
	if err != nil {
		h.t.Fatal(err)
	}
	return got, h.log(got.Id)
}

func (h *harness) start(spec string, files map[string]file, mod func(*StartBuildInput)) *Build {
	h.t.Helper()
	all := map[string]file{"buildspec.yml": {body: spec}}
	for k, v := range files {
		all[k] = v
	}
	zip := makeZip(h.t, all)
	h.objects.Put(context.Background(), "art", "app/exec1/source.zip", bytes.NewReader(zip), int64(len(zip)))
	in := StartBuildInput{
		ProjectName:            "Build",
		SourceTypeOverride:     "S3",
		SourceLocationOverride: "art/app/exec1/source.zip",
		ArtifactsOverride:      &ArtifactsOverride{Type: "S3", Location: "art", Path: "app/exec1", Name: "Build.zip", Packaging: "ZIP", NamespaceType: "NONE"},
	}
	if mod != nil {
		mod(&in)
	}
	b, err := h.r.StartBuild(context.Background(), in)
	if err != nil {
		h.t.Fatal(err)
	}
	return b
}

func (h *harness) log(id string) string {
	h.t.Helper()
	p, err := h.r.LogPath(id)
	if err != nil {
		h.t.Fatal(err)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		h.t.Fatal(err)
	}
	return string(data)
}

// phaseSummary lists "TYPE STATUS [code]" for each phase.
func phaseSummary(b *Build) []string {
	var out []string
	for _, p := range b.Phases {
		s := p.PhaseType
		if p.PhaseStatus != "" {
			s += " " + p.PhaseStatus
		}
		for _, c := range p.Contexts {
			if c.StatusCode != "" {
				s += " " + c.StatusCode
			}
		}
		out = append(out, s)
	}
	return out
}

var allOK = []string{
	"SUBMITTED SUCCEEDED", "QUEUED SUCCEEDED", "PROVISIONING SUCCEEDED", "DOWNLOAD_SOURCE SUCCEEDED",
	"INSTALL SUCCEEDED", "PRE_BUILD SUCCEEDED", "BUILD SUCCEEDED", "POST_BUILD SUCCEEDED",
	"UPLOAD_ARTIFACTS SUCCEEDED", "FINALIZING SUCCEEDED", "COMPLETED",
}

func TestSmoke(t *testing.T) {
	h := newHarness(t)
	b, log := h.run("version: 0.2\nphases:\n  build:\n    commands:\n      - echo hi\n", nil, nil)
	t.Logf("log:\n%s\nconsole:\n%s", log, h.console.String())
	if diff := cmp.Diff(allOK, phaseSummary(b)); diff != "" {
		t.Errorf("phases (-want +got):\n%s", diff)
	}
	if b.BuildStatus != StatusSucceeded || !b.BuildComplete {
		t.Errorf("status %s complete %v", b.BuildStatus, b.BuildComplete)
	}
	_ = filepath.Join
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
