package source

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cc "github.com/aws/aws-sdk-go-v2/service/codecommit"
	cctypes "github.com/aws/aws-sdk-go-v2/service/codecommit/types"
	"github.com/google/go-cmp/cmp"

	"github.com/pushline/pushline/shared/push"
)

// fakeCodeCommit serves one commit's tree: path → file. Content, when nil,
// is generated (size bytes) on each GetFile.
type fakeCodeCommit struct {
	commit   string
	files    map[string]ccFake
	failFile string
	inFlight atomic.Int32
	peak     atomic.Int32
	mu       sync.Mutex
	calls    int
}

type ccFake struct {
	content string
	size    int
	mode    cctypes.FileModeTypeEnum
}

func (f *fakeCodeCommit) GetFolder(_ context.Context, in *cc.GetFolderInput, _ ...func(*cc.Options)) (*cc.GetFolderOutput, error) {
	dir := strings.TrimSuffix(aws.ToString(in.FolderPath), "/")
	out := &cc.GetFolderOutput{CommitId: aws.String(f.commit), FolderPath: in.FolderPath}
	subs := map[string]bool{}
	var names []string
	for p := range f.files {
		names = append(names, p)
	}
	sort.Strings(names)
	for _, p := range names {
		rest, ok := strings.CutPrefix(p, dir+"/")
		if !ok {
			continue
		}
		if sub, _, deeper := strings.Cut(rest, "/"); deeper {
			if !subs[sub] {
				subs[sub] = true
				out.SubFolders = append(out.SubFolders, cctypes.Folder{AbsolutePath: aws.String(dir + "/" + sub)})
			}
			continue
		}
		ff := f.files[p]
		if ff.mode == cctypes.FileModeTypeEnumSymlink {
			out.SymbolicLinks = append(out.SymbolicLinks, cctypes.SymbolicLink{AbsolutePath: aws.String(p), FileMode: ff.mode})
		} else {
			out.Files = append(out.Files, cctypes.File{AbsolutePath: aws.String(p), FileMode: ff.mode})
		}
	}
	return out, nil
}

func (f *fakeCodeCommit) GetFile(_ context.Context, in *cc.GetFileInput, _ ...func(*cc.Options)) (*cc.GetFileOutput, error) {
	n := f.inFlight.Add(1)
	defer f.inFlight.Add(-1)
	for {
		p := f.peak.Load()
		if n <= p || f.peak.CompareAndSwap(p, n) {
			break
		}
	}
	f.mu.Lock()
	f.calls++
	f.mu.Unlock()
	p := aws.ToString(in.FilePath)
	if p == f.failFile {
		return nil, errors.New("FileTooLargeException: the file exceeds the 6 MB limit")
	}
	ff, ok := f.files[p]
	if !ok || aws.ToString(in.CommitSpecifier) != f.commit {
		return nil, errors.New("FileDoesNotExistException")
	}
	body := []byte(ff.content)
	if ff.size > 0 {
		body = bytes.Repeat([]byte{byte(len(p))}, ff.size)
	}
	time.Sleep(time.Millisecond) // an API call's latency, so fetches overlap
	return &cc.GetFileOutput{FileContent: body, FileMode: ff.mode, FilePath: in.FilePath, CommitId: aws.String(f.commit)}, nil
}

const ccCommit = "abcdefabcdefabcdefabcdefabcdefabcdefabcd"

