package status

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/pushline/pushline/shared/push"
)

// Description limits: GitHub refuses more than 140 characters; GitLab,
// Bitbucket and Gitea keep 255. Bitbucket's build status key is short.
const (
	githubDescription = 140
	otherDescription  = 255
	bitbucketKey      = 40
)

// Default API roots (DESIGN "Commit statuses"): GitLab and Gitea/Forgejo
// have none: theirs is the repository's web host + /api/v4 or /api/v1.
const (
	GitHubAPI    = "https://api.github.com"
	BitbucketAPI = "https://api.bitbucket.org/2.0"
)

// DefaultAPIURL returns where provider's API lives for a repository whose
// web page is webURL ("" if it cannot tell).
func DefaultAPIURL(provider, repository, webURL string) string {
	switch provider {
	case push.GitHub:
		if u, err := url.Parse(webURL); err == nil && u.Host != "" && u.Host != "github.com" && u.Host != "www.github.com" {
			return u.Scheme + "://" + u.Host + webRoot(u.Path, repository) + "/api/v3" // GitHub Enterprise Server
		}
		return GitHubAPI
	case push.Bitbucket:
		return BitbucketAPI
	case push.GitLab, push.Gitea:
		u, err := url.Parse(webURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return ""
		}
		api := "/api/v1"
		if provider == push.GitLab {
			api = "/api/v4"
		}
		return u.Scheme + "://" + u.Host + webRoot(u.Path, repository) + api
	}
	return ""
}

// webRoot is the part of a repository page's path before the repository
// (a GitLab or Gitea served under a relative URL root).
func webRoot(path, repository string) string {
	path = strings.TrimSuffix(strings.TrimSuffix(path, "/"), ".git")
	if repository != "" && strings.HasSuffix(strings.ToLower(path), "/"+strings.ToLower(repository)) {
		return path[:len(path)-len(repository)-1]
	}
	return ""
}

// segments escapes each segment of an owner/name path, keeping the slashes.
func segments(s string) string {
	parts := strings.Split(s, "/")
	for i := range parts {
		parts[i] = url.PathEscape(parts[i])
	}
	return strings.Join(parts, "/")
}

// request builds the HTTP request that posts st with token, as the host
// documents it:
//
//   - GitHub: POST {api}/repos/{owner}/{repo}/statuses/{sha}, Bearer
//     token, Accept application/vnd.github+json, X-GitHub-Api-Version
//     2022-11-28, {"state","target_url","description","context"}.
//   - GitLab: POST {api}/projects/{url-encoded path}/statuses/{sha},
//     PRIVATE-TOKEN, {"state","name","target_url","description","ref"};
//     states pending→running, success, failure→failed, error→canceled.
//   - Bitbucket Cloud: POST {api}/repositories/{workspace}/{slug}/commit/{sha}/statuses/build,
//     Bearer token (Basic for "user:app-password"),
//     {"key","state","name","url","description"}; states INPROGRESS,
//     SUCCESSFUL, FAILED, STOPPED (error).
//   - Gitea/Forgejo: POST {api}/repos/{owner}/{repo}/statuses/{sha},
//     "Authorization: token", {"state","target_url","description","context"}.
func request(st Status, token string) (*http.Request, error) {
	api := strings.TrimSuffix(st.APIURL, "/")
	var (
		path string
		body any
		h    = http.Header{}
	)
	h.Set("Content-Type", "application/json")
	h.Set("Accept", "application/json")
	h.Set("User-Agent", "pushline")
	switch st.Provider {
	case push.GitHub:
		path = "/repos/" + segments(st.Repository) + "/statuses/" + url.PathEscape(st.Commit)
		h.Set("Accept", "application/vnd.github+json")
		h.Set("X-GitHub-Api-Version", "2022-11-28")
		if token != "" {
			h.Set("Authorization", "Bearer "+token)
		}
		body = hubBody{State: st.State, TargetURL: st.TargetURL, Description: clip(st.Description, githubDescription), Context: st.Context}
	case push.Gitea:
		path = "/repos/" + segments(st.Repository) + "/statuses/" + url.PathEscape(st.Commit)
		if token != "" {
			h.Set("Authorization", "token "+token)
		}
		body = hubBody{State: st.State, TargetURL: st.TargetURL, Description: clip(st.Description, otherDescription), Context: st.Context}
	case push.GitLab:
		path = "/projects/" + url.PathEscape(st.Repository) + "/statuses/" + url.PathEscape(st.Commit)
		if token != "" {
			h.Set("PRIVATE-TOKEN", token)
		}
		body = gitlabBody{State: gitlabState[st.State], Name: st.Context, TargetURL: st.TargetURL,
			Description: clip(st.Description, otherDescription), Ref: st.Ref}
	case push.Bitbucket:
		path = "/repositories/" + segments(st.Repository) + "/commit/" + url.PathEscape(st.Commit) + "/statuses/build"
		switch {
		case strings.Contains(token, ":"):
			h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(token)))
		case token != "":
			h.Set("Authorization", "Bearer "+token)
		}
		body = bitbucketBody{Key: shortKey(st.Context, bitbucketKey), State: bitbucketState[st.State], Name: st.Context,
			URL: st.TargetURL, Description: clip(st.Description, otherDescription)}
	default:
		return nil, fmt.Errorf("provider %q: want github, gitlab, bitbucket or gitea", st.Provider)
	}
	if api == "" {
		return nil, fmt.Errorf("no API URL for %s repository %s (set repositories[].apiUrl)", st.Provider, st.Repository)
	}
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequest(http.MethodPost, api+path, bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("status URL: %w", err)
	}
	req.Header = h
	return req, nil
}

type hubBody struct {
	State       string `json:"state"`
	TargetURL   string `json:"target_url,omitempty"`
	Description string `json:"description"`
	Context     string `json:"context"`
}

type gitlabBody struct {
	State       string `json:"state"`
	Name        string `json:"name"`
	TargetURL   string `json:"target_url,omitempty"`
	Description string `json:"description"`
	Ref         string `json:"ref,omitempty"`
}

type bitbucketBody struct {
	Key         string `json:"key"`
	State       string `json:"state"`
	Name        string `json:"name"`
	URL         string `json:"url"`
	Description string `json:"description"`
}

var gitlabState = map[string]string{Pending: "running", Success: "success", Failure: "failed", Error: "canceled"}

var bitbucketState = map[string]string{Pending: "INPROGRESS", Success: "SUCCESSFUL", Failure: "FAILED", Error: "STOPPED"}

// benign reports whether a refused post means the host already shows
// the state: GitLab answers 400 "Cannot transition status via :run from
// :running" to the same state posted twice.
func benign(provider string, code int, body string) bool {
	return provider == push.GitLab && code == http.StatusBadRequest && strings.Contains(body, "Cannot transition status")
}
