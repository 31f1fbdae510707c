package status

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Poster posts statuses to the hosts' APIs, retrying what a retry can
// fix. It is safe for concurrent use.
type Poster struct {
	HTTP *http.Client // nil: a client with a 10 s timeout
	// Attempts is how many times a status is sent at most (default 4);
	// Backoff the first wait, doubled each time (default 1 s); MaxWait caps
	// one wait, Retry-After included (default 30 s).
	Attempts int
	Backoff  time.Duration
	MaxWait  time.Duration
	// Sleep waits d or until ctx ends (tests replace it).
	Sleep func(ctx context.Context, d time.Duration) error
}

// PostError is a status the host did not take: its HTTP status (0 for a
// transport failure) and the start of its answer. It never holds the
// token.
type PostError struct {
	Provider, URL string
	Code          int
	Answer        string
	Attempts      int
	Err           error // a transport or request error
}

func (e *PostError) Error() string {
	if e.Code == 0 {
		return fmt.Sprintf("post %s status to %s: %v (after %d attempt(s))", e.Provider, e.URL, e.Err, e.Attempts)
	}
	return fmt.Sprintf("post %s status to %s: HTTP %d: %s (after %d attempt(s))", e.Provider, e.URL, e.Code, e.Answer, e.Attempts)
}

func (e *PostError) Unwrap() error { return e.Err }

var defaultClient = &http.Client{Timeout: 10 * time.Second}

// ErrStale is returned by Post when it gave up retrying a status that a
// newer one replaced.
var ErrStale = errors.New("a newer status replaced this one")

// Post sends st with token, retrying 429, 5xx and transport errors;
// before each retry it asks stale (when not nil) whether a newer state
// replaced st, and gives up with ErrStale if so.
func (p *Poster) Post(ctx context.Context, st Status, token string, stale func() bool) error {
	attempts, backoff, maxWait := p.Attempts, p.Backoff, p.MaxWait
	if attempts <= 0 {
		attempts = 4
	}
	if backoff <= 0 {
		backoff = time.Second
	}
	if maxWait <= 0 {
		maxWait = 30 * time.Second
	}
	client := p.HTTP
	if client == nil {
		client = defaultClient
	}
	sleep := p.Sleep
	if sleep == nil {
		sleep = sleepCtx
	}
	var last *PostError
	for i := 1; i <= attempts; i++ {
		req, err := request(st, token)
		if err != nil {
			return &PostError{Provider: st.Provider, URL: st.APIURL, Err: err, Attempts: i}
		}
		where := req.URL.Redacted()
		resp, err := client.Do(req.WithContext(ctx))
		var wait time.Duration
		switch {
		case err != nil:
			last = &PostError{Provider: st.Provider, URL: where, Err: stripURL(err), Attempts: i}
		default:
			answer, _ := io.ReadAll(io.LimitReader(resp.Body, 2048))
			resp.Body.Close()
			if resp.StatusCode/100 == 2 || benign(st.Provider, resp.StatusCode, string(answer)) {
				return nil
			}
			last = &PostError{Provider: st.Provider, URL: where, Code: resp.StatusCode, Answer: oneLine(string(answer), 300), Attempts: i}
			if resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode < 500 {
				return last
			}
			wait = retryAfter(resp.Header.Get("Retry-After"), time.Now())
		}
		if i == attempts || ctx.Err() != nil {
			break
		}
		if wait <= 0 {
			wait = backoff << (i - 1)
		}
		if err := sleep(ctx, min(wait, maxWait)); err != nil {
			break
		}
		if stale != nil && stale() {
			return ErrStale
		}
	}
	return last
}

// retryAfter parses a Retry-After header: seconds or an HTTP date; 0 if
// absent or unreadable.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(min(s, 24*3600)) * time.Second // no overflow; Post caps the wait anyway
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// stripURL drops the URL a *url.Error repeats (the path holds no
// secret, but keep messages short and uniform).
func stripURL(err error) error {
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) && strings.HasPrefix(err.Error(), "Post ") {
		if inner := ue.Unwrap(); inner != nil {
			return inner
		}
	}
	return err
}

func oneLine(s string, n int) string {
	return clip(s, n)
}
