package stack

import (
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3afero"
	"github.com/spf13/afero"
)

// objects is the local S3: gofakes3 over a folder of the data dir, served
// on the AWS endpoint and used in process by the CodeBuild runner.
type objects struct {
	backend gofakes3.Backend
	server  http.Handler
}

func openObjects(dir string, buckets ...string) (*objects, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	meta := filepath.Join(dir, ".meta")
	if err := os.MkdirAll(meta, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", meta, err)
	}
	be, err := s3afero.MultiBucket(
		afero.NewBasePathFs(afero.NewOsFs(), dir),
		s3afero.MultiWithMetaFs(afero.NewBasePathFs(afero.NewOsFs(), meta)),
	)
	if err != nil {
		return nil, fmt.Errorf("open s3 store %s: %w", dir, err)
	}
	for _, b := range buckets {
		ok, err := be.BucketExists(b)
		if err != nil {
			return nil, fmt.Errorf("bucket %s: %w", b, err)
		}
		if !ok {
			if err := be.CreateBucket(b); err != nil {
				return nil, fmt.Errorf("create bucket %s: %w", b, err)
			}
		}
	}
	fake := gofakes3.New(be, gofakes3.WithoutVersioning(), gofakes3.WithLogger(gofakes3.DiscardLog()))
	return &objects{backend: be, server: fake.Server()}, nil
}

// Get reads an object.
func (o *objects) Get(_ context.Context, bucket, key string) (io.ReadCloser, error) {
	obj, err := o.backend.GetObject(bucket, key, nil)
	if err != nil {
		return nil, fmt.Errorf("get s3://%s/%s: %w", bucket, key, err)
	}
	return obj.Contents, nil
}

// Put writes an object.
func (o *objects) Put(_ context.Context, bucket, key string, body io.Reader, size int64) error {
	meta := map[string]string{
		"Last-Modified": time.Now().UTC().Format(http.TimeFormat),
		"Content-Type":  contentType(key),
	}
	if _, err := o.backend.PutObject(bucket, key, meta, body, size, nil); err != nil {
		return fmt.Errorf("put s3://%s/%s: %w", bucket, key, err)
	}
	return nil
}

func contentType(key string) string {
	if t := mime.TypeByExtension(path.Ext(key)); t != "" {
		return t
	}
	return "application/octet-stream"
}
