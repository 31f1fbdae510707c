package codebuild

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

var _ S3API = (*s3.Client)(nil)

type fakeS3 struct {
	t   *testing.T
	got map[string]string
}

func (f *fakeS3) GetObject(ctx context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	v, ok := f.got[aws.ToString(in.Bucket)+"/"+aws.ToString(in.Key)]
	if !ok {
		return nil, errors.New("NoSuchKey")
	}
	return &s3.GetObjectOutput{Body: io.NopCloser(strings.NewReader(v))}, nil
}

func (f *fakeS3) PutObject(ctx context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	data, _ := io.ReadAll(in.Body)
	if aws.ToInt64(in.ContentLength) != int64(len(data)) {
		f.t.Errorf("content length %d for %d bytes", aws.ToInt64(in.ContentLength), len(data))
	}
	f.got[aws.ToString(in.Bucket)+"/"+aws.ToString(in.Key)] = string(data)
	return &s3.PutObjectOutput{}, nil
}

func TestS3Objects(t *testing.T) {
	f := &fakeS3{t: t, got: map[string]string{}}
	o := S3Objects{Client: f}
	ctx := context.Background()
	if err := o.Put(ctx, "b", "k/x", bytes.NewReader([]byte("data")), 4); err != nil {
		t.Fatal(err)
	}
	rc, err := o.Get(ctx, "b", "k/x")
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(rc)
	if string(data) != "data" {
		t.Errorf("got %q", data)
	}
	if _, err := o.Get(ctx, "b", "nope"); err == nil || err.Error() != "NoSuchKey" {
		t.Errorf("error %v", err)
	}
}
