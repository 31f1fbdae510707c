package codedeploy

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/pushline/pushline/shared/appspec"
	"github.com/pushline/pushline/shared/glob"
)

// MaxBundle bounds a revision's unpacked size (CodeDeploy's own limit for
// an S3 bundle is far larger; locally a runaway zip should not fill the disk).
const MaxBundle = 4 << 30

// unzip unpacks the zip file at src into dir, refusing entries that would
// land outside it and bundles over MaxBundle.
func unzip(src, dir string) error {
	zr, err := zip.OpenReader(src)
	if err != nil {
		return fmt.Errorf("the revision is not a zip file: %w", err)
	}
	defer zr.Close()
	var total int64
	for _, f := range zr.File {
		name := filepath.FromSlash(strings.TrimPrefix(f.Name, "/"))
		path := filepath.Join(dir, name)
		if !within(dir, path) {
			return fmt.Errorf("the revision's entry %q points outside the bundle", f.Name)
		}
		if f.FileInfo().IsDir() {
			if err := os.MkdirAll(path, 0o755); err != nil {
				return err
			}
			continue
		}
		if f.Mode()&fs.ModeSymlink != 0 {
			continue // symbolic links are not followed into the instance
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		rc, err := f.Open()
		if err != nil {
			return fmt.Errorf("read %s from the revision: %w", f.Name, err)
		}
		mode := f.Mode().Perm()
		if mode == 0 {
			mode = 0o644
		}
		w, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, mode|0o200)
		if err != nil {
			rc.Close()
			return err
		}
		n, err := io.Copy(w, io.LimitReader(rc, MaxBundle-total+1))
		rc.Close()
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("unpack %s: %w", f.Name, err)
		}
		if total += n; total > MaxBundle {
			return fmt.Errorf("the revision unpacks to more than %d bytes", MaxBundle)
		}
	}
	return nil
}

