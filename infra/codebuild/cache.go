package codebuild

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// cacheDir is where the runner keeps one cache per project: <Dir>/_cache
// (inside Dir, so hidden from sandboxed builds like everything there).
func (r *Runner) cacheDir() string { return filepath.Join(r.o.Dir, "_cache") }

// cacheFile is the project's cache: a tar of the cached paths, relative to
// the build's folder.
func (r *Runner) cacheFile(project string) string {
	return filepath.Join(r.cacheDir(), project+".tar")
}

// getenv is the value of k in the build's environment (the last
// definition wins, as in the shell).
func (x *execution) getenv(k string) string {
	for i := len(x.env) - 1; i >= 0; i-- {
		if name, v, ok := strings.Cut(x.env[i], "="); ok && name == k {
			return v
		}
	}
	return ""
}

// cacheRoots resolves the buildspec's cache paths to folders or files under
// the build's folder, relative to it: $VARS expand from the build's
// environment, a relative path is under CODEBUILD_SRC_DIR and a trailing
// /**/*, /** or /* means the folder. A path outside the build's folder (the
// source, $HOME in the sandbox, $TMPDIR, the inputs) is left out, with the
// reason.
func (x *execution) cacheRoots() (roots []string, skipped []string) {
	if x.spec == nil || x.spec.Cache == nil {
		return nil, nil
	}
	for _, p := range x.spec.Cache.Paths {
		q := os.Expand(strings.TrimSpace(p), x.getenv)
		for _, suffix := range []string{"/**/*", "/**", "/*"} {
			q = strings.TrimSuffix(q, suffix)
		}
		if strings.ContainsAny(q, "*?[") {
			skipped = append(skipped, p+": only a folder or a folder/**/* is cached locally")
			continue
		}
		if !filepath.IsAbs(q) {
			q = filepath.Join(x.srcDir, q)
		}
		rel, err := filepath.Rel(x.rn.dir, filepath.Clean(q))
		if err != nil || !filepath.IsLocal(rel) || rel == "ctl" || strings.HasPrefix(rel, "ctl"+string(filepath.Separator)) {
			skipped = append(skipped, p+": outside the build's folders")
			continue
		}
		roots = append(roots, filepath.ToSlash(rel))
	}
	return roots, skipped
}

// restoreCache unpacks the project's cache into the build's folder. A cache
// that cannot be read is reported and the build goes on without it.
func (x *execution) restoreCache() {
	roots, skipped := x.cacheRoots()
	for _, s := range skipped {
		x.message("Cache path " + s + "; not cached")
	}
	if len(roots) == 0 {
		return
	}
	f, err := os.Open(x.r.cacheFile(x.in.ProjectName))
	if errors.Is(err, fs.ErrNotExist) {
		x.message("No cache yet for project " + x.in.ProjectName)
		return
	}
	if err != nil {
		x.message(fmt.Sprintf("Cache not restored: %v", err))
		return
	}
	defer f.Close()
	start := time.Now()
	n, err := untarInto(f, x.rn.dir, roots)
	if err != nil {
		x.message(fmt.Sprintf("Cache not fully restored: %v", err))
		return
	}
	x.message(fmt.Sprintf("Cache restored: %d files in %s", n, time.Since(start).Round(time.Millisecond)))
}

// saveCache writes the cached paths to a temporary file and renames it over
// the project's cache, so that concurrent builds of a project never leave a
// torn cache (the last to finish wins).
func (x *execution) saveCache() {
	roots, _ := x.cacheRoots()
	if len(roots) == 0 {
		return
	}
	if err := os.MkdirAll(x.r.cacheDir(), 0o700); err != nil {
		x.message(fmt.Sprintf("Cache not saved: %v", err))
		return
	}
	start := time.Now()
	tmp, err := os.CreateTemp(x.r.cacheDir(), x.in.ProjectName+".tar.tmp-*")
	if err != nil {
		x.message(fmt.Sprintf("Cache not saved: %v", err))
		return
	}
	defer os.Remove(tmp.Name())
	n, err := tarFrom(tmp, x.rn.dir, roots)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), x.r.cacheFile(x.in.ProjectName))
	}
	if err != nil {
		x.message(fmt.Sprintf("Cache not saved: %v", err))
		return
	}
	x.message(fmt.Sprintf("Cache saved: %d files in %s", n, time.Since(start).Round(time.Millisecond)))
}

