package webhook

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/pushline/pushline/shared/push"
)

// Sentinels wrapped by Parse's errors.
var (
	ErrUnknownProvider        = errors.New("unknown webhook provider")
	ErrUnsupportedContentType = errors.New("unsupported content type")
	ErrMissingSignature       = errors.New("missing signature")
	ErrBadSignature           = errors.New("bad signature")
	ErrMalformed              = errors.New("malformed payload")
	ErrNoSecret               = errors.New("no webhook secret configured")
)

// Forgejo is the Variant of a Gitea delivery sent by Forgejo.
const Forgejo = "forgejo"

// Delivery is one verified webhook delivery.
type Delivery struct {
	Provider string `json:"provider"`          // push.GitHub, push.GitLab, push.Bitbucket, push.Gitea
	Variant  string `json:"variant,omitempty"` // Forgejo for Forgejo's Gitea-compatible deliveries
	Event    string `json:"event"`             // the provider's event name ("push", "Push Hook", "repo:push", …)
	ID       string `json:"id,omitempty"`      // the provider's delivery id, "" if it sends none
	// Pushes are the ref updates of a push event, in the order the
	// provider lists them (several only for Bitbucket). Deleted refs are
	// included with Deleted set; triggers decide what to do with them.
	Pushes []push.Push `json:"pushes,omitempty"`
	// Ignored says why a verified delivery carries no push (a ping, a
	// test or an event that is not a push).
	Ignored string `json:"ignored,omitempty"`
}

// Detect returns the provider (and variant) of a delivery from its
// headers. Gitea and Forgejo headers win over the X-GitHub-* ones Gitea
// also sends; Bitbucket Cloud is X-Event-Key plus one of its own headers.
func Detect(h http.Header) (provider, variant string, err error) {
	switch {
	case h.Get("X-Forgejo-Event") != "":
		return push.Gitea, Forgejo, nil
	case h.Get("X-Gitea-Event") != "":
		return push.Gitea, "", nil
	case h.Get("X-Gitlab-Event") != "":
		return push.GitLab, "", nil
	case h.Get("X-Event-Key") != "" && (h.Get("X-Hook-UUID") != "" || h.Get("X-Request-UUID") != "" ||
		strings.HasPrefix(h.Get("User-Agent"), "Bitbucket-Webhooks/")):
		return push.Bitbucket, "", nil
	case h.Get("X-GitHub-Event") != "":
		return push.GitHub, "", nil
	}
	return "", "", fmt.Errorf("%w: no X-GitHub-Event, X-Gitlab-Event, X-Event-Key (Bitbucket), X-Gitea-Event or X-Forgejo-Event header", ErrUnknownProvider)
}

// DeliveryID returns the delivery id a provider put in the headers, ""
// if none (for logging deliveries that fail before parsing).
func DeliveryID(h http.Header) string {
	for _, k := range []string{"X-GitHub-Delivery", "X-Gitea-Delivery", "X-Forgejo-Delivery", "X-Gitlab-Event-UUID", "X-Request-UUID"} {
		if v := h.Get(k); v != "" {
			return v
		}
	}
	return ""
}

// EventName returns the event a provider put in the headers ("push",
// "Merge Request Hook", "repo:push", …), "" if none (for logging
// deliveries that fail before parsing).
func EventName(h http.Header) string {
	for _, k := range []string{"X-Forgejo-Event", "X-Gitea-Event", "X-Gitlab-Event", "X-Event-Key", "X-GitHub-Event"} {
		if v := h.Get(k); v != "" {
			return v
		}
	}
	return ""
}