// instancePath maps a path on the instance (an AppSpec destination or
// permissions object: /var/www, C:\app) to where it lives under root.
func instancePath(root, p string) string {
	p = strings.ReplaceAll(p, `\`, "/")
	if len(p) >= 2 && p[1] == ':' { // a Windows drive
		p = p[:1] + "/" + p[2:]
	}
	return filepath.Join(root, filepath.FromSlash(strings.TrimPrefix(filepath.ToSlash(filepath.Clean("/"+p)), "/")))
}

// ErrFileExists is the Install failure for a file already at a destination
// under file_exists_behavior DISALLOW.
var ErrFileExists = errors.New("a specified file already exists at this location")

// install copies the revision's files to their destinations under root and
// returns the files it wrote (for the next deployment's cleanup). Files
// the previous install wrote have been removed already (cleanup), so an
// existing file is one the agent did not put there: behaviour decides.
func install(archive, root string, spec *appspec.Spec, behaviour string, log io.Writer) ([]string, error) {
	var written []string
	for _, f := range spec.Files {
		src := filepath.Join(archive, filepath.FromSlash(strings.TrimPrefix(f.Source, "/")))
		if !within(archive, src) {
			return written, fmt.Errorf("files source %s (line %d) is outside the revision", f.Source, f.Line)
		}
		dst := instancePath(root, f.Destination)
		fi, err := os.Stat(src)
		if err != nil {
			return written, fmt.Errorf("files source %s (line %d) is not in the revision", f.Source, f.Line)
		}
		if !fi.IsDir() {
			w, err := copyFile(src, filepath.Join(dst, filepath.Base(src)), fi.Mode(), behaviour, log)
			if w != "" {
				written = append(written, w)
			}
			if err != nil {
				return written, err
			}
			continue
		}
		err = filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(src, p)
			target := filepath.Join(dst, rel)
			if d.IsDir() {
				return os.MkdirAll(target, 0o755)
			}
			if !d.Type().IsRegular() {
				return nil
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			w, err := copyFile(p, target, info.Mode(), behaviour, log)
			if w != "" {
				written = append(written, w)
			}
			return err
		})
		if err != nil {
			return written, err
		}
	}
	return written, nil
}

// copyFile copies src to dst under behaviour; it returns dst when it
// wrote it.
func copyFile(src, dst string, mode fs.FileMode, behaviour string, log io.Writer) (string, error) {
	if _, err := os.Lstat(dst); err == nil {
		switch behaviour {
		case appspec.Retain:
			fmt.Fprintf(log, "[pushline] Install: %s exists, retained\n", dst)
			return "", nil
		case appspec.Overwrite:
		default:
			return "", fmt.Errorf("%w: %s (file_exists_behavior DISALLOW)", ErrFileExists, dst)
		}
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return "", err
	}
	in, err := os.Open(src)
	if err != nil {
		return "", err
	}
	defer in.Close()
	tmp := dst + ".pushline-tmp"
	out, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, mode.Perm())
	if err != nil {
		return "", err
	}
	_, err = io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, dst)
	}
	if err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("copy to %s: %w", dst, err)
	}
	return dst, nil
}

// cleanup removes the files a previous install wrote, then the directories
// it leaves empty, as the agent does before installing a revision.
func cleanup(files []string, root string) error {
	dirs := map[string]bool{}
	for _, f := range files {
		if !within(root, f) {
			continue
		}
		if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove %s: %w", f, err)
		}
		for d := filepath.Dir(f); within(root, d) && d != root; d = filepath.Dir(d) {
			dirs[d] = true
		}
	}
	// Deepest first; a directory holding anything else stays.
	for len(dirs) > 0 {
		deepest := ""
		for d := range dirs {
			if len(d) > len(deepest) {
				deepest = d
			}
		}
		delete(dirs, deepest)
		_ = os.Remove(deepest)
	}
	return nil
}

// applyPermissions applies the permissions section under root. Owner and
// group need root locally; without it they are reported and skipped.
func applyPermissions(root string, perms []appspec.Permission, log io.Writer) error {
	for _, p := range perms {
		obj := instancePath(root, p.Object)
		pattern, err := glob.Compile(p.Pattern)
		if err != nil {
			return fmt.Errorf("permissions pattern %q (line %d): %w", p.Pattern, p.Line, err)
		}
		except, err := glob.CompileList(p.Except)
		if err != nil {
			return fmt.Errorf("permissions except (line %d): %w", p.Line, err)
		}
		uid, gid, err := owner(p, log)
		if err != nil {
			return err
		}
		err = filepath.WalkDir(obj, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(obj, path)
			rel = filepath.ToSlash(rel)
			if rel == "." || !pattern.Match(rel) || except.Match(rel) || !typeMatches(p.Type, d.IsDir()) {
				return nil
			}
			if p.HasMode {
				if err := os.Chmod(path, p.Mode); err != nil {
					return err
				}
			}
			if uid >= 0 || gid >= 0 {
				return os.Lchown(path, uid, gid)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("permissions for %s (line %d): %w", p.Object, p.Line, err)
		}
	}
	return nil
}

func typeMatches(types []string, dir bool) bool {
	if len(types) == 0 {
		return true
	}
	for _, t := range types {
		if (t == "directory") == dir {
			return true
		}
	}
	return false
}

// owner resolves an entry's owner and group (-1: leave as is).
func owner(p appspec.Permission, log io.Writer) (uid, gid int, err error) {
	uid, gid = -1, -1
	if p.Owner == "" && p.Group == "" {
		return uid, gid, nil
	}
	if os.Geteuid() != 0 {
		fmt.Fprintf(log, "[pushline] permissions (line %d): owner/group %s:%s skipped, the local agent does not run as root\n", p.Line, p.Owner, p.Group)
		return uid, gid, nil
	}
	if p.Owner != "" {
		u, err := user.Lookup(p.Owner)
		if err != nil {
			return 0, 0, fmt.Errorf("permissions owner %s (line %d): %w", p.Owner, p.Line, err)
		}
		uid, _ = strconv.Atoi(u.Uid)
	}
	if p.Group != "" {
		g, err := user.LookupGroup(p.Group)
		if err != nil {
			return 0, 0, fmt.Errorf("permissions group %s (line %d): %w", p.Group, p.Line, err)
		}
		gid, _ = strconv.Atoi(g.Gid)
	}
	return uid, gid, nil
}
