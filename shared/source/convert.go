package source

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"compress/flate"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"sync"
)

// Stats counts what one conversion wrote.
type Stats struct {
	Files    int   // zip entries: regular files and symlinks
	Symlinks int   // of which symlinks
	Bytes    int64 // uncompressed content bytes
}

// ErrNoTopLevel: an archive whose top-level directory is stripped holds an
// entry outside it.
var ErrNoTopLevel = errors.New("entry outside the archive's top-level directory")

// copyBufPool holds the buffers used to copy file contents.
var copyBufPool = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}

// flatePool reuses flate writers between entries (each costs ~1 MiB).
var flatePool sync.Pool

type pooledFlate struct{ *flate.Writer }

func (p pooledFlate) Close() error {
	err := p.Writer.Close()
	flatePool.Put(p.Writer)
	return err
}

// compressor deflates at BestSpeed: the zip only travels S3 → CodeBuild in
// one region, so CPU (Lambda's scarcest resource) matters more than bytes.
func compressor(w io.Writer) (io.WriteCloser, error) {
	if fw, ok := flatePool.Get().(*flate.Writer); ok {
		fw.Reset(w)
		return pooledFlate{fw}, nil
	}
	fw, err := flate.NewWriter(w, flate.BestSpeed)
	if err != nil {
		return nil, err
	}
	return pooledFlate{fw}, nil
}

// GzipTarToZip is TarToZip of a gzip-compressed tar, reading the gzip stream
// to its end so its checksum is verified.
func GzipTarToZip(w io.Writer, r io.Reader, strip bool) (Stats, error) {
	gz, err := gzip.NewReader(r)
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF // an empty body is a truncated archive
		}
		return Stats{}, fmt.Errorf("gzip header: %w", err)
	}
	gz.Multistream(false)
	st, err := TarToZip(w, gz, strip)
	if err != nil {
		return st, err
	}
	// The tar end marker may come before the record padding and the gzip
	// trailer: read on (at most 1 MiB) so a cut or corrupt trailer shows.
	if _, err := io.CopyN(io.Discard, gz, 1<<20); err != nil && !errors.Is(err, io.EOF) {
		return st, fmt.Errorf("gzip trailer: %w", err)
	}
	return st, nil
}

// ArchiveToZip is GzipTarToZip, or TarToZip when r holds a plain tar (an
// HTTP layer that already decompressed a gzip Content-Encoding, a provider
// answering .tar): it sniffs the first block.
func ArchiveToZip(w io.Writer, r io.Reader, strip bool) (Stats, error) {
	br := bufio.NewReaderSize(r, 1024)
	head, _ := br.Peek(512)
	if len(head) == 512 && string(head[257:262]) == "ustar" {
		return TarToZip(w, br, strip)
	}
	return GzipTarToZip(w, br, strip)
}

// TarToZip reads a tar stream from r and writes to w a complete zip of its
// regular files and symlinks (see the package doc for modes). With strip,
// every entry must sit under one top-level directory, which is removed.
// Entries with unsafe paths (absolute, "..", empty elements) and types git
// never produces (hard links, devices, fifos) are errors; directories and
// pax global headers are skipped. A cut stream gives an error wrapping
// io.ErrUnexpectedEOF. It never panics, whatever r holds.
func TarToZip(w io.Writer, r io.Reader, strip bool) (Stats, error) {
	var st Stats
	zw := zip.NewWriter(w)
	zw.RegisterCompressor(zip.Deflate, compressor)
	tr := tar.NewReader(r)
	bufp := copyBufPool.Get().(*[]byte)
	defer copyBufPool.Put(bufp)
	prefix := ""
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return st, fmt.Errorf("tar entry %d: %w", st.Files+1, err)
		}
		switch hdr.Typeflag {
		case tar.TypeXGlobalHeader, tar.TypeXHeader, tar.TypeGNULongName, tar.TypeGNULongLink:
			continue
		}
		name := hdr.Name
		if strip {
			name = strings.TrimPrefix(name, "./")
			if prefix == "" {
				top, _, found := strings.Cut(name, "/")
				if top == "" || top == "." || top == ".." || (!found && hdr.Typeflag != tar.TypeDir) {
					return st, fmt.Errorf("tar entry %q: %w", hdr.Name, ErrNoTopLevel)
				}
				prefix = top + "/"
			}
			if hdr.Typeflag == tar.TypeDir && strings.TrimSuffix(name, "/")+"/" == prefix {
				continue // the top-level directory itself
			}
			rest, ok := strings.CutPrefix(name, prefix)
			if !ok {
				return st, fmt.Errorf("tar entry %q: %w", hdr.Name, ErrNoTopLevel)
			}
			name = rest
		}
		if hdr.Typeflag == tar.TypeDir {
			name = strings.TrimSuffix(name, "/")
		}
		if !fs.ValidPath(name) || name == "." {
			return st, fmt.Errorf("tar entry %q: unsafe path", hdr.Name)
		}
		fh := &zip.FileHeader{Name: name, Modified: hdr.ModTime.UTC()}
		switch hdr.Typeflag {
		case tar.TypeDir:
			continue
		case tar.TypeReg, tar.TypeRegA: //lint:ignore SA1019 archives written by old tools still use it
			if hdr.Size < 0 {
				return st, fmt.Errorf("tar entry %q: negative size", hdr.Name)
			}
			if isSparse(hdr) { // git never writes one; its holes would inflate without bound
				return st, fmt.Errorf("tar entry %q: unsupported sparse file", hdr.Name)
			}
			fh.Method = zip.Deflate
			if hdr.Mode&0o111 != 0 {
				fh.SetMode(0o755)
			} else {
				fh.SetMode(0o644)
			}
			fw, err := zw.CreateHeader(fh)
			if err != nil {
				return st, fmt.Errorf("zip entry %q: %w", name, err)
			}
			n, err := io.CopyBuffer(fw, tr, *bufp)
			st.Bytes += n
			if err != nil {
				return st, fmt.Errorf("copy %q: %w", name, err)
			}
		case tar.TypeSymlink:
			if hdr.Linkname == "" {
				return st, fmt.Errorf("tar entry %q: symlink without target", hdr.Name)
			}
			fh.Method = zip.Store
			fh.SetMode(fs.ModeSymlink | 0o777)
			fw, err := zw.CreateHeader(fh)
			if err != nil {
				return st, fmt.Errorf("zip entry %q: %w", name, err)
			}
			if _, err := io.WriteString(fw, hdr.Linkname); err != nil {
				return st, fmt.Errorf("write %q: %w", name, err)
			}
			st.Symlinks++
		default:
			return st, fmt.Errorf("tar entry %q: unsupported type %q", hdr.Name, hdr.Typeflag)
		}
		st.Files++
	}
	if err := zw.Close(); err != nil {
		return st, fmt.Errorf("zip directory: %w", err)
	}
	return st, nil
}

// isSparse reports a PAX sparse file (archive/tar reports those as regular
// files whose holes read as zeros).
func isSparse(hdr *tar.Header) bool {
	for k := range hdr.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return true
		}
	}
	return false
}
