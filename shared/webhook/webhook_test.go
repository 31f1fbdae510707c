package webhook

import (
	"encoding/json"
	"errors"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pushline/pushline/shared/push"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// testSecret signs every delivery under events/webhook (see its README).
var testSecret = []byte("pushline-test-secret")

const eventsDir = "../../events/webhook"

// fixture is one sample delivery from events/webhook.
type fixture struct {
	name   string // provider/case
	header http.Header
	body   []byte
}

func loadFixtures(t testing.TB) []fixture {
	t.Helper()
	hs, err := filepath.Glob(filepath.Join(eventsDir, "*", "*.headers.json"))
	if err != nil || len(hs) == 0 {
		t.Fatalf("no fixtures under %s: %v", eventsDir, err)
	}
	var out []fixture
	for _, hp := range hs {
		base := strings.TrimSuffix(hp, ".headers.json")
		body, err := os.ReadFile(base + ".json")
		if errors.Is(err, os.ErrNotExist) {
			body, err = os.ReadFile(base + ".form")
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fixture{
			name:   filepath.Base(filepath.Dir(hp)) + "/" + filepath.Base(base),
			header: readHeader(t, hp),
			body:   body,
		})
	}
	return out
}

func readHeader(t testing.TB, path string) http.Header {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	h := http.Header{}
	for k, v := range m {
		h.Set(k, v)
	}
	return h
}

// TestFixtures parses every sample delivery and compares the result with
// its golden file (go test -update rewrites them).
func TestFixtures(t *testing.T) {
	for _, f := range loadFixtures(t) {
		t.Run(f.name, func(t *testing.T) {
			d, err := Parse(testSecret, f.header, f.body)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			got, err := json.MarshalIndent(d, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			golden := filepath.Join("testdata", "golden", strings.ReplaceAll(f.name, "/", "-")+".json")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("Parse(%s) mismatch (-golden +got):\n%s", f.name, diff)
			}
		})
	}
}

// TestCases pins the decisions each provider's fixtures must lead to.
func TestCases(t *testing.T) {
	type want struct {
		provider, variant string
		pushes            int
		ignored           bool
		deleted           bool
		tag               string
		branch            string
		after             string
		filesComplete     bool
		files             []string
	}
	tests := map[string]want{
		"github/push-branch":            {provider: "github", pushes: 1, branch: "master", after: "25d6d9e64a7bc5d1c1a2e0c4f8fbbd6a2b5c7e11", filesComplete: true, files: []string{"buildspec.yml", "src/parse.go", "README.md", "docs/guide.md", "docs/old.md"}},
		"github/push-branch-form":       {provider: "github", pushes: 1, branch: "master", after: "25d6d9e64a7bc5d1c1a2e0c4f8fbbd6a2b5c7e11", filesComplete: true, files: []string{"buildspec.yml", "src/parse.go", "README.md", "docs/guide.md", "docs/old.md"}},
		"github/push-branch-created":    {provider: "github", pushes: 1, branch: "master", after: "6113728f27ae82c7b1a177c8d03f9e96e0adf246", filesComplete: true, files: []string{"README.md"}},
		"github/push-tag-created":       {provider: "github", pushes: 1, tag: "simple-tag", after: "6113728f27ae82c7b1a177c8d03f9e96e0adf246"},
		"github/push-tag-deleted":       {provider: "github", pushes: 1, tag: "simple-tag", deleted: true, after: push.ZeroCommit},
		"github/ping":                   {provider: "github", ignored: true},
		"github/issues-opened":          {provider: "github", ignored: true},
		"gitlab/push":                   {provider: "gitlab", pushes: 1, branch: "master", after: "da1560886d4f094c3e6c9ef40349f7d38b5d27d7", filesComplete: true, files: []string{"CHANGELOG", "app/controller/application.rb"}},
		"gitlab/push-truncated":         {provider: "gitlab", pushes: 1, branch: "master", after: "da1560886d4f094c3e6c9ef40349f7d38b5d27d7", files: []string{"CHANGELOG", "app/controller/application.rb"}},
		"gitlab/tag-push":               {provider: "gitlab", pushes: 1, tag: "v1.0.0", after: "82b3d5ae55f7080f1e6022629cdb57bfae7cccc7"},
		"gitlab/push-branch-deleted":    {provider: "gitlab", pushes: 1, branch: "feature/old", deleted: true, after: push.ZeroCommit},
		"gitlab/merge-request":          {provider: "gitlab", pushes: 1, branch: "ms-viewport", after: "da1560886d4f094c3e6c9ef40349f7d38b5d27d7"},
		"bitbucket/push":                {provider: "bitbucket", pushes: 1, branch: "main", after: "03f4a7270240708834de475bcf21532d6134777e"},
		"bitbucket/push-multi":          {provider: "bitbucket", pushes: 3, branch: "main", after: "03f4a7270240708834de475bcf21532d6134777e"},
		"bitbucket/push-branch-deleted": {provider: "bitbucket", pushes: 1, branch: "feature/login", deleted: true, after: push.ZeroCommit},
		"bitbucket/pullrequest-created": {provider: "bitbucket", pushes: 1, branch: "feature/login", after: "9fceb02d0ae5"},
		"gitea/push":                    {provider: "gitea", pushes: 1, branch: "develop", after: "bffeb74224043ba2feb48d137756c8a9331c449a", filesComplete: true, files: []string{"src/hooks.go", "README.md"}},
		"gitea/push-forgejo":            {provider: "gitea", variant: Forgejo, pushes: 1, branch: "develop", after: "bffeb74224043ba2feb48d137756c8a9331c449a", filesComplete: true, files: []string{"src/hooks.go", "README.md"}},
		"gitea/push-truncated":          {provider: "gitea", pushes: 1, branch: "develop", after: "bffeb74224043ba2feb48d137756c8a9331c449a", files: []string{"src/hooks.go", "README.md"}},
		"gitea/push-tag":                {provider: "gitea", pushes: 1, tag: "v1.0.0", after: "bffeb74224043ba2feb48d137756c8a9331c449a"},
		"gitea/push-branch-deleted":     {provider: "gitea", pushes: 1, branch: "develop", deleted: true, after: push.ZeroCommit},
		"gitea/create":                  {provider: "gitea", ignored: true},
	}
	seen := 0
	for _, f := range loadFixtures(t) {
		w, ok := tests[f.name]
		if !ok {
			continue
		}
		seen++
		t.Run(f.name, func(t *testing.T) {
			d, err := Parse(testSecret, f.header, f.body)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if d.Provider != w.provider || d.Variant != w.variant {
				t.Errorf("provider = %s/%s, want %s/%s", d.Provider, d.Variant, w.provider, w.variant)
			}
			if d.ID == "" {
				t.Error("no delivery id")
			}
			if (d.Ignored != "") != w.ignored || len(d.Pushes) != w.pushes {
				t.Fatalf("ignored %q, %d pushes; want ignored=%v, %d pushes", d.Ignored, len(d.Pushes), w.ignored, w.pushes)
			}
			if w.pushes == 0 {
				return
			}
			p := d.Pushes[0]
			got := want{provider: p.Provider, variant: d.Variant, pushes: len(d.Pushes), deleted: p.Deleted, tag: p.Tag, branch: p.Branch,
				after: p.After, filesComplete: p.FilesComplete, files: p.Files}
			if diff := cmp.Diff(w, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("push mismatch (-want +got):\n%s", diff)
			}
			if p.DeliveryID != d.ID || p.Repository == "" || p.CloneURL == "" || p.WebURL == "" {
				t.Errorf("incomplete push: %+v", p)
			}
		})
	}
	if seen != len(tests) {
		t.Errorf("checked %d fixtures, want %d", seen, len(tests))
	}
}

// TestGitHubVector is GitHub's documented signature test vector.
func TestGitHubVector(t *testing.T) {
	h := http.Header{}
	h.Set(HeaderGitHub, "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")
	if err := Verify(push.GitHub, "", []byte("It's a Secret to Everybody"), h, []byte("Hello, World!")); err != nil {
		t.Fatalf("GitHub test vector: %v", err)
	}
	h.Set(HeaderGitHub, "sha256=757107EA0EB2509FC211221CCE984B8A37570B6D7586C22C46F4379C8B043E17")
	if err := Verify(push.GitHub, "", []byte("It's a Secret to Everybody"), h, []byte("Hello, World!")); err != nil {
		t.Fatalf("GitHub test vector, upper-case hex: %v", err)
	}
	if err := Verify(push.GitHub, "", []byte("It's a Secret to Everybody"), h, []byte("Hello, World?")); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("changed body: %v, want ErrBadSignature", err)
	}
}

