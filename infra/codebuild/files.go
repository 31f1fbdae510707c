package codebuild

import (
	"archive/zip"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// Limits on a source zip.
const (
	maxSourceFiles = 200000
	maxSourceBytes = 8 << 30
)

// unzip unpacks a zip into dir, keeping file modes and symbolic links; no
// entry can write outside dir (os.Root refuses paths and links that escape).
func unzip(zipPath, dir string) error {
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		return fmt.Errorf("open zip: %w", err)
	}
	defer zr.Close()
	if len(zr.File) > maxSourceFiles {
		return fmt.Errorf("zip has %d entries, over the limit of %d", len(zr.File), maxSourceFiles)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return fmt.Errorf("open work folder: %w", err)
	}
	defer root.Close()
	var total int64
	for _, f := range zr.File {
		name := strings.TrimPrefix(path.Clean("/"+strings.ReplaceAll(f.Name, `\`, "/")), "/")
		if name == "" || name == "." {
			continue
		}
		mode := f.Mode()
		switch {
		case mode.IsDir():
			if err := root.MkdirAll(name, 0o755); err != nil {
				return fmt.Errorf("unpack %s: %w", f.Name, err)
			}
			continue
		case mode&fs.ModeSymlink != 0:
			target, err := readAll(f, 4096)
			if err != nil {
				return fmt.Errorf("unpack %s: %w", f.Name, err)
			}
			if err := mkParent(root, name); err != nil {
				return fmt.Errorf("unpack %s: %w", f.Name, err)
			}
			if err := root.Symlink(string(target), name); err != nil {
				return fmt.Errorf("unpack %s: %w", f.Name, err)
			}
			continue
		case !mode.IsRegular():
			continue
		}
		total += int64(f.UncompressedSize64)
		if total > maxSourceBytes {
			return fmt.Errorf("zip unpacks to more than %d bytes", int64(maxSourceBytes))
		}
		if err := mkParent(root, name); err != nil {
			return fmt.Errorf("unpack %s: %w", f.Name, err)
		}
		perm := mode.Perm()
		if perm == 0 {
			perm = 0o644
		}
		if err := writeEntry(root, name, f, perm); err != nil {
			return fmt.Errorf("unpack %s: %w", f.Name, err)
		}
	}
	return nil
}

func mkParent(root *os.Root, name string) error {
	if d := path.Dir(name); d != "." {
		return root.MkdirAll(d, 0o755)
	}
	return nil
}

func readAll(f *zip.File, limit int64) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(io.LimitReader(rc, limit))
}

func writeEntry(root *os.Root, name string, f *zip.File, perm fs.FileMode) error {
	rc, err := f.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	out, err := root.OpenFile(name, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, rc); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	// the umask may have narrowed the mode
	return root.Chmod(name, perm)
}

// matchGlob reports whether name (slash-separated, relative) matches pattern:
// * and ? within a path segment, ** across segments (CodeBuild's artifact
// globs).
func matchGlob(pattern, name string) bool {
	return matchSegs(strings.Split(pattern, "/"), strings.Split(name, "/"))
}

func matchSegs(pat, name []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			rest := pat[1:]
			for i := 0; i <= len(name); i++ {
				if matchSegs(rest, name[i:]) {
					return true
				}
			}
			return false
		}
		if len(name) == 0 {
			return false
		}
		ok, err := path.Match(pat[0], name[0])
		if err != nil || !ok {
			return false
		}
		pat, name = pat[1:], name[1:]
	}
	return len(name) == 0
}

// cleanPattern normalises a buildspec path or glob: slashes, no leading "./".
func cleanPattern(p string) string {
	p = strings.ReplaceAll(strings.TrimSpace(p), `\`, "/")
	for strings.HasPrefix(p, "./") {
		p = p[2:]
	}
	return strings.TrimSuffix(p, "/")
}

// artifactFile is one file picked for the artifact.
type artifactFile struct {
	rel  string // path under the base directory
	name string // name in the artifact
	full string // path on disk
}

// artifactBases gives the directories artifacts are collected from: the
// source folder, or base-directory under it, which may be a pattern (*, ?,
// ** as in files) naming several directories.
func artifactBases(src, baseDir string) ([]string, error) {
	bd := cleanPattern(baseDir)
	if bd == "" {
		return []string{src}, nil
	}
	if !filepath.IsLocal(filepath.FromSlash(bd)) || strings.Contains("/"+bd+"/", "/../") {
		return nil, fmt.Errorf("artifacts base-directory %q must be a relative path inside the source", baseDir)
	}
	if !strings.ContainsAny(bd, "*?[") {
		base := filepath.Join(src, filepath.FromSlash(bd))
		if info, err := os.Stat(base); err != nil || !info.IsDir() {
			return nil, fmt.Errorf("artifacts base-directory %q does not exist", baseDir)
		}
		return []string{base}, nil
	}
	var bases []string
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() || p == src {
			return nil
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		if matchGlob(bd, filepath.ToSlash(rel)) {
			bases = append(bases, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("artifacts base-directory %q: %w", baseDir, err)
	}
	if len(bases) == 0 {
		return nil, fmt.Errorf("artifacts base-directory %q matches no directory", baseDir)
	}
	return bases, nil
}

// collectArtifacts picks the files of the buildspec's artifacts section under
// base. A pattern that names a directory takes the whole directory.
func collectArtifacts(base string, files, exclude []string, discard bool) ([]artifactFile, error) {
	var pats, excl []string
	for _, p := range files {
		if p = cleanPattern(p); p != "" {
			pats = append(pats, p)
		}
	}
	for _, p := range exclude {
		if p = cleanPattern(p); p != "" {
			excl = append(excl, p)
		}
	}
	var out []artifactFile
	seen := map[string]string{}
	err := filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(base, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if !matchesAny(pats, rel) || matchesAny(excl, rel) {
			return nil
		}
		name := rel
		if discard {
			name = path.Base(rel)
		}
		if prev, dup := seen[name]; dup {
			return fmt.Errorf("discard-paths: %s and %s would both be stored as %s", prev, rel, name)
		}
		seen[name] = rel
		out = append(out, artifactFile{rel: rel, name: name, full: p})
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b artifactFile) int { return strings.Compare(a.name, b.name) })
	return out, nil
}

func matchesAny(pats []string, rel string) bool {
	for _, p := range pats {
		if matchGlob(p, rel) {
			return true
		}
		// a pattern naming a directory (no wildcard) takes what is below it
		if !strings.ContainsAny(p, "*?[") && strings.HasPrefix(rel, p+"/") {
			return true
		}
	}
	return false
}

// writeZip zips files into w, keeping modes and times.
func writeZip(w io.Writer, files []artifactFile) error {
	zw := zip.NewWriter(w)
	for _, f := range files {
		full := f.full
		info, err := os.Stat(full)
		if err != nil {
			return fmt.Errorf("add %s: %w", f.rel, err)
		}
		hdr, err := zip.FileInfoHeader(info)
		if err != nil {
			return fmt.Errorf("add %s: %w", f.rel, err)
		}
		hdr.Name = f.name
		hdr.Method = zip.Deflate
		dst, err := zw.CreateHeader(hdr)
		if err != nil {
			return fmt.Errorf("add %s: %w", f.rel, err)
		}
		src, err := os.Open(full)
		if err != nil {
			return fmt.Errorf("add %s: %w", f.rel, err)
		}
		_, err = io.Copy(dst, src)
		src.Close()
		if err != nil {
			return fmt.Errorf("add %s: %w", f.rel, err)
		}
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("finish zip: %w", err)
	}
	return nil
}

// uploadArtifacts collects, packages and puts the artifact.
func (x *execution) uploadArtifacts() error {
	a := x.in.ArtifactsOverride
	if a == nil || a.Type != "S3" {
		if x.spec.Artifacts != nil {
			x.message("The build has no artifact location; artifacts are not uploaded")
		}
		return nil
	}
	if x.spec.Artifacts == nil {
		x.note("The buildspec has no artifacts section; nothing to upload")
		return nil
	}
	if x.r.o.Objects == nil {
		return errors.New("no object storage configured")
	}
	sa := x.spec.Artifacts
	bases, err := artifactBases(x.srcDir, sa.BaseDirectory)
	if err != nil {
		return err
	}
	var files []artifactFile
	seen := map[string]string{}
	for _, base := range bases {
		fs, err := collectArtifacts(base, sa.Files, sa.ExcludePaths, sa.DiscardPaths)
		if err != nil {
			return fmt.Errorf("collect artifacts: %w", err)
		}
		for _, f := range fs {
			if prev, dup := seen[f.name]; dup {
				return fmt.Errorf("collect artifacts: %s and %s would both be stored as %s", prev, f.full, f.name)
			}
			seen[f.name] = f.full
			files = append(files, f)
		}
	}
	slices.SortFunc(files, func(a, b artifactFile) int { return strings.Compare(a.name, b.name) })
	if len(files) == 0 {
		return fmt.Errorf("no matching artifact paths found for %s", strings.Join(sa.Files, ", "))
	}
	name := a.Name
	if a.OverrideArtifactName && sa.Name != "" {
		n, err := x.evalName(sa.Name)
		if err != nil {
			return fmt.Errorf("artifacts name %q: %w", sa.Name, err)
		}
		name = n
	}
	if name == "" {
		name = x.in.ProjectName
	}
	key := artifactKey(a, x.uuid, name)
	if strings.EqualFold(a.Packaging, "ZIP") {
		return x.putZip(a.Location, key, files)
	}
	for _, f := range files {
		if err := x.putFile(a.Location, joinKey(key, f.name), f.full); err != nil {
			return err
		}
	}
	x.setLocation(a.Location, key, "", "")
	x.message(fmt.Sprintf("Uploaded %d files to s3://%s/%s/", len(files), a.Location, key))
	return nil
}

// artifactKey is where an artifact named name goes: <Path>[/<uuid>]/<name>.
func artifactKey(a *ArtifactsOverride, uuid, name string) string {
	key := strings.Trim(a.Path, "/")
	if strings.EqualFold(a.NamespaceType, "BUILD_ID") {
		key = joinKey(key, uuid)
	}
	return joinKey(key, name)
}

func joinKey(a, b string) string {
	if a == "" {
		return b
	}
	return a + "/" + b
}

// evalName evaluates the buildspec's artifacts name in the build's shell, as
// CodeBuild does: variables and $(commands) in it are expanded.
func (x *execution) evalName(name string) (string, error) {
	out := filepath.Join(x.ctlDir, "artifact-name")
	quoted := strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(name)
	code, err := x.runInternal(fmt.Sprintf("printf '%%s' \"%s\" > '%s'", quoted, out))
	if err != nil {
		return "", err
	}
	if code != 0 {
		return "", fmt.Errorf("evaluating it failed with exit status %d", code)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		return "", err
	}
	v := strings.Trim(strings.TrimSpace(string(data)), "/")
	if v == "" || strings.Contains(v, "..") {
		return "", fmt.Errorf("it evaluates to %q, not a usable name", v)
	}
	return v, nil
}

func (x *execution) putZip(bucket, key string, files []artifactFile) error {
	zipPath := filepath.Join(x.ctlDir, "artifact.zip")
	f, err := os.Create(zipPath)
	if err != nil {
		return fmt.Errorf("create artifact: %w", err)
	}
	defer os.Remove(zipPath)
	defer f.Close()
	sh, md := sha256.New(), md5.New()
	if err := writeZip(io.MultiWriter(f, sh, md), files); err != nil {
		return fmt.Errorf("create artifact: %w", err)
	}
	size, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return fmt.Errorf("create artifact: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("create artifact: %w", err)
	}
	if err := x.r.o.Objects.Put(x.ctx, bucket, key, f, size); err != nil {
		return fmt.Errorf("put artifact s3://%s/%s: %w", bucket, key, err)
	}
	x.setLocation(bucket, key, hex.EncodeToString(sh.Sum(nil)), hex.EncodeToString(md.Sum(nil)))
	x.message(fmt.Sprintf("Uploaded %d files (%d bytes zipped) to s3://%s/%s", len(files), size, bucket, key))
	return nil
}

func (x *execution) putFile(bucket, key, file string) error {
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("read artifact file: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fmt.Errorf("read artifact file: %w", err)
	}
	if err := x.r.o.Objects.Put(x.ctx, bucket, key, f, info.Size()); err != nil {
		return fmt.Errorf("put artifact s3://%s/%s: %w", bucket, key, err)
	}
	return nil
}

func (x *execution) setLocation(bucket, key, sha, md string) {
	x.rn.mu.Lock()
	defer x.rn.mu.Unlock()
	x.rn.build.Artifacts = BuildArtifacts{Location: "arn:aws:s3:::" + bucket + "/" + key, Sha256sum: sha, Md5sum: md}
}
