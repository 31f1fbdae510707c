package source

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/pushline/pushline/shared/push"
)

// location is where a commit is fetched from: a local repository (dir) or
// a provider archive URL.
type location struct {
	dir        string // local repository path, when local
	url        string // archive URL, when hosted
	codecommit bool   // CodeCommit's API (codecommit.go)
}

// locate decides where the push's commit comes from. A pull request's
// head commit is fetched where its host serves it: GitHub, GitLab and
// Gitea/Forgejo keep every pull request's head in the base repository
// (refs/pull/<n>/head, refs/merge-requests/<n>/head), so its archive API
// serves the commit by id; Bitbucket Cloud keeps a fork's commits only in
// the fork, so a fork's head is fetched from the fork. A local base
// repository (file:// or a path) whose fork is local too reads the fork.
func locate(p push.Push) (location, error) {
	if pr := p.PullRequest; pr != nil && pr.Fork {
		_, baseLocal := localPath(p.CloneURL)
		if dir, ok := localPath(pr.HeadCloneURL); ok && baseLocal {
			return location{dir: dir}, nil
		}
		if p.Provider == push.Bitbucket && pr.HeadRepository != "" && !baseLocal {
			p.Repository, p.CloneURL, p.WebURL = pr.HeadRepository, pr.HeadCloneURL, ""
		}
	}
	if dir, ok := localPath(p.CloneURL); ok {
		return location{dir: dir}, nil
	}
	if p.Provider == push.CodeCommit {
		return location{codecommit: true}, nil
	}
	base, repository, err := origin(p)
	if err != nil {
		return location{}, err
	}
	owner, name, ok := strings.Cut(repository, "/")
	if !ok || owner == "" || name == "" {
		return location{}, fmt.Errorf("repository %q: want owner/name", repository)
	}
	seg := func(s string) string { // escape each path segment, keep the slashes
		parts := strings.Split(s, "/")
		for i := range parts {
			parts[i] = url.PathEscape(parts[i])
		}
		return strings.Join(parts, "/")
	}
	sha := url.PathEscape(p.After)
	switch p.Provider {
	case push.GitHub:
		api := base + "/api/v3"
		if u, _ := url.Parse(base); u != nil && (u.Host == "github.com" || u.Host == "www.github.com") {
			api = "https://api.github.com"
		}
		return location{url: api + "/repos/" + seg(repository) + "/tarball/" + sha}, nil
	case push.GitLab:
		return location{url: base + "/api/v4/projects/" + url.PathEscape(repository) +
			"/repository/archive.tar.gz?sha=" + url.QueryEscape(p.After)}, nil
	case push.Bitbucket:
		return location{url: base + "/" + seg(repository) + "/get/" + sha + ".tar.gz"}, nil
	case push.Gitea:
		return location{url: base + "/api/v1/repos/" + seg(repository) + "/archive/" + sha + ".tar.gz"}, nil
	}
	return location{}, fmt.Errorf("provider %q: want github, gitlab, bitbucket or gitea", p.Provider)
}

// localPath reports whether a clone URL names a local repository: a
// file:// URL or a filesystem path.
func localPath(clone string) (string, bool) {
	if rest, ok := strings.CutPrefix(clone, "file://"); ok {
		u, err := url.Parse(clone)
		if err != nil || (u.Host != "" && u.Host != "localhost") {
			return rest, true // let git report it
		}
		return u.Path, true
	}
	if filepath.IsAbs(clone) || strings.HasPrefix(clone, "./") || strings.HasPrefix(clone, "../") || clone == "." {
		return clone, true
	}
	return "", false
}

// origin returns the provider's web root (scheme, host and any relative
// URL root, e.g. a GitLab or Gitea served under a path) and the
// repository's path on it. They come from the cloneUrl when it is http(s)
// (the config may point it elsewhere), else from the webUrl, else from an
// ssh clone URL's host. When the URL's path ends with the push's
// repository, that splits root and path; otherwise the URL's path is the
// repository (its last two segments, or all of it for GitLab's nested groups).
func origin(p push.Push) (base, repository string, err error) {
	for _, raw := range []string{p.CloneURL, p.WebURL} {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			continue
		}
		path := strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), ".git")
		root, repo := "", p.Repository
		switch suffix := "/" + strings.ToLower(p.Repository); {
		case p.Repository != "" && strings.HasSuffix(strings.ToLower(path), suffix):
			root = path[:len(path)-len(suffix)]
		case strings.Count(path, "/") >= 2 && p.Provider == push.GitLab:
			repo = strings.TrimPrefix(path, "/")
		case strings.Count(path, "/") >= 2:
			i := strings.LastIndex(path[:strings.LastIndex(path, "/")], "/")
			root, repo = path[:i], path[i+1:]
		}
		return u.Scheme + "://" + u.Host + root, repo, nil
	}
	for _, raw := range []string{p.CloneURL, p.WebURL} {
		if host := sshHost(raw); host != "" {
			return "https://" + host, p.Repository, nil
		}
	}
	if p.Provider == push.Bitbucket {
		return "https://bitbucket.org", p.Repository, nil
	}
	return "", "", errors.New("push has no http(s) cloneUrl or webUrl to find the provider's host")
}

// sshHost returns the host of "ssh://git@host[:port]/path" or
// "git@host:path", else "".
func sshHost(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.Scheme == "ssh" {
		return u.Hostname()
	}
	at := strings.Index(raw, "@")
	colon := strings.Index(raw, ":")
	if at > 0 && colon > at+1 && !strings.Contains(raw[:colon], "/") {
		return raw[at+1 : colon]
	}
	return ""
}

