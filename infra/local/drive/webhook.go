package drive

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// GitHubPush is what drive needs to build a GitHub push delivery.
type GitHubPush struct {
	Repository     string // "acme/app"
	CloneURL       string
	Ref            string // "refs/heads/main"
	Before, After  string
	Message        string
	Files          []string
	Pusher, Author string
}

// Body returns the push event body as GitHub sends it (the fields pushline
// reads, in GitHub's shape).
func (p GitHubPush) Body() []byte {
	owner, _, _ := strings.Cut(p.Repository, "/")
	web := "https://github.com/" + p.Repository
	author := map[string]string{"name": p.Author, "email": strings.ToLower(strings.ReplaceAll(p.Author, " ", ".")) + "@example.com", "username": p.Pusher}
	commit := map[string]any{
		"id": p.After, "tree_id": p.After, "distinct": true, "message": p.Message,
		"timestamp": time.Now().UTC().Format(time.RFC3339), "url": web + "/commit/" + p.After,
		"author": author, "committer": author,
		"added": []string{}, "removed": []string{}, "modified": p.Files,
	}
	body := map[string]any{
		"ref": p.Ref, "before": p.Before, "after": p.After,
		"created": strings.Trim(p.Before, "0") == "", "deleted": false, "forced": false,
		"compare": web + "/compare/" + p.Before[:12] + "..." + p.After[:12],
		"commits": []any{commit}, "head_commit": commit,
		"repository": map[string]any{
			"id": 1296269, "name": strings.TrimPrefix(p.Repository, owner+"/"), "full_name": p.Repository,
			"private": false, "html_url": web, "clone_url": p.CloneURL, "default_branch": "main",
			"owner": map[string]any{"login": owner, "name": owner},
		},
		"pusher": map[string]string{"name": p.Pusher, "email": author["email"]},
		"sender": map[string]any{"login": p.Pusher, "id": 1},
	}
	b, _ := json.Marshal(body)
	return b
}

// Answer is the webhook endpoint's answer.
type Answer struct {
	Status    int
	Body      []byte
	State     string `json:"status"`
	Execution string `json:"execution"`
	Reason    string `json:"reason"`
	Error     string `json:"error"`
}

// Deliver posts a GitHub delivery of event with body to url, signed with
// secret as GitHub signs it (X-Hub-Signature-256).
func Deliver(ctx context.Context, url, secret, event string, body []byte) (*Answer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	var id [16]byte
	_, _ = rand.Read(id[:])
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "GitHub-Hookshot/pushline-drive")
	req.Header.Set("X-GitHub-Event", event)
	req.Header.Set("X-GitHub-Delivery", hex.EncodeToString(id[:]))
	req.Header.Set("X-GitHub-Hook-ID", "1")
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("deliver webhook: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("read webhook answer: %w", err)
	}
	a := &Answer{Status: resp.StatusCode, Body: b}
	_ = json.Unmarshal(b, a)
	return a, nil
}