// Parse verifies a delivery with secret and parses it. body is the raw
// request body, exactly as received.
func Parse(secret []byte, h http.Header, body []byte) (Delivery, error) {
	if len(secret) == 0 {
		return Delivery{}, ErrNoSecret
	}
	provider, variant, err := Detect(h)
	if err != nil {
		return Delivery{}, err
	}
	d := Delivery{Provider: provider, Variant: variant}
	form, err := contentType(provider, h.Get("Content-Type"))
	if err != nil {
		return d, err
	}
	if err := Verify(provider, variant, secret, h, body); err != nil {
		return d, err
	}
	if form {
		if body, err = formPayload(body); err != nil {
			return d, err
		}
	}
	switch provider {
	case push.GitHub:
		d.Event, d.ID = h.Get("X-GitHub-Event"), h.Get("X-GitHub-Delivery")
		err = parseGitHub(&d, body)
	case push.Gitea:
		if variant == Forgejo {
			d.Event, d.ID = h.Get("X-Forgejo-Event"), h.Get("X-Forgejo-Delivery")
		} else {
			d.Event, d.ID = h.Get("X-Gitea-Event"), h.Get("X-Gitea-Delivery")
		}
		err = parseGitea(&d, body)
	case push.GitLab:
		d.Event, d.ID = h.Get("X-Gitlab-Event"), h.Get("X-Gitlab-Event-UUID")
		if d.ID == "" {
			d.ID = h.Get("X-Gitlab-Webhook-UUID")
		}
		err = parseGitLab(&d, body)
	case push.Bitbucket:
		d.Event, d.ID = h.Get("X-Event-Key"), h.Get("X-Request-UUID")
		if d.ID == "" && h.Get("X-Hook-UUID") != "" {
			d.ID = h.Get("X-Hook-UUID") + "/" + h.Get("X-Attempt-Number")
		}
		err = parseBitbucket(&d, body)
	}
	if err != nil {
		return d, err
	}
	for i := range d.Pushes {
		d.Pushes[i].Provider = provider
		d.Pushes[i].DeliveryID = d.ID
	}
	return d, nil
}

// contentType accepts application/json for every provider, and
// application/x-www-form-urlencoded (a "payload" field) for GitHub and
// Gitea, which offer it.
func contentType(provider, ct string) (form bool, err error) {
	mt := ct
	if i := strings.IndexByte(mt, ';'); i >= 0 {
		mt = mt[:i]
	}
	mt = strings.ToLower(strings.TrimSpace(mt))
	formOK := provider == push.GitHub || provider == push.Gitea
	want := "application/json"
	if formOK {
		want = "application/json or application/x-www-form-urlencoded"
	}
	switch {
	case mt == "application/json":
		return false, nil
	case mt == "application/x-www-form-urlencoded" && formOK:
		return true, nil
	case mt == "":
		return false, fmt.Errorf("%w: no Content-Type, want %s", ErrUnsupportedContentType, want)
	}
	return false, fmt.Errorf("%w %q: want %s", ErrUnsupportedContentType, mt, want)
}

func formPayload(body []byte) ([]byte, error) {
	v, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, fmt.Errorf("%w: form body: %v", ErrMalformed, err)
	}
	p := v.Get("payload")
	if p == "" {
		return nil, fmt.Errorf("%w: form body has no payload field", ErrMalformed)
	}
	return []byte(p), nil
}

// Signature headers.
const (
	HeaderGitHub    = "X-Hub-Signature-256" // sha256=<hex>
	HeaderBitbucket = "X-Hub-Signature"     // sha256=<hex>
	HeaderGitea     = "X-Gitea-Signature"   // <hex>
	HeaderForgejo   = "X-Forgejo-Signature" // <hex>
	HeaderGitLab    = "X-Gitlab-Token"      // the secret itself
)

// Verify checks a delivery's signature (GitHub, Bitbucket, Gitea,
// Forgejo: HMAC-SHA256 of the raw body) or token (GitLab) against secret,
// in constant time.
func Verify(provider, variant string, secret []byte, h http.Header, body []byte) error {
	if len(secret) == 0 {
		return ErrNoSecret
	}
	var name, prefix string
	switch provider {
	case push.GitHub:
		name, prefix = HeaderGitHub, "sha256="
	case push.Bitbucket:
		name, prefix = HeaderBitbucket, "sha256="
	case push.Gitea:
		name = HeaderGitea
		if variant == Forgejo {
			name = HeaderForgejo
		}
	case push.GitLab:
		tok := h.Get(HeaderGitLab)
		if tok == "" {
			return fmt.Errorf("%w: no %s header", ErrMissingSignature, HeaderGitLab)
		}
		if subtle.ConstantTimeCompare([]byte(tok), secret) != 1 {
			return fmt.Errorf("%w: %s does not match", ErrBadSignature, HeaderGitLab)
		}
		return nil
	default:
		return fmt.Errorf("%w %q", ErrUnknownProvider, provider)
	}
	sig := h.Get(name)
	if sig == "" {
		return fmt.Errorf("%w: no %s header", ErrMissingSignature, name)
	}
	if prefix != "" {
		if len(sig) < len(prefix) || !strings.EqualFold(sig[:len(prefix)], prefix) {
			return fmt.Errorf("%w: %s is not %s<hex> (only sha256 is accepted)", ErrBadSignature, name, prefix)
		}
		sig = sig[len(prefix):]
	}
	var got [sha256.Size]byte
	if len(sig) != hex.EncodedLen(sha256.Size) {
		return fmt.Errorf("%w: %s is not a hex HMAC-SHA256", ErrBadSignature, name)
	}
	if _, err := hex.Decode(got[:], []byte(sig)); err != nil {
		return fmt.Errorf("%w: %s is not a hex HMAC-SHA256", ErrBadSignature, name)
	}
	if !hmac.Equal(got[:], Sign(secret, body)) {
		return fmt.Errorf("%w: %s does not match the body", ErrBadSignature, name)
	}
	return nil
}

