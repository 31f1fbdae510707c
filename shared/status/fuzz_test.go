package status

import (
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzRetryAfter: a host's Retry-After header never panics the parser
// and never asks for a negative wait.
func FuzzRetryAfter(f *testing.F) {
	for _, s := range []string{"7", "0", "-1", "Wed, 21 Oct 2015 07:28:00 GMT", "soon", "99999999999999999999", " 3 "} {
		f.Add(s)
	}
	now := time.Date(2026, 12, 7, 13, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		if d := retryAfter(v, now); d < 0 {
			t.Fatalf("retryAfter(%q) = %v", v, d)
		}
	})
}

// FuzzClip: a description built from outside text (build causes,
// approval comments) is valid UTF-8 and fits the limit.
func FuzzClip(f *testing.F) {
	for _, s := range []string{"Test failed after 42s", "a\xffb", "ü" + string(make([]byte, 300)), "line\nbreak\ttab"} {
		f.Add(s, 140)
	}
	f.Fuzz(func(t *testing.T, s string, n int) {
		n = 2 + abs(n)%300
		got := clip(s, n)
		if !utf8.ValidString(got) || utf8.RuneCountInString(got) > n {
			t.Fatalf("clip(%q, %d) = %q", s, n, got)
		}
	})
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