// authorize sets the token the way the provider documents it.
func authorize(req *http.Request, provider, token string) {
	if token == "" {
		return
	}
	switch provider {
	case push.GitHub:
		req.Header.Set("Authorization", "Bearer "+token)
	case push.GitLab:
		req.Header.Set("PRIVATE-TOKEN", token)
	case push.Bitbucket:
		if strings.Contains(token, ":") { // "username:app-password" (or "email:api-token")
			req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(token)))
		} else { // repository, project or workspace access token
			req.Header.Set("Authorization", "Bearer "+token)
		}
	case push.Gitea:
		req.Header.Set("Authorization", "token "+token)
	}
}

// tokenHeaders are the request headers that may carry a token.
var tokenHeaders = []string{"Authorization", "Private-Token"}

const maxRedirects = 10

// checkRedirect limits redirects and drops the token when a redirect
// leaves the original host or scheme (GitHub's codeload URL carries its own).
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return fmt.Errorf("after %d redirects: %w", len(via), ErrRedirects)
	}
	if req.URL.Host != via[0].URL.Host || req.URL.Scheme != via[0].URL.Scheme {
		for _, h := range tokenHeaders {
			req.Header.Del(h)
		}
	}
	return nil
}

// retry policy for the request (before any byte of the archive is read).
var retryDelays = []time.Duration{time.Second, 3 * time.Second}

// open GETs the archive and returns its body, mapping every failure to a
// *FetchError. 429 and 5xx answers and transport errors are retried twice.
func (h *Handler) open(ctx context.Context, p push.Push, archiveURL, token string) (io.ReadCloser, error) {
	client := *h.httpClient()
	client.CheckRedirect = checkRedirect
	fail := func(status int, err error) *FetchError {
		return &FetchError{Provider: p.Provider, Repository: p.Repository, Commit: p.After,
			URL: redact(archiveURL), Status: status, Err: err}
	}
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, archiveURL, nil)
		if err != nil {
			return nil, fail(0, fmt.Errorf("build request: %w", err))
		}
		req.Header.Set("User-Agent", "pushline-source")
		if p.Provider == push.GitHub {
			req.Header.Set("Accept", "application/vnd.github+json")
			req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
		}
		authorize(req, p.Provider, token)
		resp, err := client.Do(req)
		var ferr *FetchError
		switch {
		case err != nil:
			if errors.Is(err, ErrRedirects) {
				return nil, fail(0, ErrRedirects)
			}
			if ctx.Err() != nil {
				return nil, fail(0, ctx.Err())
			}
			ferr = fail(0, fmt.Errorf("request: %w", stripURL(err)))
		case resp.StatusCode == http.StatusOK && strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html"):
			// A website URL (Bitbucket's /get/) that redirected to its login page.
			h.logger().WarnContext(ctx, "source archive request got a web page", "url", redact(archiveURL),
				"final", redact(resp.Request.URL.String()))
			resp.Body.Close()
			what := "no token configured"
			if token != "" {
				what = "the configured token was not accepted"
			}
			return nil, fail(resp.StatusCode, fmt.Errorf("%w: got a web page, not an archive (a login page? %s)", ErrUnauthorized, what))
		case resp.StatusCode == http.StatusOK:
			return resp.Body, nil
		default:
			ferr = fail(resp.StatusCode, statusError(resp, token != ""))
			h.logger().WarnContext(ctx, "source archive request failed", "url", redact(archiveURL),
				"status", resp.StatusCode, "body", snippet(resp.Body))
			resp.Body.Close()
		}
		retryable := ferr.Status == 0 || ferr.Status == http.StatusTooManyRequests || ferr.Status >= 500
		if !retryable || attempt >= len(retryDelays) {
			return nil, ferr
		}
		select {
		case <-ctx.Done():
			return nil, fail(ferr.Status, fmt.Errorf("%w (then %w)", ferr.Err, ctx.Err()))
		case <-time.After(retryDelays[attempt]):
		}
	}
}

// statusError says why a non-200 answer failed the fetch.
func statusError(resp *http.Response, withToken bool) error {
	switch code := resp.StatusCode; {
	case code == http.StatusNotFound:
		if withToken {
			return fmt.Errorf("%w (or not visible to the configured token)", ErrNotFound)
		}
		return fmt.Errorf("%w (or private: no token configured for it)", ErrNotFound)
	case code == http.StatusTooManyRequests,
		code == http.StatusForbidden && resp.Header.Get("X-RateLimit-Remaining") == "0":
		return ErrRateLimited
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		if withToken {
			return fmt.Errorf("%w: token rejected", ErrUnauthorized)
		}
		return fmt.Errorf("%w: authentication required and no token configured", ErrUnauthorized)
	case code >= 500:
		return ErrUnavailable
	case code >= 300 && code < 400:
		return errors.New("redirect without a usable location")
	default:
		return fmt.Errorf("unexpected status %d", code)
	}
}

// redact drops the query (and any user info) of a URL for messages.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable url)"
	}
	u.User = nil
	u.RawQuery = ""
	u.Fragment = ""
	return u.String()
}

// stripURL removes the URL (which may carry a signed query) from a
// transport error.
func stripURL(err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return fmt.Errorf("%s %s: %w", uerr.Op, redact(uerr.URL), uerr.Err)
	}
	return err
}

// snippet reads the start of an error body for the log.
func snippet(r io.Reader) string {
	b, _ := io.ReadAll(io.LimitReader(r, 512))
	return string(b)
}

// countReader counts the bytes read and keeps the first read error other
// than io.EOF, so a failed conversion can be blamed on the transport.
type countReader struct {
	r   io.Reader
	n   int64
	err error
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if err != nil && !errors.Is(err, io.EOF) && c.err == nil {
		c.err = err
	}
	return n, err
}
