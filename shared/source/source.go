package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/pushline/pushline/shared/push"
)

// Request is the source step's input, as the state machine sends it.
type Request struct {
	Pipeline  string    `json:"pipeline"`
	Execution string    `json:"execution"` // the execution ARN
	Push      push.Push `json:"push"`
	Bucket    string    `json:"bucket"` // default: Handler.Bucket
	Key       string    `json:"key"`    // default: <pipeline>/<execution name>/source.zip
}

// Artifact is the source step's output: where source.zip is.
type Artifact struct {
	Bucket   string `json:"bucket"`
	Key      string `json:"key"`
	Location string `json:"location"` // "bucket/key", CodeBuild's S3 source location form
	Size     int64  `json:"size"`     // bytes of the zip
	Commit   string `json:"commit"`   // the full commit id snapshotted
}

// Handler snapshots commits. Build it once per process; it is safe for
// concurrent use.
type Handler struct {
	S3       S3
	Bucket   string       // the artifact bucket, when a request names none
	Tokens   Tokens       // nil: every repository is fetched anonymously
	HTTP     *http.Client // nil: a client with a 30 s response-header timeout
	Log      *slog.Logger // nil: slog.Default()
	PartSize int          // multipart part size; 0: DefaultPartSize (S3 wants ≥ 5 MiB)
	Git      string       // the git binary for local repositories; "": "git" on PATH
	// CodeCommit reads codecommit repositories (see codecommit.go); nil:
	// a codecommit push without a local cloneUrl fails.
	CodeCommit CodeCommit
}

var defaultHTTP = &http.Client{Transport: &http.Transport{
	Proxy:                 http.ProxyFromEnvironment,
	ResponseHeaderTimeout: 30 * time.Second,
	TLSHandshakeTimeout:   10 * time.Second,
	IdleConnTimeout:       90 * time.Second,
	ForceAttemptHTTP2:     true,
}}

func (h *Handler) httpClient() *http.Client {
	if h.HTTP != nil {
		return h.HTTP
	}
	return defaultHTTP
}

func (h *Handler) logger() *slog.Logger {
	if h.Log != nil {
		return h.Log
	}
	return slog.Default()
}

const deadlineMargin = 5 * time.Second

// errReadBody marks a transport failure while the archive streams.
var errReadBody = errors.New("read body")

var commitRE = regexp.MustCompile(`^[0-9a-fA-F]{7,64}$`)

// Handle snapshots req.Push.After into s3://bucket/key as a zip. Its errors
// are *RequestError, *FetchError, *ArchiveError, *UploadError or
// *TokenError, never wrapped, so the Lambda errorType names the failing part.
func (h *Handler) Handle(ctx context.Context, req Request) (Artifact, error) {
	start := time.Now()
	// Stop a little before Lambda's deadline, so a snapshot that runs out of
	// time still aborts its upload and reports why.
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) > 4*deadlineMargin {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, dl.Add(-deadlineMargin))
		defer cancel()
	}
	p := req.Push
	bucket, key := req.Bucket, req.Key
	if bucket == "" {
		bucket = h.Bucket
	}
	if key == "" && req.Pipeline != "" && req.Execution != "" {
		key = req.Pipeline + "/" + executionName(req.Execution) + "/source.zip"
	}
	switch {
	case bucket == "":
		return Artifact{}, &RequestError{Err: errors.New("no bucket: the request names none and PUSHLINE_ARTIFACT_BUCKET is unset")}
	case key == "":
		return Artifact{}, &RequestError{Err: errors.New("no key, and no pipeline and execution to derive it from")}
	case p.Deleted || p.After == push.ZeroCommit:
		return Artifact{}, &RequestError{Err: fmt.Errorf("ref %s was deleted: there is no commit to snapshot", p.Ref)}
	case !commitRE.MatchString(p.After):
		return Artifact{}, &RequestError{Err: fmt.Errorf("push.after %q: want a commit id (7 to 64 hex digits)", p.After)}
	}
	loc, err := locate(p)
	if err != nil {
		return Artifact{}, &RequestError{Err: err}
	}
	log := h.logger().With("execution", req.Execution, "provider", p.Provider,
		"repository", p.Repository, "commit", p.After, "bucket", bucket, "key", key)

	up := newUploader(ctx, h.S3, bucket, key, h.PartSize)
	var (
		st       Stats
		fetched  int64
		commit   = p.After
		stepErr  error
		sourceAt string
	)
	if loc.dir != "" {
		sourceAt = loc.dir
		st, commit, stepErr = h.snapshotLocal(ctx, p, loc.dir, up)
	} else if loc.codecommit {
		sourceAt = "codecommit:" + p.Repository
		st, commit, stepErr = h.snapshotCodeCommit(ctx, p, up)
	} else {
		sourceAt = redact(loc.url)
		st, fetched, stepErr = h.snapshotHosted(ctx, p, loc.url, up)
		// A download cut mid-stream is usually a passing network failure:
		// start over once, with a fresh upload.
		if (errors.Is(stepErr, ErrTruncated) || errors.Is(stepErr, errReadBody)) && ctx.Err() == nil {
			log.WarnContext(ctx, "source archive download cut, starting over", "err", stepErr, "bytesFetched", fetched)
			if err := up.Abort(); err != nil {
				log.ErrorContext(ctx, "source abort upload failed", "err", err)
			}
			up = newUploader(ctx, h.S3, bucket, key, h.PartSize)
			st, fetched, stepErr = h.snapshotHosted(ctx, p, loc.url, up)
		}
	}
	var size int64
	if stepErr == nil {
		if size, err = up.Close(); err != nil {
			stepErr = &UploadError{Bucket: bucket, Key: key, Err: err}
		}
	}
	if stepErr != nil {
		if err := up.Abort(); err != nil {
			log.ErrorContext(ctx, "source abort upload failed", "err", err)
		}
		log.ErrorContext(ctx, "source snapshot failed", "from", sourceAt, "err", stepErr,
			"files", st.Files, "bytesFetched", fetched, "elapsed", time.Since(start).String())
		return Artifact{}, stepErr
	}
	log.InfoContext(ctx, "source snapshot done", "from", sourceAt, "files", st.Files,
		"symlinks", st.Symlinks, "contentBytes", st.Bytes, "bytesFetched", fetched, "zipBytes", size,
		"elapsed", time.Since(start).String())
	return Artifact{Bucket: bucket, Key: key, Location: bucket + "/" + key, Size: size, Commit: commit}, nil
}