// TestRejected: forged, unsigned, malformed and unsupported deliveries of
// every provider.
func TestRejected(t *testing.T) {
	fixtures := map[string]fixture{}
	for _, f := range loadFixtures(t) {
		fixtures[f.name] = f
	}
	good := []string{"github/push-branch", "gitlab/push", "bitbucket/push", "gitea/push", "gitea/push-forgejo"}
	type mutate func(h http.Header, body []byte) (http.Header, []byte)
	cases := []struct {
		name string
		mut  mutate
		want error
	}{
		{"forged body", func(h http.Header, b []byte) (http.Header, []byte) {
			return h, append([]byte(strings.Replace(string(b), "\"ref\"", "\"ref\" ", 1)), ' ')
		}, ErrBadSignature},
		{"wrong secret", func(h http.Header, b []byte) (http.Header, []byte) {
			p, v, _ := Detect(h)
			k, val := SignatureHeader(p, v, []byte("not-the-secret"), b)
			h.Set(k, val)
			return h, b
		}, ErrBadSignature},
		{"no signature", func(h http.Header, b []byte) (http.Header, []byte) {
			for _, k := range []string{HeaderGitHub, HeaderBitbucket, HeaderGitea, HeaderForgejo, HeaderGitLab} {
				h.Del(k)
			}
			return h, b
		}, ErrMissingSignature},
		{"sha1 signature", func(h http.Header, b []byte) (http.Header, []byte) {
			p, v, _ := Detect(h)
			k, val := SignatureHeader(p, v, testSecret, b)
			if strings.HasPrefix(val, "sha256=") {
				val = "sha1=" + val[7:47]
			} else if p == push.Gitea {
				val = val[:40]
			} else {
				val = "x" // GitLab: a wrong token
			}
			h.Set(k, val)
			return h, b
		}, ErrBadSignature},
		{"truncated json, signed", func(h http.Header, b []byte) (http.Header, []byte) {
			b = b[:len(b)/2]
			p, v, _ := Detect(h)
			k, val := SignatureHeader(p, v, testSecret, b)
			h.Set(k, val)
			return h, b
		}, ErrMalformed},
		{"not an object, signed", func(h http.Header, _ []byte) (http.Header, []byte) {
			b := []byte(`["ref"]`)
			p, v, _ := Detect(h)
			k, val := SignatureHeader(p, v, testSecret, b)
			h.Set(k, val)
			return h, b
		}, ErrMalformed},
		{"bad commit id, signed", func(h http.Header, b []byte) (http.Header, []byte) {
			s := strings.ReplaceAll(string(b), "bffeb74224043ba2feb48d137756c8a9331c449a", "../../etc/passwd")
			s = strings.ReplaceAll(s, "25d6d9e64a7bc5d1c1a2e0c4f8fbbd6a2b5c7e11", "../../etc/passwd")
			s = strings.ReplaceAll(s, "da1560886d4f094c3e6c9ef40349f7d38b5d27d7", "../../etc/passwd")
			s = strings.ReplaceAll(s, "03f4a7270240708834de475bcf21532d6134777e", "../../etc/passwd")
			b = []byte(s)
			p, v, _ := Detect(h)
			k, val := SignatureHeader(p, v, testSecret, b)
			h.Set(k, val)
			return h, b
		}, ErrMalformed},
		{"text/plain", func(h http.Header, b []byte) (http.Header, []byte) {
			h.Set("Content-Type", "text/plain")
			return h, b
		}, ErrUnsupportedContentType},
		{"no content type", func(h http.Header, b []byte) (http.Header, []byte) {
			h.Del("Content-Type")
			return h, b
		}, ErrUnsupportedContentType},
	}
	for _, name := range good {
		for _, c := range cases {
			t.Run(name+"/"+c.name, func(t *testing.T) {
				if name == "gitlab/push" && c.name == "forged body" {
					t.Skip("GitLab sends a token, not a body signature")
				}
				f := fixtures[name]
				h, b := c.mut(f.header.Clone(), append([]byte(nil), f.body...))
				_, err := Parse(testSecret, h, b)
				if !errors.Is(err, c.want) {
					t.Fatalf("Parse error = %v, want %v", err, c.want)
				}
			})
		}
	}
	t.Run("unknown provider", func(t *testing.T) {
		_, err := Parse(testSecret, http.Header{"Content-Type": {"application/json"}}, []byte("{}"))
		if !errors.Is(err, ErrUnknownProvider) {
			t.Fatalf("error = %v, want ErrUnknownProvider", err)
		}
	})
	t.Run("bitbucket without its own headers", func(t *testing.T) {
		_, err := Parse(testSecret, http.Header{"X-Event-Key": {"repo:push"}}, []byte("{}"))
		if !errors.Is(err, ErrUnknownProvider) {
			t.Fatalf("error = %v, want ErrUnknownProvider", err)
		}
	})
	t.Run("no secret", func(t *testing.T) {
		f := fixtures["github/push-branch"]
		if _, err := Parse(nil, f.header, f.body); !errors.Is(err, ErrNoSecret) {
			t.Fatalf("error = %v, want ErrNoSecret", err)
		}
	})
	t.Run("gitlab form", func(t *testing.T) {
		f := fixtures["gitlab/push"]
		h := f.header.Clone()
		h.Set("Content-Type", "application/x-www-form-urlencoded")
		if _, err := Parse(testSecret, h, f.body); !errors.Is(err, ErrUnsupportedContentType) {
			t.Fatalf("error = %v, want ErrUnsupportedContentType", err)
		}
	})
	t.Run("github form without payload", func(t *testing.T) {
		f := fixtures["github/push-branch-form"]
		b := []byte("other=1")
		h := f.header.Clone()
		k, v := SignatureHeader(push.GitHub, "", testSecret, b)
		h.Set(k, v)
		if _, err := Parse(testSecret, h, b); !errors.Is(err, ErrMalformed) {
			t.Fatalf("error = %v, want ErrMalformed", err)
		}
	})
}

