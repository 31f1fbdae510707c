package hook

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/pushline/pushline/shared/config"
	"github.com/pushline/pushline/shared/push"
)

// Marker is in every hook Install writes; a post-receive without it is not
// pushline's.
const Marker = "# pushline post-receive hook"

// Options say what the hook delivers and where.
type Options struct {
	Provider   string // push.GitHub, …, push.CodeCommit
	Repository string // the repository's name as the config names it
	HTTPURL    string // the local stack's HTTP address; default http://127.0.0.1:8080
	// SecretFile holds the webhook secret (the local stack's
	// <data dir>/webhook-secret); PUSHLINE_WEBHOOK_SECRET, when set at push
	// time, wins. Not needed for codecommit.
	SecretFile string
	// Command runs pushline (the hook appends "hook deliver" and its
	// flags); default: this executable.
	Command []string
	// Force replaces a post-receive hook pushline did not write (kept as
	// post-receive.orig).
	Force bool
}

// Errors Install returns.
var (
	ErrNotBare    = errors.New("not a bare git repository")
	ErrHookExists = errors.New("a post-receive hook pushline did not write exists")
	ErrNoRepo     = errors.New("no repository of the config has this path as its cloneUrl")
)

// OptionsFor finds the config's repository whose cloneUrl is the bare
// repository at path (file:// URL or path) and returns its options, with
// the local stack's defaults (dataDir holds the webhook secret; httpURL the
// stack's HTTP address).
func OptionsFor(cfg *config.Config, path, dataDir, httpURL string) (Options, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return Options{}, err
	}
	for _, r := range cfg.Repositories {
		if p, ok := localPath(r.CloneURL); ok && sameDir(p, abs) {
			o := Options{Provider: r.Provider, Repository: r.Repository, HTTPURL: httpURL}
			if dataDir != "" {
				if o.SecretFile, err = filepath.Abs(filepath.Join(dataDir, "webhook-secret")); err != nil {
					return Options{}, err
				}
			}
			return o, nil
		}
	}
	return Options{}, fmt.Errorf("%w: %s (set a repository's \"cloneUrl\": \"file://%s\")", ErrNoRepo, abs, abs)
}

func localPath(clone string) (string, bool) {
	if strings.HasPrefix(clone, "file://") {
		u, err := url.Parse(clone)
		if err != nil {
			return "", false
		}
		return u.Path, true
	}
	if filepath.IsAbs(clone) {
		return clone, true
	}
	return "", false
}

func sameDir(a, b string) bool {
	ra, err1 := filepath.EvalSymlinks(a)
	rb, err2 := filepath.EvalSymlinks(b)
	if err1 == nil && err2 == nil {
		return ra == rb
	}
	return filepath.Clean(a) == filepath.Clean(b)
}

// Install writes the post-receive hook into the bare repository at path.
// It replaces an earlier pushline hook; another hook only with Force.
func Install(path string, o Options) error {
	if err := o.check(); err != nil {
		return err
	}
	if fi, err := os.Stat(filepath.Join(path, "objects")); err != nil || !fi.IsDir() {
		return fmt.Errorf("%w: %s (no objects/ directory)", ErrNotBare, path)
	}
	if fi, err := os.Stat(filepath.Join(path, ".git")); err == nil && fi.IsDir() {
		return fmt.Errorf("%w: %s has a .git directory (install into the repository pushed to)", ErrNotBare, path)
	}
	if len(o.Command) == 0 {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("find pushline's executable: %w", err)
		}
		if strings.Contains(exe, string(filepath.Separator)+"go-build") {
			return fmt.Errorf("pushline runs from a temporary build (go run): build it (go build -o bin/pushline ./cmd/pushline) and install the hook with that binary")
		}
		o.Command = []string{exe}
	}
	hooks := filepath.Join(path, "hooks")
	if err := os.MkdirAll(hooks, 0o755); err != nil {
		return err
	}
	file := filepath.Join(hooks, "post-receive")
	old, err := os.ReadFile(file)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return err
	case !strings.Contains(string(old), Marker):
		if !o.Force {
			return fmt.Errorf("%w: %s", ErrHookExists, file)
		}
		if err := os.WriteFile(file+".orig", old, 0o755); err != nil {
			return err
		}
	}
	tmp := file + ".tmp"
	if err := os.WriteFile(tmp, []byte(script(o)), 0o755); err != nil {
		return err
	}
	return os.Rename(tmp, file)
}

func (o *Options) check() error {
	switch o.Provider {
	case push.GitHub, push.GitLab, push.Bitbucket, push.Gitea:
		if o.SecretFile == "" {
			return fmt.Errorf("hook for %s: no webhook secret file", o.Provider)
		}
	case push.CodeCommit:
	default:
		return fmt.Errorf("hook: provider %q is not one of github, gitlab, bitbucket, gitea, codecommit", o.Provider)
	}
	if o.Repository == "" {
		return errors.New("hook: no repository name")
	}
	if o.HTTPURL == "" {
		o.HTTPURL = "http://127.0.0.1:8080"
	}
	if !strings.Contains(o.HTTPURL, "://") {
		o.HTTPURL = "http://" + o.HTTPURL
	}
	return nil
}

// script is the hook: it hands git's stdin to `pushline hook deliver`.
func script(o Options) string {
	args := append(append([]string{}, o.Command...), "hook", "deliver",
		"--provider", o.Provider, "--repository", o.Repository, "--http", o.HTTPURL)
	if o.SecretFile != "" {
		args = append(args, "--secret-file", o.SecretFile)
	}
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = shellQuote(a)
	}
	return "#!/bin/sh\n" + Marker + " (pushline hook install): delivers each pushed ref to the local stack.\n" +
		"# It never fails the push: when the stack is down it says so.\n" +
		"exec " + strings.Join(quoted, " ") + "\n"
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