// Sign returns HMAC-SHA256(secret, body).
func Sign(secret, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return m.Sum(nil)
}

// SignatureHeader returns the header (name and value) that signs body
// with secret the way provider (and variant) does, for tests and tools.
func SignatureHeader(provider, variant string, secret, body []byte) (name, value string) {
	s := hex.EncodeToString(Sign(secret, body))
	switch provider {
	case push.GitHub:
		return HeaderGitHub, "sha256=" + s
	case push.Bitbucket:
		return HeaderBitbucket, "sha256=" + s
	case push.Gitea:
		if variant == Forgejo {
			return HeaderForgejo, s
		}
		return HeaderGitea, s
	case push.GitLab:
		return HeaderGitLab, string(secret)
	}
	return "", ""
}

// refParts splits a full ref into branch or tag; ok is false for other
// refs (notes, pull requests, …).
func refParts(ref string) (branch, tag string, ok bool) {
	if b, found := strings.CutPrefix(ref, "refs/heads/"); found && b != "" {
		return b, "", true
	}
	if t, found := strings.CutPrefix(ref, "refs/tags/"); found && t != "" {
		return "", t, true
	}
	return "", "", false
}

// validCommit reports whether s looks like a git object id (SHA-1 or
// SHA-256, lowercase hex).
func validCommit(s string) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// finish checks and completes a push built by a provider parser: ref
// kind, commit ids, deletion. It returns an ignore reason for refs that
// are neither branches nor tags.
func finish(p *push.Push) (ignored string, err error) {
	if p.Repository == "" {
		return "", fmt.Errorf("%w: no repository full name", ErrMalformed)
	}
	if p.Ref == "" {
		return "", fmt.Errorf("%w: no ref", ErrMalformed)
	}
	var ok bool
	p.Branch, p.Tag, ok = refParts(p.Ref)
	if !ok {
		return fmt.Sprintf("ref %s is neither a branch nor a tag", p.Ref), nil
	}
	if p.Before == "" {
		p.Before = push.ZeroCommit
	}
	if !validCommit(p.After) {
		return "", fmt.Errorf("%w: after %q is not a commit id", ErrMalformed, p.After)
	}
	if !validCommit(p.Before) {
		return "", fmt.Errorf("%w: before %q is not a commit id", ErrMalformed, p.Before)
	}
	if p.After == push.ZeroCommit || strings.Trim(p.After, "0") == "" {
		p.Deleted = true
		p.Files, p.FilesComplete = nil, false
		p.HeadCommit = push.Commit{}
	}
	if p.HeadCommit.ID == "" && !p.Deleted {
		p.HeadCommit.ID = p.After
	}
	return "", nil
}

// author formats a commit author as "Name <email>".
func author(name, email string) string {
	switch {
	case email == "":
		return name
	case name == "":
		return "<" + email + ">"
	}
	return name + " <" + email + ">"
}

// files collects the distinct paths of lists in order.
type files struct {
	seen map[string]struct{}
	list []string
}

// grow sizes the set for about n paths.
func (f *files) grow(n int) {
	if f.seen == nil && n > 8 {
		f.seen = make(map[string]struct{}, n)
		f.list = make([]string, 0, n)
	}
}

func (f *files) addOne(p string) {
	if f.seen == nil {
		f.seen = make(map[string]struct{})
	}
	if _, ok := f.seen[p]; !ok {
		f.seen[p] = struct{}{}
		f.list = append(f.list, p)
	}
}

func (f *files) add(paths ...[]string) {
	if f.seen == nil {
		f.seen = make(map[string]struct{})
	}
	for _, l := range paths {
		for _, p := range l {
			if _, ok := f.seen[p]; !ok {
				f.seen[p] = struct{}{}
				f.list = append(f.list, p)
			}
		}
	}
}

// trimJSON rejects bodies that are not a JSON object before decoding.
func jsonObject(body []byte) error {
	b := bytes.TrimLeft(body, " \t\r\n")
	if len(b) == 0 || b[0] != '{' {
		return fmt.Errorf("%w: body is not a JSON object", ErrMalformed)
	}
	return nil
}
