package codebuild

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMatchGlob(t *testing.T) {
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"**/*", "a", true},
		{"**/*", "a/b/c.txt", true},
		{"*", "a/b", false},
		{"*", "a", true},
		{"dist/**/*", "dist/x/y.js", true},
		{"dist/**/*", "dist/y.js", true},
		{"dist/**/*", "src/dist/y.js", false},
		{"**/*.log", "a/b/c.log", true},
		{"**/*.log", "c.log", true},
		{"**/*.log", "c.logx", false},
		{"a/**", "a/b/c", true},
		{"a/?.txt", "a/b.txt", true},
		{"a/?.txt", "a/bb.txt", false},
		{"[", "[", false},
	}
	for _, tt := range tests {
		if got := matchGlob(tt.pattern, tt.name); got != tt.want {
			t.Errorf("matchGlob(%q, %q) = %v, want %v", tt.pattern, tt.name, got, tt.want)
		}
	}
}

func writeZipFile(t *testing.T, entries func(zw *zip.Writer)) string {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	entries(zw)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "src.zip")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestUnzipStaysInside(t *testing.T) {
	outside := t.TempDir()
	t.Run("dot-dot names are kept inside", func(t *testing.T) {
		dir := t.TempDir()
		z := writeZipFile(t, func(zw *zip.Writer) {
			w, _ := zw.Create("../../escape.txt")
			w.Write([]byte("x"))
		})
		if err := unzip(z, dir); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(dir, "escape.txt")); err != nil {
			t.Errorf("entry not unpacked inside: %v", err)
		}
	})
	t.Run("writing through a symlink that leaves is refused", func(t *testing.T) {
		dir := t.TempDir()
		z := writeZipFile(t, func(zw *zip.Writer) {
			h := &zip.FileHeader{Name: "link"}
			h.SetMode(os.ModeSymlink | 0o777)
			w, _ := zw.CreateHeader(h)
			w.Write([]byte(outside))
			w, _ = zw.Create("link/pwned.txt")
			w.Write([]byte("x"))
		})
		err := unzip(z, dir)
		if err == nil || !strings.Contains(err.Error(), "unpack link/pwned.txt") {
			t.Errorf("unzip error = %v", err)
		}
		if _, err := os.Stat(filepath.Join(outside, "pwned.txt")); err == nil {
			t.Fatal("a file was written outside the work folder")
		}
	})
	t.Run("symlinks inside are kept", func(t *testing.T) {
		dir := t.TempDir()
		z := writeZipFile(t, func(zw *zip.Writer) {
			w, _ := zw.Create("real.txt")
			w.Write([]byte("real"))
			h := &zip.FileHeader{Name: "alias.txt"}
			h.SetMode(os.ModeSymlink | 0o777)
			w, _ = zw.CreateHeader(h)
			w.Write([]byte("real.txt"))
		})
		if err := unzip(z, dir); err != nil {
			t.Fatal(err)
		}
		if target, err := os.Readlink(filepath.Join(dir, "alias.txt")); err != nil || target != "real.txt" {
			t.Errorf("symlink: %q %v", target, err)
		}
	})
	t.Run("not a zip", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "x.zip")
		os.WriteFile(p, []byte("not a zip"), 0o644)
		if err := unzip(p, t.TempDir()); err == nil || !strings.HasPrefix(err.Error(), "open zip: ") {
			t.Errorf("error = %v", err)
		}
	})
}
