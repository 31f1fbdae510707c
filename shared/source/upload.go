package source

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// S3 is the part of the S3 API the source step calls; *s3.Client satisfies
// it.
type S3 interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	CreateMultipartUpload(ctx context.Context, in *s3.CreateMultipartUploadInput, opts ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error)
	UploadPart(ctx context.Context, in *s3.UploadPartInput, opts ...func(*s3.Options)) (*s3.UploadPartOutput, error)
	CompleteMultipartUpload(ctx context.Context, in *s3.CompleteMultipartUploadInput, opts ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error)
	AbortMultipartUpload(ctx context.Context, in *s3.AbortMultipartUploadInput, opts ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error)
}

// DefaultPartSize is the multipart part size: also the memory the upload
// holds. 8 MiB × 10,000 parts (S3's limit) caps a zip at 78 GiB.
const DefaultPartSize = 8 << 20

const maxParts = 10000

// uploader is an io.Writer that streams into one S3 object: it buffers one
// part, uploads it when full (starting a multipart upload on the first), and
// on Close uploads the rest (a single PutObject when the whole object fits in
// one part). Errors are sticky; Abort cleans up a started upload.
type uploader struct {
	ctx      context.Context
	s3       S3
	bucket   string
	key      string
	buf      []byte
	uploadID string
	parts    []types.CompletedPart
	size     int64
	err      error
}

func newUploader(ctx context.Context, c S3, bucket, key string, partSize int) *uploader {
	if partSize <= 0 {
		partSize = DefaultPartSize
	}
	return &uploader{ctx: ctx, s3: c, bucket: bucket, key: key, buf: make([]byte, 0, partSize)}
}

func (u *uploader) Write(p []byte) (int, error) {
	if u.err != nil {
		return 0, u.err
	}
	n := 0
	for len(p) > 0 {
		k := copy(u.buf[len(u.buf):cap(u.buf)], p)
		u.buf = u.buf[:len(u.buf)+k]
		p = p[k:]
		n += k
		if len(u.buf) == cap(u.buf) {
			if err := u.flush(); err != nil {
				u.err = err
				return n, err
			}
		}
	}
	return n, nil
}

func (u *uploader) flush() error {
	if u.uploadID == "" {
		out, err := u.s3.CreateMultipartUpload(u.ctx, &s3.CreateMultipartUploadInput{
			Bucket:            aws.String(u.bucket),
			Key:               aws.String(u.key),
			ContentType:       aws.String("application/zip"),
			ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
		})
		if err != nil {
			return fmt.Errorf("create multipart upload: %w", err)
		}
		u.uploadID = aws.ToString(out.UploadId)
	}
	if len(u.parts) == maxParts {
		return fmt.Errorf("part %d: %w (S3 allows %d parts of %d bytes)", maxParts+1, ErrTooLarge, maxParts, cap(u.buf))
	}
	num := int32(len(u.parts) + 1)
	out, err := u.s3.UploadPart(u.ctx, &s3.UploadPartInput{
		Bucket:            aws.String(u.bucket),
		Key:               aws.String(u.key),
		UploadId:          aws.String(u.uploadID),
		PartNumber:        aws.Int32(num),
		Body:              bytes.NewReader(u.buf),
		ContentLength:     aws.Int64(int64(len(u.buf))),
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
	})
	if err != nil {
		return fmt.Errorf("upload part %d: %w", num, err)
	}
	u.parts = append(u.parts, types.CompletedPart{
		ETag:          out.ETag,
		PartNumber:    aws.Int32(num),
		ChecksumCRC32: out.ChecksumCRC32,
	})
	u.size += int64(len(u.buf))
	u.buf = u.buf[:0]
	return nil
}

// Close finishes the object and returns its size.
func (u *uploader) Close() (int64, error) {
	if u.err != nil {
		return 0, u.err
	}
	if u.uploadID == "" {
		_, err := u.s3.PutObject(u.ctx, &s3.PutObjectInput{
			Bucket:        aws.String(u.bucket),
			Key:           aws.String(u.key),
			Body:          bytes.NewReader(u.buf),
			ContentLength: aws.Int64(int64(len(u.buf))),
			ContentType:   aws.String("application/zip"),
		})
		if err != nil {
			u.err = fmt.Errorf("put object: %w", err)
			return 0, u.err
		}
		return int64(len(u.buf)), nil
	}
	if len(u.buf) > 0 {
		if err := u.flush(); err != nil {
			u.err = err
			return 0, err
		}
	}
	_, err := u.s3.CompleteMultipartUpload(u.ctx, &s3.CompleteMultipartUploadInput{
		Bucket:          aws.String(u.bucket),
		Key:             aws.String(u.key),
		UploadId:        aws.String(u.uploadID),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: u.parts},
	})
	if err != nil {
		u.err = fmt.Errorf("complete multipart upload: %w", err)
		return 0, u.err
	}
	u.uploadID = "" // nothing left to abort
	return u.size, nil
}

// Abort cancels a started multipart upload, even when the step's context
// is done, so no parts are left behind. It returns the abort's error.
func (u *uploader) Abort() error {
	if u.uploadID == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(u.ctx), 10*time.Second)
	defer cancel()
	_, err := u.s3.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
		Bucket:   aws.String(u.bucket),
		Key:      aws.String(u.key),
		UploadId: aws.String(u.uploadID),
	})
	if err != nil {
		return fmt.Errorf("abort multipart upload %s: %w", u.uploadID, err)
	}
	u.uploadID = ""
	return nil
}
