package source

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/pushline/pushline/shared/push"
)

// discardS3 accepts uploads and keeps only their sizes.
type discardS3 struct {
	t        *testing.T
	partSize int
	mu       sync.Mutex
	parts    int
	bytes    int64
}

func (d *discardS3) take(body io.Reader) int64 {
	n, _ := io.Copy(io.Discard, body)
	d.mu.Lock()
	defer d.mu.Unlock()
	d.bytes += n
	return n
}

func (d *discardS3) PutObject(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	d.take(in.Body)
	return &s3.PutObjectOutput{}, nil
}

func (d *discardS3) CreateMultipartUpload(context.Context, *s3.CreateMultipartUploadInput, ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error) {
	return &s3.CreateMultipartUploadOutput{UploadId: aws.String("upload-1")}, nil
}

func (d *discardS3) UploadPart(_ context.Context, in *s3.UploadPartInput, _ ...func(*s3.Options)) (*s3.UploadPartOutput, error) {
	n := d.take(in.Body)
	d.mu.Lock()
	d.parts++
	d.mu.Unlock()
	if n > int64(d.partSize) {
		d.t.Errorf("part %d is %d bytes, over the part size %d", aws.ToInt32(in.PartNumber), n, d.partSize)
	}
	return &s3.UploadPartOutput{ETag: aws.String(fmt.Sprintf(`"%d"`, aws.ToInt32(in.PartNumber)))}, nil
}

func (d *discardS3) CompleteMultipartUpload(context.Context, *s3.CompleteMultipartUploadInput, ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error) {
	return &s3.CompleteMultipartUploadOutput{}, nil
}

func (d *discardS3) AbortMultipartUpload(context.Context, *s3.AbortMultipartUploadInput, ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error) {
	return &s3.AbortMultipartUploadOutput{}, nil
}

// writeLargeArchive streams a generated tar.gz of about size bytes of
// content (1 MiB files, half incompressible) without holding it in memory.
func writeLargeArchive(w io.Writer, size int64) error {
	zw, _ := gzip.NewWriterLevel(w, gzip.BestSpeed)
	tw := tar.NewWriter(zw)
	rng := rand.New(rand.NewPCG(3, 5))
	data := make([]byte, 1<<20)
	text := bytes.Repeat([]byte("the quick brown fox jumps over the lazy dog 0123456789\n"), len(data)/55+1)[:len(data)]
	for i, written := 0, int64(0); written < size; i++ {
		body := text
		if i%2 == 0 {
			for j := 0; j < len(data); j += 8 {
				v := rng.Uint64()
				for k := 0; k < 8 && j+k < len(data); k++ {
					data[j+k] = byte(v >> (8 * k))
				}
			}
			body = data
		}
		if err := tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("big-repo-sha/d%02d/f%05d", i/100, i), Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(body))}); err != nil {
			return err
		}
		if _, err := tw.Write(body); err != nil {
			return err
		}
		written += int64(len(body))
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return zw.Close()
}

// procStatus reads a kB value (VmRSS, VmHWM) from /proc/self/status.
func procStatus(field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return n
		}
	}
	return -1
}

// TestLargeArchive measures a large snapshot end to end (fake GitHub over
// HTTP → tar.gz→zip → multipart upload) and reports the peak memory. Off by
// default: PUSHLINE_SOURCE_LARGE_MIB=200 go test -run TestLargeArchive -v ./shared/source
func TestLargeArchive(t *testing.T) {
	mib, _ := strconv.Atoi(os.Getenv("PUSHLINE_SOURCE_LARGE_MIB"))
	if mib <= 0 {
		t.Skip("set PUSHLINE_SOURCE_LARGE_MIB to the archive's content size in MiB")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := writeLargeArchive(w, int64(mib)<<20); err != nil {
			t.Errorf("generate: %v", err)
		}
	}))
	defer srv.Close()
	runtime.GC()
	rssBefore := procStatus("VmRSS")
	var peakHeap, peakSys uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			peakHeap = max(peakHeap, ms.HeapInuse)
			peakSys = max(peakSys, ms.Sys)
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	s3 := &discardS3{t: t, partSize: DefaultPartSize}
	h := &Handler{S3: s3, Bucket: testBucket, Log: quietLog(new(bytes.Buffer))}
	start := time.Now()
	art, err := h.Handle(context.Background(), Request{Key: "big/source.zip", Execution: execARN, Push: push.Push{
		Provider: push.GitHub, Repository: "big/repo", WebURL: srv.URL + "/big/repo", After: strings.Repeat("e", 40)}})
	elapsed := time.Since(start)
	close(stop)
	<-sampled
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d MiB of content in %v (%.1f MB/s, generator included): zip %d bytes in %d parts of %d MiB",
		mib, elapsed.Round(time.Millisecond), float64(int64(mib)<<20)/elapsed.Seconds()/1e6, art.Size, s3.parts, DefaultPartSize>>20)
	t.Logf("peak Go heap in use %.1f MiB, peak Go Sys %.1f MiB; process RSS before %.1f MiB, peak RSS (VmHWM) %.1f MiB (the fake server's generator included)",
		float64(peakHeap)/(1<<20), float64(peakSys)/(1<<20), float64(rssBefore)/1024, float64(procStatus("VmHWM"))/1024)
	if art.Size != s3.bytes {
		t.Errorf("artifact size %d, uploaded %d", art.Size, s3.bytes)
	}
}
