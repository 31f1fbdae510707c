package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/pushline/pushline/shared/source"
)

func TestMain(m *testing.M) {
	if os.Getenv("PUSHLINE_SOURCE_TEST_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestStdin runs main outside Lambda, as the local stack's environment
// would: AWS_ENDPOINT_URL at an S3 emulator, a file:// repository.
func TestStdin(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	dir := t.TempDir()
	work := filepath.Join(dir, "work")
	run := func(args ...string) string {
		cmd := exec.Command("git", args...)
		cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
			"GIT_AUTHOR_NAME=T", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=T", "GIT_COMMITTER_EMAIL=t@example.com")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v: %s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	run("init", "-q", work)
	if err := os.WriteFile(filepath.Join(work, "buildspec.yml"), []byte("version: 0.2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run("-C", work, "add", ".")
	run("-C", work, "commit", "-q", "-m", "init")
	commit := run("-C", work, "rev-parse", "HEAD")

	srv := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
	defer srv.Close()
	client := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
	if _, err := client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String("artifacts")}); err != nil {
		t.Fatal(err)
	}

	req, _ := json.Marshal(map[string]any{
		"pipeline":  "app",
		"execution": "arn:aws:states:us-east-1:000000000000:execution:pushline-app:main-x",
		"push":      map[string]any{"provider": "github", "repository": "acme/app", "cloneUrl": "file://" + work, "after": commit},
	})
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "PUSHLINE_SOURCE_TEST_MAIN=1", "AWS_LAMBDA_RUNTIME_API=",
		"AWS_ENDPOINT_URL="+srv.URL, "AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test",
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "PUSHLINE_ARTIFACT_BUCKET=artifacts")
	cmd.Stdin = bytes.NewReader(req)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("main: %v\n%s", err, stderr.String())
	}
	var art source.Artifact
	if err := json.Unmarshal(out, &art); err != nil {
		t.Fatalf("output %q: %v", out, err)
	}
	want := source.Artifact{Bucket: "artifacts", Key: "app/main-x/source.zip", Location: "artifacts/app/main-x/source.zip", Size: art.Size, Commit: commit}
	if art != want || art.Size == 0 {
		t.Errorf("artifact = %+v, want %+v", art, want)
	}
	if _, err := client.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String("artifacts"), Key: aws.String(art.Key)}); err != nil {
		t.Errorf("source.zip not in the bucket: %v", err)
	}
	if !strings.Contains(stderr.String(), `"msg":"source snapshot done"`) {
		t.Errorf("no JSON progress log on stderr:\n%s", stderr.String())
	}
}
