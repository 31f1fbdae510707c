package runpage

import (
	"strings"
	"testing"
	"time"
)

func TestLinks(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	arn := "arn:aws:states:us-east-1:000000000000:execution:pushline-app:main-abc"
	if got := Links("", key)(arn); got != "" {
		t.Errorf("no base: %q, want no link", got)
	}
	got := Links("https://ci.example.com/", key)(arn)
	want := SignedURL("https://ci.example.com", key, arn, 0, time.Now())
	// the same link but for the expiry second
	if !strings.HasPrefix(got, "https://ci.example.com/runs/main-abc?") || len(got) != len(want) {
		t.Errorf("Links = %q, want like %q", got, want)
	}
}
