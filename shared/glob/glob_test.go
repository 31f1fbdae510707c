package glob

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestMatch(t *testing.T) {
	tests := []struct {
		pattern string
		yes     []string
		no      []string
	}{
		{"main", []string{"main"}, []string{"mai", "main2", "x/main", ""}},
		{"release/*", []string{"release/1.0", "release/"}, []string{"release", "release/1/2", "releases/1"}},
		{"release/**", []string{"release/1.0", "release/1/2", "release/"}, []string{"release", "rel/x"}},
		{"v*", []string{"v1.2.0", "v"}, []string{"1.0", "v1/x"}},
		{"v?.*", []string{"v1.0", "vé.2"}, []string{"v10.0", "v/.0"}},
		{"src/**", []string{"src/a.go", "src/a/b/c.go"}, []string{"src", "docs/src/a"}},
		{"**/*.go", []string{"a.go", "x/a.go", "x/y/z.go"}, []string{"a.goo", "x/a.txt"}},
		{"a/**/b", []string{"a/b", "a/x/b", "a/x/y/b"}, []string{"a/xb", "ab", "a/x/bb"}},
		{"**", []string{"", "a", "a/b/c"}, nil},
		{"*", []string{"", "abc"}, []string{"a/b"}},
		{"a**b", []string{"ab", "a/b", "axx/yyb"}, []string{"a/bc"}},
		{"*.md", []string{"README.md"}, []string{"docs/x.md"}},
		{"docs/**/*.md", []string{"docs/a.md", "docs/x/y/a.md"}, []string{"docs/a.txt", "a.md"}},
		{`a\*b`, []string{"a*b"}, []string{"axb"}},
		{"feature/*-fix", []string{"feature/a-fix", "feature/a-b-fix"}, []string{"feature/a/b-fix"}},
		{"*a*a*a*a*b", []string{"aaaab", "xaxaxaxab"}, []string{strings.Repeat("a", 200)}},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			p, err := Compile(tt.pattern)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range tt.yes {
				if !p.Match(s) {
					t.Errorf("%q does not match %q, want match", tt.pattern, s)
				}
			}
			for _, s := range tt.no {
				if p.Match(s) {
					t.Errorf("%q matches %q, want no match", tt.pattern, s)
				}
			}
		})
	}
}

func TestCompileErrors(t *testing.T) {
	for _, pattern := range []string{"", `a\`, "a/***", "\xff"} {
		t.Run(pattern, func(t *testing.T) {
			_, err := Compile(pattern)
			if !errors.Is(err, ErrBadPattern) {
				t.Fatalf("Compile(%q) error = %v, want ErrBadPattern", pattern, err)
			}
		})
	}
}

func TestList(t *testing.T) {
	l, err := CompileList([]string{"main", "release/*"})
	if err != nil {
		t.Fatal(err)
	}
	if !l.Match("release/2") || l.Match("dev") {
		t.Error("List.Match wrong")
	}
	if got, want := l.String(), "main, release/*"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

// reference is a plain recursive matcher with the same semantics, used
// to check the linear matcher under fuzzing.
func reference(tokens []token, s string) bool {
	if len(tokens) == 0 {
		return s == ""
	}
	switch tk := tokens[0]; tk.kind {
	case lit:
		return strings.HasPrefix(s, tk.text) && reference(tokens[1:], s[len(tk.text):])
	case one:
		if s == "" || s[0] == '/' {
			return false
		}
		_, n := utf8.DecodeRuneInString(s)
		return reference(tokens[1:], s[n:])
	case star:
		for i := 0; ; {
			if reference(tokens[1:], s[i:]) {
				return true
			}
			if i == len(s) || s[i] == '/' {
				return false
			}
			_, n := utf8.DecodeRuneInString(s[i:])
			i += n
		}
	case any:
		for i := 0; ; {
			if reference(tokens[1:], s[i:]) {
				return true
			}
			if i == len(s) {
				return false
			}
			_, n := utf8.DecodeRuneInString(s[i:])
			i += n
		}
	case dirs:
		if reference(tokens[1:], s) {
			return true
		}
		for i := 0; i < len(s); i++ {
			if s[i] == '/' && reference(tokens[1:], s[i+1:]) {
				return true
			}
		}
		return false
	}
	panic("unknown token")
}

func FuzzMatch(f *testing.F) {
	f.Add("src/**", "src/a/b.go")
	f.Add("**/*.go", "x/y.go")
	f.Add("a/**/b", "a/b")
	f.Add("*a*?b", "xa/ab")
	f.Add(`release/\*`, "release/*")
	f.Fuzz(func(t *testing.T, pattern, s string) {
		if len(pattern) > 20 || len(s) > 24 {
			return // the reference is exponential
		}
		p, err := Compile(pattern)
		if err != nil {
			if !errors.Is(err, ErrBadPattern) {
				t.Fatalf("Compile(%q) error %v is not ErrBadPattern", pattern, err)
			}
			return
		}
		if p.String() != pattern {
			t.Fatalf("String() = %q, want %q", p.String(), pattern)
		}
		got, want := p.Match(s), reference(p.tokens, s)
		if got != want {
			t.Fatalf("Compile(%q).Match(%q) = %v, reference says %v", pattern, s, got, want)
		}
	})
}

func BenchmarkMatch(b *testing.B) {
	p := MustCompile("src/**/internal/*.go")
	s := "src/pushline/shared/webhook/internal/github.go"
	b.ReportAllocs()
	for b.Loop() {
		if !p.Match(s) {
			b.Fatal("no match")
		}
	}
}
