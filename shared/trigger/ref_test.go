package trigger

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCheckRef(t *testing.T) {
	tests := []struct {
		ref, why string // why: "" for a valid ref, else a substring of the error
	}{
		{"refs/heads/main", ""},
		{"refs/heads/feature/login", ""},
		{"refs/tags/v1.2.0", ""},
		{"refs/heads/ünïcode", ""},
		{"refs/heads/a.b", ""},
		{"refs/heads/x@y", ""},
		{"refs/heads/a-lock", ""},
		{"", "empty"},
		{"@", `"@"`},
		{"main", "single component"},
		{"refs/heads/feat/q\x00x", "control character"},
		{"refs/heads/a\tb", "control character"},
		{"refs/heads/a\x7fb", "control character"},
		{"refs/heads/a b", "space"},
		{"refs/heads/a~1", `'~'`},
		{"refs/heads/a^", `'^'`},
		{"refs/heads/a:b", `':'`},
		{"refs/heads/a?", `'?'`},
		{"refs/heads/a*", `'*'`},
		{"refs/heads/a[b", `'['`},
		{`refs/heads/a\b`, `'\\'`},
		{"refs/heads/a..b", `".."`},
		{"refs/heads/a@{1}", `"@{"`},
		{"refs/heads/main.lock", `".lock"`},
		{"refs/heads/x.lock/y", `".lock"`},
		{"refs/heads/main/", "ends with '/'"},
		{"refs/heads/main.", "ends with '.'"},
		{"refs//heads/main", "empty component"},
		{"/refs/heads/main", "empty component"},
		{"refs/heads/.hidden", "starting with '.'"},
		{"refs/heads/" + strings.Repeat("a", 244), ""},
		{"refs/heads/" + strings.Repeat("a", 245), "256 bytes long, git hosts accept at most 255"},
		{"refs/heads/" + strings.Repeat("a", 70000), "70011 bytes long"},
		{"refs/heads/a\xffb", "not valid UTF-8"},
		{"refs/heads/\xc3", "not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(clipRef(tt.ref), func(t *testing.T) {
			err := CheckRef(tt.ref)
			if tt.why == "" {
				if err != nil {
					t.Errorf("CheckRef(%q) = %v, want nil", tt.ref, err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidRef) || !strings.Contains(err.Error(), tt.why) {
				t.Errorf("CheckRef(%q) = %v, want ErrInvalidRef saying %s", tt.ref, err, tt.why)
			}
			if err != nil && strings.ContainsAny(err.Error(), "\x00\t\x7f") {
				t.Errorf("error %q carries a raw control character", err)
			}
			if err != nil && (len(err.Error()) > 400 || !utf8.ValidString(err.Error())) {
				t.Errorf("error %.80q… is %d bytes or not UTF-8, want a short UTF-8 message", err, len(err.Error()))
			}
		})
	}
}

// FuzzCheckRef: CheckRef never panics, and what it accepts has none of
// the forbidden bytes or sequences.
func FuzzCheckRef(f *testing.F) {
	for _, s := range []string{"refs/heads/main", "refs/tags/v1.0", "refs/heads/q\x00x", "refs/heads/a..b", "refs/heads/x.lock", "@", "refs//x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ref string) {
		if CheckRef(ref) != nil {
			return
		}
		if strings.ContainsAny(ref, " ~^:?*[\\\x00\x7f") || strings.Contains(ref, "..") || strings.Contains(ref, "@{") ||
			strings.Contains(ref, "//") || strings.HasSuffix(ref, "/") || strings.HasSuffix(ref, ".") || strings.Contains(ref, ".lock/") ||
			strings.HasSuffix(ref, ".lock") || strings.Contains(ref, "/.") || strings.HasPrefix(ref, ".") ||
			len(ref) > MaxRefLength || !utf8.ValidString(ref) {
			t.Errorf("accepted %q", ref)
		}
		for i := 0; i < len(ref); i++ {
			if ref[i] < 0x20 {
				t.Errorf("accepted %q", ref)
			}
		}
	})
}

func BenchmarkCheckRef(b *testing.B) {
	for b.Loop() {
		_ = CheckRef("refs/heads/feature/some-longer-branch-name")
	}
}
