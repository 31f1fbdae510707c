package webhook

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/pushline/pushline/shared/push"
)

var fuzzProviders = []struct{ eventHeader, provider, variant string }{
	{"X-GitHub-Event", push.GitHub, ""},
	{"X-Gitlab-Event", push.GitLab, ""},
	{"X-Event-Key", push.Bitbucket, ""},
	{"X-Gitea-Event", push.Gitea, ""},
	{"X-Forgejo-Event", push.Gitea, Forgejo},
}

var sentinels = []error{ErrUnknownProvider, ErrUnsupportedContentType, ErrMissingSignature, ErrBadSignature, ErrMalformed}

func isSentinel(err error) bool {
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// FuzzParse feeds correctly signed arbitrary bodies to every provider's
// parser: no panic, only sentinel errors, and every push it returns is
// well formed.
func FuzzParse(f *testing.F) {
	for _, fx := range loadFixtures(f) {
		p, _, _ := Detect(fx.header)
		for i, fp := range fuzzProviders {
			if fp.provider == p {
				event := fx.header.Get(fp.eventHeader)
				f.Add(uint8(i), event, fx.header.Get("Content-Type"), fx.body)
				break
			}
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, event, contentType string, body []byte) {
		fp := fuzzProviders[int(which)%len(fuzzProviders)]
		h := http.Header{}
		h.Set(fp.eventHeader, event)
		h.Set("Content-Type", contentType)
		if fp.provider == push.Bitbucket {
			h.Set("X-Request-UUID", "fuzz")
		}
		k, v := SignatureHeader(fp.provider, fp.variant, testSecret, body)
		h.Set(k, v)
		d, err := Parse(testSecret, h, body)
		if err != nil {
			if !isSentinel(err) {
				t.Fatalf("error %v wraps no sentinel", err)
			}
			return
		}
		if event != "" && d.Provider != fp.provider {
			t.Fatalf("provider %q, want %q", d.Provider, fp.provider)
		}
		if (d.Ignored == "") == (len(d.Pushes) == 0) {
			t.Fatalf("ignored %q with %d pushes", d.Ignored, len(d.Pushes))
		}
		for _, p := range d.Pushes {
			if pr := p.PullRequest; pr != nil {
				if p.Repository == "" || !validHash(p.After, bitbucketMinHash) || !validCommit(p.Before) || pr.Number <= 0 ||
					pr.BaseBranch == "" || p.Ref != PullRequestRef(fp.provider, pr.Number) || p.Deleted || p.Tag != "" {
					t.Fatalf("bad pull request push %+v %+v", p, *pr)
				}
				continue
			}
			if p.Repository == "" || !validCommit(p.After) || !validCommit(p.Before) {
				t.Fatalf("bad push %+v", p)
			}
			if (p.Branch == "") == (p.Tag == "") || !strings.HasPrefix(p.Ref, "refs/") {
				t.Fatalf("bad ref in %+v", p)
			}
			if p.Deleted != (strings.Trim(p.After, "0") == "") {
				t.Fatalf("deleted %v with after %s", p.Deleted, p.After)
			}
		}
	})
}

// FuzzVerify: arbitrary signature headers never pass unless they are the
// body's HMAC, and never panic.
func FuzzVerify(f *testing.F) {
	f.Add(uint8(0), "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17", []byte("Hello, World!"))
	f.Add(uint8(2), "sha256=", []byte("{}"))
	f.Add(uint8(3), "zz", []byte("{}"))
	f.Add(uint8(1), "pushline-test-secret", []byte("{}"))
	f.Fuzz(func(t *testing.T, which uint8, sig string, body []byte) {
		fp := fuzzProviders[int(which)%len(fuzzProviders)]
		h := http.Header{}
		name, want := SignatureHeader(fp.provider, fp.variant, testSecret, body)
		h.Set(name, sig)
		err := Verify(fp.provider, fp.variant, testSecret, h, body)
		if err != nil {
			if !errors.Is(err, ErrBadSignature) && !errors.Is(err, ErrMissingSignature) {
				t.Fatalf("error %v", err)
			}
			return
		}
		if !strings.EqualFold(h.Get(name), want) {
			t.Fatalf("%s %q accepted, want %q", name, sig, want)
		}
	})
}
