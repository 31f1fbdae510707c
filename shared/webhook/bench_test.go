package webhook

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"testing"

	"github.com/pushline/pushline/shared/push"
)

// bigGitHubPush returns a GitHub push delivery (headers signed with
// secret, body) of at least size bytes, grown from the push-branch sample
// by adding commits that each touch a few files.
func bigGitHubPush(tb testing.TB, secret []byte, size int) (http.Header, []byte) {
	tb.Helper()
	raw, err := os.ReadFile(eventsDir + "/github/push-branch.json")
	if err != nil {
		tb.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		tb.Fatal(err)
	}
	commits := m["commits"].([]any)
	tmpl := commits[len(commits)-1].(map[string]any)
	for i := 0; ; {
		body, _ := json.Marshal(m)
		if len(body) >= size {
			h := readHeader(tb, eventsDir+"/github/push-branch.headers.json")
			k, v := SignatureHeader(push.GitHub, "", secret, body)
			h.Set(k, v)
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

func benchSizes() []struct {
	name string
	size int
} {
	return []struct {
		name string
		size int
	}{{"25KiB", 25 << 10}, {"1MiB", 1 << 20}}
}

// BenchmarkParse: verify + parse of a GitHub push.
func BenchmarkParse(b *testing.B) {
	for _, s := range benchSizes() {
		b.Run(s.name, func(b *testing.B) {
			h, body := bigGitHubPush(b, testSecret, s.size)
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				d, err := Parse(testSecret, h, body)
				if err != nil || len(d.Pushes) != 1 {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkHMAC is the lower bound of verification: HMAC-SHA256 of the
// body alone.
func BenchmarkHMAC(b *testing.B) {
	for _, s := range benchSizes() {
		b.Run(s.name, func(b *testing.B) {
			_, body := bigGitHubPush(b, testSecret, s.size)
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				Sign(testSecret, body)
			}
		})
	}
}

// BenchmarkDecode is the JSON part alone: encoding/json into the small
// GitHub struct ("struct"), the hand-written decoder Parse uses ("scan"),
// and, for scale, json.Valid ("valid").
func BenchmarkDecode(b *testing.B) {
	for _, s := range benchSizes() {
		_, body := bigGitHubPush(b, testSecret, s.size)
		b.Run(s.name+"/struct", func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				var in hubPush
				if err := json.Unmarshal(body, &in); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(s.name+"/scan", func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				var in hubPush
				if err := decodeHub(body, &in); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(s.name+"/valid", func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if !json.Valid(body) {
					b.Fatal("invalid")
				}
			}
		})
	}
}
