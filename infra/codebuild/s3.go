package codebuild

import (
	"context"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// S3API is the part of *s3.Client that S3Objects uses.
type S3API interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// S3Objects adapts an S3 client (e.g. an *s3.Client pointed at the local
// stack's endpoint, with path-style addressing) to Objects.
type S3Objects struct {
	Client S3API
}

// Get opens an object.
func (o S3Objects) Get(ctx context.Context, bucket, key string) (io.ReadCloser, error) {
	out, err := o.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return nil, err // the runner adds the context
	}
	return out.Body, nil
}

// Put stores an object of size bytes.
func (o S3Objects) Put(ctx context.Context, bucket, key string, body io.Reader, size int64) error {
	_, err := o.Client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        aws.String(bucket),
		Key:           aws.String(key),
		Body:          body,
		ContentLength: aws.Int64(size),
	})
	return err // the runner adds the context
}