// tarFrom writes the folders and files roots (relative to base) into w:
// folders, regular files and symbolic links, with their modes.
func tarFrom(w io.Writer, base string, roots []string) (int, error) {
	tw := tar.NewWriter(w)
	n := 0
	seen := map[string]bool{}
	for _, root := range roots {
		err := filepath.WalkDir(filepath.Join(base, root), func(p string, d fs.DirEntry, err error) error {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // nothing to cache there (yet)
			}
			if err != nil {
				return err
			}
			rel, err := filepath.Rel(base, p)
			if err != nil {
				return err
			}
			name := filepath.ToSlash(rel)
			if seen[name] {
				return nil
			}
			seen[name] = true
			info, err := d.Info()
			if err != nil {
				return err
			}
			link := ""
			switch {
			case info.Mode()&fs.ModeSymlink != 0:
				if link, err = os.Readlink(p); err != nil {
					return err
				}
			case !info.IsDir() && !info.Mode().IsRegular():
				return nil
			}
			hdr, err := tar.FileInfoHeader(info, link)
			if err != nil {
				return err
			}
			hdr.Name = name
			hdr.Uname, hdr.Gname = "", ""
			if err := tw.WriteHeader(hdr); err != nil {
				return err
			}
			if info.Mode().IsRegular() {
				f, err := os.Open(p)
				if err != nil {
					return err
				}
				_, err = io.Copy(tw, f)
				f.Close()
				if err != nil {
					return err
				}
				n++
			}
			return nil
		})
		if err != nil {
			return n, fmt.Errorf("cache %s: %w", root, err)
		}
	}
	return n, tw.Close()
}

// untarInto unpacks the entries of r that lie under one of roots into base
// (os.Root keeps every entry inside it). Folder modes are set last, so a
// read-only folder (Go's module cache has them) can still be filled.
func untarInto(r io.Reader, base string, roots []string) (int, error) {
	root, err := os.OpenRoot(base)
	if err != nil {
		return 0, err
	}
	defer root.Close()
	tr := tar.NewReader(r)
	type dirMode struct {
		name string
		mode fs.FileMode
	}
	var dirs []dirMode
	n := 0
	under := func(name string) bool {
		return slices.ContainsFunc(roots, func(r string) bool { return name == r || strings.HasPrefix(name, r+"/") })
	}
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return n, err
		}
		name := path.Clean(hdr.Name)
		if !filepath.IsLocal(name) || !under(name) {
			continue
		}
		if d := path.Dir(name); d != "." {
			if err := root.MkdirAll(d, 0o755); err != nil {
				return n, err
			}
		}
		mode := fs.FileMode(hdr.Mode).Perm()
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := root.MkdirAll(name, 0o755); err != nil {
				return n, err
			}
			dirs = append(dirs, dirMode{name, mode})
		case tar.TypeSymlink:
			root.Remove(name)
			if err := root.Symlink(hdr.Linkname, name); err != nil {
				return n, err
			}
		case tar.TypeReg:
			root.Remove(name)
			f, err := root.OpenFile(name, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
			if err != nil {
				return n, err
			}
			_, err = io.Copy(f, tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err == nil {
				err = root.Chmod(name, mode)
			}
			if err != nil {
				return n, err
			}
			n++
		}
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := root.Chmod(dirs[i].name, dirs[i].mode); err != nil {
			return n, err
		}
	}
	return n, nil
}

// removeAll removes a work folder, making read-only folders (Go's module
// cache has them) writable first when a plain removal fails.
func removeAll(p string) error {
	if err := os.RemoveAll(p); err == nil {
		return nil
	}
	filepath.WalkDir(p, func(q string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			os.Chmod(q, 0o755)
		}
		return nil
	})
	return os.RemoveAll(p)
}
