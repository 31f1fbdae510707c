package status

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// States, as pushline names them; each host's word is in hosts.go.
const (
	Pending = "pending"
	Success = "success"
	Failure = "failure"
	Error   = "error"
)

// Ranks order two states with the same event time.
const (
	rankPending = 0 // started, waiting
	rankImplied = 1 // final because the run ended (its stage said nothing)
	rankFinal   = 2 // the stage's or run's own final state
)

// Status is one commit status to post.
type Status struct {
	Provider   string `json:"provider"`
	APIURL     string `json:"apiUrl"`
	Repository string `json:"repository"`
	Commit     string `json:"commit"`
	Ref        string `json:"ref,omitempty"` // GitLab's ref parameter (a branch or tag)
	Context    string `json:"context"`
	State      string `json:"state"`
	// Description is clipped to the host's limit when posted.
	Description string `json:"description"`
	TargetURL   string `json:"targetUrl,omitempty"`
}

// Context names a run's context (stage and action empty), a stage's or a
// parallel action's.
func Context(pipeline, stage, action string) string {
	c := "pushline/" + pipeline
	if stage != "" {
		c += "/" + stage
	}
	if action != "" {
		c += "/" + action
	}
	return c
}

// clip shortens s to at most n characters (runes), marking a cut with "…".
func clip(s string, n int) string {
	s = strings.ToValidUTF8(strings.Join(strings.Fields(s), " "), "?")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// shortKey returns s if it has at most n bytes, else a prefix and a hash
// of it that fit (Bitbucket's 40-character key).
func shortKey(s string, n int) string {
	if len(s) <= n {
		return s
	}
	sum := sha256.Sum256([]byte(s))
	h := hex.EncodeToString(sum[:])[:12]
	return strings.ToValidUTF8(s[:n-13], "") + "-" + h
}

// duration formats d for a description: 42s, 3m12s, 1h4m.
func duration(d time.Duration) string {
	switch {
	case d < time.Second:
		return "under 1s"
	case d < time.Minute:
		return d.Round(time.Second).String()
	case d < time.Hour:
		d = d.Round(time.Second)
		return strings.TrimSuffix(d.String(), "0s")
	}
	d = d.Round(time.Minute)
	return strings.TrimSuffix(d.String(), "0s")
}

// RunPage returns a RunURL that links base + "/runs/<execution name>"
// (base is PUSHLINE_PUBLIC_URL; "" links nothing).
func RunPage(base string) func(executionARN string) string {
	base = strings.TrimSuffix(base, "/")
	return func(arn string) string {
		if base == "" {
			return ""
		}
		return base + "/runs/" + url.PathEscape(arn[strings.LastIndexByte(arn, ':')+1:])
	}
}
