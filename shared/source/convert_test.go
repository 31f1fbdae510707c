package source

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the committed fuzz seed corpus in testdata/fuzz")

// tarEntry describes one entry of a generated tar.
type tarEntry struct {
	name     string
	typ      byte
	mode     int64
	content  string
	linkname string
}

func makeTar(t testing.TB, entries ...tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		hdr := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: e.mode, Linkname: e.linkname,
			ModTime: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Format: tar.FormatPAX}
		if e.typ == tar.TypeReg {
			hdr.Size = int64(len(e.content))
		}
		if e.typ == tar.TypeXGlobalHeader {
			hdr = &tar.Header{Typeflag: tar.TypeXGlobalHeader, Name: "pax_global_header", PAXRecords: map[string]string{"comment": "abc"}, Format: tar.FormatPAX}
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatalf("tar header %s: %v", e.name, err)
		}
		if e.typ == tar.TypeReg {
			if _, err := io.WriteString(tw, e.content); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func gz(t testing.TB, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(data)
	zw.Close()
	return buf.Bytes()
}

var longName = strings.Repeat("very-long-directory-name/", 8) + "file.txt"

// seedTars are the conversion's test cases, and the fuzz seeds.
func seedTars(t testing.TB) map[string][]byte {
	return map[string][]byte{
		"github-like": makeTar(t,
			tarEntry{typ: tar.TypeXGlobalHeader},
			tarEntry{name: "acme-app-1234567/", typ: tar.TypeDir, mode: 0o775},
			tarEntry{name: "acme-app-1234567/README.md", typ: tar.TypeReg, mode: 0o664, content: "# app\n"},
			tarEntry{name: "acme-app-1234567/bin/", typ: tar.TypeDir, mode: 0o775},
			tarEntry{name: "acme-app-1234567/bin/run", typ: tar.TypeReg, mode: 0o775, content: "#!/bin/sh\n"},
			tarEntry{name: "acme-app-1234567/link", typ: tar.TypeSymlink, mode: 0o777, linkname: "bin/run"},
			tarEntry{name: "acme-app-1234567/empty", typ: tar.TypeReg, mode: 0o664},
			tarEntry{name: "acme-app-1234567/" + longName, typ: tar.TypeReg, mode: 0o664, content: "long\n"},
		),
		"outside-top":   makeTar(t, tarEntry{name: "top/a", typ: tar.TypeReg, mode: 0o644, content: "a"}, tarEntry{name: "other/b", typ: tar.TypeReg, mode: 0o644, content: "b"}),
		"root-file":     makeTar(t, tarEntry{name: "README", typ: tar.TypeReg, mode: 0o644, content: "x"}),
		"dotdot":        makeTar(t, tarEntry{name: "top/../../etc/passwd", typ: tar.TypeReg, mode: 0o644, content: "x"}),
		"absolute":      makeTar(t, tarEntry{name: "/etc/passwd", typ: tar.TypeReg, mode: 0o644, content: "x"}),
		"hardlink":      makeTar(t, tarEntry{name: "top/a", typ: tar.TypeReg, mode: 0o644, content: "a"}, tarEntry{name: "top/b", typ: tar.TypeLink, linkname: "top/a"}),
		"empty-symlink": makeTar(t, tarEntry{name: "top/l", typ: tar.TypeSymlink, mode: 0o777}),
		"empty":         makeTar(t),
		"sparse":        readFile(t, "testdata/sparse-pax.tar"), // GNU tar --sparse --format=pax: a 100 MB file of holes
	}
}

func TestTarToZip(t *testing.T) {
	seeds := seedTars(t)
	for _, tc := range []struct {
		name    string
		strip   bool
		want    map[string]entry
		wantErr string
	}{
		{name: "github-like", strip: true, want: map[string]entry{
			"README.md": {Mode: 0o644, Content: "# app\n"},
			"bin/run":   {Mode: 0o755, Content: "#!/bin/sh\n"},
			"link":      {Mode: fs.ModeSymlink | 0o777, Content: "bin/run"},
			"empty":     {Mode: 0o644},
			longName:    {Mode: 0o644, Content: "long\n"},
		}},
		{name: "outside-top", strip: true, wantErr: "outside the archive's top-level directory"},
		{name: "root-file", strip: true, wantErr: "outside the archive's top-level directory"},
		{name: "root-file", strip: false, want: map[string]entry{"README": {Mode: 0o644, Content: "x"}}},
		{name: "dotdot", strip: true, wantErr: "unsafe path"},
		{name: "absolute", strip: false, wantErr: "unsafe path"},
		{name: "hardlink", strip: true, wantErr: "unsupported type"},
		{name: "empty-symlink", strip: true, wantErr: "symlink without target"},
		{name: "empty", strip: true, want: map[string]entry{}},
		{name: "sparse", strip: true, wantErr: "unsupported sparse file"},
	} {
		t.Run(fmt.Sprintf("%s/strip=%v", tc.name, tc.strip), func(t *testing.T) {
			var out bytes.Buffer
			st, err := GzipTarToZip(&out, bytes.NewReader(gz(t, seeds[tc.name])), tc.strip)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			zr, err := zip.NewReader(bytes.NewReader(out.Bytes()), int64(out.Len()))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, zipEntries(t, zr)); diff != "" {
				t.Errorf("entries (-want +got):\n%s", diff)
			}
			if st.Files != len(tc.want) {
				t.Errorf("stats %+v, want %d files", st, len(tc.want))
			}
		})
	}
}