func TestCodeCommitSnapshot(t *testing.T) {
	fake := &fakeCodeCommit{commit: ccCommit, files: map[string]ccFake{
		"/README.md":        {content: "hello\n", mode: cctypes.FileModeTypeEnumNormal},
		"/buildspec.yml":    {content: "version: 0.2\n", mode: cctypes.FileModeTypeEnumNormal},
		"/bin/run.sh":       {content: "#!/bin/sh\n", mode: cctypes.FileModeTypeEnumExecutable},
		"/src/app/main.go":  {content: "package main\n", mode: cctypes.FileModeTypeEnumNormal},
		"/src/app/link":     {content: "main.go", mode: cctypes.FileModeTypeEnumSymlink},
		"/src/z/deep/x.txt": {content: "x", mode: cctypes.FileModeTypeEnumNormal},
	}}
	c := fakeS3(t)
	h := &Handler{S3: c, Bucket: testBucket, CodeCommit: fake, Log: quietLog(new(bytes.Buffer))}
	art, err := h.Handle(context.Background(), Request{Key: "cc/source.zip", Execution: execARN, Push: push.Push{
		Provider: push.CodeCommit, Repository: "app", CloneURL: "https://git-codecommit.eu-west-1.amazonaws.com/v1/repos/app", After: ccCommit[:12]}})
	if err != nil {
		t.Fatal(err)
	}
	if art.Commit != ccCommit {
		t.Errorf("commit %s, want the full id", art.Commit)
	}
	want := map[string]entry{}
	for p, f := range fake.files {
		mode := fs.FileMode(0o644)
		switch f.mode {
		case cctypes.FileModeTypeEnumExecutable:
			mode = 0o755
		case cctypes.FileModeTypeEnumSymlink:
			mode = fs.ModeSymlink | 0o777
		}
		want[strings.TrimPrefix(p, "/")] = entry{Mode: mode, Content: f.content}
	}
	if d := cmp.Diff(want, zipEntries(t, getZip(t, c, "cc/source.zip"))); d != "" {
		t.Errorf("zip (-want +got):\n%s", d)
	}
}

func TestCodeCommitErrors(t *testing.T) {
	fake := &fakeCodeCommit{commit: ccCommit, failFile: "/big.bin", files: map[string]ccFake{
		"/a.txt": {content: "a"}, "/big.bin": {content: "b"}, "/c.txt": {content: "c"},
	}}
	for _, tc := range []struct {
		name   string
		client CodeCommit
		want   any
		msg    string
	}{
		{"file over the limit", fake, new(*FetchError), "get file /big.bin: FileTooLargeException"},
		{"no client", nil, new(*RequestError), "no CodeCommit client for repository app"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recS3{S3: fakeS3(t)}
			h := &Handler{S3: rec, Bucket: testBucket, CodeCommit: tc.client, Log: quietLog(new(bytes.Buffer))}
			_, err := h.Handle(context.Background(), Request{Key: "cc/source.zip", Execution: execARN, Push: push.Push{
				Provider: push.CodeCommit, Repository: "app", After: ccCommit}})
			if err == nil || !errors.As(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err = %v (%T), want %T containing %q", err, err, tc.want, tc.msg)
			}
		})
	}
}

// TestCodeCommitBoundedMemory snapshots 256 files of 1 MiB: the heap stays
// bounded by the files in flight (Prefetch) and the upload's parts, not
// the repository's size.
func TestCodeCommitBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	files := map[string]ccFake{}
	for i := range 256 {
		files[fmt.Sprintf("/d%02d/f%03d.bin", i%16, i)] = ccFake{size: 1 << 20}
	}
	fake := &fakeCodeCommit{commit: ccCommit, files: files}
	s3 := &discardS3{t: t, partSize: DefaultPartSize}
	h := &Handler{S3: s3, Bucket: testBucket, CodeCommit: fake, Log: quietLog(new(bytes.Buffer))}
	runtime.GC()
	var peak uint64
	stop, sampled := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(sampled)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	art, err := h.Handle(context.Background(), Request{Key: "cc/source.zip", Execution: execARN, Push: push.Push{
		Provider: push.CodeCommit, Repository: "app", After: ccCommit}})
	close(stop)
	<-sampled
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("256 MiB in 256 files: zip %d bytes, peak Go heap in use %.1f MiB, at most %d GetFile calls in flight", art.Size, float64(peak)/(1<<20), fake.peak.Load())
	if fake.peak.Load() > Prefetch+1 {
		t.Errorf("%d GetFile calls in flight, want at most %d", fake.peak.Load(), Prefetch+1)
	}
	if peak > 96<<20 {
		t.Errorf("peak heap %.1f MiB for 256 MiB of files: not bounded", float64(peak)/(1<<20))
	}
}