func (h *Handler) snapshotLocal(ctx context.Context, p push.Push, dir string, up *uploader) (Stats, string, error) {
	fail := func(err error) error {
		return &FetchError{Provider: "git", Repository: p.Repository, Commit: p.After, URL: dir, Err: err}
	}
	commit, err := h.resolveLocal(ctx, dir, p.After)
	if err != nil {
		return Stats{}, p.After, fail(err)
	}
	st, err := h.archiveLocal(ctx, dir, commit, up)
	if err != nil {
		if uerr := up.failure(); uerr != nil {
			return st, commit, &UploadError{Bucket: up.bucket, Key: up.key, Err: uerr}
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return st, commit, fail(fmt.Errorf("%w: %w", ErrTruncated, err))
		}
		if errors.Is(err, errGitArchive) {
			return st, commit, fail(err)
		}
		return st, commit, &ArchiveError{Repository: p.Repository, Commit: commit, Err: err}
	}
	return st, commit, nil
}

func (h *Handler) snapshotHosted(ctx context.Context, p push.Push, archiveURL string, up *uploader) (Stats, int64, error) {
	token := ""
	if h.Tokens != nil {
		t, err := h.Tokens.Token(ctx, p.Provider, p.Repository)
		if err != nil {
			return Stats{}, 0, &TokenError{Err: err}
		}
		token = t
	}
	body, err := h.open(ctx, p, archiveURL, token)
	if err != nil {
		return Stats{}, 0, err
	}
	defer body.Close()
	cr := &countReader{r: body}
	st, err := ArchiveToZip(up, cr, true)
	if err == nil {
		return st, cr.n, nil
	}
	fail := func(err error) error {
		return &FetchError{Provider: p.Provider, Repository: p.Repository, Commit: p.After,
			URL: redact(archiveURL), Status: http.StatusOK, Err: err}
	}
	switch {
	case up.failure() != nil:
		return st, cr.n, &UploadError{Bucket: up.bucket, Key: up.key, Err: up.failure()}
	case ctx.Err() != nil:
		return st, cr.n, fail(fmt.Errorf("stopped after %d bytes: %w", cr.n, ctx.Err()))
	case errors.Is(cr.err, io.ErrUnexpectedEOF) || (cr.err == nil && errors.Is(err, io.ErrUnexpectedEOF)):
		return st, cr.n, fail(fmt.Errorf("%w after %d bytes", ErrTruncated, cr.n))
	case cr.err != nil:
		return st, cr.n, fail(fmt.Errorf("%w after %d bytes: %w", errReadBody, cr.n, stripURL(cr.err)))
	}
	return st, cr.n, &ArchiveError{Repository: p.Repository, Commit: p.After, Err: err}
}

// executionName is the last part of an execution ARN
// (arn:aws:states:region:account:execution:machine:name).
func executionName(arn string) string {
	return arn[strings.LastIndex(arn, ":")+1:]
}