func TestTruncated(t *testing.T) {
	full := gz(t, seedTars(t)["github-like"])
	for _, n := range []int{0, 5, len(full) / 2, len(full) - 4} {
		_, err := GzipTarToZip(io.Discard, bytes.NewReader(full[:n]), true)
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("cut at %d of %d: err = %v, want io.ErrUnexpectedEOF", n, len(full), err)
		}
	}
}

// TestUpdateFuzzSeeds rewrites testdata/fuzz/FuzzTarToZip from seedTars
// (go test -run TestUpdateFuzzSeeds -update).
func TestUpdateFuzzSeeds(t *testing.T) {
	if !*update {
		t.Skip("run with -update to rewrite the seed corpus")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzTarToZip")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range seedTars(t) {
		for _, gzipped := range []bool{false, true} {
			d := data
			if gzipped {
				d = gz(t, data)
			}
			body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\nbool(%v)\nbool(true)\n", d, gzipped)
			file := filepath.Join(dir, fmt.Sprintf("seed-%s-gz=%v", name, gzipped))
			if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// FuzzTarToZip feeds arbitrary bytes to the conversion (as tar or tar.gz):
// it must never panic, and whatever it accepts must be a valid zip of safe
// paths with as many entries as it reports.
func FuzzTarToZip(f *testing.F) {
	f.Add([]byte("not an archive"), true, true)
	f.Fuzz(func(t *testing.T, data []byte, gzipped, strip bool) {
		var out bytes.Buffer
		var st Stats
		var err error
		if gzipped {
			st, err = ArchiveToZip(&out, bytes.NewReader(data), strip) // sniffs, then gunzips
		} else {
			st, err = TarToZip(&out, bytes.NewReader(data), strip)
		}
		if err != nil {
			return
		}
		zr, err := zip.NewReader(bytes.NewReader(out.Bytes()), int64(out.Len()))
		if err != nil {
			t.Fatalf("accepted input gave an unreadable zip: %v", err)
		}
		if len(zr.File) != st.Files {
			t.Fatalf("zip has %d entries, stats say %d", len(zr.File), st.Files)
		}
		for _, zf := range zr.File {
			if !fs.ValidPath(zf.Name) {
				t.Fatalf("unsafe zip entry %q", zf.Name)
			}
		}
	})
}

// benchArchive generates a tar of about size bytes: source-like text files
// and some incompressible binaries, under one top-level directory.
func benchArchive(b testing.TB, size int) (tarball []byte, content int64) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	rng := rand.New(rand.NewPCG(7, 11))
	words := []string{"func", "return", "err", "nil", "if", "package", "import", "ctx", "string", "int", "for", "range", "{", "}", "\n", "\t"}
	for i := 0; content < int64(size); i++ {
		var data []byte
		if i%10 == 9 { // a binary
			data = make([]byte, 256<<10)
			for j := range data {
				data[j] = byte(rng.Uint32())
			}
		} else {
			var sb strings.Builder
			n := 2<<10 + rng.IntN(60<<10)
			for sb.Len() < n {
				sb.WriteString(words[rng.IntN(len(words))])
				sb.WriteByte(' ')
			}
			data = []byte(sb.String())
		}
		name := fmt.Sprintf("top/dir%03d/file%05d.go", i/100, i)
		if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(data))}); err != nil {
			b.Fatal(err)
		}
		tw.Write(data)
		content += int64(len(data))
	}
	tw.Close()
	return buf.Bytes(), content
}

// BenchmarkTarToZip measures the conversion alone (tar in, zip out); the
// MB/s are of file content.
func BenchmarkTarToZip(b *testing.B) {
	tarball, content := benchArchive(b, 32<<20)
	b.SetBytes(content)
	b.ReportAllocs()
	cpu := cpuTime()
	for b.Loop() {
		if _, err := TarToZip(io.Discard, bytes.NewReader(tarball), true); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, content, cpu)
}

// cpuTime is the process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU adds MB per CPU-second: the throughput one core gives,
// whatever else the machine runs (wall-clock MB/s drop on a busy machine).
func reportCPU(b *testing.B, content int64, since time.Duration) {
	if used := cpuTime() - since; used > 0 {
		b.ReportMetric(float64(content)*float64(b.N)/1e6/used.Seconds(), "MB/cpu-s")
	}
}

// BenchmarkGzipTarToZip measures what the source step does with a provider
// archive: gunzip, untar, deflate, zip.
func BenchmarkGzipTarToZip(b *testing.B) {
	tarball, content := benchArchive(b, 32<<20)
	compressed := gz(b, tarball)
	b.SetBytes(content)
	b.ReportAllocs()
	cpu := cpuTime()
	for b.Loop() {
		if _, err := GzipTarToZip(io.Discard, bytes.NewReader(compressed), true); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, content, cpu)
}
