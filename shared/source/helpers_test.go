package source

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-cmp/cmp"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

const testBucket = "artifacts"

// fakeS3 starts gofakes3 (memory backend) behind httptest and returns an
// *s3.Client pointed at it, path-style, with the test bucket created.
func fakeS3(t *testing.T) *s3.Client {
	t.Helper()
	srv := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
	t.Cleanup(srv.Close)
	c := s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
	})
	if _, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(testBucket)}); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	return c
}

// recS3 wraps an S3 and records which calls were made.
type recS3 struct {
	S3
	mu    sync.Mutex
	calls []string
}

func (r *recS3) rec(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, name)
}

func (r *recS3) count(name string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.calls {
		if c == name {
			n++
		}
	}
	return n
}

func (r *recS3) PutObject(ctx context.Context, in *s3.PutObjectInput, o ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	r.rec("PutObject")
	return r.S3.PutObject(ctx, in, o...)
}

func (r *recS3) CreateMultipartUpload(ctx context.Context, in *s3.CreateMultipartUploadInput, o ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error) {
	r.rec("CreateMultipartUpload")
	return r.S3.CreateMultipartUpload(ctx, in, o...)
}

func (r *recS3) UploadPart(ctx context.Context, in *s3.UploadPartInput, o ...func(*s3.Options)) (*s3.UploadPartOutput, error) {
	r.rec("UploadPart")
	return r.S3.UploadPart(ctx, in, o...)
}

func (r *recS3) CompleteMultipartUpload(ctx context.Context, in *s3.CompleteMultipartUploadInput, o ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error) {
	r.rec("CompleteMultipartUpload")
	return r.S3.CompleteMultipartUpload(ctx, in, o...)
}

func (r *recS3) AbortMultipartUpload(ctx context.Context, in *s3.AbortMultipartUploadInput, o ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error) {
	r.rec("AbortMultipartUpload")
	return r.S3.AbortMultipartUpload(ctx, in, o...)
}

// getZip downloads an object and opens it as a zip.
func getZip(t *testing.T, c *s3.Client, key string) *zip.Reader {
	t.Helper()
	out, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(testBucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("open zip %s: %v", key, err)
	}
	return zr
}

// objectExists reports whether the test bucket holds key.
func objectExists(t *testing.T, c *s3.Client, key string) bool {
	t.Helper()
	_, err := c.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(testBucket), Key: aws.String(key)})
	return err == nil
}

// entry is one file of a snapshot: its mode and content (a symlink's
// content is its target).
type entry struct {
	Mode    fs.FileMode
	Content string
}

// zipEntries reads every entry of a zip.
func zipEntries(t *testing.T, zr *zip.Reader) map[string]entry {
	t.Helper()
	got := map[string]entry{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatalf("open %s: %v", f.Name, err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("read %s: %v", f.Name, err)
		}
		if _, dup := got[f.Name]; dup {
			t.Errorf("duplicate zip entry %s", f.Name)
		}
		got[f.Name] = entry{Mode: f.Mode(), Content: string(b)}
	}
	return got
}

// testRepo is a bare repository with two commits.
type testRepo struct {
	bare   string
	first  string // the commit the tests snapshot
	second string
}

// git runs git in dir with an isolated configuration and returns stdout.
func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	cmd.Env = append(os.Environ(),
		"GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=Test", "GIT_AUTHOR_EMAIL=test@example.com",
		"GIT_COMMITTER_NAME=Test", "GIT_COMMITTER_EMAIL=test@example.com",
		"GIT_AUTHOR_DATE=2026-01-02T03:04:05Z", "GIT_COMMITTER_DATE=2026-01-02T03:04:05Z")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

// newRepo builds a bare repository: the first commit holds files in
// subdirectories, an executable, a symlink, a name with a space and a
// binary file; the second changes, adds and removes files.
func newRepo(t *testing.T) testRepo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	root := t.TempDir()
	work := filepath.Join(root, "work")
	write := func(name, content string, mode fs.FileMode) {
		p := filepath.Join(work, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil { // umask-proof
			t.Fatal(err)
		}
	}
	git(t, root, "init", "-q", "-b", "main", work)
	write("README.md", "# app\n", 0o644)
	write("src/main.go", "package main\n\nfunc main() {}\n", 0o644)
	write("src/pkg/deep/data.txt", strings.Repeat("deep data line\n", 500), 0o644)
	write("scripts/build.sh", "#!/bin/sh\necho build\n", 0o755)
	write("with space.txt", "spaced\n", 0o644)
	bin := make([]byte, 100<<10) // incompressible: the zip needs several parts
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range bin {
		bin[i] = byte(rng.Uint32())
	}
	write("assets/blob.bin", string(bin), 0o644)
	if err := os.Symlink("src/main.go", filepath.Join(work, "link")); err != nil {
		t.Fatal(err)
	}
	git(t, work, "add", "-A")
	git(t, work, "commit", "-q", "-m", "first")
	first := strings.TrimSpace(git(t, work, "rev-parse", "HEAD"))
	write("README.md", "# app v2\n", 0o644)
	write("new.txt", "only in the second commit\n", 0o644)
	git(t, work, "rm", "-q", "with space.txt")
	git(t, work, "add", "-A")
	git(t, work, "commit", "-q", "-m", "second")
	second := strings.TrimSpace(git(t, work, "rev-parse", "HEAD"))
	bare := filepath.Join(root, "app.git")
	git(t, root, "clone", "-q", "--bare", work, bare)
	return testRepo{bare: bare, first: first, second: second}
}

// want lists a commit's files from git itself: `git ls-tree -r` for names
// and modes, `git cat-file blob` for contents (a symlink's blob is its
// target).
func (r testRepo) want(t *testing.T, commit string) map[string]entry {
	t.Helper()
	want := map[string]entry{}
	for _, line := range strings.Split(strings.TrimRight(git(t, r.bare, "ls-tree", "-r", "-z", commit), "\x00"), "\x00") {
		meta, name, _ := strings.Cut(line, "\t")
		f := strings.Fields(meta) // mode type object
		var mode fs.FileMode
		switch f[0] {
		case "100644":
			mode = 0o644
		case "100755":
			mode = 0o755
		case "120000":
			mode = fs.ModeSymlink | 0o777
		default:
			t.Fatalf("ls-tree mode %s of %s", f[0], name)
		}
		want[name] = entry{Mode: mode, Content: git(t, r.bare, "cat-file", "blob", f[2])}
	}
	return want
}

// tarGz is `git archive --format=tar.gz --prefix=top/` of a commit: what
// the providers serve.
func (r testRepo) tarGz(t *testing.T, commit, top string) []byte {
	t.Helper()
	return []byte(git(t, r.bare, "archive", "--format=tar.gz", "--prefix="+top+"/", commit))
}

func checkSnapshot(t *testing.T, c *s3.Client, key string, r testRepo, commit string) {
	t.Helper()
	got := zipEntries(t, getZip(t, c, key))
	if diff := cmp.Diff(r.want(t, commit), got); diff != "" {
		t.Errorf("zip differs from git ls-tree/cat-file of %s (-want +got):\n%s", commit, diff)
	}
}

// quietLog discards the handler's log lines but records them.
func quietLog(buf *bytes.Buffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(buf, nil))
}
