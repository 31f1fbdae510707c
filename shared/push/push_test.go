package push

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func TestTrimmed(t *testing.T) {
	long := strings.Repeat("é", 3000) // 6000 bytes
	p := Push{
		Repository: "acme/app", Files: []string{"a", "b"}, FilesComplete: true,
		CloneURL: long, WebURL: "https://example.com/acme/app", Pusher: long,
		HeadCommit: Commit{ID: "abc", Message: long + long, Author: long, URL: long},
		DeliveryID: "d1",
	}
	got := p.Trimmed()
	if got.Files != nil || got.FilesComplete {
		t.Errorf("files kept: %v %v", got.Files, got.FilesComplete)
	}
	for name, c := range map[string]struct {
		s   string
		max int
	}{
		"message": {got.HeadCommit.Message, 4096}, "author": {got.HeadCommit.Author, 1024},
		"url": {got.HeadCommit.URL, 1024}, "cloneUrl": {got.CloneURL, 1024}, "pusher": {got.Pusher, 1024},
	} {
		if len(c.s) > c.max+len("…") || !utf8.ValidString(c.s) || !strings.HasSuffix(c.s, "…") {
			t.Errorf("%s: %d bytes, valid UTF-8 %v, want ≤ %d and marked", name, len(c.s), utf8.ValidString(c.s), c.max)
		}
	}
	short := Push{Repository: "acme/app", WebURL: "https://example.com/acme/app", HeadCommit: Commit{ID: "abc", Message: "fix"}}
	if diff := cmp.Diff(short, short.Trimmed()); diff != "" {
		t.Errorf("a small push changed (-want +got):\n%s", diff)
	}
}
