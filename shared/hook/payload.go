package hook

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/pushline/pushline/shared/codecommit"
	"github.com/pushline/pushline/shared/push"
	"github.com/pushline/pushline/shared/webhook"
)

// Local identity of the CodeCommit events the hook sends.
const (
	localRegion  = "us-east-1"
	localAccount = "000000000000"
)

// request builds the provider's delivery of u.
func (d *deliverer) request(ctx context.Context, u update) (*http.Request, error) {
	var (
		body []byte
		h    = http.Header{}
		path = "/webhook"
	)
	switch d.o.Provider {
	case push.CodeCommit:
		body, path = codeCommitEvent(d.o.Repository, u), "/codecommit"
	case push.GitHub:
		body = hubBody(d.o.Repository, u, "https://github.com/"+d.o.Repository)
		h.Set("X-GitHub-Event", "push")
		h.Set("X-GitHub-Delivery", uuid.NewString())
		h.Set("X-GitHub-Hook-ID", "1")
		h.Set("User-Agent", "GitHub-Hookshot/pushline-hook")
	case push.Gitea:
		body = hubBody(d.o.Repository, u, "http://localhost:3000/"+d.o.Repository)
		h.Set("X-Gitea-Event", "push")
		h.Set("X-Gitea-Delivery", uuid.NewString())
	case push.GitLab:
		body = gitlabBody(d.o.Repository, u)
		event := "Push Hook"
		if u.tag != "" {
			event = "Tag Push Hook"
		}
		h.Set("X-Gitlab-Event", event)
		h.Set("X-Gitlab-Event-UUID", uuid.NewString())
	case push.Bitbucket:
		body = bitbucketBody(d.o.Repository, u)
		h.Set("X-Event-Key", "repo:push")
		h.Set("X-Request-UUID", uuid.NewString())
		h.Set("X-Hook-UUID", uuid.NewString())
		h.Set("User-Agent", "Bitbucket-Webhooks/2.0")
	}
	if d.o.Provider != push.CodeCommit {
		secret, err := d.secret()
		if err != nil {
			return nil, err
		}
		k, v := webhook.SignatureHeader(d.o.Provider, "", secret, body)
		h.Set(k, v)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(d.o.HTTPURL, "/")+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	for k, v := range h {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	return req, nil
}

// cloneURL is the bare repository's file:// URL (the hook runs in it).
func cloneURL() string {
	abs, err := filepath.Abs(".")
	if err != nil {
		return ""
	}
	return "file://" + abs
}

func name(a string) (string, string) {
	n, email, _ := strings.Cut(a, " <")
	return n, strings.TrimSuffix(email, ">")
}

// hubCommits are the commits GitHub and Gitea list: the head commit, with the
// files of all the pushed commits (one entry stands for them).
func hubCommits(u update, web string) (head map[string]any, commits []any) {
	if u.new == push.ZeroCommit {
		return nil, []any{}
	}
	n, email := name(u.head.Author)
	author := map[string]string{"name": n, "email": email, "username": n}
	files := u.files
	if files == nil {
		files = []string{}
	}
	head = map[string]any{
		"id": u.new, "tree_id": u.new, "distinct": true, "message": u.head.Message,
		"timestamp": u.head.Timestamp.Format(time.RFC3339), "url": web + "/commit/" + u.new,
		"author": author, "committer": author,
		"added": []string{}, "removed": []string{}, "modified": files,
	}
	if u.commits == 0 {
		return head, []any{}
	}
	return head, []any{head}
}

func hubBody(repository string, u update, web string) []byte {
	owner, short, _ := strings.Cut(repository, "/")
	head, commits := hubCommits(u, web)
	size := len(commits)
	if !u.complete && size > 0 {
		size++ // "more than listed": the file list is incomplete
	}
	body := map[string]any{
		"ref": u.ref, "before": u.old, "after": u.new,
		"created": u.old == push.ZeroCommit, "deleted": u.new == push.ZeroCommit, "forced": false,
		"commits": commits, "head_commit": head, "size": size, "total_commits": size,
		"repository": map[string]any{
			"name": short, "full_name": repository, "private": true,
			"html_url": web, "clone_url": cloneURL(), "default_branch": "main",
			"owner": map[string]any{"login": owner, "name": owner},
		},
		"pusher": map[string]string{"name": pusher(), "login": pusher(), "username": pusher()},
		"sender": map[string]any{"login": pusher()},
	}
	b, _ := json.Marshal(body)
	return b
}

func gitlabBody(repository string, u update) []byte {
	web := "https://gitlab.com/" + repository
	_, commits := hubCommits(u, web)
	kind := "push"
	if u.tag != "" {
		kind = "tag_push"
	}
	total := len(commits)
	if !u.complete && total > 0 {
		total++
	}
	var checkout any
	if u.new != push.ZeroCommit {
		checkout = u.new
	}
	body := map[string]any{
		"object_kind": kind, "event_name": kind, "ref": u.ref, "before": u.old, "after": u.new,
		"checkout_sha": checkout, "user_username": pusher(), "user_name": pusher(),
		"project":             map[string]any{"path_with_namespace": repository, "web_url": web, "git_http_url": cloneURL()},
		"commits":             commits,
		"total_commits_count": total,
	}
	b, _ := json.Marshal(body)
	return b
}

// bitbucketBody: Bitbucket sends no file lists (every path counts as
// touched), so neither does the hook.
func bitbucketBody(repository string, u update) []byte {
	typ, refName := "branch", u.branch
	if u.tag != "" {
		typ, refName = "tag", u.tag
	}
	web := "https://bitbucket.org/" + repository
	change := map[string]any{"old": nil, "new": nil, "created": u.old == push.ZeroCommit, "closed": u.new == push.ZeroCommit}
	if u.old != push.ZeroCommit {
		change["old"] = map[string]any{"type": typ, "name": refName, "target": map[string]any{"hash": u.old}}
	}
	if u.new != push.ZeroCommit {
		change["new"] = map[string]any{"type": typ, "name": refName, "target": map[string]any{
			"hash": u.new, "message": u.head.Message, "date": u.head.Timestamp.Format(time.RFC3339),
			"author": map[string]any{"raw": u.head.Author},
			"links":  map[string]any{"html": map[string]string{"href": web + "/commits/" + u.new}},
		}}
	}
	body := map[string]any{
		"actor":      map[string]string{"nickname": pusher(), "display_name": pusher()},
		"repository": map[string]any{"full_name": repository, "links": map[string]any{"html": map[string]string{"href": web}}},
		"push":       map[string]any{"changes": []any{change}},
	}
	b, _ := json.Marshal(body)
	return b
}

// codeCommitEvent is CodeCommit's EventBridge event for u, as a target
// receives it.
func codeCommitEvent(repository string, u update) []byte {
	d := codecommit.Detail{
		CallerUserArn: "arn:aws:iam::" + localAccount + ":user/" + pusher(),
		CommitID:      u.new, Event: codecommit.ReferenceUpdated,
		ReferenceFullName: u.ref, ReferenceName: u.branch, ReferenceType: "branch",
		RepositoryID: repositoryID(repository), RepositoryName: repository,
	}
	if u.tag != "" {
		d.ReferenceName, d.ReferenceType = u.tag, "tag"
	}
	switch {
	case u.new == push.ZeroCommit:
		d.Event, d.CommitID, d.OldCommitID = codecommit.ReferenceDeleted, "", u.old
	case u.old == push.ZeroCommit:
		d.Event = codecommit.ReferenceCreated
	default:
		d.OldCommitID = u.old
	}
	ev := codecommit.Event{
		Version: "0", ID: uuid.NewString(), DetailType: codecommit.DetailType, Source: codecommit.Source,
		Account: localAccount, Time: time.Now().UTC().Truncate(time.Second), Region: localRegion,
		Resources: []string{"arn:aws:codecommit:" + localRegion + ":" + localAccount + ":" + repository},
		Detail:    d,
	}
	b, _ := json.Marshal(ev)
	return b
}

// repositoryID is a stable uuid-shaped id for a local repository.
func repositoryID(repository string) string {
	return uuid.NewSHA1(uuid.NameSpaceURL, []byte("pushline-local:"+repository)).String()
}

// pusher is who pushed: the user the hook runs as.
func pusher() string {
	for _, k := range []string{"GL_USERNAME", "USER", "LOGNAME"} {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	var b [4]byte
	rand.Read(b[:])
	return "user-" + hex.EncodeToString(b[:])
}
