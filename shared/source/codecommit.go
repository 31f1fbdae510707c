package source

// CodeCommit snapshots: why the API and not git over HTTPS.
//
// A CodeCommit commit can be fetched two ways: git's smart HTTP protocol
// against git-codecommit.<region>.amazonaws.com with a SigV4-derived
// password (what git-remote-codecommit does), or CodeCommit's own API
// (GetFolder to walk the commit's tree, GetFile for each file). The source
// step uses the API:
//   - Lambda has no git binary, and a pure-Go smart-HTTP client means
//     negotiating and unpacking a packfile (deltas against objects not yet
//     seen), whose memory grows with the repository, not with one file;
//   - the API is plain SigV4-signed JSON through the SDK the function
//     already uses, and IAM scopes it to read-only actions on one
//     repository (codecommit:GetFolder, codecommit:GetFile), where git pull
//     needs codecommit:GitPull;
//   - files arrive one at a time, so memory is bounded by the files in
//     flight (Prefetch of them, each at most CodeCommit's 6 MB GetFile
//     limit) plus the upload's two parts, whatever the repository's size.
// The cost is one call per file (Prefetch calls in flight hide the
// latency; CodeCommit's per-account request quota bounds it), and a file
// over GetFile's limit fails the snapshot naming it. Submodules are left
// out and symbolic links stored as links, as `git archive` does.

import (
	"archive/zip"
	"context"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cc "github.com/aws/aws-sdk-go-v2/service/codecommit"
	cctypes "github.com/aws/aws-sdk-go-v2/service/codecommit/types"

	"github.com/pushline/pushline/shared/push"
)

// CodeCommit is the part of CodeCommit's API the source step calls;
// *codecommit.Client satisfies it.
type CodeCommit interface {
	GetFolder(ctx context.Context, in *cc.GetFolderInput, optFns ...func(*cc.Options)) (*cc.GetFolderOutput, error)
	GetFile(ctx context.Context, in *cc.GetFileInput, optFns ...func(*cc.Options)) (*cc.GetFileOutput, error)
}

// Prefetch is how many CodeCommit files are fetched ahead of the one being
// written to the zip.
const Prefetch = 4

// ccEntry is one file or symbolic link of the commit's tree.
type ccEntry struct {
	path    string
	mode    cctypes.FileModeTypeEnum
	symlink bool
}

type ccFile struct {
	entry ccEntry
	body  []byte
	err   error
}

// snapshotCodeCommit writes the commit's tree to up as a zip and returns
// the full commit id.
func (h *Handler) snapshotCodeCommit(ctx context.Context, p push.Push, up *uploader) (Stats, string, error) {
	fail := func(err error) error {
		return &FetchError{Provider: push.CodeCommit, Repository: p.Repository, Commit: p.After, Err: err}
	}
	if h.CodeCommit == nil {
		return Stats{}, p.After, &RequestError{Err: fmt.Errorf("no CodeCommit client for repository %s", p.Repository)}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	commit := p.After
	entries := make(chan ccEntry)
	walkErr := make(chan error, 1)
	go func() {
		defer close(entries)
		walkErr <- h.walkCodeCommit(ctx, p, &commit, entries)
	}()
	// Files are fetched Prefetch ahead and written in walk order.
	pending := make(chan chan ccFile, Prefetch)
	go func() {
		defer close(pending)
		for e := range entries {
			res := make(chan ccFile, 1)
			select {
			case pending <- res:
			case <-ctx.Done():
				return
			}
			go func(e ccEntry) {
				out, err := h.CodeCommit.GetFile(ctx, &cc.GetFileInput{
					RepositoryName: aws.String(p.Repository), CommitSpecifier: aws.String(commit), FilePath: aws.String(e.path),
				})
				f := ccFile{entry: e, err: err}
				if err == nil {
					f.body = out.FileContent
				}
				res <- f
			}(e)
		}
	}()
	mod := p.HeadCommit.Timestamp
	if mod.IsZero() {
		mod = time.Now()
	}
	st, err := writeCodeCommitZip(up, pending, mod.UTC())
	cancel()
	for range pending { // let the fetchers finish
	}
	if werr := <-walkErr; err == nil && werr != nil && werr != context.Canceled {
		err = werr
	}
	if err != nil {
		if uerr := up.failure(); uerr != nil {
			return st, commit, &UploadError{Bucket: up.bucket, Key: up.key, Err: uerr}
		}
		return st, commit, fail(err)
	}
	return st, commit, nil
}

// walkCodeCommit sends the commit's files, folder by folder (depth first,
// in the order GetFolder lists them), and records the full commit id.
func (h *Handler) walkCodeCommit(ctx context.Context, p push.Push, commit *string, out chan<- ccEntry) error {
	stack := []string{"/"}
	for len(stack) > 0 {
		dir := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		f, err := h.CodeCommit.GetFolder(ctx, &cc.GetFolderInput{
			RepositoryName: aws.String(p.Repository), CommitSpecifier: aws.String(p.After), FolderPath: aws.String(dir),
		})
		if err != nil {
			return fmt.Errorf("get folder %s: %w", dir, err)
		}
		if id := aws.ToString(f.CommitId); id != "" && dir == "/" {
			*commit = id // before any entry is sent: the fetchers read it after
		}
		var send []ccEntry
		for _, file := range f.Files {
			send = append(send, ccEntry{path: aws.ToString(file.AbsolutePath), mode: file.FileMode})
		}
		for _, l := range f.SymbolicLinks {
			send = append(send, ccEntry{path: aws.ToString(l.AbsolutePath), mode: l.FileMode, symlink: true})
		}
		for _, e := range send {
			select {
			case out <- e:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		for i := len(f.SubFolders) - 1; i >= 0; i-- {
			stack = append(stack, aws.ToString(f.SubFolders[i].AbsolutePath))
		}
	}
	return nil
}

// writeCodeCommitZip writes the fetched files, in order, as a zip.
func writeCodeCommitZip(w *uploader, pending <-chan chan ccFile, mod time.Time) (Stats, error) {
	var st Stats
	zw := zip.NewWriter(w)
	zw.RegisterCompressor(zip.Deflate, compressor)
	for res := range pending {
		f := <-res
		if f.err != nil {
			return st, fmt.Errorf("get file %s: %w", f.entry.path, f.err)
		}
		name := strings.TrimPrefix(path.Clean("/"+f.entry.path), "/")
		if !fs.ValidPath(name) || name == "." {
			return st, fmt.Errorf("file %q: unsafe path", f.entry.path)
		}
		fh := &zip.FileHeader{Name: name, Modified: mod, Method: zip.Deflate}
		switch {
		case f.entry.symlink || f.entry.mode == cctypes.FileModeTypeEnumSymlink:
			fh.Method = zip.Store
			fh.SetMode(fs.ModeSymlink | 0o777)
			st.Symlinks++
		case f.entry.mode == cctypes.FileModeTypeEnumExecutable:
			fh.SetMode(0o755)
		default:
			fh.SetMode(0o644)
		}
		fw, err := zw.CreateHeader(fh)
		if err != nil {
			return st, fmt.Errorf("zip entry %q: %w", name, err)
		}
		if _, err := fw.Write(f.body); err != nil {
			return st, fmt.Errorf("write %q: %w", name, err)
		}
		st.Files++
		st.Bytes += int64(len(f.body))
	}
	if err := zw.Close(); err != nil {
		return st, fmt.Errorf("zip directory: %w", err)
	}
	return st, nil
}
