package source

import (
	"bytes"
	"context"
	"fmt"
	"sync"
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

var _ S3 = (*s3.Client)(nil)

// DefaultPartSize is the multipart part size; the upload holds at most two
// parts in memory. 8 MiB × 10,000 parts (S3's limit) caps a zip at 78 GiB.
const DefaultPartSize = 8 << 20

const maxParts = 10000

// uploader is an io.Writer that streams into one S3 object. It fills a
// part buffer; a full buffer goes to a background goroutine that uploads it
// (starting a multipart upload on the first) while the next one fills, so
// fetching and converting overlap with uploading. At most two buffers
// exist: memory is bounded by 2 × part size. Close uploads the rest (a
// single PutObject when the whole object fits in one part). The first error
// is sticky; Abort cleans up a started upload.
type uploader struct {
	ctx      context.Context
	s3       S3
	bucket   string
	key      string
	partSize int

	buf       []byte      // the buffer being filled, nil when none
	free      chan []byte // buffers the worker is done with
	allocated int         // buffers made so far (≤ 2)
	uploadID  string
	next      int32         // the last part number handed out
	jobs      chan part     // to the worker; nil until the multipart upload starts
	done      chan struct{} // closed when the worker has stopped
	stopped   bool          // jobs is closed

	mu    sync.Mutex
	err   error                 // the first failure
	parts []types.CompletedPart // uploaded parts, in order (worker-owned until done)
	size  int64
}

type part struct {
	num int32
	buf []byte
}

func newUploader(ctx context.Context, c S3, bucket, key string, partSize int) *uploader {
	if partSize <= 0 {
		partSize = DefaultPartSize
	}
	return &uploader{ctx: ctx, s3: c, bucket: bucket, key: key, partSize: partSize, free: make(chan []byte, 2)}
}

// failure returns the first error, if any.
func (u *uploader) failure() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.err
}

func (u *uploader) fail(err error) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.err == nil {
		u.err = err
	}
	return u.err
}

// buffer returns an empty part buffer: a free one, a new one while there
// are fewer than two, else the next one the worker frees.
func (u *uploader) buffer() []byte {
	select {
	case b := <-u.free:
		return b
	default:
	}
	if u.allocated < 2 {
		u.allocated++
		return make([]byte, 0, u.partSize)
	}
	return <-u.free
}

func (u *uploader) Write(p []byte) (int, error) {
	if err := u.failure(); err != nil {
		return 0, err
	}
	n := 0
	for len(p) > 0 {
		if u.buf == nil {
			u.buf = u.buffer()
		}
		k := copy(u.buf[len(u.buf):cap(u.buf)], p)
		u.buf = u.buf[:len(u.buf)+k]
		p = p[k:]
		n += k
		if len(u.buf) == cap(u.buf) {
			if err := u.send(); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// send hands the current buffer to the worker, starting the multipart
// upload and the worker first if need be.
func (u *uploader) send() error {
	if u.uploadID == "" {
		out, err := u.s3.CreateMultipartUpload(u.ctx, &s3.CreateMultipartUploadInput{
			Bucket:            aws.String(u.bucket),
			Key:               aws.String(u.key),
			ContentType:       aws.String("application/zip"),
			ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
		})
		if err != nil {
			return u.fail(fmt.Errorf("create multipart upload: %w", err))
		}
		u.uploadID = aws.ToString(out.UploadId)
		u.jobs = make(chan part)
		u.done = make(chan struct{})
		go u.work()
	}
	if u.next == maxParts {
		return u.fail(fmt.Errorf("part %d: %w (S3 allows %d parts of %d bytes)", maxParts+1, ErrTooLarge, maxParts, u.partSize))
	}
	u.next++
	u.jobs <- part{num: u.next, buf: u.buf}
	u.buf = nil
	return u.failure()
}

// work uploads the parts it is sent, in order, until jobs is closed; after
// a failure it only recycles the buffers.
func (u *uploader) work() {
	defer close(u.done)
	for j := range u.jobs {
		if u.failure() == nil {
			out, err := u.s3.UploadPart(u.ctx, &s3.UploadPartInput{
				Bucket:            aws.String(u.bucket),
				Key:               aws.String(u.key),
				UploadId:          aws.String(u.uploadID),
				PartNumber:        aws.Int32(j.num),
				Body:              bytes.NewReader(j.buf),
				ContentLength:     aws.Int64(int64(len(j.buf))),
				ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
			})
			u.mu.Lock()
			if err != nil {
				if u.err == nil {
					u.err = fmt.Errorf("upload part %d: %w", j.num, err)
				}
			} else {
				u.parts = append(u.parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(j.num), ChecksumCRC32: out.ChecksumCRC32})
				u.size += int64(len(j.buf))
			}
			u.mu.Unlock()
		}
		u.free <- j.buf[:0]
	}
}

// stop closes the worker's queue and waits for it to finish.
func (u *uploader) stop() {
	if u.jobs != nil && !u.stopped {
		u.stopped = true
		close(u.jobs)
		<-u.done
	}
}

// Close finishes the object and returns its size.
func (u *uploader) Close() (int64, error) {
	if err := u.failure(); err != nil {
		return 0, err
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
			return 0, u.fail(fmt.Errorf("put object: %w", err))
		}
		return int64(len(u.buf)), nil
	}
	if len(u.buf) > 0 {
		_ = u.send() // a failure shows below
	}
	u.stop()
	if err := u.failure(); err != nil {
		return 0, err
	}
	_, err := u.s3.CompleteMultipartUpload(u.ctx, &s3.CompleteMultipartUploadInput{
		Bucket:          aws.String(u.bucket),
		Key:             aws.String(u.key),
		UploadId:        aws.String(u.uploadID),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: u.parts},
	})
	if err != nil {
		return 0, u.fail(fmt.Errorf("complete multipart upload: %w", err))
	}
	u.uploadID = "" // nothing left to abort
	return u.size, nil
}

// Abort stops the worker and cancels a started multipart upload, even when
// the step's context is done, so no parts are left behind. It returns the
// abort's error.
func (u *uploader) Abort() error {
	u.stop()
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
