package ingest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/pushline/pushline/shared/config"
	"github.com/pushline/pushline/shared/trigger"
	"github.com/pushline/pushline/shared/webhook"
)

// bigGitHubPush returns a signed GitHub push delivery of at least size
// bytes, grown from events/webhook/github/push-branch by adding commits
// that each touch a few files.
func bigGitHubPush(tb testing.TB, size int) (http.Header, []byte) {
	tb.Helper()
	h, raw := delivery(tb, "github/push-branch")
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		tb.Fatal(err)
	}
	commits := m["commits"].([]any)
	tmpl := commits[len(commits)-1].(map[string]any)
	for i := 0; ; {
		body, _ := json.Marshal(m)
		if len(body) >= size {
			sign(h, body)
			return h, body
		}
		// about 400 bytes a commit: add what is missing in one go
		for n := (size-len(body))/400 + 1; n > 0; n-- {
			c := map[string]any{}
			for k, v := range tmpl {
				c[k] = v
			}
			i++
			c["id"] = fmt.Sprintf("%040x", i)
			c["message"] = fmt.Sprintf("Change %d\n\nA longer body that explains the change in a sentence or two.", i)
			c["modified"] = []string{fmt.Sprintf("src/pkg%d/file%d.go", i%17, i), "go.sum"}
			c["added"] = []string{fmt.Sprintf("docs/notes/%d.md", i)}
			commits = append(commits, c)
		}
		m["commits"] = commits
	}
}

var benchSizes = []struct {
	name string
	size int
}{{"25KiB", 25 << 10}, {"1MiB", 1 << 20}}

// BenchmarkVerifyParseMatch is the webhook hot path without Step
// Functions: verify the signature, parse the push, match the triggers.
func BenchmarkVerifyParseMatch(b *testing.B) {
	repos := testConfig(config.ModeSuperseded).Repositories
	repos[0].Paths = []string{"src/**", "buildspec.yml"}
	repos[0].IgnorePaths = []string{"docs/**"}
	m, err := trigger.New(repos)
	if err != nil {
		b.Fatal(err)
	}
	for _, s := range benchSizes {
		b.Run(s.name, func(b *testing.B) {
			h, body := bigGitHubPush(b, s.size)
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				d, err := webhook.Parse([]byte(testSecret), h, body)
				if err != nil {
					b.Fatal(err)
				}
				if !m.Match(d.Pushes[0]).Matched() {
					b.Fatal("no match")
				}
			}
		})
	}
}