// TestDetectGiteaWins: Gitea sends X-GitHub-Event too; its own header
// decides, and GitHub's signature header alone does not verify it.
func TestDetectGiteaWins(t *testing.T) {
	h := http.Header{}
	h.Set("X-GitHub-Event", "push")
	h.Set("X-Gitea-Event", "push")
	p, v, err := Detect(h)
	if err != nil || p != push.Gitea || v != "" {
		t.Fatalf("Detect = %q %q %v, want gitea", p, v, err)
	}
	h.Set("X-Forgejo-Event", "push")
	if p, v, _ := Detect(h); p != push.Gitea || v != Forgejo {
		t.Fatalf("Detect = %q %q, want gitea/forgejo", p, v)
	}
	body := []byte(`{}`)
	_, sig := SignatureHeader(push.GitHub, "", testSecret, body)
	h.Set(HeaderGitHub, sig)
	if err := Verify(push.Gitea, Forgejo, testSecret, h, body); !errors.Is(err, ErrMissingSignature) {
		t.Fatalf("Verify = %v, want ErrMissingSignature", err)
	}
}

func TestEventName(t *testing.T) {
	tests := []struct {
		header http.Header
		want   string
	}{
		{http.Header{"X-Github-Event": {"push"}}, "push"},
		{http.Header{"X-Gitea-Event": {"pull_request"}, "X-Github-Event": {"pull_request"}}, "pull_request"},
		{http.Header{"X-Gitlab-Event": {"Merge Request Hook"}}, "Merge Request Hook"},
		{http.Header{"X-Event-Key": {"pullrequest:created"}}, "pullrequest:created"},
		{http.Header{}, ""},
	}
	for _, tt := range tests {
		if got := EventName(tt.header); got != tt.want {
			t.Errorf("EventName(%v) = %q, want %q", tt.header, got, tt.want)
		}
	}
}
