package states

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func FuzzParseDefinition(f *testing.F) {
	files, _ := filepath.Glob("testdata/conformance/*.json")
	for _, p := range files[:min(len(files), 12)] {
		b, _ := os.ReadFile(p)
		f.Add(string(b))
	}
	f.Add(`{"StartAt":"A","States":{"A":{"Type":"Choice","Choices":[{"Not":{"Variable":"$.x","IsPresent":true},"Next":"A"}],"Default":"B"},"B":{"Type":"Succeed"}}}`)
	f.Fuzz(func(t *testing.T, def string) {
		m, diags := parseDefinition(def)
		if (m == nil) == (diags == nil) {
			t.Fatalf("parseDefinition returned machine %v and diagnostics %v", m != nil, diags)
		}
		for _, d := range diags {
			if d.Code == "" || d.Message == "" {
				t.Fatalf("empty diagnostic %+v", d)
			}
		}
	})
}

func TestStringMatches(t *testing.T) {
	tests := []struct {
		pat, s string
		want   bool
	}{
		{"release/*", "release/1.0", true},
		{"release/*", "main", false},
		{"*.log", "a.log", true},
		{`a\*b`, "a*b", true},
		{`a\*b`, "axb", false},
		{"*", "", true},
		{"a*b*c", "aXXbYYc", true},
		{`\\`, `\`, true},
	}
	for _, tt := range tests {
		if got := stringMatches(tt.pat, tt.s); got != tt.want {
			t.Errorf("stringMatches(%q, %q) = %v", tt.pat, tt.s, got)
		}
	}
}

func TestValidName(t *testing.T) {
	for _, s := range []string{"a", "main-abc123-def", strings.Repeat("x", 80)} {
		if !validName(s) {
			t.Errorf("%q rejected", s)
		}
	}
	for _, s := range []string{"", strings.Repeat("x", 81), "a b", "a/b", "a:b", "a*b", "a\x01", "a$b"} {
		if validName(s) {
			t.Errorf("%q accepted", s)
		}
	}
}
