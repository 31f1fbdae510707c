package source

import (
	"errors"
	"fmt"
)

// Reasons a commit could not be snapshotted; test with errors.Is.
var (
	// ErrNotFound: the provider answered 404 (a missing repository or
	// commit, or a private repository fetched without a token), or the
	// local path holds no repository.
	ErrNotFound = errors.New("repository or commit not found")
	// ErrCommitNotFound: the local repository does not hold the commit.
	ErrCommitNotFound = errors.New("commit not found in repository")
	// ErrUnauthorized: the provider answered 401 or 403.
	ErrUnauthorized = errors.New("access denied")
	// ErrRateLimited: the provider answered 429, or 403 with its rate limit
	// exhausted.
	ErrRateLimited = errors.New("rate limited by the provider")
	// ErrUnavailable: the provider kept answering 5xx.
	ErrUnavailable = errors.New("provider unavailable")
	// ErrTruncated: the archive ended before its end (connection cut,
	// body shorter than announced, gzip or tar stream cut short).
	ErrTruncated = errors.New("archive truncated")
	// ErrRedirects: too many redirects (a loop).
	ErrRedirects = errors.New("too many redirects")
	// ErrTooLarge: the zip would need more parts than S3 allows.
	ErrTooLarge = errors.New("archive too large")
)

// RequestError: the request cannot be served as given (a missing bucket or
// commit, a deleted ref, an unknown provider, no usable URL).
type RequestError struct {
	Err error
}

func (e *RequestError) Error() string { return "invalid source request: " + e.Err.Error() }
func (e *RequestError) Unwrap() error { return e.Err }

// FetchError: the commit could not be fetched from where the push says it
// lives.
type FetchError struct {
	Provider   string // "github", …, or "git" for a local repository
	Repository string
	Commit     string
	URL        string // the archive URL (no query) or the local path
	Status     int    // the HTTP status, 0 when there is none
	Err        error  // ErrNotFound, ErrUnauthorized, ErrTruncated, … or the cause
}

func (e *FetchError) Error() string {
	s := fmt.Sprintf("fetch %s %s at %s", e.Provider, e.Repository, short(e.Commit))
	if e.URL != "" {
		s += " from " + e.URL
	}
	if e.Status != 0 {
		s += fmt.Sprintf(": http %d", e.Status)
	}
	return s + ": " + e.Err.Error()
}
func (e *FetchError) Unwrap() error { return e.Err }

// ArchiveError: the archive was fetched but is not a valid tar.gz of a
// repository (corrupt gzip, a bad tar header, an unsafe path, an entry type
// git never produces).
type ArchiveError struct {
	Repository string
	Commit     string
	Err        error
}

func (e *ArchiveError) Error() string {
	return fmt.Sprintf("archive of %s at %s: %v", e.Repository, short(e.Commit), e.Err)
}
func (e *ArchiveError) Unwrap() error { return e.Err }

// UploadError: writing source.zip to S3 failed.
type UploadError struct {
	Bucket string
	Key    string
	Err    error
}

func (e *UploadError) Error() string {
	return fmt.Sprintf("upload s3://%s/%s: %v", e.Bucket, e.Key, e.Err)
}
func (e *UploadError) Unwrap() error { return e.Err }

// TokenError: the provider token secret could not be read or parsed.
type TokenError struct {
	Err error
}

func (e *TokenError) Error() string { return "provider tokens: " + e.Err.Error() }
func (e *TokenError) Unwrap() error { return e.Err }

func short(commit string) string {
	if len(commit) > 12 {
		return commit[:12]
	}
	return commit
}
