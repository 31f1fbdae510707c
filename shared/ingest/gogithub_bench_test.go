//go:build gogithub

// The comparison with go-github needs github.com/google/go-github/v90 in
// go.mod: go test -tags gogithub -run '^$' -bench GoGitHub -benchmem ./shared/ingest

package ingest

import (
	"bytes"
	"net/http/httptest"
	"testing"

	"github.com/google/go-github/v90/github"
)

// BenchmarkGoGitHub is go-github's ValidatePayload + ParseWebHook on the
// same bodies as BenchmarkVerifyParseMatch (no trigger match).
func BenchmarkGoGitHub(b *testing.B) {
	for _, s := range benchSizes {
		b.Run(s.name, func(b *testing.B) {
			h, body := bigGitHubPush(b, s.size)
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				r := httptest.NewRequest("POST", "/webhook", bytes.NewReader(body))
				r.Header = h
				payload, err := github.ValidatePayload(r, []byte(testSecret))
				if err != nil {
					b.Fatal(err)
				}
				ev, err := github.ParseWebHook(github.WebHookType(r), payload)
				if err != nil {
					b.Fatal(err)
				}
				if ev.(*github.PushEvent).GetAfter() == "" {
					b.Fatal("no after")
				}
			}
		})
	}
}
