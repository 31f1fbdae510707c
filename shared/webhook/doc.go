// Package webhook verifies and parses git hosts' webhook deliveries —
// GitHub, GitLab, Bitbucket Cloud and Gitea/Forgejo — from the raw body and
// headers (not an *http.Request, so API Gateway events and local HTTP share
// it) into normalized push.Push values.
//
// Parse detects the provider from the headers (Gitea/Forgejo headers win
// over the GitHub-style ones Gitea also sends), checks the content type,
// verifies the signature or token in constant time (HMAC-SHA256 only), and
// decodes only the fields a pipeline needs. Deliveries that are not pushes
// (pings, test and diagnostic events, other event types) are not errors:
// they come back with no pushes and a reason in Delivery.Ignored.
//
// Pull requests (pullrequest.go): GitHub and Gitea/Forgejo pull_request
// (Gitea also sends pull_request_sync), GitLab Merge Request Hook and
// Bitbucket Cloud pullrequest:* deliveries become one push with
// PullRequest set: Ref is the pull request's head ref (PullRequestRef),
// Branch its source branch, After its head commit (Bitbucket sends 12-digit
// abbreviations), Repository the base (target) repository. Actions that
// bring code (opened, synchronize(d), reopened; open, reopen, update with
// oldrev; pullrequest:created, pullrequest:updated) run; closing and
// merging ones come back with PullRequest.Closed; every other action is
// ignored, the reason naming it.
//
// File lists: Push.Files is the set of paths the listed commits added,
// removed or modified. FilesComplete is false — triggers then treat the
// push as touching every path — when the provider sent no commits (tag
// pushes, new refs without new commits, Bitbucket, which sends no file
// lists at all), when it says it listed fewer commits than were pushed
// (GitLab total_commits_count, Gitea total_commits, GitHub's Events-API
// size), or when GitHub's documented caps are reached (2048 commits,
// 3000 paths in one list).
//
// The GitHub/Gitea payload, the large one on the hot path, is read by a
// small hand-written decoder (scan.go) that decodes only the members a
// push needs and skips the rest, still checking every skipped byte as
// json.Valid does. Two fuzz tests hold it to encoding/json: the same
// values for what encoding/json decodes (FuzzDecodeHub), and nothing
// accepted that json.Valid rejects (FuzzDecodeHubValid). GitLab and
// Bitbucket use encoding/json.
//
// Errors wrap one of the sentinels (ErrUnknownProvider,
// ErrUnsupportedContentType, ErrMissingSignature, ErrBadSignature,
// ErrMalformed), which the HTTP handler maps to a status.
package webhook
